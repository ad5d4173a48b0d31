import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import type {OrderAction, OrderIntent, WorkingOrder} from '../../src/lib/domain/orders.js'
import {clientIdAllocator, initClientIds} from '../../src/lib/orders/client-id.js'
import {reconcile, type ReconcileOptions, toleranceTicks} from '../../src/lib/orders/reconcile.js'
import {asWorking, intent, working} from '../risk/support.js'

const opts = (o: Partial<ReconcileOptions> = {}): ReconcileOptions => {
  const ids = clientIdAllocator(initClientIds('t'))
  return {nextId: (s) => ids.next(s), ...o}
}

const bid = intent({slot: 'dyn:BUY:0', side: 'BUY', price: 300000, qty: 10})
const ask = intent({slot: 'dyn:SELL:0', side: 'SELL', price: 300010, qty: 10})

describe('reconcile (先撤后挂)', () => {
  it('places every intent on an empty book, reduce/flatten before dynamic before static, then by slot', () => {
    const st = intent({slot: 'static:BUY:0', side: 'BUY', price: 299990, qty: 5, layer: 'static'})
    const red = intent({slot: 'reduce:SELL', side: 'SELL', price: 300005, qty: 3, layer: 'reduce', reduceOnly: true})
    const acts = reconcile([st, ask, bid, red], [], opts())
    expect(acts.map((a) => (a.type === 'place' ? [a.order.slot, a.clientOrderId] : a))).toEqual([
      ['reduce:SELL', 'mm-t-reduce:SELL-0'],
      ['dyn:BUY:0', 'mm-t-dyn:BUY:0-0'],
      ['dyn:SELL:0', 'mm-t-dyn:SELL:0-0'],
      ['static:BUY:0', 'mm-t-static:BUY:0-0'],
    ])
    expect(acts[1]).toEqual({type: 'place', clientOrderId: 'mm-t-dyn:BUY:0-0', order: bid})
  })

  it('leaves unchanged quotes alone', () => {
    expect(reconcile([bid, ask], [asWorking(bid, 'b'), asWorking(ask, 'a')], opts())).toEqual([])
  })

  it('re-prices a dynamic quote: cancel now, place only once the old order is gone (after-cancel)', () => {
    const moved = {...bid, price: 300001}
    const w = [asWorking(bid, 'b')]
    expect(reconcile([moved], w, opts())).toEqual([{type: 'cancel', clientOrderId: 'b', slot: 'dyn:BUY:0', reason: 'replace'}])
    // cancel in flight: nothing, and never a second cancel
    expect(reconcile([moved], [asWorking(bid, 'b', {status: 'PENDING_CANCEL'})], opts())).toEqual([])
    // gone: place
    const acts = reconcile([moved], [], opts())
    expect(acts).toEqual([{type: 'place', clientOrderId: 'mm-t-dyn:BUY:0-0', order: moved}])
  })

  it('same-batch mode: cancels first, then the replacement in the same batch', () => {
    const moved = {...bid, price: 299999}
    expect(reconcile([moved, ask], [asWorking(bid, 'b'), asWorking(ask, 'a')], opts({mode: 'same-batch'}))).toEqual([
      {type: 'cancel', clientOrderId: 'b', slot: 'dyn:BUY:0', reason: 'replace'},
      {type: 'place', clientOrderId: 'mm-t-dyn:BUY:0-0', order: moved},
    ])
  })

  it('dynamic tolerance: within N ticks kept, N+1 replaced', () => {
    const w = [asWorking(bid, 'b')]
    expect(reconcile([{...bid, price: 300002}], w, opts({dynamicToleranceTicks: 2}))).toEqual([])
    expect(reconcile([{...bid, price: 299998}], w, opts({dynamicToleranceTicks: 2}))).toEqual([])
    expect(reconcile([{...bid, price: 300003}], w, opts({dynamicToleranceTicks: 2}))).toHaveLength(1)
  })

  it('static layer: kept within staticTicks, replaced beyond', () => {
    const st = intent({slot: 'static:SELL:0', side: 'SELL', price: 300020, qty: 5, layer: 'static'})
    const w = [asWorking(st, 's')]
    expect(reconcile([{...st, price: 300025}], w, opts({staticTicks: 5}))).toEqual([])
    expect(reconcile([{...st, price: 300015}], w, opts({staticTicks: 5}))).toEqual([])
    expect(reconcile([{...st, price: 300026}], w, opts({staticTicks: 5}))).toEqual([{type: 'cancel', clientOrderId: 's', slot: 'static:SELL:0', reason: 'replace'}])
  })

  it('reduce-only layer: tolerance is a fraction of the price, floored to ticks', () => {
    const red = intent({slot: 'reduce:SELL', side: 'SELL', price: 300000, qty: 7, layer: 'reduce', reduceOnly: true, tif: 'GTX'})
    // 0.0005 × 300000 = 150 ticks
    expect(toleranceTicks(red, opts({reduceTolerancePct: 0.0005}))).toBe(150)
    expect(toleranceTicks({...red, price: 300001}, opts({reduceTolerancePct: 0.0005}))).toBe(150)
    expect(toleranceTicks(red, opts({reduceTolerancePct: 0}))).toBe(0)
    const w = [asWorking(red, 'r')]
    expect(reconcile([{...red, price: 300150}], w, opts({reduceTolerancePct: 0.0005}))).toEqual([])
    // intent price 300151 → tolerance floor(150.0755) = 150, difference 151
    expect(reconcile([{...red, price: 300151}], w, opts({reduceTolerancePct: 0.0005}))).toHaveLength(1)
    expect(reconcile([{...red, price: 300001}], w, opts())).toHaveLength(1)
  })

  it('a flag, side or size change replaces; a partial fill of an unchanged quote does not', () => {
    const w = asWorking(bid, 'b')
    expect(reconcile([{...bid, tif: 'GTC'}], [w], opts())).toHaveLength(1)
    expect(reconcile([{...bid, reduceOnly: true}], [w], opts())).toHaveLength(1)
    expect(reconcile([{...bid, qty: 11}], [w], opts())).toHaveLength(1)
    expect(reconcile([bid], [{...w, filled: 4, status: 'PARTIALLY_FILLED'}], opts())).toEqual([])
    // remaining equal to the intent (e.g. a reduce order resized to the new position): kept
    expect(reconcile([{...bid, qty: 6}], [{...w, filled: 4, status: 'PARTIALLY_FILLED'}], opts())).toEqual([])
    expect(reconcile([{...bid, qty: 5}], [{...w, filled: 4, status: 'PARTIALLY_FILLED'}], opts())).toHaveLength(1)
  })

  it('cancels strays (no intent wants the slot), but not orders already PENDING_CANCEL', () => {
    const acts = reconcile(
      [bid],
      [asWorking(bid, 'b'), working({slot: 'dyn:SELL:0', side: 'SELL', price: 1, qty: 1, clientOrderId: 'x2'}), working({slot: 'old', side: 'SELL', price: 1, qty: 1, clientOrderId: 'x1'}), working({slot: 'old2', side: 'BUY', price: 1, qty: 1, clientOrderId: 'x3', status: 'PENDING_CANCEL'})],
      opts(),
    )
    expect(acts).toEqual([
      {type: 'cancel', clientOrderId: 'x2', slot: 'dyn:SELL:0', reason: 'stray'},
      {type: 'cancel', clientOrderId: 'x1', slot: 'old', reason: 'stray'},
    ])
  })

  it('empty desired cancels everything live (halt)', () => {
    const acts = reconcile([], [asWorking(bid, 'b'), asWorking(ask, 'a', {status: 'PENDING_NEW'})], opts())
    expect(acts.map((a) => a.type === 'cancel' && a.clientOrderId)).toEqual(['b', 'a'])
  })

  it('keeps one matching order per slot and cancels duplicates', () => {
    const acts = reconcile([bid], [asWorking(bid, 'b2'), asWorking(bid, 'b1')], opts())
    expect(acts).toEqual([{type: 'cancel', clientOrderId: 'b2', slot: 'dyn:BUY:0', reason: 'duplicate'}])
  })

  it('never doubles a flatten IOC in flight, whatever its price', () => {
    const f = intent({slot: 'flatten:SELL', side: 'SELL', price: 299000, qty: 5, tif: 'IOC', reduceOnly: true, layer: 'flatten'})
    expect(reconcile([f], [asWorking({...f, price: 299500, qty: 8}, 'f', {status: 'PENDING_NEW'})], opts())).toEqual([])
  })

  it('rejects two intents for one slot', () => {
    expect(() => reconcile([bid, bid], [], opts())).toThrow(/two intents/)
  })

  it('is deterministic whatever the input order', () => {
    const w = [asWorking(bid, 'b'), working({slot: 'zz', side: 'SELL', price: 1, qty: 1, clientOrderId: 'z'}), working({slot: 'aa', side: 'SELL', price: 1, qty: 1, clientOrderId: 'a'})]
    const d = [{...bid, price: 1}, ask]
    expect(reconcile(d, w, opts())).toEqual(reconcile([...d].reverse(), [...w].reverse(), opts()))
  })
})

