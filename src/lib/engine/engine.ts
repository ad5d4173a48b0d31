/**
 * The one loop shared by live trading, dry-run and replay:
 *
 *   market event → book sync (+ paper venue) → decide (risk → strategy → netMax → reconcile)
 *   → venue; venue reports → working orders, position, strategy handlers → decide again.
 *
 * The engine owns no timers and reads no wall clock: the driver (replay or live) moves the
 * Clock and calls `runUntil(t)` before each market event and `onMarket(ev)` with it. All
 * that the engine does is a function of the events and the clock, so a replay is
 * deterministic and its event log byte-identical run to run.
 */
import {PlainDecimal as Decimal} from '../domain/decimal.js'
import {type DepthScanner, SCAN_BAD, SCAN_DEPTH, SCAN_SNAPSHOT, SCAN_TRADE, type ScanCode} from '../book/scan.js'
import {type DepthResult, DepthSync} from '../book/sync.js'
import type {Clock} from '../clock/clock.js'
import type {CoreConfig} from '../config/resolve.js'
import {type CoreEvent, type CoreState, decideFinish, decideRequested, decideStart, prepareCore, type CoreContext, type DecideInput} from '../core/decide.js'
import {GridError} from '../domain/errors.js'
import type {Instrument, Steps, Ticks} from '../domain/instrument.js'
import type {OrderAction, WorkingOrder} from '../domain/orders.js'
import type {MarketEvent} from '../market/events.js'
import {adoptPosition, initLifecycle, type LifecycleConfig, type LifecycleInput, type LifecycleResult, type LifecycleState, reduceLifecycle, workingOrders} from '../orders/lifecycle.js'
import {Dec, pnlSummary, type Position, positionToJSON, realisedQuote, unitsToQuote, unrealisedUnits} from '../orders/position.js'
import {RunSummarizer, type RunSummary} from '../report/summary.js'
import type {ControlRequest, RiskEvent, RiskState, VenueRisk} from '../risk/types.js'
import {type HandlerResult, onFill, onIocResult, onMid, onOrderAccepted, onPostOnlyReject} from '../strategy/index.js'
import type {FeedEvent, LifecycleLogEvent, RiskStateName, RunEvent, RunStartEvent} from '../telemetry/run-events.js'
import type {ReportQueue, Venue, VenueReport} from '../venue/types.js'
import {warmUpDecisions, type WarmUpOptions, type WarmUpResult} from './warmup.js'

/**
 * The venue as the engine drives it: the Venue port plus the hooks a simulated venue has
 * (it reads the shared book: told before and after each update, and of each trade).
 */
export type EngineVenue = Venue & {
  beforeBook?(ms: number): void
  afterBook?(): void
  onTrade?(side: 'buy' | 'sell', price: Ticks, qty: Steps, ms: number): void
  advanceTo?(ms: number): void
  nextArrivalTs?(): number
}

export interface EngineOptions {
  /** live: the position the venue reports at start (the venue is the truth); default flat */
  startPosition?: Position
  /** §4.6: the day's PnL (cost units) of an earlier run of the same UTC day, carried on */
  /** §4.6: the day an earlier run counted; with `base` (its equity at the day's start, cost units) the PnL since then carries on, the time the process was down included */
  riskDay?: {startMs: number; pnl: string; base?: string}
  instrument: Instrument
  core: CoreConfig
  venue: EngineVenue
  reports: ReportQueue
  clock: Clock
  /**
   * The symbol's one synced book, shared with the feed and the paper venue (default: a new
   * one the engine feeds itself)
   */
  sync?: DepthSync
  /** where run events go (the event log); the engine also summarises them */
  log: (ev: RunEvent) => void
  /** 1–8 chars [A-Za-z0-9]: part of every client order id */
  runId: string
  mode: RunStartEvent['mode']
  source?: string
  /** ms between `sample` events (default 1000) */
  sampleMs?: number
  /** markout horizons for adverse selection (default 1 s and 10 s) */
  markoutMs?: number[]
  /**
   * Which timestamp dates a book update for the stale-book rule: 'local' (receive time;
   * live, where the clock is the system clock) or 'venue' (replay, where the clock is
   * driven by the venue timestamps and recorded receive times may be skewed)
   */
  bookTime?: 'local' | 'venue'
  /**
   * live: the venue clock's offset from ours, ms (server = local + offset; the gateway's
   * time sync). With it the book's age for the stale-book rule (§4.5) also counts from the
   * venue's event time of its newest update on our clock: a feed that arrives late (a
   * lagging stream, a congested link) is stale data even while messages keep arriving.
   */
  venueClockOffsetMs?: () => number
  /** told when a decision begins and ends (metrics: decide+submit latency); no effect on the run */
  onDecide?: (phase: 'begin' | 'end') => void
  /**
   * live: what the venue says for the risk rules, read at every decision (liquidation
   * price, mark, the rate governor's verdict); `onResume` is told of an operator resume
   * (the governor lifts a storm stop)
   */
  venueRisk?: {read(nowMs: number): VenueRisk; onResume?(): void}
  /**
   * live: the JIT warm-up of the decision path (warmup.ts), run once before the first
   * decision on a usable book; no effect on the run
   */
  warmUp?: WarmUpOptions
}

