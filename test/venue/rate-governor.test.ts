import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import type {AnswerInfo} from '../../src/lib/venue/binance/gateway.js'
import {RateGovernor} from '../../src/lib/venue/binance/rate-governor.js'

const T0 = 1_700_000_000_000 // 20 s past a minute boundary, on a 10 s boundary
const ans = (at: number, x: Partial<AnswerInfo> = {}): AnswerInfo => ({endpoint: 'POST /fapi/v1/order', status: 200, at, latencyMs: 1, ...x})

describe('rate governor: usage headers', () => {
  it('T0 sits on a 10 s boundary, 20 s into its minute (windows are epoch-aligned)', () => {
    expect(T0 % 60_000).toBe(20_000)
  })

  it.each([
    // [weight1m, orders10s, orders1m] → mode, factor
    [[100, 10, 50], 'normal', 1],
    [[1199, 0, 0], 'normal', 1],
    [[1200, 0, 0], 'slow', 1], // exactly slowAt: factor 1 + 0
    [[1620, 0, 0], 'slow', 2.5], // halfway between 0.5 and 0.85 of 2400
    [[0, 150, 0], 'slow', 1],
    [[0, 204, 0], 'slow', 1 + (3 * 0.18) / 0.35], // 0.68 of 300
    [[0, 0, 816], 'slow', 1 + (3 * 0.18) / 0.35], // 0.68 of 1200
    [[0, 255, 0], 'paused', 4], // 0.85 of 300
    [[2040, 0, 0], 'paused', 4],
  ] as const)('counters %j → %s ×%d', (c, mode, factor) => {
    const g = new RateGovernor()
    g.observe(ans(T0, {usedWeight1m: c[0], orderCount10s: c[1], orderCount1m: c[2]}))
    const v = g.verdict(T0 + 1)
    expect(v.mode).toBe(mode)
    expect(v.intervalFactor).toBeCloseTo(factor, 10)
    expect(v.allowNewOrders).toBe(mode !== 'paused')
  })

  it('names the limit; a pause on the 10 s counter lasts to the end of its window, then the reading expires', () => {
    const g = new RateGovernor()
    g.observe(ans(T0 + 3000, {orderCount10s: 280, orderCount1m: 400}))
    const v = g.verdict(T0 + 3001)
    expect(v).toEqual({mode: 'paused', intervalFactor: 4, allowNewOrders: false, until: T0 + 10_000, reason: 'orders 280/300 per 10 s', usage: 280 / 300})
    // next 10 s window: the 10 s reading is stale, the minute one (400/1200 = 0.33) is below slowAt
    expect(g.verdict(T0 + 10_000).mode).toBe('normal')
    // the minute reading ends at the minute boundary (T0 + 40 s)
    g.observe(ans(T0 + 10_001, {orderCount1m: 1100}))
    expect(g.verdict(T0 + 39_999)).toMatchObject({mode: 'paused', until: T0 + 40_000, reason: 'orders 1100/1200 per minute'})
    expect(g.verdict(T0 + 40_000).mode).toBe('normal')
  })

  it('limits come from the venue (exchangeInfo / rateLimit/order)', () => {
    const g = new RateGovernor()
    g.setLimits([
      {rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100},
      {rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 400},
      {rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 1000},
    ])
    expect(g.limits).toEqual({weight1m: 1000, orders10s: 100, orders1m: 400})
    g.observe(ans(T0, {orderCount10s: 60}))
    expect(g.verdict(T0)).toMatchObject({mode: 'slow', reason: 'orders 60/100 per 10 s'})
  })
})

