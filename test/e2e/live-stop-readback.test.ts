/**
 * A clean stop reads back the fills an answer showed and the user stream never told
 * (stop-readback): live `mm quote` against `mm sim --user-stream-silent-after 1ms`, both
 * through bin/run.js. The quote places its two orders once (naive, a 60 s interval, the
 * audit 60 s apart): it learns of a fill only from an answer. Once the sim has filled one
 * of them, SIGTERM: the stop's cancel of the filled order is refused (-2011), the query
 * that settles it says FILLED, and the read-back of its fill was scheduled "at once", but
 * the run ended in that same turn: the summary, the run log and state.json had 0 fills and
 * a flat position while the venue was short 0.01 (only the next start's kill-fills read
 * booked it). Now the stop reads them back (≤ 5 s) before run_end and the last state write.
 */
import {mkdtempSync, readdirSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Decimal} from 'decimal.js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt} from '../support/cli.js'
import {canon, type LiveSim, readState, spawnQuote, startLiveSim, waitFor, writeConfig} from '../support/live-sim.js'

let tmp: string
let sim: LiveSim | undefined

beforeAll(() => {
  ensureBuilt('quote')
  ensureBuilt('sim')
  tmp = mkdtempSync(join(tmpdir(), 'mm-stop-readback-'))
})

afterAll(async () => {
  await sim?.stop()
})

describe('live quote: the stop reads back fills the stream did not tell (stop-readback)', () => {
  it('SIGTERM right after a fill the stream never told: summary, run log and state.json book it (before: 0 fills, flat)', async () => {
    const scfg = writeConfig(tmp, 'sim.json', {paper: {queueModel: 'prob-power'}})
    sim = await startLiveSim(['--synthetic', '--seed', '7', '--config', scfg, '--user-stream-silent-after', '1ms'])
    const qcfg = writeConfig(tmp, 'quote.json', {
      strategy: {kind: 'naive', baseSpread: 0.00001, baseSize: '0.010', baseInterval: 60_000},
      risk: {netMax: '0.05', reduceOnlyThreshold: 2},
      live: {auditIntervalMs: 60_000},
    })
    const stateDir = join(tmp, 'state')
    const s = sim
    const q = spawnQuote(s, stateDir, ['--config', qcfg, '--instance', 'ssr'])
    try {
      await waitFor(async () => (await s.state({books: true})).trades.length >= 1, 'a fill at the sim', 120_000, 100)
    } finally {
      q.child.kill('SIGTERM')
    }
    const {code} = await q.exited
    expect(code, q.stderr() + q.stdout()).toBe(0)
    const st = await s.state({books: true})
    const trades = st.trades
    expect(trades.length).toBeGreaterThanOrEqual(1)
    const ledger = st.ledger.find((l) => l.symbol === 'ETHUSDC')!
    // state.json: every fill at the venue booked, the position the venue's, its fees to the last digit
    const state = readState(stateDir)
    expect(state.position.fills).toBe(trades.length)
    expect(canon(state.position.net)).toBe(canon(ledger.positionAmt))
    expect(canon(state.position.fees)).toBe(canon(ledger.fees))
    // the run log: one fill event per venue trade, at its price and quantity
    const runs = readdirSync(join(stateDir, 'runs'))
    expect(runs).toHaveLength(1)
    const events = readFileSync(join(stateDir, 'runs', runs[0], 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    const fills = events.filter((e) => e.type === 'fill').map((e) => `${e.side} ${e.qty}@${e.price}`).sort()
    expect(fills).toEqual(trades.map((t) => `${t.side} ${t.qty}@${t.price}`).sort())
    expect(events.at(-1)).toMatchObject({type: 'run_end', reason: 'signal SIGTERM'})
    // the summary (summary.json, as printed) counts them
    const summary = JSON.parse(readFileSync(join(stateDir, 'runs', runs[0], 'summary.json'), 'utf8')) as {fills: number; finalPosition: string; fees: string}
    expect(summary.fills).toBe(trades.length)
    expect(canon(summary.finalPosition)).toBe(canon(ledger.positionAmt))
    expect(new Decimal(summary.fees).eq(ledger.fees)).toBe(true)
    // the stop says what it read back
    expect(q.stderr()).toMatch(/note: at the stop: the venue shows fills of mm-ssr\S+ the user stream did not tell: [1-9]\d* fill\(s\) read back from userTrades\n/)
  }, 200_000)
})
