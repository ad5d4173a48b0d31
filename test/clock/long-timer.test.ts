import {afterEach, describe, expect, it, vi} from 'vitest'
import {MAX_TIMER_MS, setLongTimeout, sleepLong} from '../../src/lib/clock/long-timer.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('setLongTimeout: delays past Node 24.8-day timer limit', () => {
  it('25 days fires after 25 days, not after 1 ms', () => {
    vi.useFakeTimers({now: 0})
    let firedAt: number | undefined
    setLongTimeout(() => (firedAt = Date.now()), 25 * 86_400_000)
    vi.advanceTimersByTime(1000)
    expect(firedAt).toBeUndefined()
    vi.advanceTimersByTime(MAX_TIMER_MS)
    expect(firedAt).toBeUndefined()
    vi.advanceTimersByTime(25 * 86_400_000 - MAX_TIMER_MS - 1000 - 1)
    expect(firedAt).toBeUndefined()
    vi.advanceTimersByTime(1)
    expect(firedAt).toBe(25 * 86_400_000)
  })

  it('chunks by chunkMs and can be cleared between chunks', () => {
    vi.useFakeTimers({now: 0})
    let fired = 0
    const t = setLongTimeout(() => fired++, 1000, {chunkMs: 100})
    vi.advanceTimersByTime(550)
    t.clear()
    vi.advanceTimersByTime(10_000)
    expect(fired).toBe(0)
    setLongTimeout(() => fired++, 1000, {chunkMs: 100})
    vi.advanceTimersByTime(1000)
    expect(fired).toBe(1)
  })

  it('sleepLong resolves at once on abort', async () => {
    const ac = new AbortController()
    const p = sleepLong(365 * 86_400_000, ac.signal)
    ac.abort()
    await expect(p).resolves.toBeUndefined()
  })
})
