/**
 * The trading core of `mm sim`: Binance USDⓈ-M order semantics around the paper venue.
 *
 * Matching, queue position, latency and fees are the dry-run's: one PaperVenue per symbol,
 * fed the same MarketEvents the sim publishes, driven by a market-time Clock. This module
 * adds what a real exchange has on top: order ids and Binance order objects, parameter
 * validation and error codes, the account ledger (ledger.ts, its own arithmetic), trades,
 * the user-data events, modify, batch, cancel-all and the countdown (dead-man's switch).
 *
 * Time: the paper venue runs on market time (`clock`, ms). A request is stamped with
 * `clock.now()`, reaches the matching engine `entry` ms later and every report is produced
 * at `venueTs` and delivered (HTTP answer, user-stream event) at `ts = venueTs + response`.
 * State (order status, ledger) changes at `venueTs`, as on a real exchange where a query
 * can see a fill before its event arrives. Reported times are the server's wall clock.
 */
import type {Clock} from '../../clock/clock.js'
import {PlainDecimal as D} from '../../domain/decimal.js'
import {Instrument} from '../../domain/instrument.js'
import type {OrderAction, OrderIntent, OrderSide, TimeInForce} from '../../domain/orders.js'
import type {MarketEvent} from '../../market/events.js'
import type {PaperVenueConfig} from '../paper/config.js'
import {ConstantLatency, type LatencyModel} from '../paper/latency.js'
import {PaperVenue} from '../paper/paper-venue.js'
import {resolvePaperConfig} from '../paper/config.js'
import type {VenueReport} from '../types.js'
import {fmt, SimLedger} from './ledger.js'
import {ApiError, Err} from './signing.js'

export interface Timers {
  set(fn: () => void, ms: number): unknown
  clear(handle: unknown): void
}

export const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, Math.max(0, ms)),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
}

/** Timers that never fire: the caller drives time with `advanceTo` (tests on a controlled clock). */
export const manualTimers: Timers = {set: () => undefined, clear: () => undefined}

/**
 * Market time for a live sim: the ts of the last published event, running on with the
 * wall clock × speed between events (never backwards).
 */
export class MarketClock implements Clock {
  private anchorMarket = 0
  private anchorWall: number

  constructor(private readonly wall: Clock, private readonly speed = 1) {
    this.anchorWall = wall.now()
  }

  now(): number {
    return this.anchorMarket + (this.wall.now() - this.anchorWall) * this.speed
  }

  /** a market event at `ms` was published */
  observe(ms: number): void {
    const n = this.now()
    this.anchorMarket = this.anchorMarket === 0 ? ms : Math.max(ms, n)
    this.anchorWall = this.wall.now()
  }

  /** has a market event been published (before that, now() counts from 0, not a venue time) */
  get started(): boolean {
    return this.anchorMarket !== 0
  }

  /** market time after `wallMs` more wall milliseconds */
  afterWall(wallMs: number): number {
    return this.now() + wallMs * this.speed
  }

  /** wall ms until market time reaches `ms` */
  wallDelay(ms: number): number {
    return Math.max(0, (ms - this.now()) / this.speed)
  }
}

export type SimOrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED'

export interface SimOrder {
  orderId: number
  symbol: string
  clientOrderId: string
  side: OrderSide
  type: 'LIMIT' | 'MARKET'
  /** Binance timeInForce as sent (GTC, IOC, FOK, GTX) */
  timeInForce: string
  price: string
  origQty: string
  qtySteps: number
  priceTicks: number
  reduceOnly: boolean
  positionSide: string
  /** undefined until the matching engine accepted it */
  status?: SimOrderStatus
  filledSteps: number
  cumQuote: D
  time: number
  updateTime: number
  /** id of the order's current incarnation in the paper venue */
  paperId: string
  /** steps filled before the current incarnation (modify re-queues the rest) */
  baseFilled: number
  expiryReason: string
  modify?: {price: number; qty: number; priceStr: string; qtyStr: string; waiter: Waiter}
}

export interface SimTrade {
  symbol: string
  id: number
  orderId: number
  side: OrderSide
  price: string
  qty: string
  realizedPnl: string
  marginAsset: string
  quoteQty: string
  commission: string
  commissionAsset: string
  time: number
  positionSide: string
  buyer: boolean
  maker: boolean
}

interface Waiter {
  resolve: (o: SimOrder) => void
  reject: (e: ApiError) => void
}

export interface SimAccountOptions {
  /** starting wallet balance per margin asset (default 10000) */
  balance?: string
  /** positionSide/dual answers true: orders need LONG/SHORT */
  hedgeMode?: boolean
  /** GET /fapi/v1/feeBurn answers true (BNB fee discount on; the sim still charges fees in the margin asset) */
  feeBurn?: boolean
  /** exchangeInfo status per symbol (anything but TRADING refuses new orders) */
  symbolStatus?: Record<string, string>
  /** funding is booked every interval (wall ms) at `fundingRate` */
  fundingIntervalMs?: number
  fundingRate?: string
  /** PERCENT_PRICE multipliers against the mark price */
  percentUp?: string
  percentDown?: string
  /** MAX_NUM_ORDERS filter */
  maxNumOrders?: number
}

export interface SimExchangeOptions extends SimAccountOptions {
  /** LOT_SIZE maxQty is each instrument's spec.maxQty (LIMIT orders) */
  instruments: Instrument[]
  /** MARKET_LOT_SIZE maxQty per symbol (MARKET orders; default: the instrument's LOT_SIZE maxQty) */
  marketMaxQty?: Record<string, string>
  /** market time for the paper venues, ms */
  clock: Clock
  /** the server's wall clock (times in answers and events) */
  wall: Clock
  timers?: Timers
  /** wall ms for a market-time delay (default: the same) */
  wallDelay?: (marketMs: number) => number
  paper?: Partial<PaperVenueConfig>
  latency?: LatencyModel
  /** receives every user-data event (TRADE_LITE, ORDER_TRADE_UPDATE, ACCOUNT_UPDATE) when it is due */
  onUserEvent?: (ev: Record<string, unknown>) => void
}

interface SymbolState {
  inst: Instrument
  /** MARKET_LOT_SIZE maxQty in steps */
  marketMaxSteps: number
  venue: PaperVenue
  marginAsset: string
  leverage: number
  lastTrade?: string
  countdown?: unknown
  countdownMs: number
}

const CLIENT_ID_RE = /^[.A-Z:/a-z0-9_-]{1,36}$/
/** selfTradePreventionMode values Binance accepts (FACTS §2.2); any other is -5039 */
const STP_MODES = new Set(['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'])
const DEC_RE = /^\d+(\.\d+)?$/
/** maintenance margin rate of the sim's liquidation estimate (Binance ETHUSDC tier 1: 0.5 %) */
const SIM_MAINT_RATE = new D('0.005')

