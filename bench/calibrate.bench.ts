/**
 * `mm calibrate` throughput: grid points per minute with every core's worker thread
 * against one worker, the same grid in the same run (interleaved, so other load hits
 * both alike), through the built CLI (`npm run prepare` first).
 *
 * The workload: an 80 × 8 grid (640 points) on two windows of the real ETHUSDT streams
 * (the 2024-07-18/19 pair, 8 minutes, and 2024-08-08, 5.75 minutes): 1,280 jobs, each a
 * full paper replay. A run has a fixed cost (process and worker start-up, each worker's
 * first decode of a window, each worker compiling the replay code: about 3.2–3.5 s of
 * wall here on 2026-12-01) against about 35–40 ms per job (0.17 s on 2026-11-30, when the
 * grid was sized to keep the fixed part under a tenth of a one-worker run, as in a real
 * calibration of hundreds of points on windows far longer than these samples; with
 * 160 jobs it had become 37 %: with 1,280 it is about 7 %, with 640 about 13 %). The
 * 160-job grid still runs, after each pair, as `small_grid_*`: the same kind of jobs (9 of
 * its 10 spreads are in the big grid), where the fixed part weighs five times as much.
 *
 * Target: ≥ 1.8× on two otherwise idle cores. Met in each of three runs on 2026-12-02
 * (1.82, 1.97, 1.86: another machine of the same kind, AMD EPYC, jobs 2.4× as slow);
 * 1.68–1.79 on the earlier machine (docs/calibrate.md "2026-12-02"). On a shared machine (Linux autogroup
 * scheduling shares CPU per session, not per thread) more threads cannot win more CPU, so
 * the wall ratio then says nothing; the figures that do not depend on load are the CPU
 * times, per thread kind (Linux /proc): the main thread, the worker threads (the jobs'
 * JavaScript) and the rest (V8's background compiler and GC threads, libuv), and from them
 * the ratio the same run would give on idle cores (`projected_all_vs_one_x`: one worker's
 * wall is its main and worker threads' CPU, the background threads running on the other
 * core; all workers' wall is the whole process CPU over the cores, or the busiest worker
 * thread plus the main thread if longer). The 1-minute load average before and after is
 * recorded.
 *
 * Three reps of each (1 worker, then all workers): `all_vs_one_x` is the median of the
 * three pairs' wall ratios (the headline, read against the target), `all_vs_one_x_each`
 * the three, and `all_vs_one_best_x` the fastest 1-worker wall over the fastest
 * all-worker wall (the least-disturbed run of each).
 *
 * Ceilings from the same runs: one worker's wall is its process CPU over the share of a
 * core it got (`cpu_share_1_worker`, above 1 because V8's compiler and GC helper threads
 * run on the idle core beside it), and W workers' wall is at least their CPU over the W
 * cores. So `all_vs_one_x` ≤ W / cpu_share_1_worker even if W workers took no more CPU
 * than one (`all_vs_one_ceiling_same_cpu_x`), and ≤ W × the 1-worker wall / the W-worker
 * CPU with the CPU they did take (`all_vs_one_ceiling_measured_cpu_x`, median of pairs).
 * With one worker at 1.13 cores (the 160-job grid, 2026-12-01 morning) the first is 1.77:
 * below the 1.8× target whatever the workers do; on the 1,280-job grid one worker keeps
 * 1.03–1.04 cores busy (V8's compiles and GC helpers weigh less in a longer run) and the
 * bound is 1.92–1.95.
 *
 * Each run's own job times (its `--json` `jobMs`, timed in the workers): `first_job_ms_*`,
 * the median of a worker's first job on a window (the decode), `warm_job_ms_*` of the
 * rest, and `warm_all_vs_one_x` = W × the 1-worker warm job / the W-worker warm job (median
 * of pairs): what the jobs alone give side by side on the shared cores. The wall ratio is
 * that, less what start-up, the decodes and the end of the run take from it.
 *
 * Each run as a fixed part plus a time per job, from the two grids of each rep (the line
 * through their walls): `marginal_*_ms_per_job`, what each of the 1,120 jobs the big grid
 * adds took, `fixed_s_*`, what is left of the small grid's wall (start-up, the first
 * decodes with code not yet compiled, the end of the run), and `marginal_all_vs_one_x`,
 * the ratio of the times per job: what all workers give over one once a calibration is
 * long enough for its fixed part not to count (medians of the reps). It is not the
 * headline, which is the whole run's ratio. On 2026-12-01 at 21:02 (load 0.5 before):
 * 1.78 (1.78 1.91 1.77) against a headline of 1.68 (1.66 1.77 1.68), with the machine's
 * parse kernel at 1.65; fixed parts 3.28 s with one worker and 3.62 s with two (each of two
 * workers compiles the replay code on its own core, which one worker leaves to V8's
 * background threads on the idle core). So in that run not only the fixed part kept two
 * workers under 1.8×: the jobs did too (docs/calibrate.md "2026-12-01 late").
 *
 * The machine's own ceiling, measured in the same run on the same schedule (a reference
 * round before every calibrate run of the headline grid and one after the last, so load and drift hit both
 * alike): a fixed JavaScript kernel in ONE worker thread, then in `availableParallelism()`
 * worker threads at once, each doing that same fixed work (so N× the work);
 * `machine_<kernel>_all_vs_one_x` = N × one thread's wall / the N threads' wall, the
 * median over the rounds (`_each`: every round; `_best_x`: from the fastest of each). Two
 * kernels: `compute` (an integer hash over an Int32Array: no allocation, no GC) and
 * `parse` (JSON.parse of the August window's 6,586 depth lines, read once here and handed
 * to the workers, with calibrate's 96 MB young generation: the garbage keeps V8's GC
 * helper threads busy, as a calibrate job does). `calibrate_vs_machine_parse_efficiency`
 * = `all_vs_one_x` / `machine_parse_all_vs_one_x`: how much of what this machine gives
 * two allocation-heavy threads calibrate gets (1 = all of it). Why: this machine's vCPUs
 * are not two independent cores (on 2026-11-30 the same kernel in two threads gave
 * 1.33–2.20× one thread's throughput, median about 1.87×, over 10 interleaved pairs, and
 * a busy process on the other core raised a calibrate worker's CPU for the same jobs by
 * 6–8 %), and one thread's speed drifts by ±15 % within seconds
 * (`machine_<kernel>_one_thread_s_range`); a calibrate ratio below 1.8× is read against
 * that ceiling, not against 2. The target does not change: ≥ 1.8× all workers vs one.
 * Each kernel takes 1.4–2.3 s in one thread here (medians 1.7–2.0 s); the reference
 * rounds add about a minute: the section took 192 s with nothing else running on the
 * 160-job grid, 313–339 s on the 1,280-job grid with the small one after each pair
 * (2026-12-01, three runs from 15:52 to 16:16: `all_vs_one_x` 2.06 (a disturbed run),
 * 1.79 and 1.81 (the two quiet ones): at the threshold, not met as a rule;
 * `small_grid_all_vs_one_x` 1.32–1.39; warm jobs 33.7–38.2 ms with one worker, 34.9–36.0
 * ms with two; each kernel 0.76–1.36 s in one thread in those runs: docs/calibrate.md).
 * After jobs that write nothing and fewer decimals per fill (2026-12-01 18:33, quiet):
 * 870.6 / 1,561.3 points/min, `all_vs_one_x` 1.79 (2.06 1.76 1.79), warm jobs 31.0 / 30.7
 * ms; two runs just before, on a noisier host, 1.42 and 1.64 (docs/calibrate.md
 * "2026-12-01 night").
 * Measured 2026-11-30 15:38 (load 0.9 before): calibrate 1.78× (1.78 1.83 1.53), the
 * machine 1.90× for parse (1.55–2.15 per round) and 1.49× for compute (1.20–1.96),
 * efficiency 0.94; one thread's time for the same work 1.38–2.08 s within the run. Two
 * runs beside other work (load 3.4 and 3.9 after): calibrate 1.13× and 1.06×, the machine
 * (parse) 1.16× and 1.25×, efficiency 0.97 and 0.85 (docs/calibrate.md).
 */
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {availableParallelism, loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {Worker} from 'node:worker_threads'
import {gunzipSync} from 'node:zlib'
import {median, repoRoot, round, sharedData} from './lib.js'

export const name = 'calibrate'

/** The marginal figures (see where they are used): per rep, the line through the small and the big grid's walls. */
function marginal(one: Sample[], many: Sample[], smallOne: Sample[], smallMany: Sample[], jobs: number, smallJobs: number): Record<string, number | string> {
  const perJob = (big: Sample, small: Sample) => (big.wallMs - small.wallMs) / (jobs - smallJobs)
  const fixed = (big: Sample, small: Sample) => small.wallMs - perJob(big, small) * smallJobs
  const reps = one.map((_, i) => ({oneJob: perJob(one[i], smallOne[i]), manyJob: perJob(many[i], smallMany[i]), oneFixed: fixed(one[i], smallOne[i]), manyFixed: fixed(many[i], smallMany[i])}))
  return {
    marginal_1_worker_ms_per_job: round(median(reps.map((r) => r.oneJob)), 2),
    marginal_all_workers_ms_per_job: round(median(reps.map((r) => r.manyJob)), 2),
    marginal_all_vs_one_x: round(median(reps.map((r) => r.oneJob / r.manyJob)), 2),
    marginal_all_vs_one_x_each: reps.map((r) => round(r.oneJob / r.manyJob, 2)).join(' '),
    fixed_s_1_worker: round(median(reps.map((r) => r.oneFixed)) / 1000, 2),
    fixed_s_all_workers: round(median(reps.map((r) => r.manyFixed)) / 1000, 2),
  }
}

const REPS = 3
/** the compute kernel's loop iterations per thread: 1.4–2.3 s in one thread here (2026-11-30) */
const COMPUTE_ITERATIONS = 600_000_000
/** the parse kernel's passes over the depth lines per thread: 1.4–2.2 s in one thread here (2026-11-30) */
const PARSE_PASSES = 7
/** calibrate's young generation per worker (src/lib/calibrate/run.ts), so the parse kernel's GC works alike */
const YOUNG_GENERATION_MB = 96
const TICK_MS = 10 // /proc/…/stat counts CPU in clock ticks of 10 ms (USER_HZ 100)

interface Sample {
  wallMs: number
  cpuMs: number
  /** the run's job times (its --json jobMs): medians of the workers' first jobs on a window and of the rest */
  firstMs: number
  warmMs: number
  /** per-thread CPU (ms) from /proc, null where /proc is not there */
  threads: {main: number; workers: number; maxWorker: number; other: number} | null
}

/** CPU (ms) of each thread of `pid` now, by thread id; empty when /proc has none. */
function threadCpu(pid: number): Map<number, number> {
  const m = new Map<number, number>()
  let tids: string[]
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return m
  }
  for (const t of tids) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8')
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
      m.set(Number(t), (Number(f[11]) + Number(f[12])) * TICK_MS)
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return m
}

