/**
 * Signed REST gateway for Binance USDⓈ-M futures (FACTS.md §1–§2, §4–§5).
 *
 * - undici `Pool` per origin: keep-alive connections reused across requests;
 * - `X-MBX-APIKEY` on USER_STREAM and SIGNED calls; SIGNED calls carry `timestamp`
 *   (local wall time + the server-time offset) and `recvWindow`, then `signature` =
 *   HMAC-SHA256 over the exact string sent (query for GET/DELETE, form body for POST/PUT);
 * - the offset is measured against `GET /fapi/v1/time` (midpoint of the round trip) and
 *   re-measured when the venue answers -1021/-5028; idempotent calls are then sent once
 *   more, order placements never (a retry is the core's decision);
 * - every request has its own timeout; a timeout or a reset after sending is an *unknown*
 *   outcome, never a rejection (see errors.ts);
 * - every answer's headers go to `onAnswer` (the rate governor reads them there).
 *
 * The gateway does not retry on its own except the one re-send after a clock re-sync; it
 * never rewrites an order's parameters (GTX stays GTX).
 */
import {setMaxListeners} from 'node:events'
import {performance} from 'node:perf_hooks'
import {Pool} from 'undici'
import {wallClock} from '../../clock/clock.js'
import {MmError} from '../../domain/errors.js'
import {BinanceApiError, BinanceCode, classifyHttp, classifyTransport} from './errors.js'
import {header, type Headers, parseRetryAfter} from './http.js'
import {
  type BinanceOrder,
  type BinancePosition,
  type BinanceTrade,
  type CommissionRate,
  type PlaceOrderParams,
  parseCommission,
  parseOrder,
  parseOrders,
  parsePositions,
  parseRateLimits,
  parseSymbolRules,
  parseTrades,
  type RateLimitRule,
  type SymbolRules,
} from './rest-types.js'
import {type Credentials, encodeParams, type Params, redact} from './signer.js'

export type Security = 'NONE' | 'USER_STREAM' | 'SIGNED'
export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'

/** What every answer (success or failure) tells the rate governor. */
/** a periodic clock re-measure over a slower round trip is dropped (its midpoint is uncertain by half of it) */
export const PERIODIC_SYNC_MAX_RTT_MS = 500

export interface AnswerInfo {
  endpoint: string
  status: number
  /** X-MBX-USED-WEIGHT-1M */
  usedWeight1m?: number
  /** X-MBX-ORDER-COUNT-10S / -1M */
  orderCount10s?: number
  orderCount1m?: number
  /** Retry-After on 418/429, ms */
  retryAfterMs?: number
  /** Binance code of an error answer */
  venueCode?: number
  /** the ban's end (epoch ms) that a -1003 message names: "IP banned until 1659146232000" */
  bannedUntil?: number
  /** local time of the answer, ms */
  at: number
  latencyMs: number
  /** set when no HTTP answer came (status 0): timeout or transport */
  failure?: 'timeout' | 'transport'
}

export interface GatewayOptions {
  baseUrl: string
  credentials: Credentials
  /** default 5000 (Binance's default) */
  recvWindowMs?: number
  /** per-request timeout, ms; default 5000 */
  timeoutMs?: number
  /** keep-alive connections to the venue; default 4 */
  connections?: number
  /** wall clock, ms */
  now?: () => number
  onAnswer?: (info: AnswerInfo) => void
  /** called after each clock (re)sync */
  onTimeSync?: (info: {offsetMs: number; rttMs: number; reason: 'start' | 'timestamp-error' | 'periodic'}) => void
  userAgent?: string
  /**
   * Where requests go (default: an undici keep-alive `Pool` on the base URL's origin). The
   * tick-to-order bench hands a stand-in that answers in memory, to time the live path up
   * to the moment a signed request is handed over.
   */
  dispatcher?: GatewayDispatcher
}

/** What the gateway needs of an undici `Pool`. */
export type GatewayDispatcher = Pick<Pool, 'request' | 'close'>

/** A request ready for the socket: what is signed is exactly what is sent. */
export interface BuiltRequest {
  method: Method
  /** path with the query string (signed for GET/DELETE) */
  path: string
  headers: Record<string, string>
  body?: string
  endpoint: string
}

/**
 * A DELETE /fapi/v1/batchOrders signed ahead of need (the venue adapter's pre-signed cancel
 * of its open orders): sent at most once, while its timestamp is young enough.
 */
