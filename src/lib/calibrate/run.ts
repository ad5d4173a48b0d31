/**
 * `mm calibrate`: every point of the spec on every window, on a pool of worker threads,
 * results appended to OUT/results.jsonl as they finish (a killed run resumes: a job whose
 * key is already there is not re-run), then ranked.
 */
import {appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import {join, resolve} from 'node:path'
import {Worker} from 'node:worker_threads'
import {wallClock} from '../clock/clock.js'
import {MmError, UsageError} from '../domain/errors.js'
import {jobKey, type PointJob, type PointResult, runPoint} from './point.js'
import {buildReport, type CalibrationReport} from './rank.js'
import {type CalibrationSpec, configOf, expandPoints} from './spec.js'
import type {WorkerReply, WorkerRequest} from './worker.js'

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism())
}

/** The jobs of a spec: point × window, ids p0001… in sampling order. */
export function jobsOf(spec: CalibrationSpec): {points: number; jobs: PointJob[]} {
  const points = expandPoints(spec)
  const width = Math.max(4, String(points.length).length)
  const jobs: PointJob[] = []
  points.forEach((point, i) => {
    const id = `p${String(i + 1).padStart(width, '0')}`
    const config = configOf(spec.base, point)
    for (const window of spec.windows) {
      const j = {point, window, symbol: spec.symbol, tickSize: spec.tickSize, stepSize: spec.stepSize, minNotional: spec.minNotional, config}
      jobs.push({id, ...j, key: jobKey(j)})
    }
  })
  return {points: points.length, jobs}
}

/** Results already in a results.jsonl (a torn last line from a kill is ignored). */
export function readResults(file: string): Map<string, PointResult> {
  const done = new Map<string, PointResult>()
  if (!existsSync(file)) return done
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue
    try {
      const r = JSON.parse(line) as PointResult
      if (r && typeof r.key === 'string' && r.metrics) done.set(r.key, r)
    } catch {
      // a line cut short by a kill: that job runs again
    }
  }
  return done
}

export interface Progress {
  done: number
  total: number
  resumed: number
  /** ms left, estimated from this session's pace; null before the first job ends */
  etaMs: number | null
  last?: PointResult
}

export interface CalibrateOptions {
  spec: CalibrationSpec
  outDir: string
  workers: number
  keepRuns?: boolean
  /** run jobs on the main thread (tests of the library from sources) */
  inProcess?: boolean
  onProgress?: (p: Progress) => void
}

export interface CalibrateResult {
  outDir: string
  results: string
  report: CalibrationReport
  ran: number
  resumed: number
  bestConfig: string | null
  /** this session: wall time and CPU time of the process, every worker thread included (ms) */
  wallMs: number
  cpuMs: number
}

/** A fixed pool of worker threads running jobs one at a time each. */
async function runPool(jobs: PointJob[], workers: number, workDir: string, keepRun: boolean, onResult: (r: PointResult) => void): Promise<void> {
  if (jobs.length === 0) return
  const url = new URL('./worker.js', import.meta.url)
  const n = Math.min(workers, jobs.length)
  let next = 0
  let failed: MmError | null = null
  const threads: Worker[] = []
  await new Promise<void>((resolveAll, rejectAll) => {
    let live = n
    const finish = () => {
      if (--live === 0) {
        if (failed) rejectAll(failed)
        else resolveAll()
      }
    }
    for (let i = 0; i < n; i++) {
      const w = new Worker(url)
      threads.push(w)
      const feed = () => {
        if (failed || next >= jobs.length) {
          void w.terminate().then(finish)
          return
        }
        const seq = next++
        w.postMessage({seq, job: jobs[seq], workDir, keepRun} satisfies WorkerRequest)
      }
      w.on('message', (m: WorkerReply) => {
        if (m.ok) onResult(m.result)
        else if (!failed) failed = new MmError(m.error.code, `job ${jobs[m.seq].id} on ${jobs[m.seq].window.name}: ${m.error.message}`, {exitCode: m.error.exitCode === 2 ? 2 : 1})
        feed()
      })
      w.on('error', (err) => {
        if (!failed) failed = new MmError('E_WORKER', `calibration worker failed: ${err.message}`)
        finish()
      })
      feed()
    }
  })
}

export async function calibrate(o: CalibrateOptions): Promise<CalibrateResult> {
  const out = resolve(o.outDir)
  try {
    mkdirSync(out, {recursive: true})
  } catch (error) {
    throw new UsageError('E_OUT', `cannot create ${out}: ${(error as Error).message}`)
  }
  const {points, jobs} = jobsOf(o.spec)
  const resultsFile = join(out, 'results.jsonl')
  const done = readResults(resultsFile)
  const wanted = new Set(jobs.map((j) => j.key))
  const pending = jobs.filter((j) => !done.has(j.key))
  const resumed = jobs.length - pending.length
  const started = wallClock.now()
  const cpu0 = process.cpuUsage()
  let ran = 0
  const progress = (last?: PointResult) => {
    const elapsed = wallClock.now() - started
    o.onProgress?.({done: resumed + ran, total: jobs.length, resumed, etaMs: ran === 0 ? null : Math.round((elapsed / ran) * (pending.length - ran)), last})
  }
  progress()
  const onResult = (r: PointResult) => {
    appendFileSync(resultsFile, JSON.stringify(r) + '\n')
    done.set(r.key, r)
    ran++
    progress(r)
  }
  const workDir = join(out, 'work')
  if (o.inProcess) {
    for (const j of pending) onResult(await runPoint(j, workDir, {keepRun: o.keepRuns}))
  } else {
    await runPool(pending, o.workers, workDir, o.keepRuns === true, onResult)
  }
  const results = jobs.filter((j) => wanted.has(j.key)).map((j) => ({...(done.get(j.key) as PointResult), id: j.id, point: j.point, window: j.window.name}))
  const report = buildReport(o.spec, points, results)
  const cpu = process.cpuUsage(cpu0)
  return {outDir: out, results: resultsFile, ...writeOutputs(out, report), ran, resumed, wallMs: wallClock.now() - started, cpuMs: Math.round((cpu.user + cpu.system) / 1000)}
}

/** report.json and, when a point won, best.config.json (a file `mm quote --config` takes). */
export function writeOutputs(out: string, report: CalibrationReport): {report: CalibrationReport; bestConfig: string | null} {
  writeFileSync(join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n')
  let bestConfig: string | null = null
  if (report.winner) {
    bestConfig = join(out, 'best.config.json')
    writeFileSync(bestConfig, JSON.stringify(report.winner.config, null, 2) + '\n')
  }
  return {report, bestConfig}
}
