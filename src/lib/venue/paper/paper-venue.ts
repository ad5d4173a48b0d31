/**
 * The paper venue: an in-process, deterministic stand-in for Binance USDⓈ-M.
 *
 *  - `submit(action)` stamps the send time from the injected Clock; the request reaches the
 *    matching engine `entry` ms later (FIFO: a later request never overtakes an earlier one).
 *  - `onMarket(ev)` feeds the same MarketEvents the strategy sees. The venue runs on
 *    exchange time (`ev.ts`, µs → ms): requests due at or before an event are decided on the
 *    book as it was just before that event, then the event is applied.
 *  - every report is pushed into the sink stamped `ts = venueTs + response` (never earlier
 *    than the previous report), so the strategy learns it only then.
 *
 * No market impact: the replayed book never contains our orders and does not react to them.
 */
import type {Clock} from '../../clock/clock.js'
import type {Instrument, Steps} from '../../domain/instrument.js'
import type {OrderAction} from '../../domain/orders.js'
import type {BookSide, BookView} from '../../book/types.js'
import type {Level, MarketEvent} from '../../market/events.js'
import type {ReportSink, Venue, VenueReport} from '../types.js'
import {type PaperVenueConfig, resolvePaperConfig} from './config.js'
import {type FeeModel, RateFees} from './fees.js'
import {ConstantLatency, type LatencyModel} from './latency.js'
import {LevelBook} from './level-book.js'
import {MatchingEngine, type PaperOrderView} from './matching.js'
import {makeQueueModel, type QueueModel} from './queue.js'

export interface PaperVenueOptions {
  instrument: Instrument
  clock: Clock
  sink: ReportSink
  /** `paper.*` config; defaults from PAPER_DEFAULTS */
  config?: Partial<PaperVenueConfig>
  /** overrides the constant latencies of the config */
  latency?: LatencyModel
  /** overrides config.queueModel */
  queue?: QueueModel
  /** overrides the config's fee rates */
  fees?: FeeModel
  /** signed starting position in steps (reduce-only checks) */
  position?: Steps
}

interface InFlight {
  arrival: number
  /** a place or cancel, or a query by client id */
  action: OrderAction | {type: 'query'; clientOrderId: string}
}

export class PaperVenue implements Venue {
  readonly config: PaperVenueConfig
  private readonly inst: Instrument
  private readonly clock: Clock
  private readonly sink: ReportSink
  private readonly latency: LatencyModel
  private readonly levels = new LevelBook()
  private readonly engine: MatchingEngine
  private readonly inflight: InFlight[] = []
  private lastArrival = Number.NEGATIVE_INFINITY
  private lastReportTs = Number.NEGATIVE_INFINITY
  private venueNow = Number.NEGATIVE_INFINITY

  constructor(o: PaperVenueOptions) {
    this.config = resolvePaperConfig(o.config)
    this.inst = o.instrument
    this.clock = o.clock
    this.sink = o.sink
    this.latency = o.latency ?? new ConstantLatency(this.config.entryLatencyMs, this.config.responseLatencyMs)
    const queue = o.queue ?? makeQueueModel(this.config.queueModel, {power: this.config.queuePower, logUnit: Number(o.instrument.spec.stepSize)})
    const fees = o.fees ?? new RateFees(o.instrument, this.config.makerFeeRate, this.config.takerFeeRate)
    this.engine = new MatchingEngine({inst: o.instrument, book: this.levels, queue, fees, position: o.position, emit: (r) => this.deliver(r)})
  }

  // ---- Venue ------------------------------------------------------------------

  submit(action: OrderAction): void {
    const sentAt = this.clock.now()
    const arrival = Math.max(sentAt + this.latency.entry(sentAt, action), this.lastArrival)
    this.lastArrival = arrival
    this.inflight.push({arrival, action})
  }

  /** A query by client id: travels like a request (FIFO behind earlier ones), answered as a `query` report. */
  queryOrder(clientOrderId: string): void {
    const sentAt = this.clock.now()
    const action = {type: 'query' as const, clientOrderId}
    const arrival = Math.max(sentAt + this.latency.entry(sentAt, {type: 'cancel', clientOrderId, slot: '', reason: 'query'}), this.lastArrival)
    this.lastArrival = arrival
    this.inflight.push({arrival, action})
  }