export const SimMessages = {
  [-5022]: 'Due to the order could not be executed as maker, the Post Only order will be rejected.',
  [-5021]: 'Due to the order could not be filled immediately, the FOK order has been rejected.',
  [-2022]: 'ReduceOnly Order is rejected.',
  [-2011]: 'Unknown order sent.',
  [-2013]: 'Order does not exist.',
  [-4116]: 'clientOrderId is duplicated',
  [-2025]: 'Reach max open order limit.',
  [-4016]: 'Price is higher than mark price multiplier cap.',
  [-4024]: 'Price is lower than mark price multiplier floor.',
  [-4061]: "Order's position side does not match user's setting.",
  [-5027]: 'No need to modify the order.',
} as Record<number, string>

const apiErr = (code: number, msg?: string) => new ApiError(code, msg ?? SimMessages[code] ?? 'rejected')

/** Latency model wrapper: a modify's re-placement reaches the engine with no extra entry latency. */
class ReplaceLatency implements LatencyModel {
  readonly immediate = new Set<string>()
  constructor(private readonly base: LatencyModel) {}
  entry(sentAt: number, action: OrderAction): number {
    return this.immediate.has(action.clientOrderId) ? 0 : this.base.entry(sentAt, action)
  }

  response(venueTs: number): number {
    return this.base.response(venueTs)
  }
}

export class SimExchange {
  readonly paperConfig: PaperVenueConfig
  readonly ledger: SimLedger
  private readonly o: SimExchangeOptions
  private readonly timers: Timers
  private readonly symbols = new Map<string, SymbolState>()
  private readonly orders = new Map<number, SimOrder>()
  private readonly byPaper = new Map<string, SimOrder>()
  private readonly placeWaiters = new Map<string, Waiter>()
  private readonly cancelWaiters = new Map<string, Waiter>()
  private readonly trades: SimTrade[] = []
  private readonly due: Array<{ts: number; fn: () => void}> = []
  private readonly latency: ReplaceLatency
  private dueTimer: unknown
  private kickTimer: unknown
  private kickAt = Number.POSITIVE_INFINITY
  private nextOrderId = 8_389_765_000
  private nextTradeId = 5_000_001
  private nextPaperSeq = 0
  private autoIdSeq = 0
  private fundingTimer: unknown
  private lastFundingTime = 0
  /** server wall time at which the --funding-interval timer books funding next */
  private fundingDueWall: number | undefined
  hedgeMode: boolean
  /** the BNB fee discount (GET/POST /fapi/v1/feeBurn): a setting only, fees stay in the margin asset */
  feeBurn: boolean
  /** POST /fapi/v1/marginType per symbol (a label: no margin model); absent = cross */
  readonly marginTypes = new Map<string, 'cross' | 'isolated'>()
  /** every funding booking per symbol (GET /fapi/v1/fundingRate, income FUNDING_FEE): `income` is the wallet change, absent when flat */
  readonly fundingLog: Array<{symbol: string; asset: string; rate: string; mark: string; time: number; income?: string}> = []

  constructor(o: SimExchangeOptions) {
    this.o = o
    this.timers = o.timers ?? realTimers
    this.paperConfig = resolvePaperConfig(o.paper)
    this.hedgeMode = o.hedgeMode ?? false
    this.feeBurn = o.feeBurn ?? false
    this.latency = new ReplaceLatency(o.latency ?? new ConstantLatency(this.paperConfig.entryLatencyMs, this.paperConfig.responseLatencyMs))
    const balances: Record<string, string> = {}
    for (const inst of o.instruments) {
      const marginAsset = inst.spec.marginAsset ?? inst.spec.quoteAsset ?? (/(USDT|USDC)$/.exec(inst.symbol)?.[1] ?? 'USDT')
      balances[marginAsset] = o.balance ?? '10000'
      const venue = new PaperVenue({instrument: inst, clock: o.clock, sink: {push: (r) => this.onReport(inst.symbol, r)}, config: this.paperConfig, latency: this.latency})
      const marketMax = o.marketMaxQty?.[inst.symbol]
      const marketMaxSteps = marketMax === undefined ? inst.maxQtySteps : Math.min(Number.MAX_SAFE_INTEGER, new D(marketMax).div(inst.spec.stepSize).floor().toNumber())
      this.symbols.set(inst.symbol, {inst, marketMaxSteps, venue, marginAsset, leverage: 20, countdownMs: 0})
    }
    this.ledger = new SimLedger(balances)
    if (o.fundingIntervalMs) this.armFunding()
  }

  stop(): void {
    this.timers.clear(this.dueTimer)
    this.timers.clear(this.kickTimer)
    this.timers.clear(this.fundingTimer)
    for (const s of this.symbols.values()) this.timers.clear(s.countdown)
  }

  instrument(symbol: string): Instrument | undefined {
    return this.symbols.get(symbol)?.inst
  }

  symbolStatus(symbol: string): string {
    return this.o.symbolStatus?.[symbol] ?? 'TRADING'
  }

  get percentUp(): string {
    return this.o.percentUp ?? '1.05'
  }

  get percentDown(): string {
    return this.o.percentDown ?? '0.95'
  }

  get maxNumOrders(): number {
    return this.o.maxNumOrders ?? 200
  }

  private now(): number {
    return this.o.wall.now()
  }

  // ---- market ------------------------------------------------------------------

  onMarket(ev: MarketEvent): void {
    const s = this.symbols.get(ev.symbol.toUpperCase())
    if (!s) return
    if (ev.kind === 'trade') s.lastTrade = ev.price
    s.venue.onMarket(ev)
    this.flushDue()
  }

  /** Let market time reach `ms` (process in-flight requests, deliver due reports). */
  advanceTo(ms: number): void {
    for (const s of this.symbols.values()) s.venue.advanceTo(ms)
    this.flushDue(ms)
  }

  /** mark price: the book's mid, else the last trade, else undefined */
  markPrice(symbol: string): D | undefined {
    const s = this.symbols.get(symbol)
    if (!s) return undefined
    const b = s.venue.book
    const bid = b.bestBid()
    const ask = b.bestAsk()
    if (bid >= 0 && ask >= 0) return new D(s.inst.ticksToPrice(bid)).add(s.inst.ticksToPrice(ask)).div(2)
    if (bid >= 0) return new D(s.inst.ticksToPrice(bid))
    if (ask >= 0) return new D(s.inst.ticksToPrice(ask))
    return s.lastTrade === undefined ? undefined : new D(s.lastTrade)
  }

  markString(symbol: string): string {
    const m = this.markPrice(symbol)
    const s = this.symbols.get(symbol)
    return m === undefined || !s ? '0' : fmt(m, s.inst.priceDecimals + 1)
  }

