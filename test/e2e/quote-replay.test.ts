/**
 * mm quote --dry-run --replay end to end through bin/run.js on the real ETHUSDT stream
 * (../shared/data, July pair): determinism, the netMax cap, v2 against the naive baseline,
 * the symbol check, and mm report reading the run back.
 */
import {existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {ETH_JULY, sharedData} from '../support/shared-data.js'

// each test runs the CLI for several wall seconds (up to 10 s under a load of 9 on 2 cores): twice the default limit
vi.setConfig({testTimeout: 120_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-quote-'))
// a config that quotes close to the touch so the 8-minute stream produces fills
const CONFIG = join(tmp, 'tight.json')
writeFileSync(CONFIG, JSON.stringify({strategy: {baseSpread: 0.0002, baseSize: '0.01'}, risk: {netMax: '0.05', stopLoss: -20}}))

function replayArgs(stateDir: string, extra: string[] = []): string[] {
  const [a, b] = ETH_JULY.map((p) => sharedData(p))
  return ['quote', '--symbol', 'ETHUSDT', '--dry-run', '--replay', a, '--replay', b, '--tick-size', '0.01', '--step-size', '0.001', '--min-notional', '20', '--state-dir', stateDir, '--config', CONFIG, '--json', ...extra]
}

interface QuoteJson {
  ok: boolean
  data: {eventLog: string; runDir: string; summary: Record<string, unknown> & {fills: number; maxAbsPosition: string; marketEvents: number}}
}

describe('mm quote --dry-run --replay (real ETHUSDT stream)', () => {
  let first: QuoteJson
  beforeAll(async () => {
    ensureBuilt('quote')
    const r = await runCli(replayArgs(join(tmp, 'a')))
    expect(r.code, r.stderr).toBe(0)
    first = JSON.parse(r.stdout) as QuoteJson
  })

  it('runs the whole stream, fills, and never breaches netMax', () => {
    expect(first.ok).toBe(true)
    const s = first.data.summary
    // 69,913 messages less the 47,328 book tickers the loop does not use (left out unparsed)
    expect(s.marketEvents).toBe(22_585)
    expect(s.resyncs).toBe(0)
    expect(s.fills).toBeGreaterThan(0)
    const events = readFileSync(first.data.eventLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as {type: string; position?: string})
    const positions = events.filter((e) => e.type === 'fill').map((e) => Math.abs(Number(e.position)))
    expect(positions.length).toBe(s.fills)
    expect(Math.max(...positions)).toBeLessThanOrEqual(0.05)
    expect(Number(s.maxAbsPosition)).toBeLessThanOrEqual(0.05)
  })

  it('is deterministic: the same recording and config give a byte-identical event log', async () => {
    const r = await runCli(replayArgs(join(tmp, 'b')))
    expect(r.code, r.stderr).toBe(0)
    const second = JSON.parse(r.stdout) as QuoteJson
    expect(readFileSync(second.data.eventLog)).toEqual(readFileSync(first.data.eventLog))
    expect(second.data.summary).toEqual(first.data.summary)
  })

  it('mm report reads the run back to the same summary, and writes a self-contained page', async () => {
    const html = join(tmp, 'run.html')
    const r = await runCli(['report', first.data.runDir, '--html', html, '--json'])
    expect(r.code, r.stderr).toBe(0)
    const rep = JSON.parse(r.stdout) as {ok: boolean; data: {runs: {summary: unknown}[]}}
    expect(rep.data.runs[0].summary).toEqual(first.data.summary)
    const page = readFileSync(html, 'utf8')
    expect(page).toContain('<svg')
    expect(page).not.toMatch(/<script|https?:\/\//)
  })

  it('the naive baseline runs on the same data under the same cap', async () => {
    const r = await runCli(replayArgs(join(tmp, 'c'), ['--strategy', 'naive']))
    expect(r.code, r.stderr).toBe(0)
    const naive = JSON.parse(r.stdout) as QuoteJson
    expect(naive.data.summary.strategy).toBe('naive')
    expect(naive.data.summary.marketEvents).toBe(22_585)
    expect(Number(naive.data.summary.maxAbsPosition)).toBeLessThanOrEqual(0.05)
    // side by side in one report: v2 against the baseline
    const rep = await runCli(['report', first.data.runDir, naive.data.runDir])
    expect(rep.code, rep.stderr).toBe(0)
    // columns headed by run id, so two runs of the same strategy can be told apart too
    const idA = first.data.runDir.split('/').pop() as string
    const idB = naive.data.runDir.split('/').pop() as string
    expect(rep.stdout).toMatch(new RegExp(`│ *│ ${idA} *│ ${idB} *│`))
    expect(rep.stdout).toMatch(/symbol \/ mode \/ strategy *│ ETHUSDT \/ replay \/ v2 *│ ETHUSDT \/ replay \/ naive/)
    expect(rep.stdout).toMatch(/adverse move 1 s \/ 10 s/)
  })

  it('a replay keeps no state: no state.json, no checkpoint; the run directory holds the log, config and summary', () => {
    expect(existsSync(join(tmp, 'a', 'ETHUSDT'))).toBe(false)
    expect(readdirSync(first.data.runDir).sort()).toEqual(['config.json', 'events.jsonl', 'summary.json'])
  })

  it('refuses a recording of another symbol, naming both', async () => {
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--replay', sharedData(ETH_JULY[0]), '--state-dir', join(tmp, 'd')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/recording of ETHUSDT, not of --symbol ETHUSDC/)
  })
})

describe('mm quote input errors', () => {
  it('live trading without keys is refused with exit 2, naming --dry-run', async () => {
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--json', '--state-dir', join(tmp, 'nokeys')], {env: {MM_API_KEY: undefined, MM_API_SECRET: undefined}})
    expect(r.code).toBe(2)
    const j = JSON.parse(r.stdout)
    expect(j).toMatchObject({ok: false, error: {code: 'E_NO_KEYS', exitCode: 2}})
    expect(JSON.stringify(j)).toContain('--dry-run')
  })
  it('a bad config exits 2 naming the key before touching anything', async () => {
    const bad = join(tmp, 'bad.json')
    writeFileSync(bad, JSON.stringify({strategy: {baseSpread: -1, bogus: 1}}))
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--replay', join(tmp, 'nowhere'), '--config', bad])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/strategy\.baseSpread/)
    expect(r.stderr).toMatch(/strategy\.bogus/)
  })
  it('a missing recording exits 2', async () => {
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--replay', join(tmp, 'nowhere'), '--state-dir', join(tmp, 'e')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/no such file or folder/)
  })
  it('a bad --speed exits 2', async () => {
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--replay', 'x', '--speed', 'fast'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--speed/)
  })
})
