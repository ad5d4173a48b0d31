/**
 * 3.5, the instant retry bounded per side and per window (issue 12): instantRetryMax
 * retries on a side within instantRetryWindowMs; the other side has its own budget.
 */
import {describe, expect, it} from 'vitest'
import {initialStrategyState, onPostOnlyReject, type StrategyState} from '../../src/lib/strategy/index.js'
import {cfgOf, intent} from './support.js'

const cfg = cfgOf({degradeMs: 0, instantRetryMax: 2, instantRetryWindowMs: 10_000})
const bid = intent('dyn:BUY:0', 9990, 10)
const ask = intent('dyn:SELL:0', 10010, 10)

function rejects(times: number[], order = bid, c = cfg, s0: StrategyState = initialStrategyState()): {retried: number[]; state: StrategyState; details: string[]} {
  let s = s0
  const retried: number[] = []
  const details: string[] = []
  for (const t of times) {
    const r = onPostOnlyReject(s, order, t, c)
    s = r.state
    if (r.intents.length > 0) {
      expect(r.intents).toEqual([{...order, tif: 'GTC'}])
      retried.push(t)
    }
    details.push(r.events[0].detail as string)
  }
  return {retried, state: s, details}
}

describe('3.5 instant retry: bounded per side and per window', () => {
  it('two retries within 10 s, the third -5022 is not retried; each retry leaving the window frees one', () => {
    const r = rejects([0, 100, 200, 9_999, 10_000, 10_100, 10_101])
    // 0 and 100 retried; 200 and 9999 capped; at 10000 the retry at 0 has left the window (kept: t > now − 10000),
    // at 10100 the one at 100; 10101 is capped again
    expect(r.retried).toEqual([0, 100, 10_000, 10_100])
    expect(r.details[2]).toBe('dyn:BUY:0 at 9990 rejected as post-only (3 counted); no instant retry (2 on this side within 10000 ms, cap 2)')
    expect(r.state.buy.retryTimes).toEqual([10_000, 10_100])
  })

  it('each side has its own budget', () => {
    const b = rejects([0, 1, 2])
    const a = rejects([3, 4], ask, cfg, b.state)
    expect(b.retried).toEqual([0, 1])
    expect(a.retried).toEqual([3, 4])
  })

  it('instantRetryMax 0: never; the static layer and GTC orders are never retried and use no budget', () => {
    expect(rejects([0, 1], bid, cfgOf({degradeMs: 0, instantRetryMax: 0})).retried).toEqual([])
    const st = rejects([0, 1, 2], intent('static:BUY:0', 9990, 5))
    expect(st.retried).toEqual([])
    expect(st.state.buy.retryTimes).toEqual([])
  })

  it('an older checkpoint without retryTimes starts with an empty budget', () => {
    const s = initialStrategyState()
    const {retryTimes: _, ...buy} = s.buy
    expect(rejects([5, 6, 7], bid, cfg, {...s, buy} as StrategyState).retried).toEqual([5, 6])
  })
})
