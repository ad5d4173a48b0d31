/**
 * Market sources for the sim venue beyond recordings, and the pacing that plays them:
 *
 *  - `syntheticSource(...)`: the seeded synthetic market (synthetic.ts);
 *  - `pace(events, sink, {speed})`: publishes events at venue-time pace divided by
 *    `speed` (`'max'`: as fast as possible, yielding to I/O every 256 events).
 *
 * Recordings (Tardis CSV, raw captures) are opened by record/replay-source.ts.
 */
import {wallClock} from '../../clock/clock.js'
import {setImmediate as yieldIo} from 'node:timers/promises'
import {Instrument} from '../../domain/instrument.js'
import type {MarketEvent} from '../../market/events.js'
import type {MarketSource} from '../../record/replay-source.js'
import type {SimInstrument} from './server.js'
import {createSyntheticMarket, SYNTHETIC_DEFAULT_INSTRUMENT_SPEC, SYNTHETIC_DEFAULT_START_PRICE, syntheticMarket} from './synthetic.js'

export type {MarketSource}

/** The synthetic instrument's filters and start price (`mm sim --synthetic --tick-size …`); each defaults to the ETHUSDC-like instrument's. */
export interface SyntheticInstrumentOptions {
  tickSize?: string
  stepSize?: string
  minNotional?: string
  /** LOT_SIZE and MARKET_LOT_SIZE maxQty (default: the sim's, 1000000); the market model's level sizes are not capped by it */
  maxQty?: string
  /** best bid at the start (rounded down to the tick) */
  startPrice?: string
}

/** base / quote asset of a symbol: the quote is the USDⓈ-M margin suffix it ends with (else USDT) */
export function assetsOf(symbol: string): {baseAsset: string; quoteAsset: string} {
  const q = /(USDT|USDC|FDUSD|BUSD)$/.exec(symbol)?.[1] ?? 'USDT'
  const base = symbol.endsWith(q) && symbol.length > q.length ? symbol.slice(0, -q.length) : symbol
  return {baseAsset: base, quoteAsset: q}
}

export function syntheticSource(opts: {seed: number; symbol?: string; durationMs: number; startUs?: number} & SyntheticInstrumentOptions): MarketSource & {instrument: SimInstrument} {
  const d = SYNTHETIC_DEFAULT_INSTRUMENT_SPEC
  const symbol = (opts.symbol ?? d.symbol).toUpperCase()
  const assets = symbol === d.symbol ? {baseAsset: d.baseAsset, quoteAsset: d.quoteAsset} : assetsOf(symbol)
  const stepSize = opts.stepSize ?? d.stepSize
  const spec = {...d, symbol, ...assets, marginAsset: assets.quoteAsset, tickSize: opts.tickSize ?? d.tickSize, stepSize, minQty: stepSize, minNotional: opts.minNotional ?? d.minNotional}
  const instrument = new Instrument(spec)
  const startPrice = opts.startPrice ?? SYNTHETIC_DEFAULT_START_PRICE
  // the model's own checks (a start price too low for the book, …) at once, before anything listens
  createSyntheticMarket({seed: opts.seed, instrument, symbol, startUs: 0, durationMs: 0, startPrice})
  return {
    symbol,
    instrument: {symbol, tickSize: spec.tickSize, stepSize: spec.stepSize, minQty: spec.minQty, minNotional: spec.minNotional, baseAsset: spec.baseAsset, quoteAsset: spec.quoteAsset, ...(opts.maxQty === undefined ? {} : {maxQty: opts.maxQty, marketMaxQty: opts.maxQty})},
    instrumentFrom: 'synthetic',
    events: () => syntheticMarket({seed: opts.seed, instrument, symbol, startUs: opts.startUs ?? wallClock.now() * 1000, durationMs: opts.durationMs, startPrice}),
  }
}

export interface PaceOptions {
  /** 1 = real time by the events' venue timestamps; 'max' = no waiting */
  speed?: number | 'max'
  signal?: AbortSignal
}

/** Publish `events` into `sink` at the source's pace; resolves with the count when done or aborted. */
export async function pace(events: AsyncIterable<MarketEvent> | Iterable<MarketEvent>, sink: (ev: MarketEvent) => void, opts: PaceOptions = {}): Promise<{events: number; aborted: boolean}> {
  const speed = opts.speed ?? 1
  let n = 0
  let t0 = -1
  let w0 = 0
  for await (const ev of events as AsyncIterable<MarketEvent>) {
    if (opts.signal?.aborted) return {events: n, aborted: true}
    if (speed === 'max') {
      if ((n & 255) === 255) await yieldIo()
    } else {
      if (t0 < 0) {
        t0 = ev.ts
        w0 = wallClock.now()
      }
      const target = w0 + (ev.ts - t0) / 1000 / speed
      const wait = target - wallClock.now()
      if (wait > 1) await sleep(wait, opts.signal)
      if (opts.signal?.aborted) return {events: n, aborted: true}
    }
    sink(ev)
    n++
  }
  return {events: n, aborted: false}
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, {once: true})
  })
}
