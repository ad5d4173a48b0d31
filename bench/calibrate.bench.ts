/**
 * `mm calibrate` throughput: grid points per minute with every core's worker thread
 * against one worker, the same grid in the same run (interleaved, so other load hits
 * both alike), through the built CLI (`npm run prepare` first).
 *
 * The workload: a 10 × 8 grid (80 points) on two windows of the real ETHUSDT streams
 * (the 2024-07-18/19 pair, 8 minutes, and 2024-08-08, 5.75 minutes): 160 jobs, each a full
 * paper replay. A run has a fixed cost per worker (thread start-up and module loading,
 * the first decode of a window, V8 compiling the replay code: about 2.5 s of CPU) against
 * about 0.17 s per job (each worker converts a window's levels to ticks once: book/sync.ts
 * memoizeLevels), so a grid of a few points measures start-up, not scaling: a real
 * calibration is hundreds of points, and 160 jobs put the start-up near the share it has
 * there while the section stays within about 2 minutes on idle cores.
 *
 * Target: ≥ 1.8× on two otherwise idle cores. On a shared machine (Linux autogroup
 * scheduling shares CPU per session, not per thread) more threads cannot win more CPU, so
 * the wall ratio then says nothing; the figures that do not depend on load are the CPU
 * times, per thread kind (Linux /proc): the main thread, the worker threads (the jobs'
 * JavaScript) and the rest (V8's background compiler and GC threads, libuv), and from them
 * the ratio the same run would give on idle cores (`projected_all_vs_one_x`: one worker's
 * wall is its main and worker threads' CPU, the background threads running on the other
 * core; all workers' wall is the whole process CPU over the cores, or the busiest worker
 * thread plus the main thread if longer). The 1-minute load average before and after is
 * recorded.
 */
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {availableParallelism, loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {median, repoRoot, round, sharedData} from './lib.js'

export const name = 'calibrate'

const REPS = 2
const TICK_MS = 10 // /proc/…/stat counts CPU in clock ticks of 10 ms (USER_HZ 100)

interface Sample {
  wallMs: number
  cpuMs: number
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
      const cpuMs = (JSON.parse(stdout) as {data: {cpuMs: number}}).data.cpuMs
      let threads: Sample['threads'] = null
      if (seen.size > 0) {
        const main = seen.get(child.pid as number) ?? 0
        // the worker threads are the busiest threads but the main one (each runs jobs for
        // seconds; V8's and libuv's helper threads use a fraction of that)
        const rest = [...seen].filter(([tid]) => tid !== child.pid).map(([, ms]) => ms).sort((a, b) => b - a)
        const w = rest.slice(0, workers)
        threads = {main, workers: w.reduce((a, b) => a + b, 0), maxWorker: w[0] ?? 0, other: rest.slice(workers).reduce((a, b) => a + b, 0)}
      }
      resolveRun({wallMs, cpuMs, threads})
    })
  })
}

export async function run(): Promise<Record<string, number | string>> {
  const bin = join(repoRoot, 'bin/run.js')
  if (!existsSync(join(repoRoot, 'dist/commands/calibrate.js'))) throw new Error('dist/ has no calibrate command: run `npm run prepare` first')
  const data = (f: string) => sharedData(`hftbacktest/examples/usdm/${f}`)
  const tmp = mkdtempSync(join(tmpdir(), 'mm-bench-cal-'))
  const spec = join(tmp, 'spec.json')
  const spreads = [0.0001, 0.00012, 0.00015, 0.0002, 0.00025, 0.0003, 0.00035, 0.0004, 0.00045, 0.0005]
  const ks = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4]
  const windows = [
    {name: 'jul', replay: [data('ethusdt_20240718.gz'), data('ethusdt_20240719.gz')]},
    {name: 'aug', replay: [data('ethusdt_20240808.gz')]},
  ]
  writeFileSync(
    spec,
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
  const all = availableParallelism()
  const points = spreads.length * ks.length
  const jobs = points * windows.length
  const loadBefore = loadavg()[0]
  const one: Sample[] = []
  const many: Sample[] = []
  try {
    for (let r = 0; r < REPS; r++) {
      for (const [workers, into] of [
        [1, one],
        [all, many],
      ] as const) {
        const out = join(tmp, `o-${workers}-${r}`)
        into.push(await once(bin, spec, out, workers))
        rmSync(out, {recursive: true, force: true})
      }
    }
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
    // CPU the calibrate process got (all threads) over its wall time: 1 worker can use up to 1 core (plus V8's helpers), W workers up to W
    cpu_share_1_worker: round(med(one, (s) => s.cpuMs / s.wallMs), 2),
    cpu_share_all_workers: round(med(many, (s) => s.cpuMs / s.wallMs), 2),
    cpu_s_per_job_1_worker: round(med(one, (s) => s.cpuMs) / jobs / 1000, 3),
    cpu_s_per_job_all_workers: round(med(many, (s) => s.cpuMs) / jobs / 1000, 3),
    cpu_all_vs_one_ratio: round(median(many.map((s, i) => s.cpuMs / one[i].cpuMs)), 3),
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
  // other processes compete for the same cores: a load above the core count makes the wall ratio meaningless
  figures.load_avg_1m_before = round(loadBefore, 1)
  figures.load_avg_1m_after = round(loadavg()[0], 1)
  return figures
}
