/**
 * `mm status --json` starts fast (issue 9): its wall time against `node -e 0` in the same
 * run, interleaved, median of each; target ratio ≤ 3 (a bare oclif 4 command measured 2.6×).
 * Also a bare `mm --version` for the oclif floor. The state dir holds one symbol's state.
 */
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {median, repoRoot} from './lib.js'

export const name = 'status startup'

function wall(args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, args, {cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe']})
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${String(r.stderr)}`)
  return ms
}

export async function run(): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(join(tmpdir(), 'mm-bench-status-'))
  mkdirSync(join(dir, 'ETHUSDC'))
  const state = {
    schema: 1, symbol: 'ETHUSDC', dryRun: true, updatedAt: new Date().toISOString(), instrument: {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}, process: null,
    position: {net: '0.010', avgCost: '3400.1', mark: '3401', realised: '1.2', unrealised: '0.009', fees: '-0.01', funding: '0', total: '1.219', fills: 12, ledger: null},
    orders: {}, risk: {mode: 'normal', reduceOnly: false, pause: null, counters: {}}, halt: null,
    counters: {writes: 1, orders: 0, cancels: 0, fills: 12, rejects: 0, controlRequests: 0}, control: {acks: []}, flatten: null,
  }
  writeFileSync(join(dir, 'ETHUSDC', 'state.json'), JSON.stringify(state))
  const env = {...process.env, MM_STATE_DIR: dir}
  const bin = join(repoRoot, 'bin/run.js')
  const node: number[] = []
  const status: number[] = []
  const version: number[] = []
  for (let i = 0; i < 2; i++) {
    wall(['-e', '0'], env)
    wall([bin, 'status', '--json'], env)
  }
  for (let i = 0; i < 15; i++) {
    node.push(wall(['-e', '0'], env))
    status.push(wall([bin, 'status', '--json'], env))
    version.push(wall([bin, '--version'], env))
  }
  const n = median(node)
  const s = median(status)
  const v = median(version)
  return {node_e0_median_ms: Math.round(n * 10) / 10, status_json_median_ms: Math.round(s * 10) / 10, version_median_ms: Math.round(v * 10) / 10, status_vs_node_ratio: Math.round((s / n) * 100) / 100, version_vs_node_ratio: Math.round((v / n) * 100) / 100, target: 'status_vs_node_ratio ≤ 3'}
}
