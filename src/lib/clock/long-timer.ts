/**
 * Timers of any length. Node's setTimeout holds at most 2^31−1 ms (about 24.8 days);
 * a longer delay silently becomes 1 ms. A long timer is a chain of chunks no longer
 * than that, re-armed against the wall clock, so `--duration 25d` (or 1 year) means it.
 */
import {wallClock} from './clock.js'

/** Node's largest timer delay, ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1

export interface LongTimer {
  clear(): void
  /** let the process exit while only this timer is pending (as Timeout.unref) */
  unref(): LongTimer
}

/**
 * Call `fn` once, `ms` from now (any finite length, ≥ 0). `chunkMs` is for tests only:
 * the largest single setTimeout used.
 */
export function setLongTimeout(fn: () => void, ms: number, opts: {now?: () => number; chunkMs?: number} = {}): LongTimer {
  const now = opts.now ?? (() => wallClock.now())
  const chunk = Math.max(1, Math.min(MAX_TIMER_MS, opts.chunkMs ?? MAX_TIMER_MS))
  const due = now() + Math.max(0, ms)
  let t: NodeJS.Timeout | undefined
  let unrefd = false
  let cleared = false
  const arm = () => {
    if (cleared) return
    const left = due - now()
    if (left <= 0) {
      t = undefined
      fn()
      return
    }
    t = setTimeout(arm, Math.min(left, chunk))
    if (unrefd) t.unref()
  }
  arm()
  return {
    clear() {
      cleared = true
      if (t) clearTimeout(t)
      t = undefined
    },
    unref() {
      unrefd = true
      t?.unref()
      return this
    },
  }
}

/** A promise that resolves after `ms` (any length), or at once when `signal` aborts. */
export function sleepLong(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve()
    const done = () => {
      timer.clear()
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setLongTimeout(done, ms)
    signal?.addEventListener('abort', done, {once: true})
  })
}