describe('rate governor: 429, 418', () => {
  it('429 honours Retry-After', () => {
    const g = new RateGovernor()
    g.observe(ans(T0, {status: 429, retryAfterMs: 7000, venueCode: -1003}))
    expect(g.verdict(T0 + 6999)).toMatchObject({mode: 'paused', allowNewOrders: false, until: T0 + 7000, reason: 'HTTP 429: request rate limit'})
    expect(g.verdict(T0 + 7000).mode).toBe('normal')
  })

  it('429 without Retry-After backs off 1 s, 2 s, 4 s …, reset by a success', () => {
    const g = new RateGovernor()
    const untils: number[] = []
    let t = T0
    for (let i = 0; i < 4; i++) {
      g.observe(ans(t, {status: 429}))
      untils.push(g.verdict(t).until! - t)
      t = g.verdict(t).until!
    }
    expect(untils).toEqual([1000, 2000, 4000, 8000])
    g.observe(ans(t, {status: 200}))
    g.observe(ans(t + 1, {status: 429}))
    expect(g.verdict(t + 1).until).toBe(t + 1 + 1000)
  })

  it('-1015 (too many orders) pauses to the end of the 10 s window', () => {
    const g = new RateGovernor()
    g.observe(ans(T0 + 2500, {status: 400, venueCode: -1015}))
    expect(g.verdict(T0 + 2500)).toMatchObject({mode: 'paused', until: T0 + 10_000})
  })

  it('418 stops quoting and says so until the ban ends (Retry-After), then pauses until the caller has re-armed the switch and audited (banCleared)', () => {
    const g = new RateGovernor()
    g.observe(ans(T0, {status: 418, retryAfterMs: 120_000}))
    expect(g.verdict(T0 + 119_999)).toEqual({mode: 'stopped', intervalFactor: 4, allowNewOrders: false, until: T0 + 120_000, reason: 'HTTP 418: the venue banned this IP', usage: 0})
    expect(g.banEnded(T0 + 119_999)).toBe(false)
    // the ban is over: no new order until banCleared
    expect(g.banEnded(T0 + 120_000)).toBe(true)
    expect(g.verdict(T0 + 120_000)).toEqual({mode: 'paused', intervalFactor: 4, allowNewOrders: false, reason: "after the ban: re-arming the dead-man's switch and auditing before quoting again", usage: 0})
    expect(g.readsHeld(T0 + 120_000)).toBeUndefined() // the switch refresh and the audit may go
    g.banCleared()
    expect(g.banEnded(T0 + 120_001)).toBe(false)
    expect(g.verdict(T0 + 120_001).mode).toBe('normal')
    // mm resume lifts no ban
    g.observe(ans(T0 + 200_000, {status: 418, retryAfterMs: 60_000}))
    g.resume()
    expect(g.verdict(T0 + 200_001).mode).toBe('stopped')
  })

  it('a 418 without Retry-After: the end the -1003 message names, else 2 minutes doubling per ban (at most 32); a 418 answered within a ban does not lengthen it', () => {
    const g = new RateGovernor()
    g.observe(ans(T0, {status: 418, venueCode: -1003, bannedUntil: T0 + 300_000}))
    expect(g.verdict(T0 + 299_999)).toMatchObject({mode: 'stopped', until: T0 + 300_000})
    expect(g.verdict(T0 + 300_000).mode).toBe('paused')
    g.banCleared()
    const h = new RateGovernor()
    h.observe(ans(T0, {status: 418}))
    expect(h.verdict(T0 + 1)).toMatchObject({mode: 'stopped', until: T0 + 120_000})
    // a request already on its way when the ban began
    h.observe(ans(T0 + 500, {status: 418}))
    expect(h.verdict(T0 + 501)).toMatchObject({mode: 'stopped', until: T0 + 120_000})
    expect(h.verdict(T0 + 120_000).mode).toBe('paused')
    h.banCleared()
    // banned again: twice as long, and so on up to 16 × 2 minutes
    h.observe(ans(T0 + 130_000, {status: 418}))
    expect(h.verdict(T0 + 130_001)).toMatchObject({mode: 'stopped', until: T0 + 130_000 + 240_000})
    for (let i = 0; i < 6; i++) {
      const at = T0 + 10_000_000 * (i + 1)
      h.banCleared()
      h.verdict(at - 1)
      h.observe(ans(at, {status: 418}))
    }
    expect(h.verdict(T0 + 60_000_001)).toMatchObject({mode: 'stopped', until: T0 + 60_000_000 + 16 * 120_000})
  })
})

