/**
 * The live driver: the system clock, woken by
 *  - every market message: the feed keeps the one book of the symbol and says when a
 *    message is about to change it (`before-book`: the paper venue decides in-flight
 *    orders on the book as it was) and when it did (`book`); trades come in ticks/steps
 *    (`trade`); a MarketEvent in strings (`event`) is converted by the engine; and a lost
 *    book (`gap` / `resync`);
 *  - every venue report, at once: the report queue tells the driver of each push and the
 *    loop runs in the same turn of the event loop (a microtask), never waiting for the
 *    next market message or a timer;
 *  - a timer at the engine's next due time (decision refresh, sample, markout, a paper
 *    venue's simulated latency), at most `maxSleepMs` away.
 * Stopping: no more decisions, every order cancelled, then the driver waits until no
 * order is working (or `stopBoundMs` passes), runs `beforeEnd` (reports still taken), and
 * the engine writes run_end.
 *
 * The driver owns the timers; the engine owns none and reads only the Clock it was given.
 */
import {type DepthScanner, SCAN_TRADE} from '../book/scan.js'
import type {DepthResult} from '../book/sync.js'
import type {Clock} from '../clock/clock.js'
import {type LongTimer, setLongTimeout} from '../clock/long-timer.js'
import type {MarketEvent} from '../market/events.js'
import type {ReportQueue} from '../venue/types.js'
import type {Engine, EngineStatus} from './engine.js'

/** A live market-data source as the driver sees it (the Binance feed, or a test stub). */
export interface LiveMarketSource {
  /** a MarketEvent in strings (a test stub's book messages, a trade read by JSON.parse): the engine converts it */
  on(ev: 'event', fn: (e: MarketEvent) => void): unknown
  /** a frame arrived, not read yet (optional: a source that never says so leaves due work to the other events and the timer) */
  on(ev: 'arrive', fn: (localTs: number) => void): unknown
  /** the source keeps the one book: a message of venue time `ts` µs is about to change it */
  on(ev: 'before-book', fn: (ts: number) => void): unknown
  /** … and was applied to it */
  on(ev: 'book', fn: (r: DepthResult, ts: number, localTs: number) => void): unknown
  /** a trade held by the scanner in ticks/steps */
  on(ev: 'trade', fn: (sc: DepthScanner, ts: number, localTs: number) => void): unknown
  on(ev: 'fatal', fn: (err: Error) => void): unknown
  on(ev: 'gap' | 'resync', fn: (info: {symbol: string; reason: string}) => void): unknown
  /** a market-data connection went down (optional: logged) */
  on(ev: 'reconnect', fn: (info: {route: string; reason: string}) => void): unknown
  /** the source carries on after a problem (a snapshot fetch failed, …) (optional: logged) */
  on(ev: 'warn', fn: (message: string) => void): unknown
  /** a frame that could not be used (optional: logged, thinned) */
  on(ev: 'bad', fn: (info: {symbol?: string; detail: string}) => void): unknown
  /** resolves once the book is in sync; rejects when the venue cannot be reached */
  start(): Promise<void>
  stop(): Promise<void>
  stats(): {resyncs: number; reconnects: number}
}

export interface LiveDriverOptions {
  /** the system clock (the engine's) */
  clock: Clock
  /** the queue the venue pushes its reports into (the engine's) */
  reports: ReportQueue
  /** stop after this long (wall time) */
  durationMs?: number
  /** resolves with a reason when the operator asks to stop */
  stop: Promise<string>
  /** longest wait for open orders to be gone after the stop's cancels (default 5000 ms) */
  stopBoundMs?: number
  /**
   * awaited once the stop's cancels have settled (or their bound passed), while venue
   * reports still reach the engine, before run_end: live, the read-back of fills an answer
   * showed and the stream did not tell (live.ts); it bounds its own time
   */
  beforeEnd?: () => Promise<void>
  /** longest sleep between wake-ups without any message (default 1000 ms) */
  maxSleepMs?: number
  /**
   * live: once a re-price is due within this long (ms), the engine runs the decision path
   * ahead once on a later turn, its result dropped (`Engine.preWarm`), so that the path's
   * code and data are in the CPU caches when the frame that decides arrives; 0/absent: off
   */
  preWarmMs?: number
  /** told each market message with its receive time (ms), before the engine */
  onEvent?: (tickMs: number) => void
  onSynced?: () => void
  /** told the engine's status about once a wall second (`progressMs`), by a timer */
  onProgress?: (s: EngineStatus) => void
  progressMs?: number
}

