/**
 * `mm sim --replay` checks its inputs as `mm quote --replay` does (issue 13 §4,
 * docs/RELIABILITY.md "Replay inputs"): bad inputs refused with exit 2 naming the file,
 * other symbols' events skipped, counted and said. Through bin/run.js, on inputs built
 * from the heads of the real captures in ../shared/data.
 */
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gunzipSync, gzipSync} from 'node:zlib'
import {beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {sharedData} from '../support/shared-data.js'

const dir = mkdtempSync(join(tmpdir(), 'mm-sim-replay-in-'))
const head = (rel: string, n: number) => gunzipSync(readFileSync(sharedData(`hftbacktest/examples/usdm/${rel}`))).toString('utf8').split('\n').slice(0, n).filter((l) => l.length > 0)
const put = (name: string, lines: string[]) => {
  const p = join(dir, name)
  writeFileSync(p, gzipSync(lines.join('\n') + '\n'))
  return p
}
const grid = ['--tick-size', '0.01', '--step-size', '0.001']

let d18: string[]
let d19: string[]
let btc: string[]

beforeAll(() => {
  ensureBuilt('sim')
  d18 = head('ethusdt_20240718.gz', 4000)
  d19 = head('ethusdt_20240719.gz', 2000)
  btc = head('btcusdt_20240718.gz', 2000)
})

/** serve the files at full speed and stop at their end */
function sim(files: string[], extra: string[] = []) {
  return runCli(['sim', ...files.flatMap((f) => ['--replay', f]), '--symbol', 'ETHUSDT', ...grid, '--speed', 'max', '--exit-at-end', '--port', '0', ...extra])
}

/** the command's error line */
const err = (r: {stderr: string}) => r.stderr.split('\n').find((l) => l.startsWith('mm sim:')) ?? r.stderr

describe('mm sim --replay: the replay input checks (exit 2, the file named)', () => {
  it('time going back by more than the tolerance', async () => {
    const lines = [...d18]
    const [ts, ...rest] = lines[2000].split(' ')
    lines[2000] = [String(BigInt(ts) - 5_000_000_000n), ...rest].join(' ') // 5 s back
    const f = put('backwards.gz', lines)
    const r = await sim([f])
    expect(r.code).toBe(2)
    expect(err(r)).toMatch(new RegExp(`^mm sim: --replay ${f}: event \\d+ at 2024-07-1\\dT[\\d:.]+Z is [45]\\d{3} ms earlier than an event before it \\(tolerance 1000 ms\\)$`))
    expect(r.stderr).not.toMatch(/\n\s+at /)
  }, 120_000)

  it('the same file twice, and a day pair in reverse order', async () => {
    const a = put('d18.gz', d18)
    const b = put('d19.gz', d19)
    const r1 = await sim([a, a])
    expect(r1.code).toBe(2)
    expect(err(r1)).toBe(`mm sim: --replay ${a}: the same file as ${a} (given twice)`)
    const r2 = await sim([b, a])
    expect(r2.code).toBe(2)
    expect(err(r2)).toMatch(new RegExp(`^mm sim: --replay ${a} starts at .*, \\d+ [hs] before the end of ${b}: the files overlap or are in reverse order$`))
  }, 120_000)

  it('a day pair in order is served as one stream', async () => {
    const r = await sim([put('p18.gz', d18), put('p19.gz', d19)], ['--json'])
    expect(r.code, r.stderr).toBe(0)
    const end = JSON.parse(r.stdout.trim().split('\n').pop() as string)
    // every line of both heads is a message of ETHUSDT the sim publishes (depth, ticker, trade, snapshot)
    expect(end.data).toMatchObject({stoppedBy: 'end', skippedOtherSymbols: 0, published: d18.length + d19.length})
  }, 120_000)

  it("other symbols' events are skipped, counted and said; the sim serves the rest", async () => {
    const mixed = [...d18, ...btc].sort((x, y) => (BigInt(x.split(' ')[0]) < BigInt(y.split(' ')[0]) ? -1 : 1))
    const f = put('mixed.gz', mixed)
    const r = await sim([f], ['--json'])
    expect(r.code, r.stderr).toBe(0)
    const end = JSON.parse(r.stdout.trim().split('\n').pop() as string)
    expect(end.data.skippedOtherSymbols + end.data.published).toBe(mixed.length)
    expect(end.data.skippedOtherSymbols).toBeGreaterThan(1500)
    const text = await sim([f])
    expect(text.code).toBe(0)
    expect(text.stdout).toContain(`mm sim: skipped ${end.data.skippedOtherSymbols} events of other symbols than ETHUSDT in the replay input`)
  }, 120_000)
})