  // ---- validation --------------------------------------------------------------

  private symbolOf(p: Map<string, string>): SymbolState {
    const sym = p.get('symbol')
    if (!sym) throw Err.mandatory('symbol')
    const s = this.symbols.get(sym.toUpperCase())
    if (!s) throw Err.badSymbol()
    return s
  }

  private priceOf(s: SymbolState, str: string | undefined, name = 'price'): number {
    if (str === undefined || str === '') throw Err.mandatory(name)
    if (!DEC_RE.test(str)) throw Err.mandatory(name)
    const dec = str.includes('.') ? str.split('.')[1].replace(/0+$/, '').length : 0
    if (dec > s.inst.priceDecimals) throw new ApiError(-1111, 'Precision is over the maximum defined for this asset.')
    const d = new D(str)
    // PRICE_FILTER (FACTS §2.1): minPrice and maxPrice as exchangeInfo lists them (0 disables a bound)
    const {minPrice, maxPrice} = s.inst.spec
    if (d.lte(0) || (minPrice !== undefined && d.lt(minPrice))) throw new ApiError(-4013, 'Price less than min price.')
    if (maxPrice !== undefined && new D(maxPrice).gt(0) && d.gt(maxPrice)) throw new ApiError(-4002, 'Price greater than max price.')
    if (!d.mod(s.inst.spec.tickSize).isZero()) throw new ApiError(-4014, 'Price not increased by tick size.')
    return s.inst.priceToTicks(str)
  }

  /** a quantity on the LOT_SIZE grid; at most LOT_SIZE maxQty (LIMIT) or MARKET_LOT_SIZE maxQty (MARKET) */
  private qtyOf(s: SymbolState, str: string | undefined, type: 'LIMIT' | 'MARKET'): number {
    if (str === undefined || str === '') throw Err.mandatory('quantity')
    if (!DEC_RE.test(str)) throw Err.mandatory('quantity')
    const dec = str.includes('.') ? str.split('.')[1].replace(/0+$/, '').length : 0
    if (dec > s.inst.qtyDecimals) throw new ApiError(-1111, 'Precision is over the maximum defined for this asset.')
    const d = new D(str)
    if (d.lte(0)) throw new ApiError(-4003, 'Quantity less than zero.')
    if (!d.mod(s.inst.spec.stepSize).isZero()) throw new ApiError(-4023, 'Qty not increased by step size.')
    const steps = s.inst.qtyToSteps(str)
    if (steps < s.inst.minQtySteps) throw new ApiError(-4004, 'Quantity less than min quantity.')
    if (steps > (type === 'MARKET' ? s.marketMaxSteps : s.inst.maxQtySteps)) throw new ApiError(-4005, 'Quantity greater than max quantity.')
    return steps
  }

  private checkPercentPrice(s: SymbolState, side: OrderSide, priceTicks: number): void {
    const mark = this.markPrice(s.inst.symbol)
    if (!mark) return
    const price = new D(s.inst.ticksToPrice(priceTicks))
    if (side === 'BUY' && price.gt(mark.mul(this.percentUp))) throw apiErr(-4016)
    if (side === 'SELL' && price.lt(mark.mul(this.percentDown))) throw apiErr(-4024)
  }

  private openOf(symbol: string): SimOrder[] {
    const out: SimOrder[] = []
    for (const o of this.orders.values()) if (o.symbol === symbol && this.isOpen(o)) out.push(o)
    return out
  }

  private isOpen(o: SimOrder): boolean {
    return o.status === undefined || o.status === 'NEW' || o.status === 'PARTIALLY_FILLED'
  }

  /** the signed position in steps the paper venue holds for a symbol */
  positionSteps(symbol: string): number {
    return this.symbols.get(symbol)?.venue.position ?? 0
  }

  // ---- orders ------------------------------------------------------------------

