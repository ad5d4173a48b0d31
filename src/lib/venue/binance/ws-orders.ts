/**
 * Orders over Binance's WebSocket API (ws-fapi, FACTS.md §3.4), behind the same three calls
 * the venue adapter makes of the REST gateway (`placeOrder`, `cancelOrder`, `queryOrder`),
 * with the same answers (`BinanceOrder`) and the same typed failures (`BinanceApiError`,
 * definitive `rejected` vs `unknown`), so the lifecycle reducer, in-doubt handling, -5022
 * back-off and the rate governor see no difference (docs/live.md, "Order transport").
 *
 *  - one request `{"id","method","params"}` per call: `order.place`, `order.cancel`,
 *    `order.status`; signed per request: `apiKey`, `recvWindow`, `timestamp` (local wall time
 *    + the gateway's measured server offset), then `signature` = HMAC-SHA256 over every
 *    param but `signature`, sorted by name, `k=v&…`. The secret stays in `Credentials`; the
 *    signature is only ever on the wire (messages are `redact`ed).
 *  - answers matched to requests by `id`; `status` + `error.code` are classified as an HTTP
 *    answer is (errors.ts); `rateLimits` (REQUEST_WEIGHT 1m, ORDERS 10s / 1m) go to
 *    `onAnswer` like the REST headers.
 *  - per-request deadline (one sweeping timer): no answer in time → outcome `unknown`
 *    (in doubt; a place is never sent again, the lifecycle queries its client id). A socket
 *    that closes with requests pending leaves them `unknown` too. A call made while no
 *    socket is open is a definitive `transport` rejection (nothing was sent).
 *  - reconnect with the shared backoff (../backoff.ts); `ws` answers the venue's pings
 *    with the same payload; a socket is replaced before the venue's 24 h cut.
 *
 * `OrderRouter` picks the WebSocket API while its socket is open and the REST gateway
 * otherwise, and says so once per switch.
 */
import {EventEmitter} from 'node:events'
import WebSocket from 'ws'
import {wallClock} from '../../clock/clock.js'
import {Backoff, type BackoffOptions} from '../backoff.js'
import {BinanceApiError, classifyHttp} from './errors.js'
import type {AnswerInfo} from './gateway.js'
import {orderParams} from './gateway.js'
import {type BinanceOrder, type PlaceOrderParams, parseOrder} from './rest-types.js'
import {type Credentials, type Params, redact} from './signer.js'

/** What the venue adapter needs of an order transport (the REST gateway is one). */
export interface OrderTransport {
  placeOrder(p: PlaceOrderParams): Promise<BinanceOrder>
  cancelOrder(symbol: string, clientOrderId: string): Promise<BinanceOrder>
  queryOrder(symbol: string, clientOrderId: string): Promise<BinanceOrder>
}

export type OrderTransportName = 'ws' | 'rest'

/** The WebSocket API URL of a venue: Binance's own, or `/ws-fapi/v1` on a custom WebSocket base (mm sim). */
export function wsApiUrl(ep: {ws: string; name: string}): string {
  if (ep.name === 'binance') return 'wss://ws-fapi.binance.com/ws-fapi/v1'
  if (ep.name === 'testnet') return 'wss://testnet.binancefuture.com/ws-fapi/v1'
  return `${ep.ws.replace(/\/+$/, '')}/ws-fapi/v1`
}

export interface WsOrderOptions {
  url: string
  credentials: Credentials
  /** default 5000 */
  recvWindowMs?: number
  /** per-request deadline, ms; default 5000 */
  timeoutMs?: number
  /** server time − local time, ms (the REST gateway measures it) */
  offsetMs?: () => number
  /** -1021 / -5028 seen: re-measure the offset (the gateway's syncTime) */
  resyncTime?: () => Promise<void>
  /** wall clock, ms */
  now?: () => number
  onAnswer?: (info: AnswerInfo) => void
  reconnect?: BackoffOptions
  /** replace the socket this long after it opened (the venue cuts at 24 h); default 23 h 30 min */
  maxAgeMs?: number
  /** a socket under replacement is closed this long after the new one opened (its answers come in meanwhile); default timeoutMs */
  drainMs?: number
}

interface Pending {
  method: string
  deadline: number
  started: number
  sock: WebSocket
  resolve: (v: unknown) => void
  reject: (e: unknown) => void
}

export interface WsOrderEvents {
  up: []
  down: [reason: string]
}

/** Built request: the exact text handed to the socket (the bench measures up to here). */
export interface WsRequest {
  id: number
  method: string
  text: string
}

