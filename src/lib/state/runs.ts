/**
 * Run directories under <state-dir>/runs/<id>/ holding events.jsonl (the run event log)
 * and summary.json. The log is written through a buffer with synchronous flushes, so a
 * crash loses at most the unflushed tail and a clean stop loses nothing.
 */
import {closeSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync} from 'node:fs'
import {createInterface} from 'node:readline'
import {basename, dirname, join, resolve} from 'node:path'
import {UsageError} from '../domain/errors.js'
import type {RunEvent} from '../telemetry/run-events.js'
import {makeDirs} from '../fs/mkdirs.js'

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
}

/** A run's id before its directory is made (a run that writes nothing keeps this one). */
export function runBaseId(symbol: string, mode: string, wallMs: number): string {
  return `${stamp(wallMs)}-${symbol}-${mode}`
}

export function createRunDir(stateDir: string, symbol: string, mode: string, wallMs: number): {id: string; dir: string} {
  const runs = resolve(stateDir, 'runs')
  try {
    makeDirs(runs)
  } catch (error) {
    throw new UsageError('E_STATE_DIR', `cannot create ${runs}: ${(error as Error).message}`, {suggestion: 'pass a writable --state-dir (env MM_STATE_DIR)'})
  }
  const base = runBaseId(symbol, mode, wallMs)
  let id = base
  // bounded: a thousand runs of one symbol and mode started in the same second is not a real case
  for (let n = 2; existsSync(join(runs, id)); n++) {
    if (n > 1000) throw new UsageError('E_STATE_DIR', `cannot create a run folder in ${runs}: ${base} … ${id} all exist`)
    id = `${base}-${n}`
  }
  const dir = join(runs, id)
  try {
    mkdirSync(dir)
  } catch (error) {
    throw new UsageError('E_STATE_DIR', `cannot create ${dir}: ${(error as Error).message}`, {suggestion: 'pass a writable --state-dir (env MM_STATE_DIR)'})
  }
  return {id, dir}
}

/**
 * Remove a run directory that holds nothing worth keeping (a run refused before its first
 * event: bad replay input, venue unreachable): no empty run is left for `report last`.
 * Only removes `dir` when it contains nothing but an events.jsonl of at most `maxLines`
 * lines (the run_start line) and an optional summary.json. Returns true when removed.
 */
export function discardRunDir(dir: string, maxLines = 1): boolean {
  try {
    const names = readdirSync(dir)
    if (names.some((n) => n !== 'events.jsonl' && n !== 'summary.json')) return false
    const log = join(dir, 'events.jsonl')
    if (existsSync(log)) {
      const text = readFileSync(log, 'utf8')
      const lines = text.split('\n').filter((l) => l.trim() !== '').length
      if (lines > maxLines) return false
    }
    rmSync(dir, {recursive: true, force: true})
    return true
  } catch {
    return false
  }
}

export class EventLog {
  private fd: number
  private buf: string[] = []
  private size = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  lines = 0

  /**
   * Lines are written in blocks of 64 KB; with `flushAfterMs` (live and dry-run runs) also at
   * most that long after the first line of a block, so a run that is killed loses at most
   * that much of its log (a replay, which ends in seconds, writes in blocks only).
   */
  constructor(readonly path: string, private readonly flushAfterMs?: number) {
    this.fd = openSync(path, 'w')
  }

  write(ev: RunEvent): void {
    const line = JSON.stringify(ev) + '\n'
    this.buf.push(line)
    this.size += line.length
    this.lines++
    if (this.size >= 1 << 16) this.flush()
    else if (this.flushAfterMs !== undefined && this.timer === undefined) {
      this.timer = setTimeout(this.onTimer, this.flushAfterMs)
      this.timer.unref()
    }
  }

  private readonly onTimer = (): void => {
    this.timer = undefined
    if (this.fd < 0) return
    try {
      this.flush()
    } catch {
      // a failed write is retried with the next block (or at close, which throws)
    }
  }

  flush(): void {
    if (this.buf.length === 0) return
    writeSync(this.fd, this.buf.join(''))
    this.buf = []
    this.size = 0
  }

  close(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.fd < 0) return
    this.flush()
    closeSync(this.fd)
    this.fd = -1
  }
}

