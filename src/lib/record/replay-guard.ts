/**
 * Replay input checks (docs/RELIABILITY.md, "Replay inputs"). One rule for every replay
 * (mm quote --replay, mm sim --replay):
 *
 * - the same file given twice (same path, link or copy of the same inode) → refused;
 * - an empty file, or a `.gz` that is not gzip → refused, naming the file;
 * - a file that cannot be read to its end (corrupt gzip, torn bytes) → refused, naming it;
 * - local time going backwards by more than `toleranceMs` (real captures have venue-time
 *   inversions of tens of ms: fine) → refused, naming the file and the event;
 * - the first event of a file earlier than the last of the previous file by more than the
 *   tolerance (files overlapping, or a day pair in reverse order) → refused, naming both;
 * - a gap longer than `maxGapMs` between consecutive events (two captures days apart) →
 *   refused, naming the file and the gap;
 * - lines of other symbols → skipped and counted (`otherSymbols`), and said by the caller.
 *
 * Every refusal is a UsageError (exit 2). The checks cost a few comparisons per event; on
 * raw captures they run in the replay driver's line loop on what the byte scanner read.
 */
import {closeSync, openSync, readSync, realpathSync, statSync} from 'node:fs'
import {basename} from 'node:path'
import {MmError, UsageError} from '../domain/errors.js'
import type {MarketEvent} from '../market/events.js'
import type {LineBatch, LineCheck} from '../market/lines.js'

export interface ReplayGuardOptions {
  /** the replayed symbol; events of other symbols are skipped and counted */
  symbol: string
  /** local time may go back this much without a refusal, ms; default 1000 */
  toleranceMs?: number
  /** the longest quiet stretch between consecutive events, ms; default 6 h */
  maxGapMs?: number
}

export interface ReplayGuardStats {
  events: number
  /** events of other symbols, skipped */
  otherSymbols: number
  /** events earlier than the latest seen, within the tolerance (passed on) */
  inversions: number
  /** the largest backwards step seen within the tolerance, µs */
  maxInversionUs: number
}

export const DEFAULT_REPLAY_TOLERANCE_MS = 1000
export const DEFAULT_REPLAY_MAX_GAP_MS = 6 * 3600_000

export function newGuardStats(): ReplayGuardStats {
  return {events: 0, otherSymbols: 0, inversions: 0, maxInversionUs: 0}
}

/** Refuse a list of replay paths that names one file twice, an empty file, or a `.gz` that is not gzip. */
export async function checkReplayPaths(paths: string[]): Promise<void> {
  const seen = new Map<string, string>()
  for (const p of paths) {
    // synchronous: a few local metadata calls, made once per replay, where a thread-pool
    // round trip each cost more than the call (mm calibrate opens a replay per job)
    let st
    try {
      st = statSync(p)
    } catch {
      throw new UsageError('E_REPLAY', `--replay ${p}: no such file or folder`)
    }
    let real = p
    try {
      // the system's realpath (as fs/promises' was): it follows a link before a `..` after it
      real = realpathSync.native(p)
    } catch {
      // as given
    }
    const key = `${st.dev}:${st.ino}`
    const prev = seen.get(key) ?? seen.get(real)
    if (prev !== undefined) throw new UsageError('E_REPLAY_DUPLICATE', `--replay ${p}: the same file as ${prev} (given twice)`, {suggestion: 'give each capture once, in time order'})
    seen.set(key, p)
    seen.set(real, p)
    if (!st.isFile()) continue
    if (st.size === 0) throw new UsageError('E_REPLAY_EMPTY', `--replay ${p}: the file is empty`)
    if (p.endsWith('.gz')) {
      const fd = openSync(p, 'r')
      try {
        const buf = Buffer.alloc(2)
        const bytesRead = readSync(fd, buf, 0, 2, 0)
        if (bytesRead < 2 || buf[0] !== 0x1f || buf[1] !== 0x8b) throw new UsageError('E_REPLAY_GZIP', `--replay ${p}: not a gzip file (bad header)`)
      } finally {
        closeSync(fd)
      }
    }
  }
}

function fmtSpan(us: number): string {
  const ms = us / 1000
  if (ms < 10_000) return `${Math.round(ms)} ms`
  if (ms < 3 * 3600_000) return `${Math.round(ms / 1000)} s`
  return `${Math.round(ms / 3600_000)} h`
}

function iso(us: number): string {
  const d = new Date(Math.floor(us / 1000))
  return Number.isNaN(d.getTime()) ? String(us) : d.toISOString()
}

/** A failure to read an input, named after it (exit 2); refusals and format errors pass as they are. */
function readError(path: string, error: unknown): unknown {
  if (error instanceof UsageError) return error
  if (error instanceof MmError && error.exitCode === 2) return error
  const msg = (error as Error)?.message ?? String(error)
  return new UsageError('E_REPLAY_READ', `--replay ${path}: cannot read: ${msg.includes(path) || msg.includes(basename(path)) ? msg : msg.split('\n')[0]}`, {cause: error})
}

/**
 * The checks of one replay, message by message: told where each input starts
 * (`beginFile`) and then each market message's receive time and whether it is of the
 * replayed symbol (`see`). The same object serves the event path (Tardis recordings,
 * `mm sim --replay`) and the line path (raw captures in `mm quote --replay`, where the
 * replay driver calls `see` with the time and symbol its byte scanner read: no JSON.parse).
 */
