import {UsageError} from '../domain/errors.js'

const UNITS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

/** Parse `30s`, `5m`, `1h`, `1d`, `250ms` or a bare number of seconds into milliseconds. */
export function parseDuration(input: string, what = 'duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(input)
  if (!m) throw new UsageError('E_DURATION', `${what}: ${JSON.stringify(input)} is not a duration`, {suggestion: 'use e.g. 30s, 5m, 1h, 1d (a bare number is seconds)'})
  const ms = Number(m[1]) * UNITS[m[2] ?? 's']
  if (!Number.isFinite(ms) || ms <= 0) throw new UsageError('E_DURATION', `${what}: ${JSON.stringify(input)} must be greater than zero`)
  return Math.round(ms)
}
