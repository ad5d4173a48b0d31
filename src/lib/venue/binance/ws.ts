/**
 * WebSocket market-stream client (ws 8) for Binance USDⓈ-M combined streams
 * (FACTS.md §3.1): `<base>/<route>/stream?streams=a/b`, one connection per route.
 *
 * - Pings from the venue are answered with pongs (ws does it; `autoPong` is kept on).
 * - A silent socket (no frame at all for `silenceMs`) is closed and reconnected.
 * - Reconnects use capped exponential backoff with jitter; the randomness is injectable.
 * - A connection is recycled before the venue's 24 h cut (`maxLifetimeMs`, default 23 h 30 m).
 * - `reconnects` counts every connection after the first one.
 * - Before the first successful open, `giveUpAfter` consecutive failures end the client
 *   with a VenueError (`fatal`), so a command can exit 1 instead of retrying forever.
 */
import {EventEmitter} from 'node:events'
import {performance} from 'node:perf_hooks'
import WebSocket from 'ws'
import {VenueError} from '../../domain/errors.js'
import type {MarketEvent} from '../../market/events.js'
import {MarketParseError, parseMarketPayload} from './parse.js'
import {Backoff} from '../backoff.js'

/** Wall-clock microseconds since the epoch, with sub-millisecond resolution. */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000)
}

export interface StreamClientOptions {
  url: string
  /** close and reconnect when no frame (message or ping) arrived for this long; default 60 s */
  silenceMs?: number
  /** recycle the connection after this long; default 23 h 30 m (the venue cuts at 24 h) */
  maxLifetimeMs?: number
  backoffBaseMs?: number
  backoffMaxMs?: number
  random?: () => number
  /** consecutive failures before the first successful open that end the client; default ∞ */
  giveUpAfter?: number
  /** local receive time source, µs */
  clock?: () => number
  /** handshake timeout, ms; default 10 s */
  handshakeTimeoutMs?: number
  /** a connection that stayed up this long resets the reconnect backoff, ms; default 30 s */
  stableMs?: number
  /** emit each frame's text (`text`) instead of parsing it (`message`): for a byte scanner */
  raw?: boolean
}

export type DownReason = 'closed' | 'error' | 'silent' | 'lifetime' | 'handshake'

export interface StreamClientEvents {
  open: [info: {reconnect: boolean; connection: number}]
  /** one parsed frame: combined-stream name (if any), payload, local receive time µs */
  message: [stream: string | undefined, data: unknown, localTs: number]
  /** one frame's text, unparsed, and its local receive time µs (option `raw`) */
  text: [text: string, localTs: number]
  /** the connection went away; `retryInMs` until the next attempt */
  down: [info: {reason: DownReason; detail: string; retryInMs: number}]
  fatal: [err: VenueError]
  /** a frame that is not JSON (truncated, garbage); `stream` when its text names one */
  bad: [info: {stream?: string; detail: string}]
  stopped: []
}

export class StreamClient extends EventEmitter<StreamClientEvents> {
  readonly url: string
  /** connections opened after the first one (or attempted after a failure) */
  reconnects = 0
  /** frames received */
  messages = 0
  private ws?: WebSocket
  private stopped = false
  private everOpened = false
  private failures = 0
  private connections = 0
  private silenceTimer?: NodeJS.Timeout
  private lifetimeTimer?: NodeJS.Timeout
  private retryTimer?: NodeJS.Timeout
  private readonly o: Required<Omit<StreamClientOptions, 'url' | 'raw'>>
  /** the shared reconnect pace (../backoff.ts): resets only after a connection held stableMs */
  private readonly backoff: Backoff
  private readonly raw: boolean

  constructor(opts: StreamClientOptions) {
    super()
    this.url = opts.url
    this.raw = opts.raw === true
    this.o = {
      silenceMs: opts.silenceMs ?? 60_000,
      maxLifetimeMs: opts.maxLifetimeMs ?? 23.5 * 3600_000,
      backoffBaseMs: opts.backoffBaseMs ?? 250,
      backoffMaxMs: opts.backoffMaxMs ?? 30_000,
      random: opts.random ?? Math.random,
      giveUpAfter: opts.giveUpAfter ?? Number.POSITIVE_INFINITY,
      clock: opts.clock ?? nowMicros,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 10_000,
      stableMs: opts.stableMs ?? 30_000,
    }
    this.backoff = new Backoff({baseMs: this.o.backoffBaseMs, maxMs: this.o.backoffMaxMs, random: this.o.random, stableMs: this.o.stableMs})
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN
  }

  start(): void {
    if (this.ws || this.stopped) return
    this.connect()
  }

  /** Close for good; resolves when the socket is closed. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    clearTimeout(this.retryTimer)
    this.clearConnTimers()
    const ws = this.ws
    this.ws = undefined
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          ws.terminate()
          resolve()
        }, 1000)
        ws.once('close', () => {
          clearTimeout(t)
          resolve()
        })
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate()
        else ws.close(1000, 'client stop')
      })
    }
    this.emit('stopped')
  }

  /** Drop the current connection now and reconnect without delay (e.g. tests, lifetime). */
  recycle(reason: DownReason = 'lifetime'): void {
    this.drop(reason, 'recycled', 0)
  }

