/**
 * Operator edges of the data side through bin/run.js: an unreadable run log is named by
 * its path (with several runs, or `last`, the file's name alone said nothing); a plan
 * --out that cannot be a folder is bad usage, as for mm calibrate.
 */
import {existsSync, mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'

vi.setConfig({testTimeout: 60_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-opsdata-'))

beforeAll(() => {
  ensureBuilt('report')
  ensureBuilt('calibrate/plan')
})

describe('mm report on a broken run log (CLI)', () => {
  it('names the run log by its path, in text and in the --json envelope', async () => {
    const state = join(tmp, 'state')
    const dir = join(state, 'runs', '20261201T000000Z-ETHUSDC-replay')
    mkdirSync(dir, {recursive: true})
    const log = join(dir, 'events.jsonl')
    writeFileSync(log, 'not json\n{"type":"run_end","t":1}\n')
    const r = await runCli(['report', 'last', '--state-dir', state])
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n')[0]).toBe(`mm report: ${log} line 1 is not JSON`)
    expect(r.stderr).not.toMatch(/\n\s+at /)

    writeFileSync(log, '{"type":"run_start","t":1}\n{"t":2}\n{"type":"run_end","t":3}\n')
    const j = await runCli(['report', dir, '--json'])
    expect(j.code).toBe(2)
    const env = JSON.parse(j.stdout) as {ok: boolean; error: {code: string; message: string}}
    expect(env.ok).toBe(false)
    expect(env.error.code).toBe('E_RUN_LOG')
    expect(env.error.message).toBe(`${log} line 2 is not a run event (needs "type" and "t")`)
  })
})

describe('mm calibrate plan --out that cannot be a folder (CLI)', () => {
  it('is refused as bad usage naming the folder (exit 2, E_OUT), as mm calibrate does; nothing written', async () => {
    const spec = join(tmp, 'plan.yaml')
    writeFileSync(spec, ['symbol: ETHUSDT', 'windows:', `  - {name: a, replay: ${join(tmp, 'a.gz')}}`, 'params:', '  strategy.baseSpread: [0.0002]', ''].join('\n'))
    const file = join(tmp, 'a-file')
    writeFileSync(file, 'x\n')
    const r = await runCli(['calibrate', 'plan', spec, '--out', file])
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n')[0]).toBe(`mm calibrate plan: cannot create ${join(file, 'jobs')}: ENOTDIR: not a directory, stat '${join(file, 'jobs')}'`)
    const j = await runCli(['calibrate', 'plan', spec, '--out', file, '--json'])
    expect(j.code).toBe(2)
    const env = JSON.parse(j.stdout) as {ok: boolean; error: {code: string; exitCode: number}}
    expect([env.ok, env.error.code, env.error.exitCode]).toEqual([false, 'E_OUT', 2])
    expect(existsSync(join(tmp, 'a-file', 'jobs'))).toBe(false)
  })
})