interface Markout {
  due: number
  clientOrderId: string
  horizonMs: number
  side: 'BUY' | 'SELL'
  price: number
}

const SHOCK_CHECK_FRACTION = 0.5

/** Engine.status(): what the progress line of a run shows. */
export interface EngineStatus {
  /** mid of the book, decimal string; null before the book has both sides */
  mid: string | null
  /** signed net position, quantity string */
  position: string
  openOrders: number
  fills: number
  /** realised + unrealised − fees + funding, quote currency, exact decimal string */
  netPnl: string
  risk: RiskStateName
  marketEvents: number
}

export class Engine {
  readonly sync: DepthSync
  readonly inst: Instrument
  private readonly o: EngineOptions
  private readonly ctx: CoreContext
  private state: CoreState
  /** our orders and the position: owned by the order lifecycle reducer, nothing else */
  private lc: LifecycleState = initLifecycle()
  private readonly lcCfg: LifecycleConfig
  private readonly summarizer = new RunSummarizer()
  private control: ControlRequest[] = []
  private nextDecideMs = Number.NEGATIVE_INFINITY
  private nextSampleMs = Number.NEGATIVE_INFINITY
  private markouts: Markout[] = []
  private lastDecideMid2: number | null = null
  private risk: RiskStateName = 'normal'
  private mid2: number | null = null
  private started = false
  private stopping = false
  private stopped = false
  marketEvents = 0
  /** market messages with off-grid prices or sizes, left out */
  badEvents = 0

  constructor(o: EngineOptions) {
    this.o = o
    this.inst = o.instrument
    this.sync = o.sync ?? new DepthSync(o.instrument)
    const p = prepareCore(o.core, o.instrument, o.runId)
    this.ctx = p.ctx
    this.state = p.state
    if (o.startPosition) this.lc = initLifecycle({position: o.startPosition})
    if (o.riskDay) this.state = {...this.state, risk: {...this.state.risk, day: {startMs: o.riskDay.startMs, base: o.riskDay.base ?? null, pnl: o.riskDay.pnl}}}
    this.lcCfg = {ackTimeoutMs: o.core.ackTimeoutMs, recvWindowMs: o.core.recvWindowMs, cancelAttempts: o.core.cancelAttempts}
  }

  // ---- driver API -----------------------------------------------------------------

  /** Write run_start. Called once, before the first event. */
  start(): void {
    if (this.started) return
    this.started = true
    const s = this.inst.spec
    this.emit({
      type: 'run_start', t: this.o.clock.now(), symbol: this.inst.symbol, mode: this.o.mode, strategy: this.o.core.kind,
      instrument: {tickSize: s.tickSize, stepSize: s.stepSize, minQty: s.minQty, minNotional: s.minNotional},
      ...(this.o.source ? {source: this.o.source} : {}),
      ...(this.o.startPosition ? {carried: {position: this.inst.signedStepsToQty(this.o.startPosition.net), realised: realisedQuote(this.o.startPosition, this.inst).toString(), fees: new Dec(this.o.startPosition.fees).toString()}} : {}),
    })
  }

  /** The earliest time something is due without new market data. */
  nextWakeMs(): number {
    let t = Math.min(this.stopping ? Number.POSITIVE_INFINITY : this.nextDecideMs, this.nextSampleMs, this.o.reports.nextTs(), this.o.venue.nextArrivalTs?.() ?? Number.POSITIVE_INFINITY, this.lc.nextDueMs)
    if (this.markouts.length > 0) t = Math.min(t, this.markouts[0].due)
    return t
  }

  /** Process everything due up to time `t` (ms) in time order; the clock is moved by the caller. */
  runUntil(t: number, setClock: (ms: number) => void): void {
    for (let guard = 0; guard < 1_000_000; guard++) {
      const next = this.nextWakeMs()
      if (next > t) break
      setClock(Math.max(next, this.o.clock.now()))
      this.tick()
    }
  }

