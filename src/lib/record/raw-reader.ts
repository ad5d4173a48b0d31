/**
 * Reader for raw captures in the hftbacktest collector format: one venue message a line,
 * `<local_ts> <json>`, gzip or plain text. Several files in sequence are one stream
 * (a day pair such as ethusdt_20240718.gz + ethusdt_20240719.gz).
 *
 * - `local_ts` unit is detected per file from the first line's digit count: 19 digits
 *   nanoseconds (2024 files), 16 microseconds (2023 files), 13 milliseconds.
 * - Combined-stream envelopes `{"stream","data"}` are unwrapped.
 * - `depthUpdate` → DepthEvent, the bare REST snapshot (`lastUpdateId`, no `stream`) →
 *   SnapshotEvent, `trade`/`aggTrade` → TradeEvent, `bookTicker` → TickerEvent. Other
 *   messages (markPrice, kline, ...) are skipped and counted in `stats.ignored`.
 * - The cryptofeed capture syntax (`<epoch_s.frac>: <json>`, `<url> -> <epoch_s>: <json>`,
 *   a first line holding the wss URL) is accepted too.
 * - A bad line throws RawFormatError naming the file and line number.
 *
 * Event times (`ts`) are the venue's `T` where present, else `E`, in µs.
 */
import {createReadStream} from 'node:fs'
import {open} from 'node:fs/promises'
import {basename} from 'node:path'
import {StringDecoder} from 'node:string_decoder'
import {createGunzip} from 'node:zlib'
import {MmError} from '../domain/errors.js'
import type {MarketEvent} from '../market/events.js'
import {MarketParseError, parseMarketPayload} from '../venue/binance/parse.js'
import type {ByteCount, LineBatch, LineDecoder} from '../market/lines.js'

export class RawFormatError extends MmError {
  readonly file: string
  readonly line: number
  constructor(file: string, line: number, message: string, cause?: unknown) {
    super('E_RAW_FORMAT', `${file}:${line}: ${message}`, {exitCode: 2, details: {file, line}, cause})
    this.file = file
    this.line = line
  }
}

export interface RawReadStats {
  files: number
  lines: number
  events: number
  /** skipped messages by event type (e.g. markPriceUpdate) */
  ignored: Record<string, number>
}

export interface RawReadOptions {
  /** filled while reading */
  stats?: RawReadStats
  /** symbol for bare snapshot lines (default: detected from the stream) */
  symbol?: string
  /**
   * false: leave bookTicker messages out without parsing them (a consumer that does not
   * use them, such as the replay loop, saves their JSON.parse); counted as ignored
   */
  tickers?: boolean
  /** add the bytes read from the files here (a replay's progress) */
  bytes?: ByteCount
}

export function newRawStats(): RawReadStats {
  return {files: 0, lines: 0, events: 0, ignored: {}}
}

/** Divisor turning the first column into µs, by its count of integer digits. */
type TsUnit = 'ns' | 'us' | 'ms' | 's'

function tsUnitOf(intDigits: number): TsUnit | undefined {
  if (intDigits >= 18 && intDigits <= 20) return 'ns'
  if (intDigits >= 15 && intDigits <= 17) return 'us'
  if (intDigits >= 12 && intDigits <= 14) return 'ms'
  if (intDigits >= 9 && intDigits <= 11) return 's'
  return undefined
}

/** Exact conversion of a timestamp token (digits, optional fraction) to integer µs. */
function toMicros(tok: string, unit: TsUnit): number {
  const dot = tok.indexOf('.')
  const int = dot < 0 ? tok : tok.slice(0, dot)
  const frac = dot < 0 ? '' : tok.slice(dot + 1)
  switch (unit) {
    case 'ns': return Number(int.slice(0, -3))
    case 'us': return Number(int)
    case 'ms': return Number(int) * 1000 + Number((frac + '000').slice(0, 3))
    case 's': return Number(int) * 1_000_000 + Number((frac + '000000').slice(0, 6))
  }
}

const TS_RE = /^\d+(\.\d+)?$/

