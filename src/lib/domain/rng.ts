/**
 * Seeded pseudo-random numbers for the synthetic market and anything else that must be
 * reproducible (no Math.random anywhere in the core).
 *
 * Generator: xoshiro128** 1.1 (Blackman & Vigna), 128-bit state, 32-bit outputs, period
 * 2^128 − 1. The state is filled from the seed with splitmix32 so that nearby seeds give
 * unrelated streams and the all-zero state cannot occur.
 *
 * All arithmetic is 32-bit integer (Math.imul, shifts), so the integer stream is
 * identical on every JavaScript engine. The float draws (normal, exponential, lognormal)
 * go through Math.log / Math.sqrt / Math.cos, which are exact or engine-defined; V8 uses
 * the same fdlibm port on every platform, so a given Node version reproduces them bit for
 * bit.
 */
import {UsageError} from './errors.js'

const TWO_POW_32 = 4294967296
const INV_TWO_POW_32 = 1 / TWO_POW_32
const INV_TWO_POW_53 = 1 / 9007199254740992

/** splitmix32 step: returns [next state, output]. Used only to seed. */
function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) | 0
  let z = s
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  z ^= z >>> 16
  return [s, z >>> 0]
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

/** Fold any safe integer seed (negative or above 2^32 too) into 32 bits. */
export function foldSeed(seed: number): number {
  if (!Number.isSafeInteger(seed)) throw new UsageError('E_SEED', `seed must be a safe integer, got ${seed}`)
  const lo = seed >>> 0
  const hi = Math.floor(seed / TWO_POW_32) >>> 0
  return (lo ^ Math.imul(hi, 0x9e3779b1)) >>> 0
}

export class Rng {
  private s0: number
  private s1: number
  private s2: number
  private s3: number
  /** second Box–Muller value, kept for the next normal() */
  private spare = 0
  private hasSpare = false

  /**
   * `new Rng(seed)` seeds through splitmix32. `Rng.fromState` sets the four state words
   * directly (reference vectors, tests).
   */
  constructor(seed: number) {
    let st = foldSeed(seed)
    const w: number[] = []
    for (let i = 0; i < 4; i++) {
      const [ns, out] = splitmix32(st)
      st = ns
      w.push(out)
    }
    this.s0 = w[0] | 0
    this.s1 = w[1] | 0
    this.s2 = w[2] | 0
    this.s3 = w[3] | 0
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s3 = 1
  }

  static fromState(a: number, b: number, c: number, d: number): Rng {
    const r = new Rng(0)
    r.s0 = a | 0
    r.s1 = b | 0
    r.s2 = c | 0
    r.s3 = d | 0
    if ((r.s0 | r.s1 | r.s2 | r.s3) === 0) throw new UsageError('E_SEED', 'xoshiro128** state must not be all zero')
    return r
  }

  /** An independent stream for a named purpose, derived from this seed and a label number. */
  static derive(seed: number, stream: number): Rng {
    const base = foldSeed(seed)
    return new Rng((base ^ Math.imul((stream + 1) >>> 0, 0x632be5ab)) >>> 0)
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const s0 = this.s0
    const s1 = this.s1
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9)
    const t = s1 << 9
    this.s2 ^= s0
    this.s3 ^= s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 11)
    return result >>> 0
  }

  /** Uniform in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.nextU32() >>> 5 // 27 bits
    const lo = this.nextU32() >>> 6 // 26 bits
    return (hi * 67108864 + lo) * INV_TWO_POW_53
  }

  /** Uniform in (0, 1]: safe to take the log of. */
  floatOpen0(): number {
    return (this.nextU32() + 1) * INV_TWO_POW_32
  }

  /** Uniform integer in [0, n), n ≥ 1 and ≤ 2^32, without modulo bias. */
  int(n: number): number {
    if (!(n >= 1 && n <= TWO_POW_32 && Number.isInteger(n))) throw new UsageError('E_RNG', `int(n) needs an integer 1..2^32, got ${n}`)
    const limit = TWO_POW_32 - (TWO_POW_32 % n)
    for (;;) {
      const x = this.nextU32()
      if (x < limit) return x % n
    }
  }

  /** true with probability p. */
  bernoulli(p: number): boolean {
    return this.float() < p
  }

  /** Standard normal (Box–Muller; both values are used). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false
      return this.spare
    }
    const u1 = this.floatOpen0()
    const u2 = this.float()
    const r = Math.sqrt(-2 * Math.log(u1))
    const th = 2 * Math.PI * u2
    this.spare = r * Math.sin(th)
    this.hasSpare = true
    return r * Math.cos(th)
  }

  /** Exponential with the given mean (mean > 0). */
  exponential(mean: number): number {
    return -Math.log(this.floatOpen0()) * mean
  }

  /** Lognormal: exp(mu + sd·Z); `median` = e^mu. */
  lognormal(median: number, logSd: number): number {
    return median * Math.exp(logSd * this.normal())
  }

  /** Poisson count with mean lambda (Knuth's product method; meant for lambda ≲ 30). */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0
    const l = Math.exp(-lambda)
    let k = 0
    let p = this.floatOpen0()
    while (p > l) {
      k++
      p *= this.floatOpen0()
    }
    return k
  }

  /** Geometric count of failures before the first success, with the given mean (≥ 0). */
  geometric(mean: number): number {
    if (mean <= 0) return 0
    const q = mean / (1 + mean) // P(another failure)
    return Math.floor(Math.log(this.floatOpen0()) / Math.log(q))
  }
}