export interface PreparedCancelBatch {
  ids: readonly string[]
  req: BuiltRequest
  /** the gateway's clock when it was signed, ms */
  signedAt: number
  /** the server-time offset it was signed with */
  offsetMs: number
}

interface CallOptions {
  /** safe to send again after a -1021 clock re-sync (default: true for everything but order placement) */
  idempotent?: boolean
  timeoutMs?: number
}

export class BinanceGateway {
  readonly baseUrl: string
  readonly recvWindowMs: number
  /** server time − local time, ms */
  timeOffsetMs = 0
  /** answers received, failures included */
  answers = 0
  private readonly creds: Credentials
  private readonly pool: GatewayDispatcher
  private readonly prefix: string
  private readonly timeoutMs: number
  private readonly now: () => number
  private readonly onAnswer?: GatewayOptions['onAnswer']
  private readonly onTimeSync?: GatewayOptions['onTimeSync']
  private readonly userAgent: string
  private syncing?: Promise<void>
  /** `recvWindow=<ms>&timestamp=` of every signed request, made once */
  private readonly recvWindowParam: string
  /** request deadlines (see `deadline()`) */
  private readonly deadlines = new Deadlines()

  constructor(opts: GatewayOptions) {
    const url = new URL(opts.baseUrl)
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '')
    this.prefix = url.pathname.replace(/\/+$/, '')
    this.creds = opts.credentials
    this.recvWindowMs = opts.recvWindowMs ?? 5000
    this.recvWindowParam = `recvWindow=${this.recvWindowMs}&timestamp=`
    this.timeoutMs = opts.timeoutMs ?? 5000
    this.now = opts.now ?? (() => wallClock.now())
    this.onAnswer = opts.onAnswer
    this.onTimeSync = opts.onTimeSync
    this.userAgent = opts.userAgent ?? 'mm'
    this.pool = opts.dispatcher ?? new Pool(url.origin, {
      connections: opts.connections ?? 4,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      connect: {timeout: this.timeoutMs},
    })
  }

  get apiKeyMasked(): string {
    return this.creds.maskedKey
  }

  // ---- clock --------------------------------------------------------------

  /**
   * Measure the server-time offset (midpoint of the round trip). Concurrent calls share one
   * request. A `periodic` re-measure (the live audit's: a local clock stepped by NTP would
   * otherwise age every book by the step until a -1021) keeps the old offset when the round
   * trip took over PERIODIC_SYNC_MAX_RTT_MS: the midpoint is then uncertain by half of it.
   */
  syncTime(reason: 'start' | 'timestamp-error' | 'periodic' = 'start'): Promise<void> {
    this.syncing ??= (async () => {
      try {
        const t0 = this.now()
        const j = await this.call<{serverTime?: unknown}>('GET', '/fapi/v1/time', [], 'NONE')
        const t1 = this.now()
        if (typeof j?.serverTime !== 'number') throw new BinanceApiError({outcome: 'unknown', kind: 'bad-response', endpoint: 'GET /fapi/v1/time', message: 'GET /fapi/v1/time: no serverTime'})
        if (reason === 'periodic' && t1 - t0 > PERIODIC_SYNC_MAX_RTT_MS) return
        this.timeOffsetMs = Math.round(j.serverTime - (t0 + t1) / 2)
        this.onTimeSync?.({offsetMs: this.timeOffsetMs, rttMs: t1 - t0, reason})
      } finally {
        this.syncing = undefined
      }
    })()
    return this.syncing
  }

  // ---- request building (no I/O; the bench measures up to here) ----------

  build(method: Method, path: string, params: Params, security: Security): BuiltRequest {
    const endpoint = `${method} ${path}`
    const headers: Record<string, string> = {'user-agent': this.userAgent, accept: 'application/json'}
    if (security !== 'NONE') headers['x-mbx-apikey'] = this.creds.apiKey
    let payload = encodeParams(params)
    if (security === 'SIGNED') {
      payload += (payload.length > 0 ? '&' : '') + this.recvWindowParam + (this.now() + this.timeOffsetMs)
      payload += `&signature=${this.creds.sign(payload)}`
    }
    const full = this.prefix + path
    if (method === 'GET' || method === 'DELETE') {
      return {method, path: payload.length > 0 ? `${full}?${payload}` : full, headers, endpoint}
    }
    headers['content-type'] = 'application/x-www-form-urlencoded'
    return {method, path: full, headers, body: payload, endpoint}
  }

  /**
   * The abort signal of a request: aborts no sooner than `timeoutMs` from now (and at most
   * a short slice later). Requests at the gateway's own timeout go through `Deadlines`: no
   * timer and no signal is created on the way to the socket. Another timeout (none of the
   * gateway's calls today) gets its own `AbortSignal.timeout`.
   */
  private deadline(timeoutMs: number): AbortSignal {
    return timeoutMs === this.timeoutMs ? this.deadlines.signal(timeoutMs) : AbortSignal.timeout(timeoutMs)
  }

  // ---- one call -------------------------------------------------------------

  /**
   * One request and its answer. The request is built, signed and handed to the connection
   * pool before this returns (no promise layer on the way to the socket: tick-to-order);
   * only the answer is awaited. A -1021 re-syncs the clock and, when `idempotent`, sends
   * the request again signed anew. Never throws: every failure is the promise's.
   */
  call<T = unknown>(method: Method, path: string, params: Params, security: Security, opts: CallOptions = {}): Promise<T> {
    let first: Promise<T>
    try {
      first = this.once<T>(this.build(method, path, params, security), opts.timeoutMs ?? this.timeoutMs)
    } catch (err) {
      return Promise.reject(err)
    }
    return security === 'SIGNED' ? this.afterTimestampError(first, () => (opts.idempotent ?? true ? this.once<T>(this.build(method, path, params, security), opts.timeoutMs ?? this.timeoutMs) : undefined)) : first
  }

  /**
   * A request signed earlier (`prepareCancelBatch`), handed to the pool as it is before this
   * returns; after a -1021 the clock is re-synced and the request signed anew from `params`
   * (made only then).
   */
  private callPrepared<T = unknown>(req: BuiltRequest, path: string, params: () => Params): Promise<T> {
    return this.afterTimestampError(this.once<T>(req, this.timeoutMs), () => this.once<T>(this.build(req.method, path, params(), 'SIGNED'), this.timeoutMs))
  }

  /** `first`'s answer; on a -1021 the clock is re-synced and `again` (if it sends anything) answers instead. */
  private async afterTimestampError<T>(first: Promise<T>, again: () => Promise<T> | undefined): Promise<T> {
    try {
      return await first
    } catch (err) {
      if (!(err instanceof BinanceApiError && err.kind === 'timestamp')) throw err
      await this.syncTime('timestamp-error').catch(() => undefined)
      const p = again()
      if (p === undefined) throw err
      return p
    }
  }

  /** `req` handed to the pool now (in this call, synchronously), then its answer read. */
  private once<T>(req: BuiltRequest, timeoutMs: number): Promise<T> {
    const started = this.now()
    let res: ReturnType<Pool['request']>
    try {
      res = this.pool.request({
        method: req.method,
        path: req.path,
        headers: req.headers,
        body: req.body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: this.deadline(timeoutMs),
      })
    } catch (err) {
      res = Promise.reject(err)
    }
    return this.answer<T>(req, started, res, timeoutMs)
  }

  /** The answer of a request handed to the pool at `started`: its JSON, or a typed error. */
  private async answer<T>(req: BuiltRequest, started: number, sent: ReturnType<Pool['request']>, timeoutMs: number): Promise<T> {
    const {endpoint} = req
    let res: Awaited<ReturnType<Pool['request']>>
    let text: string
    try {
      res = await sent
      text = await res.body.text()
    } catch (err) {
      const code = errorCode(err)
      const {outcome, kind} = classifyTransport(code)
      this.answers++
      const at = this.now()
      this.onAnswer?.({endpoint, status: 0, at, latencyMs: at - started, failure: kind === 'timeout' ? 'timeout' : 'transport'})
      throw new BinanceApiError({
        outcome,
        kind,
        endpoint,
        message: redact(`${endpoint}: ${kind === 'timeout' ? `no answer within ${timeoutMs} ms` : `connection failed (${code ?? 'error'})`}${outcome === 'unknown' ? '; outcome unknown' : ''}`, this.creds),
        suggestion: outcome === 'unknown' ? 'the request may have taken effect; it is settled by a query' : 'check the network and --rest-url',
      })
    }
    const status = res.statusCode
    const headers = res.headers as Headers
    const at = this.now()
    const info: AnswerInfo = {endpoint, status, at, latencyMs: at - started}
    const w = num(header(headers, 'x-mbx-used-weight-1m'))
    if (w !== undefined) info.usedWeight1m = w
    const c10 = num(header(headers, 'x-mbx-order-count-10s'))
    if (c10 !== undefined) info.orderCount10s = c10
    const c1m = num(header(headers, 'x-mbx-order-count-1m'))
    if (c1m !== undefined) info.orderCount1m = c1m
    this.answers++

    let json: unknown
    let parsed = false
    try {
      json = text.length > 0 ? JSON.parse(text) : undefined
      parsed = true
    } catch {
      /* handled below */
    }
    const body = parsed && isErrorBody(json) ? json : undefined
    if (status >= 200 && status < 300 && !(body && body.code < 0)) {
      this.onAnswer?.(info)
      if (!parsed) throw new BinanceApiError({outcome: 'unknown', kind: 'bad-response', endpoint, httpStatus: status, message: `${endpoint}: answered ${status} with a body that is not JSON`})
      return json as T
    }
    if (body) info.venueCode = body.code
    const until = body && typeof body.msg === 'string' ? /banned until (\d{12,14})\b/.exec(body.msg) : null
    if (until) info.bannedUntil = Number(until[1])
    const ra = status === 418 || status === 429 ? parseRetryAfter(header(headers, 'retry-after'), at) : undefined
    if (ra !== undefined) info.retryAfterMs = ra
    this.onAnswer?.(info)
    const {outcome, kind} = classifyHttp(status, body?.code)
    const what = body ? `${redact(body.msg, this.creds).slice(0, 300)} (code ${body.code})` : text.length === 0 ? 'no body' : 'a body that is not a Binance error'
    throw new BinanceApiError({
      outcome,
      kind,
      endpoint,
      httpStatus: status,
      venueCode: body?.code,
      venueMsg: body ? redact(body.msg, this.creds) : undefined,
      retryAfterMs: ra,
      message: `${endpoint}: HTTP ${status}: ${what}${outcome === 'unknown' ? '; outcome unknown' : ''}`,
      suggestion: SUGGEST[kind],
    })
  }

  // ---- market data and rules (public) --------------------------------------

  serverTime(): Promise<{serverTime: number}> {
    return this.call('GET', '/fapi/v1/time', [], 'NONE')
  }

  async exchangeInfo(): Promise<unknown> {
    return this.call('GET', '/fapi/v1/exchangeInfo', [], 'NONE')
  }

  /** the symbol's rules and the venue's rate limits; throws E_UNKNOWN_SYMBOL when unlisted */
  async symbolRules(symbol: string): Promise<{rules: SymbolRules; rateLimits: RateLimitRule[]}> {
    const info = await this.exchangeInfo()
    const rules = parseSymbolRules(info, symbol)
    if (!rules) throw new MmError('E_UNKNOWN_SYMBOL', `${symbol.toUpperCase()} is not listed by ${this.baseUrl}`, {exitCode: 2})
    return {rules, rateLimits: parseRateLimits(info)}
  }

  /** GET /fapi/v1/premiumIndex → mark price and funding (weight 1) */
  async premiumIndex(symbol: string): Promise<{markPrice: string; lastFundingRate?: string; nextFundingTime?: number}> {
    const j = await this.call<Record<string, unknown>>('GET', '/fapi/v1/premiumIndex', [['symbol', symbol]], 'NONE')
    if (typeof j?.markPrice !== 'string') throw new BinanceApiError({outcome: 'unknown', kind: 'bad-response', endpoint: 'GET /fapi/v1/premiumIndex', message: 'GET /fapi/v1/premiumIndex: no markPrice'})
    return {markPrice: j.markPrice, lastFundingRate: typeof j.lastFundingRate === 'string' ? j.lastFundingRate : undefined, nextFundingTime: typeof j.nextFundingTime === 'number' ? j.nextFundingTime : undefined}
  }

  // ---- orders ---------------------------------------------------------------

  /** POST /fapi/v1/order, handed to the pool before this returns. Never re-sent by the gateway. */
  placeOrder(p: PlaceOrderParams): Promise<BinanceOrder> {
    let params: Params
    try {
      params = orderParams(p)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.orderAnswer(this.call('POST', '/fapi/v1/order', params, 'SIGNED', {idempotent: false}), 'POST /fapi/v1/order')
  }

  private async orderAnswer(sent: Promise<unknown>, endpoint: string): Promise<BinanceOrder> {
    return parseOrder(await sent, endpoint)
  }

  /** POST /fapi/v1/batchOrders (≤ 5). Each slot is the order or its definitive rejection. */
  async placeBatch(orders: PlaceOrderParams[]): Promise<Array<BinanceOrder | BinanceApiError>> {
    if (orders.length < 1 || orders.length > 5) throw new MmError('E_ORDER_PARAMS', `batch orders take 1 to 5 orders, got ${orders.length}`)
    const list = orders.map((o) => Object.fromEntries(orderParams(o).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])))
    const endpoint = 'POST /fapi/v1/batchOrders'
    const j = await this.call<unknown>('POST', '/fapi/v1/batchOrders', [['batchOrders', JSON.stringify(list)]], 'SIGNED', {idempotent: false})
    if (!Array.isArray(j) || j.length !== orders.length) {
      throw new BinanceApiError({outcome: 'unknown', kind: 'bad-response', endpoint, message: `${endpoint}: expected ${orders.length} answers`})
    }
    return j.map((slot) => (isErrorBody(slot) ? slotError(endpoint, slot) : parseOrder(slot, endpoint)))
  }

  /** DELETE /fapi/v1/order, handed to the pool before this returns */
  cancelOrder(symbol: string, clientOrderId: string): Promise<BinanceOrder> {
    return this.orderAnswer(this.call('DELETE', '/fapi/v1/order', [['symbol', symbol], ['origClientOrderId', clientOrderId]], 'SIGNED'), 'DELETE /fapi/v1/order')
  }

  /**
   * DELETE /fapi/v1/batchOrders signed now, to be sent later by `cancelBatch` (at most
   * once): the request's timestamp is now's, so it is valid for the recvWindow from now.
   */
  prepareCancelBatch(symbol: string, clientOrderIds: readonly string[]): PreparedCancelBatch {
    if (clientOrderIds.length < 1 || clientOrderIds.length > 10) throw new MmError('E_ORDER_PARAMS', `batch cancels take 1 to 10 ids, got ${clientOrderIds.length}`)
    const signedAt = this.now()
    const offsetMs = this.timeOffsetMs
    return {ids: clientOrderIds, req: this.build('DELETE', '/fapi/v1/batchOrders', [['symbol', symbol], ['origClientOrderIdList', JSON.stringify(clientOrderIds)]], 'SIGNED'), signedAt, offsetMs}
  }

  /**
   * The oldest a request signed ahead may be when it is sent: half the recvWindow, and at
   * least 1 s of it left for the way to the venue (0: nothing is signed ahead, a
   * recvWindow under 2 s)
   */
  get preparedMaxAgeMs(): number {
    return Math.max(0, Math.min(this.recvWindowMs / 2, this.recvWindowMs - 1000))
  }

  /** `p` was signed less than `maxAgeMs` ago by this gateway's clock (and not in its future: a clock stepped back), with the server-time offset in force now */
  isFresh(p: PreparedCancelBatch, maxAgeMs: number): boolean {
    const age = this.now() - p.signedAt
    return age >= 0 && age < maxAgeMs && p.offsetMs === this.timeOffsetMs
  }

  /**
   * DELETE /fapi/v1/batchOrders by client ids (≤ 10); `prepared`: the same request signed
   * earlier (`prepareCancelBatch`), sent as it is (after a -1021 the retry is signed anew);
   * its ids must be `clientOrderIds` itself (the slots are read in that order).
   */
  cancelBatch(symbol: string, clientOrderIds: readonly string[], prepared?: PreparedCancelBatch): Promise<Array<BinanceOrder | BinanceApiError>> {
    if (clientOrderIds.length < 1 || clientOrderIds.length > 10) return Promise.reject(new MmError('E_ORDER_PARAMS', `batch cancels take 1 to 10 ids, got ${clientOrderIds.length}`))
    if (prepared !== undefined && prepared.ids !== clientOrderIds) return Promise.reject(new MmError('E_ORDER_PARAMS', 'a batch cancel signed ahead is sent with its own ids only'))
    const params = (): Params => [['symbol', symbol], ['origClientOrderIdList', JSON.stringify(clientOrderIds)]]
    // handed to the pool now (the tick's path ends here); the slots are read from the answer
    const sent = prepared !== undefined ? this.callPrepared<unknown>(prepared.req, '/fapi/v1/batchOrders', params) : this.call<unknown>('DELETE', '/fapi/v1/batchOrders', params(), 'SIGNED')
    return this.batchSlots(sent, clientOrderIds.length)
  }

  private async batchSlots(sent: Promise<unknown>, n: number): Promise<Array<BinanceOrder | BinanceApiError>> {
    const endpoint = 'DELETE /fapi/v1/batchOrders'
    const j = await sent
    if (!Array.isArray(j) || j.length !== n) throw new BinanceApiError({outcome: 'unknown', kind: 'bad-response', endpoint, message: `${endpoint}: expected ${n} answers`})
    return j.map((slot) => (isErrorBody(slot) ? slotError(endpoint, slot) : parseOrder(slot, endpoint)))
  }

  /** DELETE /fapi/v1/allOpenOrders */
  async cancelAll(symbol: string): Promise<void> {
    await this.call('DELETE', '/fapi/v1/allOpenOrders', [['symbol', symbol]], 'SIGNED')
  }

  /** GET /fapi/v1/order by client id; -2013 (no such order) comes back as a definitive error */
  async queryOrder(symbol: string, clientOrderId: string): Promise<BinanceOrder> {
    const j = await this.call('GET', '/fapi/v1/order', [['symbol', symbol], ['origClientOrderId', clientOrderId]], 'SIGNED')
    return parseOrder(j, 'GET /fapi/v1/order')
  }

  /** GET /fapi/v1/order by the venue's order id (a restart tells whose a trade was: userTrades carry no client id) */
  async queryOrderById(symbol: string, orderId: number): Promise<BinanceOrder> {
    const j = await this.call('GET', '/fapi/v1/order', [['symbol', symbol], ['orderId', orderId]], 'SIGNED')
    return parseOrder(j, 'GET /fapi/v1/order')
  }

  async openOrders(symbol: string): Promise<BinanceOrder[]> {
    const j = await this.call('GET', '/fapi/v1/openOrders', [['symbol', symbol]], 'SIGNED')
    return parseOrders(j, 'GET /fapi/v1/openOrders')
  }

  /** POST /fapi/v1/countdownCancelAll (dead-man's switch; 0 disarms) */
  async countdownCancelAll(symbol: string, countdownMs: number): Promise<void> {
    if (!Number.isSafeInteger(countdownMs) || countdownMs < 0) throw new MmError('E_ORDER_PARAMS', `countdownTime must be a non-negative integer of ms, got ${countdownMs}`)
    await this.call('POST', '/fapi/v1/countdownCancelAll', [['symbol', symbol], ['countdownTime', countdownMs]], 'SIGNED')
  }

  // ---- account --------------------------------------------------------------

  async positionRisk(symbol: string): Promise<BinancePosition[]> {
    const j = await this.call('GET', '/fapi/v3/positionRisk', [['symbol', symbol]], 'SIGNED')
    return parsePositions(j, 'GET /fapi/v3/positionRisk')
  }

  async account(): Promise<Record<string, unknown>> {
    const j = await this.call<Record<string, unknown>>('GET', '/fapi/v3/account', [], 'SIGNED')
    if (typeof j !== 'object' || j === null || !Array.isArray(j.assets)) throw new BinanceApiError({outcome: 'unknown', kind: 'bad-response', endpoint: 'GET /fapi/v3/account', message: 'GET /fapi/v3/account: no assets[]'})
    return j
  }

  async userTrades(q: {symbol: string; startTime?: number; endTime?: number; fromId?: number; orderId?: number; limit?: number}): Promise<BinanceTrade[]> {
    const j = await this.call(
      'GET',
      '/fapi/v1/userTrades',
      [
        ['symbol', q.symbol],
        ['orderId', q.orderId],
        ['startTime', q.startTime],
        ['endTime', q.endTime],
        ['fromId', q.fromId],
        ['limit', q.limit],
      ],
      'SIGNED',
    )
    return parseTrades(j, 'GET /fapi/v1/userTrades')
  }

  async commissionRate(symbol: string): Promise<CommissionRate> {
    return parseCommission(await this.call('GET', '/fapi/v1/commissionRate', [['symbol', symbol]], 'SIGNED'), 'GET /fapi/v1/commissionRate')
  }

  /** GET /fapi/v1/feeBurn → true when the account pays its fees in BNB (the BNB fee discount) */
  async feeBurn(): Promise<boolean> {
    const j = await this.call<{feeBurn?: unknown}>('GET', '/fapi/v1/feeBurn', [], 'SIGNED')
    const v = j?.feeBurn
    // the documented answer is a boolean; "true"/"false" strings are taken as well
    if (v === true || v === 'true') return true
    if (v === false || v === 'false') return false
    throw new BinanceApiError({outcome: 'unknown', kind: 'bad-response', endpoint: 'GET /fapi/v1/feeBurn', message: 'GET /fapi/v1/feeBurn: no feeBurn'})
  }

  /** GET /fapi/v1/positionSide/dual → true in hedge mode */
  async dualSidePosition(): Promise<boolean> {
    const j = await this.call<{dualSidePosition?: unknown}>('GET', '/fapi/v1/positionSide/dual', [], 'SIGNED')
    if (typeof j?.dualSidePosition !== 'boolean') throw new BinanceApiError({outcome: 'unknown', kind: 'bad-response', endpoint: 'GET /fapi/v1/positionSide/dual', message: 'GET /fapi/v1/positionSide/dual: no dualSidePosition'})
    return j.dualSidePosition
  }

  async setLeverage(symbol: string, leverage: number): Promise<{leverage: number; maxNotionalValue?: string}> {
    const j = await this.call<Record<string, unknown>>('POST', '/fapi/v1/leverage', [['symbol', symbol], ['leverage', leverage]], 'SIGNED')
    if (typeof j?.leverage !== 'number') throw new BinanceApiError({outcome: 'unknown', kind: 'bad-response', endpoint: 'POST /fapi/v1/leverage', message: 'POST /fapi/v1/leverage: no leverage'})
    return {leverage: j.leverage, maxNotionalValue: typeof j.maxNotionalValue === 'string' ? j.maxNotionalValue : undefined}
  }

  /** GET /fapi/v1/rateLimit/order: the account's ORDERS limiters */
  async orderRateLimits(): Promise<RateLimitRule[]> {
    const j = await this.call<unknown>('GET', '/fapi/v1/rateLimit/order', [], 'SIGNED')
    return parseRateLimits({rateLimits: j})
  }

  // ---- user data stream keys (USER_STREAM: key, no signature) ---------------

  async createListenKey(): Promise<string> {
    const j = await this.call<{listenKey?: unknown}>('POST', '/fapi/v1/listenKey', [], 'USER_STREAM')
    if (typeof j?.listenKey !== 'string' || j.listenKey.length === 0) throw new BinanceApiError({outcome: 'unknown', kind: 'bad-response', endpoint: 'POST /fapi/v1/listenKey', message: 'POST /fapi/v1/listenKey: no listenKey'})
    return j.listenKey
  }

  /** PUT /fapi/v1/listenKey; -1125 (key gone) comes back as a definitive error */
  async keepAliveListenKey(): Promise<void> {
    await this.call('PUT', '/fapi/v1/listenKey', [], 'USER_STREAM')
  }

  async closeListenKey(): Promise<void> {
    await this.call('DELETE', '/fapi/v1/listenKey', [], 'USER_STREAM')
  }

  async close(): Promise<void> {
    this.deadlines.close()
    await this.pool.close()
  }
}

