/**
 * Recordings as market sources, for `mm quote --replay` and `mm sim --replay`:
 *
 *  - `openReplaySource(path)`: a Tardis CSV recording (file or folder; the instrument from
 *    its `meta.json`) or a raw hftbacktest capture (`<ts> <json>` lines; the instrument
 *    from `--tick-size/--step-size`, else inferred from the decimals in the data);
 *  - `openReplay(paths)`: the same for `--replay PATH…`: one Tardis recording or one or
 *    more raw captures read in order as one stream, in batches.
 * The instrument comes from meta.json, else --tick-size/--step-size, else it is inferred
 * from the decimals in the data and the caller says so.
 */
import {statSync} from 'node:fs'
import {readdir, stat} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {statOf} from '../fs/stat.js'
import {Decimal} from 'decimal.js'
import {GridError, UsageError} from '../domain/errors.js'
import {Instrument} from '../domain/instrument.js'
import type {DepthEvent, Level, MarketEvent, SnapshotEvent} from '../market/events.js'
import {readMeta} from './meta.js'
import type {ByteCount, LineBatch, LineCheck} from '../market/lines.js'
import {detectRawSymbol, readRaw, readRawBatches, readRawLineBatches} from './raw-reader.js'
import {kindOfName, listTardisFiles, readTardis} from './tardis-reader.js'
import {checkReplayPaths, guardedBatches, guardedLines, newGuardStats, ReplayGuard, type ReplayGuardOptions, type ReplayGuardStats} from './replay-guard.js'

/** What a source says about its instrument (decimal strings, as the venue writes them). */
export interface ReplayInstrument {
  symbol: string
  tickSize: string
  stepSize: string
  minQty?: string
  minNotional?: string
  baseAsset?: string
  quoteAsset?: string
}

export interface MarketSource {
  symbol: string
  instrument: ReplayInstrument
  /** how the instrument was found */
  instrumentFrom: 'meta' | 'flags' | 'inferred' | 'synthetic'
  /** a fresh iteration of the events (can be called again to loop) */
  events(): AsyncIterable<MarketEvent> | Iterable<MarketEvent>
}

