/**
 * `mm report last` picks the newest run directory of the state dir's runs/ folder: it took
 * the last name in that folder holding a non-empty `events.jsonl`, so a folder put there
 * that is not a run (a copy named `backup`, a `tmp/` of notes: names that sort after every
 * run id) was reported, or failed the command (`tmp/events.jsonl line 1 is not JSON`),
 * while a real run was there. A runs/ that is a file was a raw ENOTDIR, exit 1.
 */
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'

vi.setConfig({testTimeout: 60_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-report-last-'))

function log(symbol: string): string {
  const start = {type: 'run_start', t: 1_767_225_600_000, runId: 'x', mode: 'replay', symbol, strategy: 'v2', config: {}, instrument: {tickSize: '0.01', stepSize: '0.001'}}
  return `${JSON.stringify(start)}\n${JSON.stringify({type: 'run_end', t: 1_767_225_660_000, reason: 'end of data'})}\n`
}

beforeAll(() => {
  ensureBuilt('report')
})

describe('mm report last among folders that are not runs (CLI)', () => {
  it('picks the newest real run; with none, says so and how many entries are not runs', async () => {
    const state = join(tmp, 'state')
    const runs = join(state, 'runs')
    const older = join(runs, '20261130T120000Z-BTCUSDT-replay')
    const real = join(runs, '20261201T120000Z-ETHUSDC-replay')
    for (const d of [older, real]) mkdirSync(d, {recursive: true})
    writeFileSync(join(older, 'events.jsonl'), log('BTCUSDT'))
    writeFileSync(join(real, 'events.jsonl'), log('ETHUSDC'))
    // what an operator leaves beside the runs: a copy of an older run, notes, an empty folder, a file
    mkdirSync(join(runs, 'backup'))
    writeFileSync(join(runs, 'backup', 'events.jsonl'), log('BTCUSDT'))
    mkdirSync(join(runs, 'tmp'))
    writeFileSync(join(runs, 'tmp', 'events.jsonl'), 'notes about the runs\n')
    mkdirSync(join(runs, 'lost+found'))
    writeFileSync(join(runs, 'zz.txt'), 'x\n')
    // a newer run that never started (an empty log), and one whose events.jsonl is a folder
    mkdirSync(join(runs, '20261201T130000Z-ETHUSDC-replay'))
    writeFileSync(join(runs, '20261201T130000Z-ETHUSDC-replay', 'events.jsonl'), '')
    mkdirSync(join(runs, '20261201T140000Z-ETHUSDC-replay', 'events.jsonl'), {recursive: true})

    const r = await runCli(['report', 'last', '--state-dir', state, '--json'])
    expect(r.code, r.stderr).toBe(0)
    const runsOut = (JSON.parse(r.stdout) as {data: {runs: {id: string; log: string; summary: {symbol: string}}[]}}).data.runs
    expect(runsOut.map((x) => [x.id, x.log, x.summary.symbol])).toEqual([['20261201T120000Z-ETHUSDC-replay', join(real, 'events.jsonl'), 'ETHUSDC']])

    // that run named directly: its events.jsonl a folder is one line naming it, exit 2 (was EISDIR alone, exit 1)
    const dirLog = join(runs, '20261201T140000Z-ETHUSDC-replay', 'events.jsonl')
    const named = await runCli(['report', join(runs, '20261201T140000Z-ETHUSDC-replay')])
    expect(named.code).toBe(2)
    expect(named.stderr.split('\n')[0]).toBe(`mm report: cannot read ${dirLog}: EISDIR: illegal operation on a directory, read`)

    // no real run left: said, exit 2, no stack
    const junkOnly = join(tmp, 'junk')
    mkdirSync(join(junkOnly, 'runs', 'tmp'), {recursive: true})
    writeFileSync(join(junkOnly, 'runs', 'tmp', 'events.jsonl'), 'notes\n')
    writeFileSync(join(junkOnly, 'runs', 'zz.txt'), 'x\n')
    const none = await runCli(['report', 'last', '--state-dir', junkOnly])
    expect(none.code).toBe(2)
    expect(none.stdout).toBe('')
    expect(none.stderr.split('\n')[0]).toBe(`mm report: no runs under ${join(junkOnly, 'runs')} (2 entries there are not a run directory with a run log)`)

    // runs/ a file: one line, exit 2 (was a raw ENOTDIR, exit 1); mm runs likewise
    const fileRuns = join(tmp, 'file')
    mkdirSync(fileRuns)
    writeFileSync(join(fileRuns, 'runs'), 'x\n')
    for (const args of [['report', 'last'], ['runs']]) {
      const f = await runCli([...args, '--state-dir', fileRuns])
      expect(f.code).toBe(2)
      expect(f.stderr.split('\n')[0]).toBe(`mm ${args[0]}: cannot read ${join(fileRuns, 'runs')}: ENOTDIR`)
      expect(f.stderr).not.toMatch(/\n\s+at /)
    }
  })
})