/**
 * Request deadlines with one timer. Requests started within the same short slice (≤ 50 ms,
 * ≤ a tenth of the timeout) share one abort signal that fires `timeoutMs` + slice after
 * the slice began, so a request's deadline is `timeoutMs` plus at most the slice. The
 * slices' signals wait in a queue (their deadlines are in start order) behind a single
 * timer armed for the oldest; the controller of the next slice is made ready after the
 * current turn, so a request on its way to the socket only takes it and notes its
 * deadline. (An `AbortSignal.timeout` per request, or per slice, made a timer, a weak
 * reference and a listener table on the tick-to-order path: bench/tick-to-order.bench.ts.)
 * undici removes each request's listener when its answer is read; the timer is unref'd,
 * as `AbortSignal.timeout`'s is.
 */
export class Deadlines {
  private current?: AbortController
  /** performance.now() ms until which `current` takes new requests */
  private currentUntil = 0
  private spare?: AbortController
  private spareQueued = false
  /** signals of the slices still to fire, oldest first */
  private readonly queue: Array<{ctrl: AbortController; at: number}> = []
  private timer: ReturnType<typeof setTimeout> | undefined
  private closed = false

  /** `now`: a monotonic clock, ms (tests give a fake one) */
  constructor(private readonly now: () => number = () => performance.now()) {}