  /**
   * One market event (the venue's strings) at the current clock time: a book message is
   * converted once, applied to the shared book, and the paper venue told around it.
   */
  onMarket(ev: MarketEvent): void {
    if (!this.started) this.start()
    if (ev.symbol.toUpperCase() !== this.inst.symbol) return
    this.marketEvents++
    const v = this.o.venue
    let r: DepthResult | 'ignored' = 'ignored'
    if (ev.kind === 'depth' || ev.kind === 'snapshot') {
      v.beforeBook?.(ev.ts / 1000)
      const gridErrors = this.sync.counters.gridErrors
      r = this.sync.feed(ev, this.o.bookTime === 'venue' ? ev.ts : ev.localTs)
      // a message the sync refused as off-grid never changes the book
      if (this.sync.counters.gridErrors !== gridErrors) this.badEvents++
      else if (r === 'applied') v.afterBook?.()
    } else if (ev.kind === 'trade' && v.onTrade) {
      try {
        v.onTrade(ev.side, this.inst.priceToTicks(ev.price), this.inst.qtyToSteps(ev.qty), ev.ts / 1000)
      } catch (error) {
        if (!(error instanceof GridError)) throw error
        this.badEvents++
      }
    }
    this.afterMarket(r)
  }

  /**
   * One message read by the byte scanner (`code` = its scan result; `ts` its venue time,
   * `localTs` its receive time, µs), at the current clock time: levels in ticks/steps
   * straight into the shared book, no second conversion.
   * OTHER and FALLBACK are the caller's (skip, or JSON.parse and `onMarket`).
   */
  onScanned(sc: DepthScanner, code: ScanCode, ts: number, localTs: number): void {
    if (!this.started) this.start()
    this.marketEvents++
    const v = this.o.venue
    let r: DepthResult | 'ignored' = 'ignored'
    if (code === SCAN_DEPTH || code === SCAN_SNAPSHOT) {
      const recv = this.o.bookTime === 'venue' ? ts : localTs
      v.beforeBook?.(ts / 1000)
      r = code === SCAN_DEPTH ? this.sync.onDepthLevels(sc.U, sc.u, sc.pu, ts, sc.batch, recv) : this.sync.onSnapshotLevels(sc.lastUpdateId, ts, sc.batch, recv)
      if (r === 'applied') v.afterBook?.()
    } else if (code === SCAN_TRADE) {
      v.onTrade?.(sc.side, sc.price, sc.qty, ts / 1000)
    } else if (code === SCAN_BAD) {
      // an off-grid trade is left out; an unreadable book message resyncs the book
      if (!sc.isTrade) r = this.sync.onBadMessage(sc.error)
      this.badEvents++
    }
    this.afterMarket(r)
  }

  /**
   * The feed applied a message to the shared book itself (live: the feed's sync is the
   * book): the paper venue was told before (`venueBeforeBook`), now after, and the loop runs.
   */
  onBookApplied(r: DepthResult): void {
    if (!this.started) this.start()
    this.marketEvents++
    if (r === 'applied') this.o.venue.afterBook?.()
    this.afterMarket(r)
  }

  /** Live: the feed is about to apply a book message of venue time `tsUs` to the shared book. */
  venueBeforeBook(tsUs: number): void {
    this.o.venue.beforeBook?.(tsUs / 1000)
  }

  private afterMarket(r: DepthResult | 'ignored'): void {
    this.drainReports()
    if (r === 'applied') {
      const b = this.sync.book
      const bb = b.bestBid()
      const ba = b.bestAsk()
      // a side emptied (a Tardis snapshot of amount-0 rows, a diff removing the last level) is no mid: -1 is no price
      const mid2 = b.ready && bb >= 0 && ba >= 0 ? bb + ba : null
      // a book that just turned unusable (crossed, a side emptied) is not left quoted on until
      // the refresh interval: decide now (risk pauses and cancels), once per transition
      if (mid2 === null && this.mid2 !== null && this.risk !== 'paused') this.nextDecideMs = this.o.clock.now()
      this.mid2 = mid2
      if (mid2 !== null) this.sampleMid(mid2)
      // a large move since the last decision is not left waiting for the refresh interval
      if (mid2 !== null && this.lastDecideMid2 !== null && Math.abs(mid2 - this.lastDecideMid2) / this.lastDecideMid2 >= this.o.core.shockPct * SHOCK_CHECK_FRACTION) {
        this.nextDecideMs = this.o.clock.now()
      }
      // the first whole book, or a whole book again after a pause: decide now
      if (b.ready && (this.nextDecideMs === Number.NEGATIVE_INFINITY || this.risk === 'paused')) this.nextDecideMs = this.o.clock.now()
    }
    if (this.nextDecideMs <= this.o.clock.now() && !this.stopping) this.decideNow()
  }

  /**
   * The market-data source lost continuity (gap, reconnect): the book is not ready until
   * the source's next snapshot, and the next decision (now) pauses quoting and cancels.
   */
  invalidateBook(reason: string): void {
    // (a feed that keeps the shared book may have reset it already: decide now all the same)
    if (this.sync.invalidate(reason) || !this.sync.book.ready) this.nextDecideMs = this.o.clock.now()
  }

