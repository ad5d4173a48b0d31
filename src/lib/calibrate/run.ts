/**
 * `mm calibrate`: every point of the spec on every window, on a pool of worker threads,
 * results appended to OUT/results.jsonl as they finish (a killed run resumes: a job whose
 * key is already there is not re-run), then ranked.
 */
import {appendFileSync, closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync, writeSync} from 'node:fs'
import {makeDirs} from '../fs/mkdirs.js'
import {availableParallelism} from 'node:os'
import {join, resolve} from 'node:path'
import {setFlagsFromString} from 'node:v8'
import {Worker} from 'node:worker_threads'
import {wallClock} from '../clock/clock.js'
import {fmtDuration} from '../report/table.js'
import {MmError, UsageError} from '../domain/errors.js'
import {jobKey} from './key.js'
import type {PointJob, PointResult} from './point.js'
import {buildReport, type CalibrationReport} from './rank.js'
import {type CalibrationSpec, checkPointConfigs, configOf, expandPoints} from './spec.js'
import type {WorkerReply, WorkerRequest} from './worker.js'

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism())
}

/** The jobs of a spec: point × window, ids p0001… in sampling order. */
export function jobsOf(spec: CalibrationSpec): {points: number; jobs: PointJob[]} {
  const points = expandPoints(spec)
  const width = Math.max(4, String(points.length).length)
  checkPointConfigs(spec, points, points.map((_, i) => `p${String(i + 1).padStart(width, '0')}`))
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
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    // was the bare message ('EISDIR: illegal operation on a directory, read'), exit 1
    throw new UsageError('E_OUT', `cannot read ${file}: ${(error as Error).message}`)
  }
  for (const line of text.split('\n')) {
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
  /** what the user should know before the jobs run (a window's skipped .partial files) */
  onNotice?: (msg: string) => void
  /** starts worker `i` of `n` (default: a worker thread running ./worker.js; tests pass fakes) */
  start?: (i: number, n: number) => PoolWorker
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
  /** this session's jobs, each timed in its worker from its start to its end (JobTimes) */
  jobMs: JobTimes
}

/**
 * How long this session's jobs took, each on its own worker's clock: `first`, a worker's
 * first job on a window (it decodes the window's recordings and, early on, runs replay
 * code not yet compiled; in-process, every job, as the main thread keeps no decoded
 * windows), `warm` every other job (replayed from the worker's memory, unless the window
 * is over the decoded-input cache's bound). Medians in ms, null without such jobs. With
 * several workers, warm jobs that take longer than with one are the jobs slowing each
 * other down on shared cores; the rest of the difference in wall time is start-up,
 * decodes and the end of the run (docs/calibrate.md).
 */
export interface JobTimes {
  first: {count: number; medianMs: number | null}
  warm: {count: number; medianMs: number | null}
}

export function jobTimes(first: number[], warm: number[]): JobTimes {
  const med = (xs: number[]): number | null => {
    if (xs.length === 0) return null
    const s = [...xs].sort((a, b) => a - b)
    const m = s.length >> 1
    return Math.round((s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2) * 10) / 10
  }
  return {first: {count: first.length, medianMs: med(first)}, warm: {count: warm.length, medianMs: med(warm)}}
}

/** The key of a job's inputs: jobs with the same key replay the same recordings. */
export function inputsOf(job: PointJob): string {
  return JSON.stringify([job.window.replay, job.symbol])
}

/**
 * The pool's job queue, by inputs (window). A worker keeps to the inputs it last replayed
 * (its decoded-input cache holds them: no second decode), and otherwise starts on the
 * inputs no other worker is on, most jobs first. When every window with jobs left is
 * taken, it joins one only when that pays: the workers already on it would take longer to
 * finish its jobs (jobs left × a job's time ÷ workers on it) than a decode and one job
 * (each decode of the ETHUSDT July pair costs about 0.8 s of CPU, three to four jobs'
 * worth); else it is done and leaves those jobs to them. The times come from the jobs
 * already run (`record`): a job's time is the mean of jobs run on a worker that had the
 * inputs already, a decode the time the latest first job spent reading the window's files
 * (its worker measures it), or that job less a job's time when not measured. Before any job of
 * the window has been timed, a worker joins while at least two jobs per worker are left.
 * Jobs of a window are handed out in their order.
 */