// ---- property: idempotence ------------------------------------------------------------
const slots = ['dyn:BUY:0', 'dyn:SELL:0', 'static:BUY:0', 'static:SELL:0', 'reduce:SELL', 'flatten:BUY', 'stray']
const arbIntent = (slot: string) =>
  fc.record({
    slot: fc.constant(slot),
    side: fc.constantFrom('BUY' as const, 'SELL' as const),
    price: fc.integer({min: 99990, max: 100010}),
    qty: fc.integer({min: 1, max: 5}),
    tif: fc.constantFrom('GTX' as const, 'GTC' as const, 'IOC' as const),
    reduceOnly: fc.boolean(),
    layer: fc.constantFrom('dynamic' as const, 'static' as const, 'reduce' as const, 'flatten' as const),
  })
const arbDesired = fc.subarray(slots).chain((ss) => fc.tuple(...ss.map(arbIntent)))
const arbWorking = fc.array(
  fc.tuple(fc.constantFrom(...slots), fc.integer({min: 0, max: 3}), fc.constantFrom('NEW' as const, 'PARTIALLY_FILLED' as const, 'PENDING_NEW' as const, 'PENDING_CANCEL' as const)).chain(([slot, filled, status]) =>
    arbIntent(slot).map((i): WorkingOrder => ({...i, qty: i.qty + filled, filled, status, clientOrderId: '', sentAt: 0})),
  ),
  {maxLength: 8},
)
const arbOpts = fc.record({
  mode: fc.constantFrom('after-cancel' as const, 'same-batch' as const),
  dynamicToleranceTicks: fc.integer({min: 0, max: 3}),
  staticTicks: fc.integer({min: 0, max: 5}),
  reduceTolerancePct: fc.constantFrom(0, 0.00001, 0.0005),
})

