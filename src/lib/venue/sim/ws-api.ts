/**
 * The WebSocket API of `mm sim` at `/ws-fapi/v1` (FACTS.md §3.4): requests
 * `{"id","method","params"}`, answers `{"id","status","result"|"error","rateLimits"}`.
 *
 * Methods: `order.place`, `order.cancel`, `order.modify`, `order.status`, `account.position`,
 * `account.status`, `account.balance` (and their `v2/` forms; signed per request: `apiKey`,
 * `timestamp`, `signature` over the params sorted by name), `userDataStream.start` / `.ping`
 * / `.stop` (`apiKey` only) and the unsigned `depth`, `ticker.price`, `ticker.book`. Same engine, error codes,
 * weights and order counts as REST; `?returnRateLimits=false` leaves `rateLimits` out.
 * `--lose-responses` applies to order.place / .cancel / .modify: carried out, never answered.
 */
import type {IncomingMessage} from 'node:http'
import type {Duplex} from 'node:stream'
import WebSocket, {WebSocketServer} from 'ws'
import type {Timers} from './exchange.js'
import {costOf} from './limits.js'
import {ApiError, checkTimestamp, Err, signatureMatches, wsApiPayload} from './signing.js'
import type {SimTrading} from './trading.js'

const METHODS: Record<string, {auth: 'none' | 'key' | 'signed'; rest: string; weight: number; orders?: boolean; losable?: boolean}> = {
  'order.place': {auth: 'signed', rest: 'POST /fapi/v1/order', weight: 0, orders: true, losable: true},
  'order.cancel': {auth: 'signed', rest: 'DELETE /fapi/v1/order', weight: 1, losable: true},
  'order.modify': {auth: 'signed', rest: 'PUT /fapi/v1/order', weight: 1, orders: true, losable: true},
  'order.status': {auth: 'signed', rest: 'GET /fapi/v1/order', weight: 1},
  'account.position': {auth: 'signed', rest: 'GET /fapi/v3/positionRisk', weight: 5},
  'v2/account.position': {auth: 'signed', rest: 'GET /fapi/v3/positionRisk', weight: 5},
  // account.status / .balance answer as REST GET /fapi/v2/account / v2/balance, their v2/ forms as v3
  'account.status': {auth: 'signed', rest: 'GET /fapi/v2/account', weight: 5},
  'v2/account.status': {auth: 'signed', rest: 'GET /fapi/v3/account', weight: 5},
  'account.balance': {auth: 'signed', rest: 'GET /fapi/v2/balance', weight: 5},
  'v2/account.balance': {auth: 'signed', rest: 'GET /fapi/v3/balance', weight: 5},
  // market data, no key; the weight is REST's for the same parameters (-1 here: costOf)
  depth: {auth: 'none', rest: 'GET /fapi/v1/depth', weight: -1},
  'ticker.price': {auth: 'none', rest: 'GET /fapi/v1/ticker/price', weight: -1},
  'ticker.book': {auth: 'none', rest: 'GET /fapi/v1/ticker/bookTicker', weight: -1},
  'userDataStream.start': {auth: 'key', rest: 'POST /fapi/v1/listenKey', weight: 1},
  'userDataStream.ping': {auth: 'key', rest: 'PUT /fapi/v1/listenKey', weight: 1},
  'userDataStream.stop': {auth: 'key', rest: 'DELETE /fapi/v1/listenKey', weight: 1},
}

export class WsApi {
  private readonly wss = new WebSocketServer({noServer: true, perMessageDeflate: false})
  private readonly sockets = new Set<WebSocket>()
  private pingTimer?: NodeJS.Timeout
  readonly counters = {connections: 0, requests: 0}

