/**
 * The paper venue: an in-process, deterministic stand-in for Binance USDⓈ-M.
 *
 *  - `submit(action)` stamps the send time from the injected Clock; the request reaches the
 *    matching engine `entry` ms later (FIFO: a later request never overtakes an earlier one).
 *  - market data: the venue reads the one synced book of its symbol (`book`, shared with
 *    the engine and updated once per message by the feed). The engine tells it around each
 *    book message: `beforeBook(t)` — requests due at or before the message are decided on
 *    the book as it was just before it — and `afterBook()` — resting orders see their
 *    level's change (queue) and a crossing opposite best fills them; trades arrive as
 *    integers through `onTrade`. The venue runs on exchange time (ms).
 *  - stand-alone (tests, tools: no `book` given), `onMarket(ev)` keeps a book of its own
 *    from MarketEvents and does the same.
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
  /**
   * The symbol's one synced book, read (never written) by the venue; the caller calls
   * beforeBook/afterBook around each update. Absent: the venue keeps its own from onMarket.
   */
  book?: BookView
}

const SIDES: readonly BookSide[] = ['bid', 'ask']

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
  /** stand-alone only: the venue's own book, fed by onMarket */
  private readonly levels: LevelBook | undefined
  private readonly view: BookView
  private readonly engine: MatchingEngine
  /** levels of our resting orders before a book update: side, price, quantity (flat triples, the first `watchedN` entries; reused) */
  private readonly watched: Array<BookSide | number> = []
  private watchedN = 0
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
    this.levels = o.book ? undefined : new LevelBook()
    this.view = o.book ?? (this.levels as LevelBook)
    this.engine = new MatchingEngine({inst: o.instrument, book: this.view, queue, fees, position: o.position, emit: (r) => this.deliver(r)})
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

  /**
   * A message is about to change the shared book at venue time `ms`: decide the requests
   * due by then on the book as it is, and note the levels of our resting orders.
   */
  beforeBook(ms: number): void {
    const t = Math.max(ms, this.venueNow)
    this.processArrivals(t)
    this.venueNow = t
    this.watchedN = this.engine.openCount === 0 ? 0 : this.engine.watchLevels(this.watched, this.view)
  }

  /** The shared book changed: queue positions follow the levels of our orders; crossed orders fill. */
  afterBook(): void {
    const w = this.watched
    const n = this.watchedN
    this.watchedN = 0
    for (let i = 0; i < n; i += 3) {
      const side = w[i] as BookSide
      const price = w[i + 1] as number
      const prev = w[i + 2] as number
      const next = this.view.qtyAt(side, price)
      if (next !== prev) this.engine.levelChanged(side, price, prev, next)
    }
    this.engine.checkCross(this.venueNow)
  }

  /** A public trade (aggressor side, ticks, steps) at venue time `ms`. */
  onTrade(side: 'buy' | 'sell', price: number, qty: Steps, ms: number): void {
    const t = Math.max(ms, this.venueNow)
    this.processArrivals(t)
    this.venueNow = t
    this.engine.trade(side, price, qty, t)
  }

  /** Stand-alone feed (no shared book): MarketEvents with the venue's strings. */
  onMarket(ev: MarketEvent): void {
    if (ev.symbol.toUpperCase() !== this.inst.symbol) return
    if (!this.levels && ev.kind !== 'trade') throw new Error('PaperVenue.onMarket: book messages go to the shared book (beforeBook/afterBook)')
    const t = Math.max(ev.ts / 1000, this.venueNow)
    this.processArrivals(t)
    this.venueNow = t
    switch (ev.kind) {
      case 'snapshot':
        this.applySnapshot(ev.bids, ev.asks)
        ;(this.levels as LevelBook).lastUpdateTs = ev.ts
        this.engine.checkCross(t)
        break
      case 'depth':
        this.applyLevels('bid', ev.bids)
        this.applyLevels('ask', ev.asks)
        ;(this.levels as LevelBook).lastUpdateTs = ev.ts
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
    return this.view
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
    const book = this.levels as LevelBook
    for (const [p, q] of levels) {
      const price = this.inst.priceToTicks(p)
      const qty = this.inst.qtyToSteps(q)
      const prev = book.set(side, price, qty)
      if (this.engine.hasOrdersAt(side, price)) this.engine.levelChanged(side, price, prev, qty)
    }
  }

  private applySnapshot(bids: readonly Level[], asks: readonly Level[]): void {
    const book = this.levels as LevelBook
    const watched: Array<[BookSide, number, Steps]> = []
    for (const side of SIDES) {
      for (const price of this.engine.pricesOn(side)) watched.push([side, price, book.qtyAt(side, price)])
    }
    book.clear()
    for (const [p, q] of bids) book.set('bid', this.inst.priceToTicks(p), this.inst.qtyToSteps(q))
    for (const [p, q] of asks) book.set('ask', this.inst.priceToTicks(p), this.inst.qtyToSteps(q))
    for (const [side, price, prev] of watched) this.engine.levelChanged(side, price, prev, book.qtyAt(side, price))
  }

  private deliver(r: VenueReport): void {
    const ts = Math.max(r.venueTs + this.latency.response(r.venueTs), this.lastReportTs)
    this.lastReportTs = ts
    r.ts = ts
    this.sink.push(r)
  }
}
