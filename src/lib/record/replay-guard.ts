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
 * Every refusal is a UsageError (exit 2). The checks cost a few comparisons per event.
 */
import {open, realpath, stat} from 'node:fs/promises'
import {basename} from 'node:path'
import {MmError, UsageError} from '../domain/errors.js'
import type {MarketEvent} from '../market/events.js'

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
    let st
    try {
      st = await stat(p)
    } catch {
      throw new UsageError('E_REPLAY', `--replay ${p}: no such file or folder`)
    }
    const real = await realpath(p).catch(() => p)
    const key = `${st.dev}:${st.ino}`
    const prev = seen.get(key) ?? seen.get(real)
    if (prev !== undefined) throw new UsageError('E_REPLAY_DUPLICATE', `--replay ${p}: the same file as ${prev} (given twice)`, {suggestion: 'give each capture once, in time order'})
    seen.set(key, p)
    seen.set(real, p)
    if (!st.isFile()) continue
    if (st.size === 0) throw new UsageError('E_REPLAY_EMPTY', `--replay ${p}: the file is empty`)
    if (p.endsWith('.gz')) {
      const fh = await open(p, 'r')
      try {
        const buf = Buffer.alloc(2)
        const {bytesRead} = await fh.read(buf, 0, 2, 0)
        if (bytesRead < 2 || buf[0] !== 0x1f || buf[1] !== 0x8b) throw new UsageError('E_REPLAY_GZIP', `--replay ${p}: not a gzip file (bad header)`)
      } finally {
        await fh.close()
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
  const tolUs = (opts.toleranceMs ?? DEFAULT_REPLAY_TOLERANCE_MS) * 1000
  const gapUs = (opts.maxGapMs ?? DEFAULT_REPLAY_MAX_GAP_MS) * 1000
  let maxT = Number.NEGATIVE_INFINITY
  let lastT = Number.NEGATIVE_INFINITY
  let prevPath: string | undefined
  for (const input of inputs) {
    let first = true
    let n = 0
    const it = input.batches()[Symbol.asyncIterator]()
    for (;;) {
      let r: IteratorResult<MarketEvent[]>
      try {
        r = await it.next()
      } catch (error) {
        if (error instanceof UsageError) throw error
        if (error instanceof MmError && error.exitCode === 2) throw error
        const msg = (error as Error)?.message ?? String(error)
        throw new UsageError('E_REPLAY_READ', `--replay ${input.path}: cannot read: ${msg.includes(input.path) || msg.includes(basename(input.path)) ? msg : msg.split('\n')[0]}`, {cause: error})
      }
      if (r.done) break
      const batch = r.value
      let out: MarketEvent[] | undefined
      for (let i = 0; i < batch.length; i++) {
        const ev = batch[i]
        n++
        if (ev.symbol !== want && ev.symbol.toUpperCase() !== want) {
          stats.otherSymbols++
          out ??= batch.slice(0, i)
          continue
        }
        const t = ev.localTs
        if (first) {
          first = false
          if (prevPath !== undefined && t < maxT - tolUs) {
            throw new UsageError('E_REPLAY_ORDER', `--replay ${input.path} starts at ${iso(t)}, ${fmtSpan(maxT - t)} before the end of ${prevPath}: the files overlap or are in reverse order`, {
              suggestion: 'give the captures once each, oldest first',
            })
          }
        }
        if (t < maxT) {
          if (maxT - t > tolUs) {
            throw new UsageError('E_REPLAY_ORDER', `--replay ${input.path}: event ${n} at ${iso(t)} is ${fmtSpan(maxT - t)} earlier than an event before it (tolerance ${fmtSpan(tolUs)})`, {
              suggestion: 'the input is out of order; sort it by local time, or raise replay.timeToleranceMs in the config',
            })
          }
          stats.inversions++
          if (maxT - t > stats.maxInversionUs) stats.maxInversionUs = maxT - t
        } else {
          if (lastT !== Number.NEGATIVE_INFINITY && t - maxT > gapUs) {
            throw new UsageError('E_REPLAY_GAP', `--replay ${input.path}: a gap of ${fmtSpan(t - maxT)} before event ${n} (${iso(maxT)} → ${iso(t)}), longer than ${fmtSpan(gapUs)}`, {
              suggestion: 'replay the captures separately, or raise replay.maxGapMs in the config',
            })
          }
          maxT = t
        }
        lastT = t
        stats.events++
        out?.push(ev)
      }
      const b = out ?? batch
      if (b.length > 0) yield b
    }
    prevPath = input.path
  }
}