  /** A control request (halt / resume / flatten) for the next decision, which happens at once. */
  request(req: ControlRequest): void {
    if (req.kind === 'resume') this.o.venueRisk?.onResume?.()
    this.control.push(req)
    this.nextDecideMs = this.o.clock.now()
  }

  /**
   * A risk_event about what was done outside the decision core (the live audit cancelling
   * a stray order, fixing a position drift): into the run log and the operator log like any
   * other; the mode does not change.
   */
  noteRiskEvent(kind: RiskEvent['kind'], values: RiskEvent['values'], reason?: string): void {
    if (!this.started) this.start()
    this.emit({type: 'risk_event', t: this.o.clock.now(), kind, from: this.risk, to: this.risk, ...(reason ? {reason} : {}), values, thresholds: {}} as RunEvent)
  }

  /** What the live market feed said (a lost book and why, a reconnect, a failed snapshot): into the run log and the operator log. */
  noteFeed(kind: FeedEvent['kind'], reason: string, extra: Record<string, unknown> = {}): void {
    if (!this.started) this.start()
    this.emit({...extra, type: 'feed', t: this.o.clock.now(), kind, reason})
  }

  /** Cancel everything we hold, for a clean stop. Returns the cancels sent. */
  cancelAll(reason: string): number {
    const cancels: OrderAction[] = []
    for (const w of workingOrders(this.lc)) {
      if (w.status === 'PENDING_CANCEL') continue
      cancels.push({type: 'cancel', clientOrderId: w.clientOrderId, slot: w.slot, reason})
    }
    if (cancels.length === 0) return 0
    // one batch where the venue takes it; each recorded and logged as sent, as `submit` does
    this.handOver(cancels)
    const now = this.o.clock.now()
    for (const a of cancels) {
      this.record(a, now)
      this.emit(this.orderEvent(a, now))
    }
    return cancels.length
  }

  /** Begin a clean stop: no more decisions, cancel every order we hold. */
  beginStop(): void {
    if (!this.started) this.start()
    if (this.stopping) return
    this.stopping = true
    this.nextDecideMs = Number.POSITIVE_INFINITY
    this.cancelAll('stop')
  }

  /**
   * Stop: cancel all, let the venue answer (`settle` moves a virtual clock; with the
   * system clock the caller waits before calling this), write run_end.
   */
  finish(reason: string, settle: (ms: number) => void): RunSummary {
    this.beginStop()
    if (!this.stopped) {
      this.stopped = true
      const until = this.o.clock.now() + 60_000
      for (let i = 0; i < 10_000 && this.lc.open.size > 0; i++) {
        const next = Math.min(this.o.reports.nextTs(), this.o.venue.nextArrivalTs?.() ?? Number.POSITIVE_INFINITY, this.lc.nextDueMs)
        if (!Number.isFinite(next) || next > until) break
        settle(Math.max(next, this.o.clock.now()))
        if (this.o.clock.now() < next) break // a clock the caller does not move
        this.o.venue.advanceTo?.(this.o.clock.now())
        this.drainReports()
        this.lifecycleTick()
      }
      this.sample()
      this.emit({type: 'run_end', t: this.o.clock.now(), reason, marketEvents: this.marketEvents, resyncs: this.sync.resyncs})
    }
    return this.summarizer.result()
  }

  /** What a restart would need: position, working orders, risk and strategy state (JSON). */
  checkpoint(): Record<string, unknown> {
    return {
      t: this.o.clock.now(),
      symbol: this.inst.symbol,
      position: positionToJSON(this.lc.position),
      workingOrders: workingOrders(this.lc),
      risk: this.state.risk,
      strategy: this.state.strategy,
      clientIds: this.state.ids,
    }
  }

  summary(): RunSummary {
    return this.summarizer.result()
  }

  /**
   * What a status line shows (read by a once-a-second timer, never per event): mid, position,
   * open orders, fills, net PnL (realised + unrealised vs mid − fees + funding; unrealised 0
   * before the book has a mid), risk state.
   */
  status(): EngineStatus {
    const pos = this.lc.position
    const pnl = pnlSummary(pos, this.inst, this.mid2 ?? 0)
    const net = this.mid2 === null ? new Decimal(pnl.realised).minus(pnl.fees).plus(pnl.funding) : new Decimal(pnl.total)
    return {mid: this.midString(), position: this.inst.signedStepsToQty(pos.net), openOrders: this.lc.open.size, fills: pos.fills, netPnl: net.toString(), risk: this.risk, marketEvents: this.marketEvents}
  }

  get openOrders(): number {
    return this.lc.open.size
  }

  /** The orders the lifecycle counts as working (in doubt included), for the live audit. */
  get working(): WorkingOrder[] {
    return workingOrders(this.lc)
  }

