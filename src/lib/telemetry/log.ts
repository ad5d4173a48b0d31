/**
 * Operator logs (pino): one JSON line per event an operator ships to a log store —
 * `strategy_adjust` and `risk_event` with their SPEC.md §5 fields, run lifecycle, fills,
 * venue rejects, feed trouble — each with `level`, `time`, `command`, `symbol` and `run`.
 * The run's event log (events.jsonl) stays the complete record; these lines are what
 * journald, Loki or Elasticsearch get.
 *
 * Where: stderr, or `--log-file PATH` (appended; SIGHUP reopens it for logrotate). On a
 * terminal (stderr a TTY, no --log-file) each line is readable text instead of JSON.
 * Level: `--log-level`, default `info` into a file, `warn` on stderr (scripts and cron
 * stay quiet unless something is wrong).
 *
 * A secret never gets out: known secret keys are censored wherever they sit, and
 * `signature=…` / `secret=…` inside any string (a signed URL in an error) is cut.
 */
import {closeSync, openSync, writeSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {pino, type DestinationStream, type Level, type Logger} from 'pino'
import {UsageError} from '../domain/errors.js'
import type {RunEvent} from './run-events.js'
import {makeDirs} from '../fs/mkdirs.js'

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** keys whose value is never written, at any depth */
const SECRET_KEYS = ['apiSecret', 'secret', 'signature', 'apiKey', 'key', 'MM_API_SECRET', 'MM_API_KEY', 'X-MBX-APIKEY', 'password', 'token']
const CENSOR = '[redacted]'
const SECRET_IN_TEXT = /\b(signature|secret|apiSecret|apiKey|X-MBX-APIKEY|MM_API_SECRET|MM_API_KEY)=([^&\s"',;]+)/gi

export function scrubText(s: string): string {
  return s.replace(SECRET_IN_TEXT, (_m, k: string) => `${k}=${CENSOR}`)
}

function scrub(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return scrubText(v)
  if (v === null || typeof v !== 'object' || depth > 6) return v
  if (Array.isArray(v)) return v.map((x) => scrub(x, depth + 1))
  if (v instanceof Error) return {type: v.name, message: scrubText(v.message)}
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) out[k] = SECRET_KEYS.some((s) => s.toLowerCase() === k.toLowerCase()) ? CENSOR : scrub(x, depth + 1)
  return out
}

export interface LogOptions {
  /** default: info with a file, warn on stderr */
  level?: LogLevel
  /** append JSON lines to this file instead of stderr */
  file?: string
  /** readable text, one line per record (default: stderr is a TTY and no file) */
  pretty?: boolean
  /** fields on every line, e.g. {command: 'quote', symbol: 'ETHUSDC'} */
  base?: Record<string, string>
  /** where lines go instead of stderr/file (tests) */
  stream?: {write(s: string): unknown}
  /** wall clock for `time` (default Date.now) */
  now?: () => number
}

export interface MmLogger {
  readonly pino: Logger
  readonly level: LogLevel
  readonly file?: string
  /** a logger whose lines also carry these fields (e.g. the run id once it is known) */
  child(fields: Record<string, string>): MmLogger
  log(level: Exclude<LogLevel, 'silent'>, event: string, fields?: Record<string, unknown>, msg?: string): void
  enabled(level: Exclude<LogLevel, 'silent'>): boolean
  /** reopen the file (logrotate moved it); no-op on stderr */
  reopen(): void
  flush(): void
}

const LEVEL_NAMES: Record<number, string> = {10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL'}

function text(v: unknown): string {
  if (typeof v === 'string') return /[\s="]/.test(v) || v === '' ? JSON.stringify(v) : v
  return JSON.stringify(v)
}

/** One JSON line → one readable line: `12:00:01.250 WARN  risk_event ETHUSDC kind=shock …`. */
export function prettyLine(json: string): string {
  let o: Record<string, unknown>
  try {
    o = JSON.parse(json) as Record<string, unknown>
  } catch {
    return json
  }
  const {level, time, event, msg, symbol, command, run, ...rest} = o
  const ts = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : ''
  const lv = (LEVEL_NAMES[level as number] ?? String(level)).padEnd(5)
  const head = [ts, lv, event ?? msg, symbol].filter((x) => x !== undefined && x !== '').join(' ')
  const tail = Object.entries(rest).map(([k, v]) => `${k}=${text(v)}`)
  if (event !== undefined && msg !== undefined && msg !== event) tail.unshift(text(msg))
  return `${head}${tail.length ? ' ' + tail.join(' ') : ''}\n`
}

export function parseLogLevel(s: string | undefined): LogLevel | undefined {
  if (s === undefined) return undefined
  if (!(LOG_LEVELS as readonly string[]).includes(s)) throw new UsageError('E_USAGE', `--log-level ${JSON.stringify(s)} is not one of ${LOG_LEVELS.join(', ')}`)
  return s as LogLevel
}

class FileDestination implements DestinationStream {
  private fd: number
  constructor(readonly path: string) {
    this.fd = FileDestination.open(path)
  }

  static open(path: string): number {
    try {
      makeDirs(dirname(path))
      return openSync(path, 'a')
    } catch (error) {
      throw new UsageError('E_USAGE', `--log-file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {suggestion: 'pick a file in a folder you can write to'})
    }
  }

  write(s: string): void {
    if (this.fd < 0) return
    writeAll(this.fd, s)
  }

  reopen(): void {
    const old = this.fd
    this.fd = FileDestination.open(this.path)
    if (old >= 0) closeSync(old)
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd)
    this.fd = -1
  }
}

function writeAll(fd: number, s: string): void {
  const b = Buffer.from(s)
  let off = 0
  // bounded: a write that makes no progress (0 bytes) 100 times in a row is an error, not a spin
  for (let stalled = 0; off < b.length; ) {
    const n = writeSync(fd, b, off)
    off += n
    stalled = n > 0 ? 0 : stalled + 1
    if (stalled >= 100) throw new Error(`log file: no progress writing ${b.length - off} bytes`)
  }
}

export function createLogger(o: LogOptions = {}): MmLogger {
  const file = o.file === undefined ? undefined : resolve(o.file)
  const level: LogLevel = o.level ?? (file ? 'info' : 'warn')
  const fileDest = file && !o.stream ? new FileDestination(file) : undefined
  const pretty = o.pretty ?? (!file && !o.stream && process.stderr.isTTY === true)
  const raw: {write(s: string): unknown} = o.stream ?? fileDest ?? {write: (s: string) => writeAll(2, s)}
  // on a terminal, a log line first clears a progress line the command may have drawn
  const dest: DestinationStream = pretty ? {write: (s: string) => raw.write(`${o.stream ? '' : '\r\u001b[2K'}${prettyLine(s)}`)} : {write: (s: string) => raw.write(s)}
  const now = o.now ?? Date.now
  const p = pino(
    {
      level,
      base: o.base ?? {},
      timestamp: () => `,"time":${now()}`,
      formatters: {level: (_label, n) => ({level: n})},
      // errors are already reduced to {type, message} by the scrubber (no stack: it could carry a signed URL)
      serializers: {err: (e: unknown) => e},
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => scrub(a)) as Parameters<typeof method>)
        },
      },
    },
    dest,
  )
  return wrap(p, level, file, fileDest)
}

function wrap(p: Logger, level: LogLevel, file: string | undefined, fileDest: FileDestination | undefined): MmLogger {
  return {
    pino: p,
    level,
    file,
    child: (fields) => wrap(p.child(fields), level, file, fileDest),
    log(lv, event, fields, msg) {
      if (!p.isLevelEnabled(lv)) return
      p[lv]({event, ...fields}, msg ?? event)
    },
    enabled: (lv) => p.isLevelEnabled(lv),
    reopen: () => fileDest?.reopen(),
    flush: () => {},
  }
}

/** A logger that writes nothing (no --log-* and the level says so, or tests). */
export function silentLogger(): MmLogger {
  return createLogger({level: 'silent', stream: {write: () => {}}})
}

/**
 * The operator's view of a run event: which level, and which fields. The event log keeps
 * every event; here per-order traffic is debug, samples trace.
 */
export function runEventLevel(ev: RunEvent): Exclude<LogLevel, 'silent'> {
  switch (ev.type) {
    case 'risk_event': {
      const to = (ev as {to?: unknown}).to
      return to === 'halted' ? 'error' : to === 'reduce_only' || to === 'paused' ? 'warn' : 'info'
    }
    case 'reject':
      return ev.code === -5022 ? 'debug' : 'warn'
    case 'feed':
      return 'warn'
    case 'strategy_adjust':
    case 'run_start':
    case 'run_end':
    case 'fill':
      return 'info'
    case 'sample':
    case 'markout':
      return 'trace'
    default:
      return 'debug'
  }
}

/** Log one run event (the engine's `log` callback wraps this beside the event log). */
export function logRunEvent(l: MmLogger, ev: RunEvent): void {
  const lv = runEventLevel(ev)
  if (!l.enabled(lv)) return
  const {type, ...fields} = ev
  l.log(lv, type, fields)
}
