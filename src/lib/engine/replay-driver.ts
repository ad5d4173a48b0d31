/**
 * The replay driver: a virtual clock moved by the recording. Before each market event
 * everything due by its time (report deliveries, decisions, samples, markouts) is run in
 * time order, then the clock is set to the event's venue time and the event handed over.
 * `speed` 'max' runs as fast as the machine goes; a number paces the events at that
 * multiple of real time (the only use of the wall clock here).
 *
 * Input: MarketEvents (a Tardis CSV recording, tests), or raw venue lines (a capture of
 * Binance messages): each line is read once by the byte scanner straight into ticks and
 * steps for the shared book; what the scanner does not handle (or finds malformed) goes
 * through the reader's JSON.parse path (`parse`), and messages the loop does not use (book
 * tickers, …) are skipped after their event type. The input checks (`LineInput.check`, the
 * replay guard) see each market message's receive time and symbol as read here.
 */
import {setImmediate as yieldIo} from 'node:timers/promises'
import {DepthScanner, SCAN_OTHER} from '../book/scan.js'
import {NO_ID} from '../book/sync.js'
import {type Clock, VirtualClock} from '../clock/clock.js'
import type {MarketEvent} from '../market/events.js'
import type {LineBatch, LineCheck, LineDecoder} from '../market/lines.js'
import type {Engine, EngineStatus} from './engine.js'

export interface ReplayOptions {
  /** stop after this much replayed (venue) time */
  durationMs?: number
  /** 'max' or a multiple of real time */
  speed: 'max' | number
  /** polled between batches: true → stop cleanly */
  shouldStop?: () => boolean
  /**
   * told the run's state about once a wall second (`statusEveryMs`) by a timer of the
   * session (src/lib/run/session.ts), never from the loop: the loop only counts
   */
  onStatus?: (s: ReplayStatus) => void
  statusEveryMs?: number
}

/** What the replay's status timer reads (src/lib/run/progress.ts shows it). */
export interface ReplayStatus {
  /** market messages handed to the engine so far */
  events: number
  /** venue time (ms) of the first message; null before it */
  firstMs: number | null
  /** the run clock (ms) */
  nowMs: number
  engine: EngineStatus
}

/** Raw venue lines of one symbol (others are left out). */
export interface LineInput {
  symbol: string
  lines: AsyncIterable<LineBatch> | Iterable<LineBatch>
  /** the input checks (replay guard), told each market message's receive time and symbol */
  check?: LineCheck
}

export type ReplayInput = AsyncIterable<MarketEvent[]> | Iterable<MarketEvent[]> | LineInput

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
   * @param onTick the same for a scanned raw line (no event object is made for those)
   */
  constructor(private readonly wall: Clock, private readonly onEvent?: (ev: MarketEvent, tickMs: number) => void, private readonly onTick?: (tickMs: number) => void) {}

  private first: number | null = null
  private wallStart = 0
  private n = 0

  /** market messages handed to the engine so far (status timer) */
  get events(): number {
    return this.n
  }

  /** venue time (ms) of the first message; null before it */
  get firstMs(): number | null {
    return this.first
  }

  /**
   * Move the clock to a message at venue time `t` (ms): run what is due first. Returns
   * false when the duration is over (the clock is then at its end).
   */
  private async at(e: Engine, t: number, r: ReplayOptions): Promise<boolean> {
    const clock = this.clock
    if (this.first === null) {
      this.first = t
      clock.set(t)
      this.wallStart = this.wall.now()
      e.start()
    }
    const first = this.first
    if (r.durationMs !== undefined && t - first >= r.durationMs) {
      e.runUntil(first + r.durationMs, this.set)
      this.set(first + r.durationMs)
      return false
    }
    if (r.speed !== 'max') {
      const wait = this.wallStart + (t - first) / r.speed - this.wall.now()
      if (wait > 0) await new Promise((res) => setTimeout(res, wait))
    }
    e.runUntil(t, this.set)
    this.set(t)
    return true
  }

  /** Run the engine over the input; the engine is started at the first message. */
  async run(e: Engine, input: ReplayInput, r: ReplayOptions): Promise<ReplayEnd> {
    const reason = 'lines' in input ? await this.runLines(e, input, r) : await this.runEvents(e, input, r)
    return {reason, first: this.first, events: this.n}
  }

  private async runEvents(e: Engine, batches: AsyncIterable<MarketEvent[]> | Iterable<MarketEvent[]>, r: ReplayOptions): Promise<string> {
    const clock = this.clock
    const onEvent = this.onEvent
    const paced = r.speed !== 'max' || r.durationMs !== undefined
    for await (const batch of batches) {
      for (let i = 0; i < batch.length; i++) {
        const ev = batch[i]
        const t = Math.floor(ev.ts / 1000)
        if (paced || this.first === null) {
          if (!(await this.at(e, t, r))) return 'duration'
        } else {
          e.runUntil(t, this.set)
          this.set(t)
        }
        onEvent?.(ev, clock.now())
        e.onMarket(ev)
        if ((++this.n & 0x3fff) === 0) await yieldIo()
      }
      if (r.shouldStop?.()) return 'signal'
    }
    return 'end of data'
  }

  private async runLines(e: Engine, input: LineInput, r: ReplayOptions): Promise<string> {
    const sc = new DepthScanner(e.inst)
    const symbol = input.symbol
    const check = input.check
    const clock = this.clock
    const onEvent = this.onEvent
    const fast = r.speed === 'max' && r.durationMs === undefined
    let decoder: LineDecoder | undefined
    // a REST snapshot line names no symbol: it belongs to the symbol of the message before it
    // (the reader's rule); at the start of a file, to the replayed one
    let lastMine = true
    for await (const b of input.lines) {
      const d = b.decoder
      if (d !== decoder) {
        decoder = d
        lastMine = true
      }
      const lines = b.lines
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]
        if (!d.head(line)) continue
        const code = sc.scan(line, d.start)
        if (code === SCAN_OTHER) continue
        if (code < 0) {
          // FALLBACK (what the scanner does not handle) or BAD (a malformed or off-grid
          // message): the reader's JSON.parse path, whose errors name the file and line
          // and whose events are those of the event path (off-grid: counted, left out)
          const ev = d.parse(line)
          if (ev === null) continue
          const mine = ev.symbol === symbol || ev.symbol.toUpperCase() === symbol
          lastMine = mine
          if (check !== undefined) check.see(ev.localTs, mine)
          if (!mine) continue
          if (!(await this.at(e, Math.floor(ev.ts / 1000), r))) return 'duration'
          onEvent?.(ev, clock.now())
          e.onMarket(ev)
        } else {
          let mine: boolean = lastMine
          if (sc.named) lastMine = mine = sc.symbolIs(symbol)
          if (check !== undefined) check.see(d.localTs, mine)
          if (!mine) continue
          const localTs = d.localTs
          const ts = sc.ts === NO_ID ? localTs : sc.ts
          const t = Math.floor(ts / 1000)
          if (fast && this.first !== null) {
            e.runUntil(t, this.set)
            this.set(t)
          } else if (!(await this.at(e, t, r))) return 'duration'
          this.onTick?.(clock.now())
          e.onScanned(sc, code, ts, localTs)
        }
        if ((++this.n & 0x3fff) === 0) await yieldIo()
      }
      if (r.shouldStop?.()) return 'signal'
    }
    return 'end of data'
  }

  /** After the data: cancel everything and let the venue answer on the virtual clock. */
  finish(e: Engine, reason: string): ReturnType<Engine['finish']> {
    return e.finish(reason, this.set)
  }
}
