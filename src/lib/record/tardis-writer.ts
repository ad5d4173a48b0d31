/**
 * Tardis "downloadable CSV" writer (RECORDING.md) for one symbol.
 *
 * Layout: `<root>/<SYMBOL>/<YYYY-MM-DD>/<stem>.<kind>.csv.gz` plus `<stem>.meta.json`, where
 * the period is the UTC-aligned slice of `rotateMs` containing the row's local timestamp and
 * the stem is `HH` for whole-hour rotation, `HH-MM` for whole-minute rotation and
 * `HH-MM-SS` otherwise. When a period's files already exist (a second run in the same
 * hour), the stem becomes the run's start `HH-MM-SS` (then `-2`, `-3`, …): nothing is
 * ever overwritten.
 *
 * Files are written as `*.partial` and renamed when closed. Every book file starts with a
 * snapshot: the run's first snapshot, or on rotation a snapshot of the book as it stands,
 * rebuilt from the venue's own strings (so prices and amounts stay byte-exact).
 */
import {closeSync, createWriteStream, existsSync, openSync, unlinkSync, type WriteStream} from 'node:fs'
import {rename} from 'node:fs/promises'
import {join} from 'node:path'
import {constants as zc, createGzip, type Gzip} from 'node:zlib'
import {wallClock} from '../clock/clock.js'
import type {Level, MarketEvent, SnapshotEvent} from '../market/events.js'
import {StringBook} from '../market/string-book.js'
import {type RecordKind, type RecordingMeta, writeMetaAtomic} from './meta.js'
import {makeDirs} from '../fs/mkdirs.js'

export const TARDIS_HEADERS: Record<RecordKind, string> = {
  book: 'exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount',
  trades: 'exchange,symbol,timestamp,local_timestamp,id,side,price,amount',
  ticker: 'exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount',
}

export interface TardisWriterOptions {
  root: string
  symbol: string
  /** default 1 h */
  rotateMs?: number
  trades?: boolean
  ticker?: boolean
  exchange?: string
  instrument?: RecordingMeta['instrument']
  source?: RecordingMeta['source']
  mmVersion?: string
  /** write errors (disk full, …) */
  onError?: (err: Error) => void
  /**
   * most bytes queued in memory for one open file (gzip input + output not yet on disk)
   * before events are dropped instead of buffered; default 16 MiB. A drop invalidates the
   * book: depth is dropped too until the next snapshot (`onDrop` asks for one).
   */
  maxBufferBytes?: number
  /** the first drop after a clean stretch: the recorder asks the feed for a resync */
  onDrop?: (symbol: string) => void
  /** wall time, ms (tests) */
  now?: () => number
}

export interface WriterStats {
  rows: number
  messages: number
  /** events not written because the disk could not keep up (see maxBufferBytes) */
  dropped: number
  /** wall time without a synced book (before the first snapshot, after a gap or a drop), ms */
  unsyncedMs: number
  /** compressed bytes written to disk so far */
  bytes: number
  files: string[]
  periods: number
}


function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}