export class JobQueue {
  private readonly queues = new Map<string, PointJob[]>()
  /** workers currently on each inputs key */
  private readonly on = new Map<string, number>()
  /** per inputs key: jobs timed on a worker that had decoded the inputs before, their total ms, the latest first job's ms and, when its worker measured it, its decode's */
  private readonly times = new Map<string, {n: number; ms: number; warmDecodeMs: number; firstMs: number | null; decodeMs: number | null}>()

  constructor(jobs: readonly PointJob[]) {
    for (const j of jobs) {
      const k = inputsOf(j)
      const q = this.queues.get(k)
      if (q) q.push(j)
      else this.queues.set(k, [j])
    }
  }

  get size(): number {
    let n = 0
    for (const q of this.queues.values()) n += q.length
    return n
  }

  /**
   * A job on `inputs` took `ms`; `first`: the worker's first job on them (it decoded them),
   * of which `decodeMs` reading them into its cache, when the worker measured it.
   */
  record(inputs: string, ms: number, first: boolean, decodeMs?: number): void {
    const t = this.times.get(inputs) ?? {n: 0, ms: 0, warmDecodeMs: 0, firstMs: null, decodeMs: null}
    if (first) {
      t.firstMs = ms
      if (decodeMs !== undefined && decodeMs > 0) t.decodeMs = decodeMs
    } else {
      // a window the cache cannot hold is read again by every job: its jobs' times include it
      t.warmDecodeMs += decodeMs ?? 0
      t.n++
      t.ms += ms
    }
    this.times.set(inputs, t)
  }

  /** Does one more worker on `k` (a decode first) finish its jobs sooner than the workers on it now? */
  private worthJoining(k: string, left: number, workers: number): boolean {
    const t = this.times.get(k)
    if (!t || t.n === 0) return left >= 2 * (workers + 1)
    const job = t.ms / t.n
    // the decode as measured, else the first job less a job: that also counts the code the
    // first job ran before it was compiled, which a worker joining late has compiled already
    // (less what every job reads anyway when the window is not kept in the cache)
    const decode = t.decodeMs !== null ? Math.max(0, t.decodeMs - t.warmDecodeMs / t.n) : t.firstMs === null ? job : Math.max(0, t.firstMs - job)
    return (left * job) / workers > decode + job
  }

  /** The next job for a worker that last replayed `last` (undefined: none yet); undefined when none is left for it. */
  next(last: string | undefined): PointJob | undefined {
    const mine = last === undefined ? undefined : this.queues.get(last)
    if (mine && mine.length > 0) return mine.shift()
    if (last !== undefined) this.on.set(last, (this.on.get(last) ?? 1) - 1)
    let pick: string | undefined
    let best = -1
    // an unclaimed window first (most jobs left)…
    for (const [k, q] of this.queues) {
      if (q.length > 0 && q.length > best && (this.on.get(k) ?? 0) === 0) {
        best = q.length
        pick = k
      }
    }
    // …else the taken window whose workers would take longest, if joining it pays
    if (pick === undefined) {
      let longest = -1
      for (const [k, q] of this.queues) {
        const workers = this.on.get(k) ?? 0
        if (q.length === 0 || !this.worthJoining(k, q.length, workers)) continue
        const t = this.times.get(k)
        const left = (q.length * (t && t.n > 0 ? t.ms / t.n : 1)) / workers
        if (left > longest) {
          longest = left
          pick = k
        }
      }
    }
    if (pick === undefined) return undefined
    this.on.set(pick, (this.on.get(pick) ?? 0) + 1)
    return this.queues.get(pick)?.shift()
  }
}

/** Each worker's young generation, MB (three semi-spaces' worth) */
const YOUNG_GENERATION_MB = 96

/**
 * Jobs a worker holds at once: the one it runs and the next, posted before the first
 * ends, so a worker never waits for the main thread between jobs (to wake, append
 * results.jsonl, report progress and choose the next job). Once fewer than JOBS_HELD jobs
 * per worker are left in the queue, a worker is given one job at a time again: a job held
 * by a busy worker would otherwise wait while another worker has nothing left. A job is
 * still done only when its line is in results.jsonl: a killed run re-runs the ones held.
 */
