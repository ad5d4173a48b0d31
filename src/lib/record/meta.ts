/**
 * The `<stem>.meta.json` sidecar of a recording period (RECORDING.md): the instrument,
 * where the data came from, row counts, gaps/resyncs, and whether the files were closed
 * cleanly. Written when a period opens (`closed: false`) and rewritten when it closes;
 * every write is atomic (temp file + rename), so a reader never sees half a sidecar.
 */
import {readFile, rename, writeFile} from 'node:fs/promises'
import {UsageError} from '../domain/errors.js'

export type RecordKind = 'book' | 'trades' | 'ticker'

export interface RecordingMetaFile {
  /** file name within the folder (final name, without `.partial`) */
  file: string
  rows: number
  /** venue messages (a book message is several rows) */
  messages: number
}

export interface RecordingMeta {
  format: 'tardis-csv'
  formatVersion: 1
  exchange: string
  symbol: string
  /**
   * the venue field a book diff row's `timestamp` holds: 'E' (the event time, Tardis's
   * convention) in recordings of this version on; absent in older ones, whose diff rows hold
   * `T` (the transaction time, a few ms earlier). Readers need not care: either is venue time
   */
  bookTimestamp?: 'E'
  instrument?: {tickSize: string; stepSize: string; minQty: string; minNotional: string}
  source: {rest?: string; ws?: string[]}
  mmVersion: string
  /** rotation period, ms, and this period's bounds (ISO, UTC) */
  rotateMs: number
  periodStart: string
  periodEnd: string
  files: Partial<Record<RecordKind, RecordingMetaFile>>
  /** sequence gaps seen in the diff stream (each one leads to a resync) */
  gaps: number
  /** snapshots re-fetched after a gap or a reconnect (not counting the first) */
  resyncs: number
  /** WebSocket reconnects during the period */
  reconnects: number
  /** venue frames of this symbol that could not be used (malformed JSON, bad fields) */
  badFrames?: number
  /** events dropped because the disk could not keep up (followed by a resync) */
  dropped?: number
  /**
   * holes marked in the book file: the book was lost (gap, disconnect, drop) and a one-level
   * snapshot run at amount 0 (an empty book) was written; the next snapshot rows end it
   */
  holes?: number
  /** wall time in the period without a synced book (after a gap, a drop, a reconnect), ms */
  unsyncedMs?: number
  /** true once every data file was flushed, closed and renamed from `.partial` */
  closed: boolean
  /** first / last venue timestamps (µs) and local timestamps (µs) of rows in the period */
  firstTimestamp?: number
  lastTimestamp?: number
  firstLocalTimestamp?: number
  lastLocalTimestamp?: number
}

export async function writeMetaAtomic(path: string, meta: RecordingMeta): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`
  await writeFile(tmp, JSON.stringify(meta, null, 2) + '\n')
  await rename(tmp, path)
}

export async function readMeta(path: string): Promise<RecordingMeta> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new UsageError('E_RECORDING', `${path}: cannot read the meta sidecar: ${(err as Error).message}`)
  }
  let j: RecordingMeta
  try {
    j = JSON.parse(text) as RecordingMeta
  } catch {
    throw new UsageError('E_RECORDING', `${path}: the meta sidecar is not JSON`)
  }
  if (j?.format !== 'tardis-csv' || typeof j.symbol !== 'string') throw new UsageError('E_RECORDING', `${path}: not an mm recording meta sidecar (format/symbol missing)`)
  return j
}

/** The sidecar path for a data file `<dir>/<stem>.<kind>.csv[.gz][.partial]`. */
export function metaPathFor(dataFile: string): string | undefined {
  const m = /^(.*?)\.(book|trades|ticker)\.csv(\.gz)?(\.partial)?$/.exec(dataFile)
  return m ? `${m[1]}.meta.json` : undefined
}