async function isGzipFile(path: string): Promise<boolean> {
  if (path.endsWith('.gz')) return true
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(2)
    const {bytesRead} = await fh.read(buf, 0, 2, 0)
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b
  } finally {
    await fh.close()
  }
}

/** The lines of a (possibly gzipped) file, a chunk's worth at a time. */
async function* fileLineBatches(path: string, bytes?: ByteCount): AsyncGenerator<string[]> {
  const gz = await isGzipFile(path)
  const src = createReadStream(path, {highWaterMark: 1 << 18})
  const input = gz ? src.pipe(createGunzip({chunkSize: 1 << 18})) : src
  if (gz) src.on('error', (e) => input.destroy(e))
  // compressed bytes: counted as the file stream hands them to gunzip (a plain file: below)
  if (gz && bytes) src.on('data', (chunk) => (bytes.read += chunk.length))
  const plainBytes = gz ? undefined : bytes
  const decoder = new StringDecoder('utf8')
  let rest = ''
  try {
    for await (const chunk of input) {
      if (plainBytes) plainBytes.read += (chunk as Buffer).length
      const text = rest + decoder.write(chunk as Buffer)
      const lines = text.split('\n')
      rest = lines.pop() as string
      if (lines.length > 0) yield lines
    }
    rest += decoder.end()
    if (rest.length > 0) yield [rest]
  } finally {
    src.destroy()
  }
}

/** Symbol from a capture file name such as `ethusdt_20240718.gz` (undefined when absent). */
export function symbolFromFileName(path: string): string | undefined {
  const m = /^([a-z0-9]+)_\d{8}/i.exec(basename(path))
  return m ? m[1].toUpperCase() : undefined
}

/**
 * The symbol of a raw capture: the `s` field or stream name of the first message that
 * has one, else the file name. Reads only the head of the first file.
 */
export async function detectRawSymbol(paths: string[], maxLines = 1000): Promise<string | undefined> {
  if (paths.length === 0) return undefined
  let n = 0
  outer: for await (const lines of fileLineBatches(paths[0])) {
    for (const line of lines) {
      if (++n > maxLines) break outer
      const m = /"s":"([A-Za-z0-9]+)"/.exec(line) ?? /"stream":"([a-z0-9]+)@/.exec(line) ?? /symbol=([A-Za-z0-9]+)/.exec(line)
      if (m) return m[1].toUpperCase()
    }
  }
  return symbolFromFileName(paths[0])
}

/** Per-file parsing context. */
interface Ctx {
  file: string
  line: number
  unit: TsUnit | undefined
  symbol: string | undefined
  stats: RawReadStats
  skipTickers?: boolean
}

function fail(ctx: Ctx, msg: string, cause?: unknown): never {
  throw new RawFormatError(ctx.file, ctx.line, msg, cause)
}

/** Split one line into (timestamp token, json text); undefined for a cryptofeed URL header. */
function splitLine(ctx: Ctx, line: string): [string, string] | undefined {
  // cryptofeed REST line: "<url> -> <epoch_s>: <json>"
  const arrow = line.startsWith('http') ? line.indexOf(' -> ') : -1
  if (arrow > 0) {
    const m = /symbol=([A-Za-z0-9]+)/.exec(line.slice(0, arrow))
    if (m) ctx.symbol = m[1].toUpperCase()
    line = line.slice(arrow + 4)
  } else if (line.startsWith('ws')) {
    return undefined // cryptofeed header: the wss URL
  }
  const sp = line.indexOf(' ')
  if (sp <= 0) {
    // a Tardis CSV whose name does not say its kind (`ETHUSDC.csv.gz`) lands here as a raw capture
    if (/^exchange,symbol,timestamp,local_timestamp,/.test(line)) {
      fail(ctx, 'a Tardis CSV (its header says so) whose name does not say what it holds: name it <stem>.book.csv.gz, <stem>.trades.csv.gz or <stem>.ticker.csv.gz (or keep Tardis\'s incremental_book_L2 / trades / book_ticker name)')
    }
    fail(ctx, 'expected "<timestamp> <json>"')
  }
  let tok = line.slice(0, sp)
  if (tok.endsWith(':')) tok = tok.slice(0, -1)
  if (!TS_RE.test(tok)) fail(ctx, `bad timestamp ${JSON.stringify(tok.slice(0, 40))}`)
  return [tok, line.slice(sp + 1)]
}

