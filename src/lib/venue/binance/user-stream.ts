/**
 * User data stream client (FACTS.md §2.3 listenKey, §3.3 stream; ANCHORS.md (f)).
 *
 * - `start()` creates a listenKey (POST) and connects to `<ws>/private/ws/<key>` (routed)
 *   or `<ws>/ws/<key>`.
 * - Keep-alive (PUT) every `keepAliveMs` (30 min; a key lives 60 min). A failed keep-alive
 *   or a `listenKeyExpired` event → a new key (POST) and a new connection with it.
 * - The connection is recycled before the venue's 24 h cut (`maxLifetimeMs`, 23 h).
 * - Liveness: an idle account's stream is silent, so silence proves nothing. The client
 *   pings every `pingIntervalMs` and a missing pong within `pongTimeoutMs` drops the
 *   connection; the adapter's REST audit calls `markDead()` when the venue changed
 *   something the stream never reported (new key, reconnect).
 * - Every (re)connect starts in *buffering* mode: events are held, `resync` is emitted,
 *   the consumer takes its REST snapshot (open orders, position) and calls `flush()`,
 *   which delivers the held events in arrival order; duplicates of what the snapshot
 *   already showed are absorbed by the lifecycle reducer (fills by trade id, status
 *   forward only).
 * - Reconnects use capped exponential backoff with jitter. A refused handshake (the key
 *   deleted by another client of the account) takes a key (POST) before the next try.
 */
import {EventEmitter} from 'node:events'
import WebSocket from 'ws'
import {wallClock} from '../../clock/clock.js'
import {backoffDelay} from './http.js'
import {idempotentRetry} from './errors.js'
import {redact} from './signer.js'
import {parseUserEvent, type UserEvent, UserEventError} from './user-events.js'

export interface ListenKeyApi {
  createListenKey(): Promise<string>
  keepAliveListenKey(): Promise<void>
  closeListenKey(): Promise<void>
}

export interface UserStreamOptions {
  keys: ListenKeyApi
  /** WebSocket base, e.g. wss://fstream.binance.com (no route) */
  wsBase: string
  /** use the routed /private path (Binance production, mm sim) */
  routed: boolean
  keepAliveMs?: number
  maxLifetimeMs?: number
  pingIntervalMs?: number
  pongTimeoutMs?: number
  backoffBaseMs?: number
  backoffMaxMs?: number
  random?: () => number
  /** ms */
  now?: () => number
  handshakeTimeoutMs?: number
  /** when REST calls must wait (a 418 ban): its end in ms, else undefined; the keep-alive and a new key wait for it */
  holdUntil?: () => number | undefined
}

export type UserStreamReason = 'start' | 'closed' | 'error' | 'no-pong' | 'lifetime' | 'key-expired' | 'keepalive-failed' | 'audit' | 'handshake'

export interface UserStreamEvents {
  /** a user event, in arrival order (after a resync: only once `flush()` was called) */
  event: [ev: UserEvent, localTs: number]
  /** a (re)connect: take a REST snapshot, then call flush() */
  resync: [info: {connection: number; reason: UserStreamReason}]
  down: [info: {reason: UserStreamReason; detail: string; retryInMs: number}]
  /** a listenKey was created (start or renewal) */
  key: [info: {reason: UserStreamReason}]
  /** a message that could not be parsed (one line, no secrets) */
  'bad-message': [message: string]
  /** a keep-alive or key creation failed (the stream recovers on its own) */
  problem: [message: string]
}

export class UserStream extends EventEmitter<UserStreamEvents> {
  /** connections opened */
  connections = 0
  /** keys created */
  keysCreated = 0
  keepAlives = 0
  private readonly o: Required<Omit<UserStreamOptions, 'keys' | 'wsBase' | 'routed' | 'holdUntil'>>
  private readonly holdUntil?: () => number | undefined
  private readonly keys: ListenKeyApi
  private readonly base: string
  private key?: string
  private ws?: WebSocket
  private buffering = true
  private buffer: Array<[UserEvent, number]> = []
  private stopped = false
  private failures = 0
  private pendingReason: UserStreamReason = 'start'
  private keepAliveTimer?: NodeJS.Timeout
  private pingTimer?: NodeJS.Timeout
  private pongTimer?: NodeJS.Timeout
  private lifetimeTimer?: NodeJS.Timeout
  private retryTimer?: NodeJS.Timeout
  private renewing = false

