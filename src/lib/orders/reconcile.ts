/**
 * Reconcile: wanted (OrderIntent[]) vs working (WorkingOrder[]) → cancel/place actions.
 * Pure and deterministic.
 *
 * 先撤后挂 (cancel, then place). Mode `after-cancel` (the default, and what the engine
 * uses): a slot gets its replacement only once no working order of ours occupies that
 * slot any more — the cancel has been acknowledged (or the order filled/expired). So a
 * slot never has two live orders, and the net-position cap counts exactly what can fill.
 * The price of this is one round trip with the slot empty; the engine calls decide again
 * as soon as the cancel acknowledgement arrives. Mode `same-batch` puts the replacement
 * in the same batch, after every cancel (for venues with a cheap atomic cancel+place).
 *
 * Rules, per slot:
 *  - a working order is *kept* when it matches the intent: same side, time in force and
 *    reduce-only flag; size either equal to the intent (partial fills of an unchanged
 *    quote are not topped up) or its remaining size equal to the intent; price within the
 *    layer's tolerance (dynamic: `dynamicToleranceTicks`, default 0; static:
 *    `staticTicks`; reduce: `reduceTolerancePct` of the intent price, floored to whole
 *    ticks, which the caller sets to 0 when the position is not in profit; flatten: any
 *    price — an IOC in flight is never doubled);
 *  - every other working order is cancelled (reason `stray` when no intent wants its
 *    slot, `duplicate` for extra orders in a slot, else `replace`), except orders already
 *    PENDING_CANCEL, which are left alone (never re-cancelled) and still occupy the slot;
 *  - orders still PENDING_NEW that no longer match are cancelled too: a stale quote is the
 *    bigger risk, and the engine retries a cancel that raced the ack.
 * Output order: all cancels first (by slot, then client id), then places by layer
 * priority (flatten, reduce, dynamic, static), then slot.
 */
import {divRound} from '../domain/decimal.js'
import type {Layer, OrderAction, OrderIntent, WorkingOrder} from '../domain/orders.js'

export type ReplaceMode = 'after-cancel' | 'same-batch'

export interface ReconcileOptions {
  /** mints the client order id of a new order (see client-id.ts) */
  nextId: (slot: string) => string
  mode?: ReplaceMode
  /** dynamic layer: keep an order whose price is within this many ticks (default 0) */
  dynamicToleranceTicks?: number
  /** static layer: strategy.staticTicks (default 0) */
  staticTicks?: number
  /** reduce layer: risk.reduceOnlyReplaceTolerancePct, fraction of the intent price (default 0) */
  reduceTolerancePct?: number
}

export const LAYER_PRIORITY: Record<Layer, number> = {flatten: 0, reduce: 1, dynamic: 2, static: 3}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Tolerance in ticks for an intent under the options. */
export function toleranceTicks(intent: OrderIntent, opts: ReconcileOptions): number {
  switch (intent.layer) {
    case 'dynamic':
      return opts.dynamicToleranceTicks ?? 0
    case 'static':
      return opts.staticTicks ?? 0
    case 'reduce': {
      const pct = opts.reduceTolerancePct ?? 0
      if (pct <= 0) return 0
      // pct to parts per billion (config values have ≤ 9 decimals), then exact integer floor
      const ppb = Math.round(pct * 1e9)
      const n = intent.price * ppb
      if (Number.isSafeInteger(n)) return divRound(n, 1e9, 'down')
      return Math.floor(intent.price * pct)
    }
    case 'flatten':
      return Number.POSITIVE_INFINITY
  }
}

/** Does working order `w` satisfy intent `i` (so it can stay)? */
export function matches(w: WorkingOrder, i: OrderIntent, opts: ReconcileOptions): boolean {
  if (w.side !== i.side || w.tif !== i.tif || w.reduceOnly !== i.reduceOnly) return false
  if (i.layer === 'flatten') return true
  const remaining = w.qty - w.filled
  if (w.qty !== i.qty && remaining !== i.qty) return false
  return Math.abs(w.price - i.price) <= toleranceTicks(i, opts)
}

function wantedSlot(desired: readonly OrderIntent[], slot: string): boolean {
  for (let d = 0; d < desired.length; d++) if (desired[d].slot === slot) return true
  return false
}

export function reconcile(desired: readonly OrderIntent[], working: readonly WorkingOrder[], opts: ReconcileOptions): OrderAction[] {
  const mode = opts.mode ?? 'after-cancel'
  // plain loops over the few intents and working orders (no maps, per-slot arrays, copies
  // or closures per call): the same actions as grouping by slot, since both lists are
  // sorted below by keys that are unique (slot and client id; layer and slot)
  for (let a = 1; a < desired.length; a++) {
    for (let b = 0; b < a; b++) if (desired[b].slot === desired[a].slot) throw new Error(`reconcile: two intents for slot ${desired[a].slot}`)
  }

  const cancels: Array<OrderAction & {type: 'cancel'}> = []
  const places: OrderIntent[] = []

  // a working order whose slot nothing is wanted for: cancelled (unless already being)
  for (let k = 0; k < working.length; k++) {
    const w = working[k]
    if (w.status !== 'PENDING_CANCEL' && !wantedSlot(desired, w.slot)) cancels.push({type: 'cancel', clientOrderId: w.clientOrderId, slot: w.slot, reason: 'stray'})
  }

  for (let d = 0; d < desired.length; d++) {
    const intent = desired[d]
    const slot = intent.slot
    // the order to keep: the first live (not PENDING_CANCEL) match in client-id order
    let keep: WorkingOrder | undefined
    for (let k = 0; k < working.length; k++) {
      const w = working[k]
      if (w.slot !== slot || w.status === 'PENDING_CANCEL' || !matches(w, intent, opts)) continue
      if (keep === undefined || cmp(w.clientOrderId, keep.clientOrderId) < 0) keep = w
    }
    let occupied = false
    for (let k = 0; k < working.length; k++) {
      const w = working[k]
      if (w.slot !== slot || w === keep) continue
      if (w.status === 'PENDING_CANCEL') {
        occupied = true
        continue
      }
      cancels.push({type: 'cancel', clientOrderId: w.clientOrderId, slot, reason: keep ? 'duplicate' : 'replace'})
      occupied = true
    }
    if (keep) continue
    if (occupied && mode === 'after-cancel') continue
    places.push(intent)
  }

  cancels.sort((a, b) => cmp(a.slot, b.slot) || cmp(a.clientOrderId, b.clientOrderId))
  places.sort((a, b) => LAYER_PRIORITY[a.layer] - LAYER_PRIORITY[b.layer] || cmp(a.slot, b.slot))
  const out: OrderAction[] = [...cancels]
  for (const p of places) out.push({type: 'place', clientOrderId: opts.nextId(p.slot), order: {...p}})
  return out
}
