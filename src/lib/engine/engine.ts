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
import {DepthSync} from '../book/sync.js'
import type {Clock} from '../clock/clock.js'
import type {CoreConfig} from '../config/resolve.js'
import {type CoreEvent, type CoreState, decide, prepareCore, type CoreContext} from '../core/decide.js'
import {GridError} from '../domain/errors.js'
import type {Instrument} from '../domain/instrument.js'
import type {OrderAction, OrderIntent, WorkingOrder} from '../domain/orders.js'
import type {MarketEvent} from '../market/events.js'
import {nextClientId} from '../orders/client-id.js'
import {applyFill, emptyPosition, pnlSummary, type Position, positionToJSON} from '../orders/position.js'
import {RunSummarizer, type RunSummary} from '../report/summary.js'
import type {ControlRequest, RiskState} from '../risk/types.js'
import {onFill, onIocResult, onMid, onOrderAccepted, onPostOnlyReject} from '../strategy/index.js'
import type {RiskStateName, RunEvent, RunStartEvent} from '../telemetry/run-events.js'
import type {ReportQueue, Venue, VenueReport} from '../venue/types.js'

/** The venue as the engine drives it: the Venue port plus the hooks a simulated venue has. */
export type EngineVenue = Venue & {onMarket?(ev: MarketEvent): void; advanceTo?(ms: number): void; nextArrivalTs?(): number}

export interface EngineOptions {
  instrument: Instrument
  core: CoreConfig
  venue: EngineVenue
  reports: ReportQueue
  clock: Clock
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
  /** told when a decision begins and ends (metrics: decide+submit latency); no effect on the run */
  onDecide?: (phase: 'begin' | 'end') => void
}

interface Markout {
  due: number
  clientOrderId: string
  horizonMs: number
  side: 'BUY' | 'SELL'
  price: number
}

const SHOCK_CHECK_FRACTION = 0.5

