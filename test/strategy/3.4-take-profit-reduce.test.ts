import {describe, expect, it} from 'vitest'
import {
  capPrice,
  estimateFillPrice,
  initialStrategyState,
  onIocResult,
  planFlatten,
  quote,
  reduceSlippagePct,
  type StrategyState,
} from '../../src/lib/strategy/index.js'
import {book, cfgOf, FakeBook, INST, inputOf, intent, workingOf} from './support.js'

/** bids 9995×5, 9994×5, 9990×10; asks 10005×5, 10006×5, 10010×10 (mid 10000) */
const depth = () => new FakeBook([[9995, 5], [9994, 5], [9990, 10]], [[10005, 5], [10006, 5], [10010, 10]])
const ioc = (slot: string, price: number, qty: number) => intent(slot, price, qty, {tif: 'IOC', reduceOnly: true, layer: 'reduce'})

function expired(n: number, c = cfgOf()): StrategyState {
  let s = initialStrategyState()
  for (let i = 0; i < n; i++) s = onIocResult(s, 'expired', i, c).state
  return s
}

describe('3.4 take profit', () => {
  const tp = cfgOf({takeProfitPct: 0.25})

  it('long in profit by exactly takeProfitPct × avgCost: the reducing quote moves to the mid, reduce-only, whole position', () => {
    // avg 8000: profit 2000 = 0.25 × 8000
    const r = quote(inputOf(book(), {position: {net: 20, avgCost: 8000}}), initialStrategyState(), tp, INST)
    expect(r.intents).toEqual([intent('dyn:BUY:0', 9985, 10), intent('reduce:SELL:0', 10000, 20)])
    expect(r.events[0]).toMatchObject({askMode: 'take_profit', ask: 10000, askTif: 'GTX'})
  })

  it('one tick of avgCost short of the threshold: normal quoting', () => {
    const r = quote(inputOf(book(), {position: {net: 20, avgCost: 8001}}), initialStrategyState(), tp, INST)
    expect(r.intents.map((i) => i.slot)).toEqual(['dyn:BUY:0', 'dyn:SELL:0'])
  })

  it('short in profit: the reducing bid moves to the mid (rounded down)', () => {
    // mid 10000.5 → bid 10000; avg 14000: profit 3999.5 ≥ 3500
    const r = quote(inputOf(book(9996, 10005), {position: {net: -20, avgCost: 14000}}), initialStrategyState(), tp, INST)
    expect(r.intents[0]).toEqual(intent('reduce:BUY:0', 10000, 20))
    expect(r.intents[1].slot).toBe('dyn:SELL:0')
  })

  it('takeProfitPct 0 is off; zero position never takes profit', () => {
    const off = quote(inputOf(book(), {position: {net: 20, avgCost: 1000}}), initialStrategyState(), cfgOf({takeProfitPct: 0}), INST)
    expect(off.intents.map((i) => i.slot)).toEqual(['dyn:BUY:0', 'dyn:SELL:0'])
    const flat = quote(inputOf(book(), {position: {net: 0, avgCost: 1000}}), initialStrategyState(), tp, INST)
    expect(flat.intents.map((i) => i.slot)).toEqual(['dyn:BUY:0', 'dyn:SELL:0'])
  })
})

describe('3.4 estimateFillPrice', () => {
  it('walks the levels: VWAP, available within the cap, slippage vs mid, worst level', () => {
    expect(estimateFillPrice(depth(), 'SELL', 8, 9990, 10000)).toEqual({depthFillPrice: 79957 / 8, depthFillAvailable: 8, depthSlippage: (10000 - 79957 / 8) / 10000, worstPrice: 9994})
    expect(estimateFillPrice(depth(), 'BUY', 5, 10010, 10000)).toEqual({depthFillPrice: 10005, depthFillAvailable: 5, depthSlippage: 0.0005, worstPrice: 10005})
  })

  it('stops at the cap: a level exactly at the cap counts, one tick beyond does not', () => {
    expect(estimateFillPrice(depth(), 'SELL', 30, 9994, 10000)).toMatchObject({depthFillAvailable: 10, depthFillPrice: 9994.5, worstPrice: 9994})
    expect(estimateFillPrice(depth(), 'SELL', 30, 9995, 10000)).toMatchObject({depthFillAvailable: 5, worstPrice: 9995})
    expect(estimateFillPrice(depth(), 'SELL', 30, 9996, 10000)).toEqual({depthFillPrice: null, depthFillAvailable: 0, depthSlippage: null, worstPrice: -1})
  })

  it('excludes our own resting quantity', () => {
    const own = workingOf(intent('dyn:BUY:0', 9995, 3))
    expect(estimateFillPrice(depth(), 'SELL', 4, 9990, 10000, [own])).toMatchObject({depthFillAvailable: 4, worstPrice: 9994, depthFillPrice: (2 * 9995 + 2 * 9994) / 4})
  })
})

