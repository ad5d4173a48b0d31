/**
 * `mm record`: live depth (snapshot + diff updates), trades and optionally bookTicker of
 * one or more symbols into Tardis CSV files (RECORDING.md), rotated by UTC period.
 *
 * Exit semantics for the command: bad input (unwritable folder, unknown symbol) throws
 * UsageError (2) before anything is recorded; a venue that cannot be reached within the
 * retry budget throws VenueError (1); a stop by duration or signal resolves with the
 * summary after every file was closed cleanly.
 */
import {wallClock} from '../clock/clock.js'
import {setLongTimeout} from '../clock/long-timer.js'
import {constants} from 'node:fs'
import {access, rm, stat, writeFile} from 'node:fs/promises'
import {join, resolve} from 'node:path'
import type {Endpoints} from '../cli/endpoints.js'
import {MmError, UsageError, VenueError} from '../domain/errors.js'
import type {MarketEvent} from '../market/events.js'
import {LiveFeed} from '../venue/binance/live-feed.js'
import type {RetryPolicy} from '../venue/binance/http.js'
import {BinancePublicRest} from '../venue/binance/rest-public.js'
import type {StreamClientOptions, TradeStream} from '../venue/binance/ws.js'
import {TardisWriter} from './tardis-writer.js'
import {makeDirs} from '../fs/mkdirs.js'

export interface RecordOptions {
  symbols: string[]
  out: string
  /** stop after this long (ms); default: until the signal */
  durationMs?: number
  rotateMs?: number
  trades?: boolean
  ticker?: boolean
  tradeStream?: TradeStream
  depthStream?: string
  endpoints: Endpoints
  mmVersion: string
  signal?: AbortSignal
  /** called about every `progressEveryMs` (default 1 s) */
  onProgress?: (p: RecordProgress) => void
  progressEveryMs?: number
  onWarn?: (message: string) => void
  /** every event written (after the writer took it) */
  onEvent?: (ev: MarketEvent) => void
  retry?: Partial<RetryPolicy>
  ws?: Omit<StreamClientOptions, 'url'>
  /** push the gzip streams to disk (and rewrite meta.json) this often, ms; default 2000 */
  flushMs?: number
  /** a symbol whose book stays unsynced this long ends the run with exit 1, ms; default 60 000 */
  syncTimeoutMs?: number
  /** per open file, bytes buffered in memory before events are dropped; default 16 MiB */
  maxBufferBytes?: number
}

export interface RecordProgress {
  elapsedMs: number
  messages: number
  messagesPerSec: number
  rows: number
  bytes: number
  resyncs: number
  gaps: number
  reconnects: number
  dropped: number
  badFrames: number
}

export interface RecordSummary {
  symbols: string[]
  out: string
  startedAt: string
  elapsedMs: number
  stoppedBy: 'duration' | 'signal'
  messages: number
  rows: number
  bytes: number
  resyncs: number
  gaps: number
  reconnects: number
  /** venue frames that could not be used (malformed JSON, bad fields) */
  badFrames: number
  /** events dropped because the disk could not keep up */
  dropped: number
  /** wall time without a synced book, summed over symbols (includes the wait for the first sync), ms */
  unsyncedMs: number
  /** symbols whose book never synced */
  neverSynced: string[]
  /** true when the recording is not whole: any gap, resync, reconnect, bad frame, drop, or a book that never synced (exit 3) */
  holes: boolean
  files: string[]
  /** stopped by SIGINT/SIGTERM: ms from the signal to every file closed (the stop bound is 2 s) */
  stopMs?: number
}

/** The recording is not whole (exit 3): see RecordSummary.holes. */
export function hasHoles(s: Pick<RecordSummary, 'gaps' | 'resyncs' | 'reconnects' | 'badFrames' | 'dropped' | 'neverSynced'>): boolean {
  return s.gaps + s.resyncs + s.reconnects + s.badFrames + s.dropped > 0 || s.neverSynced.length > 0
}

