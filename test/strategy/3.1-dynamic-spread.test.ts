import {describe, expect, it} from 'vitest'
import {ceilTick, floorTick, formulaQuote, initialStrategyState, onMid, quote, volatilityFactor} from '../../src/lib/strategy/index.js'
import {book, cfgOf, FakeBook, INST, inputOf, intent, workingOf} from './support.js'

const cfg = cfgOf()

describe('3.1 dynamic spread', () => {
  it('flat and quiet: bid = mid × (1 − s/2) rounded down, ask rounded up, post-only, baseSize', () => {
    const r = quote(inputOf(book()), initialStrategyState(), cfg, INST)
    expect(r.intents).toEqual([intent('dyn:BUY:0', 9990, 10), intent('dyn:SELL:0', 10010, 10)])
    expect(r.events).toHaveLength(1)
    expect(r.events[0]).toMatchObject({
      type: 'strategy_adjust',
      reason: 'quote',
      spread: 0.002,
      volatilityFactor: 0,
      inventoryFactor: 0,
      quoteInterval: 1000,
      bid: 9990,
      ask: 10010,
      bidPrice: '999.0',
      askPrice: '1001.0',
      mode: 'formula',
      bidMode: 'formula',
      askMode: 'formula',
      bidTif: 'GTX',
      askTif: 'GTX',
      backoffTicks: {buy: 0, sell: 0},
      depthFillPrice: null,
      depthFillAvailable: null,
      depthSlippage: null,
    })
  })

  it('rounds a half-tick mid: bid down, ask up', () => {
    // mid 10000.5: 10000.5 × 0.999 = 9990.4995 → 9990; × 1.001 = 10010.5005 → 10011
    const r = quote(inputOf(book(9996, 10005)), initialStrategyState(), cfg, INST)
    expect(r.intents.map((i) => i.price)).toEqual([9990, 10011])
  })

  it('long half of netMax: inventoryFactor +0.5 widens the spread and skews both quotes down', () => {
    // spread 0.003, centre 10000 × (1 − 0.5 × 0.0015) = 9992.5; bid 9977.51 → 9977, ask 10007.49 → 10008
    const r = quote(inputOf(book(), {position: {net: 50, avgCost: 10000}}), initialStrategyState(), cfg, INST)
    expect(r.intents.map((i) => [i.slot, i.price])).toEqual([['dyn:BUY:0', 9977], ['dyn:SELL:0', 10008]])
    expect(r.events[0]).toMatchObject({inventoryFactor: 0.5, spread: 0.003})
  })

  it('short half of netMax: both quotes skew up', () => {
    // centre 10007.5; bid 9992.49 → 9992, ask 10022.51 → 10023
    const r = quote(inputOf(book(), {position: {net: -50, avgCost: 10000}}), initialStrategyState(), cfg, INST)
    expect(r.intents.map((i) => i.price)).toEqual([9992, 10023])
    expect(r.events[0]).toMatchObject({inventoryFactor: -0.5})
  })

  it('at inventoryFactor +1 the reducing ask sits at the mid (rounded up)', () => {
    // spread 0.004, centre 9980; ask 9980 × 1.002 = 9999.96 → 10000 = mid; bid 9960.04 → 9960
    const r = quote(inputOf(book(), {position: {net: 100, avgCost: 10000}}), initialStrategyState(), cfg, INST)
    expect(r.intents.map((i) => i.price)).toEqual([9960, 10000])
  })

  it('inventoryFactor is clamped to ±1 (net beyond netMax / inventoryK)', () => {
    const a = quote(inputOf(book(), {position: {net: 150, avgCost: 10000}}), initialStrategyState(), cfg, INST)
    expect(a.intents.map((i) => i.price)).toEqual([9960, 10000])
    const k2 = cfgOf({inventoryK: 2})
    const b = quote(inputOf(book(), {position: {net: 50, avgCost: 10000}}), initialStrategyState(), k2, INST)
    expect(b.intents.map((i) => i.price)).toEqual([9960, 10000])
    expect(b.events[0]).toMatchObject({inventoryFactor: 1})
    const c = quote(inputOf(book(), {position: {net: -49, avgCost: 10000}}), initialStrategyState(), k2, INST)
    expect(c.events[0]).toMatchObject({inventoryFactor: -0.98})
  })

  it('inventoryK 0: no skew, no widening', () => {
    const r = quote(inputOf(book(), {position: {net: 80, avgCost: 10000}}), initialStrategyState(), cfgOf({inventoryK: 0}), INST)
    expect(r.intents.map((i) => i.price)).toEqual([9990, 10010])
  })

  it('volatility: 1-second |Δmid|/mid samples, factor = volK × mean / baseSpread', () => {
    let s = onMid(initialStrategyState(), 10000, 0, cfg).state
    // book mid 10010 at t = 1000: r = 0.001 → vf = 0.5, spread 0.003
    const r = quote(inputOf(book(10005, 10015), {nowMs: 1000}), s, cfg, INST)
    expect(r.events[0]).toMatchObject({volatilityFactor: 0.5, spread: 0.003, quoteInterval: 1500})
    // 10010 × 0.9985 = 9994.985 → 9994; 10010 × 1.0015 = 10025.015 → 10026
    expect(r.intents.map((i) => i.price)).toEqual([9994, 10026])
    s = r.state
    expect(s.samples).toEqual([[1000, 0.001]])
  })

  it('volatility: seconds without an update count as zero moves; samples older than the window drop out', () => {
    const c = cfgOf({volWindowSec: 4})
    let s = onMid(initialStrategyState(), 10000, 0, c).state
    s = onMid(s, 10000, 500, c).state // same second: no sample
    expect(s.samples).toEqual([])
    s = onMid(s, 10020, 3000, c).state // 3 s later: two zero seconds, then r = 0.002
    expect(s.samples).toEqual([[1000, 0], [2000, 0], [3000, 0.002]])
    expect(volatilityFactor(s, 3000, c)).toBeCloseTo(0.002 / 3 / 0.002, 12)
    // at t = 5000 the window (1000, 5000] no longer holds the 1000 sample
    expect(volatilityFactor(s, 5000, c)).toBeCloseTo(0.002 / 2 / 0.002, 12)
    expect(volatilityFactor(s, 7000, c)).toBe(0)
  })

  it('volatility is capped at volFactorMax and scaled by volK', () => {
    const s = onMid(onMid(initialStrategyState(), 10000, 0, cfg).state, 10500, 1000, cfg).state
    expect(volatilityFactor(s, 1000, cfg)).toBe(3)
    expect(volatilityFactor(s, 1000, cfgOf({volFactorMax: 30}))).toBeCloseTo(25, 9)
    expect(volatilityFactor(s, 1000, cfgOf({volFactorMax: 30, volK: 0.5}))).toBeCloseTo(12.5, 9)
    expect(volatilityFactor(s, 1000, cfgOf({volK: 0}))).toBe(0)
  })

  it('zero position, no samples: volatilityFactor and inventoryFactor are 0', () => {
    const f = formulaQuote(10000, 0, 0, cfg)
    expect(f).toMatchObject({volatilityFactor: 0, inventoryFactor: 0, spread: 0.002, centre: 10000, bid: 9990, ask: 10010, quoteInterval: 1000})
  })

  it('a post-only quote that would cross is pulled back one tick behind the opposite best', () => {
    // our own stale ask rests at 9999 (the raw best ask); others' book is 9995 / 10010
    const b = new FakeBook([[9995, 10]], [[9999, 10], [10010, 10]])
    const own = workingOf(intent('dyn:SELL:0', 9999, 10))
    const r = quote(inputOf(b, {working: [own], position: {net: -100, avgCost: 10000}}), initialStrategyState(), cfg, INST)
    // mid (others) 10002.5, short at −1: bid formula 10002.46 → 10002 ≥ 9999 → pulled back to 9998
    expect(r.intents[0]).toEqual(intent('dyn:BUY:0', 9998, 10))
    expect(r.intents[1].price).toBeGreaterThan(9998)
  })

  it('explicit rounding absorbs float noise at exact grid points', () => {
    expect(floorTick(2999.9999999999995)).toBe(3000)
    expect(ceilTick(3000.0000000000005)).toBe(3000)
    expect(floorTick(2999.9)).toBe(2999)
    expect(ceilTick(2999.1)).toBe(3000)
  })

  it('empty side of the book: no quotes, one no_book event', () => {
    const b = new FakeBook([[9995, 10]], [])
    const r = quote(inputOf(b), initialStrategyState(), cfg, INST)
    expect(r.intents).toEqual([])
    expect(r.events).toEqual([{type: 'strategy_adjust', ts: 0, reason: 'no_book', riskMode: 'normal', bid: null, ask: null, detail: 'book empty side: no quotes'}])
    // unchanged situation: no second event
    expect(quote(inputOf(b, {nowMs: 10}), r.state, cfg, INST).events).toEqual([])
  })

  it('crossed or unready input book: no quotes', () => {
    const crossed = new FakeBook([[10005, 10]], [[9995, 10]])
    const r = quote(inputOf(crossed), initialStrategyState(), cfg, INST)
    expect(r.intents).toEqual([])
    expect(r.events[0]).toMatchObject({reason: 'no_book', detail: 'book crossed: no quotes'})
    const locked = new FakeBook([[10000, 10]], [[10000, 10]])
    expect(quote(inputOf(locked), initialStrategyState(), cfg, INST).intents).toEqual([])
    const unready = new FakeBook([[9995, 10]], [[10005, 10]], false)
    expect(quote(inputOf(unready), initialStrategyState(), cfg, INST).events[0]).toMatchObject({detail: 'book not ready: no quotes'})
  })

  it('halted and paused: every order cancelled (no intents), one event per change', () => {
    for (const riskMode of ['halted', 'paused'] as const) {
      const r = quote(inputOf(book(), {riskMode}), initialStrategyState(), cfg, INST)
      expect(r.intents).toEqual([])
      expect(r.events[0]).toMatchObject({reason: 'risk_mode', riskMode})
    }
  })

  it('an unchanged quote emits no event; a changed one emits exactly one', () => {
    const a = quote(inputOf(book()), initialStrategyState(), cfg, INST)
    const b = quote(inputOf(book(), {nowMs: 100}), a.state, cfg, INST)
    expect(b.events).toEqual([])
    const c = quote(inputOf(book(9997, 10007), {nowMs: 200}), b.state, cfg, INST)
    expect(c.events).toHaveLength(1)
    expect(c.events[0]).toMatchObject({reason: 'quote', bid: 9991, ask: 10013})
  })

  it('an order below min notional is dropped with an event', () => {
    // 0.001 × 999.0 < 5: dynamic size 1 step is dropped on both sides
    const c = cfgOf({baseSize: '0.001'}, {reduceOnlyThreshold: 1})
    const r = quote(inputOf(book()), initialStrategyState(), c, INST)
    expect(r.intents).toEqual([])
    expect(r.events[0]).toMatchObject({
      reason: 'order_dropped',
      bid: null,
      ask: null,
      dropped: [
        {slot: 'dyn:BUY:0', price: 9990, qty: 1, why: 'below minQty or minNotional at this price'},
        {slot: 'dyn:SELL:0', price: 10010, qty: 1, why: 'below minQty or minNotional at this price'},
      ],
    })
    // 5 steps: min notional 5.0 needs a price ≥ 10000 ticks (1000.0)
    const c5 = cfgOf({baseSize: '0.005'}, {reduceOnlyThreshold: 1})
    const low = quote(inputOf(book()), initialStrategyState(), c5, INST) // bid 9990: 4.995 → dropped, ask 10010 kept
    expect(low.intents).toEqual([intent('dyn:SELL:0', 10010, 5)])
    expect(low.events[0].dropped).toEqual([{slot: 'dyn:BUY:0', price: 9990, qty: 5, why: 'below minQty or minNotional at this price'}])
    // mid 10010: bid 9999.99 → 9999 (one tick below 10000): dropped
    expect(quote(inputOf(book(10005, 10015)), initialStrategyState(), c5, INST).intents.map((i) => i.side)).toEqual(['SELL'])
    // mid 10012: bid 10001.988 → 10001 (≥ 10000): kept
    expect(quote(inputOf(book(10007, 10017)), initialStrategyState(), c5, INST).intents.map((i) => [i.side, i.price])).toEqual([['BUY', 10001], ['SELL', 10023]])
  })
})
