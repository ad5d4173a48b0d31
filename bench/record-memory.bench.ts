/**
 * `mm record` memory at the highest synthetic rate `mm sim` serves (issue 13): both as
 * child processes (bin/run.js, the build), the recorder's RSS sampled every second from
 * /proc for 60 s. Flat means the 60 s figure is close to the 15 s one (ratio ≈ 1), not
 * growing with the messages taken; when the disk cannot keep up the recorder drops and
 * counts instead of buffering.
 * MM_BENCH_RECORD_S overrides the 60 s (e.g. a quick look).
 */
import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {repoRoot} from './lib.js'

export const name = 'record memory at max synthetic rate'

const BIN = join(repoRoot, 'bin/run.js')

function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : undefined
  } catch {
    return undefined
  }
}

export async function run(): Promise<Record<string, number | string>> {
  const seconds = Number(process.env.MM_BENCH_RECORD_S ?? 60)
  const sim = spawn(process.execPath, [BIN, 'sim', '--synthetic', '--seed', '3', '--speed', 'max', '--json'], {stdio: ['ignore', 'pipe', 'inherit']})
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
    const out = mkdtempSync(join(tmpdir(), 'mm-bench-rec-'))
    const rec = spawn(process.execPath, [BIN, 'record', '--symbol', 'ETHUSDC', '--out', out, '--duration', `${seconds + 2}s`, '--json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {...process.env, MM_REST_URL: urls.restUrl, MM_WS_URL: urls.wsUrl},
    })
    let recOut = ''
    rec.stdout!.setEncoding('utf8').on('data', (d: string) => (recOut += d))
    const exited = new Promise<number | null>((r) => rec.on('close', (c) => r(c)))
    const samples: number[] = []
    for (let s = 0; s < seconds; s++) {
      await new Promise((r) => setTimeout(r, 1000)) // the sampling period
      const v = rssMb(rec.pid!)
      if (v !== undefined) samples.push(v)
    }
    const code = await exited
    const summary = JSON.parse(recOut).data as {messages: number; elapsedMs: number; dropped: number; rows: number}
    const at = (sec: number) => samples[Math.min(samples.length - 1, sec - 1)] ?? 0
    const early = at(Math.min(15, seconds))
    const late = at(seconds)
    return {
      seconds,
      exit_code: code ?? -1,
      messages_per_s: Math.round((summary.messages * 1000) / summary.elapsedMs),
      dropped: summary.dropped,
      rss_mb_at_15s: Math.round(early),
      rss_mb_at_end: Math.round(late),
      rss_mb_max: Math.round(Math.max(...samples)),
      rss_growth_ratio: Math.round((late / early) * 100) / 100,
    }
  } finally {
    sim.kill('SIGTERM')
  }
}