  // ---- market data ------------------------------------------------------------

  onMarket(ev: MarketEvent): void {
    if (ev.symbol.toUpperCase() !== this.inst.symbol) return
    const t = Math.max(ev.ts / 1000, this.venueNow)
    this.processArrivals(t)
    this.venueNow = t
    switch (ev.kind) {
      case 'snapshot':
        this.applySnapshot(ev.bids, ev.asks)
        this.levels.lastUpdateTs = ev.ts
        this.engine.checkCross(t)
        break
      case 'depth':
        this.applyLevels('bid', ev.bids)
        this.applyLevels('ask', ev.asks)
        this.levels.lastUpdateTs = ev.ts
        this.engine.checkCross(t)
        break
      case 'trade':
        this.engine.trade(ev.side, this.inst.priceToTicks(ev.price), this.inst.qtyToSteps(ev.qty), t)
        break
      case 'ticker':
        // the depth stream is the book of record; best bid/ask tickers are not applied
        break
    }
  }

  /** Let venue time reach `ms` without market data (quiet market, end of a replay). */
  advanceTo(ms: number): void {
    this.processArrivals(ms)
    if (ms > this.venueNow) this.venueNow = ms
  }

  // ---- inspection -------------------------------------------------------------

  /** arrival time (ms) of the next in-flight request, or Infinity */
  nextArrivalTs(): number {
    return this.inflight.length > 0 ? this.inflight[0].arrival : Number.POSITIVE_INFINITY
  }

  /** venue (exchange) time of the last processed event, ms */
  get venueTime(): number {
    return this.venueNow
  }

  /** the venue's signed position in steps */
  get position(): Steps {
    return this.engine.position
  }

  /** resting orders, with their estimated queue position */
  orders(): PaperOrderView[] {
    return this.engine.orders()
  }

  order(clientOrderId: string): PaperOrderView | undefined {
    return this.engine.order(clientOrderId)
  }

  /** the replayed book as the matching engine sees it */
  get book(): BookView {
    return this.levels
  }

  // ---- internals --------------------------------------------------------------

  private processArrivals(upTo: number): void {
    const q = this.inflight
    let n = 0
    while (n < q.length && q[n].arrival <= upTo) {
      const {arrival, action} = q[n++]
      const t = Math.max(arrival, this.venueNow)
      this.venueNow = t
      if (action.type === 'place') this.engine.place(action.clientOrderId, action.order, t)
      else if (action.type === 'cancel') this.engine.cancel(action.clientOrderId, t)
      else this.engine.query(action.clientOrderId, t)
    }
    if (n > 0) q.splice(0, n)
  }

  private applyLevels(side: BookSide, levels: readonly Level[]): void {
    for (const [p, q] of levels) {
      const price = this.inst.priceToTicks(p)
      const qty = this.inst.qtyToSteps(q)
      const prev = this.levels.set(side, price, qty)
      if (this.engine.hasOrdersAt(side, price)) this.engine.levelChanged(side, price, prev, qty)
    }
  }

  private applySnapshot(bids: readonly Level[], asks: readonly Level[]): void {
    const watched: Array<[BookSide, number, Steps]> = []
    for (const side of ['bid', 'ask'] as const) {
      for (const price of this.engine.pricesOn(side)) watched.push([side, price, this.levels.qtyAt(side, price)])
    }
    this.levels.clear()
    for (const [p, q] of bids) this.levels.set('bid', this.inst.priceToTicks(p), this.inst.qtyToSteps(q))
    for (const [p, q] of asks) this.levels.set('ask', this.inst.priceToTicks(p), this.inst.qtyToSteps(q))
    for (const [side, price, prev] of watched) this.engine.levelChanged(side, price, prev, this.levels.qtyAt(side, price))
  }

  private deliver(r: VenueReport): void {
    const ts = Math.max(r.venueTs + this.latency.response(r.venueTs), this.lastReportTs)
    this.lastReportTs = ts
    r.ts = ts
    this.sink.push(r)
  }
}