  constructor(opts: UserStreamOptions) {
    super()
    this.keys = opts.keys
    this.holdUntil = opts.holdUntil
    this.base = `${opts.wsBase.replace(/\/+$/, '')}${opts.routed ? '/private' : ''}/ws/`
    this.o = {
      keepAliveMs: opts.keepAliveMs ?? 30 * 60_000,
      maxLifetimeMs: opts.maxLifetimeMs ?? 23 * 3600_000,
      pingIntervalMs: opts.pingIntervalMs ?? 30_000,
      pongTimeoutMs: opts.pongTimeoutMs ?? 10_000,
      backoffBaseMs: opts.backoffBaseMs ?? 250,
      backoffMaxMs: opts.backoffMaxMs ?? 30_000,
      random: opts.random ?? Math.random,
      now: opts.now ?? (() => wallClock.now()),
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 10_000,
    }
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN
  }

  get isBuffering(): boolean {
    return this.buffering
  }

  /** Create the key and connect; resolves once the socket is open (rejects if the key cannot be created). */
  async start(): Promise<void> {
    this.key = await idempotentRetry(() => this.keys.createListenKey())
    this.keysCreated++
    this.emit('key', {reason: 'start'})
    this.keepAliveTimer = setInterval(() => void this.keepAlive(), this.o.keepAliveMs)
    this.keepAliveTimer.unref?.()
    await new Promise<void>((resolve, reject) => {
      const onResync = () => {
        this.off('down', onDown)
        resolve()
      }
      const onDown = (d: {reason: UserStreamReason; detail: string}) => {
        if (this.connections === 0 && this.failures >= 3) {
          this.off('resync', onResync)
          this.off('down', onDown)
          void this.stop({closeKey: false})
          reject(new Error(`user data stream: cannot connect (${d.detail})`))
        }
      }
      this.once('resync', onResync)
      this.on('down', onDown)
      this.connect('start')
    })
  }

  /** Deliver the events held since the last (re)connect, then pass events straight through. */
  flush(): void {
    const held = this.buffer
    this.buffer = []
    this.buffering = false
    for (const [ev, ts] of held) this.emit('event', ev, ts)
  }

  /** The audit found a change the stream never reported: new key, new connection. */
  markDead(detail: string): void {
    void this.renew('audit', detail)
  }