export class WsOrderApi extends EventEmitter<WsOrderEvents> {
  readonly url: string
  /** requests sent, answers matched, late answers (after the deadline), deadlines passed, connection attempts, connections opened */
  readonly counters = {sent: 0, answered: 0, late: 0, timeouts: 0, attempts: 0, connections: 0}
  private readonly creds: Credentials
  private readonly recvWindowMs: number
  private readonly timeoutMs: number
  private readonly offsetMs: () => number
  private readonly now: () => number
  private readonly o: WsOrderOptions
  private readonly backoff: Backoff
  private readonly maxAgeMs: number
  private readonly pending = new Map<number, Pending>()
  private sock?: WebSocket
  private isUp = false
  private nextId = 1
  private stopped = false
  private sweeper?: NodeJS.Timeout
  private retryTimer?: NodeJS.Timeout
  private ageTimer?: NodeJS.Timeout
  private lastProblem = ''
  private downSaid = false

  constructor(o: WsOrderOptions) {
    super()
    this.o = o
    this.url = o.url
    this.creds = o.credentials
    this.recvWindowMs = o.recvWindowMs ?? 5000
    this.timeoutMs = o.timeoutMs ?? 5000
    this.offsetMs = o.offsetMs ?? (() => 0)
    this.now = o.now ?? (() => wallClock.now())
    this.backoff = new Backoff(o.reconnect)
    this.maxAgeMs = o.maxAgeMs ?? 23.5 * 3_600_000
  }

  /** is a socket open (calls go out now)? */
  get connected(): boolean {
    return this.isUp
  }

  /** requests sent and not answered (nor timed out) yet */
  get inFlight(): number {
    return this.pending.size
  }

  /**
   * Connect; resolves true once open, false when the first attempt failed (within the
   * timeout). Either way it keeps reconnecting in the background until `stop()`.
   */
  start(): Promise<boolean> {
    const step = Math.max(10, Math.min(100, Math.ceil(this.timeoutMs / 10)))
    this.sweeper ??= setInterval(() => this.sweep(), step)
    this.sweeper.unref()
    return new Promise<boolean>((resolve) => {
      const onUp = () => {
        this.off('down', onDown)
        resolve(true)
      }
      const onDown = () => {
        this.off('up', onUp)
        resolve(false)
      }
      this.once('up', onUp)
      this.once('down', onDown)
      this.connect()
    })
  }

  private connect(): void {
    if (this.stopped) return
    this.counters.attempts++
    let ws: WebSocket
    try {
      ws = new WebSocket(this.url, {perMessageDeflate: false, handshakeTimeout: this.timeoutMs})
    } catch (err) {
      this.onDown(`cannot connect: ${(err as Error).message}`)
      return
    }
    let opened = false
    ws.on('open', () => {
      if (this.stopped) {
        ws.terminate()
        return
      }
      opened = true
      this.counters.connections++
      const old = this.sock
      this.sock = ws
      this.backoff.ok()
      if (old && old !== ws) {
        // replaced before the 24 h cut: its pending answers may still come; closed after the drain
        const t = setTimeout(() => old.close(1000, 'replaced'), this.o.drainMs ?? this.timeoutMs)
        t.unref()
      }
      clearTimeout(this.ageTimer)
      this.ageTimer = setTimeout(() => this.connect(), this.maxAgeMs)
      this.ageTimer.unref()
      if (!this.isUp) {
        this.isUp = true
        this.lastProblem = ''
        this.emit('up')
      }
    })
    ws.on('message', (raw) => this.onMessage(ws, raw.toString()))
    ws.on('error', (err) => {
      this.lastProblem = redact((err as Error).message ?? String(err), this.creds)
    })
    ws.on('close', (code) => {
      this.failPending(ws, `connection closed (${code}) before the answer`)
      if (this.stopped) return
      if (this.sock === ws) {
        this.sock = undefined
        this.onDown(`connection closed (${code})`)
      } else if (!opened) {
        if (this.isUp) {
          // a replacement that failed: the open socket goes on; try again later
          clearTimeout(this.retryTimer)
          this.retryTimer = setTimeout(() => this.connect(), this.backoff.next())
          this.retryTimer.unref()
        } else {
          this.onDown(`cannot connect${this.lastProblem ? `: ${this.lastProblem}` : ''}`)
        }
      }
    })
  }