  signal(timeoutMs: number): AbortSignal {
    const t = this.now()
    if (this.current !== undefined && t < this.currentUntil) return this.current.signal
    const slice = Math.min(50, Math.ceil(timeoutMs / 10))
    const ctrl = this.spare ?? makeController()
    this.spare = undefined
    this.current = ctrl
    this.currentUntil = t + slice
    this.queue.push({ctrl, at: t + timeoutMs + slice})
    if (this.timer === undefined) this.arm()
    if (!this.spareQueued && !this.closed) {
      this.spareQueued = true
      queueMicrotask(this.makeSpare)
    }
    return ctrl.signal
  }

  /** stop the timer (the gateway closes); signals not fired yet never fire */
  close(): void {
    this.closed = true
    clearTimeout(this.timer)
    this.timer = undefined
    this.queue.length = 0
    this.current = undefined
  }

  private readonly makeSpare = (): void => {
    this.spareQueued = false
    if (!this.closed) this.spare ??= makeController()
  }

  private arm(): void {
    const head = this.queue[0]
    if (head === undefined || this.closed) return
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(head.at - this.now())))
    this.timer.unref()
  }

  private readonly fire = (): void => {
    this.timer = undefined
    const t = this.now()
    // a timer may fire a little early: only what is due is aborted, the rest re-armed
    while (this.queue.length > 0 && this.queue[0].at <= t) {
      const {ctrl} = this.queue.shift()!
      if (ctrl === this.current) this.current = undefined
      ctrl.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))
    }
    this.arm()
  }
}