describe('3.4 reduce-only IOC pricing', () => {
  const trig = cfgOf({}, {reduceOnlyMarketTriggerPct: 0.01, reduceOnlyMaxSlippagePct: 0.002})

  it('profit rate ≥ reduceOnlyMarketTriggerPct: one IOC through the book at the worst level needed', () => {
    // avg 9900: profit 100 ≥ 99; qty 20 within the cap 9980: 5@9995 + 5@9994 + 10@9990
    const r = quote(inputOf(depth(), {position: {net: 20, avgCost: 9900}}), initialStrategyState(), trig, INST)
    expect(r.intents).toEqual([ioc('ioc:SELL:0', 9990, 20)])
    expect(r.events[0]).toMatchObject({reason: 'reduce_ioc', askMode: 'reduce_ioc', askTif: 'IOC', bidMode: 'none', depthFillPrice: 9992.25, depthFillAvailable: 20, depthSlippage: (10000 - 9992.25) / 10000})
  })

  it('just below the trigger: no IOC', () => {
    const r = quote(inputOf(depth(), {position: {net: 20, avgCost: 9901}}), initialStrategyState(), trig, INST)
    expect(r.intents.every((i) => i.tif !== 'IOC')).toBe(true)
  })

  it('depth within the cap short of the size: truncate at the cap and split', () => {
    const r = quote(inputOf(depth(), {position: {net: 30, avgCost: 9900}}), initialStrategyState(), trig, INST)
    // cap = ceil(10000 × 0.998) = 9980
    expect(r.intents).toEqual([ioc('ioc:SELL:0', 9990, 20), ioc('ioc:SELL:1', 9980, 10)])
    expect(r.events[0]).toMatchObject({depthFillAvailable: 20})
  })

  it('a buy-back of a short is capped at mid × (1 + pct), rounded down', () => {
    const r = quote(inputOf(depth(), {position: {net: -30, avgCost: 10200}}), initialStrategyState(), trig, INST)
    expect(r.intents).toEqual([ioc('ioc:BUY:0', 10010, 20), ioc('ioc:BUY:1', 10020, 10)])
  })

  it('an IOC in flight is kept, not doubled', () => {
    const w = workingOf(ioc('ioc:SELL:0', 9990, 20), {status: 'PENDING_NEW'})
    const r = quote(inputOf(depth(), {position: {net: 20, avgCost: 9900}, working: [w]}), initialStrategyState(), trig, INST)
    expect(r.intents).toEqual([ioc('ioc:SELL:0', 9990, 20)])
  })

  it('fallback ladder: after iocExpiredFallbackCount EXPIRED, mid ± pct, × multiplier per further round, up to the max', () => {
    const c = cfgOf({}, {reduceOnlyMarketTriggerPct: 0.01, iocExpiredFallbackCount: 2, fallbackSlippageMultiplier: 2, fallbackSlippageMax: 0.02})
    const prices = [0, 1, 2, 3, 4, 5, 6].map((n) => quote(inputOf(depth(), {position: {net: 20, avgCost: 9900}}), expired(n, c), c, INST).intents.map((i) => i.price))
    expect(prices).toEqual([[9990], [9990], [9980], [9960], [9920], [9840], [9800]])
    expect(reduceSlippagePct(expired(1, c), c, true)).toEqual({pct: 0.002, fallback: false, round: 0})
    expect(reduceSlippagePct(expired(2, c), c, true)).toEqual({pct: 0.002, fallback: true, round: 0})
    expect(reduceSlippagePct(expired(9, c), c, true)).toEqual({pct: 0.02, fallback: true, round: 7})
    // mm flatten --max-slip is a hard cap: the ladder stops at it (issue 9)
    expect(reduceSlippagePct(expired(9, c), c, true, 0.003, true)).toEqual({pct: 0.003, fallback: true, round: 7})
    expect(reduceSlippagePct(expired(2, c), c, false, 0.003, true)).toEqual({pct: 0.003, fallback: true, round: 0})
  })

  it('an explicit flatten cap is hard: EXPIRED rounds never price the IOC beyond it', () => {
    const c = cfgOf({}, {iocExpiredFallbackCount: 2, fallbackSlippageMultiplier: 2, fallbackSlippageMax: 0.02})
    // cap 0.001 of mid 10000 → the SELL never below 9990, however many IOCs expired
    const prices = [0, 2, 5, 9].map((n) => planFlatten({book: depth(), position: {net: 20, avgCost: 9900}, working: [], nowMs: 0}, expired(n, c), c, INST, {maxSlipPct: 0.001}).intents.map((i) => i.price))
    for (const p of prices.flat()) expect(p).toBeGreaterThanOrEqual(9990)
    // without the explicit cap (a stop-loss flatten) the ladder widens past it
    const ladder = planFlatten({book: depth(), position: {net: 20, avgCost: 9900}, working: [], nowMs: 0}, expired(9, c), c, INST).intents.map((i) => i.price)
    expect(Math.min(...ladder)).toBeLessThan(9990)
  })

  it('a fill resets the EXPIRED streak', () => {
    const c = cfgOf()
    const r = onIocResult(expired(3, c), 'partial', 10, c)
    expect(r.state.iocExpiredStreak).toBe(0)
    expect(r.events[0]).toMatchObject({reason: 'ioc_filled'})
    expect(onIocResult(initialStrategyState(), 'filled', 10, c).events).toEqual([])
  })

  it('no local book: flatten prices at the last mid ∓ pct', () => {
    const c = cfgOf()
    const s = {...initialStrategyState(), lastMid: 10000}
    const unready = new FakeBook([[9995, 5]], [[10005, 5]], false)
    const f = planFlatten({book: unready, position: {net: 25, avgCost: 10000}, working: [], nowMs: 0}, s, c, INST)
    expect(f.intents).toEqual([intent('flatten:SELL:0', 9980, 25, {tif: 'IOC', reduceOnly: true, layer: 'flatten'})])
    expect(f.events[0]).toMatchObject({reason: 'reduce_ioc', depthFillPrice: null, depthFillAvailable: null, depthSlippage: null, detail: 'fallback round 0 (no book): IOC at mid − 0.002'})
    // no mid ever seen: nothing can be priced
    const none = planFlatten({book: unready, position: {net: 25, avgCost: 10000}, working: [], nowMs: 0}, initialStrategyState(), c, INST)
    expect(none.intents).toEqual([])
  })

  it('flatten with a book and a --max-slip override; flat position: nothing', () => {
    const c = cfgOf()
    const f = planFlatten({book: depth(), position: {net: -8, avgCost: 10000}, working: [], nowMs: 0}, initialStrategyState(), c, INST, {maxSlipPct: 0.0005})
    // cap = floor(10000 × 1.0005) = 10005: 5 available → split 5 @10005 + 3 @10005
    expect(f.intents.map((i) => [i.slot, i.price, i.qty])).toEqual([['flatten:BUY:0', 10005, 5], ['flatten:BUY:1', 10005, 3]])
    expect(planFlatten({book: depth(), position: {net: 0, avgCost: 0}, working: [], nowMs: 0}, initialStrategyState(), c, INST).intents).toEqual([])
  })

  it('capPrice rounds toward safety: sells up, buys down', () => {
    expect(capPrice('SELL', 10000.5, 0.002)).toBe(9981) // 9980.499
    expect(capPrice('BUY', 10000.5, 0.002)).toBe(10020) // 10020.501
  })
})

