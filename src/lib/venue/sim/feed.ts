/**
 * Market sources for the sim venue and the pacing that plays them:
 *
 *  - `openReplaySource(path)`: a Tardis CSV recording (file or folder; the instrument from
 *    its `meta.json`) or a raw hftbacktest capture (`<ts> <json>` lines; the instrument
 *    from `--tick-size/--step-size`, else inferred from the decimals in the data);
 *  - `syntheticSource(...)`: the seeded synthetic market (synthetic.ts);
 *  - `pace(events, sink, {speed})`: publishes events at venue-time pace divided by
 *    `speed` (`'max'`: as fast as possible, yielding to I/O every 256 events).
 */
import {wallClock} from '../../clock/clock.js'
import {readdir, stat} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {setImmediate as yieldIo} from 'node:timers/promises'
import {UsageError} from '../../domain/errors.js'
import {Instrument} from '../../domain/instrument.js'
import type {MarketEvent} from '../../market/events.js'
import {readMeta} from '../../record/meta.js'
import {detectRawSymbol, readRaw} from '../../record/raw-reader.js'
import {kindOfName, readTardis} from '../../record/tardis-reader.js'
import type {SimInstrument} from './server.js'
import {SYNTHETIC_DEFAULT_INSTRUMENT_SPEC, syntheticMarket} from './synthetic.js'

export interface MarketSource {
  symbol: string
  instrument: SimInstrument
  /** how the instrument was found */
  instrumentFrom: 'meta' | 'flags' | 'inferred' | 'synthetic'
  /** a fresh iteration of the events (can be called again to loop) */
  events(): AsyncIterable<MarketEvent> | Iterable<MarketEvent>
}

async function findMeta(path: string): Promise<string | undefined> {
  const st = await stat(path)
  if (st.isFile()) {
    const m = /^(.*?)\.(book|trades|ticker)\.csv(\.gz)?$/.exec(basename(path))
    if (!m) return undefined
    const p = join(dirname(path), `${m[1]}.meta.json`)
    return (await stat(p).catch(() => undefined)) ? p : undefined
  }
  const entries = await readdir(path, {withFileTypes: true})
  entries.sort((a, b) => a.name.localeCompare(b.name))
  for (const e of entries) if (e.isFile() && e.name.endsWith('.meta.json')) return join(path, e.name)
  for (const e of entries) {
    if (e.isDirectory()) {
      const m = await findMeta(join(path, e.name))
      if (m) return m
    }
  }
  return undefined
}

function isTardisPath(path: string, isDir: boolean): boolean {
  return isDir || kindOfName(basename(path)) !== undefined
}

function decimalsOf(s: string): number {
  const i = s.indexOf('.')
  return i < 0 ? 0 : s.replace(/0+$/, '').length - i - 1
}

function gridOf(d: number): string {
  return d === 0 ? '1' : `0.${'0'.repeat(d - 1)}1`
}

export interface ReplaySourceOptions {
  symbol?: string
  tickSize?: string
  stepSize?: string
  minNotional?: string
  includePartial?: boolean
}

export async function openReplaySource(path: string, opts: ReplaySourceOptions = {}): Promise<MarketSource> {
  const st = await stat(path).catch(() => undefined)
  if (!st) throw new UsageError('E_REPLAY', `--replay ${path}: no such file or folder`)
  if (isTardisPath(path, st.isDirectory())) {
    const metaPath = await findMeta(path)
    const meta = metaPath ? await readMeta(metaPath) : undefined
    const symbol = (opts.symbol ?? meta?.symbol)?.toUpperCase()
    if (!symbol) throw new UsageError('E_REPLAY', `--replay ${path}: no meta.json names the symbol`, {suggestion: 'pass --symbol'})
    if (opts.symbol && meta && meta.symbol.toUpperCase() !== opts.symbol.toUpperCase()) {
      throw new UsageError('E_REPLAY', `--replay ${path} is a recording of ${meta.symbol}, not of --symbol ${opts.symbol.toUpperCase()}`)
    }
    const readOpts = {symbol, includePartial: opts.includePartial}
    let instrument: SimInstrument
    let from: MarketSource['instrumentFrom']
    if (opts.tickSize && opts.stepSize) {
      instrument = {symbol, tickSize: opts.tickSize, stepSize: opts.stepSize, minQty: opts.stepSize, minNotional: opts.minNotional}
      from = 'flags'
    } else if (meta?.instrument) {
      instrument = {symbol, ...meta.instrument}
      from = 'meta'
    } else {
      instrument = await inferInstrument(symbol, readTardis(path, readOpts))
      from = 'inferred'
    }
    return {symbol, instrument, instrumentFrom: from, events: () => readTardis(path, readOpts)}
  }
  const symbol = (opts.symbol ?? (await detectRawSymbol([path])))?.toUpperCase()
  if (!symbol) throw new UsageError('E_REPLAY', `--replay ${path}: cannot tell the symbol`, {suggestion: 'pass --symbol'})
  const filtered = async function* (): AsyncGenerator<MarketEvent> {
    for await (const ev of readRaw([path], {symbol})) if (ev.symbol.toUpperCase() === symbol) yield ev
  }
  if (opts.tickSize && opts.stepSize) {
    return {symbol, instrument: {symbol, tickSize: opts.tickSize, stepSize: opts.stepSize, minQty: opts.stepSize, minNotional: opts.minNotional}, instrumentFrom: 'flags', events: filtered}
  }
  return {symbol, instrument: await inferInstrument(symbol, filtered()), instrumentFrom: 'inferred', events: filtered}
}

/** Tick and step = the finest decimals seen in the first 5000 events (an assumption, said so). */
async function inferInstrument(symbol: string, events: AsyncIterable<MarketEvent>): Promise<SimInstrument> {
  let pd = 0
  let qd = 0
  let n = 0
  const see = (p: string, q: string) => {
    pd = Math.max(pd, decimalsOf(p))
    qd = Math.max(qd, decimalsOf(q))
  }
  for await (const ev of events) {
    if (ev.kind === 'snapshot' || ev.kind === 'depth') {
      for (const [p, q] of ev.bids) see(p, q)
      for (const [p, q] of ev.asks) see(p, q)
    } else if (ev.kind === 'trade') see(ev.price, ev.qty)
    if (++n >= 5000) break
  }
  return {symbol, tickSize: gridOf(pd), stepSize: gridOf(qd), minQty: gridOf(qd), minNotional: '5'}
}

export function syntheticSource(opts: {seed: number; symbol?: string; durationMs: number; startUs?: number}): MarketSource {
  const spec = {...SYNTHETIC_DEFAULT_INSTRUMENT_SPEC, symbol: (opts.symbol ?? SYNTHETIC_DEFAULT_INSTRUMENT_SPEC.symbol).toUpperCase()}
  const instrument = new Instrument(spec)
  return {
    symbol: spec.symbol,
    instrument: {symbol: spec.symbol, tickSize: spec.tickSize, stepSize: spec.stepSize, minQty: spec.minQty, minNotional: spec.minNotional, baseAsset: spec.baseAsset, quoteAsset: spec.quoteAsset},
    instrumentFrom: 'synthetic',
    events: () => syntheticMarket({seed: opts.seed, instrument, symbol: spec.symbol, startUs: opts.startUs ?? wallClock.now() * 1000, durationMs: opts.durationMs}),
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
