/**
 * One calibration job: a config on one window of recordings, replayed on the paper venue
 * through exactly what `mm quote --dry-run --replay` runs (run/quote.ts), and the
 * objectives measured from its summary and (the per-minute Sharpe ratio) its `sample`
 * events as they happen; its events.jsonl is written only when the run is kept. Self-contained (a job file is all
 * `mm calibrate point` needs), so it runs in a worker thread, a GNU parallel slot or a
 * Kubernetes pod alike.
 */
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {makeDirs} from '../fs/mkdirs.js'
import {join} from 'node:path'
import type {MmConfigInput} from '../config/schema.js'
import {quote, type QuoteOptions} from '../run/quote.js'
import type {RunEvent} from '../telemetry/run-events.js'
import type {RunSummary} from '../report/summary.js'
import type {Point, Window} from './spec.js'

export interface PointJob {
  /** point id, e.g. p0003 */
  id: string
  point: Point
  window: Window
  symbol: string
  tickSize?: string
  stepSize?: string
  minNotional?: string
  /** the whole config file of the point (base + the point's values) */
  config: MmConfigInput
  /** identity of (config, window, instrument): a result with this key is not re-run */
  key: string
}

export interface Metrics {
  netPnl: number
  fees: number
  fills: number
  maxAbsPosition: number
  /** net PnL / max |position| (quote currency per base unit); null when never positioned */
  pnlPerMaxInventory: number | null
  /** mean / standard deviation of per-minute changes of net PnL (not annualised); null with < 2 minutes or no variation */
  sharpe: number | null
  /** mean adverse move per unit 1 s / 10 s after a fill (quote currency, positive = adverse); null without fills */
  markout1s: number | null
  markout10s: number | null
}

export interface PointResult {
  id: string
  key: string
  point: Point
  window: string
  metrics: Metrics
  summary: RunSummary
}

export {jobKey} from './key.js'

/**
 * Per-minute Sharpe of net PnL, fed the run's `sample` events in order: the net PnL
 * (realised + unrealised − fees) last sampled in each minute from the first sample, and
 * the mean / standard deviation of its minute-to-minute changes (the first from 0).
 */
export class SharpeOfSamples {
  private t0: number | null = null
  private readonly lastByMinute = new Map<number, number>()

  add(ev: {t: number; realised: string; unrealised: string; fees: string}): void {
    if (this.t0 === null) this.t0 = ev.t
    this.lastByMinute.set(Math.floor((ev.t - this.t0) / 60_000), Number(ev.realised) + Number(ev.unrealised) - Number(ev.fees))
  }

  /** null without samples, with fewer than 2 minutes, or with no variation */
  value(): number | null {
    if (this.t0 === null) return null
    const mins = [...this.lastByMinute.keys()].sort((a, b) => a - b)
    const diffs: number[] = []
    let prev = 0
    for (const m of mins) {
      const v = this.lastByMinute.get(m) as number
      diffs.push(v - prev)
      prev = v
    }
    if (diffs.length < 2) return null
    const mean = diffs.reduce((a, b) => a + b, 0) / diffs.length
    const sd = Math.sqrt(diffs.reduce((a, b) => a + (b - mean) ** 2, 0) / (diffs.length - 1))
    return sd > 0 ? mean / sd : null
  }
}

/** Per-minute Sharpe of net PnL from the `sample` events of a run's events.jsonl (as SharpeOfSamples). */
export function perMinuteSharpe(eventLog: string): number | null {
  const s = new SharpeOfSamples()
  for (const line of readFileSync(eventLog, 'utf8').split('\n')) {
    if (line.includes('"type":"sample"')) s.add(JSON.parse(line) as {t: number; realised: string; unrealised: string; fees: string})
  }
  return s.value()
}

export function metricsOf(s: RunSummary, sharpe: number | null): Metrics {
  const netPnl = Number(s.netPnl)
  const maxAbs = Number(s.maxAbsPosition)
  return {
    netPnl,
    fees: Number(s.fees),
    fills: s.fills,
    maxAbsPosition: maxAbs,
    pnlPerMaxInventory: maxAbs > 0 ? netPnl / maxAbs : null,
    sharpe,
    markout1s: s.adverse1s === null ? null : Number(s.adverse1s),
    markout10s: s.adverse10s === null ? null : Number(s.adverse10s),
  }
}

/**
 * What `runPoint` hands `quote()` for `job` in `dir`: a replay of the job's window with the
 * point's config, each event told to `onEvent`. With `keepRun`, the config is the file
 * dir/config.json and the run's directory (events.jsonl, summary.json) is kept under
 * dir/state; without, nothing is written: the config goes over in memory, through the
 * same checks as the file (`configJson`: the file's JSON, parsed), and the run makes no
 * directory (the objectives read only the events and the summary returned).
 */
export function pointQuoteOptions(job: PointJob, dir: string, keepRun: boolean, onEvent: (ev: RunEvent) => void): QuoteOptions {
  return {
    symbol: job.symbol,
    dryRun: true,
    replay: job.window.replay,
    speed: 'max',
    durationMs: job.window.durationMs,
    ...(keepRun ? {configPath: join(dir, 'config.json')} : {configJson: {json: JSON.parse(JSON.stringify(job.config)), source: `of calibrate job ${job.id} on ${job.window.name}`}}),
    stateDir: join(dir, 'state'),
    tickSize: job.tickSize,
    stepSize: job.stepSize,
    minNotional: job.minNotional,
    endpoints: {rest: 'http://127.0.0.1:1', ws: 'ws://127.0.0.1:1', routed: false, name: 'custom'}, // replay: never used
    wallMs: 0,
    stop: new Promise<string>(() => {}),
    isStopping: () => false,
    runFiles: keepRun,
    onEvent,
  }
}

/** The config file of a job, as `--keep-runs` writes it (and as `mm quote --config` would read it). */
function configText(job: PointJob): string {
  return JSON.stringify(job.config, null, 2) + '\n'
}

/**
 * Run one job. The objectives are read from the run's summary and its events as they
 * happen. With `keepRun`, its config file and run directory (events.jsonl, summary.json)
 * go to workDir/ID-WINDOW/ and stay; without, the job writes nothing.
 */
/**
 * A job's folder under workDir: ID-WINDOW, the window's name with every character but
 * letters, digits, `.`, `-` and `_` made `_` (as its job file's name in a plan). The raw
 * name made a name with `/` nested folders, and `x/../../../y` one outside OUT, which
 * --keep-runs then emptied (`rm -r`) before the job wrote into it.
 */
export function pointDir(workDir: string, job: Pick<PointJob, 'id' | 'window'>): string {
  return join(workDir, `${job.id}-${job.window.name.replace(/[^\w.-]/g, '_')}`)
}

export async function runPoint(job: PointJob, workDir: string, opts: {keepRun?: boolean} = {}): Promise<PointResult> {
  const keep = opts.keepRun === true
  const dir = pointDir(workDir, job)
  if (keep) {
    rmSync(dir, {recursive: true, force: true})
    makeDirs(dir)
    writeFileSync(join(dir, 'config.json'), configText(job))
  }
  const sharpe = new SharpeOfSamples()
  const res = await quote(
    pointQuoteOptions(job, dir, keep, (ev) => {
      if (ev.type === 'sample') sharpe.add(ev)
    }),
  )
  return {id: job.id, key: job.key, point: job.point, window: job.window.name, metrics: metricsOf(res.summary, sharpe.value()), summary: res.summary}
}
