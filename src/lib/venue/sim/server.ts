/**
 * Loopback test venue speaking Binance USDⓈ-M's public wire protocol:
 *
 *  - REST: `GET /fapi/v1/exchangeInfo`, `/fapi/v1/depth?symbol&limit`, `/fapi/v1/time`,
 *    with `X-MBX-USED-WEIGHT-1M` headers and Binance error bodies (`{"code","msg"}`).
 *  - WebSocket: `/public/stream?streams=…` (depth, bookTicker), `/market/stream?streams=…`
 *    (trade, aggTrade), the unrouted `/stream?streams=…` (everything), and raw `/ws/<stream>`
 *    under each prefix.
 *
 * The venue keeps its own authoritative book per symbol (the venue's price strings as
 * keys). Every published MarketEvent is applied to it first; diff messages then carry
 * consistent ids: `U` = previous `u` + 1, `u` = `U` + levels − 1, `pu` = previous `u`.
 * A REST snapshot returns the book with `lastUpdateId` = last `u` + 1, i.e. inside the
 * range of the next diff, so the documented bridge `U ≤ lastUpdateId ≤ u` holds.
 * A source snapshot (a recording's resync) is turned into the diff from the venue's book.
 *
 * Faults (seeded): drop / duplicate / reorder WebSocket messages, a fixed delay,
 * periodic disconnects, REST errors (random rate or queued with `failRest`).
 */
import {wallClock} from '../../clock/clock.js'
import {EventEmitter} from 'node:events'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import WebSocket, {WebSocketServer} from 'ws'
import type {Level, MarketEvent} from '../../market/events.js'
import {StringBook} from '../../market/string-book.js'
import {UsageError} from '../../domain/errors.js'
import {seededRandom} from '../binance/http.js'
import type {ReplayInstrument} from '../../record/replay-source.js'

/** LOT_SIZE / MARKET_LOT_SIZE maxQty the sim lists and enforces when an instrument names none */
export const SIM_DEFAULT_MAX_QTY = '1000000'
/** PRICE_FILTER maxPrice the sim lists and enforces (-4002); minPrice is the tick size */
export const SIM_MAX_PRICE = '1000000'

/** an instrument the sim serves: the shape a recording gives, plus the max quantities (default SIM_DEFAULT_MAX_QTY) */
export type SimInstrument = ReplayInstrument & {
  /** LOT_SIZE maxQty: LIMIT orders (and modifications) above it are refused -4005 */
  maxQty?: string
  /** MARKET_LOT_SIZE maxQty: MARKET orders above it are refused -4005 (default: maxQty) */
  marketMaxQty?: string
}

export interface SimFaults {
  /** probability a WebSocket message is not sent to a client */
  drop?: number
  /** probability a message is sent twice */
  duplicate?: number
  /** probability a message is held back and sent after the next one */
  reorder?: number
  /** fixed delay added to every WebSocket message, ms */
  delayMs?: number
  /** close every client connection this often, ms */
  disconnectEveryMs?: number
  /** probability a REST request answers with `restErrorStatus` */
  restErrorRate?: number
  restErrorStatus?: number
  /** delay added to every REST answer, ms */
  restDelayMs?: number
  /** probability a depth diff is not sent to anyone (its ids are used: the `pu` chain breaks) */
  depthGapRate?: number
  /** stream types never sent (`silent=bookTicker/trade`): a subscribed stream that stays quiet */
  silent?: Set<string>
}

/** a stream name's type: `ethusdc@depth@100ms` → depth, `!bookTicker` → bookTicker, `ethusdc@depth5` → depth5 */
function streamType(stream: string): string {
  return stream.startsWith('!') ? (stream.slice(1).split('@')[0] ?? '') : (stream.split('@')[1] ?? '')
}

/**
 * Extension points for the trading layer (trading.ts): it takes over REST, claims the
 * WebSocket upgrades it serves (user data stream, WebSocket API) and sees every event.
 */
export interface SimHooks {
  rest?(req: IncomingMessage, res: ServerResponse): void
  upgrade?(req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): boolean
  /** `sentMs`: the E/T the event's stream messages carry (the wall clock when rebased) */
  published?(ev: MarketEvent, sentMs: number): void
  disconnectAll?(code: number): void
}