/** A bookTicker message, told from its stream name or event type without parsing it. */
function isTickerText(text: string): boolean {
  const head = text.length > 64 ? text.slice(0, 64) : text
  return head.includes('@bookTicker"') || head.includes('"e":"bookTicker"')
}

/** Parse one line into an event, or null when the message is skipped. */
function parseLine(ctx: Ctx, line: string): MarketEvent | null {
  const parts = splitLine(ctx, line)
  if (!parts) return null
  const [tok, text] = parts
  if (ctx.skipTickers && isTickerText(text)) {
    ctx.stats.ignored.bookTicker = (ctx.stats.ignored.bookTicker ?? 0) + 1
    return null
  }
  if (ctx.unit === undefined) {
    const dot = tok.indexOf('.')
    ctx.unit = tsUnitOf(dot < 0 ? tok.length : dot)
    if (!ctx.unit) fail(ctx, `cannot tell the unit of timestamp ${tok}`)
  }
  const localTs = toMicros(tok, ctx.unit)
  let msg: unknown
  try {
    msg = JSON.parse(text)
  } catch (e) {
    fail(ctx, `invalid JSON: ${(e as Error).message}`, e)
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) fail(ctx, 'message is not a JSON object')
  let o = msg as Record<string, unknown>
  let stream: string | undefined
  if (typeof o.stream === 'string' && o.data !== null && typeof o.data === 'object') {
    stream = o.stream
    o = o.data as Record<string, unknown>
  }
  if (typeof o.s === 'string') ctx.symbol = o.s
  let r: MarketEvent | string
  try {
    r = parseMarketPayload(o, stream, localTs, ctx.symbol)
  } catch (e) {
    if (e instanceof MarketParseError) fail(ctx, e.message)
    throw e
  }
  if (typeof r === 'string') {
    ctx.stats.ignored[r] = (ctx.stats.ignored[r] ?? 0) + 1
    return null
  }
  return r
}

/**
 * Stream the events of one or several raw capture files, in file and line order.
 * Blank lines are skipped; anything else that cannot be read throws RawFormatError.
 */
export async function* readRaw(paths: string[], opts: RawReadOptions = {}): AsyncGenerator<MarketEvent> {
  for await (const batch of readRawBatches(paths, opts)) yield* batch
}

/**
 * The same stream in batches (one per chunk of the file): the cheap way to consume it,
 * one await per batch instead of one per event. With `onlySymbol`, events of other symbols
 * are left out.
 */
export async function* readRawBatches(paths: string[], opts: RawReadOptions & {onlySymbol?: string} = {}): AsyncGenerator<MarketEvent[]> {
  const stats = opts.stats ?? newRawStats()
  const only = opts.onlySymbol?.toUpperCase()
  let symbol = opts.symbol
  for (const file of paths) {
    stats.files++
    const ctx: Ctx = {file, line: 0, unit: undefined, symbol: symbol ?? symbolFromFileName(file), stats, skipTickers: opts.tickers === false}
    try {
      for await (const lines of fileLineBatches(file, opts.bytes)) {
        const out: MarketEvent[] = []
        for (let i = 0; i < lines.length; i++) {
          let line = lines[i]
          ctx.line++
          if (line.endsWith('\r')) line = line.slice(0, -1)
          if (line.length === 0 || line.trim().length === 0) continue
          stats.lines++
          const ev = parseLine(ctx, line)
          if (ev && (only === undefined || ev.symbol.toUpperCase() === only)) {
            stats.events++
            out.push(ev)
          }
        }
        if (out.length > 0) yield out
      }
    } catch (e) {
      if (e instanceof RawFormatError) throw e
      throw new RawFormatError(file, ctx.line, `cannot read: ${(e as Error).message}`, e)
    }
    symbol = opts.symbol ?? ctx.symbol
  }
}

