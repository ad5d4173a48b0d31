/**
 * The replay input checks on the line path, which is what `mm quote --replay` runs on raw
 * captures: `openReplay(…).input()` hands the replay driver the lines and the guard, the
 * driver tells the guard each market message's receive time and symbol as its byte
 * scanner read them (no JSON.parse). Held to the event path (`batches()`, the reader's
 * JSON.parse of every line) on the same inputs: the same refusal, word for word, and the
 * same counts.
 */
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gunzipSync, gzipSync} from 'node:zlib'
import {beforeAll, describe, expect, it} from 'vitest'
import {defaultConfig} from '../../src/lib/config/index.js'
import {openReplay} from '../../src/lib/record/replay-source.js'
import {instrumentOf, runReplay} from '../../src/lib/run/session.js'
import {paperVenue} from '../../src/lib/run/venues.js'
import {sharedData} from '../support/shared-data.js'

const dir = mkdtempSync(join(tmpdir(), 'mm-guard-lines-'))
const head = (rel: string, n: number) => gunzipSync(readFileSync(sharedData(`hftbacktest/examples/usdm/${rel}`))).toString('utf8').split('\n').slice(0, n).filter((l) => l.length > 0)
const put = (name: string, lines: string[]) => {
  const p = join(dir, name)
  writeFileSync(p, gzipSync(lines.join('\n') + '\n'))
  return p
}
const grid = {tickSize: '0.01', stepSize: '0.001'}

let d18: string[]
let d19: string[]
let d0808: string[]
let btc: string[]

beforeAll(() => {
  d18 = head('ethusdt_20240718.gz', 6000)
  d19 = head('ethusdt_20240719.gz', 3000)
  d0808 = head('ethusdt_20240808.gz', 3000)
  btc = head('btcusdt_20240718.gz', 3000)
})

/** the line path: the replay loop of `mm quote --replay` on the source's input() */
async function lines(paths: string[]) {
  const src = await openReplay(paths, {symbol: 'ETHUSDT', ...grid})
  const input = src.input()
  expect('lines' in input && 'check' in input).toBe(true)
  const state = mkdtempSync(join(dir, 'state-'))
  try {
    const res = await runReplay({instrument: instrumentOf(src.instrument), config: defaultConfig(), configSource: 'test', mode: 'replay', stateDir: state, wallMs: 0, source: 'test', runId: 'test', venue: paperVenue}, input, {speed: 'max'})
    return {error: undefined, stats: {...src.guard}, fills: res.summary}
  } catch (error) {
    return {error: error as Error & {exitCode?: number}, stats: {...src.guard}}
  }
}

/** the event path: every line JSON.parsed by the reader, the same guard rules */
async function events(paths: string[]) {
  const src = await openReplay(paths, {symbol: 'ETHUSDT', ...grid})
  try {
    for await (const _b of src.batches()) {
      /* drain */
    }
    return {error: undefined, stats: {...src.guard}}
  } catch (error) {
    return {error: error as Error & {exitCode?: number}, stats: {...src.guard}}
  }
}

async function same(paths: string[]) {
  const a = await lines(paths)
  const b = await events(paths)
  expect(a.error?.message).toBe(b.error?.message)
  expect(a.error?.exitCode).toBe(b.error?.exitCode)
  return {lines: a, events: b}
}

describe('replay guard on the line path (mm quote --replay on raw captures)', () => {
  it('time going back by more than the tolerance: the same refusal as the event path, naming the event', async () => {
    const l = [...d18]
    const [ts, ...rest] = l[3000].split(' ')
    l[3000] = [String(BigInt(ts) - 5_000_000_000n), ...rest].join(' ')
    const f = put('back.gz', l)
    const r = await same([f])
    expect(r.lines.error?.exitCode).toBe(2)
    expect(r.lines.error?.message).toMatch(new RegExp(`^--replay ${f}: event \\d+ at 2024-07-\\d\\dT[\\d:.]+Z is [45]\\d{3} ms earlier than an event before it \\(tolerance 1000 ms\\)$`))
  })

  it('a day pair in reverse order, and a 504 h gap: the same refusals', async () => {
    const a = put('d18.gz', d18)
    const b = put('d19.gz', d19)
    const c = put('d0808.gz', d0808)
    const rev = await same([b, a])
    expect(rev.lines.error?.message).toMatch(new RegExp(`^--replay ${a} starts at .*, \\d+ [hs] before the end of ${b}: the files overlap or are in reverse order$`))
    const gap = await same([a, c])
    expect(gap.lines.error?.message).toMatch(new RegExp(`^--replay ${c}: a gap of 504 h before event 1 `))
  })

  it('a good day pair passes with the same counts (events, inversions) as the event path', async () => {
    const r = await same([put('p18.gz', d18), put('p19.gz', d19)])
    expect(r.lines.error).toBeUndefined()
    expect(r.lines.stats).toEqual(r.events.stats)
    expect(r.lines.stats.events).toBeGreaterThan(2000)
    expect(r.lines.stats.otherSymbols).toBe(0)
  })

  it("other symbols' lines: skipped and counted exactly as the event path counts them", async () => {
    const mixed = [...d18, ...btc].sort((x, y) => (BigInt(x.split(' ')[0]) < BigInt(y.split(' ')[0]) ? -1 : 1))
    const r = await same([put('mixed.gz', mixed)])
    expect(r.lines.error).toBeUndefined()
    expect(r.lines.stats).toEqual(r.events.stats)
    expect(r.lines.stats.otherSymbols).toBeGreaterThan(1000)
  })

  it('a file that cannot be read to its end is named, exit 2', async () => {
    const corrupt = join(dir, 'corrupt.gz')
    const good = gzipSync(d18.join('\n'))
    writeFileSync(corrupt, Buffer.concat([good.subarray(0, good.length - 200), Buffer.alloc(200, 0x55)]))
    const r = await same([corrupt])
    expect(r.lines.error?.exitCode).toBe(2)
    expect(r.lines.error?.message).toContain(corrupt)
  })

  it('a depth line with a price as a JSON number is refused naming file:line, as the reader does (not a silent resync)', async () => {
    const l = [...d18]
    const k = l.findIndex((x, i) => i > 100 && x.includes('depthUpdate'))
    l[k] = l[k].replace(/"b":\[\["([0-9.]+)"/, '"b":[[$1')
    const f = put('malformed.gz', l)
    const r = await same([f])
    expect(r.lines.error?.exitCode).toBe(2)
    expect(r.lines.error?.message).toMatch(new RegExp(`^${f}:${k + 1}: `))
  })
})
