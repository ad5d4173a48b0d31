/**
 * Order latency models: entry (strategy → matching engine) and response (matching engine →
 * strategy), both in ms. Constant latency is the minimum; `InterpolatedLatency` replays
 * latencies measured live (request sent / ack received) by linear interpolation in time.
 */
import type {OrderAction} from '../../domain/orders.js'
import {ConfigError} from '../../domain/errors.js'

export interface LatencyModel {
  /** ms between sending `action` at `sentAt` (engine clock) and the venue receiving it */
  entry(sentAt: number, action: OrderAction): number
  /** ms between the venue producing a report at `venueTs` and the strategy receiving it */
  response(venueTs: number): number
}

export class ConstantLatency implements LatencyModel {
  constructor(readonly entryMs: number, readonly responseMs: number) {
    if (!(entryMs >= 0) || !(responseMs >= 0)) throw new ConfigError('E_CONFIG', `latencies must be >= 0 ms, got entry ${entryMs}, response ${responseMs}`)
  }

  entry(): number {
    return this.entryMs
  }

  response(): number {
    return this.responseMs
  }
}

/** One measured round trip: at `ts` (ms) an order took `entryMs` to reach the venue and `responseMs` to come back. */
export interface LatencySample {
  ts: number
  entryMs: number
  responseMs: number
}

/** Linear interpolation between samples sorted by ts; clamped to the first/last sample outside. */
export class InterpolatedLatency implements LatencyModel {
  private readonly s: LatencySample[]

  constructor(samples: readonly LatencySample[]) {
    if (samples.length === 0) throw new ConfigError('E_CONFIG', 'InterpolatedLatency needs at least one sample')
    this.s = [...samples].sort((a, b) => a.ts - b.ts)
    for (const x of this.s) {
      if (!(x.entryMs >= 0) || !(x.responseMs >= 0)) throw new ConfigError('E_CONFIG', `negative latency sample at ts ${x.ts}`)
    }
  }

  entry(sentAt: number): number {
    return this.at(sentAt, 'entryMs')
  }

  response(venueTs: number): number {
    return this.at(venueTs, 'responseMs')
  }

  private at(t: number, k: 'entryMs' | 'responseMs'): number {
    const s = this.s
    if (t <= s[0].ts) return s[0][k]
    const last = s[s.length - 1]
    if (t >= last.ts) return last[k]
    let lo = 0
    let hi = s.length - 1
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1
      if (s[mid].ts <= t) lo = mid
      else hi = mid
    }
    const a = s[lo]
    const b = s[hi]
    if (b.ts === a.ts) return b[k]
    return a[k] + ((b[k] - a[k]) * (t - a.ts)) / (b.ts - a.ts)
  }
}