export interface LiveEnd {
  reason: string
  /** the feed's fatal error, when that ended the run */
  fatal: Error | null
  /** true when orders were still working when the stop bound passed */
  stopTimedOut: boolean
}

export class LiveDriver {
  private timer: ReturnType<typeof setTimeout> | undefined
  /** clock time (ms) the pending timer fires at */
  private timerAt = 0
  private wakeQueued = false
  private stopping = false
  private settled: (() => void) | undefined
  /** wake-ups caused by a venue report (tests, metrics) */
  reportWakes = 0

  constructor(private readonly e: Engine, private readonly o: LiveDriverOptions) {}

  private readonly noop = (): void => {}
  private preWarmQueued = false
  private readonly runPreWarm = (): void => {
    this.preWarmQueued = false
    if (this.e.preWarmDue(this.o.preWarmMs ?? 0)) this.e.preWarm()
  }

  /** Run everything due by now, then re-arm the timer. */
  private wake = (): void => {
    this.wakeQueued = false
    this.e.runUntil(this.o.clock.now(), this.noop)
    if (this.stopping && this.e.openOrders === 0) this.settled?.()
    this.arm()
  }

  /** The timer fired: it is gone; run what is due. (A wake-up by a report leaves the timer standing.) */
  private onTimer = (): void => {
    this.timer = undefined
    this.wake()
  }

  /** Run what is due now (a control request just queued in the engine, …) and re-arm. */
  wakeNow(): void {
    this.wake()
  }

  /**
   * Keep a timer for the engine's next due time. Called after every message: a timer
   * already set to fire no later than needed is kept (an early wake-up is harmless), so
   * the usual message costs no timer churn.
   */
  private arm(): void {
    const wake = this.e.nextWakeMs()
    if (!Number.isFinite(wake)) {
      clearTimeout(this.timer)
      this.timer = undefined
      return
    }
    const now = this.o.clock.now()
    const delay = Math.max(0, Math.min(wake - now, this.o.maxSleepMs ?? 1000))
    if (this.timer !== undefined && this.timerAt <= now + delay) return
    clearTimeout(this.timer)
    this.timerAt = now + delay
    this.timer = setTimeout(this.onTimer, delay)
  }

