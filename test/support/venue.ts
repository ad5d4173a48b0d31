/**
 * Loopback sim venue for tests, plus a small deterministic scripted market.
 */
import type {EventEmitter} from 'node:events'
import type {Endpoints} from '../../src/lib/cli/endpoints.js'
import type {Level, MarketEvent} from '../../src/lib/market/events.js'
import {seededRandom} from '../../src/lib/venue/binance/http.js'
import {type SimFaults, type SimInstrument, SimVenue} from '../../src/lib/venue/sim/server.js'

export const ETHUSDC: SimInstrument = {symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}
export const BTCUSDT: SimInstrument = {symbol: 'BTCUSDT', tickSize: '0.10', stepSize: '0.001', minQty: '0.001', minNotional: '100'}

export interface TestVenue {
  venue: SimVenue
  restUrl: string
  wsUrl: string
  endpoints: Endpoints
  close(): Promise<void>
}

export async function startVenue(opts: {instruments?: SimInstrument[]; faults?: SimFaults; seed?: number} = {}): Promise<TestVenue> {
  const venue = new SimVenue({instruments: opts.instruments ?? [ETHUSDC], faults: opts.faults, seed: opts.seed ?? 1})
  const {restUrl, wsUrl} = await venue.start()
  return {venue, restUrl, wsUrl, endpoints: {rest: restUrl, ws: wsUrl, routed: true, name: 'custom'}, close: () => venue.stop()}
}

/** Resolve on the next `event` whose payload satisfies `pred` (rejects after timeoutMs). */
// 30 s by default: 3× and more what an event takes on a loaded 2-core machine; the bound only matters on failure
export function nextEvent<T extends unknown[]>(em: EventEmitter, event: string, pred: (...args: T) => boolean = () => true, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      em.off(event, on)
      reject(new Error(`timed out waiting for ${event}`))
    }, timeoutMs)
    const on = (...args: unknown[]) => {
      if (!pred(...(args as T))) return
      clearTimeout(t)
      em.off(event, on)
      resolve(args as T)
    }
    em.on(event, on)
  })
}

function px(ticks: number, dec: number): string {
  const s = String(ticks).padStart(dec + 1, '0')
  return dec === 0 ? s : `${s.slice(0, s.length - dec)}.${s.slice(s.length - dec)}`
}

/**
 * A deterministic market: one snapshot of `levels` per side around 3000.00, then `n`
 * messages (depth diffs with sets and deletes, trades, tickers). Prices keep 2 decimals,
 * quantities 3, as ETHUSDC does; a few quantities carry trailing zeros to prove strings
 * pass through untouched.
 */
export function scriptedMarket(opts: {symbol?: string; n: number; seed?: number; levels?: number; startUs?: number}): MarketEvent[] {
  const symbol = opts.symbol ?? 'ETHUSDC'
  const rnd = seededRandom(opts.seed ?? 7)
  const levels = opts.levels ?? 20
  let t = opts.startUs ?? 1_767_225_600_000_000
  const mid = 300_000
  const bids: Level[] = []
  const asks: Level[] = []
  for (let i = 1; i <= levels; i++) {
    bids.push([px(mid - i, 2), px(1000 + i * 7, 3)])
    asks.push([px(mid + i, 2), px(1000 + i * 11, 3)])
  }
  const out: MarketEvent[] = [{kind: 'snapshot', symbol, ts: t, localTs: t, bids, asks}]
  for (let k = 0; k < opts.n; k++) {
    t += 1000 + Math.floor(rnd() * 5000)
    const r = rnd()
    if (r < 0.7) {
      const b: Level[] = []
      const a: Level[] = []
      const m = 1 + Math.floor(rnd() * 3)
      for (let j = 0; j < m; j++) {
        const off = 1 + Math.floor(rnd() * (levels + 3))
        const del = rnd() < 0.25
        const q = del ? (rnd() < 0.5 ? '0' : '0.000') : rnd() < 0.2 ? `${px(1 + Math.floor(rnd() * 5000), 3)}` : px(1 + Math.floor(rnd() * 5000), 3)
        if (rnd() < 0.5) b.push([px(mid - off, 2), q])
        else a.push([px(mid + off, 2), q])
      }
      out.push({kind: 'depth', symbol, ts: t, localTs: t, bids: b, asks: a})
    } else if (r < 0.9) {
      out.push({kind: 'trade', symbol, ts: t, localTs: t, id: String(1000 + k), side: rnd() < 0.5 ? 'buy' : 'sell', price: px(mid + (rnd() < 0.5 ? -1 : 1), 2), qty: px(1 + Math.floor(rnd() * 900), 3)})
    } else {
      out.push({kind: 'ticker', symbol, ts: t, localTs: t, bidPrice: px(mid - 1, 2), bidQty: '1.000', askPrice: px(mid + 1, 2), askQty: '2.500'})
    }
  }
  return out
}

/** Apply book events (snapshot replaces, depth sets/deletes) to a string-keyed book. */
export function applyBook(events: Iterable<MarketEvent>, symbol?: string): {bids: Level[]; asks: Level[]} {
  const bids = new Map<string, string>()
  const asks = new Map<string, string>()
  const zero = (q: string) => /^[0.]+$/.test(q)
  for (const ev of events) {
    if (symbol && ev.symbol !== symbol) continue
    if (ev.kind === 'snapshot') {
      bids.clear()
      asks.clear()
    }
    if (ev.kind === 'snapshot' || ev.kind === 'depth') {
      for (const [p, q] of ev.bids) zero(q) ? bids.delete(p) : bids.set(p, q)
      for (const [p, q] of ev.asks) zero(q) ? asks.delete(p) : asks.set(p, q)
    }
  }
  return {
    bids: [...bids].sort((a, b) => Number(b[0]) - Number(a[0])),
    asks: [...asks].sort((a, b) => Number(a[0]) - Number(b[0])),
  }
}
