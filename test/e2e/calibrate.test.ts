/**
 * mm calibrate end to end through bin/run.js on the shared real streams (ETHUSDT
 * 2024-07-18/19 pair, then 2024-08-08; 2 minutes of each to keep CI short): the same
 * spec ranks the same twice; a point's result is what a plain `mm quote --dry-run
 * --replay` with that config gives; a killed run resumes; plan → GNU parallel → collect
 * ranks the same as the in-process run.
 */
import {execFile, spawnSync} from 'node:child_process'
import {promisify} from 'node:util'
import {appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {ETH_JULY, sharedData} from '../support/shared-data.js'

const tmp = mkdtempSync(join(tmpdir(), 'mm-calib-'))
const SPEC = join(tmp, 'spec.yaml')
const INSTR = ['--tick-size', '0.01', '--step-size', '0.001', '--min-notional', '20']

interface Ranked {
  rank: number
  id: string
  point: Record<string, number>
  feasible: boolean
  score: number | null
  metrics: {netPnl: number; fills: number}
}
interface CalJson {
  ok: boolean
  data: {rankings: Array<{window: string; rows: Ranked[]}>; walkForward: unknown[]; winner: {id: string; window: string; config: unknown} | null; bestConfig: string | null; ran: number; resumed: number; outDir: string; jobMs: {first: {count: number; medianMs: number | null}; warm: {count: number; medianMs: number | null}}}
}

/** What must be equal between two runs: the rankings, the walk-forward and the winner. */
const ranking = (j: CalJson) => ({rankings: j.data.rankings, walkForward: j.data.walkForward, winner: j.data.winner})

function writeSpec(): void {
  const [a, b] = ETH_JULY.map((p) => sharedData(p))
  const aug = sharedData('hftbacktest/examples/usdm/ethusdt_20240808.gz')
  writeFileSync(
    SPEC,
    [
      'symbol: ETHUSDT',
      'tickSize: "0.01"',
      'stepSize: "0.001"',
      'minNotional: "20"',
      'windows:',
      `  - {name: jul, replay: [${a}, ${b}], duration: 2m}`,
      `  - {name: aug, replay: ${aug}, duration: 2m}`,
      'base: {strategy: {baseSize: "0.01"}, risk: {netMax: "0.05", stopLoss: -20}}',
      'params:',
      '  strategy.baseSpread: {min: 0.0001, max: 0.0003, steps: 2}',
      '  strategy.inventoryK: [0.5, 2]',
      'objective: netPnl',
      'constraints: {maxAbsPosition: 0.05, minFills: 1}',
      '',
    ].join('\n'),
  )
}

describe('mm calibrate (real ETHUSDT streams)', () => {
  let first: CalJson
  beforeAll(async () => {
    ensureBuilt('calibrate')
    writeSpec()
    const r = await runCli(['calibrate', SPEC, '--out', join(tmp, 'a'), '--workers', '2', '--json', '--html', join(tmp, 'a.html')])
    expect(r.code, r.stderr).toBe(0)
    first = JSON.parse(r.stdout) as CalJson
  }, 600_000)

  it('ranks 4 points on both windows, walks forward jul → aug, writes the winning config and a page', () => {
    expect(first.data.ran).toBe(8)
    expect(first.data.rankings.map((r) => [r.window, r.rows.length])).toEqual([['jul', 4], ['aug', 4]])
    for (const rk of first.data.rankings) {
      const scores = rk.rows.filter((r) => r.feasible).map((r) => r.score as number)
      expect(scores).toEqual([...scores].sort((x, y) => y - x))
    }
    expect(first.data.walkForward).toHaveLength(1)
    const page = readFileSync(join(tmp, 'a.html'), 'utf8')
    expect(page).toContain('Walk-forward')
    expect(page).not.toMatch(/<script|https?:\/\//)
    expect(JSON.parse(readFileSync(first.data.bestConfig as string, 'utf8'))).toEqual(first.data.winner?.config)
  })

  it('the same spec gives the same ranking twice (one worker this time)', async () => {
    const r = await runCli(['calibrate', SPEC, '--out', join(tmp, 'b'), '--workers', '1', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const one = JSON.parse(r.stdout) as CalJson
    expect(ranking(one)).toEqual(ranking(first))
    // one worker, two windows: it decoded each once; the other 6 jobs replayed a window it held
    expect([one.data.jobMs.first.count, one.data.jobMs.warm.count]).toEqual([2, 6])
    expect([typeof one.data.jobMs.first.medianMs, typeof one.data.jobMs.warm.medianMs]).toEqual(['number', 'number'])
  }, 600_000)

  it("the winner's best.config.json in a plain mm quote --dry-run --replay gives exactly that point's result", async () => {
    expect(first.data.winner).not.toBeNull()
    const w = first.data.winner as {id: string; window: string; config: unknown}
    expect(w.window).toBe('aug')
    const lines = readFileSync(join(tmp, 'a', 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as {id: string; window: string; summary: {fills: number}})
    const job = lines.find((r) => r.id === w.id && r.window === 'aug')
    expect(job?.summary.fills).toBeGreaterThan(0)
    const aug = sharedData('hftbacktest/examples/usdm/ethusdt_20240808.gz')
    const q = await runCli(['quote', '--symbol', 'ETHUSDT', '--dry-run', '--replay', aug, ...INSTR, '--duration', '2m', '--config', first.data.bestConfig as string, '--state-dir', join(tmp, 'q'), '--json'])
    expect(q.code, q.stderr).toBe(0)
    expect((JSON.parse(q.stdout) as {data: {summary: unknown}}).data.summary).toEqual(job?.summary)
  }, 600_000)

  it('a killed run resumes: the jobs already done are not re-run, the ranking is the same', async () => {
    const out = join(tmp, 'k')
    const run = spawnCli(['calibrate', SPEC, '--out', out, '--workers', '1'])
    await run.waitFor(/done p0001 jul/, 'stderr', 120_000)
    run.child.kill('SIGKILL')
    await run.exited
    const doneLines = readFileSync(join(out, 'results.jsonl'), 'utf8').split('\n').filter((l) => l.trim().startsWith('{') && l.trim().endsWith('}')).length
    expect(doneLines).toBeGreaterThanOrEqual(1)
    expect(doneLines).toBeLessThan(8)
    // a line a kill cut short (the write of a result in progress): the resumed run ends it before appending
    appendFileSync(join(out, 'results.jsonl'), '{"key":"torn-by-a-kill","metr')
    const r = await runCli(['calibrate', SPEC, '--out', out, '--workers', '2', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout) as CalJson
    expect(j.data.resumed).toBe(doneLines)
    expect(j.data.ran).toBe(8 - doneLines)
    expect(ranking(j)).toEqual(ranking(first))
    // once more: nothing left to run
    const again = JSON.parse((await runCli(['calibrate', SPEC, '--out', out, '--json'])).stdout) as CalJson
    expect([again.data.ran, again.data.resumed]).toEqual([0, 8])
  }, 600_000)

  it('plan → GNU parallel on this machine → collect gives the same ranking as the in-process run', async () => {
    const v = spawnSync('parallel', ['--version'], {encoding: 'utf8'})
    expect(v.stdout ?? '', 'GNU parallel is needed (Debian package `parallel`; .ci/run installs it)').toMatch(/GNU parallel/)
    const dir = join(tmp, 'plan')
    const p = await runCli(['calibrate', 'plan', SPEC, '--out', dir, '--json'])
    expect(p.code, p.stderr).toBe(0)
    expect((JSON.parse(p.stdout) as {data: {jobs: number}}).data.jobs).toBe(8)
    expect(readFileSync(join(dir, 'k8s-job.yaml'), 'utf8')).toMatch(/completionMode: Indexed[\s\S]*completions: 8/)
    // collect before the jobs ran: partly done, exit 3
    const early = await runCli(['calibrate', 'collect', dir])
    expect(early.code).toBe(3)
    expect(early.stderr).toMatch(/8 job\(s\) have no result \(p0001-jul; p0001-aug; p0002-jul; … 5 more\); nothing written/)
    await promisify(execFile)('bash', ['-c', `parallel --will-cite -j 2 --halt now,fail=1 < ${join(dir, 'jobs.txt')}`], {timeout: 600_000})
    expect(existsSync(join(dir, 'results', 'p0004-aug.json'))).toBe(true)
    const c = await runCli(['calibrate', 'collect', dir, '--json'])
    expect(c.code, c.stderr).toBe(0)
    expect(ranking(JSON.parse(c.stdout) as CalJson)).toEqual(ranking(first))
  }, 600_000)

  it('a bad spec is one clear line and exit 2', async () => {
    const bad = join(tmp, 'bad.json')
    writeFileSync(bad, JSON.stringify({symbol: 'ETHUSDT', windows: [{replay: 'x.gz'}], params: {'strategy.kind': [1]}}))
    const r = await runCli(['calibrate', bad, '--out', join(tmp, 'bad')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/params\.strategy\.kind: got \[1\], expected a numeric config key/)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  }, 600_000)
})
