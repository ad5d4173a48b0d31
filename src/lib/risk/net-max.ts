/**
 * 4.1 netMax, the hard cap: no order is sent that could take |net| above netMax when
 * every working order on its side fills.
 *
 * Two pure passes, both exported:
 *  - `enforceNetMax` on the strategy's intents, before reconcile. Exposure of a side =
 *    net (signed toward that side) + remaining of every working order on that side, with
 *    one refinement: an intent *replaces* the working order of its own slot (reconcile
 *    places it only once that order is gone), so a slot counts max(intent, working), not
 *    both. Intents are served in layer priority (flatten, reduce, dynamic, static), then
 *    slot; the one that would cross the cap is shrunk to fit, or dropped when the rest
 *    cannot meet the venue minimums (min qty; min notional unless reduce-only).
 *  - `guardPlaces` on reconcile's place actions, the last line: it counts every working
 *    order on the side, whatever its slot or status (PENDING_CANCEL and orders being
 *    cancelled in this very batch can still fill), plus each earlier place.
 * Each returns the cuts so the core can raise a risk_event and count them for the alert
 * metric.
 *
 * Both also take the fills the venue showed but the position has not booked yet
 * (`UnbookedSteps`, live: an answer's `executedQty` above what the user stream told, until
 * the fills are read back): each side's count is added to that side's exposure, as if a
 * working order of that size were still resting there (it filled: the venue's position
 * already holds it). The other side is left as it is (worst case for it: no fill). Before,
 * the slot such an order freed was quoted again from the unbooked position, and that order
 * could fill too: one order past netMax.
 */
import type {Instrument, Steps} from '../domain/instrument.js'
import type {OrderAction, OrderIntent, OrderSide, WorkingOrder} from '../domain/orders.js'
import {LAYER_PRIORITY} from '../orders/reconcile.js'

export interface NetMaxCut {
  slot: string
  side: OrderSide
  price: number
  /** the size asked for and the size let through (0 = dropped) */
  wanted: Steps
  allowed: Steps
  /** side exposure before this order, steps toward that side */
  exposure: Steps
}

/** steps the venue showed filled on each side and the position has not booked yet */
export interface UnbookedSteps {
  BUY: Steps
  SELL: Steps
}

const dir = (side: OrderSide): 1 | -1 => (side === 'BUY' ? 1 : -1)
const remaining = (w: WorkingOrder): Steps => Math.max(0, w.qty - w.filled)
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

function fit(i: OrderIntent, room: Steps, inst: Instrument): Steps {
  if (room >= i.qty) return i.qty
  if (room <= 0) return 0
  if (room < inst.minQtySteps || room > inst.maxQtySteps) return 0
  if (!i.reduceOnly && !inst.meetsMinimums(i.price, room)) return 0
  return room
}

export function enforceNetMax(intents: readonly OrderIntent[], working: readonly WorkingOrder[], net: Steps, netMaxSteps: Steps, inst: Instrument, unbooked?: UnbookedSteps): {intents: OrderIntent[]; cuts: NetMaxCut[]} {
  const cuts: NetMaxCut[] = []
  const n = intents.length
  // what each intent becomes (null: dropped), by its index; plain loops over the few
  // intents and working orders, no per-call closures, sets or maps
  const kept: Array<OrderIntent | null> = []
  for (let k = 0; k < n; k++) kept.push(null)
  const order: number[] = []
  for (let sd = 0; sd < 2; sd++) {
    const side: OrderSide = sd === 0 ? 'BUY' : 'SELL'
    // this side's intents by layer priority, then slot (a stable insertion: ties keep their order)
    order.length = 0
    for (let k = 0; k < n; k++) {
      if (intents[k].side !== side) continue
      let at = order.length
      while (at > 0 && before(intents[k], intents[order[at - 1]])) at--
      order.splice(at, 0, k)
    }
    // working orders of a slot an intent claims count as max(intent, working), the rest in full
    let exposure = dir(side) * net + (unbooked === undefined ? 0 : unbooked[side])
    for (let w = 0; w < working.length; w++) {
      const wo = working[w]
      if (wo.side === side && !claims(intents, order, wo.slot)) exposure += remaining(wo)
    }
    for (let o = 0; o < order.length; o++) {
      const i = intents[order[o]]
      let prior = 0
      for (let w = 0; w < working.length; w++) if (working[w].side === side && working[w].slot === i.slot) prior += remaining(working[w])
      const room = netMaxSteps - exposure
      const allowed = i.qty <= room ? i.qty : fit(i, room, inst)
      if (allowed !== i.qty) cuts.push({slot: i.slot, side, price: i.price, wanted: i.qty, allowed, exposure})
      kept[order[o]] = allowed > 0 ? (allowed === i.qty ? i : {...i, qty: allowed}) : null
      exposure += Math.max(allowed, prior)
    }
  }
  const out: OrderIntent[] = []
  for (let k = 0; k < n; k++) {
    const x = kept[k]
    if (x) out.push(x)
  }
  return {intents: out, cuts}
}

/** `a` goes before `b`: layer priority, then slot */
function before(a: OrderIntent, b: OrderIntent): boolean {
  const d = LAYER_PRIORITY[a.layer] - LAYER_PRIORITY[b.layer]
  return d < 0 || (d === 0 && cmp(a.slot, b.slot) < 0)
}

/** one of the intents at `order` is for `slot` */
function claims(intents: readonly OrderIntent[], order: readonly number[], slot: string): boolean {
  for (let o = 0; o < order.length; o++) if (intents[order[o]].slot === slot) return true
  return false
}

export function guardPlaces(actions: readonly OrderAction[], working: readonly WorkingOrder[], net: Steps, netMaxSteps: Steps, inst: Instrument, unbooked?: UnbookedSteps): {actions: OrderAction[]; cuts: NetMaxCut[]} {
  const exposure = {BUY: net + (unbooked?.BUY ?? 0), SELL: -net + (unbooked?.SELL ?? 0)}
  for (const w of working) exposure[w.side] += remaining(w)
  const cuts: NetMaxCut[] = []
  const out: OrderAction[] = []
  for (const a of actions) {
    if (a.type !== 'place') {
      out.push(a)
      continue
    }
    const i = a.order
    const room = netMaxSteps - exposure[i.side]
    const allowed = i.qty <= room ? i.qty : fit(i, room, inst)
    if (allowed !== i.qty) cuts.push({slot: i.slot, side: i.side, price: i.price, wanted: i.qty, allowed, exposure: exposure[i.side]})
    if (allowed === 0) continue
    out.push(allowed === i.qty ? a : {...a, order: {...i, qty: allowed}})
    exposure[i.side] += allowed
  }
  return {actions: out, cuts}
}

/** Worst-case |net| if every working order on one side fills: max over both sides. */
export function worstCaseAbsNet(working: readonly WorkingOrder[], net: Steps): Steps {
  let buy = net
  let sell = -net
  for (const w of working) {
    if (w.side === 'BUY') buy += remaining(w)
    else sell += remaining(w)
  }
  return Math.max(buy, sell, Math.abs(net))
}