export const JOBS_HELD = 2

/** What the pool needs of a worker thread (a real one: `threadWorker`; tests pass fakes). */
export interface PoolWorker {
  post(req: WorkerRequest): void
  onReply(f: (m: WorkerReply) => void): void
  onError(f: (e: Error) => void): void
  terminate(): Promise<unknown>
}

export interface PoolOptions {
  workers: number
  workDir: string
  keepRun: boolean
  onResult: (r: PointResult) => void
  /** each job's time in its worker (ms), and whether it was the worker's first on its window */
  onJobTime?: (ms: number, first: boolean) => void
  /** starts worker `i` of `n` (default: a worker thread running ./worker.js) */
  start?: (i: number, n: number) => PoolWorker
}

/** A worker thread running ./worker.js, with calibrate's V8 settings. */
function threadWorker(i: number, n: number): PoolWorker {
  if (i === 0) {
    // With a worker on every core, V8's background compiler threads only take CPU from the
    // workers (on a 40-job run with two workers they used 4.4–4.8 s of CPU with it, 1.8–2.5 s
    // without, the workers a little more: docs/calibrate.md): the workers compile their own
    // code. With a core to spare, the compiler keeps it. Read by each
    // isolate when it starts: set before the first worker.
    if (n >= availableParallelism()) setFlagsFromString('--no-concurrent-recompilation')
    // …and each worker scavenges its young generation on its own thread: V8's parallel
    // scavenge hands parts of it to the platform's helper threads, which with a worker on
    // every core only preempt the other workers (the 160-job bench grid, two workers, two
    // pairs alternated: helper-thread CPU 2.80 and 2.81 s with it, 1.27 and 1.24 s
    // without; the workers' own 38.1 and 37.8 s with it, 38.1 and 37.4 s without:
    // docs/calibrate.md). Safe to set here (unlike the marking flags).
    if (n >= availableParallelism()) setFlagsFromString('--no-parallel-scavenge')
    // Every job runs the same replay code: compiling it to baseline code at once, not after
    // it has run interpreted for a while, takes about 0.7 s off a worker's first jobs for
    // about 80 ms more start-up (docs/calibrate.md).
    setFlagsFromString('--always-sparkplug')
  }
  // a young generation of 96 MB (32 MB semi-spaces, V8's default is 16): a job's
  // short-lived objects die before a scavenge instead of being copied and promoted, so
  // a worker spends less CPU in scavenges and old-generation marking (docs/calibrate.md)
  const w = new Worker(new URL('./worker.js', import.meta.url), {resourceLimits: {maxYoungGenerationSizeMb: YOUNG_GENERATION_MB}})
  // a worker starts before the pool listens to it (calibrate): an error it raises before
  // then (its code failing to load) is kept for the pool, not thrown at the process
  let early: Error | undefined
  let onError: ((e: Error) => void) | undefined
  w.on('error', (e) => {
    if (onError) onError(e)
    else early ??= e
  })
  return {
    post: (req) => w.postMessage(req),
    onReply: (f) => w.on('message', f),
    onError: (f) => {
      onError = f
      if (early) f(early)
    },
    terminate: () => w.terminate(),
  }
}

/**
 * A fixed pool of workers, each running its jobs one at a time and keeping to a window
 * (JobQueue), each holding JOBS_HELD jobs so the next is there when one ends (one near the
 * end of the queue). Every job is handed out once; results reach `onResult` as they come.
 */
