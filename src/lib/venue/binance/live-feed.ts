/**
 * Live market feed: Binance combined WebSocket streams + REST depth snapshots + DepthSync,
 * for one or more symbols on one connection per route (depth and bookTicker on `/public`,
 * trades on `/market`, FACTS.md §3.1–3.2).
 *
 * Emits MarketEvents in the order a book consumer must apply them:
 *  - a SnapshotEvent whenever the local book (re)synchronises: at start, after a sequence
 *    gap and after every reconnect of the `/public` stream (a reconnect is always a resync);
 *  - DepthEvents only once they are applied to the synced book (buffered events that the
 *    snapshot already covers are not emitted), so a recording of the emitted stream
 *    rebuilds exactly the feed's book;
 *  - trades and tickers as they arrive.
 *
 * A snapshot's `localTs` is the response time, or the receive time of the first buffered
 * update applied on top of it if that is earlier, so a recording stays monotonic.
 *
 * Two outputs (`output`):
 *  - 'events' (the recorder): the above MarketEvents, in the venue's strings;
 *  - 'book' (the trading loop): each frame is read once by the byte scanner straight into
 *    ticks and steps and applied to the symbol's one synced book (`depthSync(symbol)`,
 *    which the engine and the paper venue read): `before-book` (venue time µs) just
 *    before a message changes the book, `book` after one was applied, `trade` with the
 *    scanner holding a trade in ticks/steps. What the scanner does not handle goes through
 *    JSON.parse (`event` for a trade read that way). The sync object is kept for the
 *    feed's life (a resync resets it), so readers may hold it.
 *
 * With `marks`, `<symbol>@markPrice@1s` joins the trades on `/market` (live trading: the
 * venue's PERCENT_PRICE band follows it) and each markPriceUpdate is told as `mark`, in
 * either output; it is no MarketEvent (no `event`, no `book`), so a recording or the book
 * never sees one. In 'book' output the scanner reports it as OTHER, and only such a frame
 * is parsed: the depth and trade frames take the same path as without marks.
 */
import {EventEmitter} from 'node:events'
import {DepthScanner, SCAN_BAD, SCAN_DEPTH, SCAN_FALLBACK, SCAN_OTHER, SCAN_TRADE} from '../../book/scan.js'
import {type DepthResult, DepthSync, NO_ID} from '../../book/sync.js'
import type {BookView} from '../../book/types.js'
import type {Endpoints} from '../../cli/endpoints.js'
import {streamUrl} from '../../cli/endpoints.js'
import {VenueError} from '../../domain/errors.js'
import type {Instrument} from '../../domain/instrument.js'
import {wallClock} from '../../clock/clock.js'
import {Backoff} from '../backoff.js'
import {MarketParseError, type MarkPriceUpdate, parseMarkPriceUpdate} from './parse.js'
import {BinancePublicRest, type DepthLimit, snapshotEvent} from './rest-public.js'
import {nowMicros, parseMarketMessageStrict, StreamClient, type StreamClientOptions, streamNames, type TradeStream} from './ws.js'
import type {DepthEvent, MarketEvent} from '../../market/events.js'

export interface LiveFeedOptions {
  endpoints: Endpoints
  instruments: Instrument[]
  /** REST client (default: one on endpoints.rest) */
  rest?: BinancePublicRest
  /** depth stream suffix, default `@depth@100ms` */
  depthStream?: string
  /** trade stream, default `aggTrade`; false = none */
  trades?: TradeStream | false
  /** bookTicker stream, default off */
  ticker?: boolean
  snapshotLimit?: DepthLimit
  /** options for both WebSocket clients (silence, lifetime, backoff, random, giveUpAfter) */
  ws?: Omit<StreamClientOptions, 'url'>
  /** local receive clock, µs */
  clock?: () => number
  /** backoff of snapshot re-fetches after a failed one, ms */
  snapshotRetryBaseMs?: number
  snapshotRetryMaxMs?: number
  random?: () => number
  /**
   * a symbol whose book stays unsynced this long (from the start, a gap or a reconnect)
   * ends the feed with a fatal E_NO_SYNC naming the last reason, ms; default: no budget
   */
  syncBudgetMs?: number
  /** a snapshot the stream never bridges (it is ahead of the stream) is dropped after this long, ms; default 5000 (a stream lagging behind the snapshot for less is normal) */
  bridgeTimeoutMs?: number
  /** 'events' (default): MarketEvents in strings; 'book': scanner → the one book (see above) */
  output?: 'events' | 'book'
  /** also subscribe `<symbol>@markPrice@1s` (on /market) and tell each mark as `mark`; default off */
  marks?: boolean
}

