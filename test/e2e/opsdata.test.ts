/**
 * Operator edges of the data side through bin/run.js: an unreadable run log is named by
 * its path (with several runs, or `last`, the file's name alone said nothing); a plan
 * --out that cannot be a folder is bad usage, as for mm calibrate.
 */
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {gunzipSync, gzipSync} from 'node:zlib'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {repoRoot} from '../support/shared-data.js'
import {configKeys} from '../../src/lib/config/schema.js'

vi.setConfig({testTimeout: 60_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-opsdata-'))

beforeAll(() => {
  ensureBuilt('report')
  ensureBuilt('calibrate/plan')
  ensureBuilt('quote')
  ensureBuilt('calibrate')
  ensureBuilt('record')
  ensureBuilt('sim')
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

describe('mm quote --replay on the root of mm record --out holding several symbols (CLI)', () => {
  it('replays the wanted symbol (it was refused as a recording of the first symbol folder by name)', async () => {
    // recordings/<SYMBOL>/<date>/…: the embedded ETHUSDC sample beside a BTCUSDC copy of it
    const root = join(tmp, 'recordings')
    const day = '2026-11-25'
    cpSync(join(repoRoot, 'recordings', 'ETHUSDC'), join(root, 'ETHUSDC'), {recursive: true})
    mkdirSync(join(root, 'BTCUSDC', day), {recursive: true})
    for (const f of ['00.book.csv.gz', '00.trades.csv.gz']) {
      const text = gunzipSync(readFileSync(join(root, 'ETHUSDC', day, f))).toString('utf8')
      writeFileSync(join(root, 'BTCUSDC', day, f), gzipSync(text.replaceAll('ETHUSDC', 'BTCUSDC')))
    }
    writeFileSync(join(root, 'BTCUSDC', day, '00.meta.json'), readFileSync(join(root, 'ETHUSDC', day, '00.meta.json'), 'utf8').replaceAll('ETHUSDC', 'BTCUSDC'))
    const summary = async (replay: string, symbol: string) => {
      const r = await runCli(['quote', '--symbol', symbol, '--dry-run', '--replay', replay, '--duration', '30s', '--state-dir', join(tmp, 'state-q'), '--json'])
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      const env = JSON.parse(r.stdout) as {ok: boolean; data: {summary: Record<string, unknown>; instrument: Record<string, unknown>}}
      return {...env.data.summary, instrument: env.data.instrument} as Record<string, unknown>
    }
    const plain = await summary(join(root, 'ETHUSDC'), 'ETHUSDC')
    expect(plain.fills).toBeGreaterThan(0)
    expect(await summary(root, 'ETHUSDC')).toEqual(plain)
    expect(await summary(root, 'BTCUSDC')).toEqual({...plain, symbol: 'BTCUSDC', instrument: {...(plain.instrument as Record<string, unknown>), symbol: 'BTCUSDC'}})

    // mm calibrate: a window on that root (its preflight read the first folder's meta.json too)
    const baseSpread = configKeys().find((k) => k.path === 'strategy.baseSpread')?.default
    const spec = join(tmp, 'root.yaml')
    writeFileSync(spec, ['symbol: ETHUSDC', 'windows:', `  - {name: a, replay: ${root}, duration: 30s}`, 'params:', `  strategy.baseSpread: [${String(baseSpread)}]`, ''].join('\n'))
    const c = await runCli(['calibrate', spec, '--out', join(tmp, 'calib-root'), '--workers', '1', '--json'])
    expect(c.stderr).toBe('')
    expect(c.code).toBe(0)
    const line = JSON.parse(readFileSync(join(tmp, 'calib-root', 'results.jsonl'), 'utf8').trim()) as {summary: Record<string, unknown>}
    const {instrument: _instrument, ...plainSummary} = plain
    expect(line.summary).toEqual(plainSummary)
  })
})

describe('mm record when the recording folder cannot be made (CLI)', () => {
  it('ends with the write error in one line (text and --json envelope), exit 1, no stack trace', async () => {
    const sim = spawnCli(['sim', '--synthetic', '--symbol', 'ETHUSDC', '--seed', '7', '--json', '--duration', '60s'])
    try {
      const [line] = await sim.waitFor(/^\{.*"status":"listening".*\}$/m)
      const {restUrl, wsUrl} = JSON.parse(line).data as {restUrl: string; wsUrl: string}
      const out = join(tmp, 'rec-out')
      mkdirSync(out)
      // a file where the symbol's folder goes (a full or read-only disk fails the same mkdir)
      writeFileSync(join(out, 'ETHUSDC'), 'x\n')
      const args = ['record', '--symbol', 'ETHUSDC', '--out', out, '--duration', '20s', '--no-progress', '--rest-url', restUrl, '--ws-url', wsUrl]
      const r = await runCli(args)
      expect(r.code).toBe(1)
      const what = `writing the recording failed: ENOTDIR: not a directory, stat '${join(out, 'ETHUSDC')}/`
      const [first, hint] = r.stderr.split('\n')
      expect(first.startsWith(`mm record: ${what}`) && /\/\d{4}-\d{2}-\d{2}'$/.test(first)).toBe(true)
      expect(hint).toBe('  hint: check the disk and --out')
      expect(r.stderr).not.toMatch(/\n\s+at /)
      const j = await runCli([...args, '--json'])
      expect(j.code).toBe(1)
      const env = JSON.parse(j.stdout) as {ok: boolean; error: {code: string; message: string}}
      expect([env.ok, env.error.code, env.error.message.startsWith(what)]).toEqual([false, 'E_WRITE', true])
    } finally {
      sim.child.kill('SIGTERM')
      await sim.exited
    }
  })
})

describe('--html onto a file that is not a page (CLI)', () => {
  it('mm report and mm calibrate refuse to overwrite an event log or results.jsonl (exit 2, the file unchanged); a page is rewritten', async () => {
    const state = join(tmp, 'state-html')
    const q = await runCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--replay', join(repoRoot, 'recordings', 'ETHUSDC'), '--duration', '10s', '--state-dir', state, '--json'])
    expect(q.code).toBe(0)
    const log = (JSON.parse(q.stdout) as {data: {eventLog: string}}).data.eventLog
    const before = readFileSync(log)
    const r = await runCli(['report', 'last', '--state-dir', state, '--html', log])
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n')[0]).toBe(`mm report: --html ${log} exists and is not an HTML page: refusing to overwrite it`)
    expect(readFileSync(log).equals(before)).toBe(true)
    // a page written before is rewritten
    const page = join(tmp, 'run.html')
    for (let i = 0; i < 2; i++) expect((await runCli(['report', 'last', '--state-dir', state, '--html', page])).code).toBe(0)
    expect(readFileSync(page, 'utf8').startsWith('<!doctype html>')).toBe(true)

    const spec = join(tmp, 'html.yaml')
    writeFileSync(spec, ['symbol: ETHUSDC', 'windows:', `  - {name: a, replay: ${join(repoRoot, 'recordings', 'ETHUSDC')}, duration: 10s}`, 'params:', '  strategy.baseSpread: [0.0002]', ''].join('\n'))
    const out = join(tmp, 'calib-html')
    const results = join(out, 'results.jsonl')
    // OUT's own results.jsonl: refused before any job, even before it exists (it was refused
    // only once the run had written it, every job run for nothing)
    const c = await runCli(['calibrate', spec, '--out', out, '--workers', '1', '--html', results])
    expect(c.code).toBe(2)
    expect(c.stderr.split('\n').filter((l) => l.startsWith('mm calibrate:'))).toEqual([`mm calibrate: --html ${results} is the results.jsonl this command writes in ${out}: refusing to overwrite it`])
    expect(existsSync(results)).toBe(false)
    expect((await runCli(['calibrate', spec, '--out', out, '--workers', '1'])).code).toBe(0)
    const lines = readFileSync(results, 'utf8').trim().split('\n')
    expect(lines.length).toBe(1)
    expect((JSON.parse(lines[0]) as {id: string}).id).toBe('p0001')
    // given with the results there, refused before any job (the results stay as they were)
    const c2 = await runCli(['calibrate', spec, '--out', out, '--workers', '1', '--html', results, '--json'])
    expect(c2.code).toBe(2)
    expect((JSON.parse(c2.stdout) as {error: {code: string}}).error.code).toBe('E_OUT')
    expect(readFileSync(results, 'utf8').trim().split('\n')).toEqual(lines)
  })
})

describe('mm calibrate: a window duration longer than its data (CLI)', () => {
  it('says so in a note (the jobs replayed what there is), not with --json (nor the resumed line)', async () => {
    const spec = join(tmp, 'long.yaml')
    writeFileSync(spec, ['symbol: ETHUSDC', 'windows:', `  - {name: a, replay: ${join(repoRoot, 'recordings', 'ETHUSDC')}, duration: 10m}`, `  - {name: b, replay: ${join(repoRoot, 'recordings', 'ETHUSDC')}, duration: 1m}`, 'params:', '  strategy.baseSpread: [0.0002]', ''].join('\n'))
    const r = await runCli(['calibrate', spec, '--out', join(tmp, 'calib-long'), '--workers', '1'])
    expect(r.code).toBe(0)
    expect(r.stderr.split('\n').filter((l) => l.startsWith('note:'))).toEqual(['note: window a: the data ends after 4 min, before the window\'s duration 10 min: its jobs replayed 4 min'])
    const j = await runCli(['calibrate', spec, '--out', join(tmp, 'calib-long-json'), '--workers', '1', '--json'])
    expect(j.code).toBe(0)
    expect(j.stderr).toBe('')
    // resumed with --json: nothing on stderr either (a "resumed: …" line was printed there)
    const j2 = await runCli(['calibrate', spec, '--out', join(tmp, 'calib-long-json'), '--workers', '1', '--json'])
    expect(j2.code).toBe(0)
    expect((JSON.parse(j2.stdout) as {data: {ran: number; resumed: number}}).data).toMatchObject({ran: 0, resumed: 2})
    expect(j2.stderr).toBe('')
  })
})