export async function runPool(jobs: PointJob[], o: PoolOptions): Promise<void> {
  if (jobs.length === 0) return
  const n = Math.min(o.workers, jobs.length)
  const start = o.start ?? threadWorker
  const queue = new JobQueue(jobs)
  let seqs = 0
  let failed: MmError | null = null
  await new Promise<void>((resolveAll, rejectAll) => {
    let live = n
    const finish = () => {
      if (--live === 0) {
        if (failed) rejectAll(failed)
        else resolveAll()
      }
    }
    for (let i = 0; i < n; i++) {
      const w = start(i, n)
      /** the jobs posted to this worker and not answered yet, in the order it runs them */
      const held: Array<{seq: number; job: PointJob; first: boolean}> = []
      /** the inputs of the last job posted: what the worker's cache holds when it reaches the next */
      let last: string | undefined
      /** the queue said none is left for this worker: it ends with the jobs it holds */
      let drained = false
      let stopped = false
      const stop = () => {
        if (stopped) return
        stopped = true
        void w.terminate().then(finish, finish)
      }
      const feed = () => {
        while (!failed && !drained && held.length < (queue.size >= n * JOBS_HELD ? JOBS_HELD : 1)) {
          const job = queue.next(last)
          if (!job) {
            drained = true
            break
          }
          const inputs = inputsOf(job)
          const seq = seqs++
          held.push({seq, job, first: inputs !== last})
          last = inputs
          w.post({seq, job, workDir: o.workDir, keepRun: o.keepRun})
        }
        if (failed || held.length === 0) stop()
      }
      w.onReply((m) => {
        if (stopped) return
        const at = held.findIndex((h) => h.seq === m.seq)
        if (at < 0) {
          if (!failed) failed = new MmError('E_WORKER', `calibration worker answered job ${m.seq}, which it does not hold`)
          stop()
          return
        }
        const [{job, first}] = held.splice(at, 1)
        queue.record(inputsOf(job), m.ms, first, m.decodeMs)
        o.onJobTime?.(m.ms, first)
        if (m.ok) {
          // a result that cannot be recorded (results.jsonl on a full disk) fails the run like
          // a failed job: thrown from here it would end the process with a stack trace
          try {
            o.onResult(m.result)
          } catch (error) {
            if (!failed) failed = error instanceof MmError ? error : new MmError('E_OUT', `job ${job.id} on ${job.window.name}: ${(error as Error).message}`)
          }
        } else if (!failed) failed = new MmError(m.error.code, `job ${job.id} on ${job.window.name}: ${m.error.message}`, {exitCode: m.error.exitCode === 2 ? 2 : 1})
        feed()
      })
      w.onError((err) => {
        if (!failed) failed = new MmError('E_WORKER', `calibration worker failed: ${err.message}`)
        if (!stopped) {
          stopped = true
          finish()
        }
      })
      feed()
    }
  })
}

export async function calibrate(o: CalibrateOptions): Promise<CalibrateResult> {
  const out = resolve(o.outDir)
  try {
    makeDirs(out)
  } catch (error) {
    throw new UsageError('E_OUT', `cannot create ${out}: ${(error as Error).message}`)
  }
  const {points, jobs} = jobsOf(o.spec)
  // The workers (no more than there are jobs) start before the windows are checked: each
  // loads the replay code (about 0.2 s) while this thread reads the windows' files and
  // results.jsonl. Those left without a job (a resumed run) and all of them when a check
  // fails are stopped before this returns.
  const startOne = o.start ?? threadWorker
  const count = Math.min(o.workers, jobs.length)
  const threads: PoolWorker[] = o.inProcess ? [] : Array.from({length: count}, (_, i) => startOne(i, count))
  const taken = new Set<number>()
  try {
    return await calibrateWith(o, out, points, jobs, threads, taken)
  } finally {
    for (const [i, w] of threads.entries()) if (!taken.has(i)) void w.terminate()
  }
}

