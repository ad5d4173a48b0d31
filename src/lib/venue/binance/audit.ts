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
