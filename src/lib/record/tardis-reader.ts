/**
 * Tardis CSV reader (RECORDING.md): streams `incremental_book_L2`, `trades` and
 * `book_ticker` files (plain or `.gz`) as MarketEvents.
 *
 * - Book rows of one venue message share `local_timestamp`: consecutive rows with the same
 *   (symbol, local_timestamp, is_snapshot) become one DepthEvent, or one SnapshotEvent for
 *   an `is_snapshot=true` run (a new snapshot run replaces the whole book).
 * - A folder (searched recursively) or a list of files is merged in `local_timestamp`
 *   order; on equal times book comes before trades before ticker. Files of one kind in one
 *   symbol folder are read one after another in time order of their names.
 * - Headers and rows are validated; errors name the file and the line.
 * - `*.partial` files (still being written, or torn by a crash) are skipped when scanning a
 *   folder and refused when named, unless `includePartial` is set; then a truncated gzip
 *   tail and a torn last line are tolerated.
 */
import {createReadStream} from 'node:fs'
import {readdir, stat} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {constants as zc, createGunzip} from 'node:zlib'
import {parse} from 'csv-parse'
import {UsageError} from '../domain/errors.js'
import type {Level, MarketEvent} from '../market/events.js'
import type {ByteCount} from '../market/lines.js'
import type {RecordKind} from './meta.js'
import {TARDIS_HEADERS} from './tardis-writer.js'

export interface TardisReadOptions {
  /** read `*.partial` files too (torn tails tolerated) */
  includePartial?: boolean
  /** keep only this symbol's rows (upper case compare) */
  symbol?: string
  /** only these kinds (default all found) */
  kinds?: RecordKind[]
  /** add the bytes read from the files here (a replay's progress) */
  bytes?: ByteCount
}

export interface TardisFile {
  path: string
  kind: RecordKind
  partial: boolean
  /** files with the same key form one time-ordered sequence */
  sequence: string
  /** sort key within the sequence */
  order: string
}

const KIND_ORDER: Record<RecordKind, number> = {book: 0, trades: 1, ticker: 2}