async function calibrateWith(o: CalibrateOptions, out: string, points: number, jobs: PointJob[], threads: PoolWorker[], taken: Set<number>): Promise<CalibrateResult> {
  // every window's recordings exist and are of the spec's symbol, before any job runs
  const preflight = await import('./preflight.js')
  await preflight.checkWindows(o.spec, o.onNotice)
  await preflight.checkWindowInstruments(o.spec, jobs)
  const resultsFile = join(out, 'results.jsonl')
  const done = readResults(resultsFile)
  // a line a kill cut short is ended first: the next result must not run on into it
  if (existsSync(resultsFile)) {
    const text = readFileSync(resultsFile, 'utf8')
    if (text.length > 0 && !text.endsWith('\n')) appendFileSync(resultsFile, '\n')
  }
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
  // one descriptor for the run: each result is one write(2) of its whole line, appended
  // as it comes (a killed run keeps every line written before the kill)
  const fd = openSync(resultsFile, 'a')
  try {
    /** a failed write (a full disk): nothing more is appended, the next line would run on into the part written */
    let unwritable: MmError | undefined
    const onResult = (r: PointResult) => {
      if (unwritable) throw unwritable
      const line = Buffer.from(JSON.stringify(r) + '\n')
      try {
        for (let at = 0; at < line.length; ) at += writeSync(fd, line, at)
      } catch (error) {
        unwritable = new MmError('E_OUT', `cannot write ${resultsFile}: ${(error as Error).message}`)
        throw unwritable
      }
      done.set(r.key, r)
      ran++
      progress(r)
    }
    const workDir = join(out, 'work')
    const firstMs: number[] = []
    const warmMs: number[] = []
    const onJobTime = (ms: number, first: boolean) => (first ? firstMs : warmMs).push(ms)
    if (o.inProcess) {
      // loaded here only: the main thread of a pooled run never replays (its workers do)
      const {runPoint} = await import('./point.js')
      // the main thread keeps no decoded windows (workers do): every job here decodes its own
      for (const j of pending) {
        const t0 = performance.now()
        const r = await runPoint(j, workDir, {keepRun: o.keepRuns})
        onJobTime(performance.now() - t0, true)
        onResult(r)
      }
    } else {
      const start = (i: number): PoolWorker => {
        taken.add(i)
        return threads[i]
      }
      await runPool(pending, {workers: threads.length, workDir, keepRun: o.keepRuns === true, onResult, onJobTime, start})
    }
    const results = jobs.filter((j) => wanted.has(j.key)).map((j) => ({...(done.get(j.key) as PointResult), id: j.id, point: j.point, window: j.window.name}))
    // a window cut to a duration its data does not reach: its jobs replayed less than the
    // spec says (said, not refused: the ranking stands on what there is)
    for (const w of o.spec.windows) {
      if (w.durationMs === undefined) continue
      const got = results.filter((r) => r.window === w.name && r.summary !== undefined)
      if (got.length === 0 || !got.every((r) => r.summary.endReason === 'end of data')) continue
      const ms = Math.max(...got.map((r) => r.summary.durationMs))
      if (ms < w.durationMs) o.onNotice?.(`window ${w.name}: the data ends after ${fmtDuration(ms)}, before the window's duration ${fmtDuration(w.durationMs)}: its jobs replayed ${fmtDuration(ms)}`)
    }
    const report = buildReport(o.spec, points, results)
    const cpu = process.cpuUsage(cpu0)
    return {outDir: out, results: resultsFile, ...writeOutputs(out, report), ran, resumed, wallMs: wallClock.now() - started, cpuMs: Math.round((cpu.user + cpu.system) / 1000), jobMs: jobTimes(firstMs, warmMs)}
  } finally {
    closeSync(fd)
  }
}

/**
 * report.json and, when a point won, best.config.json (a file `mm quote --config` takes).
 * Without a winner a best.config.json left by an earlier run in the folder is removed: it
 * would otherwise pass for this run's winner.
 */
export function writeOutputs(out: string, report: CalibrationReport): {report: CalibrationReport; bestConfig: string | null} {
  // a write that fails (a full disk, a folder in the file's place) names the file: it was the
  // bare message ('ENOSPC: no space left on device, write'), after every job had run
  const write = (file: string, text: string) => {
    try {
      writeFileSync(file, text)
    } catch (error) {
      throw new MmError('E_OUT', `cannot write ${file}: ${(error as Error).message}`, {suggestion: `the results are kept in ${out}: run the same command again once it can be written`})
    }
  }
  write(join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n')
  let bestConfig: string | null = null
  if (report.winner) {
    bestConfig = join(out, 'best.config.json')
    write(bestConfig, JSON.stringify(report.winner.config, null, 2) + '\n')
  } else {
    try {
      rmSync(join(out, 'best.config.json'), {force: true})
    } catch (error) {
      throw new MmError('E_OUT', `cannot remove ${join(out, 'best.config.json')} (no point won this run): ${(error as Error).message}`)
    }
  }
  return {report, bestConfig}
}
