/**
 * strategy.fairValue (issue 12): 'mid' (the default, unchanged) or 'microprice', the
 * imbalance-weighted best bid/ask the spread and the skew are applied to. Exact ticks.
 */
import {describe, expect, it} from 'vitest'
import {initialStrategyState, quote, readTop} from '../../src/lib/strategy/index.js'
import {cfgOf, FakeBook, INST, inputOf, intent, workingOf} from './support.js'

// bid 9995 × 30, ask 10005 × 10: microprice = (9995 × 10 + 10005 × 30) / 40 = 10002.5
const heavyBid = () => new FakeBook([[9995, 30], [9990, 10]], [[10005, 10], [10010, 10]])

describe('fair value', () => {
  it('readTop gives the microprice of others’ quantities at the top', () => {
    const t = readTop(heavyBid(), [])
    expect(t.ok && t.top).toMatchObject({bid: 9995, ask: 10005, bidQty: 30, askQty: 10, mid: 10000, microprice: 10002.5})
  })

  it("'mid' (default): centre 10000 → 9990 / 10010, no fairValue field in the event", () => {
    const r = quote(inputOf(heavyBid()), initialStrategyState(), cfgOf(), INST)
    expect(r.intents).toEqual([intent('dyn:BUY:0', 9990, 10), intent('dyn:SELL:0', 10010, 10)])
    expect(r.events[0].fairValue).toBeUndefined()
  })

  it("'microprice': centre 10002.5 → bid floor(9992.49…) = 9992, ask ceil(10012.50…) = 10013", () => {
    const r = quote(inputOf(heavyBid()), initialStrategyState(), cfgOf({fairValue: 'microprice'}), INST)
    expect(r.intents).toEqual([intent('dyn:BUY:0', 9992, 10), intent('dyn:SELL:0', 10013, 10)])
    expect(r.events[0]).toMatchObject({fairValue: 10002.5, bid: 9992, ask: 10013})
  })

  it('the skew applies around the microprice: long 50 (inventoryFactor 0.5) moves both quotes down from it', () => {
    // spread 0.003, centre 10002.5 × (1 − 0.5 × 0.0015) = 9994.998125 → bid floor(9980.0…) = 9980, ask ceil(10009.99…) = 10010
    const r = quote(inputOf(heavyBid(), {position: {net: 50, avgCost: 10002.5}}), initialStrategyState(), cfgOf({fairValue: 'microprice'}), INST)
    expect(r.intents.map((i) => i.price)).toEqual([9980, 10010])
  })

  it('our own quantity at the top is taken out: our 20 of the 30 at 9995 → 10 vs 10, microprice = mid', () => {
    const own = workingOf(intent('dyn:BUY:0', 9995, 20))
    const t = readTop(heavyBid(), [own])
    expect(t.ok && t.top).toMatchObject({bidQty: 10, askQty: 10, microprice: 10000})
  })
})
