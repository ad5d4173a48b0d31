/**
 * mm calibrate at the edges of a spec, through bin/run.js on 20 s of the shared BTCUSDT
 * 2024-08-08 stream: points whose config is invalid, and windows of another symbol or
 * missing, are refused before any job runs, and a run without a winner leaves no
 * best.config.json of an earlier run behind.
 */
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {execFileSync, spawnSync} from 'node:child_process'
import {gzipSync} from 'node:zlib'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it, vi} from 'vitest'
import {BIN, ensureBuilt, runCli} from '../support/cli.js'
import {sharedData} from '../support/shared-data.js'

vi.setConfig({testTimeout: 120_000})

// base netMax 0.03: sizes up to 0.010 keep reduceOnlyThreshold 3 ≤ netMax / baseSize
const tmp = mkdtempSync(join(tmpdir(), 'mm-calib-edges-'))

function spec(name: string, params: string[], extra: string[] = [], windows?: string[]): string {
  const file = join(tmp, `${name}.yaml`)
  writeFileSync(
    file,
    [
      'symbol: BTCUSDT',
      'tickSize: "0.1"',
      'stepSize: "0.001"',
      'minNotional: "100"',
      'windows:',
      ...(windows ?? [`  - {name: a, replay: ${sharedData('hftbacktest/examples/usdm/btcusdt_20240808.gz')}, duration: 20s}`]),
      'base: {strategy: {baseSize: "0.004"}, risk: {netMax: "0.03", stopLoss: -20}}',
      'params:',
      ...params.map((p) => `  ${p}`),
      ...extra,
      '',
    ].join('\n'),
  )
  return file
}

beforeAll(() => {
  ensureBuilt('calibrate')
})

