/**
 * The replay driver: a virtual clock moved by the recording. Before each market event
 * everything due by its time (report deliveries, decisions, samples, markouts) is run in
 * time order, then the clock is set to the event's venue time and the event handed over.
 * `speed` 'max' runs as fast as the machine goes; a number paces the events at that
 * multiple of real time (the only use of the wall clock here).
 */
import {setImmediate as yieldIo} from 'node:timers/promises'
import {type Clock, VirtualClock} from '../clock/clock.js'
import type {MarketEvent} from '../market/events.js'
import type {Engine} from './engine.js'

export interface ReplayOptions {
  /** stop after this much replayed (venue) time */
  durationMs?: number
  /** 'max' or a multiple of real time */
  speed: 'max' | number
  /** polled between batches: true → stop cleanly */
  shouldStop?: () => boolean
  onProgress?: (p: {events: number; t: number}) => void
}

export interface ReplayEnd {
  /** 'end of data', 'duration' or 'signal' */
  reason: string
  /** venue time (ms) of the first event; null when the source had none */
  first: number | null
  events: number
}

export class ReplayDriver {
  readonly clock = new VirtualClock(0)
  private readonly set = (ms: number) => this.clock.set(ms)

  /**
   * @param wall the wall clock, read only to pace `speed` < max
   * @param onEvent told each event with its time on the run clock (metrics), before the engine
   */
  constructor(private readonly wall: Clock, private readonly onEvent?: (ev: MarketEvent, tickMs: number) => void) {}

  /** Run the engine over the batches; the engine is started at the first event. */
  async run(e: Engine, batches: AsyncIterable<MarketEvent[]> | Iterable<MarketEvent[]>, r: ReplayOptions): Promise<ReplayEnd> {
    const clock = this.clock
    const set = this.set
    const onEvent = this.onEvent
    let first: number | null = null
    let reason = 'end of data'
    let n = 0
    let wallStart = 0
    loop: for await (const batch of batches) {
      for (let i = 0; i < batch.length; i++) {
        const ev = batch[i]
        const t = Math.floor(ev.ts / 1000)
        if (first === null) {
          first = t
          clock.set(t)
          wallStart = this.wall.now()
          e.start()
        }
        if (r.durationMs !== undefined && t - first >= r.durationMs) {
          e.runUntil(first + r.durationMs, set)
          set(first + r.durationMs)
          reason = 'duration'
          break loop
        }
        if (r.speed !== 'max') {
          const wait = wallStart + (t - first) / r.speed - this.wall.now()
          if (wait > 0) await new Promise((res) => setTimeout(res, wait))
        }
        e.runUntil(t, set)
        set(t)
        onEvent?.(ev, clock.now())
        e.onMarket(ev)
        if ((++n & 0x3fff) === 0) {
          r.onProgress?.({events: n, t})
          await yieldIo()
        }
      }
      if (r.shouldStop?.()) {
        reason = 'signal'
        break
      }
    }
    return {reason, first, events: n}
  }

  /** After the data: cancel everything and let the venue answer on the virtual clock. */
  finish(e: Engine, reason: string): ReturnType<Engine['finish']> {
    return e.finish(reason, this.set)
  }
}