  /** POST /fapi/v1/order. Resolves with the order object (ACK: as accepted; RESULT: final for IOC/FOK/MARKET). */
  /**
   * POST /fapi/v1/order. With `test` (POST /fapi/v1/order/test) every check runs (parameters,
   * filters, notional, client id, MAX_NUM_ORDERS) and nothing is placed: the answer is `{}`.
   */
  async newOrder(p: Map<string, string>, opts: {test?: boolean} = {}): Promise<Record<string, unknown>> {
    const s = this.symbolOf(p)
    const sym = s.inst.symbol
    const side = p.get('side')
    if (!side) throw Err.mandatory('side')
    if (side !== 'BUY' && side !== 'SELL') throw new ApiError(-1117, 'Invalid side.')
    const type = p.get('type')
    if (!type) throw Err.mandatory('type')
    if (/^(STOP|TAKE_PROFIT|TRAILING)/.test(type)) throw new ApiError(-4120, 'Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.')
    if (type !== 'LIMIT' && type !== 'MARKET') throw new ApiError(-1116, 'Invalid orderType.')
    const respType = p.get('newOrderRespType') ?? 'ACK'
    if (respType !== 'ACK' && respType !== 'RESULT') throw new ApiError(-1136, 'Invalid newOrderRespType.')
    const positionSide = p.get('positionSide') ?? 'BOTH'
    if (!['BOTH', 'LONG', 'SHORT'].includes(positionSide)) throw new ApiError(-4060, 'Invalid position side.')
    const stp = p.get('selfTradePreventionMode')
    if (stp !== undefined && !STP_MODES.has(stp)) throw new ApiError(-5039, 'Invalid self trade prevention mode')
    if (this.hedgeMode && positionSide === 'BOTH') throw apiErr(-4061)
    if (!this.hedgeMode && positionSide !== 'BOTH') throw apiErr(-4061)
    if (this.symbolStatus(sym) !== 'TRADING') throw new ApiError(-4140, 'Invalid symbol status for opening position.')
    const ro = p.get('reduceOnly')
    if (ro !== undefined && ro !== 'true' && ro !== 'false') throw Err.invalidParam('reduceOnly')
    if (ro !== undefined && this.hedgeMode) throw Err.notRequired('reduceOnly')
    const reduceOnly = ro === 'true'
    if (p.has('priceMatch') && p.get('priceMatch') !== 'NONE') throw new ApiError(-1116, 'priceMatch is not supported by mm sim.')
    let clientOrderId = p.get('newClientOrderId')
    if (clientOrderId !== undefined && !CLIENT_ID_RE.test(clientOrderId)) throw new ApiError(-4015, clientOrderId.length > 36 ? 'Client order id length should not be more than 36 chars' : 'Client order id is not valid.')
    if (!opts.test) clientOrderId ??= `sim${(++this.autoIdSeq).toString(36).padStart(6, '0')}${(this.nextOrderId % 1_000_000).toString(36)}`
    const qty = this.qtyOf(s, p.get('quantity'), type)
    let tif: string
    let price: number
    const buy = side === 'BUY'
    if (type === 'LIMIT') {
      tif = p.get('timeInForce') ?? ''
      if (!tif) throw Err.mandatory('timeInForce')
      if (!['GTC', 'IOC', 'FOK', 'GTX'].includes(tif)) throw new ApiError(-1115, 'Invalid timeInForce.')
      price = this.priceOf(s, p.get('price'))
      this.checkPercentPrice(s, side, price)
    } else {
      if (p.has('price')) throw Err.notRequired('price')
      if (p.has('timeInForce')) throw Err.notRequired('timeInForce')
      tif = 'GTC'
      // a MARKET order takes the book: an IOC at the far end of the price range
      price = buy ? 1e12 : 1
    }
    // notional: LIMIT at its price, MARKET at the mark (FACTS §2.1)
    if (!reduceOnly) {
      const px = type === 'LIMIT' ? new D(s.inst.ticksToPrice(price)) : this.markPrice(sym)
      if (px && px.mul(s.inst.stepsToQty(qty)).lt(s.inst.spec.minNotional)) {
        throw new ApiError(-4164, `Order's notional must be no smaller than ${s.inst.spec.minNotional} (unless you choose reduce only)`)
      }
    }
    for (const o of this.openOf(sym)) if (o.clientOrderId === clientOrderId) throw apiErr(-4116)
    if (this.openOf(sym).length >= this.maxNumOrders) throw apiErr(-2025)
    if (opts.test) return {}
    if (tif === 'FOK') {
      let avail = 0
      s.venue.book.forEachLevel(buy ? 'ask' : 'bid', (pt, q) => {
        if (buy ? pt > price : pt < price) return false
        avail += q
        if (avail >= qty) return false
      })
      if (avail < qty) throw apiErr(-5021)
    }
    const paperTif: TimeInForce = type === 'MARKET' || tif === 'IOC' || tif === 'FOK' ? 'IOC' : tif === 'GTX' ? 'GTX' : 'GTC'
    const t = this.now()
    const o: SimOrder = {
      orderId: this.nextOrderId++,
      symbol: sym,
      clientOrderId: clientOrderId as string,
      side,
      type,
      timeInForce: type === 'MARKET' ? 'GTC' : tif,
      price: type === 'MARKET' ? '0' : s.inst.ticksToPrice(price),
      origQty: s.inst.stepsToQty(qty),
      qtySteps: qty,
      priceTicks: price,
      reduceOnly,
      positionSide,
      filledSteps: 0,
      cumQuote: new D(0),
      time: t,
      updateTime: t,
      paperId: this.paperId(),
      baseFilled: 0,
      expiryReason: '0',
    }
    this.orders.set(o.orderId, o)
    this.byPaper.set(o.paperId, o)
    const accepted = new Promise<SimOrder>((resolve, reject) => this.placeWaiters.set(o.paperId, {resolve, reject}))
    // ACK answers with the order as the engine accepted it (the view is taken at ack time)
    let ackView: Record<string, unknown> | undefined
    this.ackViews.set(o.paperId, (v) => (ackView = v))
    const intent: OrderIntent = type === 'MARKET' ? {slot: 'sim', side, price, qty, tif: paperTif, reduceOnly, layer: 'dynamic', market: true} : {slot: 'sim', side, price, qty, tif: paperTif, reduceOnly, layer: 'dynamic'}
    s.venue.submit({type: 'place', clientOrderId: o.paperId, order: intent})
    this.kick()
    const order = await accepted
    return respType === 'ACK' ? (ackView ?? this.orderJson(order)) : this.orderJson(order)
  }

  private readonly ackViews = new Map<string, (v: Record<string, unknown>) => void>()

  private paperId(): string {
    return `p${++this.nextPaperSeq}`
  }

  findOrder(p: Map<string, string>, symbol: string): SimOrder {
    const id = p.get('orderId')
    const cid = p.get('origClientOrderId')
    if (id === undefined && cid === undefined) throw Err.mandatory('orderId')
    if (id !== undefined) {
      if (!/^\d+$/.test(id)) throw Err.mandatory('orderId')
      const o = this.orders.get(Number(id))
      if (!o || o.symbol !== symbol || o.status === undefined) throw apiErr(-2013)
      return o
    }
    let found: SimOrder | undefined
    for (const o of this.orders.values()) {
      if (o.symbol === symbol && o.clientOrderId === cid && o.status !== undefined) found = o
    }
    if (!found) throw apiErr(-2013)
    return found
  }

  queryOrder(p: Map<string, string>): Record<string, unknown> {
    const s = this.symbolOf(p)
    return this.orderJson(this.findOrder(p, s.inst.symbol), true)
  }

  openOrder(p: Map<string, string>): Record<string, unknown> {
    const s = this.symbolOf(p)
    let o: SimOrder
    try {
      o = this.findOrder(p, s.inst.symbol)
    } catch {
      throw new ApiError(-2013, 'Order does not exist.')
    }
    if (!this.isOpen(o) || o.status === undefined) throw new ApiError(-2013, 'Order does not exist.')
    return this.orderJson(o, true)
  }

  openOrders(symbol?: string): Array<Record<string, unknown>> {
    if (symbol !== undefined && !this.symbols.has(symbol.toUpperCase())) throw Err.badSymbol()
    const out: Array<Record<string, unknown>> = []
    for (const o of this.orders.values()) {
      if (o.status === undefined || !this.isOpen(o)) continue
      if (symbol && o.symbol !== symbol.toUpperCase()) continue
      out.push(this.orderJson(o, true))
    }
    return out
  }

  /**
   * GET /fapi/v1/allOrders (FACTS §2.3): `limit` default 500, at most 1000 (larger is cut to
   * it; 0 or malformed is -1130); `orderId`: orders from that id on; `startTime` / `endTime`
   * bound the order's `time`. From an `orderId` or a `startTime` the oldest `limit` from
   * there, else the most recent `limit`; oldest first either way.
   */
  allOrders(p: Map<string, string>): Array<Record<string, unknown>> {
    const s = this.symbolOf(p)
    const num = (name: string): number | undefined => {
      const v = p.get(name)
      if (v === undefined) return undefined
      if (!/^\d{1,19}$/.test(v)) throw Err.invalidParam(name)
      return Number(v)
    }
    const fromId = num('orderId')
    const start = num('startTime')
    const end = num('endTime')
    const lim = num('limit')
    if (lim !== undefined && lim < 1) throw Err.invalidParam('limit')
    const limit = Math.min(lim ?? 500, 1000)
    const rows: SimOrder[] = []
    for (const o of this.orders.values()) {
      if (o.symbol !== s.inst.symbol || o.status === undefined) continue
      if ((fromId !== undefined && o.orderId < fromId) || (start !== undefined && o.time < start) || (end !== undefined && o.time > end)) continue
      rows.push(o)
    }
    rows.sort((a, b) => a.orderId - b.orderId)
    const pick = fromId !== undefined || start !== undefined ? rows.slice(0, limit) : rows.slice(-limit)
    return pick.map((o) => this.orderJson(o, true))
  }

