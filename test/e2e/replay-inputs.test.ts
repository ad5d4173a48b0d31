/**
 * Replay input checks through bin/run.js (issue 13, docs/RELIABILITY.md "Replay inputs"):
 * built from the heads of the real captures in ../shared/data.
 */
import {existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gunzipSync, gzipSync} from 'node:zlib'
import {beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {sharedData} from '../support/shared-data.js'

const dir = mkdtempSync(join(tmpdir(), 'mm-replay-in-'))
const head = (rel: string, n: number) => gunzipSync(readFileSync(sharedData(rel))).toString('utf8').split('\n').slice(0, n)
const put = (name: string, lines: string[]) => {
  const p = join(dir, name)
  writeFileSync(p, gzipSync(lines.join('\n') + '\n'))
  return p
}
const grid = ['--tick-size', '0.01', '--step-size', '0.001']

let d18: string[]
let d19: string[]
let d0808: string[]
let btc: string[]

beforeAll(() => {
  ensureBuilt('quote')
  d18 = head('hftbacktest/examples/usdm/ethusdt_20240718.gz', 6000)
  d19 = head('hftbacktest/examples/usdm/ethusdt_20240719.gz', 3000)
  d0808 = head('hftbacktest/examples/usdm/ethusdt_20240808.gz', 3000)
  btc = head('hftbacktest/examples/usdm/btcusdt_20240718.gz', 3000)
})

async function quote(files: string[], state: string) {
  return runCli(['quote', '--symbol', 'ETHUSDT', '--dry-run', ...files.flatMap((f) => ['--replay', f]), ...grid, '--state-dir', state])
}

/** the command's error line (notes may come first) */
const err = (r: {stderr: string}) => r.stderr.split('\n').find((l) => l.startsWith('mm quote:')) ?? r.stderr

function runsIn(state: string): string[] {
  const runs = join(state, 'runs')
  return existsSync(runs) ? readdirSync(runs) : []
}

describe('replay input checks (exit 2, the file named, no run directory left)', () => {
  it('time going back by more than the tolerance', async () => {
    const lines = [...d18]
    const [ts, ...rest] = lines[3000].split(' ')
    lines[3000] = [String(BigInt(ts) - 5_000_000_000n), ...rest].join(' ') // 5 s back
    const f = put('backwards.gz', lines)
    const state = mkdtempSync(join(tmpdir(), 'mm-state-'))
    const r = await quote([f], state)
    expect(r.code).toBe(2)
    expect(err(r)).toMatch(new RegExp(`^mm quote: --replay ${f}: event \\d+ at 2024-07-1\\dT[\\d:.]+Z is [45]\\d{3} ms earlier than an event before it \\(tolerance 1000 ms\\)$`))
    expect(runsIn(state)).toEqual([])
  })

  it('a day pair in reverse order, and two captures 20 days apart', async () => {
    const a = put('d18.gz', d18)
    const b = put('d19.gz', d19)
    const c = put('d0808.gz', d0808)
    const state = mkdtempSync(join(tmpdir(), 'mm-state-'))
    const r1 = await quote([b, a], state)
    expect(r1.code).toBe(2)
    expect(err(r1)).toMatch(new RegExp(`^mm quote: --replay ${a} starts at .*, \\d+ [hs] before the end of ${b}: the files overlap or are in reverse order$`))
    const r2 = await quote([a, c], state)
    expect(r2.code).toBe(2)
    expect(err(r2)).toMatch(new RegExp(`^mm quote: --replay ${c}: a gap of 504 h before event 1 `))
    expect(runsIn(state)).toEqual([])
  })

  it('the same file twice; an empty .gz; a corrupt .gz', async () => {
    const a = put('twice.gz', d18)
    const state = mkdtempSync(join(tmpdir(), 'mm-state-'))
    const r1 = await quote([a, a], state)
    expect(r1.code).toBe(2)
    expect(err(r1)).toBe(`mm quote: --replay ${a}: the same file as ${a} (given twice)`)
    const empty = join(dir, 'empty.gz')
    writeFileSync(empty, '')
    const r2 = await quote([empty], state)
    expect(r2.code).toBe(2)
    expect(err(r2)).toBe(`mm quote: --replay ${empty}: the file is empty`)
    const corrupt = join(dir, 'corrupt.gz')
    const good = gzipSync(d18.join('\n'))
    writeFileSync(corrupt, Buffer.concat([good.subarray(0, 40), Buffer.alloc(200, 0x55)]))
    const r3 = await quote([corrupt], state)
    expect(r3.code).toBe(2)
    expect(err(r3)).toContain(corrupt)
    expect(r3.stderr).not.toMatch(/\n\s+at /)
    expect(runsIn(state)).toEqual([])
  })

  it("other symbols' lines are skipped, counted and said; the run goes on", async () => {
    const mixed: string[] = []
    // interleave by timestamp: the BTC lines of the same day fall among the ETH ones
    const all = [...d18.filter((l) => l), ...btc.filter((l) => l)].sort((x, y) => (BigInt(x.split(' ')[0]) < BigInt(y.split(' ')[0]) ? -1 : 1))
    mixed.push(...all)
    const f = put('mixed.gz', mixed)
    const state = mkdtempSync(join(tmpdir(), 'mm-state-'))
    const r = await quote([f], state)
    expect(r.code).toBe(0)
    const m = /note: skipped (\d+) events of other symbols than ETHUSDT in the replay input/.exec(r.stderr)
    expect(m).not.toBeNull()
    expect(Number(m![1])).toBeGreaterThan(1000)
    expect(runsIn(state).length).toBe(1)
  })
})
