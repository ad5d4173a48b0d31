/**
 * Queue-position models for a resting order (after hftbacktest's models, restated).
 *
 * `front` is the displayed quantity ahead of our order, in lot steps. It may become
 * fractional under the probabilistic model (it is an estimate, not money); fills are
 * always whole steps, rounded down.
 */
import type {Steps} from '../../domain/instrument.js'

export interface QueuePos {
  /** steps ahead of the order; < 0 means the order can fill −front (rounded down) */
  front: number
  /** trade quantity counted at this price since the last depth change (probabilistic model) */
  tradedSinceDepth: number
}

export interface QueueModel {
  readonly name: string
  /** a new order joins the back of the queue: everything displayed at its price is ahead */
  join(displayed: Steps): QueuePos
  /** a trade of `qty` at the order's price */
  trade(q: QueuePos, qty: Steps): void
  /**
   * the displayed quantity at the order's price went from `prev` to `next`. Leaves
   * `front >= 0`: a shrinking level (cancels) can bring the order to the front of the
   * queue, never fill it — only trades fill.
   */
  depth(q: QueuePos, prev: Steps, next: Steps): void
}

/**
 * Risk-averse: only trades at the price advance the order; a shrinking level can only cap
 * `front` at the new displayed quantity (cancels are assumed to be behind us).
 */
export class ConservativeQueue implements QueueModel {
  readonly name = 'conservative'

  join(displayed: Steps): QueuePos {
    return {front: displayed, tradedSinceDepth: 0}
  }

  trade(q: QueuePos, qty: Steps): void {
    q.front -= qty
    q.tradedSinceDepth += qty
  }

  depth(q: QueuePos, _prev: Steps, next: Steps): void {
    q.tradedSinceDepth = 0
    q.front = Math.max(0, Math.min(q.front, next))
  }
}

/** f used by the probabilistic model: p = f(back) / (f(back) + f(front)). */
export type QueueProbFn = (x: number) => number

/** f(x) = x^n on steps (scale-free, so the unit does not matter). */
export function powerProb(n = 2): QueueProbFn {
  if (n === 2) return (x) => x * x
  return (x) => Math.pow(x, n)
}

/**
 * f(x) = ln(1 + x) on base-asset quantity (hftbacktest applies it to the raw quantity, not
 * to lots): `unit` is the base quantity of one step (e.g. 0.001 for ETHUSDC).
 */
export function logProb(unit = 1): QueueProbFn {
  return (x) => Math.log1p(x * unit)
}

/**
 * Probabilistic: a decrease of the level that trades do not explain (cancels) happens
 * behind us with probability p = f(back)/(f(back)+f(front)), where back = prev − front;
 * `front = min(new, front − (1−p)·chg + min(back − p·chg, 0))`. Growth never moves `front`
 * except capping it at the new quantity.
 */
export class ProbQueue implements QueueModel {
  readonly name: string
  private readonly f: QueueProbFn

  constructor(f: QueueProbFn, name = 'probabilistic') {
    this.f = f
    this.name = name
  }

  join(displayed: Steps): QueuePos {
    return {front: displayed, tradedSinceDepth: 0}
  }

  trade(q: QueuePos, qty: Steps): void {
    q.front -= qty
    q.tradedSinceDepth += qty
  }

  depth(q: QueuePos, prev: Steps, next: Steps): void {
    const chg = prev - next - q.tradedSinceDepth
    q.tradedSinceDepth = 0
    if (chg <= 0) {
      q.front = Math.max(0, Math.min(q.front, next))
      return
    }
    const front = q.front
    const back = prev - front
    const fb = this.f(Math.max(back, 0))
    const ff = this.f(Math.max(front, 0))
    const den = fb + ff
    const p = den > 0 && Number.isFinite(den) ? fb / den : 1
    const est = front - (1 - p) * chg + Math.min(back - p * chg, 0)
    q.front = Math.max(0, Math.min(est, next))
  }
}

export type QueueModelName = 'conservative' | 'prob-power' | 'prob-log'

export function makeQueueModel(name: QueueModelName, opts: {power?: number; logUnit?: number} = {}): QueueModel {
  switch (name) {
    case 'conservative':
      return new ConservativeQueue()
    case 'prob-power':
      return new ProbQueue(powerProb(opts.power ?? 2), `prob-power(${opts.power ?? 2})`)
    case 'prob-log':
      return new ProbQueue(logProb(opts.logUnit ?? 1), 'prob-log')
  }
}
