/**
 * Exact conversion between venue decimal strings and scaled integers.
 * No floats are involved in either direction: parsing walks the characters,
 * formatting inserts the decimal point into the integer's digits.
 */
import {Decimal} from 'decimal.js'
import {GridError} from './errors.js'

export type Rounding = 'down' | 'up' | 'exact'

const DEC_RE = /^(\d+)(?:\.(\d*))?$/

/** Count the digits after the decimal point of a normalised decimal string ("0.0100" → 2). */
export function significantDecimals(s: string): number {
  const m = DEC_RE.exec(s.trim())
  if (!m) throw new GridError(`not a non-negative decimal: ${JSON.stringify(s)}`)
  const frac = (m[2] ?? '').replace(/0+$/, '')
  return frac.length
}

/**
 * Parse a non-negative decimal string into an integer scaled by 10^decimals.
 * Digits beyond `decimals` must be zero when rounding is 'exact'; otherwise they round
 * the result down or up. Throws GridError for anything that is not a plain decimal.
 */
export function parseScaled(s: string, decimals: number, rounding: Rounding = 'exact'): number {
  const len = s.length
  let i = 0
  let v = 0
  let seenDigit = false
  for (; i < len; i++) {
    const c = s.charCodeAt(i)
    if (c === 46 /* . */) break
    if (c < 48 || c > 57) throw new GridError(`not a non-negative decimal: ${JSON.stringify(s)}`)
    v = v * 10 + (c - 48)
    seenDigit = true
  }
  let fracDigits = 0
  let remainderNonZero = false
  if (i < len) {
    i++ // skip '.'
    for (; i < len; i++) {
      const c = s.charCodeAt(i)
      if (c < 48 || c > 57) throw new GridError(`not a non-negative decimal: ${JSON.stringify(s)}`)
      seenDigit = true
      if (fracDigits < decimals) {
        v = v * 10 + (c - 48)
        fracDigits++
      } else if (c !== 48) {
        remainderNonZero = true
      }
    }
  }
  if (!seenDigit) throw new GridError(`not a non-negative decimal: ${JSON.stringify(s)}`)
  for (; fracDigits < decimals; fracDigits++) v *= 10
  if (!Number.isSafeInteger(v)) throw new GridError(`decimal too large for exact integer arithmetic: ${s}`)
  if (remainderNonZero) {
    if (rounding === 'exact') throw new GridError(`${s} has more than ${decimals} decimals`)
    if (rounding === 'up') v += 1
  }
  return v
}

/** Format an integer scaled by 10^decimals as a decimal string with exactly `decimals` places. */
export function formatScaled(v: number, decimals: number): string {
  if (!Number.isSafeInteger(v)) throw new GridError(`not a safe integer: ${v}`)
  const neg = v < 0
  let digits = String(neg ? -v : v)
  if (decimals === 0) return (neg ? '-' : '') + digits
  if (digits.length <= decimals) digits = '0'.repeat(decimals - digits.length + 1) + digits
  const cut = digits.length - decimals
  return (neg ? '-' : '') + digits.slice(0, cut) + '.' + digits.slice(cut)
}

/** Divide with explicit rounding; both integers, d > 0. */
export function divRound(n: number, d: number, rounding: Rounding): number {
  let q = Math.floor(n / d)
  let r = n - q * d
  // n / d is a float: correct a possible off-by-one at the edges of exactness
  if (r < 0) { q -= 1; r += d } else if (r >= d) { q += 1; r -= d }
  if (r === 0) return q
  if (rounding === 'exact') throw new GridError(`${n} is not a multiple of ${d}`)
  return rounding === 'down' ? q : q + 1
}

/**
 * decimal.js for money in reports and logs: 60 significant digits and never exponent
 * notation, so `toString()` is always the plain exact decimal ("0.00000001", not "1e-8").
 */
export const PlainDecimal = Decimal.clone({precision: 60, toExpNeg: -9e15, toExpPos: 9e15})
export type PlainDecimal = InstanceType<typeof PlainDecimal>