  private onDown(reason: string): void {
    const wasUp = this.isUp
    this.isUp = false
    clearTimeout(this.ageTimer)
    if (this.stopped) return
    // 'down' once per outage (and once for a first attempt that failed)
    if (wasUp || !this.downSaid) {
      this.downSaid = true
      this.emit('down', reason)
    }
    clearTimeout(this.retryTimer)
    this.retryTimer = setTimeout(() => this.connect(), this.backoff.next())
    this.retryTimer.unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.sweeper)
    clearTimeout(this.retryTimer)
    clearTimeout(this.ageTimer)
    const s = this.sock
    this.sock = undefined
    this.isUp = false
    for (const [id, p] of this.pending) {
      this.pending.delete(id)
      p.reject(this.unknown(p.method, 'transport', `${p.method}: the client stopped before the answer; outcome unknown`))
    }
    if (s && s.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          s.terminate()
          resolve()
        }, 1000)
        s.once('close', () => {
          clearTimeout(t)
          resolve()
        })
        s.close(1000, 'stop')
      })
    }
  }

  // ---- requests -------------------------------------------------------------

  /**
   * The signed request text (no I/O). Params in any order: the signature is over them sorted
   * by name. The payload and the JSON frame are written in one pass over the sorted pairs
   * (keys are plain names; string values go through JSON.stringify, numbers as they are).
   */
  build(method: string, params: Params): WsRequest {
    const pairs: Array<[string, string | number]> = []
    for (const [k, v] of params) if (v !== undefined) pairs.push([k, typeof v === 'boolean' ? String(v) : v])
    pairs.push(['apiKey', this.creds.apiKey], ['recvWindow', this.recvWindowMs], ['timestamp', this.now() + this.offsetMs()])
    pairs.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
    let payload = ''
    let json = ''
    for (let i = 0; i < pairs.length; i++) {
      const [k, v] = pairs[i]
      if (i > 0) {
        payload += '&'
        json += ','
      }
      payload += `${k}=${v}`
      json += `"${k}":${typeof v === 'number' ? v : JSON.stringify(v)}`
    }
    const id = this.nextId++
    return {id, method, text: `{"id":${id},"method":${JSON.stringify(method)},"params":{${json},"signature":"${this.creds.sign(payload)}"}}`}
  }

  private async call(method: string, params: Params, idempotent: boolean): Promise<unknown> {
    try {
      return await this.send(this.build(method, params))
    } catch (err) {
      if (err instanceof BinanceApiError && err.kind === 'timestamp') {
        await this.o.resyncTime?.().catch(() => undefined)
        if (idempotent) return this.send(this.build(method, params))
      }
      throw err
    }
  }

  /** Hand a built request to the open socket and wait for its answer (or the deadline). */
  send(req: WsRequest): Promise<unknown> {
    const s = this.sock
    if (!this.isUp || !s || s.readyState !== WebSocket.OPEN) {
      return Promise.reject(new BinanceApiError({outcome: 'rejected', kind: 'transport', endpoint: req.method, message: `${req.method}: the WebSocket API is not connected; nothing was sent`, suggestion: 'orders go over REST meanwhile'}))
    }
    const started = this.now()
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, {method: req.method, deadline: started + this.timeoutMs, started, sock: s, resolve, reject})
      this.counters.sent++
      s.send(req.text)
    })
  }

  private onMessage(ws: WebSocket, text: string): void {
    let msg: {id?: unknown; status?: unknown; result?: unknown; error?: {code?: unknown; msg?: unknown; data?: {retryAfter?: unknown}}; rateLimits?: unknown}
    try {
      msg = JSON.parse(text)
    } catch {
      return
    }
    if (typeof msg?.id !== 'number') return
    const p = this.pending.get(msg.id)
    if (!p) {
      this.counters.late++
      return
    }
    if (p.sock !== ws) return
    this.pending.delete(msg.id)
    this.counters.answered++
    const at = this.now()
    const status = typeof msg.status === 'number' ? msg.status : 0
    const info: AnswerInfo = {endpoint: p.method, status, at, latencyMs: at - p.started}
    readRateLimits(msg.rateLimits, info)
    const code = typeof msg.error?.code === 'number' ? msg.error.code : undefined
    const vmsg = typeof msg.error?.msg === 'string' ? redact(msg.error.msg, this.creds) : undefined
    if (status === 200 && msg.error === undefined) {
      this.o.onAnswer?.(info)
      p.resolve(msg.result)
      return
    }
    if (code !== undefined) info.venueCode = code
    const ra = msg.error?.data?.retryAfter
    const retryAfterMs = (status === 418 || status === 429) && typeof ra === 'number' ? Math.max(0, ra - (at + this.offsetMs())) : undefined
    if (retryAfterMs !== undefined) info.retryAfterMs = retryAfterMs
    this.o.onAnswer?.(info)
    const {outcome, kind} = classifyHttp(status === 0 ? 500 : status, code)
    p.reject(
      new BinanceApiError({
        outcome,
        kind,
        endpoint: p.method,
        httpStatus: status,
        venueCode: code,
        venueMsg: vmsg,
        retryAfterMs,
        message: `${p.method}: status ${status}: ${vmsg === undefined ? 'no error body' : `${vmsg.slice(0, 300)} (code ${code})`}${outcome === 'unknown' ? '; outcome unknown' : ''}`,
      }),
    )
  }

  private sweep(): void {
    if (this.pending.size === 0) return
    const t = this.now()
    for (const [id, p] of this.pending) {
      if (t < p.deadline) continue
      this.pending.delete(id)
      this.counters.timeouts++
      this.o.onAnswer?.({endpoint: p.method, status: 0, at: t, latencyMs: t - p.started, failure: 'timeout'})
      p.reject(this.unknown(p.method, 'timeout', `${p.method}: no answer within ${this.timeoutMs} ms; outcome unknown`))
    }
  }

  private failPending(ws: WebSocket, why: string): void {
    const t = this.now()
    for (const [id, p] of this.pending) {
      if (p.sock !== ws) continue
      this.pending.delete(id)
      this.o.onAnswer?.({endpoint: p.method, status: 0, at: t, latencyMs: t - p.started, failure: 'transport'})
      p.reject(this.unknown(p.method, 'transport', `${p.method}: ${why}; outcome unknown`))
    }
  }

  private unknown(endpoint: string, kind: 'timeout' | 'transport', message: string): BinanceApiError {
    return new BinanceApiError({outcome: 'unknown', kind, endpoint, message, suggestion: 'the request may have taken effect; it is settled by a query'})
  }

  // ---- the three order calls ---------------------------------------------------

  /** order.place. Never re-sent (not even after a clock re-sync: a retry is the core's decision). */
  async placeOrder(p: PlaceOrderParams): Promise<BinanceOrder> {
    return parseOrder(await this.call('order.place', orderParams(p), false), 'order.place')
  }

  async cancelOrder(symbol: string, clientOrderId: string): Promise<BinanceOrder> {
    return parseOrder(await this.call('order.cancel', [['symbol', symbol], ['origClientOrderId', clientOrderId]], true), 'order.cancel')
  }

  /** order.status by client id; -2013 comes back as a definitive error */
  async queryOrder(symbol: string, clientOrderId: string): Promise<BinanceOrder> {
    return parseOrder(await this.call('order.status', [['symbol', symbol], ['origClientOrderId', clientOrderId]], true), 'order.status')
  }
}

