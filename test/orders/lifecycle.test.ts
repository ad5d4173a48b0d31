/**
 * The order lifecycle reducer, one table per rule (issue 7 §1), and the fast-check
 * property: any interleaving, duplication or delay of a valid report sequence ends in the
 * same final state, with the position equal to the sum of the unique fills.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import type {OrderIntent} from '../../src/lib/domain/orders.js'
import {findOrder, initLifecycle, type LifecycleConfig, type LifecycleInput, type LifecycleState, reduceAll, reduceLifecycle, workingOrders} from '../../src/lib/orders/lifecycle.js'
import {applyFill, COST_SCALE, emptyPosition} from '../../src/lib/orders/position.js'
import {reconcile} from '../../src/lib/orders/reconcile.js'
import type {VenueReport} from '../../src/lib/venue/types.js'

const CFG: LifecycleConfig = {ackTimeoutMs: 1000, recvWindowMs: 5000, cancelAttempts: 3}
const BUY: OrderIntent = {slot: 'dyn:BUY:0', side: 'BUY', price: 200_000, qty: 10, tif: 'GTX', reduceOnly: false, layer: 'dynamic'}
const SELL: OrderIntent = {slot: 'dyn:SELL:0', side: 'SELL', price: 200_010, qty: 10, tif: 'GTX', reduceOnly: false, layer: 'dynamic'}

const place = (t: number, id = 'a', order: OrderIntent = BUY): LifecycleInput => ({type: 'place_sent', t, clientOrderId: id, order})
const cancel = (t: number, id = 'a'): LifecycleInput => ({type: 'cancel_sent', t, clientOrderId: id})
const tick = (t: number): LifecycleInput => ({type: 'tick', t})
type DistOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
const rep = (t: number, report: DistOmit<VenueReport, 'ts' | 'venueTs'>): LifecycleInput => ({type: 'report', t, report: {...report, ts: t, venueTs: t} as VenueReport})
const ack = (t: number, id = 'a', o: OrderIntent = BUY) => rep(t, {type: 'ack', clientOrderId: id, side: o.side, price: o.price, qty: o.qty, tif: o.tif, reduceOnly: o.reduceOnly})
const fill = (t: number, tradeId: string, qty: number, cum: number, id = 'a', o: OrderIntent = BUY, total = 10) =>
  rep(t, {type: 'fill', clientOrderId: id, fill: {clientOrderId: id, side: o.side, price: o.price, qty, maker: true, fee: '0.001', ts: t, tradeId}, filled: cum, leaves: total - cum, status: cum === total ? 'FILLED' : 'PARTIALLY_FILLED'})
const canceled = (t: number, cum: number, id = 'a') => rep(t, {type: 'canceled', clientOrderId: id, filled: cum})
const expired = (t: number, cum: number, id = 'a', status?: 'EXPIRED' | 'EXPIRED_IN_MATCH') => rep(t, {type: 'expired', clientOrderId: id, filled: cum, reason: 'IOC', ...(status ? {status} : {})})
const rejectPlace = (t: number, code: number, id = 'a') => rep(t, {type: 'reject', request: 'place', clientOrderId: id, code, msg: 'x'})
const rejectCancel = (t: number, code: number, id = 'a') => rep(t, {type: 'reject', request: 'cancel', clientOrderId: id, code, msg: 'x'})
const found = (t: number, status: 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED', filled: number, id = 'a') => rep(t, {type: 'query', clientOrderId: id, found: true, status, filled})
const notFound = (t: number, id = 'a') => rep(t, {type: 'query', clientOrderId: id, found: false})

const run = (inputs: LifecycleInput[], start: LifecycleState = initLifecycle()) => reduceAll(start, inputs, CFG)

describe('rule: a fill counts once (order + trade id) and is never dropped', () => {
  const cases: Array<[string, LifecycleInput[], number, number]> = [
    // name, inputs, position, duplicate fills counted
    ['a fill reported twice (stream and REST)', [place(0), ack(10), fill(20, 't1', 4, 4), fill(25, 't1', 4, 4)], 4, 1],
    ['two fills, then both again', [place(0), ack(10), fill(20, 't1', 4, 4), fill(21, 't2', 6, 10), fill(22, 't1', 4, 4), fill(23, 't2', 6, 10)], 10, 2],
    ['the later fill first', [place(0), ack(10), fill(21, 't2', 6, 10), fill(22, 't1', 4, 4)], 10, 0],
    ['a fill after CANCELED still counts', [place(0), ack(10), cancel(15), canceled(30, 4), fill(31, 't1', 4, 4)], 4, 0],
    ['a fill before the ack', [place(0), fill(5, 't1', 4, 4), ack(10)], 4, 0],
    ['the same trade id on two orders: two fills', [place(0), place(0, 'b', BUY), ack(10), ack(10, 'b'), fill(20, 't1', 4, 4), fill(20, 't1', 4, 4, 'b')], 8, 0],
    ['a fill of an unknown order counts, its duplicate does not', [fill(20, 't1', 4, 4, 'zz'), fill(21, 't1', 4, 4, 'zz')], 4, 1],
  ]
  it.each(cases)('%s', (_name, inputs, net, dups) => {
    const r = run(inputs)
    expect(r.state.position.net).toBe(net)
    expect(r.state.counters.duplicateFills).toBe(dups)
    expect(r.events.filter((e) => e.kind === 'fill').length).toBe(r.state.position.fills)
  })

  it('the fill after CANCELED keeps the order CANCELED and moves the position', () => {
    const r = run([place(0), ack(10), cancel(15), canceled(30, 4), fill(31, 't1', 4, 4)])
    expect(findOrder(r.state, 'a')).toMatchObject({status: 'CANCELED', filled: 4, reportedFilled: 4, trades: ['t1']})
    expect(r.state.open.size).toBe(0)
  })
})

describe('rule: the cumulative filled quantity is checked against the fills seen', () => {
  const cases: Array<[string, LifecycleInput[], Array<[number, number]>]> = [
    // name, inputs, fill_mismatch events [reported, seen]
    ['all fills seen: no mismatch', [place(0), ack(10), fill(20, 't1', 4, 4), fill(21, 't2', 6, 10)], []],
    ['FILLED with a fill missing: surfaced', [place(0), ack(10), fill(21, 't2', 6, 10)], [[10, 6]]],
    ['CANCELED with 4 filled but no fill seen', [place(0), ack(10), canceled(30, 4)], [[4, 0]]],
    ['a fill beyond what the venue reported', [place(0), ack(10), rep(20, {type: 'fill', clientOrderId: 'a', fill: {clientOrderId: 'a', side: 'BUY', price: 200_000, qty: 6, maker: true, fee: '0', ts: 20, tradeId: 't9'}, filled: 4, leaves: 6, status: 'PARTIALLY_FILLED'})], [[4, 6]]],
    ['a query says more filled than seen on a final order', [place(0), ack(10), cancel(20), tick(1020), tick(2020), tick(3020), tick(4020), found(4030, 'FILLED', 10)], [[10, 0]]],
  ]
  it.each(cases)('%s', (_n, inputs, want) => {
    const r = run(inputs)
    expect(r.events.filter((e) => e.kind === 'fill_mismatch').map((e) => e.kind === 'fill_mismatch' && [e.reported, e.seen])).toEqual(want)
    expect(r.state.counters.fillMismatches).toBe(want.length)
  })
})

describe('rule: status only moves forward; duplicate and stale reports are ignored and counted', () => {
  const cases: Array<[string, LifecycleInput[], string, number]> = [
    // name, inputs, final status, stale count
    ['ack twice', [place(0), ack(10), ack(11)], 'NEW', 1],
    ['ack after a partial fill', [place(0), fill(5, 't1', 4, 4), ack(10)], 'PARTIALLY_FILLED', 1],
    ['ack after FILLED', [place(0), fill(5, 't1', 10, 10), ack(10)], 'FILLED', 1],
    ['CANCELED twice', [place(0), ack(1), cancel(2), canceled(3, 0), canceled(4, 0)], 'CANCELED', 1],
    ['CANCELED then EXPIRED: the first final status stays', [place(0), ack(1), canceled(3, 0), expired(4, 0)], 'CANCELED', 1],
    ['a place reject after the ack', [place(0), ack(1), rejectPlace(2, -5022)], 'NEW', 1],
    ['-2011 for an order already FILLED', [place(0), ack(1), fill(2, 't1', 10, 10), rejectCancel(3, -2011)], 'FILLED', 1],
    ['a query saying NEW after PARTIALLY_FILLED', [place(0), ack(1), fill(2, 't1', 4, 4), cancel(3), tick(1003), tick(2003), tick(3003), found(3010, 'NEW', 0)], 'PARTIALLY_FILLED', 0],
    ['EXPIRED_IN_MATCH is final', [place(0), ack(1), expired(2, 0, 'a', 'EXPIRED_IN_MATCH')], 'EXPIRED_IN_MATCH', 0],
    ['REJECTED is final', [place(0), rejectPlace(2, -5022), ack(3)], 'REJECTED', 1],
  ]
  it.each(cases)('%s', (_n, inputs, status, staleN) => {
    const r = run(inputs)
    expect(findOrder(r.state, 'a')?.status).toBe(status)
    expect(r.state.counters.staleReports).toBe(staleN)
  })

  it('accepted is reported once, whichever report shows the order live first', () => {
    expect(run([place(0), ack(1), ack(2)]).events.filter((e) => e.kind === 'accepted').length).toBe(1)
    expect(run([place(0), fill(1, 't1', 4, 4), ack(2)]).events.filter((e) => e.kind === 'accepted').length).toBe(1)
    expect(run([place(0), rejectPlace(1, -5022)]).events.filter((e) => e.kind === 'accepted').length).toBe(0)
  })
})

describe('rule: a place with no answer is in doubt, settled by a query, never a second order', () => {
  it('no answer after ackTimeoutMs: in doubt, one query; no place action ever', () => {
    const r = run([place(0), tick(999), tick(1000), tick(1500)])
    expect(r.actions).toEqual([{type: 'query', clientOrderId: 'a'}])
    expect(r.events.filter((e) => e.kind === 'in_doubt')).toEqual([{kind: 'in_doubt', clientOrderId: 'a', what: 'place'}])
    expect(r.actions.every((a) => a.type !== 'cancel')).toBe(true)
  })

  const cases: Array<[string, LifecycleInput[], string | undefined, string | null]> = [
    // name, inputs, status, note
    ['found live: NEW, doubt over', [place(0), tick(1000), found(1100, 'NEW', 0)], 'NEW', null],
    ['found filled', [place(0), tick(1000), found(1100, 'FILLED', 10)], 'FILLED', null],
    ['the late ack settles it too', [place(0), tick(1000), ack(1050)], 'NEW', null],
    ['not found before recvWindow: still in doubt', [place(0), tick(1000), notFound(1100)], 'PENDING_NEW', null],
    ['not found, asked again after recvWindow, not found: never created', [place(0), tick(1000), notFound(1100), tick(5000), notFound(5100)], 'REJECTED', 'never_created'],
    ['not found, then the ack: live', [place(0), tick(1000), notFound(1100), ack(1200)], 'NEW', null],
  ]
  it.each(cases)('%s', (_n, inputs, status, note) => {
    const r = run(inputs)
    const o = findOrder(r.state, 'a')
    expect(o?.status).toBe(status)
    expect(o?.note).toBe(note)
  })

  it('the second query is due exactly when recvWindow has passed; unanswered queries repeat every ackTimeoutMs', () => {
    const r1 = run([place(0), tick(1000), notFound(1100)])
    expect(r1.state.nextDueMs).toBe(5000)
    expect(reduceLifecycle(r1.state, tick(4999), CFG).actions).toEqual([])
    expect(reduceLifecycle(r1.state, tick(5000), CFG).actions).toEqual([{type: 'query', clientOrderId: 'a'}])
    const r2 = run([place(0), tick(1000), tick(1999), tick(2000), tick(3000)])
    expect(r2.actions.length).toBe(3)
    expect(r2.state.counters.queries).toBe(3)
  })

  it('the slot is not re-used while its order is in doubt', () => {
    const r = run([place(0), tick(1000)])
    const w = workingOrders(r.state)
    expect(w.map((x) => [x.clientOrderId, x.status])).toEqual([['a', 'PENDING_NEW']])
    // the strategy now wants another price in that slot: the in-doubt order is cancelled, nothing placed
    const acts = reconcile([{...BUY, price: 199_990}], w, {nextId: () => 'b'})
    expect(acts.map((a) => a.type)).toEqual(['cancel'])
    // a never-created order frees it
    const gone = run([notFound(1100), tick(5000), notFound(5100)], r.state)
    expect(reconcile([{...BUY, price: 199_990}], workingOrders(gone.state), {nextId: () => 'b'}).map((a) => a.type)).toEqual(['place'])
  })

  it('a client id already used is never a second order', () => {
    const r = run([place(0), ack(1), fill(2, 't1', 10, 10), place(3)])
    expect(r.state.open.size).toBe(0)
    expect(findOrder(r.state, 'a')?.status).toBe('FILLED')
  })
})

describe('rule: a cancel with no answer is sent again (bounded), then the order is queried', () => {
  it('re-cancel every ackTimeoutMs, 3 cancels in all, then a query', () => {
    const r = run([place(0), ack(10), cancel(100), tick(1099), tick(1100), tick(2100), tick(3100)])
    expect(r.actions).toEqual([
      {type: 'cancel', clientOrderId: 'a', slot: 'dyn:BUY:0', reason: 'recancel'},
      {type: 'cancel', clientOrderId: 'a', slot: 'dyn:BUY:0', reason: 'recancel'},
      {type: 'query', clientOrderId: 'a'},
    ])
    expect(r.state.counters.recancels).toBe(2)
    expect(workingOrders(r.state)[0].status).toBe('PENDING_CANCEL')
  })

  const cases: Array<[string, LifecycleInput[], string, string | undefined]> = [
    // name, inputs after the query, status, working status
    ['query: still live → the cancel is over, decide cancels again if it wants', [found(3200, 'NEW', 0)], 'NEW', 'NEW'],
    ['query: CANCELED', [found(3200, 'CANCELED', 0)], 'CANCELED', undefined],
    ['query: not found → gone', [notFound(3200)], 'CANCELED', undefined],
    ['the CANCELED report arrives late', [canceled(3200, 0)], 'CANCELED', undefined],
  ]
  it.each(cases)('%s', (_n, after, status, working) => {
    const r = run([place(0), ack(10), cancel(100), tick(1100), tick(2100), tick(3100), ...after])
    expect(findOrder(r.state, 'a')?.status).toBe(status)
    expect(workingOrders(r.state)[0]?.status).toBe(working)
  })

  it('an answered cancel is not sent again', () => {
    const r = run([place(0), ack(10), cancel(100), canceled(150, 0), tick(1100), tick(5000)])
    expect(r.actions).toEqual([])
    expect(r.state.nextDueMs).toBe(Number.POSITIVE_INFINITY)
  })
})

describe('rule: a cancel refused with -2011 keeps the order until a final status or a query', () => {
  const cases: Array<[string, LifecycleInput[], string, number, string | undefined]> = [
    // name, inputs, status, position, working status
    ['-2011 alone: kept, pending cancel', [place(0), ack(1), cancel(2), rejectCancel(3, -2011)], 'NEW', 0, 'PENDING_CANCEL'],
    ['-2011 then the racing fill: counted, FILLED', [place(0), ack(1), cancel(2), rejectCancel(3, -2011), fill(4, 't1', 10, 10)], 'FILLED', 10, undefined],
    ['-2011, then a query ackTimeoutMs later: gone', [place(0), ack(1), cancel(2), rejectCancel(3, -2011), tick(1003), notFound(1010)], 'CANCELED', 0, undefined],
    ['-2011, query finds it live: back to NEW', [place(0), ack(1), cancel(2), rejectCancel(3, -2011), tick(1003), found(1010, 'NEW', 0)], 'NEW', 0, 'NEW'],
    ['-2011, gone, then the fill arrives: still counted', [place(0), ack(1), cancel(2), rejectCancel(3, -2011), tick(1003), notFound(1010), fill(1020, 't1', 10, 10)], 'CANCELED', 10, undefined],
    ['another cancel refusal: back to working', [place(0), ack(1), cancel(2), rejectCancel(3, -1001)], 'NEW', 0, 'NEW'],
  ]
  it.each(cases)('%s', (_n, inputs, status, net, working) => {
    const r = run(inputs)
    expect(findOrder(r.state, 'a')?.status).toBe(status)
    expect(r.state.position.net).toBe(net)
    expect(workingOrders(r.state)[0]?.status).toBe(working)
  })

  it('the query after -2011 is due ackTimeoutMs after the refusal', () => {
    const r = run([place(0), ack(1), cancel(2), rejectCancel(3, -2011)])
    expect(r.state.nextDueMs).toBe(1003)
    expect(run([tick(1003)], r.state).actions).toEqual([{type: 'query', clientOrderId: 'a'}])
  })
})

describe('rule: it can start from a given state', () => {
  it('position, average cost and open orders', () => {
    const position = applyFill(emptyPosition(), {clientOrderId: 'old', side: 'BUY', price: 199_000, qty: 20, maker: true, fee: '0', ts: 0, tradeId: 'old1'})
    const st = initLifecycle({position, open: [{...SELL, clientOrderId: 's1', status: 'PARTIALLY_FILLED', filled: 3, sentAt: 50}]})
    expect(workingOrders(st)).toEqual([{...SELL, clientOrderId: 's1', filled: 3, status: 'PARTIALLY_FILLED', sentAt: 50}])
    const r = run([fill(100, 't7', 7, 10, 's1', SELL)], st)
    expect(r.state.position.net).toBe(13)
    expect(r.state.position.realised).toBe(7n * 1010n * COST_SCALE)
    expect(r.state.position.cost).toBe(13n * 199_000n * COST_SCALE)
    expect(findOrder(r.state, 's1')?.status).toBe('FILLED')
    expect(r.state.counters.fillMismatches).toBe(0)
  })
})

describe('the reducer is pure', () => {
  it('never changes the state it is given', () => {
    const a = run([place(0), ack(1)]).state
    const snap = JSON.stringify([...a.open.values()])
    reduceLifecycle(a, fill(2, 't1', 10, 10), CFG)
    reduceLifecycle(a, cancel(3), CFG)
    expect(JSON.stringify([...a.open.values()])).toBe(snap)
  })
})

describe('final orders are kept without copying them on every step (ClosedOrders)', () => {
  const ids = (st: LifecycleState) => [...st.closed.keys()]
  it('two steps from the same state do not see each other, nor change it', () => {
    const a = run([place(0, 'a'), ack(1, 'a'), cancel(2, 'a'), canceled(3, 0, 'a'), place(4, 'b', SELL), ack(5, 'b', SELL)]).state
    expect(ids(a)).toEqual(['a'])
    const b = run([cancel(6, 'b'), canceled(7, 0, 'b')], a).state
    const c = run([fill(6, 't1', 10, 10, 'b', SELL)], a).state
    expect(ids(a)).toEqual(['a'])
    expect(ids(b)).toEqual(['a', 'b'])
    expect(ids(c)).toEqual(['a', 'b'])
    expect(b.closed.get('b')?.status).toBe('CANCELED')
    expect(c.closed.get('b')?.status).toBe('FILLED')
    expect(a.closed.get('b')).toBeUndefined()
    expect(a.closed.size).toBe(1)
  })

  it('a late fill of a closed order replaces it in place; the state before keeps the old one', () => {
    const a = run([place(0, 'a'), ack(1, 'a'), cancel(2, 'a'), canceled(3, 4, 'a'), place(4, 'b'), ack(5, 'b'), cancel(6, 'b'), canceled(7, 0, 'b')]).state
    const b = run([fill(8, 't1', 4, 4, 'a')], a).state
    expect(ids(b)).toEqual(['a', 'b'])
    expect(b.closed.get('a')).toMatchObject({status: 'CANCELED', filled: 4, trades: ['t1']})
    expect(a.closed.get('a')).toMatchObject({filled: 0, trades: []})
    expect(a.closed.has('a') && b.closed.has('b')).toBe(true)
  })

  it('past 64 final orders, those closed more than retainClosedMs ago are dropped, oldest first', () => {
    const cfg: LifecycleConfig = {...CFG, retainClosedMs: 1000}
    let st = initLifecycle()
    for (let k = 0; k < 70; k++) {
      const id = `o${k}`
      const t = k * 100
      st = reduceAll(st, [place(t, id), ack(t, id), cancel(t, id), canceled(t, 0, id)], cfg).state
    }
    // the 65th (closed at 6400) makes 65: those closed before 5400 go; then 5 more are added
    expect(st.closed.size).toBe(16)
    expect(ids(st)[0]).toBe('o54')
    expect(st.closed.get('o53')).toBeUndefined()
    expect(findOrder(st, 'o69')?.status).toBe('CANCELED')
    // an expired client id is unknown again: a fill of it counts and is reported
    const r = reduceLifecycle(st, fill(7000, 't9', 10, 10, 'o3'), cfg)
    expect(r.events.map((e) => e.kind)).toEqual(['unknown_order', 'fill'])
    expect(st.closed.get('o3')).toBeUndefined()
  })
})

// ---- property ------------------------------------------------------------------------

/** A valid venue story for one order: ack, fills (trade ids), one final status. */
function story(id: string, o: OrderIntent, fills: number[], end: 'FILLED' | 'CANCELED' | 'EXPIRED'): LifecycleInput[] {
  const out: LifecycleInput[] = [ack(0, id, o)]
  let cum = 0
  const total = end === 'FILLED' ? fills.reduce((a, b) => a + b, 0) : o.qty
  fills.forEach((q, i) => {
    cum += q
    out.push(rep(0, {type: 'fill', clientOrderId: id, fill: {clientOrderId: id, side: o.side, price: o.price + i, qty: q, maker: true, fee: '0.0001', ts: 0, tradeId: `${id}-${i}`}, filled: cum, leaves: total - cum, status: cum === total ? 'FILLED' : 'PARTIALLY_FILLED'}))
  })
  if (end === 'CANCELED') out.push(canceled(0, cum, id))
  if (end === 'EXPIRED') out.push(expired(0, cum, id))
  return out
}