  get positionSteps(): number {
    return this.lc.position.net
  }

  /** The lifecycle's position (the ledger), read-only. */
  get position(): Readonly<Position> {
    return this.lc.position
  }

  /** The live audit adopts the venue's position (net steps and cost basis); returns the one it replaced. */
  adoptVenuePosition(venue: {net: number; cost: bigint}): Position {
    const old = this.lc.position
    this.lc = adoptPosition(this.lc, venue)
    return old
  }

  /** The order lifecycle's counters (duplicate fills, stale reports, queries, re-cancels, …). */
  get lifecycleCounters(): Readonly<LifecycleState['counters']> {
    return this.lc.counters
  }

  /** what the start-up warm-up did (null: not run yet) */
  get warmUpResult(): WarmUpResult | null {
    return this.warmed
  }

  private warmed: WarmUpResult | null = null

  /**
   * Run the decision path on synthetic inputs around the current book (warmup.ts): the
   * engine's state, book, position, ids, log and venue are left as they were.
   */
  warmUp(o: WarmUpOptions): WarmUpResult {
    return warmUpDecisions({ctx: this.ctx, state: this.state, book: this.sync.orderBook, position: this.lc.position, lcCfg: this.lcCfg, nowMs: this.o.clock.now()}, o)
  }

  get riskState(): RiskStateName {
    return this.risk
  }

  /** The risk machine's monotone counters (netMax cuts, …): for metrics. */
  get riskCounters(): Readonly<RiskState['counters']> {
    return this.state.risk.counters
  }

  // ---- internals ------------------------------------------------------------------

  private tick(): void {
    const now = this.o.clock.now()
    this.o.venue.advanceTo?.(now)
    this.drainReports()
    this.lifecycleTick()
    // stopping: an order that is live again (a refused cancel whose query found it open) is cancelled too
    if (this.stopping) this.cancelAll('stop')
    while (this.markouts.length > 0 && this.markouts[0].due <= now) this.markout(this.markouts.shift() as Markout)
    if (this.nextDecideMs <= now && !this.stopping) this.decideNow()
    if (this.nextSampleMs <= now) this.sample()
  }

  private decideNow(): void {
    if (this.o.warmUp && this.warmed === null && this.sync.book.ready) this.warmed = this.warmUp(this.o.warmUp)
    const hook = this.o.onDecide
    if (!hook) return this.decideStep()
    hook('begin')
    try {
      this.decideStep()
    } finally {
      hook('end')
    }
  }

  /** the due time the decision path was last run ahead for (`preWarm`) */
  private preWarmedFor = Number.NaN
  /** the venue's input to the last decision (read once a decision: reading it has effects) */
  private lastVenue: DecideInput['venue'] = undefined

  /** when the next decision is due (ms; the refresh, or now after a shock) */
  get nextDecisionMs(): number {
    return this.nextDecideMs
  }

  /** live: a decision is due within `withinMs` from now, and the path has not been run ahead for it */
  preWarmDue(withinMs: number): boolean {
    const now = this.o.clock.now()
    const due = this.nextDecideMs
    return !this.stopping && due !== this.preWarmedFor && due > now && due - now <= withinMs && this.sync.book.ready
  }

  /**
   * live: run the decision's first step (`decideStart`, pure) on the current state, book
   * and orders, and drop what it gives: nothing changes, but the code and data of the
   * decision that comes due next are in the CPU's caches when its frame arrives.
   */
  preWarm(): void {
    this.preWarmedFor = this.nextDecideMs
    try {
      const input: DecideInput = {nowMs: this.o.clock.now(), book: this.sync.book, bookUpdatedMs: this.bookUpdatedMs(), position: this.lc.position, working: workingOrders(this.lc), control: this.control}
      if (this.lastVenue !== undefined) input.venue = this.lastVenue
      decideStart(this.state, input, this.ctx)
    } catch {
      // only a warm-up: the real decision reports whatever this was
    }
  }

  private decideStep(): void {
    const now = this.o.clock.now()
    // the orders leave before the rest of the decision is made (its change key and
    // strategy_adjust, the next state): nothing between reads the engine's state, and the
    // venue never reports in the same turn (see sendAll)
    const start = decideStart(this.state, this.decideInput(now), this.ctx)
    this.control = []
    const actions = start.actions
    if (actions.length > 0) this.handOver(actions)
    const d = decideFinish(start)
    this.state = d.state
    this.risk = d.mode
    this.lastDecideMid2 = d.mid2
    if (d.mid2 !== null) this.mid2 = d.mid2
    this.recordAll(d.events, d.actions, now)
    this.nextDecideMs = Math.max(d.nextWakeMs, now + 1)
    if (this.nextSampleMs === Number.NEGATIVE_INFINITY) this.nextSampleMs = now
  }