export class ReplayGuard implements LineCheck {
  readonly stats: ReplayGuardStats
  private readonly tolUs: number
  private readonly gapUs: number
  private maxT = Number.NEGATIVE_INFINITY
  private lastT = Number.NEGATIVE_INFINITY
  private path = ''
  private prevPath: string | undefined
  private first = true
  /** messages of the current input (all symbols), for the messages */
  private n = 0

  constructor(opts: Omit<ReplayGuardOptions, 'symbol'>, stats: ReplayGuardStats = newGuardStats()) {
    this.stats = stats
    this.tolUs = (opts.toleranceMs ?? DEFAULT_REPLAY_TOLERANCE_MS) * 1000
    this.gapUs = (opts.maxGapMs ?? DEFAULT_REPLAY_MAX_GAP_MS) * 1000
  }

  /** The next input (file or folder, in the order given) begins. */
  beginFile(path: string): void {
    if (this.path !== '') this.prevPath = this.path
    this.path = path
    this.first = true
    this.n = 0
  }

  /**
   * One market message at receive time `t` (µs); `mine`: of the replayed symbol. Returns
   * false for another symbol's message (skip it; counted); throws a UsageError (exit 2)
   * for a refusal.
   */
  see(t: number, mine: boolean): boolean {
    const n = ++this.n
    const stats = this.stats
    if (!mine) {
      stats.otherSymbols++
      return false
    }
    const maxT = this.maxT
    if (this.first) {
      this.first = false
      if (this.prevPath !== undefined && t < maxT - this.tolUs) {
        throw new UsageError('E_REPLAY_ORDER', `--replay ${this.path} starts at ${iso(t)}, ${fmtSpan(maxT - t)} before the end of ${this.prevPath}: the files overlap or are in reverse order`, {
          suggestion: 'give the captures once each, oldest first',
        })
      }
    }
    if (t < maxT) {
      if (maxT - t > this.tolUs) {
        throw new UsageError('E_REPLAY_ORDER', `--replay ${this.path}: event ${n} at ${iso(t)} is ${fmtSpan(maxT - t)} earlier than an event before it (tolerance ${fmtSpan(this.tolUs)})`, {
          suggestion: 'the input is out of order; sort it by local time, or raise replay.timeToleranceMs in the config',
        })
      }
      stats.inversions++
      if (maxT - t > stats.maxInversionUs) stats.maxInversionUs = maxT - t
    } else {
      if (this.lastT !== Number.NEGATIVE_INFINITY && t - maxT > this.gapUs) {
        throw new UsageError('E_REPLAY_GAP', `--replay ${this.path}: a gap of ${fmtSpan(t - maxT)} before event ${n} (${iso(maxT)} → ${iso(t)}), longer than ${fmtSpan(this.gapUs)}`, {
          suggestion: 'replay the captures separately, or raise replay.maxGapMs in the config',
        })
      }
      this.maxT = t
    }
    this.lastT = t
    stats.events++
    return true
  }
}

/**
 * The events of several inputs (each a file or a recording folder, in the order given)
 * as one checked stream of batches. `stats` is filled while reading.
 */
export async function* guardedBatches(
  inputs: {path: string; batches: () => AsyncIterable<MarketEvent[]>}[],
  opts: ReplayGuardOptions,
  stats: ReplayGuardStats = newGuardStats(),
): AsyncGenerator<MarketEvent[]> {
  const want = opts.symbol.toUpperCase()
  const guard = new ReplayGuard(opts, stats)
  for (const input of inputs) {
    guard.beginFile(input.path)
    for await (const batch of readInput(input.path, input.batches())) {
      let out: MarketEvent[] | undefined
      for (let i = 0; i < batch.length; i++) {
        const ev = batch[i]
        if (!guard.see(ev.localTs, ev.symbol === want || ev.symbol.toUpperCase() === want)) {
          out ??= batch.slice(0, i)
          continue
        }
        out?.push(ev)
      }
      const b = out ?? batch
      if (b.length > 0) yield b
    }
  }
}

/**
 * One input's items, a failure to read it named after it (readError). Left before its end
 * (a replay's duration, a refused event), the reader is told to close its file and
 * decompressor; its own failure to close is not the replay's, which already ended or
 * failed for its own reason.
 */
async function* readInput<T>(path: string, src: AsyncIterable<T> | Iterable<T>): AsyncGenerator<T> {
  const it: AsyncIterator<T> | Iterator<T> = Symbol.asyncIterator in src ? src[Symbol.asyncIterator]() : src[Symbol.iterator]()
  let ended = false
  try {
    for (;;) {
      let r: IteratorResult<T>
      try {
        r = await it.next()
      } catch (error) {
        ended = true
        throw readError(path, error)
      }
      if (r.done) {
        ended = true
        return
      }
      yield r.value
    }
  } finally {
    if (!ended) {
      try {
        await it.return?.()
      } catch {
        // (above)
      }
    }
  }
}

/**
 * The lines of several raw captures (in the order given) for the replay driver, with the
 * guard that checks them: the driver calls `guard.see` for each market message it reads
 * (its receive time from the reader's decoder, its symbol from the byte scanner), so the
 * rules are those of `guardedBatches` without a JSON.parse per line. The generator tells
 * the guard where each input begins; a failure to read an input is named after it.
 */
export async function* guardedLines(inputs: {path: string; lines: () => AsyncIterable<LineBatch> | Iterable<LineBatch>}[], guard: ReplayGuard): AsyncGenerator<LineBatch> {
  for (const input of inputs) {
    guard.beginFile(input.path)
    yield* readInput(input.path, input.lines())
  }
}