export interface FeedStats {
  messages: number
  events: number
  reconnects: number
  resyncs: number
  gaps: number
  snapshots: number
  /** frames that could not be used: not JSON, or a market message with a bad field */
  badFrames: number
}

export interface LiveFeedEvents {
  event: [ev: MarketEvent]
  /** continuity of a symbol's book stream was lost (sequence gap, disconnect) */
  gap: [info: {symbol: string; reason: string}]
  /** a snapshot re-fetch started (counted in `resyncs`) */
  resync: [info: {symbol: string; reason: string}]
  reconnect: [info: {route: 'public' | 'market'; reason: string}]
  /** something went wrong but the feed carries on (a snapshot fetch failed, …) */
  warn: [message: string]
  /** the feed cannot go on (the venue could not be reached) */
  fatal: [err: VenueError]
  /** a frame that could not be used (symbol when known) — counted in badFrames */
  bad: [info: {symbol?: string; detail: string}]
  /**
   * a market-data frame arrived (received at `localTs` µs), before it is read: the driver
   * runs what is due by now first, on the book as it is, as its timer would have (a
   * re-price that was due leaves before the frame is scanned, not after)
   */
  arrive: [localTs: number]
  /** output 'book': a message of venue time `ts` (µs) is about to change the symbol's book */
  'before-book': [ts: number]
  /** output 'book': a message was applied to the symbol's book */
  book: [result: DepthResult, ts: number, localTs: number]
  /** output 'book': a trade, held by the scanner (price in ticks, qty in steps, side) until the next frame */
  trade: [scanner: DepthScanner, ts: number, localTs: number]
  /** option `marks`: the venue's mark of a subscribed symbol (`p` a positive decimal; a bad one is a `bad` frame) */
  mark: [update: MarkPriceUpdate, localTs: number]
}

interface SymState {
  inst: Instrument
  sync: DepthSync
  /** raw events DepthSync is holding while it waits for a snapshot (mirrors its buffer) */
  pending: DepthEvent[]
  fetching: boolean
  /** the shared pace of snapshot fetches (../backoff.ts): resets once the book held live for stableMs */
  backoff: Backoff
  retryTimer?: NodeJS.Timeout
  /** wall ms since which the book is not live (undefined while live) */
  unsyncedSince?: number
  /** the latest reason the book is not live */
  why: string
  /** local µs when the snapshot in force was applied (bridge watchdog) */
  snapshotAt?: number
  synced: boolean
  everSynced: boolean
  snapshots: number
  /** bumped at each restart (a snapshot fetched before it is stale) */
  gen: number
}

export class LiveFeed extends EventEmitter<LiveFeedEvents> {
  readonly rest: BinancePublicRest
  readonly publicClient: StreamClient
  readonly marketClient?: StreamClient
  private readonly syms = new Map<string, SymState>()
  private readonly o: LiveFeedOptions
  private readonly clock: () => number
  private readonly random: () => number
  private counters = {events: 0, resyncs: 0, gaps: 0, badFrames: 0}
  private budgetTimer?: NodeJS.Timeout
  private stopped = false
  private readyWaiters: {resolve: () => void; reject: (e: Error) => void}[] = []
  private ownsRest: boolean
  private readonly bookMode: boolean
  private readonly scanner: DepthScanner | undefined