  /** DELETE /fapi/v1/order */
  async cancelOrder(p: Map<string, string>): Promise<Record<string, unknown>> {
    const s = this.symbolOf(p)
    let o: SimOrder
    try {
      o = this.findOrder(p, s.inst.symbol)
    } catch {
      throw apiErr(-2011)
    }
    return this.orderJson(await this.cancel(o), false)
  }

  private cancel(o: SimOrder): Promise<SimOrder> {
    if (!this.isOpen(o) || o.status === undefined || o.modify) return Promise.reject(apiErr(-2011))
    const existing = this.cancelWaiters.get(o.paperId)
    const s = this.symbols.get(o.symbol) as SymbolState
    const p = new Promise<SimOrder>((resolve, reject) => {
      if (existing) {
        // a second cancel of the same order: answer when the first one is decided
        this.cancelWaiters.set(o.paperId, {resolve: (x) => { existing.resolve(x); reject(apiErr(-2011)) }, reject: (e) => { existing.reject(e); reject(e) }})
        return
      }
      this.cancelWaiters.set(o.paperId, {resolve, reject})
    })
    if (!existing) {
      s.venue.submit({type: 'cancel', clientOrderId: o.paperId, slot: 'sim', reason: 'api'})
      this.kick()
    }
    return p
  }

  /** DELETE /fapi/v1/allOpenOrders */
  async cancelAll(symbol: string): Promise<void> {
    const open = this.openOf(symbol).filter((o) => o.status !== undefined && !o.modify)
    await Promise.allSettled(open.map((o) => this.cancel(o)))
  }

  /** PUT /fapi/v1/order: new price and quantity; the order is re-queued (FACTS §2.2). */
  async modifyOrder(p: Map<string, string>): Promise<Record<string, unknown>> {
    const s = this.symbolOf(p)
    const side = p.get('side')
    if (!side) throw Err.mandatory('side')
    const o = this.findOrder(p, s.inst.symbol)
    if (o.type !== 'LIMIT') throw new ApiError(-5025, 'Only limit order is supported.')
    if (side !== o.side) throw new ApiError(-1117, 'Invalid side.')
    if (!this.isOpen(o) || o.status === undefined) throw apiErr(-2013)
    if (o.modify) throw new ApiError(-5043, 'A pending modification already exists for this order.')
    const qty = this.qtyOf(s, p.get('quantity'), 'LIMIT')
    const price = this.priceOf(s, p.get('price'))
    this.checkPercentPrice(s, o.side, price)
    if (qty === o.qtySteps && price === o.priceTicks) throw apiErr(-5027)
    if (!o.reduceOnly && qty > o.filledSteps && new D(s.inst.ticksToPrice(price)).mul(s.inst.stepsToQty(qty)).lt(s.inst.spec.minNotional)) throw new ApiError(-5029, `Order's notional must be no smaller than ${s.inst.spec.minNotional}`)
    const oldPaper = o.paperId
    const done = new Promise<SimOrder>((resolve, reject) => {
      o.modify = {price, qty, priceStr: s.inst.ticksToPrice(price), qtyStr: s.inst.stepsToQty(qty), waiter: {resolve, reject}}
    })
    s.venue.submit({type: 'cancel', clientOrderId: oldPaper, slot: 'sim', reason: 'modify'})
    this.kick()
    return this.orderJson(await done)
  }

  /** POST /fapi/v1/countdownCancelAll: cancel the symbol's open orders when the countdown runs out. */
  countdown(symbol: string, ms: number): void {
    const s = this.symbols.get(symbol) as SymbolState
    this.timers.clear(s.countdown)
    s.countdown = undefined
    s.countdownMs = ms
    if (ms > 0) {
      s.countdown = this.timers.set(() => {
        s.countdown = undefined
        void this.cancelAll(symbol)
      }, ms)
    }
  }

  setLeverage(symbol: string, lev: number): number {
    const s = this.symbols.get(symbol) as SymbolState
    s.leverage = lev
    return lev
  }

  // ---- reports from the paper venue -------------------------------------------

