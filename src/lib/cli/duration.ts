import {UsageError} from '../domain/errors.js'

const UNITS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

/** The longest duration accepted: the end of JavaScript's date range from the epoch (~273,790 years). */
export const MAX_DURATION_MS = 8.64e15

/**
 * Parse `30s`, `5m`, `1h`, `1d`, `250ms`, `400d` or a bare number of seconds into
 * milliseconds. Any length is fine (timers longer than Node's 24.8-day limit are chunked,
 * see clock/long-timer.ts); the error names `what` (the flag) and the value.
 */
export function parseDuration(input: string, what = 'duration', opts: {minMs?: number} = {}): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(input)
  if (!m) throw new UsageError('E_DURATION', `${what}: ${JSON.stringify(input)} is not a duration`, {suggestion: 'use e.g. 30s, 5m, 1h, 1d (a bare number is seconds)'})
  const ms = Number(m[1]) * UNITS[m[2] ?? 's']
  if (!Number.isFinite(ms) || Math.round(ms) <= 0) throw new UsageError('E_DURATION', `${what}: ${JSON.stringify(input)} must be greater than zero`)
  if (ms > MAX_DURATION_MS) throw new UsageError('E_DURATION', `${what}: ${JSON.stringify(input)} is too long (at most 100000000d)`)
  if (opts.minMs !== undefined && ms < opts.minMs) throw new UsageError('E_DURATION', `${what}: ${JSON.stringify(input)} must be at least ${fmtMin(opts.minMs)}`)
  return Math.round(ms)
}

function fmtMin(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`
  if (ms % 60_000 === 0) return `${ms / 60_000}m`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}