  constructor(private readonly t: SimTrading, private readonly o: {pingIntervalMs?: number; delayMs?: number; timers: Timers}) {
    if (o.pingIntervalMs) {
      this.pingTimer = setInterval(() => {
        for (const ws of this.sockets) if (ws.readyState === WebSocket.OPEN) ws.ping()
      }, o.pingIntervalMs)
      this.pingTimer.unref()
    }
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const u = new URL(req.url ?? '/', 'http://x')
    if (u.pathname !== '/ws-fapi/v1') return false
    const withLimits = u.searchParams.get('returnRateLimits') !== 'false'
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.sockets.add(ws)
      this.counters.connections++
      try {
        this.t.limiter.request(5, this.t.serverClock.now())
      } catch {}
      ws.on('close', () => this.sockets.delete(ws))
      ws.on('error', () => {})
      ws.on('message', (raw) => void this.onMessage(ws, raw.toString(), withLimits))
    })
    return true
  }

  private async onMessage(ws: WebSocket, text: string, withLimits: boolean): Promise<void> {
    let req: {id?: unknown; method?: unknown; params?: unknown}
    try {
      req = JSON.parse(text)
    } catch {
      return this.reply(ws, {id: null, status: 400, error: {code: -1013, msg: 'INVALID_MESSAGE.'}}, withLimits)
    }
    this.counters.requests++
    const id = req.id ?? null
    const method = typeof req.method === 'string' ? req.method : ''
    const params = (req.params && typeof req.params === 'object' ? req.params : {}) as Record<string, unknown>
    const m = new Map<string, string>()
    for (const [k, v] of Object.entries(params)) m.set(k, typeof v === 'string' ? v : JSON.stringify(v))
    const paramsOut: Record<string, string> = {}
    // the key and the signature have their own fields (the key only as sim-key / other), as on REST
    for (const [k, v] of m) if (k !== 'signature' && k !== 'apiKey') paramsOut[k] = v
    const rec = this.t.record({transport: 'ws-api', method, path: method, params: paramsOut, apiKey: m.has('apiKey') ? (this.t.isKey(m.get('apiKey')) ? 'sim-key' : 'other') : undefined, signature: m.get('signature'), status: 0})
    const now = this.t.serverClock.now()
    try {
      const spec = METHODS[method]
      if (!spec) throw new ApiError(-1000, `mm sim does not serve method ${JSON.stringify(method)}`)
      const [verb, path] = spec.rest.split(' ')
      this.t.limiter.request(spec.weight >= 0 ? spec.weight : costOf(verb, path, m).weight, now)
      if (spec.auth !== 'none') this.t.checkKey(m.get('apiKey'))
      if (spec.auth === 'signed') {
        const sig = m.get('signature')
        if (!sig) throw Err.mandatory('signature')
        if (!signatureMatches(this.t.secret, wsApiPayload(params), sig)) throw Err.badSignature()
        checkTimestamp(m, now)
      }
      if (spec.orders) this.t.limiter.orders(1, 1, now)
      m.delete('apiKey')
      m.delete('signature')
      const route = this.t.routes.get(spec.rest) ?? (verb === 'GET' ? this.marketRoute(path) : undefined)
      if (!route) throw new ApiError(-1000, 'no route')
      const lose = spec.losable === true && this.t.loseAnswer()
      let result = await route.fn(m)
      if (lose) {
        // --lose-responses: carried out, no answer ever sent (the socket stays open)
        rec.lost = true
        rec.status = -1
        this.t.finish(rec)
        return
      }
      if (method === 'account.position' || method === 'v2/account.position') result = result as unknown[]
      rec.status = 200
      this.t.finish(rec)
      this.reply(ws, {id, status: 200, result}, withLimits)
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(-1000, 'An unknown error occurred while processing the request.', 500)
      rec.status = err.status
      rec.code = err.code
      this.t.finish(rec)
      this.reply(ws, {id, status: err.status, error: err.body()}, withLimits)
    }
  }

  /** a market-side GET (the depth snapshot) as a route: its refusals become ApiErrors */
  private marketRoute(path: string): {fn: (m: Map<string, string>) => unknown} | undefined {
    return {
      fn: (m) => {
        const r = this.t.publicGet(path, new URL(`http://x${path}?${new URLSearchParams([...m])}`))
        if (!r) throw new ApiError(-1000, 'no route')
        const b = r.body as {code?: unknown; msg?: unknown}
        if (r.status !== 200) throw new ApiError(Number(b.code ?? -1000), String(b.msg ?? ''), r.status)
        return r.body
      },
    }
  }

  private reply(ws: WebSocket, msg: Record<string, unknown>, withLimits: boolean): void {
    if (withLimits) msg.rateLimits = this.t.limiter.rateLimits(this.t.serverClock.now())
    const text = JSON.stringify(msg)
    const go = () => {
      if (ws.readyState === WebSocket.OPEN) ws.send(text)
    }
    if (this.o.delayMs) this.o.timers.set(go, this.o.delayMs)
    else go()
  }

  disconnectAll(code: number): void {
    for (const ws of this.sockets) {
      if (code === 1006) ws.terminate()
      else ws.close(code, 'sim disconnect')
    }
  }

  stop(): void {
    clearInterval(this.pingTimer)
    for (const ws of this.sockets) ws.terminate()
    this.sockets.clear()
    this.wss.close()
  }
}
