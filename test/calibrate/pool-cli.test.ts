/**
 * The worker pool through bin/run.js on the shared real streams (2 minutes of the ETHUSDT
 * July pair and of 2024-08-08, 3 × 2 points: 12 jobs): with two workers, each holding its
 * next job while it runs one, results.jsonl holds exactly the lines one worker writes (in
 * another order) and report.json is byte for byte the same; a two-worker run killed after
 * its first results resumes to that same report.json, re-running only the jobs without a
 * line.
 */
import {readFileSync, writeFileSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {ETH_JULY, sharedData} from '../support/shared-data.js'

const tmp = mkdtempSync(join(tmpdir(), 'mm-calib-pool-'))
const SPEC = join(tmp, 'spec.json')
const JOBS = 12

const lines = (out: string) =>
  readFileSync(join(out, 'results.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
const complete = (out: string) => lines(out).filter((l) => l.startsWith('{') && l.endsWith('}'))

describe('mm calibrate worker pool (real ETHUSDT streams)', () => {
  let one: string
  beforeAll(async () => {
    ensureBuilt('calibrate')
    writeFileSync(
      SPEC,
      JSON.stringify({
        symbol: 'ETHUSDT',
        tickSize: '0.01',
        stepSize: '0.001',
        minNotional: '20',
        windows: [
          {name: 'jul', replay: ETH_JULY.map((p) => sharedData(p)), duration: '2m'},
          {name: 'aug', replay: sharedData('hftbacktest/examples/usdm/ethusdt_20240808.gz'), duration: '2m'},
        ],
        base: {strategy: {baseSize: '0.01'}, risk: {netMax: '0.05'}},
        params: {'strategy.baseSpread': [0.0001, 0.0002, 0.0004], 'strategy.inventoryK': [0.5, 2]},
      }),
    )
    one = join(tmp, 'one')
    const r = await runCli(['calibrate', SPEC, '--out', one, '--workers', '1', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(lines(one)).toHaveLength(JOBS)
  }, 600_000)

  it('two workers write the same results.jsonl lines and the same report.json as one', async () => {
    const two = join(tmp, 'two')
    const r = await runCli(['calibrate', SPEC, '--out', two, '--workers', '2', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect((JSON.parse(r.stdout) as {data: {ran: number}}).data.ran).toBe(JOBS)
    expect([...lines(two)].sort()).toEqual([...lines(one)].sort())
    expect(readFileSync(join(two, 'report.json'), 'utf8')).toBe(readFileSync(join(one, 'report.json'), 'utf8'))
  }, 600_000)

  it('a two-worker run killed after its first results resumes to the same report.json, running only the jobs without a line', async () => {
    const out = join(tmp, 'killed')
    const run = spawnCli(['calibrate', SPEC, '--out', out, '--workers', '2'])
    await run.waitFor(/\(2\/12\)/, 'stderr', 300_000)
    run.child.kill('SIGKILL')
    await run.exited
    const done = complete(out).length
    expect(done).toBeGreaterThanOrEqual(2)
    expect(done).toBeLessThan(JOBS)
    // each line written is one of the one-worker run's lines
    const all = new Set(lines(one))
    for (const l of complete(out)) expect(all.has(l)).toBe(true)
    const r = await runCli(['calibrate', SPEC, '--out', out, '--workers', '2', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout) as {data: {ran: number; resumed: number}}
    expect([j.data.resumed, j.data.ran]).toEqual([done, JOBS - done])
    expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe(readFileSync(join(one, 'report.json'), 'utf8'))
    expect([...complete(out)].sort()).toEqual([...lines(one)].sort())
  }, 600_000)
})