  private onReport(symbol: string, r: VenueReport): void {
    const o = this.byPaper.get(r.clientOrderId)
    if (!o) return
    const s = this.symbols.get(symbol) as SymbolState
    const t = this.now()
    switch (r.type) {
      case 'ack': {
        if (o.modify && o.status !== undefined) {
          // the re-queued incarnation of a modified order is live
          const m = o.modify
          o.modify = undefined
          o.priceTicks = m.price
          o.price = m.priceStr
          o.qtySteps = m.qty
          o.origQty = m.qtyStr
          o.updateTime = t
          this.userOrderEvent(o, 'AMENDMENT', r.ts)
          const view = o
          this.at(r.ts, () => m.waiter.resolve(view))
          return
        }
        o.status = 'NEW'
        o.updateTime = t
        const setView = this.ackViews.get(r.clientOrderId)
        this.ackViews.delete(r.clientOrderId)
        setView?.(this.orderJson(o))
        this.userOrderEvent(o, 'NEW', r.ts)
        const w = this.placeWaiters.get(r.clientOrderId)
        this.placeWaiters.delete(r.clientOrderId)
        if (w) this.at(r.ts, () => w.resolve(o))
        return
      }
      case 'reject': {
        if (r.request === 'cancel') {
          if (o.modify && o.paperId === r.clientOrderId) {
            const m = o.modify
            o.modify = undefined
            this.at(r.ts, () => m.waiter.reject(apiErr(-2011)))
            return
          }
          const w = this.cancelWaiters.get(r.clientOrderId)
          this.cancelWaiters.delete(r.clientOrderId)
          if (w) this.at(r.ts, () => w.reject(apiErr(-2011)))
          return
        }
        if (o.modify && o.status !== undefined) {
          // a modified GTX that would cross is cancelled (FACTS §2.2)
          const m = o.modify
          o.modify = undefined
          o.status = 'CANCELED'
          o.updateTime = t
          this.userOrderEvent(o, 'CANCELED', r.ts)
          this.at(r.ts, () => m.waiter.reject(apiErr(r.code, this.messageFor(r.code, s))))
          return
        }
        // a refused order is not recorded (FACTS §4: -5022 cannot be queried)
        this.orders.delete(o.orderId)
        this.byPaper.delete(r.clientOrderId)
        this.ackViews.delete(r.clientOrderId)
        const w = this.placeWaiters.get(r.clientOrderId)
        this.placeWaiters.delete(r.clientOrderId)
        if (w) this.at(r.ts, () => w.reject(apiErr(r.code, this.messageFor(r.code, s))))
        return
      }
      case 'fill': {
        const f = r.fill
        const price = s.inst.ticksToPrice(f.price)
        const qty = s.inst.stepsToQty(f.qty)
        o.filledSteps = o.baseFilled + r.filled
        o.cumQuote = o.cumQuote.add(new D(price).mul(qty))
        o.status = o.filledSteps >= o.qtySteps ? 'FILLED' : 'PARTIALLY_FILLED'
        o.updateTime = t
        const realised = this.ledger.apply({symbol, asset: s.marginAsset, side: f.side, price, qty, fee: f.fee, time: t})
        const trade: SimTrade = {
          symbol,
          id: this.nextTradeId++,
          orderId: o.orderId,
          side: f.side,
          price,
          qty,
          realizedPnl: fmt(realised),
          marginAsset: s.marginAsset,
          quoteQty: new D(price).mul(qty).toString(),
          commission: f.fee,
          commissionAsset: s.marginAsset,
          time: t,
          positionSide: o.positionSide,
          buyer: f.side === 'BUY',
          maker: f.maker,
        }
        this.trades.push(trade)
        this.userOrderEvent(o, 'TRADE', r.ts, trade)
        this.userAccountEvent(symbol, 'ORDER', r.ts)
        return
      }
      case 'canceled': {
        if (o.modify) {
          // first half of a modify: the old incarnation left the book; re-queue the rest
          if (o.status === undefined) return
          const m = o.modify
          o.baseFilled = o.filledSteps
          const rest = m.qty - o.filledSteps
          if (rest <= 0) {
            o.modify = undefined
            o.status = 'CANCELED'
            o.updateTime = t
            this.userOrderEvent(o, 'CANCELED', r.ts)
            this.at(r.ts, () => m.waiter.resolve(o))
            return
          }
          this.byPaper.delete(o.paperId)
          o.paperId = this.paperId()
          this.byPaper.set(o.paperId, o)
          this.latency.immediate.add(o.paperId)
          const tif: TimeInForce = o.timeInForce === 'GTX' ? 'GTX' : 'GTC'
          s.venue.submit({type: 'place', clientOrderId: o.paperId, order: {slot: 'sim', side: o.side, price: m.price, qty: rest, tif, reduceOnly: o.reduceOnly, layer: 'dynamic'}})
          this.kick(0)
          return
        }
        o.status = 'CANCELED'
        o.updateTime = t
        this.userOrderEvent(o, 'CANCELED', r.ts)
        const w = this.cancelWaiters.get(r.clientOrderId)
        this.cancelWaiters.delete(r.clientOrderId)
        if (w) this.at(r.ts, () => w.resolve(o))
        return
      }
      case 'expired': {
        o.status = 'EXPIRED'
        o.expiryReason = r.reason === 'REDUCE_ONLY' ? '4' : o.type === 'MARKET' ? '9' : '2'
        o.updateTime = t
        this.userOrderEvent(o, 'EXPIRED', r.ts)
        const w = this.cancelWaiters.get(r.clientOrderId)
        this.cancelWaiters.delete(r.clientOrderId)
        if (w) this.at(r.ts, () => w.reject(apiErr(-2011)))
        return
      }
    }
  }

  private messageFor(code: number, s: SymbolState): string {
    if (code === -4164) return `Order's notional must be no smaller than ${s.inst.spec.minNotional} (unless you choose reduce only)`
    return SimMessages[code] ?? 'rejected'
  }

  // ---- delivery on market time -------------------------------------------------

  /** run `fn` when market time reaches `ts` (reports keep their order) */
  private at(ts: number, fn: () => void): void {
    this.due.push({ts, fn})
    this.armDue()
  }

  private flushDue(upTo = this.o.clock.now()): void {
    let n = 0
    while (n < this.due.length && this.due[n].ts <= upTo) n++
    if (n === 0) return
    const run = this.due.splice(0, n)
    for (const d of run) d.fn()
    this.armDue()
  }

  private armDue(): void {
    this.timers.clear(this.dueTimer)
    this.dueTimer = undefined
    if (this.due.length === 0) return
    const head = this.due[0].ts
    const delay = this.wallDelay(head)
    this.dueTimer = this.timers.set(() => {
      this.dueTimer = undefined
      this.flushDue(Math.max(head, this.o.clock.now()))
    }, delay)
  }

  private wallDelay(ms: number): number {
    return this.o.wallDelay ? this.o.wallDelay(ms) : Math.max(0, ms - this.o.clock.now())
  }

  /** process in-flight requests once market time reaches their arrival, even without market data */
  private kick(entry = this.paperConfig.entryLatencyMs): void {
    let next = Number.POSITIVE_INFINITY
    for (const s of this.symbols.values()) next = Math.min(next, s.venue.nextArrivalTs())
    if (!Number.isFinite(next)) next = this.o.clock.now() + entry
    if (next >= this.kickAt && this.kickTimer !== undefined) return
    this.timers.clear(this.kickTimer)
    this.kickAt = next
    this.kickTimer = this.timers.set(() => {
      this.kickTimer = undefined
      this.kickAt = Number.POSITIVE_INFINITY
      const now = Math.max(next, this.o.clock.now())
      for (const s of this.symbols.values()) s.venue.advanceTo(now)
      this.flushDue(now)
      for (const s of this.symbols.values()) {
        if (Number.isFinite(s.venue.nextArrivalTs())) {
          this.kick()
          break
        }
      }
    }, this.wallDelay(next))
  }

  // ---- funding -----------------------------------------------------------------

  private armFunding(): void {
    const every = this.o.fundingIntervalMs as number
    this.fundingDueWall = this.o.wall.now() + every
    this.fundingTimer = this.timers.set(() => {
      this.bookFunding()
      this.armFunding()
    }, every)
  }

  /** Book a funding fee on every open position at the mark price (ACCOUNT_UPDATE FUNDING_FEE). */
  bookFunding(): void {
    const rate = this.fundingRate
    const t = this.now()
    this.lastFundingTime = t
    for (const s of this.symbols.values()) {
      const mark = this.markPrice(s.inst.symbol)
      if (!mark) continue
      const change = this.ledger.funding(s.inst.symbol, s.marginAsset, mark.toString(), rate, t)
      this.fundingLog.push({symbol: s.inst.symbol, asset: s.marginAsset, rate, mark: mark.toString(), time: t, ...(change.isZero() ? {} : {income: change.toString()})})
      if (change.isZero()) continue
      const ev = {
        e: 'ACCOUNT_UPDATE',
        E: t,
        T: t,
        a: {m: 'FUNDING_FEE', B: [{a: s.marginAsset, wb: fmt(this.ledger.balance(s.marginAsset)), cw: fmt(this.ledger.balance(s.marginAsset)), bc: '0'}]},
      }
      this.o.onUserEvent?.(ev)
    }
  }

