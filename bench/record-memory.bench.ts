/**
 * `mm record` memory at the highest synthetic rate `mm sim` serves (issue 13): both as
 * child processes (bin/run.js, the build), so only the recorder's own process is measured:
 * its RSS read from /proc every second for 60 s, and its CPU time.
 *
 * Flat, the bound this bench calls flat: after a 20 s warm-up, over the last 40 s, the
 * median RSS of the window's last 10 s is less than 5 % above the median of its first
 * 10 s (`rss_growth_pct`); the least-squares slope over the window (`rss_slope_mb_per_min`)
 * is reported beside it. Medians, not single samples: V8 lets garbage pile up between
 * major GCs, so RSS saw-tooths by a few tens of MB around a level that is flat.
 *
 * When the disk cannot keep up the recorder drops and counts instead of buffering
 * (`dropped`); `recorder_cpu_pct` near 100 says the recorder, not the sim, set the rate
 * (the sim does not wait for slow readers: what the recorder has not read waits in the
 * sim, whose RSS is `sim_rss_mb_at_end`).
 * MM_BENCH_RECORD_S overrides the 60 s (e.g. a quick look; the warm-up is a third of it).
 */
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {median, repoRoot} from './lib.js'

export const name = 'record memory at max synthetic rate'

const BIN = join(repoRoot, 'bin/run.js')
/** Linux clock ticks per second (USER_HZ), what /proc/<pid>/stat counts CPU time in */
const CLK_TCK = 100

function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : undefined
  } catch {
    return undefined
  }
}

/** user + system CPU time of a process, seconds */
function cpuS(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) / CLK_TCK
  } catch {
    return undefined
  }
}

/** least-squares slope of y over x */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my)
    den += (xs[i] - mx) ** 2
  }
  return den === 0 ? 0 : num / den
}

const round1 = (x: number) => Math.round(x * 10) / 10

/** the median RSS of each 10 s of the run, MB, space-separated (the shape of the curve) */
function per10(samples: [number, number][], seconds: number): string {
  const out: number[] = []
  for (let a = 0; a < seconds; a += 10) {
    const vs = samples.filter(([t]) => t > a && t <= a + 10).map(([, v]) => v)
    if (vs.length > 0) out.push(Math.round(median(vs)))
  }
  return out.join(' ')
}

export async function run(): Promise<Record<string, number | string>> {
  const seconds = Number(process.env.MM_BENCH_RECORD_S ?? 60)
  const loadStart = round1(loadavg()[0])
  const warmup = seconds >= 60 ? seconds - 40 : Math.round(seconds / 3)
  const sim = spawn(process.execPath, [BIN, 'sim', '--synthetic', '--seed', '3', '--speed', 'max', '--json'], {stdio: ['ignore', 'pipe', 'inherit']})
  const out = mkdtempSync(join(tmpdir(), 'mm-bench-rec-'))
  try {
    let text = ''
    const urls = await new Promise<{restUrl: string; wsUrl: string}>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('mm sim did not start')), 30_000)
      sim.stdout!.setEncoding('utf8').on('data', (d: string) => {
        text += d
        const line = text.split('\n').find((l) => l.includes('"listening"'))
        if (line) {
          clearTimeout(t)
          resolve(JSON.parse(line).data)
        }
      })
    })
    const rec = spawn(process.execPath, [BIN, 'record', '--symbol', 'ETHUSDC', '--out', out, '--duration', `${seconds + 2}s`, '--json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {...process.env, MM_REST_URL: urls.restUrl, MM_WS_URL: urls.wsUrl},
    })
    const t0 = performance.now()
    let recOut = ''
    rec.stdout!.setEncoding('utf8').on('data', (d: string) => (recOut += d))
    const exited = new Promise<number | null>((r) => rec.on('close', (c) => r(c)))
    /** [seconds since the recorder started, RSS MB] */
    const samples: [number, number][] = []
    let cpuAtWarmup: [number, number] | undefined
    let cpuAtEnd: [number, number] | undefined
    for (let s = 1; s <= seconds; s++) {
      // the sampling period: the next whole second since the start, whatever the drift
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + s * 1000 - performance.now())))
      const at = (performance.now() - t0) / 1000
      const v = rssMb(rec.pid!)
      if (v !== undefined) samples.push([at, v])
      const c = cpuS(rec.pid!)
      if (c !== undefined && s === warmup) cpuAtWarmup = [at, c]
      if (c !== undefined) cpuAtEnd = [at, c]
    }
    const simRss = rssMb(sim.pid!) ?? 0
    const code = await exited
    const summary = JSON.parse(recOut).data as {messages: number; elapsedMs: number; dropped: number; resyncs: number; rows: number}
    const window = samples.filter(([t]) => t > warmup)
    const first10 = median(window.filter(([t]) => t <= warmup + 10).map(([, v]) => v))
    const last10 = median(window.filter(([t]) => t > seconds - 10).map(([, v]) => v))
    const growthPct = ((last10 - first10) / first10) * 100
    const mbPerMin = slope(window.map(([t]) => t), window.map(([, v]) => v)) * 60
    const cpuPct = cpuAtWarmup && cpuAtEnd ? ((cpuAtEnd[1] - cpuAtWarmup[1]) / (cpuAtEnd[0] - cpuAtWarmup[0])) * 100 : -1
    const at15 = samples.find(([t]) => t >= Math.min(15, seconds) - 0.5)?.[1] ?? 0
    return {
      seconds,
      warmup_s: warmup,
      exit_code: code ?? -1,
      messages_per_s: Math.round((summary.messages * 1000) / summary.elapsedMs),
      rows_per_s: Math.round((summary.rows * 1000) / summary.elapsedMs),
      dropped: summary.dropped,
      resyncs: summary.resyncs,
      recorder_cpu_pct: Math.round(cpuPct),
      rss_mb_at_15s: Math.round(at15),
      rss_mb_at_end: Math.round(samples.at(-1)?.[1] ?? 0),
      rss_mb_max: Math.round(Math.max(...samples.map(([, v]) => v))),
      rss_mb_window_min: Math.round(Math.min(...window.map(([, v]) => v))),
      rss_mb_window_max: Math.round(Math.max(...window.map(([, v]) => v))),
      rss_median_mb_window_first_10s: round1(first10),
      rss_median_mb_window_last_10s: round1(last10),
      rss_growth_pct: round1(growthPct),
      rss_slope_mb_per_min: round1(mbPerMin),
      rss_median_mb_per_10s: per10(samples, seconds),
      flat: growthPct < 5 ? 'yes (< 5 % growth after warm-up)' : 'no (≥ 5 % growth after warm-up)',
      sim_rss_mb_at_end: Math.round(simRss),
      load_avg_1m_start: loadStart,
      load_avg_1m_end: round1(loadavg()[0]),
    }
  } finally {
    sim.kill('SIGTERM')
    rmSync(out, {recursive: true, force: true})
  }
}
