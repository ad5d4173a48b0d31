/**
 * `mm calibrate` throughput: grid points per minute with every core's worker thread
 * against one worker, the same grid in the same run (interleaved, so other load hits
 * both alike). The workload: a 2 × 2 grid on the whole real ETHUSDT 2024-07-18/19 stream
 * (8 minutes), each point a full paper replay, through the built CLI
 * (`npm run prepare` first). Target: ≥ 1.8× on two otherwise idle cores; the 1-minute
 * load average before and after is recorded, since on a shared machine (Linux autogroup
 * scheduling shares CPU per session, not per thread) more threads cannot win more CPU.
 * The CPU share each variant got (process CPU time, all threads, over wall time) says
 * whether the cores were there to use.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {availableParallelism, loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {median, repoRoot, round, sharedData} from './lib.js'

export const name = 'calibrate'

const REPS = 2

export async function run(): Promise<Record<string, number | string>> {
  const bin = join(repoRoot, 'bin/run.js')
  if (!existsSync(join(repoRoot, 'dist/commands/calibrate.js'))) throw new Error('dist/ has no calibrate command: run `npm run prepare` first')
  const [a, b] = ['hftbacktest/examples/usdm/ethusdt_20240718.gz', 'hftbacktest/examples/usdm/ethusdt_20240719.gz'].map(sharedData)
  const tmp = mkdtempSync(join(tmpdir(), 'mm-bench-cal-'))
  const spec = join(tmp, 'spec.json')
  writeFileSync(
    spec,
    JSON.stringify({
      symbol: 'ETHUSDT',
      tickSize: '0.01',
      stepSize: '0.001',
      minNotional: '20',
      windows: [{name: 'w', replay: [a, b]}],
      base: {strategy: {baseSize: '0.01'}, risk: {netMax: '0.05'}},
      params: {'strategy.baseSpread': [0.0001, 0.0003], 'strategy.inventoryK': [0.5, 2]},
    }),
  )
  const all = availableParallelism()
  const points = 4
  const cpu: Record<'one' | 'many', number[]> = {one: [], many: []}
  const once = (workers: number, rep: number, key: 'one' | 'many'): number => {
    const out = join(tmp, `o-${workers}-${rep}`)
    const t0 = process.hrtime.bigint()
    const stdout = execFileSync(process.execPath, [bin, 'calibrate', spec, '--out', out, '--workers', String(workers), '--json'], {stdio: 'pipe', encoding: 'utf8'})
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    cpu[key].push((JSON.parse(stdout) as {data: {cpuMs: number}}).data.cpuMs)
    rmSync(out, {recursive: true, force: true})
    return ms
  }
  const loadBefore = loadavg()[0]
  const one: number[] = []
  const many: number[] = []
  for (let r = 0; r < REPS; r++) {
    one.push(once(1, r, 'one'))
    many.push(once(all, r, 'many'))
  }
  rmSync(tmp, {recursive: true, force: true})
  const perMin = (ms: number) => (points * 60_000) / ms
  return {
    workers_all: all,
    points,
    points_per_min_1_worker: round(perMin(median(one)), 1),
    points_per_min_all_workers: round(perMin(median(many)), 1),
    all_vs_one_x: round(median(one.map((t, i) => t / many[i])), 2),
    // CPU the calibrate process got (all threads) over its wall time: 1 worker can use up to 1 core, W workers up to W
    cpu_share_1_worker: round(median(cpu.one.map((c, i) => c / one[i])), 2),
    cpu_share_all_workers: round(median(cpu.many.map((c, i) => c / many[i])), 2),
    cpu_s_per_point_1_worker: round(median(cpu.one) / points / 1000, 2),
    cpu_s_per_point_all_workers: round(median(cpu.many) / points / 1000, 2),
    // other processes compete for the same cores: a load above the core count makes the ratio meaningless
    load_avg_1m_before: round(loadBefore, 1),
    load_avg_1m_after: round(loadavg()[0], 1),
  }
}