  get fundingRate(): string {
    return this.o.fundingRate ?? '0.0001'
  }

  /** last: market time funding was last booked (0: never); dueWall: server wall time of the next booking with --funding-interval */
  get fundingTimes(): {dueWall: number | undefined; last: number} {
    return {dueWall: this.fundingDueWall, last: this.lastFundingTime}
  }

  // ---- views -------------------------------------------------------------------

  orderJson(o: SimOrder, query = false): Record<string, unknown> {
    const s = this.symbols.get(o.symbol) as SymbolState
    const executed = s.inst.stepsToQty(o.filledSteps)
    const avg = o.filledSteps === 0 ? '0' : fmt(o.cumQuote.div(executed), s.inst.priceDecimals + 5)
    const base: Record<string, unknown> = {
      orderId: o.orderId,
      symbol: o.symbol,
      status: o.status ?? 'NEW',
      clientOrderId: o.clientOrderId,
      price: o.price,
      avgPrice: avg,
      origQty: o.origQty,
      executedQty: executed,
      cumQty: executed,
      cumQuote: o.cumQuote.toString(),
      timeInForce: o.timeInForce,
      type: o.type,
      reduceOnly: o.reduceOnly,
      closePosition: false,
      side: o.side,
      positionSide: o.positionSide,
      stopPrice: '0',
      workingType: 'CONTRACT_PRICE',
      priceProtect: false,
      origType: o.type,
      priceMatch: 'NONE',
      selfTradePreventionMode: 'EXPIRE_MAKER',
      goodTillDate: 0,
      updateTime: o.updateTime,
    }
    if (query) base.time = o.time
    return base
  }

  private sideNotional(symbol: string, side: OrderSide): string {
    let n = new D(0)
    for (const o of this.openOf(symbol)) {
      if (o.side === side && o.status !== undefined) n = n.add(new D(o.price).mul(this.symbols.get(symbol)?.inst.stepsToQty(o.qtySteps - o.filledSteps) ?? '0'))
    }
    return n.toString()
  }

  private userOrderEvent(o: SimOrder, x: string, ts: number, trade?: SimTrade): void {
    const t = this.now()
    const s = this.symbols.get(o.symbol) as SymbolState
    const avg = o.filledSteps === 0 ? '0' : fmt(o.cumQuote.div(s.inst.stepsToQty(o.filledSteps)), s.inst.priceDecimals + 5)
    const ev: Record<string, unknown> = {
      s: o.symbol,
      c: o.clientOrderId,
      S: o.side,
      o: o.type,
      f: o.timeInForce,
      q: o.origQty,
      p: o.price,
      ap: avg,
      sp: '0',
      x,
      X: o.status ?? 'NEW',
      i: o.orderId,
      l: trade ? trade.qty : '0',
      z: s.inst.stepsToQty(o.filledSteps),
      L: trade ? trade.price : '0',
    }
    if (trade) {
      ev.N = trade.commissionAsset
      ev.n = trade.commission
    }
    Object.assign(ev, {
      T: t,
      t: trade ? trade.id : 0,
      b: this.sideNotional(o.symbol, 'BUY'),
      a: this.sideNotional(o.symbol, 'SELL'),
      m: trade ? trade.maker : false,
      R: o.reduceOnly,
      wt: 'CONTRACT_PRICE',
      ot: o.type,
      ps: o.positionSide,
      cp: false,
      rp: trade ? trade.realizedPnl : '0',
      pP: false,
      si: 0,
      ss: 0,
      V: 'EXPIRE_MAKER',
      pm: 'NONE',
      gtd: 0,
      er: x === 'EXPIRED' ? o.expiryReason : '0',
    })
    const msg = {e: 'ORDER_TRADE_UPDATE', E: t, T: t, o: ev}
    if (trade) {
      // TRADE_LITE (FACTS.md §3.3): Binance's lighter, earlier event for each execution; it leaves just before the ORDER_TRADE_UPDATE
      const lite = {e: 'TRADE_LITE', E: t, T: t, s: o.symbol, q: o.origQty, p: o.price, m: trade.maker, c: o.clientOrderId, S: o.side, L: trade.price, l: trade.qty, t: trade.id, i: o.orderId}
      this.at(ts, () => this.o.onUserEvent?.(lite))
    }
    this.at(ts, () => this.o.onUserEvent?.(msg))
  }

  private userAccountEvent(symbol: string, reason: string, ts: number): void {
    const t = this.now()
    const s = this.symbols.get(symbol) as SymbolState
    const p = this.ledger.position(symbol)
    const wb = fmt(this.ledger.balance(s.marginAsset))
    const mark = this.markString(symbol)
    const msg = {
      e: 'ACCOUNT_UPDATE',
      E: t,
      T: t,
      a: {
        m: reason,
        B: [{a: s.marginAsset, wb, cw: wb, bc: '0'}],
        P: [{s: symbol, pa: p.amt.toString(), ep: fmt(this.ledger.entryPrice(symbol)), bep: fmt(this.ledger.entryPrice(symbol)), cr: fmt(p.realised), up: fmt(this.ledger.unrealised(symbol, mark)), mt: this.marginTypeOf(symbol), iw: '0', ps: 'BOTH'}],
      },
    }
    this.at(ts, () => this.o.onUserEvent?.(msg))
  }

  /**
   * A cross-margin liquidation estimate (one position per asset, one maintenance rate):
   * long q at entry E with wallet W: (E·q − W) / (q·(1 − MMR)); short: (E·|q| + W) / (|q|·(1 + MMR));
   * '0' when flat or when the wallet covers any fall to zero. Binance's tiers are not modelled.
   */
  private liquidationPrice(sym: string, amt: D, asset: string): string {
    if (amt.isZero()) return '0'
    const q = amt.abs()
    const entry = this.ledger.entryPrice(sym)
    const wallet = this.ledger.balance(asset)
    const liq = amt.isPositive() ? entry.mul(q).sub(wallet).div(q.mul(new D(1).sub(SIM_MAINT_RATE))) : entry.mul(q).add(wallet).div(q.mul(new D(1).add(SIM_MAINT_RATE)))
    if (!liq.isPositive()) return '0'
    return liq.toDecimalPlaces(8, D.ROUND_DOWN).toString()
  }