  /**
   * When the book's newest data was current, ms on our clock (the stale-book rule, §4.5):
   * its receive time; live, no later than the venue's event time of that update converted
   * to our clock, so a feed that lags behind the venue ages the book.
   */
  bookUpdatedMs(): number {
    const recv = this.sync.lastRecvUs / 1000
    const offset = this.o.venueClockOffsetMs
    const venueUs = this.sync.book.lastUpdateTs
    if (offset === undefined || this.o.bookTime === 'venue' || !(venueUs > 0)) return recv
    return Math.min(recv, venueUs / 1000 - offset())
  }

  private decideInput(now: number): DecideInput {
    const venue = this.o.venueRisk?.read(now)
    this.lastVenue = venue
    const input: DecideInput = {nowMs: now, book: this.sync.book, bookUpdatedMs: this.bookUpdatedMs(), position: this.lc.position, working: workingOrders(this.lc), control: this.control}
    if (venue) input.venue = venue
    // live: fills the venue showed and the position has not booked yet count against netMax
    const unbooked = this.o.venue.unbookedSteps?.()
    if (unbooked) input.unbooked = unbooked
    return input
  }

  /**
   * A decision's requests leave first; then the lifecycle records each as sent, in the
   * same order and at the same time `now`, and the events are logged in the order they
   * always had: the decision's own (strategy_adjust, risk_event), then each `order`.
   * Nothing between reads the lifecycle or logs (the venue queues the request or hands it
   * to the connection pool, and never reports in the same turn: its answers are drained
   * by a later step), so the state and the log are the same as recording each before its
   * request; the requests no longer wait for the lifecycle, the events' formatting and
   * the log's write (tick-to-order).
   */
  private sendAll(events: CoreEvent[], actions: OrderAction[]): void {
    if (actions.length === 0) return this.logCore(events)
    const now = this.o.clock.now()
    this.handOver(actions)
    this.recordAll(events, actions, now)
  }

  /**
   * A decision's orders to the venue, all at once when it takes them so (`submitAll`: the
   * Binance adapter sends a decision's cancels as one batch request), else one by one.
   */
  private handOver(actions: readonly OrderAction[]): void {
    const v = this.o.venue
    if (v.submitAll !== undefined) v.submitAll(actions)
    else for (let i = 0; i < actions.length; i++) v.submit(actions[i])
  }

  /** After a decision's requests were handed to the venue: the lifecycle records them, the events are logged. */
  private recordAll(events: CoreEvent[], actions: OrderAction[], now: number): void {
    if (actions.length === 0) return this.logCore(events)
    for (let i = 0; i < actions.length; i++) this.record(actions[i], now)
    this.logCore(events)
    for (let i = 0; i < actions.length; i++) this.emit(this.orderEvent(actions[i], now))
  }

  /** The lifecycle records a request as sent. */
  private record(a: OrderAction, now: number): void {
    const input: LifecycleInput = a.type === 'place' ? {type: 'place_sent', t: now, clientOrderId: a.clientOrderId, order: a.order} : {type: 'cancel_sent', t: now, clientOrderId: a.clientOrderId}
    this.lc = reduceLifecycle(this.lc, input, this.lcCfg).state
  }

  /** The `order` event of a request. */
  private orderEvent(a: OrderAction, now: number): RunEvent {
    if (a.type === 'place') {
      const o = a.order
      return {type: 'order', t: now, action: 'place', clientOrderId: a.clientOrderId, side: o.side, price: this.inst.ticksToPrice(o.price), qty: this.inst.stepsToQty(o.qty), tif: o.tif, reduceOnly: o.reduceOnly, layer: o.layer}
    }
    return {type: 'order', t: now, action: 'cancel', clientOrderId: a.clientOrderId, reason: a.reason}
  }

  private drainReports(): void {
    const now = this.o.clock.now()
    const reports = this.o.reports.drain(now)
    for (const r of reports) this.onReport(r, now)
  }

  /** In-flight timeouts: the lifecycle asks for queries and re-cancels when they are due. */
  private lifecycleTick(): void {
    const now = this.o.clock.now()
    if (now < this.lc.nextDueMs) return
    const res = reduceLifecycle(this.lc, {type: 'tick', t: now}, this.lcCfg)
    this.lc = res.state
    this.onLifecycle(res, null, now)
  }