export interface SimVenueOptions {
  instruments: SimInstrument[]
  host?: string
  port?: number
  faults?: SimFaults
  seed?: number
  /** server ping frames, ms (Binance: 3 min) */
  pingIntervalMs?: number
  /** stamp E/T with the wall clock when sent (default) rather than the source's ts */
  rebaseTime?: boolean
  /** the server clock's offset (`--clock-skew`), ms: added to the wall-clock E/T, as one venue clock stamps serverTime and events alike */
  clockSkewMs?: number
}

export interface RestFailure {
  status: number
  code?: number
  msg?: string
  /** seconds, sent as Retry-After */
  retryAfter?: number
  /** only for this path (e.g. /fapi/v1/depth); default any */
  path?: string
}

interface SymBook {
  levels: StringBook
  lastU: number
  /** the source publishes bookTicker itself (a recording with ticker events) */
  ownTicker?: boolean
  /** the top of book last sent on <symbol>@bookTicker (derived from depth otherwise) */
  top?: string
  /** wall ms the last !bookTicker message of this symbol left (Binance: every 5 s) */
  allTickerAt?: number
}

/** `!bookTicker` (every symbol's best bid/ask) is pushed every 5 s, as on Binance (FACTS.md §3.1) */
export const ALL_BOOK_TICKER_MS = 5000

interface Client {
  ws: WebSocket
  route: 'public' | 'market' | 'unrouted'
  combined: boolean
  /** stream name (lowercase) → true */
  streams: Set<string>
  held?: string
  remote: string
}

export interface SimVenueEvents {
  connection: [info: {route: string; streams: string[]}]
  disconnect: [info: {route: string}]
  rest: [info: {path: string; status: number}]
}

export interface SimStats {
  clients: number
  connections: number
  wsMessages: number
  published: number
  restRequests: number
  restErrors: number
  dropped: number
  duplicated: number
  reordered: number
  depthGaps: number
}


function decimals(s: string): number {
  const i = s.indexOf('.')
  return i < 0 ? 0 : s.replace(/0+$/, '').length - i - 1
}

export class SimVenue extends EventEmitter<SimVenueEvents> {
  private readonly o: SimVenueOptions
  private readonly books = new Map<string, SymBook>()
  private readonly instruments = new Map<string, SimInstrument>()
  private server?: Server
  private wss?: WebSocketServer
  private readonly clients = new Set<Client>()
  private readonly sockets = new Set<Socket>()
  private faults: SimFaults
  private random: () => number
  private restQueue: RestFailure[] = []
  private dropQueue = 0
  private pingTimer?: NodeJS.Timeout
  private discTimer?: NodeJS.Timeout
  private weight = {minute: 0, used: 0}
  readonly counters: Omit<SimStats, 'clients'> = {connections: 0, wsMessages: 0, published: 0, restRequests: 0, restErrors: 0, dropped: 0, duplicated: 0, reordered: 0, depthGaps: 0}
  restUrl = ''
  wsUrl = ''
  private hooks?: SimHooks

  setHooks(h: SimHooks): void {
    this.hooks = h
  }

  constructor(opts: SimVenueOptions) {
    super()
    this.o = opts
    this.faults = {...opts.faults}
    this.random = seededRandom(opts.seed ?? 1)
    for (const i of opts.instruments) {
      const sym = i.symbol.toUpperCase()
      this.instruments.set(sym, {...i, symbol: sym})
      this.books.set(sym, {levels: new StringBook(), lastU: 1000})
    }
  }

  get stats(): SimStats {
    return {clients: this.clients.size, ...this.counters}
  }

