/**
 * The periodic REST audit (issue "user data stream"): the venue's open orders must be a
 * subset of the orders we believe are working, and the venue's position must equal ours.
 * Pure: it compares two snapshots and says what to do; the adapter does it.
 *
 *  - `stray`: an order of ours the venue holds that we do not count as working → cancel it;
 *  - `missing`: an order we count as live (NEW / PARTIALLY_FILLED, sent more than `graceMs`
 *    ago, no cancel pending) that the venue does not hold → query it (the lifecycle
 *    settles it);
 *  - `position_drift`: the venue's position differs from ours → fetch the fills we missed
 *    (userTrades) and report it;
 *  - foreign orders are never touched.
 * Any finding means the user stream failed to tell us something: `streamSuspect`.
 */
import type {Steps} from '../../domain/instrument.js'

export interface AuditWorking {
  clientOrderId: string
  status: 'PENDING_NEW' | 'NEW' | 'PARTIALLY_FILLED' | 'PENDING_CANCEL'
  sentAt: number
}

export interface AuditInput {
  /** client ids of the venue's open orders for the symbol */
  venueOpen: readonly string[]
  venuePosition: Steps
  ownPosition: Steps
  working: readonly AuditWorking[]
  isOurs: (clientOrderId: string) => boolean
  now: number
  /** an order younger than this may legitimately not be visible yet (and a just-cancelled one may still be) */
  graceMs: number
}

export type AuditFinding =
  | {kind: 'stray'; clientOrderId: string}
  | {kind: 'missing'; clientOrderId: string}
  | {kind: 'position_drift'; venue: Steps; own: Steps}

export interface AuditResult {
  findings: AuditFinding[]
  foreign: string[]
  streamSuspect: boolean
}

export function audit(i: AuditInput): AuditResult {
  const findings: AuditFinding[] = []
  const foreign: string[] = []
  const working = new Map(i.working.map((w) => [w.clientOrderId, w]))
  const onVenue = new Set(i.venueOpen)
  for (const id of i.venueOpen) {
    if (!i.isOurs(id)) {
      foreign.push(id)
      continue
    }
    if (!working.has(id)) findings.push({kind: 'stray', clientOrderId: id})
  }
  for (const w of i.working) {
    if ((w.status === 'NEW' || w.status === 'PARTIALLY_FILLED') && !onVenue.has(w.clientOrderId) && i.now - w.sentAt >= i.graceMs) {
      findings.push({kind: 'missing', clientOrderId: w.clientOrderId})
    }
  }
  if (i.venuePosition !== i.ownPosition) findings.push({kind: 'position_drift', venue: i.venuePosition, own: i.ownPosition})
  return {findings, foreign, streamSuspect: findings.length > 0}
}

/** A position difference an audit saw and did not adopt yet. */
export interface PendingDrift {
  own: Steps
  venue: Steps
}

/**
 * The venue is the truth (issue 10 item 4), for a difference that lasts: adopt the venue's
 * position when this audit sees the same difference (`seen`, ours and the venue's steps) as
 * the last one, and ours has not moved during the audit (`ownNow`). Both positions
 * unchanged over an audit interval means no fill of ours was in transit, and the first
 * audit's userTrades replay has been applied. A difference that moves, or that goes away,
 * is dropped. An audit while the user stream holds events back (a reconnect: `buffering`)
 * neither confirms nor clears the pending difference.
 */
export function driftVerdict(pending: PendingDrift | undefined, seen: PendingDrift | undefined, ownNow: Steps, buffering: boolean): {adopt: boolean; pending: PendingDrift | undefined} {
  if (buffering) return {adopt: false, pending}
  if (seen === undefined || ownNow !== seen.own) return {adopt: false, pending: undefined}
  if (pending !== undefined && pending.own === seen.own && pending.venue === seen.venue) return {adopt: true, pending: undefined}
  return {adopt: false, pending: {own: seen.own, venue: seen.venue}}
}