/** `rateLimits` of a WebSocket API answer → the fields the rate governor reads from REST headers. */
export function readRateLimits(x: unknown, info: AnswerInfo): void {
  if (!Array.isArray(x)) return
  for (const r of x as Array<Record<string, unknown>>) {
    if (typeof r?.count !== 'number') continue
    if (r.rateLimitType === 'REQUEST_WEIGHT' && r.interval === 'MINUTE' && r.intervalNum === 1) info.usedWeight1m = r.count
    else if (r.rateLimitType === 'ORDERS' && r.interval === 'SECOND' && r.intervalNum === 10) info.orderCount10s = r.count
    else if (r.rateLimitType === 'ORDERS' && r.interval === 'MINUTE' && r.intervalNum === 1) info.orderCount1m = r.count
  }
}

export interface RouterSwitch {
  to: OrderTransportName
  reason: string
}

/**
 * Orders over the WebSocket API while it is connected, over REST otherwise. `onSwitch` is
 * told once per change (down → REST, back → WebSocket API), never per order.
 */
export class OrderRouter implements OrderTransport {
  /** calls sent by transport */
  readonly sent = {ws: 0, rest: 0}
  private current: OrderTransportName
  constructor(
    private readonly ws: WsOrderApi,
    private readonly rest: OrderTransport,
    private readonly onSwitch: (s: RouterSwitch) => void,
  ) {
    // the intent: the first failure to connect is a switch to REST (said), the first connect is not
    this.current = 'ws'
    ws.on('down', (reason) => this.to('rest', `WebSocket API ${ws.url}: ${reason}`))
    ws.on('up', () => this.to('ws', `WebSocket API ${ws.url} connected`))
  }

  /** where orders go now */
  get transport(): OrderTransportName {
    return this.current
  }

  private to(t: OrderTransportName, reason: string): void {
    if (t === this.current) return
    this.current = t
    this.onSwitch({to: t, reason})
  }

  private pick(): OrderTransport {
    if (this.ws.connected) {
      this.sent.ws++
      return this.ws
    }
    this.sent.rest++
    return this.rest
  }

  placeOrder(p: PlaceOrderParams): Promise<BinanceOrder> {
    return this.pick().placeOrder(p)
  }

  cancelOrder(symbol: string, clientOrderId: string): Promise<BinanceOrder> {
    return this.pick().cancelOrder(symbol, clientOrderId)
  }

  queryOrder(symbol: string, clientOrderId: string): Promise<BinanceOrder> {
    return this.pick().queryOrder(symbol, clientOrderId)
  }
}
