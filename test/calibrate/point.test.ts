/**
 * One calibration job (calibrate/point.ts): its per-minute Sharpe is read from the run's
 * `sample` events as they happen, and its events.jsonl is written only with --keep-runs.
 * The objectives are the same either way, and the same as read back from the file.
 * The job runs on 2 minutes of the shared real ETHUSDT 2024-08-08 stream.
 */
import {existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {perMinuteSharpe, pointDir, pointQuoteOptions, runPoint, SharpeOfSamples} from '../../src/lib/calibrate/point.js'
import {quote} from '../../src/lib/run/quote.js'
import {instrumentOf, Session} from '../../src/lib/run/session.js'
import {paperVenue} from '../../src/lib/run/venues.js'
import {VirtualClock} from '../../src/lib/clock/clock.js'
import {defaultConfig} from '../../src/lib/config/schema.js'
import {AUG, augJobs} from '../support/aug-jobs.js'

const made: string[] = []
/** a temp folder, removed after the file's tests */
const tmp = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix))
  made.push(d)
  return d
}
afterAll(() => {
  for (const d of made) rmSync(d, {recursive: true, force: true})
})

const sample = (t: number, realised: string, unrealised = '0', fees = '0') => ({type: 'sample', t, realised, unrealised, fees})

describe('SharpeOfSamples', () => {
  it('takes the last net PnL of each minute from the first sample, and the mean / sd of the changes from 0', () => {
    const s = new SharpeOfSamples()
    // minute 0: last 1 (1.5 − 0.25 − 0.25); minute 1: last 2; minute 2: last 1.5 → changes 1, 1, −0.5
    for (const ev of [sample(1_000, '0.5'), sample(31_000, '1.5', '-0.25', '0.25'), sample(61_000, '3', '0', '1'), sample(121_000, '1.5'), sample(150_999, '2', '0', '0.5')]) s.add(ev)
    expect(s.value()).toBe(0.5 / Math.sqrt(0.75))
  })

  it('is null with no sample, within one minute, or with no variation', () => {
    expect(new SharpeOfSamples().value()).toBeNull()
    const one = new SharpeOfSamples()
    one.add(sample(0, '1'))
    one.add(sample(59_999, '2'))
    expect(one.value()).toBeNull()
    const flat = new SharpeOfSamples()
    for (const t of [0, 60_000, 120_000]) flat.add(sample(t, String(t / 60_000 + 1)))
    expect(flat.value()).toBeNull()
  })

  it('perMinuteSharpe reads the same from an events.jsonl, other events left out', () => {
    const dir = tmp('mm-sharpe-')
    const evs = [sample(0, '0'), {type: 'fill', t: 10, price: '1'}, sample(60_000, '2'), sample(120_000, '1'), {type: 'run_end', t: 130_000}, sample(180_000, '4', '0.5', '0.25')]
    writeFileSync(join(dir, 'events.jsonl'), evs.map((e) => JSON.stringify(e) + '\n').join(''))
    const s = new SharpeOfSamples()
    for (const e of evs) if (e.type === 'sample') s.add(e as ReturnType<typeof sample>)
    // changes 0 (minute 0), 2, −1, 3.25
    expect(perMinuteSharpe(join(dir, 'events.jsonl'))).toBe(s.value())
    expect(s.value()).toBe(1.0625 / Math.sqrt(((0 - 1.0625) ** 2 + (2 - 1.0625) ** 2 + (-1 - 1.0625) ** 2 + (3.25 - 1.0625) ** 2) / 3))
  })
})