  constructor(opts: LiveFeedOptions) {
    super()
    this.o = opts
    this.clock = opts.clock ?? nowMicros
    this.random = opts.random ?? Math.random
    this.ownsRest = !opts.rest
    this.bookMode = opts.output === 'book'
    this.scanner = this.bookMode && opts.instruments.length > 0 ? new DepthScanner(opts.instruments[0]) : undefined
    if (this.bookMode && opts.instruments.length !== 1) throw new Error("LiveFeed: output 'book' takes one instrument")
    this.rest = opts.rest ?? new BinancePublicRest({baseUrl: opts.endpoints.rest})
    const pub: string[] = []
    const market: string[] = []
    for (const inst of opts.instruments) {
      const n = streamNames(inst.symbol, {depth: opts.depthStream, ticker: opts.ticker, trades: opts.trades ?? 'aggTrade', marks: opts.marks})
      pub.push(...n.public)
      market.push(...n.market)
      this.syms.set(inst.symbol, {
        inst,
        sync: new DepthSync(inst),
        pending: [],
        fetching: false,
        backoff: new Backoff({baseMs: opts.snapshotRetryBaseMs ?? 500, maxMs: opts.snapshotRetryMaxMs ?? 30_000, random: this.random, stableMs: opts.ws?.stableMs}),
        synced: false,
        everSynced: false,
        snapshots: 0,
        unsyncedSince: wallClock.now(),
        why: 'waiting for the first snapshot',
        gen: 0,
      })
    }
    const wsOpts = {clock: this.clock, ...opts.ws, raw: this.bookMode}
    this.publicClient = new StreamClient({...wsOpts, url: streamUrl(opts.endpoints, 'public', pub)})
    this.wire(this.publicClient, 'public')
    if (market.length > 0) {
      this.marketClient = new StreamClient({...wsOpts, url: streamUrl(opts.endpoints, 'market', market)})
      this.wire(this.marketClient, 'market')
    }
  }

  get symbols(): string[] {
    return [...this.syms.keys()]
  }

  /** The symbol's book (read-only view; `ready` false while resyncing). */
  book(symbol: string): BookView {
    return this.state(symbol).sync.book
  }

  depthSync(symbol: string): DepthSync {
    return this.state(symbol).sync
  }

  stats(): FeedStats {
    let snapshots = 0
    for (const s of this.syms.values()) snapshots += s.snapshots
    return {
      messages: this.publicClient.messages + (this.marketClient?.messages ?? 0),
      events: this.counters.events,
      reconnects: this.publicClient.reconnects + (this.marketClient?.reconnects ?? 0),
      resyncs: this.counters.resyncs,
      gaps: this.counters.gaps,
      snapshots,
      badFrames: this.counters.badFrames,
    }
  }

  /** Drop the symbol's book and fetch a fresh snapshot (paced by the backoff); counted as a resync. */
  resync(symbol: string, reason: string): void {
    const s = this.state(symbol)
    if (this.stopped) return
    if (s.synced) this.emit('gap', {symbol: s.inst.symbol, reason})
    this.restart(s, reason, true)
    this.scheduleRetry(s)
  }

  /** Connect; resolves once every symbol's book has synced, rejects on a fatal venue error. */
  start(): Promise<void> {
    const p = new Promise<void>((resolve, reject) => this.readyWaiters.push({resolve, reject}))
    this.publicClient.start()
    this.marketClient?.start()
    const budget = this.o.syncBudgetMs
    if (budget !== undefined && Number.isFinite(budget) && !this.budgetTimer) {
      const now0 = wallClock.now()
      for (const s of this.syms.values()) if (s.unsyncedSince !== undefined) s.unsyncedSince = now0
      this.budgetTimer = setInterval(() => this.checkBudget(budget), Math.min(250, Math.max(10, budget / 4)))
    }
    return p
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    clearInterval(this.budgetTimer)
    for (const s of this.syms.values()) clearTimeout(s.retryTimer)
    await Promise.all([this.publicClient.stop(), this.marketClient?.stop()])
    if (this.ownsRest) await this.rest.close()
    this.failWaiters(new VenueError('E_STOPPED', 'the feed was stopped before every book synced'))
  }

  private state(symbol: string): SymState {
    const s = this.syms.get(symbol.toUpperCase())
    if (!s) throw new Error(`LiveFeed: symbol ${symbol} is not subscribed`)
    return s
  }

