/**
 * The trading side of `mm sim`: it takes over the SimVenue's REST, authenticates requests
 * as Binance does (signing.ts), counts weights and orders (limits.ts), injects the trading
 * faults, dispatches to the exchange core (exchange.ts), and serves the user data stream
 * (user-stream.ts), the WebSocket API (ws-api.ts) and the introspection endpoint
 * `GET /__mm/state` (not Binance's: requests received, orders, trades, positions).
 *
 * The API secret is only ever used to verify; it is never logged, echoed or listed.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Duplex} from 'node:stream'
import {appendFileSync, writeFileSync} from 'node:fs'
import {wallClock, type Clock} from '../../clock/clock.js'
import {Instrument} from '../../domain/instrument.js'
import type {MarketEvent} from '../../market/events.js'
import {seededRandom} from '../binance/http.js'
import type {PaperVenueConfig} from '../paper/config.js'
import {MarketClock, realTimers, SimExchange, type SimAccountOptions, type Timers} from './exchange.js'
import {SimExtras} from './extras.js'
import {BINANCE_LIMITS, costOf, RateLimiter, type RateLimitConfig} from './limits.js'
import {SIM_DEFAULT_MAX_QTY, SIM_MAX_PRICE, type SimInstrument, type SimVenue} from './server.js'
import {ApiError, checkTimestamp, Err, requestParams, SIM_TEST_API_KEY, SIM_TEST_API_SECRET, verifyRest} from './signing.js'
import {UserStreams} from './user-stream.js'
import {WsApi} from './ws-api.js'

export interface TradingFaults {
  /** probability an order request is carried out but its HTTP answer never arrives (the connection is dropped) */
  loseResponses?: number
  /** probability an order request is carried out, then answered 503 "Unknown error…" (execution status unknown) */
  unknownStatusRate?: number
  /** probability any request is answered 503 "Service Unavailable." before anything is done */
  unavailableRate?: number
  /** probability any request is answered HTTP 500 before anything is done */
  httpErrorRate?: number
  /** wall ms added to every REST answer and user-stream / WebSocket API message */
  latencyMs?: number
  /** server clock offset, ms (signed): /time and the timestamp check use wall + skew */
  clockSkewMs?: number
  listenKeyTtlMs?: number
  userStreamSilentAfterMs?: number
  rateLimit?: Partial<RateLimitConfig>
}

export interface SimTradingOptions extends SimAccountOptions {
  apiKey?: string
  apiSecret?: string
  instruments: SimInstrument[]
  faults?: TradingFaults
  seed?: number
  /** replay speed (market ms per wall ms); 'max' counts as 1 between events */
  speed?: number
  paper?: Partial<PaperVenueConfig>
  /** server ping interval of the user-stream and WebSocket API sockets */
  pingIntervalMs?: number
  /** user-stream socket lifetime (Binance: 24 h) */
  wsMaxAgeMs?: number
  wall?: Clock
  timers?: Timers
  /** append every RequestRecord to this NDJSON file (when it is final) */
  requestLog?: string
}

export interface RequestRecord {
  seq: number
  time: number
  transport: 'rest' | 'ws-api'
  method: string
  path: string
  /** parameters as received, `signature` left out (it is in its own field) */
  params: Record<string, string>
  apiKey?: string
  /** the signature the request carried (test artefact; never the secret) */
  signature?: string
  status: number
  code?: number
  lost?: boolean
}

const ORDER_PATHS = new Set(['POST /fapi/v1/order', 'PUT /fapi/v1/order', 'POST /fapi/v1/batchOrders', 'DELETE /fapi/v1/order', 'DELETE /fapi/v1/batchOrders'])

const FUNDING_PERIOD_MS = 8 * 3600_000

/** the first 8-hour funding boundary (00:00, 08:00, 16:00 UTC) strictly after `ms` */
export function nextFundingBoundary(ms: number): number {
  return (Math.floor(ms / FUNDING_PERIOD_MS) + 1) * FUNDING_PERIOD_MS
}