function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`
}

/**
 * The shell command that recovers a killed recorder's `.partial` file as a whole one: its
 * rows up to the torn end, whose last line a kill leaves cut short (a row of 7 columns the
 * replay refuses, or a price or amount cut to another number it would take) is left out.
 * The `echo` ends the text with one more newline, so the last line awk drops is either that
 * empty line (the file ended on a whole row) or the torn row. With no path: FILE placeholders.
 */
export function partialRecovery(partial?: string): string {
  const [from, to] = partial === undefined ? ['FILE.partial', 'FILE'] : [shellWord(partial), shellWord(partial.replace(/\.partial$/, ''))]
  return `{ gzip -dc ${from}; echo; } | awk 'NR > 1 { print prev } { prev = $0 }' | gzip > ${to}`
}

/** Kind from a file name: mm's `<stem>.<kind>.csv[.gz]` or Tardis' `…incremental_book_L2…` names. */
export function kindOfName(name: string): RecordKind | undefined {
  const n = name.replace(/\.partial$/, '')
  if (!/\.csv(\.gz)?$/.test(n)) return undefined
  if (/\.book\.csv|incremental_book_l2/i.test(n)) return 'book'
  if (/\.ticker\.csv|book_ticker/i.test(n)) return 'ticker'
  if (/\.trades\.csv|(^|[_.-])trades([_.-]|$)/i.test(n)) return 'trades'
  return undefined
}

/** Stems `HH`, `HH-MM`, `HH-MM-SS[-n]` sort by time; anything else by name. */
function orderKey(path: string): string {
  const name = basename(path)
  const m = /^(\d{2})(?:-(\d{2}))?(?:-(\d{2}))?(?:-(\d+))?\./.exec(name)
  const date = basename(dirname(path))
  if (!m) return `${date}/${name}`
  return `${date}/${m[1]}${m[2] ?? '00'}${m[3] ?? '00'}-${(m[4] ?? '1').padStart(6, '0')}/${name}`
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, {withFileTypes: true})
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) await walk(p, out)
    else if (e.isFile()) out.push(p)
  }
}

/**
 * The `.partial` data files inside the folders given (files named directly are not
 * looked at): a folder replay skips them, so a run killed before closing its files is
 * replayed without its last period unless it is said.
 */
export async function partialFilesIn(paths: string[]): Promise<string[]> {
  const out: string[] = []
  for (const p of paths) {
    const st = await stat(p).catch(() => undefined)
    if (!st?.isDirectory()) continue
    const all: string[] = []
    await walk(p, all)
    for (const f of all) if (f.endsWith('.partial') && kindOfName(basename(f)) !== undefined) out.push(f)
  }
  return out.sort()
}

/** Resolve files and folders into classified data files. */
export async function listTardisFiles(paths: string | string[], opts: TardisReadOptions = {}): Promise<TardisFile[]> {
  const list = Array.isArray(paths) ? paths : [paths]
  const out: TardisFile[] = []
  for (const p of list) {
    let st
    try {
      st = await stat(p)
    } catch {
      throw new UsageError('E_RECORDING', `${p}: no such file or folder`)
    }
    if (st.isDirectory()) {
      const files: string[] = []
      await walk(p, files)
      for (const f of files) {
        const kind = kindOfName(basename(f))
        if (!kind) continue
        const partial = f.endsWith('.partial')
        if (partial && !opts.includePartial) continue
        out.push(classify(f, kind, partial))
      }
    } else {
      const kind = kindOfName(basename(p))
      if (!kind) throw new UsageError('E_RECORDING', `${p}: not a recording file (expected *.book|trades|ticker.csv[.gz] or a Tardis file name)`)
      const partial = p.endsWith('.partial')
      if (partial && !opts.includePartial) {
        throw new UsageError('E_RECORDING', `${p}: a .partial file is still being written or was torn by a crash`, {suggestion: `wait for the recorder to close it; if it was killed, its rows up to the last flush can be recovered: ${partialRecovery(p)} (gzip warns of the torn end), then remove the .partial`})
      }
      out.push(classify(p, kind, partial))
    }
  }
  const kinds = opts.kinds
  return out.filter((f) => !kinds || kinds.includes(f.kind)).sort((a, b) => (a.sequence < b.sequence ? -1 : a.sequence > b.sequence ? 1 : a.order < b.order ? -1 : a.order > b.order ? 1 : 0))
}

function classify(path: string, kind: RecordKind, partial: boolean): TardisFile {
  // mm layout: <root>/<SYMBOL>/<date>/<stem>.<kind>.csv.gz → one sequence per symbol folder
  return {path, kind, partial, sequence: `${dirname(dirname(path))}\u0000${kind}`, order: orderKey(path)}
}

// ---- row validation helpers (no regex on the per-row path) ---------------------------

function isDecimal(s: string): boolean {
  const n = s.length
  if (n === 0) return false
  let dot = false
  let digits = 0
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c === 46) {
      if (dot) return false
      dot = true
    } else if (c >= 48 && c <= 57) digits++
    else return false
  }
  return digits > 0
}

function parseTs(s: string): number {
  const n = s.length
  if (n === 0 || n > 17) return -1
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) return -1
  }
  return Number(s)
}

class RowError extends Error {}

/**
 * Stream the events of one file. Book rows are grouped per message; throws UsageError
 * naming `file:line` on a bad header or row.
 */
export async function* readTardisFile(path: string, kind?: RecordKind, opts: TardisReadOptions = {}): AsyncGenerator<MarketEvent> {
  const k = kind ?? kindOfName(basename(path))
  if (!k) throw new UsageError('E_RECORDING', `${path}: cannot tell the data kind from the name`)
  const partial = path.endsWith('.partial')
  const gz = /\.gz(\.partial)?$/.test(path)
  const src = createReadStream(path)
  const bytes = opts.bytes
  if (bytes) src.on('data', (chunk) => (bytes.read += chunk.length))
  const parser = parse({relax_column_count: true, skip_empty_lines: true, info: true})
  if (gz) {
    const gunzip = createGunzip(partial ? {finishFlush: zc.Z_SYNC_FLUSH} : {})
    src.on('error', (e) => parser.destroy(e))
    gunzip.on('error', (e) => parser.destroy(new UsageError('E_RECORDING', `${path}: not a whole gzip file (${e.message})`, {suggestion: 'a torn file: the recorder was killed before closing it'})))
    src.pipe(gunzip).pipe(parser)
  } else {
    src.on('error', (e) => parser.destroy(e))
    src.pipe(parser)
  }
  const symFilter = opts.symbol?.toUpperCase()
  const want = TARDIS_HEADERS[k]
  let headerSeen = false
  let pendingErr: UsageError | undefined
  // book grouping state
  let gSym = ''
  let gLocal = -1
  let gSnap = false
  let gTs = 0
  let gBids: Level[] = []
  let gAsks: Level[] = []
  const flush = (): MarketEvent | undefined => {
    if (gLocal < 0) return undefined
    const ev: MarketEvent = gSnap
      ? {kind: 'snapshot', symbol: gSym, ts: gTs, localTs: gLocal, bids: gBids, asks: gAsks}
      : {kind: 'depth', symbol: gSym, ts: gTs, localTs: gLocal, bids: gBids, asks: gAsks}
    gLocal = -1
    gBids = []
    gAsks = []
    return ev
  }
  try {
    for await (const item of parser as AsyncIterable<{record: string[]; info: {lines: number}}>) {
      const r = item.record
      const line = item.info.lines
      if (pendingErr) throw pendingErr
      if (!headerSeen) {
        headerSeen = true
        const got = r.join(',')
        if (got !== want) throw new UsageError('E_RECORDING', `${path}:${line}: header is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`)
        continue
      }
      try {
        if (r.length !== 8) throw new RowError(`expected 8 columns, got ${r.length}`)
        const sym = r[1]
        if (symFilter && sym.toUpperCase() !== symFilter) continue
        const ts = parseTs(r[2])
        const localTs = parseTs(r[3])
        if (ts < 0) throw new RowError(`timestamp ${JSON.stringify(r[2])} is not an integer of µs`)
        if (localTs < 0) throw new RowError(`local_timestamp ${JSON.stringify(r[3])} is not an integer of µs`)
        if (k === 'book') {
          const snap = r[4] === 'true' ? true : r[4] === 'false' ? false : undefined
          if (snap === undefined) throw new RowError(`is_snapshot ${JSON.stringify(r[4])} is not true/false`)
          const side = r[5]
          if (side !== 'bid' && side !== 'ask') throw new RowError(`side ${JSON.stringify(side)} is not bid/ask`)
          if (!isDecimal(r[6])) throw new RowError(`price ${JSON.stringify(r[6])} is not a decimal`)
          if (!isDecimal(r[7])) throw new RowError(`amount ${JSON.stringify(r[7])} is not a decimal`)
          if (gLocal >= 0 && (localTs !== gLocal || snap !== gSnap || sym !== gSym)) {
            const ev = flush()
            if (ev) yield ev
          }
          if (gLocal < 0) {
            gLocal = localTs
            gSnap = snap
            gSym = sym
            gTs = ts
          }
          if (side === 'bid') gBids.push([r[6], r[7]])
          else gAsks.push([r[6], r[7]])
        } else if (k === 'trades') {
          const side = r[5]
          if (side !== 'buy' && side !== 'sell') throw new RowError(`side ${JSON.stringify(side)} is not buy/sell`)
          if (r[4] === '') throw new RowError('id is empty')
          if (!isDecimal(r[6])) throw new RowError(`price ${JSON.stringify(r[6])} is not a decimal`)
          if (!isDecimal(r[7])) throw new RowError(`amount ${JSON.stringify(r[7])} is not a decimal`)
          yield {kind: 'trade', symbol: sym, ts, localTs, id: r[4], side, price: r[6], qty: r[7]}
        } else {
          for (let i = 4; i < 8; i++) if (r[i] !== '' && !isDecimal(r[i])) throw new RowError(`${want.split(',')[i]} ${JSON.stringify(r[i])} is not a decimal`)
          yield {kind: 'ticker', symbol: sym, ts, localTs, askQty: r[4], askPrice: r[5], bidPrice: r[6], bidQty: r[7]}
        }
      } catch (err) {
        if (!(err instanceof RowError)) throw err
        const ue = new UsageError('E_RECORDING', `${path}:${line}: ${err.message}`)
        // a .partial file may end in a torn row: only an error if more rows follow
        if (partial) pendingErr = ue
        else throw ue
      }
    }
  } catch (err) {
    if (err instanceof UsageError) throw err
    const e = err as Error & {code?: string; lines?: number}
    if (e.code?.startsWith('CSV_')) throw new UsageError('E_RECORDING', `${path}:${e.lines ?? '?'}: ${e.message}`)
    throw new UsageError('E_RECORDING', `${path}: ${e.message}`)
  }
  if (!headerSeen) throw new UsageError('E_RECORDING', `${path}: empty file, expected the header ${JSON.stringify(want)}`)
  const last = flush()
  if (last) yield last
}

async function* sequence(files: TardisFile[], opts: TardisReadOptions): AsyncGenerator<MarketEvent> {
  for (const f of files) yield* readTardisFile(f.path, f.kind, opts)
}

/**
 * Read files and/or folders as one MarketEvent stream in `local_timestamp` order
 * (ties: book, trades, ticker).
 */
export async function* readTardis(paths: string | string[], opts: TardisReadOptions = {}): AsyncGenerator<MarketEvent> {
  const files = await listTardisFiles(paths, opts)
  if (files.length === 0) throw new UsageError('E_RECORDING', `no recording files in ${Array.isArray(paths) ? paths.join(', ') : paths}${opts.includePartial ? '' : ' (.partial files are ignored)'}`)
  const seqs = new Map<string, TardisFile[]>()
  for (const f of files) {
    const s = seqs.get(f.sequence)
    if (s) s.push(f)
    else seqs.set(f.sequence, [f])
  }
  const iters = [...seqs.values()].map((fs) => ({it: sequence(fs, opts), rank: KIND_ORDER[fs[0].kind], head: undefined as MarketEvent | undefined, done: false}))
  try {
    for (const s of iters) {
      const r = await s.it.next()
      if (r.done) s.done = true
      else s.head = r.value
    }
    for (;;) {
      let best: (typeof iters)[number] | undefined
      for (const s of iters) {
        if (s.done) continue
        if (!best || s.head!.localTs < best.head!.localTs || (s.head!.localTs === best.head!.localTs && s.rank < best.rank)) best = s
      }
      if (!best) return
      const ev = best.head!
      const r = await best.it.next()
      if (r.done) best.done = true
      else best.head = r.value
      yield ev
    }
  } finally {
    for (const s of iters) if (!s.done) await s.it.return(undefined)
  }
}