describe('mm calibrate spec edges (CLI)', () => {
  it('a range that makes the config invalid for some points is refused before any job runs, naming the points', async () => {
    const out = join(tmp, 'bad-range')
    const r = await runCli(['calibrate', spec('bad-range', ['strategy.baseSpread: [0.0002, 0.0003, 0.2]']), '--out', out, '--workers', '1'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr.split('\n').slice(0, 2)).toEqual([
      `mm calibrate: calibration spec ${join(tmp, 'bad-range.yaml')}: 1 of 3 points make an invalid config (nothing was run):`,
      '  p0003 (strategy.baseSpread=0.2): strategy.baseSpread: got 0.2, expected a number > 0 and ≤ 0.1 (fraction of mid)',
    ])
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(existsSync(join(out, 'results.jsonl'))).toBe(false)

    // sizes off the spec's lot step: every point named up to three, then the count
    const r2 = await runCli(['calibrate', spec('bad-size', ['strategy.baseSize: ["0.0041", "0.0042", "0.0043", "0.0044", "0.005"]']), '--out', join(tmp, 'bad-size'), '--workers', '1'])
    expect(r2.code).toBe(2)
    expect(r2.stderr.split('\n').slice(0, 5)).toEqual([
      `mm calibrate: calibration spec ${join(tmp, 'bad-size.yaml')}: 4 of 5 points make an invalid config (nothing was run):`,
      '  p0001 (strategy.baseSize=0.0041): strategy.baseSize: got "0.0041", expected a multiple of the lot step 0.001 of BTCUSDT',
      '  p0002 (strategy.baseSize=0.0042): strategy.baseSize: got "0.0042", expected a multiple of the lot step 0.001 of BTCUSDT',
      '  p0003 (strategy.baseSize=0.0043): strategy.baseSize: got "0.0043", expected a multiple of the lot step 0.001 of BTCUSDT',
      '  … and 1 more',
    ])
    expect(existsSync(join(tmp, 'bad-size', 'results.jsonl'))).toBe(false)

    // mm calibrate plan refuses the same spec
    const r3 = await runCli(['calibrate', 'plan', join(tmp, 'bad-range.yaml'), '--out', join(tmp, 'bad-plan')])
    expect(r3.code).toBe(2)
    expect(r3.stderr.split('\n')[0]).toBe(`mm calibrate plan: calibration spec ${join(tmp, 'bad-range.yaml')}: 1 of 3 points make an invalid config (nothing was run):`)
    expect(existsSync(join(tmp, 'bad-plan', 'jobs.txt'))).toBe(false)
  })

  it("sizes off the lot step of a recording's meta.json (no tickSize/stepSize in the spec) are refused before any job runs", async () => {
    // a minimal mm recording of a 1000PEPEUSDT-like instrument: lot step 1
    const day = join(tmp, 'pepe', '1000PEPEUSDT', '2026-11-30')
    mkdirSync(day, {recursive: true})
    const row = (ts: number, side: string, price: string, qty: string) => `binance-futures,1000PEPEUSDT,${ts},${ts + 2000},true,${side},${price},${qty}`
    writeFileSync(join(day, '20.book.csv.gz'), gzipSync(['exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount', row(1796071441490000, 'bid', '0.0123455', '80890'), row(1796071441490000, 'ask', '0.0123457', '70000'), ''].join('\n')))
    const meta = {format: 'tardis-csv', formatVersion: 1, exchange: 'binance-futures', symbol: '1000PEPEUSDT', bookTimestamp: 'E', instrument: {tickSize: '0.0000001', stepSize: '1', minQty: '1', minNotional: '5'}, source: {}, mmVersion: '0.1.0', rotateMs: 3600000, periodStart: '2026-11-30T20:00:00.000Z', periodEnd: '2026-11-30T21:00:00.000Z', files: {book: {file: '20.book.csv.gz', rows: 2, messages: 1}}, gaps: 0, resyncs: 0, reconnects: 0, badFrames: 0, dropped: 0, unsyncedMs: 0, closed: true, firstTimestamp: 1796071441490000, firstLocalTimestamp: 1796071441492000, lastTimestamp: 1796071441490000, lastLocalTimestamp: 1796071441492000}
    writeFileSync(join(day, '20.meta.json'), JSON.stringify(meta))
    const file = join(tmp, 'pepe.yaml')
    writeFileSync(file, ['symbol: 1000PEPEUSDT', 'windows:', `  - {name: r, replay: ${join(tmp, 'pepe', '1000PEPEUSDT')}}`, 'base: {strategy: {baseSize: "1000"}, risk: {netMax: "5000", stopLoss: -5}}', 'params:', '  strategy.baseSize: ["1000", "1500.5"]', ''].join('\n'))
    const out = join(tmp, 'pepe-out')
    const r = await runCli(['calibrate', file, '--out', out, '--workers', '1'])
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n').slice(0, 2)).toEqual([
      `mm calibrate: calibration spec ${file}: 1 of 2 points make an invalid config (nothing was run):`,
      '  p0002 (strategy.baseSize=1500.5): strategy.baseSize: got "1500.5", expected a multiple of the lot step 1 of 1000PEPEUSDT',
    ])
    expect(existsSync(join(out, 'results.jsonl'))).toBe(false)
  })

  it("a spec's tickSize or stepSize that conflicts with a window's meta.json is refused before any job of any window runs", async () => {
    // the 1000PEPEUSDT recording above, whose meta.json says tick 0.0000001 (it stopped the run at the window's first job)
    const pepe = join(tmp, 'pepe', '1000PEPEUSDT')
    const file = join(tmp, 'pepe-tick.yaml')
    writeFileSync(file, ['symbol: 1000PEPEUSDT', 'tickSize: "0.000001"', 'stepSize: "1"', 'windows:', `  - {name: a, replay: ${pepe}}`, 'base: {strategy: {baseSize: "1000"}, risk: {netMax: "5000", stopLoss: -5}}', 'params:', '  strategy.baseSize: ["1000"]', ''].join('\n'))
    const out = join(tmp, 'pepe-tick-out')
    const r = await runCli(['calibrate', file, '--out', out, '--workers', '1'])
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n').slice(0, 2)).toEqual([
      `mm calibrate: calibration spec ${file}: window a: tickSize 0.000001 conflicts with tickSize 0.0000001 in ${join(pepe, '2026-11-30', '20.meta.json')} (a recording with meta.json replays with its own instrument)`,
      "  hint: drop tickSize, stepSize and minNotional from the spec: they are for raw captures (without meta.json), and a spec's windows share them",
    ])
    expect(existsSync(join(out, 'results.jsonl'))).toBe(false)
  })

  it('lhs over a size range without steps draws sizes on the lot step (not only the two ends); without stepSize it is refused', async () => {
    const params = ['strategy.baseSize: {min: "0.004", max: "0.010"}']
    const extra = ['sampler: lhs', 'samples: 4', 'seed: 3']
    const r = await runCli(['calibrate', spec('lhs-size', params, extra), '--out', join(tmp, 'lhs-size'), '--workers', '1', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const rows = JSON.parse(r.stdout).data.rankings[0].rows as {id: string; point: Record<string, string>}[]
    expect(rows.map((x) => [x.id, x.point['strategy.baseSize']]).sort()).toEqual([
      ['p0001', '0.008'],
      ['p0002', '0.005'],
      ['p0003', '0.005'],
      ['p0004', '0.009'],
    ])
    const file = spec('lhs-size-nostep', params, extra)
    writeFileSync(file, readFileSync(file, 'utf8').replace('stepSize: "0.001"\n', ''))
    const r2 = await runCli(['calibrate', file, '--out', join(tmp, 'lhs-size-nostep'), '--workers', '1'])
    expect(r2.code).toBe(2)
    expect(r2.stderr.split('\n')[0]).toBe(
      `mm calibrate: calibration spec ${file}: params.strategy.baseSize: got {"min":"0.004","max":"0.010"}, expected steps (a size key takes exact decimal steps), or the spec's stepSize, to draw lhs sizes on the lot step`,
    )
  })

  it('--workers over the core count is said (the threads only share the cores; each holds its windows)', async () => {
    const {availableParallelism} = await import('node:os')
    const cores = availableParallelism()
    const r = await runCli(['calibrate', spec('many-workers', ['strategy.baseSpread: [0.0002, 0.0004]']), '--out', join(tmp, 'many-workers'), '--workers', '99'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr.split('\n')[0]).toBe(`note: --workers 99 is more than this machine's ${cores} core${cores === 1 ? '' : 's'}: the workers share them (no faster), and each holds its own copy of the windows it replays in memory`)
    const one = await runCli(['calibrate', spec('cores-workers', ['strategy.baseSpread: [0.0002, 0.0004]']), '--out', join(tmp, 'cores-workers'), '--workers', String(cores)])
    expect(one.code, one.stderr).toBe(0)
    expect(one.stderr).not.toContain('is more than this machine')
    // one window, two jobs: the first worker keeps both (a second would decode it for one job)
    expect(one.stdout).toMatch(/^a job took \d+(\.\d)? ms on a window new to its worker \(median of 1, decode included\), \d+(\.\d)? ms otherwise \(median of 1\)$/m)
  })

  it('a window of another symbol or a missing recording is refused before any job of any window runs', async () => {
    const btc = `  - {name: a, replay: ${sharedData('hftbacktest/examples/usdm/btcusdt_20240808.gz')}, duration: 20s}`
    const eth = sharedData('hftbacktest/examples/usdm/ethusdt_20240808.gz')
    const out = join(tmp, 'two-symbols')
    const r = await runCli(['calibrate', spec('two-symbols', ['strategy.baseSpread: [0.0002, 0.0004]'], [], [btc, `  - {name: b, replay: ${eth}, duration: 20s}`]), '--out', out, '--workers', '1'])
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n').slice(0, 2)).toEqual([
      `mm calibrate: calibration spec ${join(tmp, 'two-symbols.yaml')}: window b: ${eth} is a recording of ETHUSDT, not of the spec's symbol BTCUSDT`,
      "  hint: a spec calibrates one symbol: give BTCUSDT's recordings in every window, or write a spec per symbol",
    ])
    expect(existsSync(join(out, 'results.jsonl'))).toBe(false)

    const missing = join(tmp, 'no-such-capture.gz')
    const r2 = await runCli(['calibrate', spec('missing', ['strategy.baseSpread: [0.0002, 0.0004]'], [], [btc, `  - {name: b, replay: ${missing}}`]), '--out', join(tmp, 'missing'), '--workers', '1'])
    expect(r2.code).toBe(2)
    expect(r2.stderr.split('\n')[0]).toBe(`mm calibrate: calibration spec ${join(tmp, 'missing.yaml')}: window b: --replay ${missing}: no such file or folder`)
    expect(existsSync(join(tmp, 'missing', 'results.jsonl'))).toBe(false)
  })

  it('results.jsonl that cannot grow (a full disk; here a 2 KB file-size limit) stops the run with a one-line error; the next run resumes from the lines written', async () => {
    const out = join(tmp, 'full')
    const file = spec('full', ['strategy.baseSpread: [0.0002, 0.0003, 0.0004, 0.0005]'])
    // bash's ulimit -f counts 1,024-byte blocks: about two result lines fit
    const r = spawnSync('bash', ['-c', 'ulimit -f 2 && exec "$@"', 'bash', process.execPath, BIN, 'calibrate', file, '--out', out, '--workers', '2'], {encoding: 'utf8', timeout: 110_000})
    expect(r.status, r.stderr).toBe(1)
    // before: the write's exception reached the worker's message handler, and Node printed it with its stack
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(`mm calibrate: cannot write ${join(out, 'results.jsonl')}: EFBIG: file too large, write`)
    const written = readFileSync(join(out, 'results.jsonl'), 'utf8')
    expect(written.length).toBe(2048)
    const whole = written.split('\n').slice(0, -1)
    expect(whole.length).toBeGreaterThan(0)
    expect(whole.length).toBeLessThan(4)

    const again = await runCli(['calibrate', file, '--out', out, '--workers', '2', '--json'])
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout).data).toMatchObject({ran: 4 - whole.length, resumed: whole.length})
    const keys = readFileSync(join(out, 'results.jsonl'), 'utf8').split('\n').flatMap((l) => {
      try {
        return [JSON.parse(l).key as string]
      } catch {
        return []
      }
    })
    expect(keys).toHaveLength(4)
    expect(new Set(keys).size).toBe(4)
  })

  it('a typo in a window, a range or the constraints names the keys known there; a bare number as a range says what a range is', async () => {
    const win = `  - {name: a, replay: ${sharedData('hftbacktest/examples/usdm/btcusdt_20240808.gz')}, duraton: 20s}`
    const cases: Array<[string, string[], string[], string[] | undefined, string]> = [
      ['typo-window', ['strategy.baseSpread: [0.0002]'], [], [win], 'windows.0: got {"name":"a","replay":"'],
      ['typo-range', ['strategy.baseSpread: {min: 0.0002, max: 0.0004, step: 3}'], [], undefined, 'params.strategy.baseSpread: got {"min":0.0002,"max":0.0004,"step":3}, expected no such key step (known: min, max, steps, values)'],
      ['typo-constraints', ['strategy.baseSpread: [0.0002]'], ['constraints: {minFill: 1}'], undefined, 'constraints: got {"minFill":1}, expected no such key minFill (known: maxAbsPosition, minFills)'],
      ['bare-number', ['strategy.baseSpread: 0.0002'], [], undefined, 'params.strategy.baseSpread: got 0.0002, expected a list of values ([0.1, 0.2]), {values: [...]} or a range {min, max, steps}'],
      ['one-step', ['strategy.baseSpread: {min: 0.0002, max: 0.0004, steps: 1}'], [], undefined, 'params.strategy.baseSpread: got {"min":0.0002,"max":0.0004,"steps":1}, expected steps ≥ 2 for a range whose min < max (one step was min alone: max was dropped), or the value as a list [0.0002]'],
    ]
    for (const [name, params, extra, windows, want] of cases) {
      const file = spec(name, params, extra, windows)
      const r = await runCli(['calibrate', file, '--out', join(tmp, name), '--workers', '1'])
      expect(r.code).toBe(2)
      const first = r.stderr.split('\n')[0]
      expect(first.startsWith(`mm calibrate: calibration spec ${file}: ${want}`)).toBe(true)
      if (name === 'typo-window') expect(first.endsWith('expected no such key duraton (known: name, replay, duration)')).toBe(true)
      expect(r.stderr).not.toMatch(/\n\s+at /)
      expect(existsSync(join(tmp, name))).toBe(false)
    }
  })

  it('a window folder without recording files (empty, or only a .partial), or a .partial named, is refused before any job of any window runs', async () => {
    const btc = `  - {name: a, replay: ${sharedData('hftbacktest/examples/usdm/btcusdt_20240808.gz')}, duration: 20s}`
    const empty = join(tmp, 'empty-folder', 'BTCUSDT')
    mkdirSync(join(empty, '2026-11-30'), {recursive: true})
    const out = join(tmp, 'empty-window')
    const r = await runCli(['calibrate', spec('empty-window', ['strategy.baseSpread: [0.0002, 0.0004]'], [], [btc, `  - {name: b, replay: ${empty}}`]), '--out', out, '--workers', '1'])
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n')[0]).toBe(`mm calibrate: calibration spec ${join(tmp, 'empty-window.yaml')}: window b: no recording files in ${empty} (.partial files are ignored)`)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(existsSync(join(out, 'results.jsonl'))).toBe(false)

    // only the .partial files of a killed recorder: named by the note, then refused
    const torn = join(empty, '2026-11-30', '13.book.csv.gz.partial')
    writeFileSync(torn, gzipSync('exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n'))
    const r2 = await runCli(['calibrate', join(tmp, 'empty-window.yaml'), '--out', out, '--workers', '1', '--json'])
    expect(r2.code).toBe(2)
    const env = JSON.parse(r2.stdout) as {ok: boolean; error: {code: string; message: string}}
    expect(env.ok).toBe(false)
    expect(env.error.code).toBe('E_RECORDING')
    expect(env.error.message).toBe(`calibration spec ${join(tmp, 'empty-window.yaml')}: window b: no recording files in ${empty} (.partial files are ignored)`)
    expect(existsSync(join(out, 'results.jsonl'))).toBe(false)

    // the .partial named directly: refused with the way to recover it, before any job
    const r3 = await runCli(['calibrate', spec('partial-window', ['strategy.baseSpread: [0.0002, 0.0004]'], [], [btc, `  - {name: b, replay: ${torn}}`]), '--out', out, '--workers', '1'])
    expect(r3.code).toBe(2)
    expect(r3.stderr.split('\n').slice(0, 2)).toEqual([
      `mm calibrate: calibration spec ${join(tmp, 'partial-window.yaml')}: window b: ${torn}: a .partial file is still being written or was torn by a crash`,
      `  hint: wait for the recorder to close it; if it was killed, its rows up to the last flush can be recovered: { gzip -dc ${torn}; echo; } | awk 'NR > 1 { print prev } { prev = $0 }' | gzip > ${torn.slice(0, -'.partial'.length)} (gzip warns of the torn end), then remove the .partial`,
    ])
    expect(existsSync(join(out, 'results.jsonl'))).toBe(false)
  })

  it('a run in the same --out with no winner removes the earlier best.config.json', async () => {
    const out = join(tmp, 'stale')
    const params = ['strategy.baseSpread: [0.0002, 0.0004]']
    const r1 = await runCli(['calibrate', spec('won', params), '--out', out, '--workers', '1', '--json'])
    expect(r1.code).toBe(0)
    const j1 = JSON.parse(r1.stdout)
    expect(j1.data.bestConfig).toBe(join(out, 'best.config.json'))
    expect(JSON.parse(readFileSync(join(out, 'best.config.json'), 'utf8'))).toEqual(j1.data.winner.config)

    const r2 = await runCli(['calibrate', spec('none-won', params, ['constraints: {minFills: 100000}']), '--out', out, '--workers', '1', '--json'])
    expect(r2.code).toBe(0)
    const j2 = JSON.parse(r2.stdout)
    expect(j2.data).toMatchObject({winner: null, bestConfig: null, ran: 0, resumed: 2})
    expect(existsSync(join(out, 'best.config.json'))).toBe(false)
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).winner).toBe(null)
  })

  it('plan → GNU parallel with a failed job and a job not run → collect says which and why, writes nothing; --partial ranks the rest', async () => {
    const dir = join(tmp, 'plan')
    const p = await runCli(['calibrate', 'plan', spec('plan', ['strategy.baseSpread: [0.0002, 0.0003, 0.0004]']), '--out', dir])
    expect(p.code, p.stderr).toBe(0)
    writeFileSync(join(dir, 'jobs', 'p0002-a.json'), '{"broken":') // this job fails
    const lines = readFileSync(join(dir, 'jobs.txt'), 'utf8').trim().split('\n')
    expect(lines.length).toBe(3)
    writeFileSync(join(dir, 'first-two.txt'), lines.slice(0, 2).join('\n') + '\n') // p0003-a never runs
    // parallel exits 1: one job failed
    expect(() => execFileSync('bash', ['-c', `parallel --will-cite -j 1 < ${join(dir, 'first-two.txt')}`], {stdio: 'ignore', timeout: 120_000})).toThrow()
    expect(existsSync(join(dir, 'results', 'p0001-a.json'))).toBe(true)

    const c = await runCli(['calibrate', 'collect', dir])
    expect(c.code).toBe(3)
    expect(c.stderr.split('\n')[0]).toBe(`mm calibrate collect: 2 job(s) have no result (p0002-a failed: cannot read job ${join(dir, 'jobs', 'p0002-a.json')}: Unexpected end of JSON input; p0003-a); nothing written`)
    expect(existsSync(join(dir, 'report.json'))).toBe(false)
    expect(existsSync(join(dir, 'best.config.json'))).toBe(false)

    const cp = await runCli(['calibrate', 'collect', dir, '--partial'])
    expect(cp.code).toBe(0)
    expect(cp.stderr).toBe(`note: ranked without 2 job(s) that have no result (p0002-a failed: cannot read job ${join(dir, 'jobs', 'p0002-a.json')}: Unexpected end of JSON input; p0003-a)\n`)
    expect(cp.stdout).toMatch(/window a: 1 points ranked by netPnl/)
    const cj = JSON.parse((await runCli(['calibrate', 'collect', dir, '--partial', '--json'])).stdout)
    expect(cj.data).toMatchObject({missing: ['p0002-a', 'p0003-a'], failed: [{job: 'p0002-a'}]})
    expect(existsSync(join(dir, 'report.json'))).toBe(true)

    // a corrupt result file is named, exit 2, even with --partial
    writeFileSync(join(dir, 'results', 'p0001-a.json'), '{"ok":tr')
    const bad = await runCli(['calibrate', 'collect', dir, '--partial'])
    expect(bad.code).toBe(2)
    expect(bad.stderr.split('\n')[0]).toBe(`mm calibrate collect: ${join(dir, 'results', 'p0001-a.json')} is not the JSON output of mm calibrate point`)
    rmSync(join(dir, 'results', 'p0001-a.json'))
  })
})