  /** Listen on 127.0.0.1 (port 0 = any free port). */
  async start(): Promise<{restUrl: string; wsUrl: string; port: number}> {
    const server = createServer((req, res) => this.onRest(req, res))
    this.server = server
    server.on('connection', (s) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    const wss = new WebSocketServer({noServer: true, perMessageDeflate: false})
    this.wss = wss
    server.on('upgrade', (req, socket, head) => {
      if (this.hooks?.upgrade?.(req, socket, head)) return
      const parsed = this.parseWsPath(req.url ?? '/')
      if (!parsed) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n')
        return
      }
      wss.handleUpgrade(req, socket, head, (ws) => this.onWs(ws, parsed, req))
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.o.port ?? 0, this.o.host ?? '127.0.0.1', () => resolve())
    })
    const addr = server.address() as AddressInfo
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
    this.restUrl = `http://${host}:${addr.port}`
    this.wsUrl = `ws://${host}:${addr.port}`
    if (this.o.pingIntervalMs) {
      this.pingTimer = setInterval(() => {
        for (const c of this.clients) if (c.ws.readyState === WebSocket.OPEN) c.ws.ping()
      }, this.o.pingIntervalMs)
      this.pingTimer.unref()
    }
    this.armDisconnects()
    return {restUrl: this.restUrl, wsUrl: this.wsUrl, port: addr.port}
  }

  async stop(): Promise<void> {
    clearInterval(this.pingTimer)
    clearInterval(this.discTimer)
    for (const c of this.clients) c.ws.terminate()
    this.clients.clear()
    this.wss?.close()
    const server = this.server
    this.server = undefined
    if (server) {
      for (const s of this.sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }

  setFaults(f: SimFaults): void {
    this.faults = {...f}
    this.armDisconnects()
  }

  /** The next `n` REST requests (optionally of one path) fail as given. */
  failRest(n: number, f: RestFailure): void {
    for (let i = 0; i < n; i++) this.restQueue.push(f)
  }

  /** Do not send the next `n` WebSocket market messages (to anyone). */
  dropNext(n: number): void {
    this.dropQueue += n
  }

  /** Close every client WebSocket (the venue's side of a reconnect). */
  disconnectAll(code = 1001): void {
    this.hooks?.disconnectAll?.(code)
    for (const c of this.clients) {
      if (code === 1006) c.ws.terminate()
      else c.ws.close(code, 'sim disconnect')
    }
  }

  /** Number of clients connected to a route. */
  clientCount(route?: 'public' | 'market' | 'unrouted'): number {
    let n = 0
    for (const c of this.clients) if (!route || c.route === route) n++
    return n
  }

  /** The authoritative book: bids best first, asks best first, and the last diff id. */
  book(symbol: string): {bids: Level[]; asks: Level[]; lastUpdateId: number} {
    const b = this.bookOf(symbol)
    return {...b.levels.levels(), lastUpdateId: b.lastU}
  }

  private bookOf(symbol: string): SymBook {
    const b = this.books.get(symbol.toUpperCase())
    if (!b) throw new Error(`sim venue: unknown symbol ${symbol}`)
    return b
  }

  /** Apply a market event to the venue and send it to the subscribed clients. */
  publish(ev: MarketEvent): void {
    const sym = ev.symbol.toUpperCase()
    const b = this.books.get(sym)
    if (!b) return
    this.counters.published++
    const now = wallClock.now() + (this.o.clockSkewMs ?? 0)
    const rebase = this.o.rebaseTime !== false
    const ms = (us: number) => (rebase ? now : Math.floor(us / 1000))
    this.hooks?.published?.(ev, ms(ev.ts))
    const lower = sym.toLowerCase()
    switch (ev.kind) {
      case 'snapshot': {
        // the diff that turns the venue's book into the snapshot
        const {bids, asks} = b.levels.diffTo(ev.bids, ev.asks)
        if (bids.length + asks.length === 0) return
        this.publishDepth(sym, lower, b, bids, asks, ms(ev.ts))
        return
      }
      case 'depth':
        if (ev.bids.length + ev.asks.length === 0) return
        this.publishDepth(sym, lower, b, ev.bids, ev.asks, ms(ev.ts))
        return
      case 'trade': {
        const T = ms(ev.ts)
        const m = ev.side === 'sell'
        const idNum = /^\d+$/.test(ev.id) ? Number(ev.id) : ev.id
        const trade = JSON.stringify({e: 'trade', E: T, T, s: sym, t: idNum, p: ev.price, q: ev.qty, X: 'MARKET', m})
        const agg = JSON.stringify({e: 'aggTrade', E: T, a: idNum, s: sym, p: ev.price, q: ev.qty, f: idNum, l: idNum, T, m})
        // <symbol>@trade is not in Binance's stream list; ccxt asks for it on /public, older code on /market
        this.broadcast(`${lower}@trade`, trade, 'both')
        this.broadcast(`${lower}@aggTrade`, agg, 'market')
        return
      }
      case 'ticker': {
        const T = ms(ev.ts)
        b.ownTicker = true
        this.publishBookTicker(sym, lower, b, JSON.stringify({e: 'bookTicker', u: b.lastU, s: sym, b: ev.bidPrice, B: ev.bidQty, a: ev.askPrice, A: ev.askQty, T, E: T}))
        return
      }
    }
  }

  private publishDepth(sym: string, lower: string, b: SymBook, bids: Level[], asks: Level[], T: number): void {
    b.levels.apply(bids, asks)
    const pu = b.lastU
    const U = pu + 1
    const u = U + Math.max(0, bids.length + asks.length - 1)
    b.lastU = u
    if (this.faults.depthGapRate && this.random() < this.faults.depthGapRate) {
      this.counters.depthGaps++
      return
    }
    const data = JSON.stringify({e: 'depthUpdate', E: T, T, s: sym, U, u, pu, b: bids, a: asks})
    this.broadcastPrefix(`${lower}@depth`, data, 'public')
    this.publishPartialDepth(sym, lower, b, {U, u, pu, T})
    if (this.bookTickerFromDepth && !b.ownTicker && (this.subscribed(`${lower}@bookTicker`) || this.subscribed('!bookTicker'))) {
      // a source without ticker events (the synthetic market): bookTicker follows the book's top
      // (worked out only while someone listens: the top is a sort of the book's levels)
      const top = b.levels.levels(1)
      const bid = top.bids[0]
      const ask = top.asks[0]
      if (!bid || !ask) return
      const key = `${bid[0]} ${bid[1]} ${ask[0]} ${ask[1]}`
      if (key === b.top) return
      b.top = key
      this.publishBookTicker(sym, lower, b, JSON.stringify({e: 'bookTicker', u, s: sym, b: bid[0], B: bid[1], a: ask[0], A: ask[1], T, E: T}))
    }
  }

  /**
   * Partial book depth `<symbol>@depth<5|10|20>[@100ms|@500ms]` (FACTS.md §3.1): the top
   * 5 / 10 / 20 levels of each side after every depth update, with its U / u / pu, shaped as
   * a diff (`e: depthUpdate`). Built only when a client listens.
   */
  private publishPartialDepth(sym: string, lower: string, b: SymBook, ids: {U: number; u: number; pu: number; T: number}): void {
    const prefix = `${lower}@depth`
    const made = new Map<number, string>()
    for (const c of this.clients) {
      if (!this.routeAllows(c, 'public')) continue
      for (const st of c.streams) {
        if (!st.startsWith(prefix)) continue
        const m = /^(5|10|20)(@(100|250|500)ms)?$/.exec(st.slice(prefix.length))
        if (!m) continue
        const n = Number(m[1])
        let data = made.get(n)
        if (data === undefined) {
          const top = b.levels.levels(n)
          data = JSON.stringify({e: 'depthUpdate', E: ids.T, T: ids.T, s: sym, U: ids.U, u: ids.u, pu: ids.pu, b: top.bids, a: top.asks})
          made.set(n, data)
        }
        this.sendTo(c, st, data)
      }
    }
  }

  /** <symbol>@bookTicker at once; !bookTicker at most every ALL_BOOK_TICKER_MS per symbol */
  private publishBookTicker(sym: string, lower: string, b: SymBook, data: string): void {
    this.broadcast(`${lower}@bookTicker`, data, 'public')
    const now = wallClock.now()
    if (b.allTickerAt === undefined || now - b.allTickerAt >= ALL_BOOK_TICKER_MS) {
      let any = false
      for (const c of this.clients) if (c.streams.has('!bookticker')) any = true
      if (!any) return
      b.allTickerAt = now
      this.broadcast('!bookTicker', data, 'public')
    }
  }

  /**
   * Derive `<symbol>@bookTicker` from the book's top while the source has sent no ticker
   * event (the synthetic market has none). Off by default, so a scripted source's own ticker
   * events are all a client gets; the trading sim (`mm sim`, SimTrading) turns it on.
   */
  bookTickerFromDepth = false

  /** whether any market-data client is subscribed to `stream` (the trading side skips work otherwise) */
  subscribed(stream: string): boolean {
    const key = normaliseStream(stream)
    for (const c of this.clients) if (c.streams.has(key)) return true
    return false
  }

  // ---- WebSocket ---------------------------------------------------------------------

  private parseWsPath(url: string): {route: Client['route']; combined: boolean; streams: string[]} | undefined {
    const u = new URL(url, 'http://x')
    let path = u.pathname
    let route: Client['route'] = 'unrouted'
    for (const r of ['public', 'market'] as const) {
      if (path.startsWith(`/${r}/`)) {
        route = r
        path = path.slice(r.length + 1)
      }
    }
    if (path === '/stream') {
      const s = u.searchParams.get('streams') ?? ''
      return {route, combined: true, streams: s.split('/').filter(Boolean)}
    }
    if (path.startsWith('/ws/')) return {route, combined: false, streams: path.slice(4).split('/').filter(Boolean)}
    if (path === '/ws') return {route, combined: false, streams: []}
    return undefined
  }

  private onWs(ws: WebSocket, p: {route: Client['route']; combined: boolean; streams: string[]}, req: IncomingMessage): void {
    const c: Client = {ws, route: p.route, combined: p.combined, streams: new Set(p.streams.map((s) => normaliseStream(s))), remote: req.socket.remoteAddress ?? ''}
    this.clients.add(c)
    this.counters.connections++
    ws.on('message', (raw) => this.onControl(c, raw.toString()))
    ws.on('close', () => {
      this.clients.delete(c)
      this.emit('disconnect', {route: c.route})
    })
    ws.on('error', () => {})
    this.emit('connection', {route: c.route, streams: [...c.streams]})
  }

  /** LSUB control messages: SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS. */
  private onControl(c: Client, text: string): void {
    let j: {method?: string; params?: unknown[]; id?: unknown}
    try {
      j = JSON.parse(text)
    } catch {
      return
    }
    const params = Array.isArray(j.params) ? j.params.filter((x): x is string => typeof x === 'string') : []
    if (j.method === 'SUBSCRIBE') for (const s of params) c.streams.add(normaliseStream(s))
    else if (j.method === 'UNSUBSCRIBE') for (const s of params) c.streams.delete(normaliseStream(s))
    const result = j.method === 'LIST_SUBSCRIPTIONS' ? [...c.streams] : null
    c.ws.send(JSON.stringify({result, id: j.id ?? null}))
  }

  private routeAllows(c: Client, route: 'public' | 'market' | 'both'): boolean {
    return c.route === 'unrouted' || route === 'both' || c.route === route
  }

  /** Send a ready-made payload to the clients subscribed to `stream` (the trading side's mark price). */
  broadcastStream(stream: string, data: string, route: 'public' | 'market'): void {
    this.broadcast(stream, data, route)
  }

  /** Send to clients subscribed to exactly `stream`. */
  private broadcast(stream: string, data: string, route: 'public' | 'market' | 'both'): void {
    const key = normaliseStream(stream)
    for (const c of this.clients) {
      if (!this.routeAllows(c, route) || !c.streams.has(key)) continue
      this.sendTo(c, stream, data)
    }
  }

  /** Send to clients subscribed to any stream starting with `prefix` (depth speeds). */
  private broadcastPrefix(prefix: string, data: string, route: 'public' | 'market'): void {
    const key = normaliseStream(prefix)
    for (const c of this.clients) {
      if (!this.routeAllows(c, route)) continue
      for (const s of c.streams) {
        // `<sym>@depth`, `<sym>@depth@100ms`, `<sym>@depth@0ms`; not partial `@depth5`
        if (s === key || s.startsWith(`${key}@`)) {
          this.sendTo(c, s, data)
          break
        }
      }
    }
  }

  private sendTo(c: Client, stream: string, data: string): void {
    if (c.ws.readyState !== WebSocket.OPEN) return
    const f = this.faults
    if (f.silent?.has(streamType(stream))) return
    if (this.dropQueue > 0) {
      this.dropQueue--
      this.counters.dropped++
      return
    }
    if (f.drop && this.random() < f.drop) {
      this.counters.dropped++
      return
    }
    const msg = c.combined ? `{"stream":"${stream}","data":${data}}` : data
    const out: string[] = []
    if (f.reorder && !c.held && this.random() < f.reorder) {
      c.held = msg
      this.counters.reordered++
      return
    }
    out.push(msg)
    if (c.held) {
      out.push(c.held)
      c.held = undefined
    }
    if (f.duplicate && this.random() < f.duplicate) {
      out.push(msg)
      this.counters.duplicated++
    }
    const send = () => {
      for (const m of out) {
        if (c.ws.readyState !== WebSocket.OPEN) return
        c.ws.send(m)
        this.counters.wsMessages++
      }
    }
    if (f.delayMs) setTimeout(send, f.delayMs)
    else send()
  }

  private armDisconnects(): void {
    clearInterval(this.discTimer)
    this.discTimer = undefined
    if (this.faults.disconnectEveryMs && this.server) {
      this.discTimer = setInterval(() => this.disconnectAll(), this.faults.disconnectEveryMs)
      this.discTimer.unref()
    }
  }

  // ---- REST ---------------------------------------------------------------------------

  private onRest(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://x')
    this.counters.restRequests++
    if (this.hooks?.rest) return this.hooks.rest(req, res)
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const minute = Math.floor(wallClock.now() / 60_000)
      if (minute !== this.weight.minute) this.weight = {minute, used: 0}
      this.weight.used += weightOf(u)
      const text = JSON.stringify(body)
      const send = () => {
        if (res.destroyed) return
        res.writeHead(status, {'content-type': 'application/json', 'X-MBX-USED-WEIGHT-1M': String(this.weight.used), ...headers})
        res.end(text)
        this.emit('rest', {path: u.pathname, status})
      }
      if (this.faults.restDelayMs) setTimeout(send, this.faults.restDelayMs)
      else send()
    }
    if (req.method !== 'GET') return answer(405, {code: -1000, msg: `method ${req.method} is not supported by this sim venue yet`})
    const fault = this.takeRestFault(u.pathname)
    if (fault) return answer(fault.status, fault.body, fault.headers)
    const r = this.marketRest(u)
    return answer(r.status, r.body)
  }

  /** The public market endpoints: time, ping, exchangeInfo, depth (404 for anything else). */
  marketRest(u: URL): {status: number; body: unknown} {
    switch (u.pathname) {
      case '/fapi/v1/time':
        return {status: 200, body: {serverTime: wallClock.now()}}
      case '/fapi/v1/ping':
      // clients built for both markets (python-binance's Client) ping the spot API on start
      case '/api/v3/ping':
        return {status: 200, body: {}}
      case '/api/v3/time':
        return {status: 200, body: {serverTime: wallClock.now()}}
      case '/fapi/v1/exchangeInfo':
        return {status: 200, body: this.exchangeInfo()}
      case '/fapi/v1/depth': {
        const sym = (u.searchParams.get('symbol') ?? '').toUpperCase()
        const b = this.books.get(sym)
        if (!sym) return {status: 400, body: {code: -1102, msg: "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."}}
        if (!b) return {status: 400, body: {code: -1121, msg: 'Invalid symbol.'}}
        const limit = Number(u.searchParams.get('limit') ?? 500)
        if (![5, 10, 20, 50, 100, 500, 1000].includes(limit)) return {status: 400, body: {code: -1130, msg: 'Data sent for parameter \'limit\' is not valid.'}}
        const now = wallClock.now()
        return {status: 200, body: {lastUpdateId: b.lastU + 1, E: now, T: now, ...b.levels.levels(limit)}}
      }
      default:
        return {status: 404, body: {code: -1000, msg: `unknown path ${u.pathname}`}}
    }
  }

  /** A REST fault due for this path (queued by failRest or drawn from the rest-error rate), if any. */
  takeRestFault(path: string): {status: number; body: {code: number; msg: string}; headers: Record<string, string>} | undefined {
    const qi = this.restQueue.findIndex((f) => !f.path || f.path === path)
    if (qi >= 0) {
      const f = this.restQueue.splice(qi, 1)[0]
      this.counters.restErrors++
      return {status: f.status, body: {code: f.code ?? (f.status === 429 ? -1003 : -1000), msg: f.msg ?? (f.status >= 500 ? 'Service Unavailable.' : 'Too many requests.')}, headers: f.retryAfter === undefined ? {} : {'Retry-After': String(f.retryAfter)}}
    }
    if (this.faults.restErrorRate && this.random() < this.faults.restErrorRate) {
      this.counters.restErrors++
      return {status: this.faults.restErrorStatus ?? 503, body: {code: -1000, msg: 'Service Unavailable.'}, headers: {}}
    }
    return undefined
  }

  /** the fault settings (the trading layer reads the REST delay) */
  get faultSettings(): SimFaults {
    return this.faults
  }

  private exchangeInfo(): unknown {
    return {
      timezone: 'UTC',
      serverTime: wallClock.now(),
      rateLimits: [
        {rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400},
        {rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200},
      ],
      assets: [],
      symbols: [...this.instruments.values()].map((i) => {
        const quote = i.quoteAsset ?? (/(USDT|USDC)$/.exec(i.symbol)?.[1] ?? 'USDT')
        const base = i.baseAsset ?? i.symbol.slice(0, i.symbol.length - quote.length)
        return {
          symbol: i.symbol,
          pair: i.symbol,
          contractType: 'PERPETUAL',
          status: 'TRADING',
          baseAsset: base,
          quoteAsset: quote,
          marginAsset: quote,
          pricePrecision: decimals(i.tickSize),
          quantityPrecision: decimals(i.stepSize),
          filters: [
            {filterType: 'PRICE_FILTER', minPrice: i.tickSize, maxPrice: SIM_MAX_PRICE, tickSize: i.tickSize},
            {filterType: 'LOT_SIZE', minQty: i.minQty ?? i.stepSize, maxQty: i.maxQty ?? SIM_DEFAULT_MAX_QTY, stepSize: i.stepSize},
            {filterType: 'MARKET_LOT_SIZE', minQty: i.minQty ?? i.stepSize, maxQty: i.marketMaxQty ?? i.maxQty ?? SIM_DEFAULT_MAX_QTY, stepSize: i.stepSize},
            {filterType: 'MAX_NUM_ORDERS', limit: 200},
            {filterType: 'MIN_NOTIONAL', notional: i.minNotional ?? '5'},
          ],
          orderTypes: ['LIMIT', 'MARKET'],
          timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'],
        }
      }),
    }
  }
}

