/**
 * The user data stream of `mm sim` (FACTS.md §2.3 listenKey, §3.3):
 *
 *  - one account, one listen key: POST returns the active key (extending it) or a new one;
 *    PUT extends it (`-1125` when there is none); DELETE invalidates it and closes its sockets;
 *  - validity `ttlMs` (Binance: 60 min) after creation or the last keep-alive; on expiry
 *    every socket of the key gets `listenKeyExpired` and no more events;
 *  - sockets at `/private/ws/<key>`, `/private/ws?listenKey=<key>[&events=A/B]`,
 *    `/private/stream?listenKey=<key>` or `?streams=<key>` (combined:
 *    `{"stream":<key>,"data":…}`) and the legacy `/ws/<key>`. `/private/ws` and
 *    `/private/stream` without a key open with no key (Binance's connector does this, then
 *    sends `{"method":"SUBSCRIBE","params":[<listenKey>],"id":…}`); SUBSCRIBE /
 *    UNSUBSCRIBE / LIST_SUBSCRIPTIONS manage a socket's keys. Each socket is cut after
 *    `maxAgeMs` (24 h);
 *  - faults: `silentAfterMs` (the socket stays open and sends nothing), `delayMs`.
 */
import {randomBytes} from 'node:crypto'
import type {IncomingMessage} from 'node:http'
import type {Duplex} from 'node:stream'
import WebSocket, {WebSocketServer} from 'ws'
import type {Clock} from '../../clock/clock.js'
import {ApiError} from './signing.js'
import type {Timers} from './exchange.js'

export interface UserStreamOptions {
  clock: Clock
  timers: Timers
  ttlMs?: number
  maxAgeMs?: number
  silentAfterMs?: number
  delayMs?: number
  pingIntervalMs?: number
}

interface UserSocket {
  ws: WebSocket
  /** the listen keys this socket carries (from its URL or SUBSCRIBE) */
  keys: Set<string>
  combined: boolean
  events?: Set<string>
  openedAt: number
  silent: boolean
  timers: unknown[]
}

export const noListenKey = () => new ApiError(-1125, 'This listenKey does not exist. Please use `POST /fapi/v1/listenKey` to recreate `listenKey`')

export class UserStreams {
  private key?: string
  private expiresAt = 0
  private expiryTimer: unknown
  private readonly expired = new Set<string>()
  private readonly sockets = new Set<UserSocket>()
  private readonly wss = new WebSocketServer({noServer: true, perMessageDeflate: false})
  private pingTimer?: NodeJS.Timeout
  readonly counters = {connections: 0, events: 0, silenced: 0, expired: 0}

  constructor(private readonly o: UserStreamOptions) {
    if (o.pingIntervalMs) {
      this.pingTimer = setInterval(() => {
        for (const s of this.sockets) if (!s.silent && s.ws.readyState === WebSocket.OPEN) s.ws.ping()
      }, o.pingIntervalMs)
      this.pingTimer.unref()
    }
  }

  get ttlMs(): number {
    return this.o.ttlMs ?? 3_600_000
  }

  /** POST /fapi/v1/listenKey */
  start(): string {
    if (!this.key) this.key = randomBytes(48).toString('base64url').replace(/[-_]/g, 'x').slice(0, 64)
    this.extend()
    return this.key
  }

  /** PUT /fapi/v1/listenKey */
  keepAlive(key?: string): string {
    if (!this.key || (key !== undefined && key !== this.key)) throw noListenKey()
    this.extend()
    return this.key
  }

  /** DELETE /fapi/v1/listenKey */
  close(key?: string): void {
    if (!this.key || (key !== undefined && key !== this.key)) throw noListenKey()
    const k = this.key
    this.key = undefined
    this.o.timers.clear(this.expiryTimer)
    for (const s of [...this.sockets]) if (s.keys.has(k)) s.ws.close(1000, 'listenKey closed')
  }

  private extend(): void {
    this.expiresAt = this.o.clock.now() + this.ttlMs
    this.o.timers.clear(this.expiryTimer)
    const key = this.key as string
    this.expiryTimer = this.o.timers.set(() => this.expire(key), this.ttlMs)
  }

  private expire(key: string): void {
    if (this.key !== key) return
    this.key = undefined
    this.expired.add(key)
    this.counters.expired++
    const ev = {e: 'listenKeyExpired', E: this.o.clock.now(), listenKey: key}
    for (const s of this.sockets) if (s.keys.has(key)) this.send(s, ev, key)
  }