/** Find a run's events.jsonl from a path (dir or file), a run id, or `last`. */
export function resolveRunLog(run: string, stateDir: string): string {
  const candidates: string[] = []
  if (run === 'last') {
    const runs = resolve(stateDir, 'runs')
    const names = runsEntries(runs)
    // the newest run directory (by its name, which starts with the run's start time) with a
    // log: not a folder or file of another name put there (a copy, lost+found, notes: their
    // names sorted after every run's), nor a run that never started (an empty log)
    const ids = names.filter((d) => RUN_DIR.test(d) && nonEmptyFile(join(runs, d, 'events.jsonl'))).sort(byRunId)
    if (ids.length > 0) return join(runs, ids[ids.length - 1], 'events.jsonl')
    const junk = names.length === 0 ? '' : ` (${names.length} ${names.length === 1 ? 'entry there is' : 'entries there are'} not a run directory with a run log)`
    throw new UsageError('E_NO_RUN', `no runs under ${runs}${junk}`, {suggestion: 'run mm quote --dry-run first, or pass --state-dir'})
  }
  candidates.push(resolve(run), resolve(stateDir, 'runs', run))
  for (const c of candidates) {
    if (!existsSync(c)) continue
    if (statSync(c).isDirectory()) {
      const f = join(c, 'events.jsonl')
      if (existsSync(f)) return f
    } else return c
  }
  throw new UsageError('E_NO_RUN', `no run ${JSON.stringify(run)}: not a run directory, an events.jsonl file, or a run id under ${resolve(stateDir, 'runs')}`, {suggestion: "use 'last', a run id from the state dir, or a path"})
}

/**
 * Run ids oldest first: by name (which starts with the start time), and runs of one symbol
 * and mode started in the same second by their number (`…-live`, `…-live-2`, … `…-live-10`;
 * by name alone `-10` came before `-2`, and `mm report last` took the ninth for the last).
 */
export function byRunId(a: string, b: string): number {
  const x = /^(.*?)(?:-(\d+))?$/.exec(a) as RegExpExecArray
  const y = /^(.*?)(?:-(\d+))?$/.exec(b) as RegExpExecArray
  if (x[1] !== y[1]) return x[1] < y[1] ? -1 : 1
  return Number(x[2] ?? 1) - Number(y[2] ?? 1)
}

/** A run directory's name: its start time (UTC, to the second), then symbol and mode (runBaseId, createRunDir) */
const RUN_DIR = /^\d{8}T\d{6}Z-[^/]+$/