function normaliseStream(s: string): string {
  // symbols are lowercase on the wire; keep the event-type case (aggTrade, bookTicker)
  const at = s.indexOf('@')
  return at < 0 ? s.toLowerCase() : s.slice(0, at).toLowerCase() + s.slice(at)
}

function weightOf(u: URL): number {
  if (u.pathname !== '/fapi/v1/depth') return 1
  const l = Number(u.searchParams.get('limit') ?? 500)
  return l <= 50 ? 2 : l <= 100 ? 5 : l <= 500 ? 10 : 20
}


/**
 * `--faults` syntax: comma list of `drop=P`, `dup=P`, `reorder=P` (probabilities per
 * WebSocket message), `delay=DUR`, `disconnect=DUR` (every DUR), `rest-error=P`,
 * `rest-status=CODE`, `rest-delay=DUR`. DUR as in every duration flag (`5ms`, `30s`).
 */
export function parseFaults(spec: string, parseDurationMs: (s: string, what: string) => number): SimFaults {
  const f: SimFaults = {}
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [k, v] = part.split('=', 2).map((s) => s?.trim())
    const prob = () => {
      const n = Number(v)
      if (v === undefined || v === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new UsageError('E_FAULTS', `--faults ${k}=${v ?? ''}: expected a probability between 0 and 1`)
      return n
    }
    switch (k) {
      case 'drop': f.drop = prob(); break
      case 'dup': case 'duplicate': f.duplicate = prob(); break
      case 'reorder': f.reorder = prob(); break
      case 'delay': f.delayMs = parseDurationMs(v ?? '', `--faults ${k}`); break
      case 'disconnect': f.disconnectEveryMs = parseDurationMs(v ?? '', `--faults ${k}`); break
      case 'rest-error': f.restErrorRate = prob(); break
      case 'rest-delay': f.restDelayMs = parseDurationMs(v ?? '', `--faults ${k}`); break
      case 'depth-gap': f.depthGapRate = prob(); break
      case 'silent': {
        const types = (v ?? '').split('/').map((x) => x.trim()).filter(Boolean)
        if (types.length === 0) throw new UsageError('E_FAULTS', '--faults silent=: expected stream types such as bookTicker or bookTicker/trade')
        f.silent = new Set(types)
        break
      }
      case 'rest-status': {
        const n = Number(v)
        if (!Number.isInteger(n) || n < 400 || n > 599) throw new UsageError('E_FAULTS', `--faults rest-status=${v ?? ''}: expected an HTTP error status (400-599)`)
        f.restErrorStatus = n
        break
      }
      default:
        throw new UsageError('E_FAULTS', `--faults: unknown fault ${JSON.stringify(k)}`, {suggestion: 'use drop=, dup=, reorder=, delay=, disconnect=, rest-error=, rest-status=, rest-delay=, depth-gap=, silent='})
    }
  }
  return f
}