describe('runPoint on 2 minutes of ETHUSDT 2024-08-08', () => {
  const aug = AUG
  const [job] = augJobs([0.0001])

  it('gives the same result with and without --keep-runs; the kept run\'s events.jsonl gives the result\'s Sharpe; nothing is left without it', async () => {
    const work = tmp('mm-point-')
    const kept = await runPoint(job, join(work, 'kept'), {keepRun: true})
    const plain = await runPoint(job, join(work, 'plain'))
    expect(plain).toEqual(kept)
    expect(kept.metrics.fills).toBeGreaterThan(0)
    expect(kept.metrics.sharpe).not.toBeNull()
    const runs = join(work, 'kept', `${job.id}-aug`, 'state', 'runs')
    const [run] = readdirSync(runs)
    expect(perMinuteSharpe(join(runs, run, 'events.jsonl'))).toBe(kept.metrics.sharpe)
    // a job that is not kept writes nothing at all: not even its work folder
    expect(existsSync(join(work, 'plain'))).toBe(false)
  })

  it("a job's folder is ID-WINDOW with the window's name made a file name: never a nested folder, never outside the work folder", () => {
    expect(pointDir('/o/work', {id: 'p0001', window: {...job.window, name: 'aug'}})).toBe('/o/work/p0001-aug')
    // the raw name gave /o/work/p0001-x/../../../y = /y, emptied by --keep-runs before the job wrote there
    expect(pointDir('/o/work', {id: 'p0001', window: {...job.window, name: 'x/../../../y'}})).toBe('/o/work/p0001-x_.._.._.._y')
    expect(pointDir('/o/work', {id: 'p0002', window: {...job.window, name: 'a b:c'}})).toBe('/o/work/p0002-a_b_c')
  })

  it("a job's replay writes nothing unless the run is kept (its config in memory, the file's JSON), and tells each event to the job", () => {
    const onEvent = () => {}
    const plain = pointQuoteOptions(job, '/w/p0001-aug', false, onEvent)
    expect([plain.dryRun, plain.replay, plain.speed, plain.durationMs, plain.configPath, plain.stateDir]).toEqual([true, [aug], 'max', 120_000, undefined, '/w/p0001-aug/state'])
    expect(plain.runFiles).toBe(false)
    expect(plain.configJson).toEqual({json: JSON.parse(JSON.stringify(job.config)), source: 'of calibrate job p0001 on aug'})
    expect(plain.onEvent).toBe(onEvent)
    const kept = pointQuoteOptions(job, '/w/p0001-aug', true, onEvent)
    expect([kept.runFiles, kept.configPath, 'configJson' in kept]).toEqual([true, '/w/p0001-aug/config.json', false])
  })

  it('a replay with runFiles false writes nothing and counts the same events as one that writes its run directory', async () => {
    const dir = tmp('mm-nolog-')
    const base = {symbol: 'ETHUSDT', dryRun: true, replay: [aug], speed: 'max' as const, durationMs: 120_000, tickSize: '0.01', stepSize: '0.001', minNotional: '20', endpoints: {rest: 'http://127.0.0.1:1', ws: 'ws://127.0.0.1:1', routed: false, name: 'custom' as const}, wallMs: 0, stop: new Promise<string>(() => {}), isStopping: () => false}
    let tapped = 0
    const notes: string[] = []
    const without = await quote({...base, stateDir: join(dir, 'a'), runFiles: false, onEvent: () => tapped++, onNotice: (m) => notes.push(m)})
    const withLog = await quote({...base, stateDir: join(dir, 'b')})
    expect([without.eventLog, without.runDir]).toEqual([null, null])
    expect(existsSync(join(dir, 'a'))).toBe(false)
    expect(notes.filter((m) => m.startsWith('replaying '))).toEqual([`replaying ${aug} as ETHUSDT (strategy v2); nothing written (no run directory)`])
    expect(withLog.runDir).not.toBeNull()
    expect(existsSync(join(withLog.runDir as string, 'summary.json'))).toBe(true)
    expect(withLog.eventLog).toBe(join(withLog.runDir as string, 'events.jsonl'))
    expect(without.events).toBe(withLog.events)
    expect(tapped).toBe(withLog.events)
    expect(without.summary).toEqual(withLog.summary)
  })

  it('a config handed over in memory goes through the config file checks, its error naming it, and nothing is written', async () => {
    const dir = tmp('mm-cfgmem-')
    const base = {symbol: 'ETHUSDT', dryRun: true, replay: [aug], speed: 'max' as const, durationMs: 120_000, tickSize: '0.01', stepSize: '0.001', minNotional: '20', endpoints: {rest: 'http://127.0.0.1:1', ws: 'ws://127.0.0.1:1', routed: false, name: 'custom' as const}, wallMs: 0, stop: new Promise<string>(() => {}), isStopping: () => false}
    const bad = quote({...base, stateDir: join(dir, 's'), runFiles: false, configJson: {json: {strategy: {baseSpread: -1}}, source: 'of calibrate job p0009 on aug'}})
    await expect(bad).rejects.toThrow(/^invalid config of calibrate job p0009 on aug \(1 error\):\n  strategy\.baseSpread: got -1,/)
    await expect(bad).rejects.toMatchObject({code: 'E_CONFIG'})
    expect(existsSync(dir) && readdirSync(dir)).toEqual([])
  })

  it('a live or dry-run session writes its run directory and events.jsonl even when asked not to', () => {
    const dir = tmp('mm-nolog-live-')
    const instrument = instrumentOf({symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.001', minNotional: '20'})
    for (const mode of ['dry-run', 'live', 'replay'] as const) {
      const s = new Session({instrument, config: defaultConfig(), configSource: '(defaults)', mode, stateDir: join(dir, mode), wallMs: 0, source: 'test', runId: 'test', venue: paperVenue, runFiles: false}, new VirtualClock(0))
      expect([mode, s.runDir !== null && existsSync(join(s.runDir, 'events.jsonl'))]).toEqual([mode, mode !== 'replay'])
      s.discard()
    }
  })
})