describe('rate governor: storms of rejects, 5xx, -1008, unknown outcomes', () => {
  it('routine -5022 / -2011 never count; others slow at 5 and halt at 20 within 60 s', () => {
    const g = new RateGovernor()
    for (let i = 0; i < 50; i++) g.observe(ans(T0 + i, {status: 400, venueCode: i % 2 ? -5022 : -2011}))
    expect(g.verdict(T0 + 100).mode).toBe('normal')
    const kinds: Array<Partial<AnswerInfo>> = [{status: 503, venueCode: -1008}, {status: 502}, {status: 0, failure: 'timeout'}, {status: 400, venueCode: -2019}]
    for (let i = 0; i < 4; i++) g.observe(ans(T0 + 1000 + i, kinds[i]))
    expect(g.verdict(T0 + 1004).mode).toBe('normal')
    g.observe(ans(T0 + 1005, {status: 408}))
    expect(g.verdict(T0 + 1005)).toMatchObject({mode: 'slow', intervalFactor: 1 + 3 / 15, reason: 'storm: 5 rejects/errors/unknown outcomes within 60000 ms'})
    // the storm ages out of the window
    expect(g.verdict(T0 + 61_005).mode).toBe('normal')
    for (let i = 0; i < 20; i++) g.observe(ans(T0 + 70_000 + i, {status: 500}))
    expect(g.verdict(T0 + 70_020)).toMatchObject({mode: 'stopped', allowNewOrders: false, until: undefined, reason: 'storm: 20 rejects/errors/unknown outcomes within 60000 ms'})
    expect(g.verdict(T0 + 999_999).mode).toBe('stopped')
    g.resume()
    expect(g.verdict(T0 + 1_000_000).mode).toBe('normal')
  })
})

describe('rate governor: readsHeld (the requests that wait while the venue refuses us)', () => {
  it('a 418 ban holds them to its Retry-After end (ban: true); a 429 / -1003 back-off to its end (ban: false); -1015 and a storm do not; the verdict mode is untouched', () => {
    const g = new RateGovernor({}, {stormHaltAt: 2})
    expect(g.readsHeld(T0)).toBeUndefined()
    g.observe(ans(T0, {status: 429, venueCode: -1003, retryAfterMs: 5000}))
    expect(g.readsHeld(T0 + 4999)).toEqual({until: T0 + 5000, reason: 'HTTP 429: request rate limit', ban: false})
    expect(g.readsHeld(T0 + 5000)).toBeUndefined()
    g.observe(ans(T0 + 6000, {status: 418, venueCode: -1003, retryAfterMs: 60_000}))
    expect(g.lastMode).toBe('normal') // readsHeld is no verdict
    expect(g.readsHeld(T0 + 6001)).toEqual({until: T0 + 66_000, reason: 'HTTP 418: the venue banned this IP', ban: true})
    expect(g.readsHeld(T0 + 66_000)).toBeUndefined()
    const h = new RateGovernor({}, {stormHaltAt: 2})
    h.observe(ans(T0, {status: 429, venueCode: -1015}))
    expect(h.readsHeld(T0 + 1)).toBeUndefined()
    h.observe(ans(T0 + 2, {status: 500}))
    h.observe(ans(T0 + 3, {status: 500}))
    expect(h.verdict(T0 + 4).mode).toBe('stopped')
    expect(h.readsHeld(T0 + 4)).toBeUndefined()
  })

  it('our request weight at the pause mark (0.85 of the limit) holds them to the minute window end; the order counts do not', () => {
    const g = new RateGovernor()
    g.observe(ans(T0, {usedWeight1m: 2039, orderCount10s: 299}))
    expect(g.readsHeld(T0 + 1)).toBeUndefined()
    g.observe(ans(T0 + 2, {usedWeight1m: 2040}))
    expect(g.readsHeld(T0 + 3)).toEqual({until: T0 + 40_000, reason: 'request weight 2040/2400 per minute', ban: false})
    expect(g.readsHeld(T0 + 40_000)).toBeUndefined()
  })
})