/**
 * The lines of raw captures for the replay driver's byte scanner: each batch comes with
 * the decoder of its file, which reads the receive-time column (no regex, no slice on the
 * usual `<digits> <json>` line) and keeps this reader's JSON.parse path (`parse`, same
 * events and errors as `readRaw`) for what the scanner does not handle.
 */
export async function* readRawLineBatches(paths: string[], opts: RawReadOptions = {}): AsyncGenerator<LineBatch> {
  const stats = opts.stats ?? newRawStats()
  let symbol = opts.symbol
  for (const file of paths) {
    stats.files++
    const decoder = new RawLineDecoder({file, line: 0, unit: undefined, symbol: symbol ?? symbolFromFileName(file), stats, skipTickers: opts.tickers === false})
    try {
      for await (const lines of fileLineBatches(file, opts.bytes)) yield {lines, decoder}
    } catch (e) {
      if (e instanceof RawFormatError) throw e
      throw new RawFormatError(file, decoder.ctx.line, `cannot read: ${(e as Error).message}`, e)
    }
    symbol = opts.symbol ?? decoder.ctx.symbol
  }
}

/** The decoder of one file's lines held in memory (e.g. a benchmark's). */
export function rawLineDecoder(file: string, opts: RawReadOptions = {}): RawLineDecoder {
  const stats = opts.stats ?? newRawStats()
  stats.files++
  return new RawLineDecoder({file, line: 0, unit: undefined, symbol: opts.symbol ?? symbolFromFileName(file), stats, skipTickers: opts.tickers === false})
}

/** Lines already in memory (one file's worth), as the same batches. */
export function rawLineBatches(file: string, lines: string[], opts: RawReadOptions = {}, batch = 4096): LineBatch[] {
  const decoder = rawLineDecoder(file, opts)
  const out: LineBatch[] = []
  for (let i = 0; i < lines.length; i += batch) out.push({lines: lines.slice(i, i + batch), decoder})
  return out
}

export class RawLineDecoder implements LineDecoder {
  localTs = 0
  start = 0

  constructor(readonly ctx: Ctx) {}

  head(line: string): boolean {
    const ctx = this.ctx
    ctx.line++
    const len = line.length
    if (len === 0) return false
    const sp = line.indexOf(' ')
    if (sp > 0) {
      // the usual `<integer µs or ns> <json>`: digits straight to µs (ns: the last three dropped)
      const unit = ctx.unit ?? tsUnitOf(sp)
      if (unit === 'us' || unit === 'ns') {
        const end = unit === 'ns' ? sp - 3 : sp
        let v = 0
        let i = 0
        for (; i < sp; i++) {
          const c = line.charCodeAt(i)
          if (c < 48 || c > 57) break
          if (i < end) v = v * 10 + (c - 48)
        }
        if (i === sp) {
          ctx.unit = unit
          ctx.stats.lines++
          this.localTs = v
          this.start = sp + 1
          return true
        }
      }
    }
    if (line.trim().length === 0) return false
    ctx.stats.lines++
    const text = line.endsWith('\r') ? line.slice(0, -1) : line
    const parts = splitLine(ctx, text)
    if (!parts) return false
    const [tok, json] = parts
    if (ctx.unit === undefined) {
      const dot = tok.indexOf('.')
      ctx.unit = tsUnitOf(dot < 0 ? tok.length : dot)
      if (!ctx.unit) fail(ctx, `cannot tell the unit of timestamp ${tok}`)
    }
    this.localTs = toMicros(tok, ctx.unit)
    this.start = line.length - json.length - (text.length === line.length ? 0 : 1)
    return true
  }

  parse(line: string): MarketEvent | null {
    const ctx = this.ctx
    // parseLine counts nothing: the line was counted by head()
    const ev = parseLine(ctx, line.endsWith('\r') ? line.slice(0, -1) : line)
    if (ev) ctx.stats.events++
    return ev
  }
}

/** Convenience: the whole stream in memory. */
export async function readRawAll(paths: string[], opts: RawReadOptions = {}): Promise<MarketEvent[]> {
  const out: MarketEvent[] = []
  for await (const ev of readRaw(paths, opts)) out.push(ev)
  return out
}
