import {describe, expect, it} from 'vitest'
import {formulaQuote, initialStrategyState, onMid, quote} from '../../src/lib/strategy/index.js'
import {book, cfgOf, INST, inputOf} from './support.js'

describe('3.2 refresh interval', () => {
  it('quiet: quoteInterval = baseInterval, next refresh one interval ahead', () => {
    const cfg = cfgOf({baseInterval: 750})
    const r = quote(inputOf(book(), {nowMs: 5000}), initialStrategyState(), cfg, INST)
    expect(r.nextRefreshMs).toBe(5750)
    expect(r.events[0]).toMatchObject({quoteInterval: 750})
  })

  it('volatile: baseInterval × (1 + volatilityFactor) — slower, not faster (deviation from the note)', () => {
    const cfg = cfgOf()
    expect(formulaQuote(10000, 0.5, 0, cfg).quoteInterval).toBe(1500)
    expect(formulaQuote(10000, 3, 0, cfg).quoteInterval).toBe(4000)
    expect(formulaQuote(10000, 0.0004, 0, cfg).quoteInterval).toBe(1000)
    expect(formulaQuote(10000, 0.0005, 0, cfg).quoteInterval).toBe(1001) // rounded to the ms
  })

  it('the interval follows the measured volatility', () => {
    const cfg = cfgOf()
    const s = onMid(initialStrategyState(), 10000, 0, cfg).state
    const r = quote(inputOf(book(10005, 10015), {nowMs: 1000}), s, cfg, INST) // r = 0.001 → vf 0.5
    expect(r.nextRefreshMs).toBe(1000 + 1500)
  })

  it('halted / no book: poll again after baseInterval', () => {
    const cfg = cfgOf()
    expect(quote(inputOf(book(), {riskMode: 'halted', nowMs: 10}), initialStrategyState(), cfg, INST).nextRefreshMs).toBe(1010)
    const naive = cfgOf({kind: 'naive'})
    expect(quote(inputOf(book(), {nowMs: 10}), initialStrategyState(), naive, INST).nextRefreshMs).toBe(1010)
  })
})