describe('rate governor: readsHeld quick answer (holdEnd) equals the full rule', () => {
  /** the rule as it reads the governor's state (418 ban, 429 back-off, our weight at the pause mark), without the quick answer */
  const full = (g: RateGovernor, now: number) => {
    const x = g as unknown as {stopped?: {until?: number; reason: string}; readsPausedUntil: number; weight?: {value: number; until: number}; pauseReason: string}
    const s = x.stopped
    if (s && s.reason.startsWith('HTTP 418') && (s.until === undefined || now < s.until)) return {until: s.until, reason: s.reason, ban: true}
    if (now < x.readsPausedUntil) return {until: x.readsPausedUntil, reason: x.pauseReason, ban: false}
    const w = x.weight
    if (w && now < w.until && g.limits.weight1m > 0 && w.value / g.limits.weight1m >= g.cfg.pauseAt) return {until: w.until, reason: `request weight ${w.value}/${g.limits.weight1m} per minute`, ban: false}
    return undefined
  }
  const answer = fc.record({
    dt: fc.integer({min: 0, max: 90_000}),
    status: fc.constantFrom(200, 200, 400, 418, 429, 503, 0),
    code: fc.constantFrom(undefined, -1003, -1015, -2011, -1021),
    weight: fc.option(fc.integer({min: 0, max: 3000}), {nil: undefined}),
    retryAfter: fc.option(fc.integer({min: 0, max: 120_000}), {nil: undefined}),
  })
  it('after any answers, limits and verdicts, at any time: the same hold or none (2,000 sequences)', () => {
    fc.assert(
      fc.property(fc.array(answer, {maxLength: 12}), fc.array(fc.integer({min: -5_000, max: 400_000}), {minLength: 1, maxLength: 8}), fc.boolean(), (seq, probes, lowLimit) => {
        const g = new RateGovernor()
        let at = T0
        for (const a of seq) {
          at += a.dt
          g.observe(ans(at, {status: a.status, venueCode: a.code, usedWeight1m: a.weight, retryAfterMs: a.retryAfter}))
          g.verdict(at + 1)
        }
        if (lowLimit) g.setLimits([{rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 500}])
        for (const p of probes) expect(g.readsHeld(at + p)).toEqual(full(g, at + p))
      }),
      {numRuns: 2000, seed: 20261201},
    )
  })
})

describe('rate governor: the verdict names the highest counter (its text made again only on a change)', () => {
  it('follows each new reading and limit', () => {
    const g = new RateGovernor()
    expect(g.verdict(T0).reason).toBe('within limits')
    g.observe(ans(T0, {usedWeight1m: 100}))
    expect(g.verdict(T0 + 1).reason).toBe('request weight 100/2400 per minute')
    expect(g.verdict(T0 + 2).reason).toBe('request weight 100/2400 per minute')
    g.observe(ans(T0 + 3, {usedWeight1m: 120}))
    expect(g.verdict(T0 + 4).reason).toBe('request weight 120/2400 per minute')
    g.setLimits([{rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000}])
    expect(g.verdict(T0 + 5).reason).toBe('request weight 120/6000 per minute')
    g.observe(ans(T0 + 6, {orderCount10s: 30}))
    expect(g.verdict(T0 + 7).reason).toBe('orders 30/300 per 10 s')
    g.observe(ans(T0 + 8, {orderCount1m: 600}))
    expect(g.verdict(T0 + 9)).toMatchObject({mode: 'slow', reason: 'orders 600/1200 per minute'})
    // the 10 s window is over, the minute's too: nothing counts
    expect(g.verdict(T0 + 40_000 + 1).reason).toBe('within limits')
  })
})
