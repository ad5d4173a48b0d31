/**
 * The one retry pace of every reconnect and resync (WebSocket reconnects, depth snapshot
 * re-fetches, REST retries): capped exponential backoff with jitter, randomness injected
 * (seeded in tests), and a reset only once a success has *held* for `stableMs`: a venue
 * that accepts every connection and closes it at once, or a stream whose every diff is
 * bad, gets the backoff's pace, not a storm of reconnects or snapshot calls.
 */
import {wallClock} from '../clock/clock.js'

export interface BackoffOptions {
  /** first delay (the jitter makes it base/2 … base), ms; default 250 */
  baseMs?: number
  /** cap, ms; default 30 000 */
  maxMs?: number
  /** a success that held this long resets the pace, ms; default 30 000 */
  stableMs?: number
  /** uniform in [0, 1); default Math.random (inject a seeded one in tests) */
  random?: () => number
  now?: () => number
}

/** Delay of attempt `attempt` (0-based): min(max, base·2^attempt), half of it jittered ("equal jitter"). */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const capped = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30))
  return Math.round(capped / 2 + (capped / 2) * random())
}

export class Backoff {
  /** attempts since the last reset */
  attempts = 0
  private okAt?: number
  readonly baseMs: number
  readonly maxMs: number
  readonly stableMs: number
  private readonly random: () => number
  private readonly now: () => number

  constructor(o: BackoffOptions = {}) {
    this.baseMs = o.baseMs ?? 250
    this.maxMs = o.maxMs ?? 30_000
    this.stableMs = o.stableMs ?? 30_000
    this.random = o.random ?? Math.random
    this.now = o.now ?? (() => wallClock.now())
  }

  /** The delay before the next attempt (and count it). */
  next(): number {
    if (this.okAt !== undefined && this.now() - this.okAt >= this.stableMs) this.attempts = 0
    this.okAt = undefined
    return backoffDelay(this.attempts++, this.baseMs, this.maxMs, this.random)
  }

  /** An attempt succeeded (connected, synced); the pace resets if it holds for stableMs. */
  ok(): void {
    this.okAt ??= this.now()
  }

  /** Start over (a deliberate stop, not a failure). */
  reset(): void {
    this.attempts = 0
    this.okAt = undefined
  }
}