  positionRisk(version: 2 | 3, symbol?: string): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = []
    for (const s of this.symbols.values()) {
      const sym = s.inst.symbol
      if (symbol && sym !== symbol) continue
      const p = this.ledger.position(sym)
      if (version === 3 && p.amt.isZero() && this.openOf(sym).length === 0) continue
      const mark = this.markString(sym)
      const entry = fmt(this.ledger.entryPrice(sym))
      const notional = fmt(p.amt.mul(mark))
      const row: Record<string, unknown> = {
        symbol: sym,
        positionSide: 'BOTH',
        positionAmt: p.amt.toString(),
        entryPrice: entry,
        breakEvenPrice: entry,
        markPrice: mark,
        unRealizedProfit: fmt(this.ledger.unrealised(sym, mark)),
        liquidationPrice: this.liquidationPrice(sym, p.amt, s.marginAsset),
        isolatedMargin: '0',
        notional,
        marginAsset: s.marginAsset,
        isolatedWallet: '0',
        initialMargin: '0',
        maintMargin: '0',
        positionInitialMargin: '0',
        openOrderInitialMargin: '0',
        adl: 0,
        bidNotional: this.sideNotional(sym, 'BUY'),
        askNotional: this.sideNotional(sym, 'SELL'),
        updateTime: p.updateTime,
      }
      if (version === 2) Object.assign(row, {leverage: String(s.leverage), maxNotionalValue: '1000000', marginType: this.marginTypeOf(sym), isAutoAddMargin: 'false'})
      out.push(row)
    }
    return out
  }

  account(version: 2 | 3): Record<string, unknown> {
    const assets = this.ledger.assets().map((a) => {
      let up = new D(0)
      for (const s of this.symbols.values()) if (s.marginAsset === a) up = up.add(this.ledger.unrealised(s.inst.symbol, this.markString(s.inst.symbol)))
      const wb = this.ledger.balance(a)
      return {asset: a, walletBalance: fmt(wb), unrealizedProfit: fmt(up), marginBalance: fmt(wb.add(up)), maintMargin: '0', initialMargin: '0', positionInitialMargin: '0', openOrderInitialMargin: '0', crossWalletBalance: fmt(wb), crossUnPnl: fmt(up), availableBalance: fmt(wb.add(up)), maxWithdrawAmount: fmt(wb), marginAvailable: true, updateTime: this.now()}
    })
    let total = new D(0)
    let upl = new D(0)
    for (const a of assets) {
      total = total.add(a.walletBalance)
      upl = upl.add(a.unrealizedProfit)
    }
    const positions = this.positionRisk(2).map((r) => ({symbol: r.symbol, positionSide: 'BOTH', positionAmt: r.positionAmt, unrealizedProfit: r.unRealizedProfit, isolatedMargin: '0', notional: r.notional, isolatedWallet: '0', initialMargin: '0', maintMargin: '0', updateTime: r.updateTime, ...(version === 2 ? {entryPrice: r.entryPrice, leverage: r.leverage, isolated: this.marginTypeOf(r.symbol as string) === 'isolated', maxNotional: '1000000', breakEvenPrice: r.breakEvenPrice, positionInitialMargin: '0', openOrderInitialMargin: '0', bidNotional: r.bidNotional, askNotional: r.askNotional} : {})}))
    const totals = {
      totalInitialMargin: '0',
      totalMaintMargin: '0',
      totalWalletBalance: fmt(total),
      totalUnrealizedProfit: fmt(upl),
      totalMarginBalance: fmt(total.add(upl)),
      totalPositionInitialMargin: '0',
      totalOpenOrderInitialMargin: '0',
      totalCrossWalletBalance: fmt(total),
      totalCrossUnPnl: fmt(upl),
      availableBalance: fmt(total.add(upl)),
      maxWithdrawAmount: fmt(total),
    }
    const v2extra = version === 2 ? {feeTier: 0, feeBurn: false, canTrade: true, canDeposit: true, canWithdraw: true, updateTime: 0, multiAssetsMargin: false, tradeGroupId: -1} : {}
    return {...v2extra, ...totals, assets, positions: version === 3 ? positions.filter((x) => x.positionAmt !== '0') : positions}
  }

  balances(): Array<Record<string, unknown>> {
    return this.ledger.assets().map((a) => {
      const wb = fmt(this.ledger.balance(a))
      return {accountAlias: 'sim', asset: a, balance: wb, crossWalletBalance: wb, crossUnPnl: '0', availableBalance: wb, maxWithdrawAmount: wb, marginAvailable: true, updateTime: this.now()}
    })
  }

  /** the leverage POST /fapi/v1/leverage last set (default 20); a label, not applied */
  leverageOf(symbol: string): number {
    return this.symbols.get(symbol)?.leverage ?? 20
  }

  marginTypeOf(symbol: string): 'cross' | 'isolated' {
    return this.marginTypes.get(symbol) ?? 'cross'
  }

  /** the account's fills, oldest first (income REALIZED_PNL / COMMISSION) */
  get tradeLog(): readonly SimTrade[] {
    return this.trades
  }

  userTrades(p: Map<string, string>): SimTrade[] {
    const s = this.symbolOf(p)
    const orderId = p.get('orderId')
    const fromId = p.get('fromId')
    const startTime = p.get('startTime')
    const endTime = p.get('endTime')
    // "The parameter fromId cannot be sent with startTime or endTime" (Binance, Account Trade List)
    if (fromId !== undefined && (startTime !== undefined || endTime !== undefined)) throw new ApiError(-1128, 'Combination of optional parameters invalid.')
    const limit = Math.min(1000, Number(p.get('limit') ?? 500) || 500)
    const out = this.trades.filter(
      (t) =>
        t.symbol === s.inst.symbol &&
        (orderId === undefined || String(t.orderId) === orderId) &&
        (fromId === undefined || t.id >= Number(fromId)) &&
        (startTime === undefined || t.time >= Number(startTime)) &&
        (endTime === undefined || t.time <= Number(endTime)),
    )
    // from an id or a start time: the oldest `limit` from there (pages); else the most recent `limit`
    return fromId !== undefined || startTime !== undefined ? out.slice(0, limit) : out.slice(-limit)
  }

  // ---- introspection -----------------------------------------------------------

  state(): Record<string, unknown> {
    return {
      orders: [...this.orders.values()].filter((o) => o.status !== undefined).map((o) => this.orderJson(o, true)),
      trades: this.trades,
      positions: this.positionRisk(2),
      balances: this.balances(),
      paperPositionSteps: Object.fromEntries([...this.symbols.keys()].map((k) => [k, this.positionSteps(k)])),
      // the sim's own account ledger (ledger.ts), per symbol, exact decimals: what a client's books must equal
      ledger: [...this.symbols.keys()].map((k) => {
        const p = this.ledger.position(k)
        return {symbol: k, positionAmt: p.amt.toString(), entryPrice: fmt(this.ledger.entryPrice(k)), realisedPnl: p.realised.toString(), fees: p.fees.toString(), funding: p.funding.toString()}
      }),
      hedgeMode: this.hedgeMode,
      feeBurn: this.feeBurn,
    }
  }
}