  /** The sync budget: a book unsynced for longer than `budget` ms is fatal (exit 1 with the reason). */
  private checkBudget(budget: number): void {
    if (this.stopped) return
    const now = wallClock.now()
    for (const s of this.syms.values()) {
      if (s.unsyncedSince === undefined || now - s.unsyncedSince <= budget) continue
      clearInterval(this.budgetTimer)
      this.fatal(new VenueError('E_NO_SYNC', `${s.inst.symbol}: the book could not sync for ${Math.round((now - s.unsyncedSince) / 1000)}s (last: ${s.why})`, {suggestion: 'check the venue and --rest-url/--ws-url; the sync budget is configurable'}))
      return
    }
  }

  private setLive(s: SymState, live: boolean, why?: string): void {
    if (why) s.why = why
    if (live) {
      s.unsyncedSince = undefined
      s.backoff.ok()
    } else s.unsyncedSince ??= wallClock.now()
  }

  private badFrame(symbol: string | undefined, detail: string): void {
    this.counters.badFrames++
    const sym = symbol?.toUpperCase()
    const known = sym !== undefined && this.syms.has(sym) ? sym : this.syms.size === 1 ? [...this.syms.keys()][0] : undefined
    if (known) this.state(known).why = `bad frames (${detail})`
    this.emit('bad', {symbol: known, detail})
  }

  private wire(c: StreamClient, route: 'public' | 'market'): void {
    c.on('message', (_stream, data, localTs) => {
      this.emit('arrive', localTs)
      this.onMessage(data, localTs)
    })
    c.on('bad', ({stream, detail}) => this.badFrame(stream?.split('@')[0], `not JSON: ${detail}`))
    c.on('text', (text, localTs) => {
      this.emit('arrive', localTs)
      this.onText(text, localTs)
    })
    c.on('open', ({reconnect}) => {
      if (route !== 'public') return
      for (const s of this.syms.values()) {
        if (reconnect) this.restart(s, 'reconnect', true)
        this.fetchSnapshot(s)
      }
    })
    c.on('down', ({reason, detail}) => {
      this.emit('reconnect', {route, reason: `${reason}: ${detail}`})
      if (route !== 'public') return
      for (const s of this.syms.values()) {
        if (s.synced) {
          s.synced = false
          this.emit('gap', {symbol: s.inst.symbol, reason: `disconnected (${reason})`})
        }
        // drop the book at once: it is not whole until the reconnect's snapshot
        s.sync.reset()
        s.gen++
        s.pending = []
        this.setLive(s, false, `disconnected (${reason}: ${detail})`)
      }
    })
    c.on('fatal', (err) => this.fatal(err))
  }

  private fatal(err: VenueError): void {
    if (this.readyWaiters.length > 0) this.failWaiters(err)
    else this.emit('fatal', err)
  }

  private failWaiters(err: Error): void {
    const w = this.readyWaiters
    this.readyWaiters = []
    for (const x of w) x.reject(err)
  }

  /** Start over from an empty sync: the next snapshot is a counted resync. */
  private restart(s: SymState, reason: string, counted: boolean): void {
    clearTimeout(s.retryTimer)
    s.retryTimer = undefined
    s.sync.reset()
    s.gen++
    s.pending = []
    s.synced = false
    this.setLive(s, false, reason)
    if (counted && s.everSynced) {
      this.counters.resyncs++
      this.emit('resync', {symbol: s.inst.symbol, reason})
    }
  }