  private connect(): void {
    this.connections++
    if (this.connections > 1) this.reconnects++
    const ws = new WebSocket(this.url, {handshakeTimeout: this.o.handshakeTimeoutMs, perMessageDeflate: false, autoPong: true})
    this.ws = ws
    let failedReported = false
    const fail = (reason: DownReason, detail: string) => {
      if (failedReported || this.ws !== ws) return
      failedReported = true
      this.drop(reason, detail)
    }
    ws.on('open', () => {
      if (this.ws !== ws) return
      const reconnect = this.everOpened
      this.everOpened = true
      this.failures = 0
      this.backoff.ok()
      this.armSilence()
      this.lifetimeTimer = setTimeout(() => this.recycle('lifetime'), this.o.maxLifetimeMs)
      this.lifetimeTimer.unref?.()
      this.emit('open', {reconnect, connection: this.connections})
    })
    ws.on('message', (raw: WebSocket.RawData) => {
      if (this.ws !== ws) return
      const localTs = this.o.clock()
      this.silenceTimer?.refresh()
      this.messages++
      if (this.raw) {
        this.emit('text', raw.toString(), localTs)
        return
      }
      let j: unknown
      const text = raw.toString()
      try {
        j = JSON.parse(text)
      } catch (error) {
        // not JSON (truncated, garbage): counted by the consumer, never applied
        this.emit('bad', {stream: /^\{"stream":"([^"]+)"/.exec(text)?.[1], detail: (error as Error).message})
        return
      }
      const env = j as {stream?: unknown; data?: unknown}
      if (env && typeof env.stream === 'string' && env.data !== undefined) this.emit('message', env.stream, env.data, localTs)
      else this.emit('message', undefined, j, localTs)
    })
    ws.on('ping', () => {
      if (this.ws === ws) this.silenceTimer?.refresh()
    })
    ws.on('error', (err) => fail('error', err.message))
    ws.on('unexpected-response', (_req, res) => fail('handshake', `HTTP ${res.statusCode}`))
    ws.on('close', (code, reason) => fail('closed', `code ${code}${reason.length ? ` ${reason.toString()}` : ''}`))
  }

  private armSilence(): void {
    clearTimeout(this.silenceTimer)
    this.silenceTimer = setTimeout(() => this.drop('silent', `no message for ${this.o.silenceMs} ms`), this.o.silenceMs)
    this.silenceTimer.unref?.()
  }

  private clearConnTimers(): void {
    clearTimeout(this.silenceTimer)
    clearTimeout(this.lifetimeTimer)
    this.silenceTimer = undefined
    this.lifetimeTimer = undefined
  }

  private drop(reason: DownReason, detail: string, forcedDelay?: number): void {
    if (this.stopped) return
    this.clearConnTimers()
    const ws = this.ws
    this.ws = undefined
    if (ws) {
      ws.removeAllListeners('message')
      ws.on('error', () => {})
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate()
    }
    this.failures++
    if (!this.everOpened && this.failures >= this.o.giveUpAfter) {
      this.stopped = true
      this.emit('fatal', new VenueError('E_VENUE_UNREACHABLE', `cannot connect to ${this.url} (${this.failures} attempts): ${detail}`, {suggestion: 'check the network and --ws-url'}))
      return
    }
    const delay = forcedDelay ?? this.backoff.next()
    this.emit('down', {reason, detail, retryInMs: delay})
    clearTimeout(this.retryTimer)
    this.retryTimer = setTimeout(() => {
      if (!this.stopped) this.connect()
    }, delay)
  }
}

// ---- stream names and message parsing ------------------------------------------------

export type TradeStream = 'trade' | 'aggTrade'

/** Stream names for a symbol on each route (lowercase symbols, FACTS.md §3.1). */
export function streamNames(symbol: string, opts: {depth?: string; ticker?: boolean; trades?: TradeStream | false; marks?: boolean}): {public: string[]; market: string[]} {
  const s = symbol.toLowerCase()
  const pub = [`${s}${opts.depth ?? '@depth@100ms'}`]
  if (opts.ticker) pub.push(`${s}@bookTicker`)
  const market = opts.trades ? [`${s}@${opts.trades}`] : []
  // the mark price each second (markPriceUpdate), on /market with the trades (FACTS.md §3.1)
  if (opts.marks) market.push(`${s}@markPrice@1s`)
  return {public: pub, market}
}

/**
 * One stream payload → MarketEvent (ts µs from `T`, else `E`), through the shared reader
 * (parse.ts). Returns undefined for payloads that are not market data (subscription acks,
 * unknown events) or malformed.
 */
/**
 * As parseMarketMessage, but a market message with a missing or mistyped field throws
 * MarketParseError (the live feed counts those as bad frames) instead of vanishing.
 */
export function parseMarketMessageStrict(data: unknown, localTs: number): MarketEvent | undefined {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return undefined
  const d = data as Record<string, unknown>
  if (typeof d.s !== 'string') return undefined
  const r = parseMarketPayload(d, '', localTs)
  return typeof r === 'string' ? undefined : r
}

export function parseMarketMessage(data: unknown, localTs: number): MarketEvent | undefined {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return undefined
  const d = data as Record<string, unknown>
  // a stream payload always names its symbol; a bare REST-shaped object is not one
  if (typeof d.s !== 'string') return undefined
  try {
    const r = parseMarketPayload(d, '', localTs)
    return typeof r === 'string' ? undefined : r
  } catch (e) {
    if (e instanceof MarketParseError) return undefined
    throw e
  }
}