  async stop(opts: {closeKey?: boolean} = {}): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    clearInterval(this.keepAliveTimer)
    clearTimeout(this.retryTimer)
    this.clearConnTimers()
    const ws = this.ws
    this.ws = undefined
    if (ws) {
      ws.removeAllListeners()
      ws.on('error', () => {})
      ws.terminate()
    }
    if (opts.closeKey ?? true) await this.keys.closeListenKey().catch(() => undefined)
  }

  private url(): string {
    return this.base + encodeURIComponent(this.key ?? '')
  }

  private connect(reason: UserStreamReason): void {
    if (this.stopped) return
    this.buffering = true
    this.buffer = []
    const ws = new WebSocket(this.url(), {handshakeTimeout: this.o.handshakeTimeoutMs, perMessageDeflate: false, autoPong: true})
    this.ws = ws
    let down = false
    const fail = (why: UserStreamReason, detail: string) => {
      if (down || this.ws !== ws) return
      down = true
      this.drop(why, detail)
    }
    ws.on('open', () => {
      if (this.ws !== ws) return
      this.connections++
      this.failures = 0
      this.armPing(ws)
      this.lifetimeTimer = setTimeout(() => this.recycle('lifetime', 'connection lifetime reached'), this.o.maxLifetimeMs)
      this.lifetimeTimer.unref?.()
      this.emit('resync', {connection: this.connections, reason})
    })
    ws.on('message', (raw: WebSocket.RawData) => {
      if (this.ws !== ws) return
      const ts = this.o.now()
      let ev: UserEvent
      try {
        ev = parseUserEvent(JSON.parse(raw.toString()))
      } catch (err) {
        this.emit('bad-message', redact(err instanceof UserEventError ? err.message : 'user stream: a message that is not JSON'))
        return
      }
      if (ev.e === 'listenKeyExpired') {
        void this.renew('key-expired', 'listenKeyExpired')
        return
      }
      if (ev.e === 'other') return
      if (this.buffering) this.buffer.push([ev, ts])
      else this.emit('event', ev, ts)
    })
    ws.on('pong', () => {
      if (this.ws !== ws) return
      clearTimeout(this.pongTimer)
      this.pongTimer = undefined
    })
    ws.on('error', (err) => fail('error', redact(err.message).split(this.key ?? '\u0000').join('<listenKey>')))
    ws.on('unexpected-response', (_req, res) => fail('handshake', `HTTP ${res.statusCode}`))
    ws.on('close', (code) => fail('closed', `code ${code}`))
  }

  private armPing(ws: WebSocket): void {
    this.pingTimer = setInterval(() => {
      if (this.ws !== ws || ws.readyState !== WebSocket.OPEN) return
      if (this.pongTimer) return
      ws.ping()
      this.pongTimer = setTimeout(() => this.recycle('no-pong', `no pong within ${this.o.pongTimeoutMs} ms`), this.o.pongTimeoutMs)
      this.pongTimer.unref?.()
    }, this.o.pingIntervalMs)
    this.pingTimer.unref?.()
  }

  private clearConnTimers(): void {
    clearInterval(this.pingTimer)
    clearTimeout(this.pongTimer)
    clearTimeout(this.lifetimeTimer)
    this.pingTimer = this.pongTimer = this.lifetimeTimer = undefined
  }

  private closeSocket(): void {
    this.clearConnTimers()
    const ws = this.ws
    this.ws = undefined
    if (ws) {
      ws.removeAllListeners()
      ws.on('error', () => {})
      ws.terminate()
    }
  }

  /** drop and reconnect at once with the same key */
  private recycle(reason: UserStreamReason, detail: string): void {
    if (this.stopped) return
    this.closeSocket()
    this.emit('down', {reason, detail, retryInMs: 0})
    this.connect(reason)
  }

  private drop(reason: UserStreamReason, detail: string): void {
    if (this.stopped) return
    this.closeSocket()
    const delay = backoffDelay(this.failures, this.o.backoffBaseMs, this.o.backoffMaxMs, this.o.random)
    this.failures++
    this.pendingReason = reason
    this.emit('down', {reason, detail, retryInMs: delay})
    clearTimeout(this.retryTimer)
    // a refused handshake (HTTP 400 -1125: the key is gone, deleted by another client of the
    // account, which has one key): the next try takes a key first. Before, it tried the dead
    // key again and again until the next keep-alive (30 min) or an audit finding
    this.retryTimer = setTimeout(() => (reason === 'handshake' ? void this.rekey(this.pendingReason) : this.connect(this.pendingReason)), delay)
  }

  /** a key (POST: the account's active one, or a new one), then a connection; a failure is tried again by the connection's own backoff */
  private async rekey(reason: UserStreamReason): Promise<void> {
    if (this.stopped || this.renewing) return
    const held = this.holdUntil?.()
    if (held === undefined || held <= this.o.now()) {
      try {
        const key = await this.keys.createListenKey()
        if (this.stopped || this.renewing) return
        this.key = key
        this.keysCreated++
        this.emit('key', {reason})
      } catch (err) {
        this.emit('problem', `listenKey creation failed: ${redact((err as Error).message)}`)
      }
    }
    if (!this.stopped && !this.renewing) this.connect(reason)
  }

  private async keepAlive(): Promise<void> {
    if (this.stopped) return
    // in a ban the keep-alive cannot succeed and lengthens the ban: skipped (a key lives 60
    // minutes; one that expired meanwhile is replaced after the ban)
    const held = this.holdUntil?.()
    if (held !== undefined && held > this.o.now()) return
    try {
      await this.keys.keepAliveListenKey()
      this.keepAlives++
    } catch (err) {
      this.emit('problem', `listenKey keep-alive failed: ${redact((err as Error).message)}`)
      await this.renew('keepalive-failed', 'keep-alive failed')
    }
  }

  /** a new key (retried with backoff until it works or the stream stops), then a new connection */
  private async renew(reason: UserStreamReason, detail: string): Promise<void> {
    if (this.stopped || this.renewing) return
    this.renewing = true
    try {
      this.closeSocket()
      clearTimeout(this.retryTimer)
      for (let attempt = 0; !this.stopped; attempt++) {
        const held = this.holdUntil?.()
        if (held !== undefined && held > this.o.now()) {
          // a ban: wait for its end (at most a minute at a time) rather than call into it
          await new Promise((r) => {
            this.retryTimer = setTimeout(r, Math.min(60_000, held - this.o.now()))
          })
          attempt--
          continue
        }
        try {
          this.key = await this.keys.createListenKey()
          this.keysCreated++
          this.emit('key', {reason})
          break
        } catch (err) {
          const delay = backoffDelay(attempt, this.o.backoffBaseMs, this.o.backoffMaxMs, this.o.random)
          this.emit('problem', `listenKey creation failed: ${redact((err as Error).message)}`)
          this.emit('down', {reason, detail, retryInMs: delay})
          await new Promise((r) => {
            this.retryTimer = setTimeout(r, delay)
          })
        }
      }
      if (this.stopped) return
      this.emit('down', {reason, detail, retryInMs: 0})
      this.connect(reason)
    } finally {
      this.renewing = false
    }
  }
}
