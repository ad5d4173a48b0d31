import {describe, expect, it} from 'vitest'
import type {Fill} from '../../src/lib/domain/orders.js'
import {initialStrategyState, onFill, onMid, onOrderAccepted, onPostOnlyReject, quote, type StrategyState} from '../../src/lib/strategy/index.js'
import {book, cfgOf, FakeBook, INST, inputOf, intent, workingOf} from './support.js'

const cfg = cfgOf({joinEnabled: true, joinMinSpreadTicks: 3, joinMaxVolFactor: 1, joinCooldownMs: 30_000, joinAdverseTicks: 2, joinAdverseMs: 1000})

const fill = (side: 'BUY' | 'SELL', price: number, ts: number): Fill => ({clientOrderId: 'x', side, price, qty: 10, maker: true, fee: '0', ts, tradeId: 't'})

describe('3.3 join inside the spread', () => {
  it('book spread ≥ joinMinSpreadTicks: each side quotes one tick inside the best', () => {
    const r = quote(inputOf(book()), initialStrategyState(), cfg, INST)
    expect(r.intents).toEqual([intent('dyn:BUY:0', 9996, 10), intent('dyn:SELL:0', 10004, 10)])
    expect(r.events[0]).toMatchObject({mode: 'join', bidMode: 'join', askMode: 'join', bid: 9996, ask: 10004})
  })

  it('exactly at joinMinSpreadTicks joins; one tick below does not', () => {
    const at = quote(inputOf(book(9999, 10002)), initialStrategyState(), cfg, INST)
    expect(at.intents.map((i) => i.price)).toEqual([10000, 10001])
    const below = quote(inputOf(book(9999, 10001)), initialStrategyState(), cfg, INST)
    // formula: mid 10000 → 9990 / 10010
    expect(below.intents.map((i) => i.price)).toEqual([9990, 10010])
    expect(below.events[0]).toMatchObject({mode: 'formula', bidMode: 'formula', askMode: 'formula'})
  })

  it('spread of 2 with joinMinSpreadTicks 2: flat → both joins would meet, both fall back to the formula', () => {
    const c2 = cfgOf({joinEnabled: true, joinMinSpreadTicks: 2})
    const r = quote(inputOf(book(9999, 10001)), initialStrategyState(), c2, INST)
    expect(r.intents.map((i) => i.price)).toEqual([9990, 10010])
  })

  it('spread of 2, long: the reducing ask keeps the join, the bid falls back to its formula price', () => {
    const c2 = cfgOf({joinEnabled: true, joinMinSpreadTicks: 2})
    const r = quote(inputOf(book(9999, 10001), {position: {net: 10, avgCost: 10000}}), initialStrategyState(), c2, INST)
    expect(r.intents.map((i) => [i.slot, i.price])).toEqual([['dyn:BUY:0', 9987], ['dyn:SELL:0', 10000]])
    expect(r.events[0]).toMatchObject({bidMode: 'formula', askMode: 'join'})
  })

  it('a join replaces a formula price that sat further inside (pull back to one tick better than the best)', () => {
    // wide book 9900 / 10100: formula 9990 / 10010 is inside; join pulls back to 9901 / 10099
    const r = quote(inputOf(book(9900, 10100)), initialStrategyState(), cfg, INST)
    expect(r.intents.map((i) => i.price)).toEqual([9901, 10099])
  })

  it('own orders are excluded from the book spread (no chasing our own quote)', () => {
    // our bid 9996 is alone at its level: the book seen is 9995 / 10005 → join bid stays 9996
    const b = new FakeBook([[9996, 10], [9995, 10]], [[10005, 10]])
    const own = workingOf(intent('dyn:BUY:0', 9996, 10))
    const r = quote(inputOf(b, {working: [own]}), initialStrategyState(), cfg, INST)
    expect(r.intents[0]).toEqual(intent('dyn:BUY:0', 9996, 10))
    // someone else also at 9996: the best is 9996, we join at 9997
    const b2 = new FakeBook([[9996, 15], [9995, 10]], [[10005, 10]])
    expect(quote(inputOf(b2, {working: [own]}), initialStrategyState(), cfg, INST).intents[0].price).toBe(9997)
  })

  it('no join while volatilityFactor ≥ joinMaxVolFactor; joins just below', () => {
    const s = onMid(initialStrategyState(), 10000, 0, cfg).state
    // mid 10020 at t=1000: r = 0.002 → vf = 1.0 = joinMaxVolFactor → formula
    const at = quote(inputOf(book(10015, 10025), {nowMs: 1000}), s, cfg, INST)
    expect(at.events[0]).toMatchObject({volatilityFactor: 1, mode: 'formula'})
    // mid 10019 → r = 0.0019 → vf 0.95 → join
    const below = quote(inputOf(book(10014, 10024), {nowMs: 1000}), s, cfg, INST)
    expect(below.events[0]).toMatchObject({mode: 'join'})
    expect(below.intents.map((i) => i.price)).toEqual([10015, 10023])
  })

  it('reduce-only: the growing side is not quoted, the reducing side may join (reduce-only flag)', () => {
    const r = quote(inputOf(book(), {riskMode: 'reduce_only', position: {net: 40, avgCost: 10100}}), initialStrategyState(), cfg, INST)
    expect(r.intents).toEqual([intent('reduce:SELL:0', 10004, 10)])
    expect(r.events[0]).toMatchObject({bidMode: 'none', askMode: 'join', bid: null, ask: 10004})
  })

  it('post-only reject on a joined side: cooldown for joinCooldownMs, formula price meanwhile', () => {
    const q0 = quote(inputOf(book()), initialStrategyState(), cfg, INST)
    const rej = onPostOnlyReject(q0.state, {...q0.intents[0]}, 100, cfg)
    expect(rej.state.buy.joinCooldownUntil).toBe(30_100)
    // accept decays the back-off to 0 so only the cooldown holds the join back
    const acc = onOrderAccepted(rej.state, {side: 'BUY', tif: 'GTX'}, 200, cfg)
    const during = quote(inputOf(book(), {nowMs: 30_099}), acc.state, cfg, INST)
    expect(during.intents.map((i) => i.price)).toEqual([9990, 10004])
    expect(during.events[0]).toMatchObject({bidMode: 'formula', askMode: 'join'})
    const after = quote(inputOf(book(), {nowMs: 30_100}), during.state, cfg, INST)
    expect(after.intents.map((i) => i.price)).toEqual([9996, 10004])
    expect(after.events[0]).toMatchObject({bidMode: 'join'})
  })

  it('joined fill followed by an adverse mid move > joinAdverseTicks within joinAdverseMs: cooldown', () => {
    const q0 = quote(inputOf(book()), initialStrategyState(), cfg, INST) // joined bid 9996
    const f = onFill(q0.state, fill('BUY', 9996, 500), 500, cfg)
    expect(f.state.adverse).toEqual([{side: 'BUY', price: 9996, untilMs: 1500}])
    // mid 9994 = 2 ticks through: not adverse
    const m1 = onMid(f.state, 9994, 900, cfg)
    expect(m1.events).toEqual([])
    // mid 9993.5: 2.5 ticks through → cooldown
    const m2 = onMid(m1.state, 9993.5, 1000, cfg)
    expect(m2.events).toEqual([{type: 'strategy_adjust', ts: 1000, reason: 'join_adverse', side: 'BUY', detail: 'mid 9993.5 moved 2.5 ticks through the joined fill at 9996; no join until 31000'}])
    expect(m2.state.buy.joinCooldownUntil).toBe(31_000)
    expect(m2.state.adverse).toEqual([])
  })

  it('an adverse move after joinAdverseMs does not count; a formula fill is not watched', () => {
    const q0 = quote(inputOf(book()), initialStrategyState(), cfg, INST)
    const f = onFill(q0.state, fill('SELL', 10004, 0), 0, cfg)
    const late = onMid(f.state, 10010, 1001, cfg)
    expect(late.events).toEqual([])
    expect(late.state.sell.joinCooldownUntil).toBe(0)
    expect(late.state.adverse).toEqual([])
    const f2 = onFill(q0.state, fill('SELL', 10010, 0), 0, cfg)
    expect(f2.state.adverse).toEqual([])
  })

  it('post-only reject back-off: +postOnlyBackoffTicks per consecutive reject, capped, decaying after acceptance', () => {
    const c = cfgOf({postOnlyBackoffTicks: 2, postOnlyMaxBackoffTicks: 5, degradeMs: 0})
    const rejected = intent('dyn:BUY:0', 9990, 10)
    let s: StrategyState = initialStrategyState()
    const bids: number[] = []
    for (let i = 0; i < 4; i++) {
      s = onPostOnlyReject(s, rejected, i, c).state
      const r = quote(inputOf(book(), {nowMs: 10 + i}), s, c, INST)
      bids.push(r.intents[0].price)
      expect(r.intents[1].price).toBe(10010) // the other side is untouched
      s = r.state
    }
    expect(bids).toEqual([9988, 9986, 9985, 9985])
    s = onOrderAccepted(s, {side: 'BUY', tif: 'GTX'}, 20, c).state // 4 → 3 rejects: still 5 (capped)
    expect(quote(inputOf(book()), s, c, INST).intents[0].price).toBe(9985)
    s = onOrderAccepted(s, {side: 'BUY', tif: 'GTX'}, 21, c).state // 2 → 4 ticks
    expect(quote(inputOf(book()), s, c, INST).intents[0].price).toBe(9986)
    const acc = onOrderAccepted(s, {side: 'BUY', tif: 'GTC'}, 22, c) // a GTC acceptance proves nothing
    expect(acc.state.buy.rejects).toBe(2)
    const dec = onOrderAccepted(s, {side: 'BUY', tif: 'GTX'}, 23, c)
    expect(dec.events).toEqual([{type: 'strategy_adjust', ts: 23, reason: 'backoff_decay', side: 'BUY', backoffTicks: {buy: 2, sell: 0}}])
  })

  it('a reject emits strategy_adjust with the new back-off', () => {
    const c = cfgOf({degradeMs: 0, instantRetry: false})
    const r = onPostOnlyReject(initialStrategyState(), intent('dyn:SELL:0', 10010, 10), 7, c)
    expect(r.events).toEqual([
      {type: 'strategy_adjust', ts: 7, reason: 'post_only_reject', side: 'SELL', backoffTicks: {buy: 0, sell: 1}, detail: 'dyn:SELL:0 at 10010 rejected as post-only (1 counted)'},
    ])
    expect(r.intents).toEqual([])
  })

  it('a side with back-off does not join', () => {
    const s = onPostOnlyReject(initialStrategyState(), intent('dyn:SELL:0', 10010, 10), 0, cfgOf({degradeMs: 0})).state
    const r = quote(inputOf(book()), s, cfg, INST)
    // SELL: formula 10010 + 1 back-off
    expect(r.intents.map((i) => [i.side, i.price])).toEqual([['BUY', 9996], ['SELL', 10011]])
  })

  it('joinEnabled false: never joins', () => {
    const r = quote(inputOf(book()), initialStrategyState(), cfgOf(), INST)
    expect(r.intents.map((i) => i.price)).toEqual([9990, 10010])
  })
})
