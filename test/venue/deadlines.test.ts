import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {Deadlines} from '../../src/lib/venue/binance/gateway.js'

// the gateway's request deadlines: one timer, a signal per ≤ 50 ms slice, never early
describe('gateway request deadlines (one timer)', () => {
  let now = 1000
  beforeEach(() => {
    now = 1000
    vi.useFakeTimers({toFake: ['setTimeout', 'clearTimeout']})
  })
  afterEach(() => {
    vi.useRealTimers()
  })
  /** move the fake clock and the fake timers together */
  const advance = (ms: number) => {
    now += ms
    vi.advanceTimersByTime(ms)
  }
  const flushMicrotasks = () => Promise.resolve()

  it('a request aborts no sooner than its timeout and within the slice after it, as a TimeoutError', async () => {
    const d = new Deadlines(() => now)
    const a = d.signal(5000)
    await flushMicrotasks()
    advance(30)
    const b = d.signal(5000) // same 50 ms slice: same signal
    expect(b).toBe(a)
    advance(4999 - 30)
    expect(a.aborted).toBe(false) // 4999 ms after the first request
    advance(30)
    expect(a.aborted).toBe(false) // the second request (started at +30) has had 4999 ms
    advance(22)
    expect(a.aborted).toBe(true) // 5051 ms: past the slice's deadline (5000 + 50)
    expect((a.reason as Error).name).toBe('TimeoutError')
    d.close()
  })

  it('a request after the slice gets a new signal with its own full timeout; one timer for all', async () => {
    const d = new Deadlines(() => now)
    const signals: AbortSignal[] = []
    for (let i = 0; i < 20; i++) {
      signals.push(d.signal(5000))
      await flushMicrotasks()
      advance(100)
    }
    expect(new Set(signals).size).toBe(20)
    expect(vi.getTimerCount()).toBe(1)
    // at t0 + 5050 the first fires; the one started 100 ms later has not
    advance(5050 - 2000)
    expect(signals.map((s) => s.aborted)).toEqual(signals.map((_, i) => i === 0))
    advance(100)
    expect(signals.filter((s) => s.aborted).length).toBe(2)
    advance(2000)
    expect(signals.every((s) => s.aborted)).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
    // idle, then a request again: the timer is armed again
    const late = d.signal(5000)
    expect(vi.getTimerCount()).toBe(1)
    advance(5049)
    expect(late.aborted).toBe(false)
    advance(1)
    expect(late.aborted).toBe(true)
    d.close()
  })

  it('a short timeout has a slice of a tenth of it; close stops the timer and nothing fires after', async () => {
    const d = new Deadlines(() => now)
    const a = d.signal(150)
    advance(14)
    expect(d.signal(150)).toBe(a)
    advance(1)
    const b = d.signal(150) // 15 ms: the slice (15 ms) is over
    expect(b).not.toBe(a)
    advance(150)
    expect([a.aborted, b.aborted]).toEqual([true, false])
    d.close()
    expect(vi.getTimerCount()).toBe(0)
    advance(1000)
    expect(b.aborted).toBe(false)
  })
})