export function toInstrument(i: SimInstrument): Instrument {
  const quote = i.quoteAsset ?? (/(USDT|USDC)$/.exec(i.symbol)?.[1] ?? 'USDT')
  return new Instrument({symbol: i.symbol, tickSize: i.tickSize, stepSize: i.stepSize, minQty: i.minQty ?? i.stepSize, maxQty: i.maxQty ?? SIM_DEFAULT_MAX_QTY, minPrice: i.tickSize, maxPrice: SIM_MAX_PRICE, minNotional: i.minNotional ?? '5', quoteAsset: quote, marginAsset: quote})
}

type Handler = (p: Map<string, string>) => unknown

export class SimTrading {
  readonly exchange: SimExchange
  readonly users: UserStreams
  readonly limiter: RateLimiter
  readonly requests: RequestRecord[] = []
  readonly serverClock: Clock
  readonly marketClock: MarketClock
  readonly wsApi: WsApi
  /** the routes around trading (extras.ts): account settings, ticker, klines, trades, income, funding */
  readonly extras: SimExtras
  private readonly apiKey: string
  private readonly apiSecret: string
  private readonly faults: TradingFaults
  private readonly random: () => number
  private readonly timers: Timers
  private seq = 0
  private readonly requestLog?: string

  constructor(private readonly venue: SimVenue, o: SimTradingOptions) {
    this.apiKey = o.apiKey ?? SIM_TEST_API_KEY
    this.requestLog = o.requestLog
    if (this.requestLog) writeFileSync(this.requestLog, '')
    this.apiSecret = o.apiSecret ?? SIM_TEST_API_SECRET
    this.faults = {...o.faults}
    this.random = seededRandom((o.seed ?? 1) + 7919)
    this.timers = o.timers ?? realTimers
    const wall = o.wall ?? wallClock
    const skew = this.faults.clockSkewMs ?? 0
    this.serverClock = {now: () => wall.now() + skew}
    this.marketClock = new MarketClock(wall, o.speed ?? 1)
    this.limiter = new RateLimiter({...BINANCE_LIMITS, ...this.faults.rateLimit})
    this.users = new UserStreams({clock: this.serverClock, timers: this.timers, ttlMs: this.faults.listenKeyTtlMs, silentAfterMs: this.faults.userStreamSilentAfterMs, delayMs: this.faults.latencyMs, maxAgeMs: o.wsMaxAgeMs, pingIntervalMs: o.pingIntervalMs})
    const mc = this.marketClock
    this.exchange = new SimExchange({
      ...o,
      instruments: o.instruments.map(toInstrument),
      marketMaxQty: Object.fromEntries(o.instruments.map((i) => [i.symbol, i.marketMaxQty ?? i.maxQty ?? SIM_DEFAULT_MAX_QTY])),
      clock: mc,
      wall: this.serverClock,
      timers: this.timers,
      wallDelay: (ms) => mc.wallDelay(ms),
      paper: o.paper,
      onUserEvent: (ev) => this.users.publish(ev),
    })
    this.extras = new SimExtras({exchange: this.exchange, clock: this.serverClock, symbols: () => this.exchangeSymbols(), sym: (p) => this.sym(p)})
    this.wsApi = new WsApi(this, {pingIntervalMs: o.pingIntervalMs, delayMs: this.faults.latencyMs, timers: this.timers})
    venue.setHooks({
      rest: (req, res) => this.onRest(req, res),
      upgrade: (req, socket, head) => this.onUpgrade(req, socket, head),
      published: (ev, sentMs) => this.onPublished(ev, sentMs),
      disconnectAll: (code) => {
        this.users.disconnectAll(code)
        this.wsApi.disconnectAll(code)
      },
    })
    this.setupRoutes()
    // what a client of `mm sim` gets on <symbol>@bookTicker when the source has no ticker events
    venue.bookTickerFromDepth = true
    // <symbol>@markPrice@1s every second, <symbol>@markPrice every 3 s (route /market): the
    // mark the PERCENT_PRICE check uses (the mid) as it is when sent; none while there is no
    // mark yet (no book, no trade: a "0" no Binance stream carries)
    let tick = 0
    this.markTimer = setInterval(() => {
      tick++
      for (const sym of this.exchangeSymbols()) {
        const now = this.serverClock.now()
        const mark = this.exchange.markString(sym)
        const lower = sym.toLowerCase()
        if (mark !== '0') {
          const data = JSON.stringify({e: 'markPriceUpdate', E: now, s: sym, p: mark, ap: mark, i: mark, P: mark, r: this.exchange.fundingRate, T: this.nextFundingTime()})
          this.venue.broadcastStream(`${lower}@markPrice@1s`, data, 'market')
          if (tick % 3 === 0) this.venue.broadcastStream(`${lower}@markPrice`, data, 'market')
        }
        // <symbol>@ticker / @miniTicker every 2 s (Binance: 2000 ms), only when someone listens
        if (tick % 2 === 0 && (this.venue.subscribed(`${lower}@ticker`) || this.venue.subscribed(`${lower}@miniTicker`))) {
          const t = this.extras.tickerStreams(sym)
          this.venue.broadcastStream(`${lower}@ticker`, JSON.stringify(t.ticker), 'market')
          this.venue.broadcastStream(`${lower}@miniTicker`, JSON.stringify(t.mini), 'market')
        }
      }
    }, 1000)
    this.markTimer.unref()
  }

