/**
 * Public (unsigned) REST endpoints of Binance USDⓈ-M futures (FACTS.md §2.1):
 * exchangeInfo, the depth snapshot and server time. Validates the shapes at the edge.
 */
import {VenueError} from '../../domain/errors.js'
import {type Instrument, instrumentFromExchangeInfo} from '../../domain/instrument.js'
import type {Level, SnapshotEvent} from '../../market/events.js'
import {HttpClient, type HttpClientOptions} from './http.js'

export interface DepthSnapshot {
  lastUpdateId: number
  /** message output time, ms */
  E?: number
  /** transaction time, ms */
  T?: number
  bids: Level[]
  asks: Level[]
}

export type DepthLimit = 5 | 10 | 20 | 50 | 100 | 500 | 1000

export class BinancePublicRest {
  readonly http: HttpClient

  constructor(opts: HttpClientOptions | {http: HttpClient}) {
    this.http = 'http' in opts ? opts.http : new HttpClient(opts)
  }

  get baseUrl(): string {
    return this.http.baseUrl
  }

  /** GET /fapi/v1/exchangeInfo (weight 1) */
  async exchangeInfo(): Promise<{symbols: unknown[]} & Record<string, unknown>> {
    const j = await this.http.getJson<Record<string, unknown>>('/fapi/v1/exchangeInfo')
    if (!j || !Array.isArray(j.symbols)) throw new VenueError('E_VENUE_BAD_RESPONSE', `exchangeInfo from ${this.baseUrl} has no symbols[]`)
    return j as {symbols: unknown[]}
  }

  /** exchangeInfo → Instrument per symbol; throws UsageError E_UNKNOWN_SYMBOL (exit 2) for an unlisted one. */
  async instruments(symbols: string[]): Promise<Instrument[]> {
    const info = await this.exchangeInfo()
    return symbols.map((s) => instrumentFromExchangeInfo(info, s))
  }

  /** GET /fapi/v1/depth (weight 20 at limit 1000) */
  async depth(symbol: string, limit: DepthLimit = 1000): Promise<DepthSnapshot> {
    const j = await this.http.getJson<Record<string, unknown>>('/fapi/v1/depth', {symbol: symbol.toUpperCase(), limit})
    return parseDepthSnapshot(j, `${this.baseUrl}/fapi/v1/depth?symbol=${symbol.toUpperCase()}`)
  }

  /** GET /fapi/v1/time → server time in ms */
  async serverTime(): Promise<number> {
    const j = await this.http.getJson<{serverTime?: unknown}>('/fapi/v1/time')
    if (typeof j?.serverTime !== 'number') throw new VenueError('E_VENUE_BAD_RESPONSE', `${this.baseUrl}/fapi/v1/time has no serverTime`)
    return j.serverTime
  }

  async close(): Promise<void> {
    await this.http.close()
  }
}

function isLevels(x: unknown): x is Level[] {
  return Array.isArray(x) && x.every((l) => Array.isArray(l) && l.length >= 2 && typeof l[0] === 'string' && typeof l[1] === 'string')
}

export function parseDepthSnapshot(j: Record<string, unknown>, where = 'depth snapshot'): DepthSnapshot {
  if (typeof j?.lastUpdateId !== 'number' || !isLevels(j.bids) || !isLevels(j.asks)) {
    throw new VenueError('E_VENUE_BAD_RESPONSE', `${where}: not a depth snapshot (lastUpdateId, bids, asks)`)
  }
  return {
    lastUpdateId: j.lastUpdateId,
    E: typeof j.E === 'number' ? j.E : undefined,
    T: typeof j.T === 'number' ? j.T : undefined,
    bids: (j.bids as Level[]).map((l) => [l[0], l[1]]),
    asks: (j.asks as Level[]).map((l) => [l[0], l[1]]),
  }
}

/** A REST snapshot as the common MarketEvent (ts = T, else E, else the local time; µs). */
export function snapshotEvent(symbol: string, snap: DepthSnapshot, localTs: number): SnapshotEvent {
  const venueMs = snap.T ?? snap.E
  return {
    kind: 'snapshot',
    symbol: symbol.toUpperCase(),
    ts: venueMs === undefined ? localTs : venueMs * 1000,
    localTs,
    lastUpdateId: snap.lastUpdateId,
    bids: snap.bids,
    asks: snap.asks,
  }
}