export class Engine {
  readonly sync: DepthSync
  readonly inst: Instrument
  private readonly o: EngineOptions
  private readonly ctx: CoreContext
  private state: CoreState
  private position: Position = emptyPosition()
  private readonly working = new Map<string, WorkingOrder>()
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
    this.sync = new DepthSync(o.instrument)
    const p = prepareCore(o.core, o.instrument, o.runId)
    this.ctx = p.ctx
    this.state = p.state
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
    })
  }

  /** The earliest time something is due without new market data. */
  nextWakeMs(): number {
    let t = Math.min(this.stopping ? Number.POSITIVE_INFINITY : this.nextDecideMs, this.nextSampleMs, this.o.reports.nextTs(), this.o.venue.nextArrivalTs?.() ?? Number.POSITIVE_INFINITY)
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

  /** One market event at the current clock time. */
  onMarket(ev: MarketEvent): void {
    if (!this.started) this.start()
    if (ev.symbol.toUpperCase() !== this.inst.symbol) return
    this.marketEvents++
    const gridErrors = this.sync.counters.gridErrors
    const r = this.sync.feed(ev, this.o.bookTime === 'venue' ? ev.ts : ev.localTs)
    // the paper venue (its own book) decides in-flight orders on the book as it was, then
    // applies the event; a message the sync refused as off-grid never reaches it
    if (this.sync.counters.gridErrors === gridErrors) {
      try {
        this.o.venue.onMarket?.(ev)
      } catch (error) {
        if (!(error instanceof GridError)) throw error
        this.badEvents++
      }
    } else {
      this.badEvents++
    }
    this.drainReports()
    if (r === 'applied') {
      const b = this.sync.book
      const mid2 = b.ready ? b.bestBid() + b.bestAsk() : null
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
    if (this.sync.invalidate(reason)) this.nextDecideMs = this.o.clock.now()
  }

  /** A control request (halt / resume / flatten) for the next decision, which happens at once. */
  request(req: ControlRequest): void {
    this.control.push(req)
    this.nextDecideMs = this.o.clock.now()
  }

  /** Cancel everything we hold, for a clean stop. Returns the cancels sent. */
  cancelAll(reason: string): number {
    let n = 0
    for (const w of this.working.values()) {
      if (w.status === 'PENDING_CANCEL') continue
      this.submit({type: 'cancel', clientOrderId: w.clientOrderId, slot: w.slot, reason})
      n++
    }
    return n
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
      for (let i = 0; i < 10_000 && this.working.size > 0; i++) {
        const next = Math.min(this.o.reports.nextTs(), this.o.venue.nextArrivalTs?.() ?? Number.POSITIVE_INFINITY)
        if (!Number.isFinite(next) || next > until) break
        settle(Math.max(next, this.o.clock.now()))
        if (this.o.clock.now() < next) break // a clock the caller does not move
        this.o.venue.advanceTo?.(this.o.clock.now())
        this.drainReports()
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
      position: positionToJSON(this.position),
      workingOrders: [...this.working.values()],
      risk: this.state.risk,
      strategy: this.state.strategy,
      clientIds: this.state.ids,
    }
  }

  summary(): RunSummary {
    return this.summarizer.result()
  }

  get openOrders(): number {
    return this.working.size
  }

  get positionSteps(): number {
    return this.position.net
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
    while (this.markouts.length > 0 && this.markouts[0].due <= now) this.markout(this.markouts.shift() as Markout)
    if (this.nextDecideMs <= now && !this.stopping) this.decideNow()
    if (this.nextSampleMs <= now) this.sample()
  }

  private decideNow(): void {
    const hook = this.o.onDecide
    if (!hook) return this.decideStep()
    hook('begin')
    try {
      this.decideStep()
    } finally {
      hook('end')
    }
  }

  private decideStep(): void {
    const now = this.o.clock.now()
    const d = decide(this.state, {nowMs: now, book: this.sync.book, bookUpdatedMs: this.sync.lastRecvUs / 1000, position: this.position, working: [...this.working.values()], control: this.control}, this.ctx)
    this.control = []
    this.state = d.state
    this.risk = d.mode
    this.lastDecideMid2 = d.mid2
    if (d.mid2 !== null) this.mid2 = d.mid2
    this.logCore(d.events)
    for (const a of d.actions) this.submit(a)
    this.nextDecideMs = Math.max(d.nextWakeMs, now + 1)
    if (this.nextSampleMs === Number.NEGATIVE_INFINITY) this.nextSampleMs = now
  }

  private submit(a: OrderAction): void {
    const now = this.o.clock.now()
    if (a.type === 'place') {
      const o = a.order
      this.working.set(a.clientOrderId, {...o, clientOrderId: a.clientOrderId, filled: 0, status: 'PENDING_NEW', sentAt: now})
      this.emit({type: 'order', t: now, action: 'place', clientOrderId: a.clientOrderId, side: o.side, price: this.inst.ticksToPrice(o.price), qty: this.inst.stepsToQty(o.qty), tif: o.tif, reduceOnly: o.reduceOnly, layer: o.layer})
    } else {
      const w = this.working.get(a.clientOrderId)
      if (w) w.status = 'PENDING_CANCEL'
      this.emit({type: 'order', t: now, action: 'cancel', clientOrderId: a.clientOrderId, reason: a.reason})
    }
    this.o.venue.submit(a)
  }

  private drainReports(): void {
    const now = this.o.clock.now()
    const reports = this.o.reports.drain(now)
    for (const r of reports) this.onReport(r, now)
  }

  private onReport(r: VenueReport, now: number): void {
    const cfg = this.o.core
    const w = this.working.get(r.clientOrderId)
    switch (r.type) {
      case 'ack': {
        if (w && w.status === 'PENDING_NEW') w.status = 'NEW'
        this.emit({type: 'ack', t: now, clientOrderId: r.clientOrderId})
        const h = onOrderAccepted(this.state.strategy, {side: r.side, tif: r.tif}, now, cfg)
        this.state = {...this.state, strategy: h.state}
        this.logCore(h.events)
        return
      }
      case 'reject': {
        this.emit({type: 'reject', t: now, clientOrderId: r.clientOrderId, code: r.code, msg: r.msg})
        if (r.request === 'cancel') {
          // -2011: the venue does not hold it (filled or gone): terminal, never retried
          if (r.code === -2011) this.working.delete(r.clientOrderId)
          else if (w) w.status = w.filled > 0 ? 'PARTIALLY_FILLED' : 'NEW'
          this.nextDecideMs = now
          return
        }
        this.working.delete(r.clientOrderId)
        if (r.code === -5022 && w) {
          const h = onPostOnlyReject(this.state.strategy, w, now, cfg)
          this.state = {...this.state, strategy: h.state}
          this.logCore(h.events)
          // an instant retry stands until the next refresh; without one, re-quote now. Only
          // while quoting normally and the order was still wanted: a retry bypasses decide,
          // so never in reduce-only, halted or paused, nor for an order we were cancelling
          if (h.intents.length > 0 && !this.stopping && this.risk === 'normal' && w.status !== 'PENDING_CANCEL') {
            for (const intent of h.intents) this.placeNow(intent)
            return
          }
        }
        this.nextDecideMs = now
        return
      }
      case 'fill': {
        this.position = applyFill(this.position, r.fill)
        if (w) {
          w.filled = r.filled
          if (r.status === 'FILLED') this.working.delete(r.clientOrderId)
          else if (w.status !== 'PENDING_CANCEL') w.status = 'PARTIALLY_FILLED'
        }
        const f = r.fill
        const mid = this.midString()
        const pnl = pnlSummary(this.position, this.inst, this.mid2 ?? 2 * f.price)
        this.emit({
          type: 'fill', t: now, clientOrderId: f.clientOrderId, side: f.side, price: this.inst.ticksToPrice(f.price), qty: this.inst.stepsToQty(f.qty),
          maker: f.maker, fee: f.fee, position: this.inst.signedStepsToQty(this.position.net), realised: pnl.realised, ...(mid === null ? {} : {mid}),
        })
        let h = onFill(this.state.strategy, f, now, cfg)
        if (w?.tif === 'IOC' && r.status === 'FILLED') {
          const i = onIocResult(h.state, 'filled', now, cfg)
          h = {state: i.state, events: [...h.events, ...i.events], intents: []}
        }
        this.state = {...this.state, strategy: h.state}
        this.logCore(h.events)
        for (const hz of this.o.markoutMs ?? [1000, 10_000]) this.insertMarkout({due: now + hz, clientOrderId: f.clientOrderId, horizonMs: hz, side: f.side, price: f.price})
        this.nextDecideMs = now
        return
      }
      case 'canceled':
        this.working.delete(r.clientOrderId)
        this.emit({type: 'canceled', t: now, clientOrderId: r.clientOrderId})
        this.nextDecideMs = now
        return
      case 'expired': {
        this.working.delete(r.clientOrderId)
        this.emit({type: 'expired', t: now, clientOrderId: r.clientOrderId, msg: r.reason})
        if (w?.tif === 'IOC') {
          const h = onIocResult(this.state.strategy, r.filled > 0 ? 'partial' : 'expired', now, cfg)
          this.state = {...this.state, strategy: h.state}
          this.logCore(h.events)
        }
        this.nextDecideMs = now
        return
      }
    }
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

  /** Send an order the strategy asked for outside a decision (instant retry). */
  private placeNow(intent: OrderIntent): void {
    const n = nextClientId(this.state.ids, intent.slot)
    this.state = {...this.state, ids: n.state}
    this.submit({type: 'place', clientOrderId: n.id, order: intent})
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
    if (this.mid2 === null) return null
    return new Decimal(this.mid2).div(2).mul(this.inst.spec.tickSize).toString()
  }

  private sample(): void {
    const now = this.o.clock.now()
    const b = this.sync.book
    const ready = b.ready
    let ownBid = -1
    let ownAsk = -1
    for (const w of this.working.values()) {
      if (w.side === 'BUY' && w.price > ownBid) ownBid = w.price
      if (w.side === 'SELL' && (ownAsk === -1 || w.price < ownAsk)) ownAsk = w.price
    }
    const pnl = pnlSummary(this.position, this.inst, this.mid2 ?? 0)
    this.emit({
      type: 'sample', t: now,
      mid: this.midString(),
      bid: ready ? this.inst.ticksToPrice(b.bestBid()) : null,
      ask: ready ? this.inst.ticksToPrice(b.bestAsk()) : null,
      ownBid: ownBid >= 0 ? this.inst.ticksToPrice(ownBid) : null,
      ownAsk: ownAsk >= 0 ? this.inst.ticksToPrice(ownAsk) : null,
      position: this.inst.signedStepsToQty(this.position.net),
      realised: pnl.realised,
      unrealised: this.mid2 === null ? '0' : pnl.unrealised,
      fees: pnl.fees,
      risk: this.risk,
    })
    const step = this.o.sampleMs ?? 1000
    this.nextSampleMs = (Math.floor(now / step) + 1) * step
  }

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