  private readonly markTimer: NodeJS.Timeout

  stop(): void {
    clearInterval(this.markTimer)
    this.exchange.stop()
    this.users.stop()
    this.wsApi.stop()
  }

  private onPublished(ev: MarketEvent, sentMs: number): void {
    this.marketClock.observe(ev.ts / 1000)
    this.exchange.onMarket(ev)
    this.extras.onPublished(ev, sentMs)
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (this.wsApi.upgrade(req, socket, head)) return true
    return this.users.upgrade(req, socket, head)
  }

  /** the signature check and key check, shared with the WebSocket API */
  checkKey(key: string | undefined): void {
    if (key !== this.apiKey) throw Err.badKey()
  }

  isKey(key: string | undefined): boolean {
    return key === this.apiKey
  }

  get secret(): string {
    return this.apiSecret
  }

  record(r: Omit<RequestRecord, 'seq' | 'time'>): RequestRecord {
    const rec = {seq: ++this.seq, time: this.serverClock.now(), ...r}
    this.requests.push(rec)

    if (this.requests.length > 100_000) this.requests.splice(0, 10_000)
    return rec
  }

  /** the request's answer (or its loss) is known: append it to --request-log */
  finish(rec: RequestRecord): void {
    if (this.requestLog) appendFileSync(this.requestLog, JSON.stringify(rec) + '\n')
  }

  /** --lose-responses on the WebSocket API: is this order request's answer lost? (seeded) */
  loseAnswer(): boolean {
    return this.chance(this.faults.loseResponses)
  }

  /** draw a fault with probability p (seeded) */
  chance(p: number | undefined): boolean {
    return p !== undefined && p > 0 && this.random() < p
  }

  // ---- REST -----------------------------------------------------------------------

