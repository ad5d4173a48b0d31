/**
 * A hostile Binance USDⓈ-M market-data venue on 127.0.0.1 for the fault suite
 * (docs/RELIABILITY.md): exchangeInfo, the depth snapshot and the routed combined streams
 * (/public: depth, /market: aggTrade), each of which can misbehave on purpose.
 *
 * The healthy stream is deterministic (seeded): a 20-level book around 3000.00 whose diffs
 * chain by `pu`, with snapshots that bridge it (U ≤ lastUpdateId ≤ u).
 */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import {WebSocket, WebSocketServer} from 'ws'
import {seededRandom} from '../../src/lib/venue/binance/http.js'

export interface HostileFaults {
  /** WebSocket upgrade: accepted, answered 404, never answered, or accepted and closed at once */
  ws?: 'ok' | '404' | 'hang' | 'close'
  /** GET /fapi/v1/depth: fine, never answered, a negative quantity, ahead of the stream, HTTP 500 */
  depth?: 'ok' | 'hang' | 'negative' | 'ahead' | '500'
  /** diff frames: fine, price as a JSON number, truncated JSON, every frame breaking the pu chain */
  frames?: 'ok' | 'number-price' | 'truncated' | 'gaps'
}

export interface HostileOptions extends HostileFaults {
  symbol?: string
  seed?: number
  /** depth diff frames per second (default 20); trades at a quarter of it */
  rateHz?: number
  /** extra levels per diff (bigger frames), default 1 */
  levelsPerDiff?: number
}

export interface HostileStats {
  exchangeInfo: number
  depth: number
  /** upgrade requests */
  upgrades: number
  /** WebSocket connections accepted */
  connections: number
  frames: number
}

const LEVELS = 20
const MID = 300_000 // ticks of 0.01

function px(ticks: number): string {
  const s = String(ticks)
  return `${s.slice(0, -2)}.${s.slice(-2)}`
}

function qty(n: number): string {
  const s = String(n).padStart(4, '0')
  return `${s.slice(0, -3)}.${s.slice(-3)}`
}

export class HostileVenue {
  readonly stats: HostileStats = {exchangeInfo: 0, depth: 0, upgrades: 0, connections: 0, frames: 0}
  restUrl = ''
  wsUrl = ''
  private server?: Server
  private wss?: WebSocketServer
  private readonly sockets = new Set<Socket>()
  private readonly clients = new Set<{ws: WebSocket; route: string}>()
  private timer?: NodeJS.Timeout
  private readonly rnd: () => number
  private readonly symbol: string
  private u = 1000
  private readonly bids = new Map<number, number>()
  private readonly asks = new Map<number, number>()
  private tradeId = 1
  private acc = 0
  faults: Required<HostileFaults>

  constructor(private readonly o: HostileOptions = {}) {
    this.symbol = (o.symbol ?? 'ETHUSDC').toUpperCase()
    this.rnd = seededRandom(o.seed ?? 1)
    this.faults = {ws: o.ws ?? 'ok', depth: o.depth ?? 'ok', frames: o.frames ?? 'ok'}
    for (let i = 1; i <= LEVELS; i++) {
      this.bids.set(MID - i, 1000 + i)
      this.asks.set(MID + i, 1000 + 2 * i)
    }
  }

