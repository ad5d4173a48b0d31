import {describe, expect, it} from 'vitest'
import {Instrument} from '../../src/lib/domain/instrument.js'
import type {Layer, OrderIntent, OrderSide, WorkingOrder} from '../../src/lib/domain/orders.js'
import {LAYER_PRIORITY} from '../../src/lib/orders/reconcile.js'
import {enforceNetMax} from '../../src/lib/risk/net-max.js'

/**
 * The rule as first written (filter, sort, sets and maps), kept here as the reference the
 * allocation-free enforceNetMax must equal on every input.
 */
function reference(intents: readonly OrderIntent[], working: readonly WorkingOrder[], net: number, netMaxSteps: number, inst: Instrument) {
  const remaining = (w: WorkingOrder) => Math.max(0, w.qty - w.filled)
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
  const fit = (i: OrderIntent, room: number) => {
    if (room >= i.qty) return i.qty
    if (room <= 0) return 0
    if (room < inst.minQtySteps || room > inst.maxQtySteps) return 0
    if (!i.reduceOnly && !inst.meetsMinimums(i.price, room)) return 0
    return room
  }
  const cuts: unknown[] = []
  const keep = new Map<OrderIntent, OrderIntent | null>()
  for (const side of ['BUY', 'SELL'] as const) {
    const mine = intents.filter((i) => i.side === side).sort((a, b) => LAYER_PRIORITY[a.layer] - LAYER_PRIORITY[b.layer] || cmp(a.slot, b.slot))
    const claimed = new Set(mine.map((i) => i.slot))
    let exposure = (side === 'BUY' ? 1 : -1) * net
    const inSlot = new Map<string, number>()
    for (const w of working) {
      if (w.side !== side) continue
      if (claimed.has(w.slot)) inSlot.set(w.slot, (inSlot.get(w.slot) ?? 0) + remaining(w))
      else exposure += remaining(w)
    }
    for (const i of mine) {
      const prior = inSlot.get(i.slot) ?? 0
      const room = netMaxSteps - exposure
      const allowed = i.qty <= room ? i.qty : fit(i, room)
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

describe('enforceNetMax equals its reference rule', () => {
  it('on 3000 seeded random books of intents and working orders (layers, shared slots, partial fills, both signs of net)', () => {
    const inst = new Instrument({symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})
    let x = 0x9e3779b9
    const rnd = (n: number) => {
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      return (x >>> 0) % n
    }
    const layers: Layer[] = ['flatten', 'reduce', 'dynamic', 'static']
    const sides: OrderSide[] = ['BUY', 'SELL']
    let cutsSeen = 0
    for (let round = 0; round < 3000; round++) {
      const slots = ['dyn:BUY:0', 'dyn:SELL:0', 'static:BUY:0', 'static:SELL:0', 'reduce:BUY:0', 'reduce:SELL:0', 'reduce:SELL:1']
      const intents: OrderIntent[] = []
      for (let k = rnd(7); k > 0; k--) {
        const layer = layers[rnd(4)]
        intents.push({slot: slots[rnd(slots.length)], side: sides[rnd(2)], price: 300_000 + rnd(1000), qty: 1 + rnd(80), tif: 'GTX', reduceOnly: layer === 'reduce' || layer === 'flatten', layer})
      }
      const working: WorkingOrder[] = []
      for (let k = rnd(6); k > 0; k--) {
        const qty = 1 + rnd(80)
        working.push({slot: slots[rnd(slots.length)], side: sides[rnd(2)], price: 300_000 + rnd(1000), qty, filled: rnd(qty + 1), tif: 'GTX', reduceOnly: false, layer: 'dynamic', clientOrderId: `c${k}`, status: 'NEW', sentAt: 0})
      }
      const net = rnd(301) - 150
      const netMax = 50 + rnd(200)
      const got = enforceNetMax(intents, working, net, netMax, inst)
      expect(got).toEqual(reference(intents, working, net, netMax, inst))
      cutsSeen += got.cuts.length
    }
    // the inputs reach the cap often enough to test the cuts
    expect(cutsSeen).toBeGreaterThan(500)
  })
})