  /** Every venue report passes the lifecycle reducer; the engine acts on what it says. */
  private onReport(r: VenueReport, now: number): void {
    // the venue's answers are logged as they came
    switch (r.type) {
      case 'ack':
        this.emit({type: 'ack', t: now, clientOrderId: r.clientOrderId})
        break
      case 'reject':
        this.emit({type: 'reject', t: now, clientOrderId: r.clientOrderId, code: r.code, msg: r.msg})
        break
      case 'canceled':
        this.emit({type: 'canceled', t: now, clientOrderId: r.clientOrderId})
        break
      case 'expired':
        this.emit({type: 'expired', t: now, clientOrderId: r.clientOrderId, msg: r.reason})
        break
      default:
        break
    }
    const res = reduceLifecycle(this.lc, {type: 'report', t: now, report: r}, this.lcCfg)
    this.lc = res.state
    const retried = this.onLifecycle(res, r, now)
    // anything but an ack may free a slot or move the position: decide again now, except
    // when an instant retry was placed (it stands until the next refresh)
    if (r.type !== 'ack' && !retried) this.nextDecideMs = now
  }

  /** Act on the lifecycle's events and actions. Returns true when a handler's requested order (instant retry) was placed. */
  private onLifecycle(res: LifecycleResult, r: VenueReport | null, now: number): boolean {
    const cfg = this.o.core
    let retried = false
    // a handler's new strategy state and events; the orders it asks for are decided by the
    // core like any other (decideRequested), never sent from here
    const handled = (h: HandlerResult): void => {
      this.state = {...this.state, strategy: h.state}
      this.logCore(h.events)
      if (h.intents.length > 0 && !this.stopping && this.decideRequested(h.intents, now)) retried = true
    }
    const lifecycleLog = (kind: LifecycleLogEvent['kind'], clientOrderId: string, extra: Record<string, unknown> = {}) => this.emit({type: 'order_lifecycle', t: now, kind, clientOrderId, ...extra})
    for (const e of res.events) {
      switch (e.kind) {
        case 'accepted': {
          handled(onOrderAccepted(this.state.strategy, {side: e.order.side, tif: e.order.tif}, now, cfg))
          break
        }
        case 'fill': {
          const f = e.fill
          const position = this.lc.position
          const mid = this.midString()
          // only the realised PnL goes in the event (pnlSummary's other figures cost a dozen decimal operations per fill)
          const realised = realisedQuote(position, this.inst).toString()
          this.emit({
            type: 'fill', t: now, clientOrderId: f.clientOrderId, side: f.side, price: this.inst.ticksToPrice(f.price), qty: this.inst.stepsToQty(f.qty),
            maker: f.maker, fee: f.fee, position: this.inst.signedStepsToQty(position.net), realised, ...(mid === null ? {} : {mid}),
          })
          handled(onFill(this.state.strategy, f, now, cfg))
          if (e.order?.tif === 'IOC' && r?.type === 'fill' && r.status === 'FILLED') handled(onIocResult(this.state.strategy, 'filled', now, cfg))
          for (const hz of this.o.markoutMs ?? [1000, 10_000]) this.insertMarkout({due: now + hz, clientOrderId: f.clientOrderId, horizonMs: hz, side: f.side, price: f.price})
          break
        }
        case 'rejected': {
          if (e.code !== -5022) break
          const o = e.order
          // the fields it reads, as one literal (a spread adding a key gives each copy a hidden class of its own on Node 20)
          handled(onPostOnlyReject(this.state.strategy, {cancelling: e.wasCancelling, slot: o.slot, side: o.side, price: o.price, qty: o.qty, tif: o.tif, reduceOnly: o.reduceOnly, layer: o.layer}, now, cfg))
          break
        }
        case 'final':
          if (e.by === 'report') {
            if (e.order.tif === 'IOC' && r?.type === 'expired') handled(onIocResult(this.state.strategy, r.filled > 0 ? 'partial' : 'expired', now, cfg))
          } else {
            lifecycleLog('settled', e.order.clientOrderId, {status: e.order.status, by: e.by})
            this.nextDecideMs = now
          }
          break
        case 'in_doubt':
          lifecycleLog('in_doubt', e.clientOrderId, {what: e.what})
          break
        case 'duplicate_fill':
          lifecycleLog('duplicate_fill', e.clientOrderId, {tradeId: e.tradeId})
          break
        case 'fill_mismatch':
          lifecycleLog('fill_mismatch', e.clientOrderId, {reported: this.inst.stepsToQty(e.reported), seen: this.inst.stepsToQty(e.seen)})
          break
        case 'unknown_order':
          lifecycleLog('unknown_order', e.clientOrderId, {report: e.report})
          break
        default:
          break
      }
    }
    for (const a of res.actions) {
      if (a.type === 'query') {
        lifecycleLog('query', a.clientOrderId)
        this.o.venue.queryOrder(a.clientOrderId)
      } else {
        // a re-cancel the lifecycle decided and has already recorded as sent
        this.emit({type: 'order', t: now, action: 'cancel', clientOrderId: a.clientOrderId, reason: a.reason})
        this.o.venue.submit(a)
      }
    }
    return retried
  }