  async run(feed: LiveMarketSource): Promise<LiveEnd> {
    const e = this.e
    const o = this.o
    const noop = this.noop
    const preWarmMs = o.preWarmMs ?? 0
    let fatal: Error | null = null
    let fatalResolve: (why: string) => void = noop
    const fatalP = new Promise<string>((res) => (fatalResolve = res))
    // a venue report wakes the loop in this turn of the event loop (coalesced)
    o.reports.listen(() => {
      if (this.wakeQueued) return
      this.wakeQueued = true
      this.reportWakes++
      queueMicrotask(this.wake)
    })
    feed.on('event', (ev) => {
      e.runUntil(o.clock.now(), noop)
      o.onEvent?.(ev.localTs / 1000)
      e.onMarket(ev)
      this.arm()
    })
    // a frame arrived: what is due by now runs before it is read (a due re-price decides on
    // the book as it was, exactly as at 'before-book' below, without waiting for the scan)
    feed.on('arrive', () => {
      e.runUntil(o.clock.now(), noop)
      this.arm()
    })
    // the source applies book messages to the one book itself: the engine is told around it
    feed.on('before-book', (ts) => {
      e.runUntil(o.clock.now(), noop)
      e.venueBeforeBook(ts)
    })
    feed.on('book', (r, _ts, localTs) => {
      o.onEvent?.(localTs / 1000)
      e.onBookApplied(r)
      this.arm()
      if (preWarmMs > 0 && !this.preWarmQueued && e.preWarmDue(preWarmMs)) {
        this.preWarmQueued = true
        setImmediate(this.runPreWarm)
      }
    })
    feed.on('trade', (sc, ts, localTs) => {
      e.runUntil(o.clock.now(), noop)
      o.onEvent?.(localTs / 1000)
      e.onScanned(sc, SCAN_TRADE, ts, localTs)
      this.arm()
    })
    // why the book was lost, into the run log and the operator log (the pause only says that it
    // was): registered first, so the reason is logged before the pause it causes
    feed.on('gap', (info) => e.noteFeed('book_lost', info.reason))
    feed.on('reconnect', (info) => e.noteFeed('reconnect', info.reason, {route: info.route}))
    feed.on('warn', (msg) => e.noteFeed('warning', msg))
    let badFrames = 0
    let nextBadLog = 1
    feed.on('bad', (info) => {
      // the 1st, 10th, 100th, …: a stream of bad frames is no log storm
      if (++badFrames !== nextBadLog) return
      nextBadLog *= 10
      e.noteFeed('bad_frame', info.detail, {count: badFrames})
    })
    // the feed resyncs on its own; until its next snapshot our book is not to be trusted
    const lost = (info: {reason: string}) => {
      e.runUntil(o.clock.now(), noop)
      e.invalidateBook(info.reason)
      e.runUntil(o.clock.now(), noop)
      this.arm()
    }
    feed.on('gap', lost)
    feed.on('resync', lost)
    feed.on('fatal', (err) => {
      fatal = err
      fatalResolve('venue unreachable')
    })
    e.start()
    const progress = o.onProgress ? setInterval(() => o.onProgress?.(e.status()), o.progressMs ?? 1000) : undefined
    let stoppingFeed = false
    const started = feed.start().then(() => o.onSynced?.(), (err: Error) => {
      if (stoppingFeed) return // the stop below ended the wait for a sync: not a failure
      fatal = err
      fatalResolve(err.message.includes('could not sync') ? 'no sync' : 'venue unreachable')
    })
    // --duration of any length (chunked past Node's 24.8-day timer limit), honoured before,
    // during and after the first sync
    let durationTimer: LongTimer | undefined
    const timeout = o.durationMs ? new Promise<string>((res) => (durationTimer = setLongTimeout(() => res('duration'), o.durationMs!))) : new Promise<string>(noop)
    const reason = await Promise.race([o.stop, timeout, fatalP])
    durationTimer?.clear()
    clearInterval(progress)
    // stop the feed first: a book that never synced must not hold the stop (it settles `started`)
    stoppingFeed = true
    await feed.stop()
    await started
    const stopTimedOut = !(await this.stopOrders())
    if (o.beforeEnd) await o.beforeEnd().catch((err: Error) => e.noteFeed('warning', `at the stop: ${err.message}`))
    o.reports.listen(undefined)
    clearTimeout(this.timer)
    this.timer = undefined
    e.runUntil(o.clock.now(), noop)
    return {reason, fatal, stopTimedOut}
  }

  /**
   * Cancel everything and wait, woken by the venue's reports and the engine's due times,
   * until no order is working; false when the bound passed first.
   */
  async stopOrders(): Promise<boolean> {
    const e = this.e
    this.stopping = true
    e.runUntil(this.o.clock.now(), this.noop)
    e.beginStop()
    if (e.openOrders === 0) return true
    let bound: ReturnType<typeof setTimeout> | undefined
    const done = await new Promise<boolean>((resolve) => {
      this.settled = () => resolve(true)
      bound = setTimeout(() => resolve(false), this.o.stopBoundMs ?? 5000)
      this.arm()
    })
    clearTimeout(bound)
    this.settled = undefined
    return done
  }
}
