import {describe, expect, it} from 'vitest'
import {initialStrategyState, onPostOnlyReject, quote} from '../../src/lib/strategy/index.js'
import {book, cfgOf, FakeBook, INST, inputOf, intent} from './support.js'

const naive = cfgOf({kind: 'naive', joinEnabled: true, staticFraction: 0.5, takeProfitPct: 0.001, baseSize: '0.02'}, {netMax: '0.2'})

describe('naive baseline (strategy.kind = naive)', () => {
  it('fixed symmetric spread around the mid, whole baseSize, post-only — no join, no layers', () => {
    const r = quote(inputOf(book()), initialStrategyState(), naive, INST)
    expect(r.intents).toEqual([intent('dyn:BUY:0', 9990, 20), intent('dyn:SELL:0', 10010, 20)])
    expect(r.events[0]).toMatchObject({reason: 'quote', spread: 0.002, volatilityFactor: 0, inventoryFactor: 0, quoteInterval: 1000, mode: 'formula', bid: 9990, ask: 10010})
  })

  it('no inventory skew and no take profit', () => {
    const r = quote(inputOf(book(), {position: {net: 150, avgCost: 5000}}), initialStrategyState(), naive, INST)
    expect(r.intents.map((i) => i.price)).toEqual([9990, 10010])
  })

  it('no back-off after a post-only reject', () => {
    const s = onPostOnlyReject(initialStrategyState(), intent('dyn:BUY:0', 9990, 20), 0, naive).state
    expect(quote(inputOf(book(), {nowMs: 1}), s, naive, INST).intents[0]).toEqual(intent('dyn:BUY:0', 9990, 20))
  })

  it('honours the risk mode: reduce-only keeps the reducing side only; halted quotes nothing', () => {
    const ro = quote(inputOf(book(), {riskMode: 'reduce_only', position: {net: -70, avgCost: 10000}}), initialStrategyState(), naive, INST)
    expect(ro.intents).toEqual([intent('reduce:BUY:0', 9990, 20)])
    expect(quote(inputOf(book(), {riskMode: 'halted'}), initialStrategyState(), naive, INST).intents).toEqual([])
  })

  it('no book: no quotes', () => {
    const r = quote(inputOf(new FakeBook([], [[10005, 1]])), initialStrategyState(), naive, INST)
    expect(r.intents).toEqual([])
    expect(r.events[0]).toMatchObject({reason: 'no_book'})
  })
})