/** The venue acknowledges everything: cancels remove the order, places rest as NEW. */
function apply(working: WorkingOrder[], acts: OrderAction[]): WorkingOrder[] {
  const gone = new Set(acts.flatMap((a) => (a.type === 'cancel' ? [a.clientOrderId] : [])))
  const out = working.filter((w) => !gone.has(w.clientOrderId))
  for (const a of acts) if (a.type === 'place') out.push({...a.order, clientOrderId: a.clientOrderId, filled: 0, status: 'NEW', sentAt: 0})
  return out
}

describe('reconcile properties', () => {
  it('idempotence: after applying its actions (≤ 2 rounds after-cancel, 1 round same-batch) nothing is left to do, and the slots hold exactly the intents', () => {
    fc.assert(
      fc.property(arbDesired, arbWorking, arbOpts, (desired, w0, o) => {
        let w = w0.map((x, i) => ({...x, clientOrderId: `w${i}`})).filter((x) => x.status !== 'PENDING_CANCEL')
        const ids = clientIdAllocator(initClientIds('p'))
        const ro: ReconcileOptions = {...o, nextId: (s) => ids.next(s)}
        const rounds = o.mode === 'same-batch' ? 1 : 2
        for (let r = 0; r < rounds; r++) w = apply(w, reconcile(desired, w, ro))
        expect(reconcile(desired, w, ro)).toEqual([])
        expect(w.map((x) => x.slot).sort()).toEqual(desired.map((d: OrderIntent) => d.slot).sort())
      }),
      {numRuns: 3000},
    )
  })

  it('never cancels a PENDING_CANCEL order, never cancels twice, and after-cancel never places into an occupied slot', () => {
    fc.assert(
      fc.property(arbDesired, arbWorking, arbOpts, (desired, w0, o) => {
        const w = w0.map((x, i) => ({...x, clientOrderId: `w${i}`}))
        const acts = reconcile(desired, w, {...o, nextId: (s) => `id-${s}`})
        const cancelled = acts.flatMap((a) => (a.type === 'cancel' ? [a.clientOrderId] : []))
        expect(new Set(cancelled).size).toBe(cancelled.length)
        for (const c of cancelled) expect(w.find((x) => x.clientOrderId === c)?.status).not.toBe('PENDING_CANCEL')
        const firstPlace = acts.findIndex((a) => a.type === 'place')
        if (firstPlace >= 0) expect(acts.slice(firstPlace).every((a) => a.type === 'place')).toBe(true)
        if (o.mode === 'after-cancel') {
          for (const a of acts) if (a.type === 'place') expect(w.some((x) => x.slot === a.order.slot)).toBe(false)
        }
      }),
      {numRuns: 3000},
    )
  })
})