  /** output 'book': one frame, scanned once into the one book */
  private onText(text: string, localTs: number): void {
    const sc = this.scanner as DepthScanner
    const code = sc.scan(text)
    if (code === SCAN_OTHER) {
      // a message the scanner does not read (its `e` is none of depth/trade): a mark when asked for
      if (this.o.marks && text.includes('"markPriceUpdate"')) this.onMarkText(text, localTs)
      return
    }
    if (code === SCAN_FALLBACK) {
      let j: unknown
      try {
        j = JSON.parse(text)
      } catch (error) {
        this.badFrame(/"stream":"([a-z0-9]+)@/.exec(text.slice(0, 64))?.[1], `not JSON: ${(error as Error).message}`)
        return
      }
      const env = j as {stream?: unknown; data?: unknown}
      this.onMessage(env && typeof env.stream === 'string' && env.data !== undefined ? env.data : j, localTs)
      return
    }
    const s = this.syms.values().next().value as SymState
    if (!sc.symbolIs(s.inst.symbol)) return
    const ts = sc.ts === NO_ID ? localTs : sc.ts
    if (code === SCAN_TRADE) {
      this.counters.events++
      this.emit('trade', sc, ts, localTs)
      return
    }
    if (code === SCAN_BAD) {
      if (sc.isTrade) this.emit('warn', `${s.inst.symbol}: trade left out: ${sc.error}`)
      else this.afterDepth(s, s.sync.onBadMessage(sc.error), undefined, ts, localTs, false)
      return
    }
    if (code === SCAN_DEPTH) {
      if (s.sync.state !== 'awaiting-snapshot') this.emit('before-book', ts)
      const wasBridging = s.sync.state === 'bridging'
      this.afterDepth(s, s.sync.onDepthLevels(sc.U, sc.u, sc.pu, ts, sc.batch, localTs), undefined, ts, localTs, wasBridging)
    }
    // a snapshot on the stream is not a Binance message: ignored
  }

  /** output 'book': a markPriceUpdate frame (combined envelope or bare) */
  private onMarkText(text: string, localTs: number): void {
    let j: unknown
    try {
      j = JSON.parse(text)
    } catch (error) {
      this.badMark(`mark price: not JSON: ${(error as Error).message}`)
      return
    }
    const env = j as {stream?: unknown; data?: unknown}
    this.onMark(env && typeof env.stream === 'string' && env.data !== undefined ? env.data : j, localTs)
  }

  /** a markPriceUpdate payload: told as `mark` when its symbol is subscribed and its `p` a positive decimal */
  private onMark(data: unknown, localTs: number): void {
    if (!data || typeof data !== 'object' || Array.isArray(data)) return
    let m: MarkPriceUpdate
    try {
      m = parseMarkPriceUpdate(data as Record<string, unknown>, localTs)
    } catch (error) {
      if (!(error instanceof MarketParseError)) throw error
      this.badMark(`mark price: ${error.message}`)
      return
    }
    if (!this.syms.has(m.symbol)) return
    this.emit('mark', m, localTs)
  }

  /** a mark frame that could not be used: counted and told as `bad`, the book's state (`why`) untouched */
  private badMark(detail: string): void {
    this.counters.badFrames++
    this.emit('bad', {detail})
  }

  private onMessage(data: unknown, localTs: number): void {
    if (this.o.marks && (data as {e?: unknown} | null)?.e === 'markPriceUpdate') {
      this.onMark(data, localTs)
      return
    }
    let ev: MarketEvent | undefined
    try {
      ev = parseMarketMessageStrict(data, localTs)
    } catch (error) {
      if (!(error instanceof MarketParseError)) throw error
      this.badFrame(typeof (data as {s?: unknown})?.s === 'string' ? (data as {s: string}).s : undefined, error.message)
      return
    }
    if (!ev) return
    const s = this.syms.get(ev.symbol)
    if (!s) return
    if (ev.kind === 'depth') {
      if (this.bookMode && s.sync.state !== 'awaiting-snapshot') this.emit('before-book', ev.ts)
      const wasBridging = s.sync.state === 'bridging'
      this.afterDepth(s, s.sync.onDepth(ev, localTs), ev, ev.ts, localTs, wasBridging)
      return
    }
    if (this.bookMode && ev.kind === 'ticker') return
    this.out(ev)
  }

  /** A depth message went to the sync: emit it (applied), keep it (buffered) or resync (gap). */
  private afterDepth(s: SymState, r: DepthResult, ev: DepthEvent | undefined, ts: number, localTs: number, wasBridging: boolean): void {
    if (r === 'applied') {
      s.synced = true
      if (wasBridging || s.unsyncedSince !== undefined) this.setLive(s, true)
      if (this.bookMode) {
        this.counters.events++
        this.emit('book', r, ts, localTs)
      } else if (ev) this.out(ev)
    } else if (r === 'dropped' && s.sync.state === 'bridging' && s.snapshotAt !== undefined && localTs - s.snapshotAt > (this.o.bridgeTimeoutMs ?? 5000) * 1000) {
      // the snapshot is ahead of the stream: no event will ever bridge it
      const why = `snapshot lastUpdateId is ahead of the stream (not bridged after ${this.o.bridgeTimeoutMs ?? 5000} ms)`
      this.emit('warn', `${s.inst.symbol}: ${why}; fetching another`)
      this.counters.gaps++
      this.emit('gap', {symbol: s.inst.symbol, reason: why})
      this.restart(s, why, true)
      s.pending = ev && !this.bookMode ? [ev] : []
      this.scheduleRetry(s)
    } else if (r === 'buffered') {
      if (!this.bookMode && ev) {
        s.pending.push(ev)
        if (s.pending.length > 10_000) s.pending.shift()
      }
    } else if (r === 'gap') {
      this.counters.gaps++
      s.synced = false
      s.pending = ev && !this.bookMode ? [ev] : []
      this.setLive(s, false, s.sync.lastResyncReason || 'sequence gap')
      this.emit('gap', {symbol: s.inst.symbol, reason: s.sync.lastResyncReason || 'sequence gap'})
      if (s.everSynced) {
        this.counters.resyncs++
        this.emit('resync', {symbol: s.inst.symbol, reason: 'gap'})
      }
      // paced by the shared backoff: a stream whose every diff is bad is no snapshot storm
      this.scheduleRetry(s)
    }
  }


  private out(ev: MarketEvent): void {
    this.counters.events++
    this.emit('event', ev)
  }

  private fetchSnapshot(s: SymState): void {
    if (this.stopped || s.fetching || !s.sync.needsSnapshot || !this.publicClient.isOpen) return
    s.fetching = true
    const sync = s.sync
    const gen = s.gen
    this.rest.depth(s.inst.symbol, this.o.snapshotLimit ?? 1000).then(
      (snap) => {
        s.fetching = false
        if (this.stopped || s.gen !== gen) {
          this.fetchSnapshot(s)
          return
        }
        const now = this.clock()
        const L = snap.lastUpdateId
        const applied = s.pending.filter((e) => (e.u ?? 0) >= L)
        const localTs = applied.length > 0 ? Math.min(now, applied[0].localTs) : now
        const ev = snapshotEvent(s.inst.symbol, snap, localTs)
        if (this.bookMode) this.emit('before-book', ev.ts)
        const r = sync.onSnapshot(ev, localTs)
        if (r !== 'applied') {
          // the snapshot did not bridge the buffered events (or was malformed): start over
          this.emit('warn', `${s.inst.symbol}: snapshot lastUpdateId=${L} did not bridge the stream (${sync.lastResyncReason}); fetching another`)
          this.restart(s, `snapshot did not bridge (${sync.lastResyncReason})`, false)
          this.scheduleRetry(s)
          return
        }
        s.pending = []
        s.snapshots++
        s.synced = true
        s.snapshotAt = now
        if (sync.state === 'live') this.setLive(s, true)
        if (this.bookMode) {
          this.counters.events++
          this.emit('book', r, ev.ts, localTs)
        } else {
          this.out(ev)
          for (const e of applied) this.out(e)
        }
        if (!s.everSynced) {
          s.everSynced = true
          if ([...this.syms.values()].every((x) => x.everSynced)) {
            const w = this.readyWaiters
            this.readyWaiters = []
            for (const x of w) x.resolve()
          }
        }
      },
      (err: unknown) => {
        s.fetching = false
        if (this.stopped) return
        const ve = err instanceof VenueError ? err : new VenueError('E_VENUE', String((err as Error)?.message ?? err))
        if (!s.everSynced && this.readyWaiters.length > 0) {
          this.failWaiters(ve)
          return
        }
        if (ve.exitCode === 2 || ve.code === 'E_VENUE_REJECTED') this.emit('warn', `${s.inst.symbol}: snapshot rejected: ${ve.message}`)
        else this.emit('warn', `${s.inst.symbol}: snapshot failed: ${ve.message}`)
        s.why = `snapshot failed: ${ve.message}`
        this.scheduleRetry(s)
      },
    )
  }

  private scheduleRetry(s: SymState): void {
    if (this.stopped) return
    const delay = s.backoff.next()
    clearTimeout(s.retryTimer)
    s.retryTimer = setTimeout(() => this.fetchSnapshot(s), delay)
  }
}