  async start(): Promise<{restUrl: string; wsUrl: string}> {
    const server = createServer((req, res) => this.onRest(req, res))
    this.server = server
    server.on('connection', (s) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    const wss = new WebSocketServer({noServer: true, perMessageDeflate: false})
    this.wss = wss
    server.on('upgrade', (req, socket: Socket, head) => {
      this.stats.upgrades++
      const route = /^\/(public|market)\/stream\?streams=/.exec(req.url ?? '')?.[1]
      if (this.faults.ws === '404' || !route) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n')
        return
      }
      if (this.faults.ws === 'hang') return // never answer: the socket stays open, silent
      wss.handleUpgrade(req, socket, head, (ws) => {
        this.stats.connections++
        if (this.faults.ws === 'close') {
          ws.close(1011, 'going away')
          return
        }
        const c = {ws, route}
        this.clients.add(c)
        ws.on('close', () => this.clients.delete(c))
        ws.on('error', () => this.clients.delete(c))
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    const port = (server.address() as AddressInfo).port
    this.restUrl = `http://127.0.0.1:${port}`
    this.wsUrl = `ws://127.0.0.1:${port}`
    const rate = this.o.rateHz ?? 20
    const tickMs = 10
    this.timer = setInterval(() => {
      this.acc += (rate * tickMs) / 1000
      while (this.acc >= 1) {
        this.acc--
        this.emitDiff()
        if (this.rnd() < 0.25) this.emitTrade()
      }
    }, tickMs)
    return {restUrl: this.restUrl, wsUrl: this.wsUrl}
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
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

  private send(route: string, stream: string, data: unknown, raw?: string): void {
    const text = raw ?? JSON.stringify({stream, data})
    for (const c of this.clients) {
      if (c.route !== route || c.ws.readyState !== WebSocket.OPEN) continue
      c.ws.send(text)
      this.stats.frames++
    }
  }

  private emitDiff(): void {
    const n = this.o.levelsPerDiff ?? 1
    const b: [string, string][] = []
    const a: [string, string][] = []
    for (let k = 0; k < n; k++) {
      const side = this.rnd() < 0.5 ? this.bids : this.asks
      const off = 1 + Math.floor(this.rnd() * LEVELS)
      const p = side === this.bids ? MID - off : MID + off
      const q = 1 + Math.floor(this.rnd() * 5000)
      side.set(p, q)
      ;(side === this.bids ? b : a).push([px(p), qty(q)])
    }
    const pu = this.u
    const U = this.u + 1
    this.u += 2
    const now = Date.now()
    const s = this.symbol
    const stream = `${s.toLowerCase()}@depth@100ms`
    const data: Record<string, unknown> = {e: 'depthUpdate', E: now, T: now, s, U, u: this.u, pu: this.faults.frames === 'gaps' ? pu - 1 : pu, b, a}
    if (this.faults.frames === 'number-price') data.b = b.map(([p, q]) => [Number(p), q])
    if (this.faults.frames === 'truncated') {
      const text = JSON.stringify({stream, data})
      this.send('public', stream, undefined, text.slice(0, Math.floor(text.length / 2)))
      return
    }
    this.send('public', stream, data)
  }

  private emitTrade(): void {
    const now = Date.now()
    const s = this.symbol
    const stream = `${s.toLowerCase()}@aggTrade`
    this.send('market', stream, {e: 'aggTrade', E: now, T: now, s, a: this.tradeId++, p: px(MID + 1), q: '0.010', f: 1, l: 1, m: this.rnd() < 0.5})
  }

  private snapshot(): unknown {
    const now = Date.now()
    const sorted = (m: Map<number, number>, desc: boolean) => [...m].sort((x, y) => (desc ? y[0] - x[0] : x[0] - y[0])).map(([p, q]) => [px(p), qty(q)])
    const bids = sorted(this.bids, true)
    const asks = sorted(this.asks, false)
    // the next diff is U = u+1, u+2: a snapshot at u+1 bridges it
    let lastUpdateId = this.u + 1
    if (this.faults.depth === 'ahead') lastUpdateId = this.u + 1_000_000
    if (this.faults.depth === 'negative') bids[0] = [bids[0][0], '-1.000']
    return {lastUpdateId, E: now, T: now, bids, asks}
  }

  /** performance.now() of the first request (the command is up and talking) */
  firstRequestAt?: number

  private onRest(req: IncomingMessage, res: ServerResponse): void {
    this.firstRequestAt ??= performance.now()
    const url = new URL(req.url ?? '/', 'http://x')
    const json = (status: number, body: unknown) => {
      res.writeHead(status, {'content-type': 'application/json'}).end(JSON.stringify(body))
    }
    switch (url.pathname) {
      case '/fapi/v1/exchangeInfo':
        this.stats.exchangeInfo++
        return json(200, {
          timezone: 'UTC',
          serverTime: Date.now(),
          symbols: [
            {
              symbol: this.symbol,
              status: 'TRADING',
              contractType: 'PERPETUAL',
              baseAsset: this.symbol.replace(/USD[CT]$/, ''),
              quoteAsset: this.symbol.slice(-4),
              marginAsset: this.symbol.slice(-4),
              pricePrecision: 2,
              quantityPrecision: 3,
              filters: [
                {filterType: 'PRICE_FILTER', minPrice: '0.01', maxPrice: '1000000', tickSize: '0.01'},
                {filterType: 'LOT_SIZE', minQty: '0.001', maxQty: '1000000', stepSize: '0.001'},
                {filterType: 'MIN_NOTIONAL', notional: '20'},
              ],
            },
          ],
        })
      case '/fapi/v1/depth':
        this.stats.depth++
        if (this.faults.depth === 'hang') return // never answered
        if (this.faults.depth === '500') return json(500, {code: -1000, msg: 'internal error'})
        return json(200, this.snapshot())
      case '/fapi/v1/time':
        return json(200, {serverTime: Date.now()})
      default:
        return json(404, {code: -1, msg: 'not found'})
    }
  }
}

export async function startHostile(o: HostileOptions = {}): Promise<HostileVenue> {
  const v = new HostileVenue(o)
  await v.start()
  return v
}