/** Run the CLI, polling its threads' CPU until it exits (the last poll before exit counts). */
function once(bin: string, spec: string, out: string, workers: number): Promise<Sample> {
  return new Promise((resolveRun, rejectRun) => {
    const t0 = process.hrtime.bigint()
    const child = spawn(process.execPath, [bin, 'calibrate', spec, '--out', out, '--workers', String(workers), '--json'], {stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const seen = new Map<number, number>()
    const poll = () => {
      for (const [tid, ms] of threadCpu(child.pid as number)) seen.set(tid, ms)
    }
    const timer = setInterval(poll, 50)
    child.on('error', rejectRun)
    child.on('exit', (code) => {
      clearInterval(timer)
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6
      if (code !== 0) {
        rejectRun(new Error(`mm calibrate --workers ${workers} exited ${code}: ${stderr.trim().split('\n').pop()}`))
        return
      }
      const data = (JSON.parse(stdout) as {data: {cpuMs: number; jobMs: {first: {medianMs: number | null}; warm: {medianMs: number | null}}}}).data
      const {cpuMs} = data
      if (data.jobMs.first.medianMs === null || data.jobMs.warm.medianMs === null) {
        rejectRun(new Error(`mm calibrate --workers ${workers} timed no first or no warm job (jobMs ${JSON.stringify(data.jobMs)}): the bench grid needs both`))
        return
      }
      let threads: Sample['threads'] = null
      if (seen.size > 0) {
        const main = seen.get(child.pid as number) ?? 0
        // the worker threads are the busiest threads but the main one (each runs jobs for
        // seconds; V8's and libuv's helper threads use a fraction of that)
        const rest = [...seen].filter(([tid]) => tid !== child.pid).map(([, ms]) => ms).sort((a, b) => b - a)
        const w = rest.slice(0, workers)
        threads = {main, workers: w.reduce((a, b) => a + b, 0), maxWorker: w[0] ?? 0, other: rest.slice(workers).reduce((a, b) => a + b, 0)}
      }
      resolveRun({wallMs, cpuMs, firstMs: data.jobMs.first.medianMs, warmMs: data.jobMs.warm.medianMs, threads})
    })
  })
}

/**
 * The reference kernels' worker code (plain JavaScript, CommonJS, evaluated: no loader, no
 * module of the product). On setup the worker prepares its data and says `ready`; on `go`
 * it runs its fixed amount of work and answers with a result derived from it (so nothing
 * is optimised away).
 * - compute: an integer hash over a 256 KB Int32Array, read and written back; no allocation.
 * - parse: JSON.parse of every depth line it was given, PARSE_PASSES times, keeping the
 *   last 256 objects (so some survive a scavenge, as a job's state does); the garbage
 *   is V8's young and old generation work, helper threads included, as in calibrate.
 */
const KERNEL = `
const {parentPort, workerData} = require('node:worker_threads')
const {kind, size, text} = workerData
let work
if (kind === 'compute') {
  const a = new Int32Array(1 << 16)
  for (let i = 0; i < a.length; i++) a[i] = Math.imul(i, 0x9e3779b1)
  work = () => {
    let h = 0
    for (let i = 0; i < size; i++) {
      const j = i & 0xffff
      h = (Math.imul(h ^ a[j], 0x9e3779b1) + (h >>> 15)) | 0
      a[j] = h
    }
    return h
  }
} else {
  const lines = text.split('\\n')
  const keep = new Array(256)
  work = () => {
    let n = 0
    for (let p = 0; p < size; p++) {
      for (let i = 0; i < lines.length; i++) {
        const o = JSON.parse(lines[i])
        n += o.data.b.length + o.data.a.length
        keep[i & 255] = o
      }
    }
    return n
  }
}
parentPort.once('message', () => parentPort.postMessage({result: work()}))
parentPort.postMessage('ready')
`

type Kernel = {kind: 'compute'; size: number} | {kind: 'parse'; size: number; text: string}

/**
 * Run `kernel` in `threads` worker threads at once, each doing the same fixed work; the
 * wall time (ms) from the moment all are set up (started, data copied and split) until
 * the last one is done.
 */
async function kernelWall(kernel: Kernel, threads: number): Promise<number> {
  const workers = Array.from(
    {length: threads},
    () =>
      new Worker(KERNEL, {
        eval: true,
        workerData: {text: '', ...kernel},
        resourceLimits: {maxYoungGenerationSizeMb: YOUNG_GENERATION_MB},
      }),
  )
  try {
    const next = (w: Worker) =>
      new Promise<unknown>((resolveMsg, rejectMsg) => {
        const onError = (e: Error) => rejectMsg(e)
        w.once('error', onError)
        w.once('message', (m: unknown) => {
          w.off('error', onError)
          resolveMsg(m)
        })
      })
    await Promise.all(workers.map((w) => next(w)))
    const done = workers.map((w) => next(w))
    const t0 = process.hrtime.bigint()
    for (const w of workers) w.postMessage('go')
    const results = (await Promise.all(done)) as {result: number}[]
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    // every thread did the same work: the same result, or the kernel is broken
    if (results.some((r) => r.result !== results[0].result)) throw new Error(`reference kernel ${kernel.kind}: threads disagree (${results.map((r) => r.result).join(', ')})`)
    return ms
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
}

/** One reference round: each kernel in one thread and in `all` threads (order alternating by round). */
interface RefRound {
  computeOneMs: number
  computeAllMs: number
  parseOneMs: number
  parseAllMs: number
}

async function refRound(compute: Kernel, parse: Kernel, all: number, k: number): Promise<RefRound> {
  const pair = async (kernel: Kernel): Promise<[number, number]> => {
    if (k % 2 === 0) {
      const one = await kernelWall(kernel, 1)
      return [one, await kernelWall(kernel, all)]
    }
    const many = await kernelWall(kernel, all)
    return [await kernelWall(kernel, 1), many]
  }
  const [computeOneMs, computeAllMs] = await pair(compute)
  const [parseOneMs, parseAllMs] = await pair(parse)
  return {computeOneMs, computeAllMs, parseOneMs, parseAllMs}
}

export async function run(): Promise<Record<string, number | string>> {
  const bin = join(repoRoot, 'bin/run.js')
  if (!existsSync(join(repoRoot, 'dist/commands/calibrate.js'))) throw new Error('dist/ has no calibrate command: run `npm run prepare` first')
  const data = (f: string) => sharedData(`hftbacktest/examples/usdm/${f}`)
  const tmp = mkdtempSync(join(tmpdir(), 'mm-bench-cal-'))
  const ks = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4]
  const windows = [
    {name: 'jul', replay: [data('ethusdt_20240718.gz'), data('ethusdt_20240719.gz')]},
    {name: 'aug', replay: [data('ethusdt_20240808.gz')]},
  ]
  const writeSpec = (file: string, spreads: number[]) =>
    writeFileSync(
      file,
      JSON.stringify({
        symbol: 'ETHUSDT',
        tickSize: '0.01',
        stepSize: '0.001',
        minNotional: '20',
        windows,
        base: {strategy: {baseSize: '0.01'}, risk: {netMax: '0.05'}},
        params: {'strategy.baseSpread': spreads, 'strategy.inventoryK': ks},
      }),
    )
  // the headline grid: 80 spreads (1 to 4.95 bp, 0.05 bp apart) × 8 skews = 640 points, 1,280 jobs
  const spreads = Array.from({length: 80}, (_, i) => (100 + 5 * i) / 1_000_000)
  const spec = join(tmp, 'spec.json')
  writeSpec(spec, spreads)
  // the small grid (the headline until 2026-12-01): 10 spreads × 8 skews = 80 points, 160 jobs
  const smallSpreads = [0.0001, 0.00012, 0.00015, 0.0002, 0.00025, 0.0003, 0.00035, 0.0004, 0.00045, 0.0005]
  const smallSpec = join(tmp, 'small.json')
  writeSpec(smallSpec, smallSpreads)
  const all = availableParallelism()
  const points = spreads.length * ks.length
  const jobs = points * windows.length
  const smallPoints = smallSpreads.length * ks.length
  // the parse kernel's input: the depth lines of the August window, read once here
  const depthLines = gunzipSync(readFileSync(data('ethusdt_20240808.gz')))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.includes('@depth'))
    .map((l) => l.slice(l.indexOf(' ') + 1))
  if (depthLines.length < 1000) throw new Error(`ethusdt_20240808.gz: only ${depthLines.length} depth lines, expected thousands`)
  const compute: Kernel = {kind: 'compute', size: COMPUTE_ITERATIONS}
  const parse: Kernel = {kind: 'parse', size: PARSE_PASSES, text: depthLines.join('\n')}
  const loadBefore = loadavg()[0]
  const one: Sample[] = []
  const many: Sample[] = []
  const smallOne: Sample[] = []
  const smallMany: Sample[] = []
  const refs: RefRound[] = []
  try {
    // ref, 1 worker, ref, all workers, (small grid: 1 worker, all workers), ref, …, ref: every
    // headline calibrate run between two reference rounds
    for (let r = 0; r < REPS; r++) {
      for (const [workers, into] of [
        [1, one],
        [all, many],
      ] as const) {
        refs.push(await refRound(compute, parse, all, refs.length))
        const out = join(tmp, `o-${workers}-${r}`)
        into.push(await once(bin, spec, out, workers))
        rmSync(out, {recursive: true, force: true})
      }
      // then the small grid, one worker and all (no reference round between: it takes seconds)
      for (const [workers, into] of [
        [1, smallOne],
        [all, smallMany],
      ] as const) {
        const out = join(tmp, `s-${workers}-${r}`)
        into.push(await once(bin, smallSpec, out, workers))
        rmSync(out, {recursive: true, force: true})
      }
    }
    refs.push(await refRound(compute, parse, all, refs.length))
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }
  const perMin = (ms: number) => (points * 60_000) / ms
  const med = (xs: Sample[], f: (s: Sample) => number) => median(xs.map(f))
  const figures: Record<string, number | string> = {
    workers_all: all,
    points,
    jobs,
    points_per_min_1_worker: round(perMin(med(one, (s) => s.wallMs)), 1),
    points_per_min_all_workers: round(perMin(med(many, (s) => s.wallMs)), 1),
    all_vs_one_x: round(median(one.map((s, i) => s.wallMs / many[i].wallMs)), 2),
    all_vs_one_x_each: one.map((s, i) => round(s.wallMs / many[i].wallMs, 2)).join(' '),
    // the least-disturbed run of each: fastest 1-worker wall / fastest all-worker wall
    all_vs_one_best_x: round(Math.min(...one.map((s) => s.wallMs)) / Math.min(...many.map((s) => s.wallMs)), 2),
    // CPU the calibrate process got (all threads) over its wall time: 1 worker can use up to 1 core (plus V8's helpers), W workers up to W
    cpu_share_1_worker: round(med(one, (s) => s.cpuMs / s.wallMs), 2),
    cpu_share_all_workers: round(med(many, (s) => s.cpuMs / s.wallMs), 2),
    cpu_s_per_job_1_worker: round(med(one, (s) => s.cpuMs) / jobs / 1000, 3),
    cpu_s_per_job_all_workers: round(med(many, (s) => s.cpuMs) / jobs / 1000, 3),
    cpu_all_vs_one_ratio: round(median(many.map((s, i) => s.cpuMs / one[i].cpuMs)), 3),
    // ceilings the same run puts on all_vs_one_x (see the header): one worker's wall is its CPU
    // over its share; all workers' wall is at least their CPU over the cores. So even if W
    // workers cost no more CPU than one, the ratio is at most cores / cpu_share_1_worker…
    all_vs_one_ceiling_same_cpu_x: round(all / med(one, (s) => s.cpuMs / s.wallMs), 2),
    // …and with the CPU the all-worker runs did take, at most cores × 1-worker wall / all-worker CPU
    all_vs_one_ceiling_measured_cpu_x: round(median(one.map((s, i) => (all * s.wallMs) / many[i].cpuMs)), 2),
    // each job's own time in its worker (medians; calibrate's --json jobMs): a worker's first job
    // on a window decodes it; the others ("warm") replay it from memory. all × warm job with one
    // worker / warm job with all: what the jobs alone would give, side by side on the shared
    // cores, were there no start-up, decode or end of run
    first_job_ms_1_worker: round(med(one, (s) => s.firstMs), 1),
    first_job_ms_all_workers: round(med(many, (s) => s.firstMs), 1),
    warm_job_ms_1_worker: round(med(one, (s) => s.warmMs), 1),
    warm_job_ms_all_workers: round(med(many, (s) => s.warmMs), 1),
    warm_all_vs_one_x: round(median(one.map((s, i) => (all * s.warmMs) / many[i].warmMs)), 2),
    // the small grid, same reps: the same jobs, an eighth as many, so start-up, the first
    // decode and the end of the run weigh eight times as much
    small_grid_points: smallPoints,
    small_grid_jobs: smallPoints * windows.length,
    small_grid_points_per_min_1_worker: round((smallPoints * 60_000) / med(smallOne, (s) => s.wallMs), 1),
    small_grid_points_per_min_all_workers: round((smallPoints * 60_000) / med(smallMany, (s) => s.wallMs), 1),
    small_grid_all_vs_one_x: round(median(smallOne.map((s, i) => s.wallMs / smallMany[i].wallMs)), 2),
    small_grid_all_vs_one_x_each: smallOne.map((s, i) => round(s.wallMs / smallMany[i].wallMs, 2)).join(' '),
    small_grid_first_job_ms_1_worker: round(med(smallOne, (s) => s.firstMs), 1),
    small_grid_first_job_ms_all_workers: round(med(smallMany, (s) => s.firstMs), 1),
    small_grid_warm_all_vs_one_x: round(median(smallOne.map((s, i) => (all * s.warmMs) / smallMany[i].warmMs)), 2),
    // Each run's wall as a fixed part plus a time per job, from the two grids of the same rep
    // (a line through the two points): the 1,120 jobs the big grid adds took `marginal_*_ms_per_job`
    // each, and what is left of the small grid's wall is the run's fixed part (start-up,
    // the first decodes with code not yet compiled, the end of the run). `marginal_all_vs_one_x`,
    // the ratio of the time per job: what all workers give over one on a calibration long
    // enough for the fixed part not to count. Not the headline (all_vs_one_x, the whole
    // run, is): it does not include start-up. Medians of the reps.
    ...marginal(one, many, smallOne, smallMany, jobs, smallPoints * windows.length),
  }
  if (one.every((s) => s.threads) && many.every((s) => s.threads)) {
    const th = (s: Sample) => s.threads as NonNullable<Sample['threads']>
    for (const [label, xs] of [
      ['1_worker', one],
      ['all_workers', many],
    ] as const) {
      figures[`cpu_s_main_thread_${label}`] = round(med(xs, (s) => th(s).main) / 1000, 2)
      figures[`cpu_s_worker_threads_${label}`] = round(med(xs, (s) => th(s).workers) / 1000, 2)
      figures[`cpu_s_other_threads_${label}`] = round(med(xs, (s) => th(s).other) / 1000, 2)
    }
    // what the same run would give on idle cores (see the header)
    const idleOne = (s: Sample) => th(s).main + th(s).maxWorker
    const idleMany = (s: Sample) => Math.max(s.cpuMs / all, th(s).main + th(s).maxWorker)
    figures.projected_all_vs_one_x = round(median(one.map((s, i) => idleOne(s) / idleMany(many[i]))), 2)
  }
  // the machine's own ceiling, same run, same schedule (see the header): a kernel in `all`
  // threads at once, each doing one thread's work, against one thread: all × one / all-threads wall
  const x = (oneMs: number, allMs: number) => (all * oneMs) / allMs
  for (const [kernel, oneOf, allOf] of [
    ['compute', (q: RefRound) => q.computeOneMs, (q: RefRound) => q.computeAllMs],
    ['parse', (q: RefRound) => q.parseOneMs, (q: RefRound) => q.parseAllMs],
  ] as const) {
    const ones = refs.map(oneOf)
    figures[`machine_${kernel}_all_vs_one_x`] = round(median(refs.map((q) => x(oneOf(q), allOf(q)))), 2)
    figures[`machine_${kernel}_all_vs_one_x_each`] = refs.map((q) => round(x(oneOf(q), allOf(q)), 2)).join(' ')
    figures[`machine_${kernel}_all_vs_one_best_x`] = round(x(Math.min(...ones), Math.min(...refs.map(allOf))), 2)
    // one thread's time for the same work, over the rounds: how much the machine's speed drifts
    figures[`machine_${kernel}_one_thread_s`] = round(median(ones) / 1000, 3)
    figures[`machine_${kernel}_one_thread_s_range`] = `${round(Math.min(...ones) / 1000, 3)}–${round(Math.max(...ones) / 1000, 3)}`
  }
  // calibrate's scaling as a share of what this machine gives two allocation-heavy threads
  figures.calibrate_vs_machine_parse_efficiency = round((figures.all_vs_one_x as number) / (figures.machine_parse_all_vs_one_x as number), 2)
  figures.machine_ref_rounds = refs.length
  // other processes compete for the same cores: a load above the core count makes the wall ratio meaningless
  figures.load_avg_1m_before = round(loadBefore, 1)
  figures.load_avg_1m_after = round(loadavg()[0], 1)
  return figures
}