async function findMeta(path: string, symbol?: string): Promise<string | undefined> {
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
  // the root of `mm record --out` holds a folder per symbol: the wanted symbol's first (its
  // meta.json was the first folder's by name, so a root of BTCUSDT and ETHUSDT was refused
  // as "a recording of BTCUSDT" for --symbol ETHUSDT)
  const own = symbol === undefined ? undefined : entries.find((e) => e.isDirectory() && e.name.toUpperCase() === symbol.toUpperCase())
  if (own) {
    const m = await findMeta(join(path, own.name))
    if (m) return m
  }
  for (const e of entries) {
    if (e.isDirectory() && e !== own) {
      const m = await findMeta(join(path, e.name), symbol)
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
  /** add the bytes `events()` reads here (not those read to infer the instrument) */
  bytes?: ByteCount
}

/**
 * The root of `mm record --out` (a folder per symbol, no recording file of its own): the
 * wanted symbol's folder, else `path` as given. The replay read every symbol's files of
 * the root (their rows dropped by the symbol filter): each replay cost every symbol's data,
 * and another symbol's torn file stopped it.
 */
export async function symbolFolder(path: string, symbol: string | undefined): Promise<string> {
  if (symbol === undefined || !statOf(path)?.isDirectory()) return path
  const entries = await readdir(path, {withFileTypes: true})
  if (entries.some((e) => e.isFile() && kindOfName(e.name) !== undefined)) return path
  const own = entries.find((e) => e.isDirectory() && e.name.toUpperCase() === symbol.toUpperCase())
  return own ? join(path, own.name) : path
}

export async function openReplaySource(path: string, opts: ReplaySourceOptions = {}): Promise<MarketSource> {
  const st = statOf(path)
  if (!st) throw new UsageError('E_REPLAY', `--replay ${path}: no such file or folder`)
  if (isTardisPath(path, st.isDirectory())) {
    const metaPath = await findMeta(path, opts.symbol)
    const meta = metaPath ? await readMeta(metaPath) : undefined
    const symbol = (opts.symbol ?? meta?.symbol)?.toUpperCase()
    if (!symbol) throw new UsageError('E_REPLAY', `--replay ${path}: no meta.json names the symbol`, {suggestion: 'pass --symbol'})
    // the root of mm record --out: the symbol's folder alone is read
    const dir = await symbolFolder(path, symbol)
    if (opts.symbol && meta && meta.symbol.toUpperCase() !== opts.symbol.toUpperCase()) {
      throw new UsageError('E_REPLAY', `--replay ${path} is a recording of ${meta.symbol}, not of --symbol ${opts.symbol.toUpperCase()}`)
    }
    const readOpts = {symbol, includePartial: opts.includePartial}
    if (!meta?.instrument) checkFlagPair(opts)
    // the flags are for a recording without meta.json: one that disagrees with it is refused
    if (meta?.instrument) checkFlagsAgainstMeta(path, metaPath ?? path, meta.instrument, opts)
    let instrument: ReplayInstrument
    let from: MarketSource['instrumentFrom']
    if (meta?.instrument) {
      instrument = {symbol, ...meta.instrument}
      from = 'meta'
    } else if (opts.tickSize && opts.stepSize) {
      instrument = {symbol, tickSize: opts.tickSize, stepSize: opts.stepSize, minQty: opts.stepSize, minNotional: opts.minNotional}
      from = 'flags'
      await checkGrid(path, instrument, readTardis(dir, readOpts))
    } else {
      instrument = await inferInstrument(symbol, readTardis(dir, readOpts))
      from = 'inferred'
    }
    return {symbol, instrument, instrumentFrom: from, events: () => readTardis(dir, {...readOpts, bytes: opts.bytes})}
  }
  const symbol = (opts.symbol ?? (await detectRawSymbol([path])))?.toUpperCase()
  if (!symbol) throw new UsageError('E_REPLAY', `--replay ${path}: cannot tell the symbol`, {suggestion: 'pass --symbol'})
  checkFlagPair(opts)
  const filtered = async function* (): AsyncGenerator<MarketEvent> {
    for await (const ev of readRaw([path], {symbol})) if (ev.symbol.toUpperCase() === symbol) yield ev
  }
  if (opts.tickSize && opts.stepSize) {
    const instrument = {symbol, tickSize: opts.tickSize, stepSize: opts.stepSize, minQty: opts.stepSize, minNotional: opts.minNotional}
    // with the decoded-input cache on, a file already found on this grid (same size, mtime
    // and inode) is not decoded again: this check read its first 5000 events on every replay
    const known = rawCache.on ? `${path}\u0000${symbol}\u0000${opts.tickSize}\u0000${opts.stepSize}\u0000${st.size}:${st.mtimeMs}:${st.ino}` : undefined
    if (known === undefined || !rawCache.onGrid.has(known)) {
      await checkGrid(path, instrument, filtered())
      if (known !== undefined) rawCache.onGrid.add(known)
    }
    return {symbol, instrument, instrumentFrom: 'flags', events: filtered}
  }
  return {symbol, instrument: await inferInstrument(symbol, filtered()), instrumentFrom: 'inferred', events: filtered}
}

/** --tick-size without --step-size (or the other way) would be ignored: refused (exit 2). */
function checkFlagPair(opts: ReplaySourceOptions): void {
  if ((opts.tickSize === undefined) !== (opts.stepSize === undefined)) throw new UsageError('E_USAGE', '--tick-size and --step-size go together', {suggestion: 'pass both, or neither to infer them from the data'})
}

/** A decimal flag equal in value to meta.json's (0.010 = 0.01); an unreadable one is left to the instrument's own check. */
function sameDecimal(a: string, b: string): boolean {
  try {
    return new Decimal(a).eq(new Decimal(b))
  } catch {
    return false
  }
}

/**
 * --tick-size/--step-size/--min-notional given for a recording whose meta.json has the
 * instrument: equal values are fine, a different one is an error naming both (exit 2).
 */
function checkFlagsAgainstMeta(path: string, metaPath: string, meta: {tickSize: string; stepSize: string; minNotional: string}, opts: ReplaySourceOptions): void {
  const pairs = [['--tick-size', opts.tickSize, meta.tickSize, 'tickSize'], ['--step-size', opts.stepSize, meta.stepSize, 'stepSize'], ['--min-notional', opts.minNotional, meta.minNotional, 'minNotional']] as const
  for (const [flag, given, known, key] of pairs) {
    if (given === undefined || sameDecimal(given, known)) continue
    throw new UsageError('E_REPLAY_INSTRUMENT', `${flag} ${given} conflicts with ${key} ${known} in ${metaPath} (the recording of --replay ${path})`, {suggestion: `drop ${flag}: a recording with meta.json replays with its own instrument`})
  }
}

const DECIMAL = /^\d+(\.\d+)?$/

/**
 * The instrument from the flags against the data: the first 5000 events' prices and sizes
 * must be on its grid, or every book message would be left out and the run would quote
 * nothing (an error naming the first value off the grid, exit 2).
 */
let gridChecks = 0

/** How many grid checks (checkGrid) this thread has run (tests: the decoded-input cache skips repeats). */
export function replayGridChecks(): number {
  return gridChecks
}

async function checkGrid(path: string, spec: ReplayInstrument, events: AsyncIterable<MarketEvent>): Promise<void> {
  gridChecks++
  const inst = new Instrument({...spec, minQty: spec.minQty ?? spec.stepSize, minNotional: spec.minNotional ?? '5'})
  // a value that is not a plain decimal is the input checks' to count and skip, not this one's
  const onGrid = (v: string, toUnits: (s: string) => number): boolean => {
    if (!DECIMAL.test(v)) return true
    try {
      toUnits(v)
      return true
    } catch (error) {
      if (error instanceof GridError) return false
      return true
    }
  }
  const off = (p: string, q: string): string | undefined => {
    if (!onGrid(p, (s) => inst.priceToTicks(s))) return `price ${p} is not a multiple of --tick-size ${spec.tickSize}`
    if (!onGrid(q, (s) => inst.qtyToSteps(s))) return `quantity ${q} is not a multiple of --step-size ${spec.stepSize}`
    return undefined
  }
  let bad: string | undefined
  let n = 0
  try {
    for await (const ev of events) {
      if (ev.kind === 'snapshot' || ev.kind === 'depth') {
        for (const [p, q] of ev.bids) bad ??= off(p, q)
        for (const [p, q] of ev.asks) bad ??= off(p, q)
      } else if (ev.kind === 'trade') bad = off(ev.price, ev.qty)
      if (bad || ++n >= 5000) break
    }
  } catch {
    // an input the reader cannot read: the replay's own checks name it (file:line) when it runs
    return
  }
  if (bad) throw new UsageError('E_REPLAY_GRID', `--replay ${path}: ${bad} (in the data's first events): every such message would be left out`, {suggestion: "pass the instrument's real --tick-size/--step-size, or leave them out to infer them from the data"})
}

/** Tick and step = the finest decimals seen in the first 5000 events (an assumption, said so). */
async function inferInstrument(symbol: string, events: AsyncIterable<MarketEvent>): Promise<ReplayInstrument> {
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

export interface ReplaySource extends MarketSource {
  /** the events in batches (one await per batch), through the input checks; `events()` the same one by one */
  batches(): AsyncIterable<MarketEvent[]>
  /** what the input checks skipped and passed (filled while the input is read) */
  guard: ReplayGuardStats
  /**
   * bytes of the input files read so far by `batches()` / `input()` (compressed bytes for
   * .gz) and their total size: a replay's progress
   */
  bytes: {read: number; total: number}
  /**
   * What `mm quote --replay`'s replay driver reads: raw captures as lines with the input
   * checks the driver runs on them (the byte scanner reads each line, the JSON.parse path
   * only what it does not handle; no book tickers), a Tardis recording as checked event
   * batches; with the decoded-input cache on (`mm calibrate`'s workers), raw captures as
   * checked event batches too (decoded once, replayed from memory)
   */
  input(): AsyncIterable<MarketEvent[]> | {symbol: string; lines: AsyncIterable<LineBatch>; check: LineCheck}
}

/** Group a per-event stream into batches. */
export async function* batched(events: AsyncIterable<MarketEvent> | Iterable<MarketEvent>, size = 512): AsyncGenerator<MarketEvent[]> {
  let b: MarketEvent[] = []
  for await (const ev of events) {
    b.push(ev)
    if (b.length >= size) {
      yield b
      b = []
    }
  }
  if (b.length > 0) yield b
}

/** Any failure to read a replay input named after it, exit 2. */
async function named<T>(path: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f()
  } catch (error) {
    if (error instanceof UsageError || (error as {exitCode?: number}).exitCode === 2) throw error
    throw new UsageError('E_REPLAY_READ', `--replay ${path}: cannot read: ${((error as Error)?.message ?? String(error)).split('\n')[0]}`, {cause: error})
  }
}

/** Does the head of a raw capture (its first 20 000 events) hold events of `symbol`? */
async function holdsSymbol(path: string, symbol: string): Promise<boolean> {
  let n = 0
  for await (const b of readRawBatches([path], {symbol, tickers: false})) {
    for (const ev of b) if (ev.symbol.toUpperCase() === symbol) return true
    n += b.length
    if (n >= 20_000) break
  }
  return false
}

/**
 * Decoded raw captures kept per thread, for a caller that replays the same inputs again and
 * again (`mm calibrate`'s workers: every point of a window reads the same files). Off by
 * default: a single replay reads its input once and keeps nothing. An entry is the file's
 * events as the reader batched them, keyed by path and symbol and checked against the
 * file's size, mtime and inode: all of them, or those a replay read before it stopped (a
 * later replay reads on from disk past them when it goes further). The cache holds
 * at most `maxEvents` events in all: a file that would go over it pushes out the least
 * recently replayed files (a worker that moves on to another window keeps the new one),
 * and a file over the bound alone is read from disk every time. The events are shared between runs and must not be mutated: nothing downstream
 * does (the replay driver reads them; the input checks copy a batch before leaving an
 * event out).
 */
const rawCache = {
  on: false,
  maxEvents: 0,
  events: 0,
  /** by path and symbol: a file's events, all of them (`complete`) or those a replay read before it stopped */
  files: new Map<string, {sig: string; batches: MarketEvent[][]; events: number; complete: boolean}>(),
  /** files (path, symbol, size:mtime:inode) whose head was found to hold the symbol (openReplay's check) */
  holds: new Set<string>(),
  /** files (path, symbol, tick, step, size:mtime:inode) whose head was found on the flags' grid (openReplaySource's check) */
  onGrid: new Set<string>(),
  /** replayDecodeMs */
  decodeMs: 0,
}

/** Turn the per-thread cache of decoded raw captures on (with its event bound) or off (emptied). */
export function cacheReplayInputs(on: boolean, maxEvents = 500_000): void {
  rawCache.on = on
  rawCache.maxEvents = on ? maxEvents : 0
  if (!on) {
    rawCache.holds.clear()
    rawCache.onGrid.clear()
  }
  // a lower bound (or off) lets the least recently replayed files go
  for (const [k, old] of rawCache.files) {
    if (rawCache.events <= rawCache.maxEvents) break
    rawCache.files.delete(k)
    rawCache.events -= old.events
  }
}

/**
 * Milliseconds this thread has spent reading files into the cache (read, decompressed,
 * decoded and packed: the time between a reader's resumptions and its yields, so not the
 * replay's own work on the events), summed since it started: a calibrate worker reports a
 * job's share (the pool's estimate of what a second decode of a window costs).
 */
export function replayDecodeMs(): number {
  return rawCache.decodeMs
}

/** How many files and events the cache holds (tests, figures). */
export function replayCacheStats(): {files: number; events: number} {
  return {files: rawCache.files.size, events: rawCache.events}
}

async function* rawFileBatches(path: string, symbol: string, bytes?: {read: number}): AsyncGenerator<MarketEvent[]> {
  const read = () => readRawBatches([path], {symbol, tickers: false, bytes})
  if (!rawCache.on) {
    yield* read()
    return
  }
  const st = statSync(path)
  const key = `${path}\u0000${symbol}`
  const sig = `${st.size}:${st.mtimeMs}:${st.ino}`
  let hit = rawCache.files.get(key)
  if (hit && hit.sig !== sig) {
    // the file changed since: forget the old events
    rawCache.files.delete(key)
    rawCache.events -= hit.events
    hit = undefined
  }
  if (hit) {
    // the most recently used last: the first in the map is the first to go
    rawCache.files.delete(key)
    rawCache.files.set(key, hit)
    yield* hit.batches
    if (hit.complete) {
      // the progress counts the file as read (its compressed size, as a read from disk would)
      if (bytes) bytes.read += st.size
      return
    }
    // only the part an earlier replay read (it stopped inside the file) is kept: the rest
    // comes from disk, past the events already given, and the kept part grows with it
  }
  let kept: MarketEvent[][] | undefined = hit ? [...hit.batches] : []
  let n = hit ? hit.events : 0
  if (hit) {
    rawCache.files.delete(key)
    rawCache.events -= hit.events
  }
  /** events of the file still to pass over (already given from the kept part) */
  let skip = n
  // the first replay already gets the kept (packed) events: the level memo keys on them
  const keep = (raw: MarketEvent[]): MarketEvent[] => {
    const b = kept ? packBatch(raw) : raw
    if (kept) {
      n += b.length
      // over the bound: the least recently used files go first; a file over it alone is not kept
      for (const [k, old] of rawCache.files) {
        if (rawCache.events + n <= rawCache.maxEvents) break
        rawCache.files.delete(k)
        rawCache.events -= old.events
      }
      if (rawCache.events + n > rawCache.maxEvents) kept = undefined
      else kept.push(b)
    }
    return b
  }
  const src = read()
  /** the reader: still open (the replay stopped inside the file), read to its end, or failed */
  let end = 'open' as 'open' | 'read' | 'failed'
  let t = performance.now()
  try {
    for (;;) {
      let r: IteratorResult<MarketEvent[]>
      try {
        r = await src.next()
      } catch (error) {
        end = 'failed'
        throw error
      }
      if (r.done) {
        end = 'read'
        break
      }
      let raw = r.value
      if (skip > 0) {
        if (raw.length <= skip) {
          skip -= raw.length
          continue
        }
        raw = raw.slice(skip)
        skip = 0
      }
      const b = keep(raw)
      rawCache.decodeMs += performance.now() - t
      yield b
      t = performance.now()
    }
  } finally {
    // (after a yield, the time since was the consumer's)
    if (end === 'open') t = performance.now()
    // a reader left open (the replay stopped inside the file: a window's duration, a refused
    // event) closes its file and decompressor
    if (end === 'open') await src.return(undefined)
    rawCache.decodeMs += performance.now() - t
    // what was read is kept, whole or the part read (a replay that stops at the same point,
    // as every point of a window with a duration does, then reads no file); never a failed read
    if (kept && (end === 'read' || (end === 'open' && n > 0))) {
      rawCache.files.set(key, {sig, batches: kept, events: n, complete: end === 'read'})
      rawCache.events += n
    }
  }
}

/** Separates the level strings of a packed side; a level holding it is not packed. */
const SEP = ' '

/**
 * A book event as the cache keeps it: the same fields, its levels packed into one string
 * per side and unpacked, as fresh arrays, on every read. A worker keeps its windows'
 * events for the whole run, and as [price, qty] arrays they were most of its heap (about
 * 800 000 small arrays for the ETHUSDT windows), which every major GC marks again; a
 * string per side is one object to mark. The level memo (book/sync.ts) reads the levels
 * once per event and grid, so later points never unpack them.
 */
class PackedBook {
  readonly #bids: string
  readonly #asks: string
  constructor(ev: DepthEvent | SnapshotEvent, bids: string, asks: string) {
    for (const k in ev) if (k !== 'bids' && k !== 'asks') (this as Record<string, unknown>)[k] = (ev as unknown as Record<string, unknown>)[k]
    this.#bids = bids
    this.#asks = asks
  }

  get bids(): Level[] {
    return unpack(this.#bids)
  }

  get asks(): Level[] {
    return unpack(this.#asks)
  }
}

/** The side's strings joined by SEP; null when a level is not two strings free of SEP (then the event is kept as it is). */
function pack(levels: unknown): string | null {
  if (!Array.isArray(levels)) return null
  let out = ''
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i] as unknown
    if (!Array.isArray(l) || l.length !== 2) return null
    const [p, q] = l as unknown[]
    if (typeof p !== 'string' || typeof q !== 'string' || p.includes(SEP) || q.includes(SEP)) return null
    out += i === 0 ? p + SEP + q : SEP + p + SEP + q
  }
  return out
}

function unpack(packed: string): Level[] {
  if (packed === '') return []
  const f = packed.split(SEP)
  const out: Level[] = new Array(f.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = [f[2 * i], f[2 * i + 1]]
  return out
}

/** The batch with its book events packed (a new array; trades and tickers as they are). */
function packBatch(b: MarketEvent[]): MarketEvent[] {
  const out = new Array<MarketEvent>(b.length)
  for (let i = 0; i < b.length; i++) {
    const ev = b[i]
    out[i] = ev
    if (ev.kind !== 'depth' && ev.kind !== 'snapshot') continue
    const bids = pack(ev.bids)
    const asks = bids === null ? null : pack(ev.asks)
    if (bids !== null && asks !== null) out[i] = new PackedBook(ev, bids, asks) as unknown as MarketEvent
  }
  return out
}

/** The symbol a replay input names: a Tardis recording's meta.json, a raw capture's first messages (or file name). */
export async function detectReplaySymbol(path: string, want?: string): Promise<string | undefined> {
  const st = await stat(path).catch(() => undefined)
  if (!st) throw new UsageError('E_REPLAY', `--replay ${path}: no such file or folder`)
  if (isTardisPath(path, st.isDirectory())) {
    const metaPath = await findMeta(path, want)
    return metaPath ? (await readMeta(metaPath)).symbol.toUpperCase() : undefined
  }
  return (await named(path, () => detectRawSymbol([path])))?.toUpperCase()
}

export interface OpenReplayOptions extends ReplaySourceOptions {
  symbol: string
  guard?: Omit<ReplayGuardOptions, 'symbol'>
  /** raw captures: `batches()`/`events()` include book tickers (`mm sim` serves them; never cached); default false */
  tickers?: boolean
}

export async function openReplay(paths: string[], opts: OpenReplayOptions): Promise<ReplaySource> {
  if (paths.length === 0) throw new UsageError('E_REPLAY', '--replay needs a path')
  const want = opts.symbol.toUpperCase()
  // the same file twice, an empty file, a .gz that is not gzip: refused before anything runs
  await checkReplayPaths(paths)
  const guard = newGuardStats()
  const guardOpts = {symbol: want, ...opts.guard}
  for (const p of paths) {
    const st = statOf(p)
    if (!st) throw new UsageError('E_REPLAY', `--replay ${p}: no such file or folder`)
    // a raw capture names its symbol inside; compare before reading it all
    if (st.isFile() && kindOfName(basename(p)) === undefined) {
      // with the decoded-input cache on, a file already found to hold `want` (same size,
      // mtime and inode) is not read again: this check decompressed its head on every replay
      const known = rawCache.on ? `${p}\u0000${want}\u0000${st.size}:${st.mtimeMs}:${st.ino}` : undefined
      if (known !== undefined && rawCache.holds.has(known)) continue
      const got = (await named(p, () => detectRawSymbol([p])))?.toUpperCase()
      // a capture of several symbols is fine when it holds the wanted one (the others are skipped)
      if (got && got !== want && !(await named(p, () => holdsSymbol(p, want)))) {
        throw new UsageError('E_SYMBOL_MISMATCH', `--replay ${p} is a recording of ${got}, not of --symbol ${want}`, {suggestion: `run with --symbol ${got}, or replay a recording of ${want}`})
      }
      if (known !== undefined) rawCache.holds.add(known)
    }
  }
  const bytes = {read: 0, total: 0}
  const first = await named(paths[0], () => openReplaySource(paths[0], {...opts, bytes}))
  const raw = first.instrumentFrom !== 'meta' && !statSync(paths[0]).isDirectory() && kindOfName(basename(paths[0])) === undefined
  if (paths.length > 1 && !raw) throw new UsageError('E_REPLAY', 'several --replay paths are for raw captures; pass a Tardis recording as one folder')
  if (!raw) {
    for (const f of await listTardisFiles(await symbolFolder(paths[0], want), {includePartial: opts.includePartial})) bytes.total += (await stat(f.path)).size
    const batches = () => guardedBatches([{path: paths[0], batches: () => batched(first.events())}], guardOpts, guard)
    return {...first, guard, bytes, batches, events: () => flat(batches()), input: batches}
  }
  for (const p of paths) bytes.total += statSync(p).size
  // raw captures: one stream, in the order given (e.g. a day pair), each file checked
  // against the one before (order, overlap, gap); other symbols' lines skipped and counted.
  const batches = () =>
    guardedBatches(paths.map((p) => ({path: p, batches: () => (opts.tickers === true ? readRawBatches([p], {symbol: want, tickers: true, bytes}) : rawFileBatches(p, want, bytes))})), guardOpts, guard)
  // the replay loop: the lines, read by the driver's byte scanner, the same checks run by the
  // driver on what it read. The loop does not use book tickers: they are skipped after their
  // event type. (With the cache on, the decoded events are replayed from memory instead.)
  const input = () => (rawCache.on ? batches() : guardedLineInput(paths.map((p) => ({path: p, lines: () => readRawLineBatches([p], {symbol: want, tickers: false, bytes})})), guardOpts, guard))
  return {...first, events: () => flat(batches()), batches, guard, bytes, input}
}

/**
 * The replay loop's input for raw capture lines (per input, in order): the lines and the
 * guard the replay driver runs on them. `mm quote --replay` builds it from the files;
 * the benchmark from the same lines held in memory.
 */
export function guardedLineInput(inputs: {path: string; lines: () => AsyncIterable<LineBatch> | Iterable<LineBatch>}[], opts: ReplayGuardOptions, stats: ReplayGuardStats = newGuardStats()): {symbol: string; lines: AsyncIterable<LineBatch>; check: LineCheck} {
  const check = new ReplayGuard(opts, stats)
  return {symbol: opts.symbol.toUpperCase(), lines: guardedLines(inputs, check), check}
}

async function* flat(batches: AsyncIterable<MarketEvent[]>): AsyncGenerator<MarketEvent> {
  for await (const b of batches) yield* b
}
