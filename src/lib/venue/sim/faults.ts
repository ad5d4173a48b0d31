/**
 * Parsing of the trading fault flags of `mm sim` (docs/sim.md): probabilities, signed
 * durations (clock skew) and the `--rate-limit` spec. One-line UsageErrors naming the flag.
 */
import {parseDuration} from '../../cli/duration.js'
import {UsageError} from '../../domain/errors.js'
import type {RateLimitConfig} from './limits.js'

export function parseProbability(v: string, flag: string): number {
  const n = Number(v)
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new UsageError('E_USAGE', `${flag} ${v}: expected a probability between 0 and 1`)
  return n
}

/** `3s`, `-250ms`, `+1m` → signed ms */
export function parseSignedDuration(v: string, flag: string): number {
  const m = /^\s*([+-]?)(.*)$/.exec(v) as RegExpExecArray
  const ms = parseDuration(m[2], flag)
  return m[1] === '-' ? -ms : ms
}

/** `weight=60,orders10s=5,orders1m=100,ban-after=3,ban=2m` */
export function parseRateLimit(spec: string): Partial<RateLimitConfig> {
  const out: Partial<RateLimitConfig> = {}
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [k, v = ''] = part.split('=', 2).map((s) => s.trim())
    const int = () => {
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError('E_USAGE', `--rate-limit ${k}=${v}: expected a whole number >= 1`)
      return Number(v)
    }
    switch (k) {
      case 'weight': out.weightPerMinute = int(); break
      case 'orders10s': out.ordersPer10s = int(); break
      case 'orders1m': out.ordersPerMinute = int(); break
      case 'ban-after': out.banAfter = int(); break
      case 'ban': out.banMs = parseDuration(v, `--rate-limit ban`); break
      default: throw new UsageError('E_USAGE', `--rate-limit: unknown limit ${JSON.stringify(k)}`, {suggestion: 'use weight=, orders10s=, orders1m=, ban-after=, ban='})
    }
  }
  return out
}