describe('3.4 keep the resting reduce-only order in profit', () => {
  // reduce-only at net 40 (threshold 30); formula ask: invF 0.4, spread 0.0028, centre 9994.4 → 10008.39 → 10009
  const c = cfgOf({}, {reduceOnlyReplaceTolerancePct: 0.0005})
  const run = (price: number, avgCost: number, over = {}) =>
    quote(inputOf(book(), {riskMode: 'reduce_only', position: {net: 40, avgCost}, working: [workingOf(intent('reduce:SELL:0', price, 10), over)]}), initialStrategyState(), c, INST)

  it('wanted price without a working order', () => {
    const r = quote(inputOf(book(), {riskMode: 'reduce_only', position: {net: 40, avgCost: 9900}}), initialStrategyState(), c, INST)
    expect(r.intents).toEqual([intent('reduce:SELL:0', 10009, 10)])
  })

  it('in profit, off by ≤ tolerance (5.0045 ticks): kept as it is', () => {
    expect(run(10014, 9900).intents).toEqual([intent('reduce:SELL:0', 10014, 10)])
    expect(run(10004, 9900).intents).toEqual([intent('reduce:SELL:0', 10004, 10)])
  })

  it('in profit, off by more than the tolerance: replaced', () => {
    expect(run(10015, 9900).intents).toEqual([intent('reduce:SELL:0', 10009, 10)])
    expect(run(10003, 9900).intents).toEqual([intent('reduce:SELL:0', 10009, 10)])
  })

  it('not in profit: re-priced every cycle', () => {
    expect(run(10010, 10100).intents).toEqual([intent('reduce:SELL:0', 10009, 10)])
  })

  it('a partly filled order that no longer covers the wanted size is replaced', () => {
    expect(run(10010, 9900, {filled: 1}).intents).toEqual([intent('reduce:SELL:0', 10009, 10)])
  })
})
