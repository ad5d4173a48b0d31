import {describe, expect, it} from 'vitest'
import {Backoff, backoffDelay} from '../../src/lib/venue/backoff.js'
import {seededRandom} from '../../src/lib/venue/binance/http.js'

describe('shared backoff', () => {
  it('capped exponential with equal jitter', () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, 250, 30_000, () => 0))).toEqual([125, 250, 500, 1000, 15_000])
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, 250, 30_000, () => 0.999999))).toEqual([250, 500, 1000, 2000, 30_000])
  })

  it('a success resets the pace only once it held for stableMs (no storm from connect-then-close)', () => {
    let now = 0
    const b = new Backoff({baseMs: 100, maxMs: 10_000, stableMs: 5000, random: () => 0, now: () => now})
    const delays: number[] = []
    for (let i = 0; i < 6; i++) {
      b.ok() // connected…
      now += 10 // …and closed at once
      delays.push(b.next())
    }
    expect(delays).toEqual([50, 100, 200, 400, 800, 1600])
    b.ok()
    now += 5000
    expect(b.next()).toBe(50)
  })

  it('seeded randomness gives the same delays', () => {
    const a = new Backoff({random: seededRandom(3)})
    const c = new Backoff({random: seededRandom(3)})
    const da = Array.from({length: 8}, () => a.next())
    expect(Array.from({length: 8}, () => c.next())).toEqual(da)
    expect(Math.max(...da)).toBeLessThanOrEqual(30_000)
  })
})
