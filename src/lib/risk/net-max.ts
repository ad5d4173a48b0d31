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

export function enforceNetMax(intents: readonly OrderIntent[], working: readonly WorkingOrder[], net: Steps, netMaxSteps: Steps, inst: Instrument): {intents: OrderIntent[]; cuts: NetMaxCut[]} {
  const cuts: NetMaxCut[] = []
  const keep = new Map<OrderIntent, OrderIntent | null>()
  for (const side of ['BUY', 'SELL'] as const) {
    const mine = intents.filter((i) => i.side === side).sort((a, b) => LAYER_PRIORITY[a.layer] - LAYER_PRIORITY[b.layer] || cmp(a.slot, b.slot))
    const claimed = new Set(mine.map((i) => i.slot))
    let exposure = dir(side) * net
    const inSlot = new Map<string, Steps>()
    for (const w of working) {
      if (w.side !== side) continue
      if (claimed.has(w.slot)) inSlot.set(w.slot, (inSlot.get(w.slot) ?? 0) + remaining(w))
      else exposure += remaining(w)
    }
    for (const i of mine) {
      const prior = inSlot.get(i.slot) ?? 0
      const room = netMaxSteps - exposure
      const allowed = i.qty <= room ? i.qty : fit(i, room, inst)
      if (allowed !== i.qty) cuts.push({slot: i.slot, side, price: i.price, wanted: i.qty, allowed, exposure})
      keep.set(i, allowed > 0 ? (allowed === i.qty ? i : {...i, qty: allowed}) : null)
      exposure += Math.max(allowed, prior)
    }
  }
  const out: OrderIntent[] = []
  for (const i of intents) {
    const k = keep.get(i)
    if (k) out.push(k)
  }
  return {intents: out, cuts}
}

export function guardPlaces(actions: readonly OrderAction[], working: readonly WorkingOrder[], net: Steps, netMaxSteps: Steps, inst: Instrument): {actions: OrderAction[]; cuts: NetMaxCut[]} {
  const exposure = {BUY: net, SELL: -net}
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