  private onRest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void this.handleRest(req, res, Buffer.concat(chunks).toString('utf8'))
    })
    req.on('error', () => {})
  }

  private async handleRest(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const method = req.method ?? 'GET'
    const url = req.url ?? '/'
    const qi = url.indexOf('?')
    const path = qi < 0 ? url : url.slice(0, qi)
    const query = qi < 0 ? '' : url.slice(qi + 1)
    const raw = {query, body: method === 'GET' ? '' : body}
    let params: Map<string, string>
    try {
      params = requestParams(raw)
    } catch {
      params = new Map()
    }
    const paramsOut: Record<string, string> = {}
    for (const [k, v] of params) if (k !== 'signature') paramsOut[k] = v
    const apiKeyHeader = req.headers['x-mbx-apikey']
    const apiKey = Array.isArray(apiKeyHeader) ? apiKeyHeader[0] : apiKeyHeader
    const rec = this.record({transport: 'rest', method, path, params: paramsOut, apiKey: apiKey === undefined ? undefined : apiKey === this.apiKey ? 'sim-key' : 'other', signature: params.get('signature'), status: 0})
    const now = () => this.serverClock.now()
    const key = `${method} ${path}`
    const orderRequest = ORDER_PATHS.has(key)
    let orderHeaders = false
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      rec.status = status
      const code = (payload as {code?: unknown})?.code
      if (typeof code === 'number' && code < 0) rec.code = code
      this.finish(rec)
      const h: Record<string, string> = {'content-type': 'application/json', 'X-MBX-USED-WEIGHT-1M': String(this.limiter.usedWeight(now())), ...(orderHeaders ? this.limiter.orderHeaders(now()) : {}), ...headers}
      const text = JSON.stringify(payload)
      const go = () => {
        if (res.destroyed) return
        res.writeHead(status, h)
        res.end(text)
        this.venue.emit('rest', {path, status})
      }
      const delay = (this.faults.latencyMs ?? 0) + (this.venue.faultSettings.restDelayMs ?? 0)
      if (delay > 0) setTimeout(go, delay)
      else go()
    }
    const fail = (e: unknown) => {
      if (e instanceof ApiError) return send(e.status, e.body(), e.headers)
      return send(500, {code: -1000, msg: 'An unknown error occurred while processing the request.'})
    }

    if (path.startsWith('/__mm/')) {
      if (path === '/__mm/state' && method === 'GET') return send(200, this.state(params.get('requests') !== '0'))
      // runtime fault rates (tests turn a fault on once the client is past its start-up): POST /__mm/faults?httpErrorRate=P
      if (path === '/__mm/faults' && method === 'POST') {
        const rates: Record<string, 'httpErrorRate' | 'unavailableRate' | 'unknownStatusRate' | 'loseResponses'> = {httpErrorRate: 'httpErrorRate', unavailableRate: 'unavailableRate', unknownStatusRate: 'unknownStatusRate', loseResponses: 'loseResponses'}
        for (const [k, v] of params) {
          const n = Number(v)
          if (!(k in rates) || v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) return send(400, {code: -1102, msg: `${k}=${v}: expected one of ${Object.keys(rates).join(', ')} with a probability between 0 and 1`})
          this.faults[rates[k]] = n
        }
        return send(200, {httpErrorRate: this.faults.httpErrorRate ?? 0, unavailableRate: this.faults.unavailableRate ?? 0, unknownStatusRate: this.faults.unknownStatusRate ?? 0, loseResponses: this.faults.loseResponses ?? 0})
      }
      return send(404, {code: -1000, msg: `unknown path ${path}`})
    }
    try {
      const cost = costOf(method, path, params)
      this.limiter.request(cost.weight, now())
      const fault = this.venue.takeRestFault(path)
      if (fault) return send(fault.status, fault.body, fault.headers)
      if (this.chance(this.faults.httpErrorRate)) return send(500, {code: -1000, msg: 'An unknown error occurred while processing the request.'})
      if (this.chance(this.faults.unavailableRate)) return send(503, {code: -1001, msg: 'Service Unavailable.'})
      const route = this.routes.get(key)
      if (!route) {
        if (method === 'GET') {
          const r = this.publicGet(path, new URL(url, 'http://x'))
          if (r) return send(r.status, r.body)
        }
        return send(404, {code: -1000, msg: `mm sim does not serve ${method} ${path}`})
      }
      if (route.auth !== 'none') {
        this.checkKey(apiKey)
        if (route.auth === 'signed') {
          verifyRest(this.apiSecret, raw)
          checkTimestamp(params, now())
        }
      }
      if (orderRequest && cost.orders10s > 0) {
        orderHeaders = true
        this.limiter.orders(cost.orders10s, cost.orders1m, now())
      }
      const lose = orderRequest && this.chance(this.faults.loseResponses)
      const unknown = orderRequest && !lose && this.chance(this.faults.unknownStatusRate)
      const result = await route.fn(params)
      if (lose) {
        rec.lost = true
        rec.status = -1
        this.finish(rec)
        res.socket?.destroy()
        return
      }
      if (unknown) return send(503, {code: -1000, msg: 'Unknown error, please check your request or try again later.'})
      return send(200, result)
    } catch (e) {
      if (e instanceof ApiError && (e.code === -1003 || e.code === -1015)) orderHeaders = orderHeaders && e.code === -1015
      return fail(e)
    }
  }

  /** public GET endpoints of the market side, with exchangeInfo patched for account states */
  publicGet(path: string, u: URL): {status: number; body: unknown} | undefined {
    const r = this.venue.marketRest(u)
    if (r.status === 404) return undefined
    if (path === '/fapi/v1/exchangeInfo') return {status: 200, body: this.patchExchangeInfo(r.body)}
    if (path === '/fapi/v1/time' || path === '/api/v3/time') return {status: 200, body: {serverTime: this.serverClock.now()}}
    return r
  }

  private patchExchangeInfo(body: unknown): unknown {
    const info = body as {rateLimits: unknown[]; symbols: Array<Record<string, unknown>>; serverTime: number}
    const ex = this.exchange
    const cfg = this.limiter.cfg
    info.serverTime = this.serverClock.now()
    info.rateLimits = [
      {rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: cfg.weightPerMinute},
      {rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: cfg.ordersPer10s},
      {rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: cfg.ordersPerMinute},
    ]
    for (const s of info.symbols) {
      const sym = String(s.symbol)
      s.status = ex.symbolStatus(sym)
      const filters = (s.filters as Array<Record<string, unknown>>).filter((f) => f.filterType !== 'MAX_NUM_ORDERS' && f.filterType !== 'PERCENT_PRICE')
      filters.push({filterType: 'MAX_NUM_ORDERS', limit: ex.maxNumOrders})
      filters.push({filterType: 'PERCENT_PRICE', multiplierUp: ex.percentUp, multiplierDown: ex.percentDown, multiplierDecimal: '4'})
      s.filters = filters
      s.timeInForce = ['GTC', 'IOC', 'FOK', 'GTX']
      s.orderTypes = ['LIMIT', 'MARKET']
    }
    return info
  }

  // ---- routes ---------------------------------------------------------------------

  readonly routes = new Map<string, {auth: 'none' | 'key' | 'signed'; fn: Handler}>()

  private route(key: string, auth: 'none' | 'key' | 'signed', fn: Handler): void {
    this.routes.set(key, {auth, fn})
  }

  private sym(p: Map<string, string>): string {
    const s = p.get('symbol')
    if (!s) throw Err.mandatory('symbol')
    const up = s.toUpperCase()
    if (!this.exchange.instrument(up)) throw Err.badSymbol()
    return up
  }

  /**
   * premiumIndex / markPrice `nextFundingTime`, in market time (the recording's or the
   * synthetic market's, wall time before the first event): with --funding-interval when
   * its timer books funding next; else the next 8-hour boundary (00/08/16 UTC), as Binance.
   */
  nextFundingTime(): number {
    const mc = this.marketClock
    const due = this.exchange.fundingTimes.dueWall
    const now = mc.started ? mc.now() : this.serverClock.now()
    if (due !== undefined) {
      const wallLeft = Math.max(0, due - this.serverClock.now())
      return Math.round(mc.started ? mc.afterWall(wallLeft) : now + wallLeft)
    }
    return nextFundingBoundary(now)
  }

  private setupRoutes(): void {
    const ex = this.exchange
    this.route('GET /fapi/v1/time', 'none', () => ({serverTime: this.serverClock.now()}))
    this.route('GET /fapi/v1/premiumIndex', 'none', (p) => {
      const rows = [...this.exchangeSymbols()].filter((s) => !p.get('symbol') || s === p.get('symbol')?.toUpperCase()).map((s) => ({
        symbol: s,
        markPrice: ex.markString(s),
        indexPrice: ex.markString(s),
        estimatedSettlePrice: ex.markString(s),
        lastFundingRate: ex.fundingRate,
        interestRate: '0.00010000',
        nextFundingTime: this.nextFundingTime(),
        time: this.serverClock.now(),
      }))
      if (p.get('symbol')) {
        if (rows.length === 0) throw Err.badSymbol()
        return rows[0]
      }
      return rows
    })
    this.route('GET /fapi/v1/ticker/bookTicker', 'none', (p) => {
      const one = (sym: string) => {
        const b = this.venue.book(sym)
        return {symbol: sym, bidPrice: b.bids[0]?.[0] ?? '0', bidQty: b.bids[0]?.[1] ?? '0', askPrice: b.asks[0]?.[0] ?? '0', askQty: b.asks[0]?.[1] ?? '0', time: this.serverClock.now(), lastUpdateId: b.lastUpdateId}
      }
      // without symbol: a list of every symbol (weight 5)
      return p.get('symbol') === undefined ? this.exchangeSymbols().map(one) : one(this.sym(p))
    })
    this.extras.register((k, a, fn) => this.route(k, a, fn))
    this.route('POST /fapi/v1/order', 'signed', (p) => ex.newOrder(p))
    this.route('POST /fapi/v1/order/test', 'signed', (p) => ex.newOrder(p, {test: true}))
    this.route('PUT /fapi/v1/order', 'signed', (p) => ex.modifyOrder(p))
    this.route('GET /fapi/v1/order', 'signed', (p) => ex.queryOrder(p))
    this.route('DELETE /fapi/v1/order', 'signed', (p) => ex.cancelOrder(p))
    this.route('GET /fapi/v1/openOrder', 'signed', (p) => ex.openOrder(p))
    this.route('GET /fapi/v1/openOrders', 'signed', (p) => ex.openOrders(p.get('symbol')))
    this.route('GET /fapi/v1/allOrders', 'signed', (p) => ex.allOrders(p))
    this.route('DELETE /fapi/v1/allOpenOrders', 'signed', async (p) => {
      await ex.cancelAll(this.sym(p))
      return {code: 200, msg: 'The operation of cancel all open order is done.'}
    })
    this.route('POST /fapi/v1/batchOrders', 'signed', (p) => this.batchPlace(p))
    this.route('DELETE /fapi/v1/batchOrders', 'signed', (p) => this.batchCancel(p))
    this.route('POST /fapi/v1/countdownCancelAll', 'signed', (p) => {
      const sym = this.sym(p)
      const ms = p.get('countdownTime')
      if (ms === undefined || !/^\d+$/.test(ms)) throw Err.mandatory('countdownTime')
      ex.countdown(sym, Number(ms))
      return {symbol: sym, countdownTime: ms}
    })
    for (const v of [2, 3] as const) {
      this.route(`GET /fapi/v${v}/positionRisk`, 'signed', (p) => ex.positionRisk(v, p.get('symbol') ? this.sym(p) : undefined))
      this.route(`GET /fapi/v${v}/account`, 'signed', () => ex.account(v))
      this.route(`GET /fapi/v${v}/balance`, 'signed', () => ex.balances())
    }
    this.route('GET /fapi/v1/userTrades', 'signed', (p) => ex.userTrades(p))
    this.route('GET /fapi/v1/positionSide/dual', 'signed', () => ({dualSidePosition: ex.hedgeMode}))
    this.route('GET /fapi/v1/feeBurn', 'signed', () => ({feeBurn: ex.feeBurn}))
    this.route('GET /fapi/v1/leverageBracket', 'signed', (p) => {
      const syms = p.get('symbol') ? [this.sym(p)] : this.exchangeSymbols()
      const rows = syms.map((symbol) => ({symbol, notionalCoef: 1, brackets: [{bracket: 1, initialLeverage: 125, notionalCap: 1_000_000, notionalFloor: 0, maintMarginRatio: 0.004, cum: 0}]}))
      return p.get('symbol') ? rows : rows
    })
    this.route('GET /fapi/v1/multiAssetsMargin', 'signed', () => ({multiAssetsMargin: false}))
    this.route('GET /fapi/v1/commissionRate', 'signed', (p) => ({symbol: this.sym(p), makerCommissionRate: ex.paperConfig.makerFeeRate, takerCommissionRate: ex.paperConfig.takerFeeRate, rpiCommissionRate: '0'}))
    this.route('GET /fapi/v1/rateLimit/order', 'signed', () => this.limiter.rateLimits(this.serverClock.now()).filter((r) => r.rateLimitType === 'ORDERS').map(({count: _c, ...r}) => r))
    this.route('POST /fapi/v1/leverage', 'signed', (p) => {
      const sym = this.sym(p)
      const l = p.get('leverage')
      if (!l || !/^\d+$/.test(l) || Number(l) < 1 || Number(l) > 125) throw Err.mandatory('leverage')
      return {leverage: ex.setLeverage(sym, Number(l)), maxNotionalValue: '1000000', symbol: sym}
    })
    // account and symbol configuration (ccxt fetchLeverage(s) / fetchMarginMode, the official connector)
    this.route('GET /fapi/v1/symbolConfig', 'signed', (p) => {
      const syms = p.get('symbol') ? [this.sym(p)] : this.exchangeSymbols()
      return syms.map((sym) => ({symbol: sym, marginType: ex.marginTypeOf(sym) === 'isolated' ? 'ISOLATED' : 'CROSSED', isAutoAddMargin: false, leverage: ex.leverageOf(sym), maxNotionalValue: '1000000'}))
    })
    this.route('GET /fapi/v1/accountConfig', 'signed', () => ({feeTier: 0, canTrade: true, canDeposit: true, canWithdraw: true, dualSidePosition: ex.hedgeMode, updateTime: 0, multiAssetsMargin: false, tradeGroupId: -1}))
    this.route('POST /fapi/v1/listenKey', 'key', () => ({listenKey: this.users.start()}))
    this.route('PUT /fapi/v1/listenKey', 'key', (p) => ({listenKey: this.users.keepAlive(p.get('listenKey'))}))
    this.route('DELETE /fapi/v1/listenKey', 'key', (p) => {
      this.users.close(p.get('listenKey'))
      return {}
    })
  }

  private exchangeSymbols(): string[] {
    return Object.keys(this.exchange.state().paperPositionSteps as Record<string, number>)
  }

  private async batchPlace(p: Map<string, string>): Promise<unknown[]> {
    const raw = p.get('batchOrders')
    if (!raw) throw Err.mandatory('batchOrders')
    let list: unknown
    try {
      list = JSON.parse(raw)
    } catch {
      throw Err.mandatory('batchOrders')
    }
    if (!Array.isArray(list) || list.length === 0) throw Err.mandatory('batchOrders')
    // -4082 INVALID_BATCH_PLACE_ORDER_SIZE (Binance's error page; -4081 is OPTIONS_NOT_FOUND)
    if (list.length > 5) throw new ApiError(-4082, 'Invalid number of batch place orders.')
    return Promise.all(list.map(async (item) => {
      const m = new Map<string, string>()
      for (const [k, v] of Object.entries(item as Record<string, unknown>)) m.set(k, String(v))
      try {
        return await this.exchange.newOrder(m)
      } catch (e) {
        if (e instanceof ApiError) return e.body()
        throw e
      }
    }))
  }

  private async batchCancel(p: Map<string, string>): Promise<unknown[]> {
    const sym = this.sym(p)
    const ids = p.get('orderIdList')
    const cids = p.get('origClientOrderIdList')
    const parse = (s: string, name: string): unknown[] => {
      try {
        const v = JSON.parse(s)
        if (Array.isArray(v) && v.length <= 10) return v
      } catch {}
      throw Err.mandatory(name)
    }
    const items: Array<Map<string, string>> = ids
      ? parse(ids, 'orderIdList').map((id) => new Map([['symbol', sym], ['orderId', String(id)]]))
      : cids
        ? parse(cids, 'origClientOrderIdList').map((id) => new Map([['symbol', sym], ['origClientOrderId', String(id)]]))
        : []
    if (items.length === 0) throw Err.mandatory('orderIdList')
    return Promise.all(items.map(async (m) => {
      try {
        return await this.exchange.cancelOrder(m)
      } catch (e) {
        if (e instanceof ApiError) return e.body()
        throw e
      }
    }))
  }

  /** Everything the sim saw and holds: the introspection answer (GET /__mm/state). */
  state(withRequests = true): Record<string, unknown> {
    return {
      note: 'mm sim introspection; not part of the Binance API',
      // `?requests=0` leaves the (long) request list out: a test polling the books reads requests from --request-log
      ...(withRequests ? {requests: this.requests} : {}),
      ...this.exchange.state(),
      userStream: {...this.users.active, ...this.users.counters},
      wsApi: this.wsApi.counters,
      venue: this.venue.stats,
    }
  }
}