/** The names under the runs folder (none when it does not exist); one that is not a folder is bad usage */
function runsEntries(runs: string): string[] {
  if (!existsSync(runs)) return []
  try {
    return readdirSync(runs)
  } catch (error) {
    throw new UsageError('E_STATE_DIR', `cannot read ${runs}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {suggestion: 'pass the state dir mm quote ran with (--state-dir, env MM_STATE_DIR)'})
  }
}

/** `log` is a file with something in it (an empty one: a run that never started) */
function nonEmptyFile(log: string): boolean {
  try {
    const st = statSync(log)
    return st.isFile() && st.size > 0
  } catch {
    return false
  }
}

export interface RunLogRead {
  events: RunEvent[]
  /** the last line was cut short (a crash mid-write) and was left out */
  tornLastLine: boolean
}

/** The events of a run log; a torn last line (crash mid-write) is left out and said. */
export function readRunEvents(path: string): RunEvent[] {
  return readRunLog(path).events
}

export function readRunLog(path: string): RunLogRead {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new UsageError('E_NO_RUN', `cannot read ${path}: ${(error as Error).message}`)
  }
  const out: RunEvent[] = []
  const lines = text.split('\n')
  let lastIdx = lines.length - 1
  while (lastIdx >= 0 && lines[lastIdx].trim() === '') lastIdx--
  let tornLastLine = false
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]
    if (l.trim() === '') continue
    let ev: unknown
    try {
      ev = JSON.parse(l)
    } catch {
      // a crash mid-write leaves the last line cut short: leave it out (the caller says so)
      if (i === lastIdx && out.length > 0) {
        tornLastLine = true
        break
      }
      throw new UsageError('E_RUN_LOG', `${path} line ${i + 1} is not JSON`, {suggestion: 'is this a run event log (events.jsonl)?'})
    }
    const e = ev as {type?: unknown; t?: unknown}
    if (typeof e?.type !== 'string' || typeof e.t !== 'number') {
      throw new UsageError('E_RUN_LOG', `${path} line ${i + 1} is not a run event (needs "type" and "t")`)
    }
    out.push(ev as RunEvent)
  }
  if (out.length === 0 || out[0].type !== 'run_start') throw new UsageError('E_RUN_LOG', `${path} does not start with a run_start event`)
  return {events: out, tornLastLine}
}

/** A run's id: its directory's name (the file's path for a loose events.jsonl). */
export function runIdOf(log: string): string {
  return basename(log) === 'events.jsonl' ? basename(dirname(log)) : log
}

export interface RunListing {
  id: string
  dir: string
  symbol: string
  mode: string
  strategy: string
  durationMs: number
  fills: number
  netPnl: string
  endReason: string
  /** summary.json exists (the run ended); otherwise figures are from the log so far */
  complete: boolean
}

/** Every run under <state-dir>/runs, oldest first; `summarise` turns a log into a summary for runs without summary.json. */
export function listRuns(stateDir: string, summarise: (events: RunEvent[]) => {symbol: string; mode: string; strategy: string; durationMs: number; fills: number; netPnl: string; endReason: string}): RunListing[] {
  const runs = resolve(stateDir, 'runs')
  const out: RunListing[] = []
  for (const id of runsEntries(runs).sort(byRunId)) {
    const dir = join(runs, id)
    const sumPath = join(dir, 'summary.json')
    let s: ReturnType<typeof summarise> | null = null
    let complete = false
    try {
      if (existsSync(sumPath)) {
        s = JSON.parse(readFileSync(sumPath, 'utf8'))
        complete = true
      } else if (existsSync(join(dir, 'events.jsonl'))) {
        s = summarise(readRunEvents(join(dir, 'events.jsonl')))
      }
    } catch {
      s = null
    }
    if (!s) {
      // killed before its log was flushed: what the directory name says
      const m = /^\d{8}T\d{6}Z-([A-Z0-9]+)-(replay|dry-run|live)(?:-\d+)?$/.exec(id)
      if (!m) continue
      out.push({id, dir, symbol: m[1], mode: m[2], strategy: '?', durationMs: 0, fills: 0, netPnl: '?', endReason: 'killed (no summary, log unreadable)', complete: false})
      continue
    }
    out.push({id, dir, symbol: s.symbol, mode: s.mode, strategy: s.strategy, durationMs: s.durationMs, fills: s.fills, netPnl: s.netPnl, endReason: complete ? s.endReason : 'running or killed', complete})
  }
  return out
}

/**
 * The run log as a stream, one event at a time, in bounded memory (a week-long run's log
 * is gigabytes), with readRunLog's checks; a torn last line (crash mid-write) is left out
 * and told to `onTorn`.
 */
export async function* streamRunEvents(path: string, onTorn?: () => void): AsyncGenerator<RunEvent> {
  const input = createReadStream(path, {encoding: 'utf8', highWaterMark: 1 << 20})
  await new Promise<void>((res, rej) => {
    input.once('open', () => res())
    input.once('error', (error) => rej(new UsageError('E_NO_RUN', `cannot read ${path}: ${error.message}`)))
  })
  const lines = createInterface({input, crlfDelay: Infinity})
  let n = 0
  let seen = 0
  // a line that is not JSON: an error unless it turns out to be the last one
  let bad: number | null = null
  try {
    for await (const l of lines) {
      n++
      if (l.trim() === '') continue
      if (bad !== null) throw new UsageError('E_RUN_LOG', `${path} line ${bad} is not JSON`, {suggestion: 'is this a run event log (events.jsonl)?'})
      let ev: unknown
      try {
        ev = JSON.parse(l)
      } catch {
        if (seen === 0) throw new UsageError('E_RUN_LOG', `${path} line ${n} is not JSON`, {suggestion: 'is this a run event log (events.jsonl)?'})
        bad = n
        continue
      }
      const e = ev as {type?: unknown; t?: unknown}
      if (typeof e?.type !== 'string' || typeof e.t !== 'number') {
        throw new UsageError('E_RUN_LOG', `${path} line ${n} is not a run event (needs "type" and "t")`)
      }
      if (seen++ === 0 && e.type !== 'run_start') throw new UsageError('E_RUN_LOG', `${path} does not start with a run_start event`)
      yield ev as RunEvent
    }
  } catch (error) {
    // a read that fails once open (an events.jsonl that is a folder: EISDIR) was its bare message, exit 1
    if (error instanceof UsageError) throw error
    throw new UsageError('E_NO_RUN', `cannot read ${path}: ${(error as Error).message}`)
  } finally {
    lines.close()
    input.destroy()
  }
  if (seen === 0) throw new UsageError('E_RUN_LOG', `${path} does not start with a run_start event`)
  if (bad !== null) onTorn?.()
}