  /** Claim a WebSocket upgrade for a user stream path; false when it is not one. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const u = new URL(req.url ?? '/', 'http://x')
    let keys: string[] = []
    let combined = false
    const path = u.pathname
    if (path === '/private/ws' || path === '/private/stream') {
      // ?listenKey=<k> (repeatable in stream mode) or, as on a market route, ?streams=<k1>/<k2>
      keys = [...u.searchParams.getAll('listenKey'), ...u.searchParams.getAll('streams').flatMap((x) => x.split('/'))].filter(Boolean)
      combined = path === '/private/stream'
    } else if (path.startsWith('/private/ws/')) {
      keys = [path.slice('/private/ws/'.length)]
    } else if (path.startsWith('/ws/') && !path.includes('@') && path.slice(4) === this.key) {
      keys = [path.slice(4)]
    } else if (path.startsWith('/private/')) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n')
      return true
    } else {
      return false
    }
    // a key that is not the active one is refused; no key at all opens an empty socket (SUBSCRIBE later)
    if (keys.some((k) => k !== this.key) || (keys.length === 0 && path.startsWith('/private/ws/'))) {
      const body = JSON.stringify(noListenKey().body())
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
      return true
    }
    const events = u.searchParams.get('events')
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws, new Set(keys), combined, events ? new Set(events.split('/')) : undefined))
    return true
  }

  private onSocket(ws: WebSocket, keys: Set<string>, combined: boolean, events?: Set<string>): void {
    const s: UserSocket = {ws, keys, combined, events, openedAt: this.o.clock.now(), silent: false, timers: []}
    this.sockets.add(s)
    this.counters.connections++
    if (this.o.silentAfterMs !== undefined) {
      s.timers.push(this.o.timers.set(() => {
        s.silent = true
        this.counters.silenced++
      }, this.o.silentAfterMs))
    }
    s.timers.push(this.o.timers.set(() => ws.close(1000, '24h connection limit'), this.o.maxAgeMs ?? 24 * 3_600_000))
    ws.on('close', () => {
      this.sockets.delete(s)
      for (const t of s.timers) this.o.timers.clear(t)
    })
    ws.on('error', () => {})
    ws.on('message', (raw) => this.onControl(s, raw.toString()))
  }

  /**
   * LSUB control messages on a user-stream socket, as on the market routes: SUBSCRIBE /
   * UNSUBSCRIBE listen keys (`{"result":null,"id"}`), LIST_SUBSCRIPTIONS. SUBSCRIBE of a
   * key that is not the active one answers `{"error":{code:-1125,…},"id"}` and adds nothing.
   */
  private onControl(s: UserSocket, text: string): void {
    let j: {method?: unknown; params?: unknown; id?: unknown}
    try {
      j = JSON.parse(text)
    } catch {
      return
    }
    if (!j || typeof j !== 'object') return
    const id = j.id ?? null
    const params = Array.isArray(j.params) ? j.params.filter((x): x is string => typeof x === 'string') : []
    const reply = (msg: Record<string, unknown>) => {
      if (s.ws.readyState === WebSocket.OPEN) s.ws.send(JSON.stringify(msg))
    }
    if (j.method === 'SUBSCRIBE') {
      if (params.some((k) => k !== this.key)) return reply({error: noListenKey().body(), id})
      for (const k of params) s.keys.add(k)
      return reply({result: null, id})
    }
    if (j.method === 'UNSUBSCRIBE') {
      for (const k of params) s.keys.delete(k)
      return reply({result: null, id})
    }
    if (j.method === 'LIST_SUBSCRIPTIONS') return reply({result: [...s.keys], id})
  }

  /** Send an account event to every live socket of the active key. */
  publish(ev: Record<string, unknown>): void {
    const key = this.key
    if (key === undefined) return
    for (const s of this.sockets) {
      if (!s.keys.has(key)) continue
      if (s.events && !s.events.has(String(ev.e))) continue
      this.send(s, ev, key)
    }
  }

  private send(s: UserSocket, ev: Record<string, unknown>, key: string): void {
    if (s.silent) return
    const text = s.combined ? JSON.stringify({stream: key, data: ev}) : JSON.stringify(ev)
    const go = () => {
      if (s.ws.readyState !== WebSocket.OPEN) return
      s.ws.send(text)
      this.counters.events++
    }
    if (this.o.delayMs) this.o.timers.set(go, this.o.delayMs)
    else go()
  }

  disconnectAll(code: number): void {
    for (const s of [...this.sockets]) {
      if (code === 1006) s.ws.terminate()
      else s.ws.close(code, 'sim disconnect')
    }
  }

  get active(): {listenKey?: string; expiresAt: number; sockets: number} {
    return {listenKey: this.key, expiresAt: this.expiresAt, sockets: this.sockets.size}
  }

  stop(): void {
    clearInterval(this.pingTimer)
    this.o.timers.clear(this.expiryTimer)
    for (const s of this.sockets) s.ws.terminate()
    this.sockets.clear()
    this.wss.close()
  }
}