/** Date folder and file stem of a period starting at `startMs` (UTC). */
export function periodNames(startMs: number, rotateMs: number): {date: string; stem: string} {
  const d = new Date(startMs)
  const date = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`
  let stem = pad2(d.getUTCHours())
  if (rotateMs % 3_600_000 !== 0) stem += `-${pad2(d.getUTCMinutes())}`
  if (rotateMs % 60_000 !== 0) stem += `-${pad2(d.getUTCSeconds())}`
  return {date, stem}
}

/**
 * Rows are gathered into one string and handed to gzip in batches of about BATCH_CHARS:
 * one gzip write (one trip to zlib's thread) per batch instead of one per message, which
 * is what lets gzip keep up at the highest message rates and keeps the write queue, its
 * per-chunk objects and the garbage they leave, small.
 */
export const BATCH_CHARS = 64 * 1024

/** bound on the stems tried for one period (`HH-MM-SS`, then `-2` … ) before giving up on claiming one */
const MAX_STEM_TRIES = 1000

/** One data file of a period (exported for tests). */
export class KindFile {
  readonly gzip: Gzip
  readonly out: WriteStream
  rows = 0
  messages = 0
  error?: Error
  private readonly done: Promise<void>
  /** rows not yet handed to gzip (at most BATCH_CHARS, pushed on every flush) */
  private batch = ''

  constructor(
    readonly finalPath: string,
    readonly name: string,
    header: string,
    onError: (e: Error) => void,
    /** the `.partial` file already opened exclusively (the period's stem claimed), else opened here */
    fd?: number,
  ) {
    this.out = fd === undefined ? createWriteStream(`${finalPath}.partial`, {flags: 'wx'}) : createWriteStream(`${finalPath}.partial`, {fd})
    this.gzip = createGzip({level: 6})
    this.gzip.pipe(this.out)
    const fail = (e: Error) => {
      if (!this.error) {
        // a write error of a stream opened on an fd names no file (`ENOSPC: no space left on device, write`): name it
        const path = `${finalPath}.partial`
        if (!e.message.includes(path)) e.message = `${path}: ${e.message}`
        this.error = e
        onError(e)
      }
    }
    this.gzip.on('error', fail)
    this.out.on('error', fail)
    this.done = new Promise<void>((resolve) => {
      this.out.on('close', () => resolve())
    })
    this.gzip.write(header + '\n')
  }

  get bytes(): number {
    return this.out.bytesWritten
  }

  /** bytes held in memory past the batch: gzip input not yet compressed + output not yet written */
  get queued(): number {
    return this.gzip.writableLength + this.out.writableLength
  }

  private push(): void {
    if (this.batch.length === 0) return
    const b = this.batch
    this.batch = ''
    if (this.error || this.gzip.writableEnded) return
    this.gzip.write(b)
  }

  /** push everything written so far to disk as a complete deflate block (Z_SYNC_FLUSH) */
  flush(): void {
    this.push()
    if (this.error || this.gzip.writableEnded) return
    this.gzip.flush(zc.Z_SYNC_FLUSH)
  }

  write(chunk: string, rows: number): void {
    this.rows += rows
    this.messages++
    this.batch += chunk
    if (this.batch.length >= BATCH_CHARS) this.push()
  }

  async close(): Promise<void> {
    this.push()
    this.gzip.end()
    await this.done
    if (this.error) throw this.error
    await rename(`${this.finalPath}.partial`, this.finalPath)
  }
}

class Period {
  readonly files: Partial<Record<RecordKind, KindFile>> = {}
  readonly meta: RecordingMeta & {badFrames: number; dropped: number; unsyncedMs: number}
  readonly metaPath: string

  constructor(
    readonly dir: string,
    readonly stem: string,
    readonly start: number,
    kinds: RecordKind[],
    base: Omit<RecordingMeta, 'files' | 'periodStart' | 'periodEnd' | 'gaps' | 'resyncs' | 'reconnects' | 'closed' | 'badFrames' | 'dropped' | 'unsyncedMs'>,
    onError: (e: Error) => void,
    fds: Partial<Record<RecordKind, number>> = {},
  ) {
    for (const k of kinds) {
      const name = `${stem}.${k}.csv.gz`
      this.files[k] = new KindFile(join(dir, name), name, TARDIS_HEADERS[k], onError, fds[k])
    }
    this.metaPath = join(dir, `${stem}.meta.json`)
    this.meta = {
      ...base,
      periodStart: new Date(start).toISOString(),
      periodEnd: new Date(start + base.rotateMs).toISOString(),
      files: {},
      gaps: 0,
      resyncs: 0,
      reconnects: 0,
      badFrames: 0,
      dropped: 0,
      unsyncedMs: 0,
      closed: false,
    }
  }

  /** the meta as it stands, written to disk (atomic) */
  async saveMeta(): Promise<void> {
    await writeMetaAtomic(this.metaPath, this.snapshotMeta())
  }

  snapshotMeta(): RecordingMeta {
    const files: RecordingMeta['files'] = {}
    for (const [k, f] of Object.entries(this.files) as [RecordKind, KindFile][]) files[k] = {file: f.name, rows: f.rows, messages: f.messages}
    return {...this.meta, files}
  }

  note(ts: number, localTs: number): void {
    const m = this.meta
    if (m.firstTimestamp === undefined) {
      m.firstTimestamp = ts
      m.firstLocalTimestamp = localTs
    }
    m.lastTimestamp = ts
    m.lastLocalTimestamp = localTs
  }

  async close(): Promise<void> {
    const results = await Promise.allSettled(Object.values(this.files).map((f) => f!.close()))
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined
    const meta = this.snapshotMeta()
    meta.closed = !failed
    await writeMetaAtomic(this.metaPath, meta)
    if (failed) throw failed.reason
  }
}

export class TardisWriter {
  readonly symbol: string
  readonly rotateMs: number
  private readonly o: TardisWriterOptions
  private readonly kinds: RecordKind[]
  private readonly exchange: string
  private period?: Period
  private closing: Promise<void>[] = []
  private readonly book = new StringBook()
  /** files of retired periods, in period order; a period's paths are filled in once its files are closed */
  private closedFiles: string[][] = []
  private closedBytes = 0
  private totals = {rows: 0, messages: 0, periods: 0, dropped: 0, unsyncedMs: 0, badFrames: 0}
  /** the book file holds a whole book from its last snapshot on */
  private synced = false
  /** dropping until the next snapshot (after a drop) */
  private dropping = false
  private markMs: number
  /** wall time since which the book has not been synced (undefined while synced) */
  private unsyncedSince?: number
  private readonly maxBuffer: number
  private readonly now: () => number
  private metaWrite?: Promise<void>
  private pendingMeta?: Promise<void>
  private closed = false
  private errors: Error[] = []
  /** a period's folder could not be made: nothing more is written (the run ends with the error) */
  private folderFailed = false

  constructor(opts: TardisWriterOptions) {
    this.o = {...opts}
    this.symbol = opts.symbol.toUpperCase()
    this.rotateMs = opts.rotateMs ?? 3_600_000
    this.exchange = opts.exchange ?? 'binance-futures'
    this.kinds = ['book', ...(opts.trades === false ? [] : ['trades' as const]), ...(opts.ticker ? ['ticker' as const] : [])]
    this.maxBuffer = opts.maxBufferBytes ?? 16 * 1024 * 1024
    this.now = opts.now ?? (() => wallClock.now())
    this.markMs = this.now()
    this.unsyncedSince = this.markMs
  }

  /** How long the book has been without sync (0 while synced), ms. */
  unsyncedForMs(): number {
    return this.unsyncedSince === undefined ? 0 : Math.max(0, this.now() - this.unsyncedSince)
  }

  /** true once a snapshot was written */
  everSynced = false

  get badFrames(): number {
    return this.totals.badFrames
  }

  /** Add the time since the last mark to `unsyncedMs` while the book is not synced. */
  private account(): void {
    const now = this.now()
    const d = Math.max(0, now - this.markMs)
    this.markMs = now
    if (this.synced || d === 0) return
    this.totals.unsyncedMs += d
    if (this.period) this.period.meta.unsyncedMs += d
  }

  private setSynced(v: boolean): void {
    if (v === this.synced) return
    this.account()
    this.synced = v
    this.unsyncedSince = v ? undefined : this.markMs
  }

  /** The writer's current period folder and stem (for tests and progress). */
  get current(): {dir: string; stem: string} | undefined {
    return this.period ? {dir: this.period.dir, stem: this.period.stem} : undefined
  }

  stats(): WriterStats {
    const open = this.period ? Object.values(this.period.files) : []
    return {
      rows: this.totals.rows,
      messages: this.totals.messages,
      bytes: this.closedBytes + open.reduce((s, f) => s + f!.bytes, 0),
      files: this.closedFiles.flat(),
      periods: this.totals.periods,
      dropped: this.totals.dropped,
      unsyncedMs: this.totals.unsyncedMs + (this.synced || this.closed ? 0 : Math.max(0, this.now() - this.markMs)),
    }
  }

  /** Frames of this symbol the feed could not use (counted into the period's meta). */
  noteBadFrame(n = 1): void {
    this.totals.badFrames += n
    if (this.period) this.period.meta.badFrames += n
  }

  /**
   * Push every open file's data to disk (a complete deflate block, readable after a
   * crash) and rewrite the period's meta with the counts so far. Called every --flush.
   */
  flush(): void {
    if (this.closed || !this.period) return
    this.account()
    for (const f of Object.values(this.period.files)) f!.flush()
    if (!this.metaWrite) {
      const p = this.period
      this.metaWrite = (this.pendingMeta ?? Promise.resolve())
        .then(() => (p === this.period ? p.saveMeta() : undefined))
        .catch((e: Error) => {
          this.errors.push(e)
          this.o.onError?.(e)
        })
        .finally(() => {
          this.metaWrite = undefined
        })
    }
  }

  /** bytes held in memory by the open files */
  get queuedBytes(): number {
    return this.period ? Object.values(this.period.files).reduce((s, f) => s + f!.queued, 0) : 0
  }

  /** Where the data comes from (written into the meta of periods opened from now on). */
  setSource(source: RecordingMeta['source']): void {
    this.o.source = source
  }

  /**
   * The book is lost from now until the next snapshot (a gap, a disconnect, a drop): mark
   * the hole in the book file with a snapshot run of one level at amount 0, i.e. an empty
   * book, dated just after the last row written (its venue time, its receive time + 1 µs:
   * the book was not whole from the first message missed on; +1 keeps it out of that row's
   * group, and every later row is dated later). A replay (and any Tardis reader) then holds
   * no book across the hole, as the live feed did, instead of the last one, frozen, until the
   * resync's snapshot rows.
   */
  private markHole(): void {
    const p = this.period
    if (!p || !this.synced || !p.files.book || p.meta.lastTimestamp === undefined || p.meta.lastLocalTimestamp === undefined) return
    const price = this.book.bids.keys().next().value ?? this.book.asks.keys().next().value
    if (price === undefined) return
    this.writeBook(p, p.meta.lastTimestamp, p.meta.lastLocalTimestamp + 1, true, [[price, '0']], [])
    p.meta.holes = (p.meta.holes ?? 0) + 1
  }

  /** The book stream lost continuity: no rotation snapshot until the next snapshot event. */
  noteGap(): void {
    this.markHole()
    this.book.valid = false
    this.setSynced(false)
    if (this.period) this.period.meta.gaps++
  }

  noteResync(): void {
    if (this.period) this.period.meta.resyncs++
  }

  noteReconnect(): void {
    if (this.period) this.period.meta.reconnects++
  }

  /** Write one event; rotates first when its local time left the current period. */
  write(ev: MarketEvent): void {
    if (this.closed || this.folderFailed) return
    // cannot keep up: drop (and count) instead of buffering without bound; the book is
    // not whole after a dropped diff, so diffs stay dropped until the next snapshot
    if (this.period && (this.queuedBytes > this.maxBuffer || (this.dropping && ev.kind === 'depth'))) {
      this.totals.dropped++
      this.period.meta.dropped++
      if (!this.dropping) {
        this.dropping = true
        this.markHole()
        this.book.valid = false
        this.setSynced(false)
        this.o.onDrop?.(this.symbol)
      }
      return
    }
    if (ev.kind === 'snapshot') {
      this.dropping = false
      this.everSynced = true
      this.setSynced(true)
    }
    const localMs = Math.floor(ev.localTs / 1000)
    // periods never go backwards (a closed file is never reopened): a row stamped before
    // the open period — a snapshot dated by the buffered diff it bridges, arriving after
    // trades received later — is written into the open period with its own stamp
    if (!this.period || localMs >= this.period.start + this.rotateMs) {
      if (!this.rotate(localMs, ev)) return
    }
    const p = this.period!
    const ex = this.exchange
    const sym = this.symbol
    switch (ev.kind) {
      case 'snapshot': {
        this.book.reset(ev.bids, ev.asks)
        this.writeBook(p, ev.ts, ev.localTs, true, ev.bids, ev.asks)
        break
      }
      case 'depth': {
        if (this.book.valid) this.book.apply(ev.bids, ev.asks)
        // Tardis's convention: a diff row is dated by the message's event time E (not T)
        this.writeBook(p, ev.eventTs ?? ev.ts, ev.localTs, false, ev.bids, ev.asks)
        break
      }
      case 'trade': {
        const f = p.files.trades
        if (!f) return
        f.write(`${ex},${sym},${ev.ts},${ev.localTs},${ev.id},${ev.side},${ev.price},${ev.qty}\n`, 1)
        this.totals.rows++
        this.totals.messages++
        p.note(ev.ts, ev.localTs)
        break
      }
      case 'ticker': {
        const f = p.files.ticker
        if (!f) return
        f.write(`${ex},${sym},${ev.ts},${ev.localTs},${ev.askQty},${ev.askPrice},${ev.bidPrice},${ev.bidQty}\n`, 1)
        this.totals.rows++
        this.totals.messages++
        p.note(ev.ts, ev.localTs)
        break
      }
    }
  }

  private writeBook(p: Period, ts: number, localTs: number, snapshot: boolean, bids: Level[], asks: Level[]): void {
    const n = bids.length + asks.length
    // an empty snapshot (empty venue book) cannot be expressed in Tardis rows: nothing written
    if (n === 0) return
    const prefix = `${this.exchange},${this.symbol},${ts},${localTs},${snapshot ? 'true' : 'false'},`
    let s = ''
    for (const [price, qty] of bids) s += `${prefix}bid,${price},${qty}\n`
    for (const [price, qty] of asks) s += `${prefix}ask,${price},${qty}\n`
    p.files.book!.write(s, n)
    this.totals.rows += n
    this.totals.messages++
    p.note(ts, localTs)
  }

  private rotate(localMs: number, ev: MarketEvent): boolean {
    this.account()
    const old = this.period
    if (old) this.retire(old)
    const start = Math.floor(localMs / this.rotateMs) * this.rotateMs
    const names = periodNames(start, this.rotateMs)
    const dir = join(this.o.root, this.symbol, names.date)
    // Never overwrite, at the start or at a rotation: a period's stem already taken (a second
    // run in the same period, or another recorder writing into the same folder, which reaches
    // the same aligned stem at every rotation) gives way to this period's own first-row time
    // `HH-MM-SS`, then `-2`, `-3`, … The stem is claimed by creating its `.partial` files
    // exclusively, so two processes rotating at the same moment never both take it.
    try {
      mkdirSyncRecursive(dir)
    } catch (e) {
      // a folder that cannot be made (a file in its place, a full or read-only disk): a write
      // error like any other, which ends the run (it was thrown out of the feed's event
      // handler: an uncaught exception, a stack trace, no summary). The period before it is
      // closed (retired above); nothing more is written.
      this.period = undefined
      this.folderFailed = true
      this.errors.push(e as Error)
      this.o.onError?.(e as Error)
      return false
    }
    const d = new Date(localMs)
    const own = `${pad2(d.getUTCHours())}-${pad2(d.getUTCMinutes())}-${pad2(d.getUTCSeconds())}`
    let stem = names.stem
    let fds = this.claim(dir, stem)
    for (let i = 1; fds === undefined && i <= MAX_STEM_TRIES; i++) {
      stem = i === 1 ? own : `${own}-${i}`
      if (stem === names.stem) continue
      fds = this.claim(dir, stem)
    }
    const onError = (e: Error) => {
      this.errors.push(e)
      this.o.onError?.(e)
    }
    const p = new Period(
      dir,
      stem,
      start,
      this.kinds,
      {
        format: 'tardis-csv',
        formatVersion: 1,
        exchange: this.exchange,
        symbol: this.symbol,
        bookTimestamp: 'E',
        instrument: this.o.instrument,
        source: this.o.source ?? {},
        mmVersion: this.o.mmVersion ?? 'unknown',
        rotateMs: this.rotateMs,
      },
      onError,
      fds,
    )
    this.period = p
    this.totals.periods++
    this.pendingMeta = writeMetaAtomic(p.metaPath, p.snapshotMeta()).catch((e: Error) => onError(e))
    // each book file starts whole: re-emit the book unless this event is a snapshot itself
    if (old && ev.kind !== 'snapshot' && this.book.valid) {
      const {bids, asks} = this.book.levels()
      const localTs = ev.localTs
      this.writeBook(p, ev.kind === 'depth' ? ev.eventTs ?? ev.ts : ev.ts, localTs, true, bids, asks)
    }
    return true
  }

  /**
   * Claim a stem: none of its files or its meta exists, and each kind's `.partial` is created
   * exclusively now (`wx`). undefined when taken (what this call created is removed again).
   * Any other open error is left to the file stream, which reports it through onError.
   */
  private claim(dir: string, stem: string): Partial<Record<RecordKind, number>> | undefined {
    const base = (k: RecordKind) => join(dir, `${stem}.${k}.csv.gz`)
    if (existsSync(join(dir, `${stem}.meta.json`)) || this.kinds.some((k) => existsSync(base(k)))) return undefined
    const fds: Partial<Record<RecordKind, number>> = {}
    for (const k of this.kinds) {
      try {
        fds[k] = openSync(`${base(k)}.partial`, 'wx')
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') continue
        for (const [kk, fd] of Object.entries(fds) as [RecordKind, number][]) {
          closeSync(fd)
          try {
            unlinkSync(`${base(kk)}.partial`)
          } catch {
            // already gone: nothing to undo
          }
        }
        return undefined
      }
    }
    return fds
  }

  private retire(p: Period): void {
    const files = Object.values(p.files).map((f) => f!)
    const pending = (this.pendingMeta ?? Promise.resolve()).then(() => p.close())
    // periods close concurrently: the slot taken now keeps the list in period order, whichever closes first
    const slot: string[] = []
    this.closedFiles.push(slot)
    this.closing.push(
      pending.then(
        () => {
          for (const f of files) {
            slot.push(f.finalPath)
            this.closedBytes += f.bytes
          }
        },
        (e: Error) => {
          this.errors.push(e)
          this.o.onError?.(e)
        },
      ),
    )
  }

  /** Close every file (flush, valid gzip trailer, rename, meta closed=true). */
  async close(): Promise<WriterStats> {
    if (!this.closed) {
      this.account()
      this.closed = true
      await this.metaWrite
      if (this.period) this.retire(this.period)
      this.period = undefined
    }
    await Promise.all(this.closing)
    if (this.errors.length > 0) throw this.errors[0]
    return this.stats()
  }
}

function mkdirSyncRecursive(dir: string): void {
  // creating the folder is rare (once per day/period); it keeps write() synchronous
  if (!existsSync(dir)) makeDirs(dir)
}