function makeController(): AbortController {
  const c = new AbortController()
  // many requests may listen to one signal: no leak warning for that
  setMaxListeners(0, c.signal)
  return c
}

/** The order's parameters in the order they are sent. GTX/GTC/IOC go out exactly as chosen. */
export function orderParams(p: PlaceOrderParams): Params {
  if (p.type === 'LIMIT') {
    if (p.price === undefined || p.timeInForce === undefined) throw new MmError('E_ORDER_PARAMS', `LIMIT order ${p.newClientOrderId} needs a price and a time in force`)
  } else if (p.price !== undefined || p.timeInForce !== undefined) {
    throw new MmError('E_ORDER_PARAMS', `MARKET order ${p.newClientOrderId} takes no price or time in force`)
  }
  return [
    ['symbol', p.symbol],
    ['side', p.side],
    ['type', p.type],
    ['timeInForce', p.timeInForce],
    ['quantity', p.quantity],
    ['price', p.price],
    ['reduceOnly', p.reduceOnly ? 'true' : undefined],
    ['newClientOrderId', p.newClientOrderId],
    ['selfTradePreventionMode', p.selfTradePreventionMode],
    ['newOrderRespType', p.newOrderRespType],
  ]
}

const SUGGEST: Record<string, string | undefined> = {
  'rate-limit': 'slow down: the venue limit was hit',
  banned: 'the IP is banned for a while; quoting stops until the ban ends',
  throttled: 'the venue is overloaded; quoting slows down',
  timestamp: 'the local clock is off; the offset was re-measured',
  server: 'the request may have taken effect; it is settled by a query',
}

function isErrorBody(x: unknown): x is {code: number; msg: string} {
  return typeof x === 'object' && x !== null && typeof (x as {code?: unknown}).code === 'number' && typeof (x as {msg?: unknown}).msg === 'string'
}

function slotError(endpoint: string, slot: {code: number; msg: string}): BinanceApiError {
  const {outcome, kind} = classifyHttp(400, slot.code)
  return new BinanceApiError({outcome, kind, endpoint, venueCode: slot.code, venueMsg: redact(slot.msg), message: `${endpoint}: ${redact(slot.msg).slice(0, 300)} (code ${slot.code})`})
}

function num(v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  return Number.isFinite(n) ? n : undefined
}

function errorCode(err: unknown): string | undefined {
  const e = err as {code?: unknown; name?: unknown; cause?: {code?: unknown}}
  if (typeof e?.code === 'string') return e.code
  if (typeof e?.cause?.code === 'string') return e.cause.code
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'ABORT_ERR'
  return undefined
}

export {BinanceCode}