/** Make sure `out` exists and is writable; UsageError (exit 2) naming it otherwise. */
export async function checkWritableDir(out: string): Promise<void> {
  try {
    makeDirs(out)
    await access(out, constants.W_OK)
    const probe = join(out, `.mm-write-probe-${process.pid}`)
    await writeFile(probe, '')
    await rm(probe, {force: true})
  } catch (err) {
    throw new UsageError('E_OUT', `--out ${out} is not a writable folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, {
      suggestion: 'pick a folder you can write to, e.g. --out recordings/',
    })
  }
}

export function parseSymbols(input: string[]): string[] {
  const out: string[] = []
  for (const part of input) {
    for (const s of part.split(',')) {
      const t = s.trim().toUpperCase()
      if (!t) continue
      if (!/^[A-Z0-9]{2,30}$/.test(t)) throw new UsageError('E_SYMBOL', `--symbol ${JSON.stringify(s.trim())} is not a symbol`, {suggestion: 'e.g. --symbol ETHUSDC or --symbol ETHUSDC,BTCUSDT'})
      if (!out.includes(t)) out.push(t)
    }
  }
  if (out.length === 0) throw new UsageError('E_SYMBOL', '--symbol is empty')
  return out
}

export async function record(opts: RecordOptions): Promise<RecordSummary> {
  const out = resolve(opts.out)
  await checkWritableDir(out)
  const startedMs = wallClock.now()
  const rest = new BinancePublicRest({baseUrl: opts.endpoints.rest, retry: opts.retry})
  let feed: LiveFeed | undefined
  const writers = new Map<string, TardisWriter>()
  try {
    const instruments = await rest.instruments(opts.symbols)
    if (opts.signal?.aborted) return emptySummary(opts, out, startedMs)
    let writeError: Error | undefined
    // after a drop the book file needs a fresh snapshot; the feed re-syncs when it can
    const requestResync = (symbol: string) => feed?.resync(symbol, 'the recorder dropped events (the disk could not keep up)')
    for (const inst of instruments) {
      writers.set(
        inst.symbol,
        new TardisWriter({
          root: out,
          symbol: inst.symbol,
          rotateMs: opts.rotateMs,
          trades: opts.trades !== false,
          ticker: opts.ticker === true,
          instrument: {tickSize: inst.spec.tickSize, stepSize: inst.spec.stepSize, minQty: inst.spec.minQty, minNotional: inst.spec.minNotional},
          mmVersion: opts.mmVersion,
          maxBufferBytes: opts.maxBufferBytes,
          onDrop: (symbol) => {
            opts.onWarn?.(`${symbol}: the disk cannot keep up; dropping events until a fresh snapshot`)
            requestResync(symbol)
          },
          onError: (e) => {
            writeError ??= e
          },
        }),
      )
    }
    feed = new LiveFeed({
      endpoints: opts.endpoints,
      instruments,
      rest,
      trades: opts.trades === false ? false : (opts.tradeStream ?? 'aggTrade'),
      ticker: opts.ticker === true,
      depthStream: opts.depthStream,
      ws: {giveUpAfter: opts.retry?.maxAttempts ?? 5, ...opts.ws},
      // the sync budget (one mechanism for every command): exit 1 with the reason
      syncBudgetMs: opts.syncTimeoutMs ?? 60_000,
    })
    const f = feed
    const wsUrls = [f.publicClient.url, ...(f.marketClient ? [f.marketClient.url] : [])]
    for (const w of writers.values()) w.setSource({rest: opts.endpoints.rest, ws: wsUrls})
    f.on('event', (ev) => {
      writers.get(ev.symbol)?.write(ev)
      opts.onEvent?.(ev)
    })
    f.on('gap', ({symbol}) => writers.get(symbol)?.noteGap())
    f.on('resync', ({symbol}) => writers.get(symbol)?.noteResync())
    f.on('reconnect', () => {
      for (const w of writers.values()) w.noteReconnect()
    })
    if (opts.onWarn) f.on('warn', opts.onWarn)
    f.on('bad', ({symbol}) => {
      if (symbol) writers.get(symbol)?.noteBadFrame()
    })

    // run until the duration, the signal, or a fatal error
    let stoppedBy: RecordSummary['stoppedBy'] = 'duration'
    let fatal: Error | undefined
    /** wall time of the stop signal */
    let signalAt: number | undefined
    const totals = () => {
      const st = f.stats()
      let rows = 0
      let bytes = 0
      for (const w of writers.values()) {
        const s = w.stats()
        rows += s.rows
        bytes += s.bytes
      }
      let dropped = 0
      for (const w of writers.values()) dropped += w.stats().dropped
      return {...st, rows, bytes, dropped}
    }
    await new Promise<void>((resolveRun) => {
      let done = false
      const finish = (by: RecordSummary['stoppedBy'], err?: Error) => {
        if (done) return
        done = true
        stoppedBy = by
        fatal = err
        durTimer?.clear()
        clearInterval(progTimer)
        clearInterval(errTimer)
        clearInterval(flushTimer)
        opts.signal?.removeEventListener('abort', onAbort)
        resolveRun()
      }
      const onAbort = () => {
        signalAt = wallClock.now()
        finish('signal')
      }
      const durTimer = opts.durationMs === undefined ? undefined : setLongTimeout(() => finish('duration'), opts.durationMs)
      const flushTimer = setInterval(() => {
        for (const w of writers.values()) w.flush()
      }, opts.flushMs ?? 2000)
      let lastMsgs = 0
      let lastT = wallClock.now()
      const progTimer = opts.onProgress
        ? setInterval(() => {
            const t = totals()
            const now = wallClock.now()
            const rate = ((t.messages - lastMsgs) * 1000) / Math.max(1, now - lastT)
            lastMsgs = t.messages
            lastT = now
            opts.onProgress!({elapsedMs: now - startedMs, messages: t.messages, messagesPerSec: rate, rows: t.rows, bytes: t.bytes, resyncs: t.resyncs, gaps: t.gaps, reconnects: t.reconnects, dropped: t.dropped, badFrames: t.badFrames})
          }, opts.progressEveryMs ?? 1000)
        : undefined
      const errTimer = setInterval(() => {
        // a write error (disk full, a file that exists) is not a venue error
        if (writeError) finish('signal', new MmError('E_WRITE', `writing the recording failed: ${writeError.message}`, {cause: writeError, suggestion: 'check the disk and --out'}))
      }, 200)
      if (opts.signal?.aborted) onAbort()
      opts.signal?.addEventListener('abort', onAbort, {once: true})
      f.on('fatal', (err) => finish('signal', err))
      f.start().catch((err: Error) => finish('signal', err))
    })
    const t = totals()
    await f.stop()
    const neverSynced = [...writers.values()].filter((w) => !w.everSynced).map((w) => w.symbol)
    feed = undefined
    const files: string[] = []
    let closeError: Error | undefined
    const closedStats = {dropped: 0, unsyncedMs: 0}
    for (const w of writers.values()) {
      try {
        const st = await w.close()
        files.push(...st.files)
        closedStats.dropped += st.dropped
        closedStats.unsyncedMs += st.unsyncedMs
      } catch (e) {
        closeError ??= e as Error
      }
    }
    writers.clear()
    if (fatal) throw fatal instanceof MmError ? fatal : new VenueError('E_VENUE', fatal.message, {cause: fatal})
    if (closeError) throw new MmError('E_WRITE', `writing the recording failed: ${closeError.message}`, {cause: closeError})
    let bytes = 0
    for (const file of files) bytes += await sizeOf(file)
    const base = {
      symbols: instruments.map((i) => i.symbol),
      out,
      startedAt: new Date(startedMs).toISOString(),
      elapsedMs: wallClock.now() - startedMs,
      stoppedBy,
      messages: t.messages,
      rows: t.rows,
      bytes,
      resyncs: t.resyncs,
      gaps: t.gaps,
      reconnects: t.reconnects,
      badFrames: t.badFrames,
      dropped: closedStats.dropped,
      unsyncedMs: closedStats.unsyncedMs,
      neverSynced,
      files,
    }
    return {...base, holes: hasHoles(base), ...(signalAt === undefined ? {} : {stopMs: wallClock.now() - signalAt})}
  } finally {
    if (feed) await feed.stop()
    for (const w of writers.values()) await w.close().catch(() => {})
    await rest.close()
  }
}

async function sizeOf(p: string): Promise<number> {
  try {
    return (await stat(p)).size
  } catch {
    return 0
  }
}

function emptySummary(opts: RecordOptions, out: string, startedMs: number): RecordSummary {
  return {symbols: opts.symbols, out, startedAt: new Date(startedMs).toISOString(), elapsedMs: wallClock.now() - startedMs, stoppedBy: 'signal', messages: 0, rows: 0, bytes: 0, resyncs: 0, gaps: 0, reconnects: 0, badFrames: 0, dropped: 0, unsyncedMs: 0, neverSynced: [...opts.symbols], holes: true, files: []}
}

/** One line for logs and cron mail. */
/** Display only (sizes, seconds): one decimal, always shown. */
function oneDecimal(x: number): string {
  const r = Math.round(x * 10)
  return `${Math.trunc(r / 10)}.${Math.abs(r % 10)}`
}

export function summaryLine(s: RecordSummary): string {
  const kib = oneDecimal(s.bytes / 1024)
  return `recorded ${s.symbols.join(',')} for ${oneDecimal(s.elapsedMs / 1000)}s: ${s.messages} messages, ${s.rows} rows, ${s.files.length} files, ${kib} KiB, ${s.resyncs} resyncs, ${s.gaps} gaps, ${s.reconnects} reconnects, ${s.badFrames} bad frames, ${s.dropped} dropped, ${oneDecimal(s.unsyncedMs / 1000)}s unsynced → ${s.out} (stopped by ${s.stoppedBy})${s.holes ? '; HOLES' : ''}`
}

/** What made a recording partial, for the exit-3 notice. */
export function holesText(s: RecordSummary): string {
  const parts: string[] = []
  if (s.neverSynced.length > 0) parts.push(`never synced: ${s.neverSynced.join(',')}`)
  if (s.gaps) parts.push(`${s.gaps} gaps`)
  if (s.resyncs) parts.push(`${s.resyncs} resyncs`)
  if (s.reconnects) parts.push(`${s.reconnects} reconnects`)
  if (s.badFrames) parts.push(`${s.badFrames} bad frames`)
  if (s.dropped) parts.push(`${s.dropped} dropped`)
  return parts.join(', ')
}

export function progressLine(p: RecordProgress): string {
  return `recording ${Math.round(p.elapsedMs / 1000)}s  ${Math.round(p.messagesPerSec)} msg/s  ${p.rows} rows  ${p.resyncs} resyncs  ${p.reconnects} reconnects  ${p.dropped} dropped  ${p.badFrames} bad  ${oneDecimal(p.bytes / 1024)} KiB`
}