  /** Decide the orders a strategy handler asked for (instant retry); true when one was placed. */
  private decideRequested(intents: Parameters<typeof decideRequested>[2], now: number): boolean {
    const d = decideRequested(this.state, this.decideInput(now), intents, this.ctx)
    this.state = d.state
    this.sendAll(d.events, d.actions)
    return d.actions.some((a) => a.type === 'place')
  }

  /**
   * Feed the strategy's 1-second mid samples (volatility, 3.1) and its adverse-fill watch
   * (3.3) from the book, not only at decisions; skipped when neither needs this update.
   */
  private sampleMid(mid2: number): void {
    const st = this.state.strategy
    const now = this.o.clock.now()
    if (st.adverse.length === 0 && st.lastSampleMs !== null && now - st.lastSampleMs < 1000 && now >= st.lastSampleMs) return
    const m = onMid(st, mid2 / 2, now, this.o.core)
    this.state = {...this.state, strategy: m.state}
    this.logCore(m.events)
  }

  private insertMarkout(m: Markout): void {
    let i = this.markouts.length
    while (i > 0 && this.markouts[i - 1].due > m.due) i--
    this.markouts.splice(i, 0, m)
  }

  private markout(m: Markout): void {
    const midStr = this.midString()
    if (midStr === null) return
    const mid = new Decimal(midStr)
    const fill = new Decimal(this.inst.ticksToPrice(m.price))
    const adverse = m.side === 'BUY' ? fill.minus(mid) : mid.minus(fill)
    this.emit({type: 'markout', t: this.o.clock.now(), clientOrderId: m.clientOrderId, horizonMs: m.horizonMs, side: m.side, fillPrice: this.inst.ticksToPrice(m.price), mid: mid.toString(), adverse: adverse.toString()})
  }

  private midString(): string | null {
    const mid2 = this.mid2
    if (mid2 === null) return null
    // kept for the same mid (samples, markouts and fills often ask again)
    if (mid2 !== this.midMemo2) {
      this.midMemo2 = mid2
      this.midMemo = new Decimal(mid2).div(2).mul(this.inst.spec.tickSize).toString()
    }
    return this.midMemo
  }

  private midMemo2 = Number.NaN
  private midMemo = ''

  private sample(): void {
    const now = this.o.clock.now()
    const b = this.sync.book
    const ready = b.ready
    let ownBid = -1
    let ownAsk = -1
    for (const w of this.lc.open.values()) {
      if (w.side === 'BUY' && w.price > ownBid) ownBid = w.price
      if (w.side === 'SELL' && (ownAsk === -1 || w.price < ownAsk)) ownAsk = w.price
    }
    const pnl = this.samplePnl(this.mid2 ?? 0)
    this.emit({
      type: 'sample', t: now,
      mid: this.midString(),
      bid: ready && b.bestBid() >= 0 ? this.inst.ticksToPrice(b.bestBid()) : null,
      ask: ready && b.bestAsk() >= 0 ? this.inst.ticksToPrice(b.bestAsk()) : null,
      ownBid: ownBid >= 0 ? this.inst.ticksToPrice(ownBid) : null,
      ownAsk: ownAsk >= 0 ? this.inst.ticksToPrice(ownAsk) : null,
      position: this.inst.signedStepsToQty(this.lc.position.net),
      realised: pnl.realised,
      unrealised: this.mid2 === null ? '0' : pnl.unrealised,
      fees: pnl.fees,
      risk: this.risk,
    })
    const step = this.o.sampleMs ?? 1000
    this.nextSampleMs = (Math.floor(now / step) + 1) * step
  }

  /**
   * The PnL strings of a sample (as pnlSummary gives them), kept while the position (an
   * immutable object, replaced on each fill) and the mid stay the same: most samples
   * repeat them, and each costs several decimal divisions.
   */
  private samplePnl(mid2: number): {realised: string; unrealised: string; fees: string} {
    const m = this.pnlMemo
    const pos = this.lc.position
    if (m.pos !== pos) {
      m.pos = pos
      m.realised = realisedQuote(pos, this.inst).toString()
      m.fees = new Dec(pos.fees).toString()
      m.mid2 = Number.NaN
    }
    if (m.mid2 !== mid2) {
      m.mid2 = mid2
      m.unrealised = unitsToQuote(unrealisedUnits(pos, mid2), this.inst).toString()
    }
    return m
  }

  private readonly pnlMemo = {pos: null as Position | null, mid2: Number.NaN, realised: '0', unrealised: '0', fees: '0'}

  private logCore(events: CoreEvent[]): void {
    for (const e of events) {
      const {type, ts, ...rest} = e as CoreEvent & {ts: number}
      this.emit({type, t: ts, ...rest} as RunEvent)
    }
  }

  private emit(ev: RunEvent): void {
    this.summarizer.add(ev)
    this.o.log(ev)
  }
}
