import {describe, expect, it} from 'vitest'
import type {Layer, OrderAction, OrderIntent, WorkingOrder} from '../../src/lib/domain/orders.js'
import {LAYER_PRIORITY, matches, reconcile, type ReconcileOptions} from '../../src/lib/orders/reconcile.js'

/**
 * reconcile as first written (orders grouped by slot in maps, each slot's orders copied
 * and sorted, `find` for the order to keep), kept here as the reference the plain-loop
 * reconcile must equal on every input, errors included.
 */
function reference(desired: readonly OrderIntent[], working: readonly WorkingOrder[], opts: ReconcileOptions): OrderAction[] {
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
  const mode = opts.mode ?? 'after-cancel'
  const bySlot = new Map<string, WorkingOrder[]>()
  for (const w of working) {
    const list = bySlot.get(w.slot)
    if (list) list.push(w)
    else bySlot.set(w.slot, [w])
  }
  const wanted = new Map<string, OrderIntent>()
  for (const i of desired) {
    if (wanted.has(i.slot)) throw new Error(`reconcile: two intents for slot ${i.slot}`)
    wanted.set(i.slot, i)
  }
  const cancels: Array<OrderAction & {type: 'cancel'}> = []
  const places: OrderIntent[] = []
  for (const [slot, orders] of bySlot) {
    if (wanted.has(slot)) continue
    for (const w of orders) if (w.status !== 'PENDING_CANCEL') cancels.push({type: 'cancel', clientOrderId: w.clientOrderId, slot, reason: 'stray'})
  }
  for (const [slot, intent] of wanted) {
    const orders = [...(bySlot.get(slot) ?? [])].sort((a, b) => cmp(a.clientOrderId, b.clientOrderId))
    const keep = orders.find((w) => w.status !== 'PENDING_CANCEL' && matches(w, intent, opts))
    let occupied = false
    for (const w of orders) {
      if (w === keep) continue
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

/** a seeded linear congruential generator: the same inputs every run */
function rng(seed: number): (n: number) => number {
  let s = seed
  return (n) => {
    s = (s * 1103515245 + 12345) & 0x7fffffff
    return s % n
  }
}

const SLOTS: Array<[string, Layer]> = [['dyn:BUY:0', 'dynamic'], ['dyn:SELL:0', 'dynamic'], ['static:BUY:0', 'static'], ['static:SELL:0', 'static'], ['reduce:SELL:0', 'reduce'], ['flatten:BUY:0', 'flatten']]
const TIFS = ['GTX', 'GTC', 'IOC'] as const
const STATUSES = ['NEW', 'PENDING_NEW', 'PENDING_CANCEL', 'PARTIALLY_FILLED'] as const

describe('reconcile equals the rule as first written', () => {
  it('on 3000 seeded inputs (strays, duplicates, replaces, pending cancels, tolerances, both modes, duplicate intents)', () => {
    const r = rng(20261130)
    let kinds = {cancel: 0, place: 0, error: 0, duplicate: 0}
    for (let n = 0; n < 3000; n++) {
      const desired: OrderIntent[] = []
      for (const [slot, layer] of SLOTS) {
        if (r(3) !== 0) continue
        desired.push({slot, side: slot.includes('BUY') ? 'BUY' : 'SELL', price: 100 + r(4), qty: 1 + r(3), tif: TIFS[r(3)], reduceOnly: r(2) === 0, layer})
      }
      if (r(25) === 0 && desired.length > 0) desired.push({...desired[0]})
      const working: WorkingOrder[] = []
      const count = r(6)
      for (let i = 0; i < count; i++) {
        const status = STATUSES[r(4)]
        const clientOrderId = `c${r(50)}-${i}`
        if (desired.length > 0 && r(2) === 0) {
          // an order of a wanted slot, often matching its intent (several may: keep the first by client id)
          const d = desired[r(desired.length)]
          working.push({...d, price: d.price + (r(3) === 0 ? r(3) : 0), filled: r(4) === 0 ? 1 : 0, clientOrderId, status, sentAt: 0})
          continue
        }
        const [slot, layer] = SLOTS[r(SLOTS.length)]
        working.push({slot, side: r(2) ? 'BUY' : 'SELL', price: 100 + r(4), qty: 1 + r(3), filled: r(2), tif: TIFS[r(3)], reduceOnly: r(2) === 0, layer, clientOrderId, status, sentAt: 0})
      }
      const mode = r(2) ? 'after-cancel' : 'same-batch'
      const dyn = r(3)
      const stat = r(3)
      const pct = r(2) ? 0 : 0.01
      const opts = (): ReconcileOptions => {
        let id = 0
        return {nextId: (slot) => `${slot}#${id++}`, mode, dynamicToleranceTicks: dyn, staticTicks: stat, reduceTolerancePct: pct}
      }
      const run = (f: typeof reference): unknown => {
        try {
          return f(desired, working, opts())
        } catch (error) {
          return {error: (error as Error).message}
        }
      }
      const want = run(reference)
      expect(run(reconcile)).toEqual(want)
      if (Array.isArray(want)) {
        for (const a of want as OrderAction[]) {
          kinds[a.type]++
          if (a.type === 'cancel' && a.reason === 'duplicate') kinds.duplicate++
        }
      }
      else kinds = {...kinds, error: kinds.error + 1}
    }
    // the inputs reach every branch
    expect(kinds.cancel).toBeGreaterThan(1000)
    expect(kinds.place).toBeGreaterThan(1000)
    expect(kinds.error).toBeGreaterThan(10)
    expect(kinds.duplicate).toBeGreaterThan(100)
  })
})