function normal(st: LifecycleState) {
  const orders = [...st.open.values(), ...st.closed.values()]
    .map((o) => ({id: o.clientOrderId, status: o.status, filled: o.filled, reported: o.reportedFilled, trades: [...o.trades].sort()}))
    .sort((a, b) => (a.id < b.id ? -1 : 1))
  const p = st.position
  return {orders, net: p.net, fills: p.fills, volume: p.volume, notional: p.notional, fees: p.fees}
}

describe('property: interleaving, duplication and delay do not change the end state', () => {
  const orderArb = fc.record({
    side: fc.constantFrom<'BUY' | 'SELL'>('BUY', 'SELL'),
    fills: fc.array(fc.integer({min: 1, max: 5}), {maxLength: 4}),
    end: fc.constantFrom<'FILLED' | 'CANCELED' | 'EXPIRED'>('FILLED', 'CANCELED', 'EXPIRED'),
  })
  it('same orders, same position; position = Σ unique fills', () => {
    fc.assert(
      fc.property(fc.array(orderArb, {minLength: 1, maxLength: 4}), fc.infiniteStream(fc.nat()), fc.array(fc.nat(), {maxLength: 6}), (orders, rnd, dupIdx) => {
        const sends: LifecycleInput[] = []
        const streams: LifecycleInput[][] = []
        orders.forEach((g, k) => {
          const id = `o${k}`
          const o = {...(g.side === 'BUY' ? BUY : SELL), slot: `s${k}`, qty: 20}
          const end = g.end === 'FILLED' && g.fills.length === 0 ? 'CANCELED' : g.end
          sends.push(place(0, id, o))
          streams.push(story(id, o, g.fills, end))
        })
        const inOrder = streams.flat()
        // duplicate some reports, then shuffle everything (delay = any later position)
        const all = [...inOrder, ...dupIdx.filter(() => inOrder.length > 0).map((i) => inOrder[i % inOrder.length])]
        const it = rnd[Symbol.iterator]()
        for (let i = all.length - 1; i > 0; i--) {
          const j = (it.next().value as number) % (i + 1)
          ;[all[i], all[j]] = [all[j], all[i]]
        }
        const a = run([...sends, ...inOrder]).state
        const b = run([...sends, ...all]).state
        expect(normal(b)).toEqual(normal(a))
        // the position is the sum of the unique fills
        let net = 0
        let cash = 0n
        for (const x of inOrder) {
          if (x.type === 'report' && x.report.type === 'fill') {
            const s = x.report.fill.side === 'BUY' ? 1 : -1
            net += s * x.report.fill.qty
            cash += BigInt(s * x.report.fill.qty * x.report.fill.price) * COST_SCALE
          }
        }
        expect(b.position.net).toBe(net)
        // realised and cost depend on the fill order, their difference does not (to the rounding unit)
        const d = b.position.realised - b.position.cost + cash
        expect(d <= BigInt(b.position.fills) && d >= -BigInt(b.position.fills)).toBe(true)
      }),
      {numRuns: 300, seed: 7},
    )
  })
})
