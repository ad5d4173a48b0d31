/**
 * Market data under stress, through bin/run.js (task explfeed): a bad book is not quoted on.
 * Built from the embedded recording (recordings/ETHUSDC) with rows added; replays are
 * deterministic, so the times are exact.
 */
import {copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gunzipSync, gzipSync} from 'node:zlib'
import {beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {startLiveSim} from '../support/live-sim.js'
import {until} from '../support/wait.js'
import {repoRoot} from '../support/shared-data.js'

const SAMPLE = join(repoRoot, 'recordings/ETHUSDC/2026-11-25')

interface Ev {
  type: string
  t: number
  kind?: string
  reason?: string
  action?: string
  values?: Record<string, number>
}

/**
 * a copy of the sample whose book file gets `row(t, lt)` inserted after its middle row (and
 * the book rows of the next `dropMs` of venue time left out); the insertion's venue time in ms
 */
function withRow(row: (t: string, lt: string) => string, dropMs = 0): {dir: string; tMs: number} {
  const dir = mkdtempSync(join(tmpdir(), 'mm-feed-'))
  for (const f of readdirSync(SAMPLE)) copyFileSync(join(SAMPLE, f), join(dir, f))
  const lines = gunzipSync(readFileSync(join(SAMPLE, '00.book.csv.gz'))).toString('utf8').trimEnd().split('\n')
  const mid = Math.floor(lines.length / 2)
  const [, , t, lt] = lines[mid].split(',')
  let n = 0
  while (mid + 1 + n < lines.length && Number(lines[mid + 1 + n].split(',')[2]) < Number(t) + dropMs * 1000) n++
  lines.splice(mid + 1, n, row(t, lt))
  writeFileSync(join(dir, '00.book.csv.gz'), gzipSync(lines.join('\n') + '\n'))
  return {dir, tMs: Math.floor(Number(t) / 1000)}
}

async function replay(dir: string): Promise<Ev[]> {
  const state = mkdtempSync(join(tmpdir(), 'mm-feed-state-'))
  const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--replay', dir, '--state-dir', state, '--json'])
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  const runs = readdirSync(join(state, 'runs'))
  expect(runs).toHaveLength(1)
  return readFileSync(join(state, 'runs', runs[0], 'events.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Ev)
}

beforeAll(() => {
  ensureBuilt('quote')
  ensureBuilt('sim')
})

describe('a bad book is not quoted on', () => {
  it('a crossed book pauses and cancels at the message that crossed it, not at the next refresh', async () => {
    // a bid 2 ticks above the best ask at that time (3399.54): the mid hardly moves, so no shock check fires
    const {dir, tMs} = withRow((t, lt) => `binance-futures,ETHUSDC,${t},${lt},false,bid,3399.56,1.000`)
    const evs = await replay(dir)
    const pause = evs.find((e) => e.type === 'risk_event' && e.kind === 'pause' && e.t >= tMs)!
    expect(pause).toMatchObject({reason: 'book_not_ready', t: tMs, values: {bestBid: 339956, bestAsk: 339954, ready: 0}})
    // both quotes cancelled in the same decision; nothing placed between the crossing and the pause
    const around = evs.filter((e) => e.t >= tMs && e.t <= pause.t && e.type === 'order')
    expect(around.map((e) => e.action)).toEqual(['cancel', 'cancel'])
    // and quoting resumes once the book is whole again
    expect(evs.some((e) => e.type === 'risk_event' && e.kind === 'pause_end' && e.t > tMs)).toBe(true)
  }, 60_000)

  it('an emptied book (a snapshot run of one level at amount 0, as mm record marks a hole) pauses at once; before, the replay died on "price ticks … got -1" (exit 2)', async () => {
    // no book rows for 3 s after it: the samples (once a second) meet the empty book
    const {dir, tMs} = withRow((t, lt) => `binance-futures,ETHUSDC,${t},${Number(lt) + 1},true,bid,3399.50,0`, 3000)
    const evs = await replay(dir)
    const pause = evs.find((e) => e.type === 'risk_event' && e.kind === 'pause' && e.t >= tMs)!
    expect(pause).toMatchObject({reason: 'one_sided_book', t: tMs, values: {bestBid: -1, bestAsk: -1}})
    const sample = evs.find((e) => e.type === 'sample' && e.t > tMs) as unknown as {bid: string | null; ask: string | null; risk: string}
    expect(sample).toMatchObject({bid: null, ask: null, risk: 'paused'})
    // the diffs after it rebuild a book (there is no resync snapshot here): quoting resumes on it
    expect(evs.slice(evs.indexOf(pause)).some((e) => e.type === 'risk_event' && e.kind === 'pause_end')).toBe(true)
    expect(evs[evs.length - 1].type).toBe('run_end')
  }, 60_000)
})

describe('the live feed says why the book was lost', () => {
  it('dry-run on a sim with depth gaps and dropped sockets: each pause on a gap follows a feed event naming it; reconnects are logged', async () => {
    const sim = await startLiveSim(['--synthetic', '--seed', '7', '--depth-gap-rate', '0.2', '--drop-ws-every', '2s'])
    const state = mkdtempSync(join(tmpdir(), 'mm-feed-live-'))
    const logFile = join(state, 'quote.log')
    const q = spawnCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', state, '--log-file', logFile])
    try {
      const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '')
      await until(() => /"event":"feed".*"kind":"book_lost","reason":"pu=/.test(log()) && /"event":"feed".*"kind":"reconnect"/.test(log()), 'a book_lost on a pu gap and a reconnect in the log', 45_000, 50)
      q.child.kill('SIGTERM')
      expect((await q.exited).code).toBe(0)
    } finally {
      if (q.child.exitCode === null) q.child.kill('SIGKILL')
      await sim.stop()
    }
    const lines = readFileSync(logFile, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    const feed = lines.filter((l) => l.event === 'feed')
    // warn level (40), the reason as the feed has it
    for (const f of feed) expect(f.level).toBe(40)
    const gaps = feed.filter((f) => f.kind === 'book_lost' && String(f.reason).startsWith('pu='))
    expect(gaps.length).toBeGreaterThan(0)
    for (const g of gaps) expect(g.reason).toMatch(/^pu=\d+ != previous u=\d+$/)
    expect(feed.some((f) => f.kind === 'reconnect' && (f.route === 'public' || f.route === 'market') && /^closed: code 1001/.test(String(f.reason)))).toBe(true)
    // the run's event log has them too, and a gap's reason comes before the pause it caused
    const runs = readdirSync(join(state, 'runs'))
    const evs = readFileSync(join(state, 'runs', runs[0], 'events.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Ev)
    const i = evs.findIndex((e) => e.type === 'feed' && e.kind === 'book_lost' && String(e.reason).startsWith('pu='))
    expect(i).toBeGreaterThan(0)
    const next = evs.slice(i + 1).find((e) => e.type === 'risk_event')
    // quoting was normal or already paused: when it was normal, the next risk event is the pause
    if (next && next.kind === 'pause') expect(next.reason).toBe('book_not_ready')
    expect(evs.filter((e) => e.type === 'feed').length).toBe(feed.length)
  }, 90_000)
})

describe('mm record marks a hole in the book, and a replay does not quote across it', () => {
  it('gaps and dropped sockets: an empty-book marker per hole (meta holes), the replay pauses from each marker to the next snapshot, identical run to run', async () => {
    // 10 s with a drop every 2 s: holes after the first sync even when that sync takes seconds (a loaded machine)
    const sim = await startLiveSim(['--synthetic', '--seed', '7', '--depth-gap-rate', '0.1', '--drop-ws-every', '2s'])
    const out = mkdtempSync(join(tmpdir(), 'mm-feed-rec-'))
    let rec: {code: number | null; stdout: string; stderr: string}
    try {
      rec = await runCli(['record', '--symbol', 'ETHUSDC', '--out', out, '--duration', '10s', '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--json'])
    } finally {
      await sim.stop()
    }
    expect(rec.code).toBe(3) // holes
    const day = join(out, 'ETHUSDC', readdirSync(join(out, 'ETHUSDC'))[0])
    const metas = readdirSync(day).filter((f) => f.endsWith('.meta.json')).map((f) => JSON.parse(readFileSync(join(day, f), 'utf8')) as {holes?: number; gaps: number})
    const rows = readdirSync(day).filter((f) => f.endsWith('.book.csv.gz')).sort().flatMap((f) => gunzipSync(readFileSync(join(day, f))).toString('utf8').trimEnd().split('\n').slice(1))
    const markers = rows.filter((r) => /,true,(bid|ask),[\d.]+,0$/.test(r))
    expect(markers.length).toBeGreaterThan(0)
    expect(metas.reduce((n, m) => n + (m.holes ?? 0), 0)).toBe(markers.length)
    // each hole lasts from its marker to the next snapshot run of real levels (or the end)
    const holes: Array<[number, number]> = []
    for (let i = 0; i < rows.length; i++) {
      if (!markers.includes(rows[i])) continue
      const from = Math.floor(Number(rows[i].split(',')[2]) / 1000)
      const next = rows.slice(i + 1).find((r) => r.split(',')[4] === 'true' && !r.endsWith(',0'))
      holes.push([from, next ? Math.floor(Number(next.split(',')[2]) / 1000) : Number.POSITIVE_INFINITY])
    }
    const a = await replay(out)
    const b = await replay(out)
    expect(JSON.stringify(b)).toBe(JSON.stringify(a))
    expect(a.some((e) => e.type === 'risk_event' && e.kind === 'pause' && e.reason === 'one_sided_book')).toBe(true)
    // nothing placed inside a hole (after its marker's ms: a decision of the marker's own ms may come just before it)
    const placedInHole = a.filter((e) => e.type === 'order' && e.action === 'place' && holes.some(([f, t]) => e.t > f && e.t < t))
    expect(placedInHole).toEqual([])
  }, 90_000)
})

describe('replay inputs an operator gets wrong', () => {
  it('a Tardis CSV named without its kind (ETHUSDC.csv.gz) is named as such, not as a raw capture "expected <timestamp> <json>"; exit 2, no run left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-feed-name-'))
    const f = join(dir, 'ETHUSDC.csv.gz')
    copyFileSync(join(SAMPLE, '00.book.csv.gz'), f)
    const state = mkdtempSync(join(tmpdir(), 'mm-feed-name-state-'))
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--replay', f, '--tick-size', '0.01', '--step-size', '0.001', '--state-dir', state])
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n').filter((l) => l.startsWith('mm quote:'))).toEqual([
      `mm quote: ${f}:1: a Tardis CSV (its header says so) whose name does not say what it holds: name it <stem>.book.csv.gz, <stem>.trades.csv.gz or <stem>.ticker.csv.gz (or keep Tardis's incremental_book_L2 / trades / book_ticker name)`,
    ])
    expect(existsSync(join(state, 'runs')) ? readdirSync(join(state, 'runs')) : []).toEqual([])
  }, 60_000)
})

describe('a symbol the venue does not trade', () => {
  it('dry-run on a BREAK symbol says that a live run would not start and the venue refuses its orders (it quoted on paper with nothing said)', async () => {
    const sim = await startLiveSim(['--synthetic', '--seed', '7', '--symbol-status', 'BREAK'])
    const state = mkdtempSync(join(tmpdir(), 'mm-feed-break-'))
    let r: {code: number | null; stdout: string; stderr: string}
    try {
      r = await runCli(['quote', '--symbol', 'ethusdc', '--dry-run', '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', state, '--duration', '1s'])
    } finally {
      await sim.stop()
    }
    expect(r.code).toBe(0)
    expect(r.stderr.split('\n')[0]).toBe(`note: ETHUSDC is not trading on ${sim.restUrl} (status BREAK): the venue refuses its orders (-4140) and a live run would not start; these paper orders and fills could not happen`)
  }, 60_000)
})
