/**
 * Issue 10 proof 1: live `mm quote` (no --dry-run) against `mm sim`, both through
 * bin/run.js. After a clean stop the quote's books (state.json and its --json summary)
 * equal the sim's own account ledger (GET /__mm/state `ledger`, ledger.ts, which does not
 * share the client's position code): position, average cost, fees and realised PnL.
 * A second run on a hand-made market is checked against figures computed by hand.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Decimal} from 'decimal.js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {canon, isOpen, type LiveSim, ours, readState, spawnQuote, startLiveSim, waitFor, writeConfig} from '../support/live-sim.js'

// plain notation, as the product and the sim write decimals (no 1.3e-9)
const D = Decimal.clone({precision: 60, toExpNeg: -9e15, toExpPos: 9e15})
let tmp: string
const sims: LiveSim[] = []

beforeAll(() => {
  ensureBuilt('quote')
  ensureBuilt('sim')
  tmp = mkdtempSync(join(tmpdir(), 'mm-live-ledger-'))
})

afterAll(async () => {
  for (const s of sims) await s.stop()
})

interface QuoteJson {
  data: {summary: {fills: number; fees: string; realisedPnl: string; netPnl: string; finalPosition: string; ledger?: {fees: string; realisedPnl: string; unrealisedPnl: string; netPnl: string}}; live: {disarmed: boolean; deadman: boolean}}
}

/** run a live quote until the sim has booked `fills` trades (bounded), then SIGTERM: the clean stop */
async function quoteUntilFills(sim: LiveSim, stateDir: string, config: string, inst: string, fills: number): Promise<QuoteJson> {
  const q = spawnQuote(sim, stateDir, ['--config', config, '--instance', inst, '--json'])
  try {
    await waitFor(async () => (await sim.state()).trades.length >= fills, `${fills} fills at the sim`, 150_000, 250)
  } finally {
    q.child.kill('SIGTERM')
  }
  const {code} = await q.exited
  expect(code, q.stderr()).toBe(0)
  return JSON.parse(q.stdout()) as QuoteJson
}

describe('live quote vs the sim ledger (issue 10, proof 1)', () => {
  it('synthetic market, partial fills: position, average cost, fees and realised PnL equal the sim ledger to the last digit', async () => {
    const scfg = writeConfig(tmp, 'sim.json', {paper: {queueModel: 'prob-power'}})
    const sim = await startLiveSim(['--synthetic', '--seed', '7', '--config', scfg])
    sims.push(sim)
    // quotes near the touch so that fills come within seconds (naive: no skew, no join)
    const qcfg = writeConfig(tmp, 'quote.json', {strategy: {kind: 'naive', baseSpread: 0.00001, baseSize: '0.010', baseInterval: 500}, risk: {netMax: '0.05'}})
    const stateDir = join(tmp, 'syn')
    const out = await quoteUntilFills(sim, stateDir, qcfg, 'lda', 6)
    const st = await sim.state()
    const [ledger] = st.ledger
    const pos = readState(stateDir).position
    const mine = st.trades
    expect(mine.length).toBeGreaterThanOrEqual(6)
    // every fill the sim booked is one the quote booked
    expect(pos.fills).toBe(mine.length)
    expect(out.data.summary.fills).toBe(mine.length)
    // position: exact (the sim prints the ledger's decimal, the quote the lot's decimals)
    expect(canon(pos.net)).toBe(canon(ledger.positionAmt))
    expect(canon(out.data.summary.finalPosition)).toBe(canon(ledger.positionAmt))
    expect(ledger.positionAmt).toBe(st.positions[0].positionAmt)
    // fees: the exact sum of the commissions, the same string on both sides
    expect(pos.fees).toBe(ledger.fees)
    expect(out.data.summary.fees).toBe(ledger.fees)
    expect(ledger.fees).toBe(mine.reduce((a, t) => a.add(t.commission), new D(0)).toString())
    // realised PnL: live, the quote's figure is the sum of the realised profit the venue reported for each trade
    // (rp / realizedPnl), the sim's ledger the sum of what it reported: the same string. The client's own
    // computation (cost basis in 1e-17 units) is the cross-check, next to it in state.json
    expect(pos.realised).toBe(ledger.realisedPnl)
    expect(ledger.realisedPnl).toBe(mine.reduce((a, t) => a.add(t.realizedPnl), new D(0)).toString())
    expect(pos.realisedCheck?.own, 'the cross-check').toMatch(/^-?\d+(\.\d+)?$/)
    expect(new D(pos.realisedCheck!.own).sub(pos.realised).toString()).toBe(pos.realisedCheck!.diff)
    expect(out.data.summary.realisedPnl).toBe(pos.realised)
    // average cost: both at 8 decimals (tick 0.01 + 6)
    if (new D(ledger.positionAmt).isZero()) expect(pos.avgCost).toBeNull()
    else expect(pos.avgCost).toBe(ledger.entryPrice)
    // the clean stop: nothing of ours left open, the switch disarmed
    expect(st.orders.filter((o) => ours('lda')(o.clientOrderId) && isOpen(o))).toEqual([])
    expect(out.data.live).toMatchObject({deadman: true, disarmed: true})
  }, 240_000)

  it('a restart carries the ledger on: after two runs on one state dir, fills, position, average cost, fees and realised PnL equal the sim ledger (which saw both) to the last digit', async () => {
    const scfg = writeConfig(tmp, 'sim-r.json', {paper: {queueModel: 'prob-power'}})
    const sim = await startLiveSim(['--synthetic', '--seed', '9', '--config', scfg])
    sims.push(sim)
    const qcfg = writeConfig(tmp, 'quote-r.json', {strategy: {kind: 'naive', baseSpread: 0.00001, baseSize: '0.010', baseInterval: 500}, risk: {netMax: '0.05'}})
    const stateDir = join(tmp, 'restart')
    await quoteUntilFills(sim, stateDir, qcfg, 'ldr', 3)
    const first = readState(stateDir).position
    const n1 = (await sim.state()).trades.length
    expect(first.fills).toBe(n1)
    // the second run starts from the venue's position and the first run's totals
    const out = await quoteUntilFills(sim, stateDir, qcfg, 'ldr', n1 + 3)
    const st = await sim.state()
    const [ledger] = st.ledger
    const pos = readState(stateDir).position
    expect(st.trades.length).toBeGreaterThanOrEqual(n1 + 3)
    expect(pos.fills).toBe(st.trades.length)
    expect(canon(pos.net)).toBe(canon(ledger.positionAmt))
    expect(pos.fees).toBe(ledger.fees)
    expect(pos.realised).toBe(ledger.realisedPnl)
    expect(ledger.realisedPnl).toBe(st.trades.reduce((a, t) => a.add(t.realizedPnl), new D(0)).toString())
    // average cost: the venue's entry price (its last ACCOUNT_UPDATE / positionRisk) while its position equals the ledger's
    if (new D(ledger.positionAmt).isZero()) expect(pos.avgCost).toBeNull()
    else expect(pos.avgCost).toBe(ledger.entryPrice)
    // the run's own summary counts its own fills, fees and realised PnL (the change from the
    // first run's totals); the ledger's totals are apart
    expect(out.data.summary.fills).toBe(st.trades.length - n1)
    expect(out.data.summary.ledger?.realisedPnl).toBe(pos.realised)
    expect(out.data.summary.ledger?.fees).toBe(pos.fees)
    expect(out.data.summary.realisedPnl).toBe(new D(pos.realised).sub(first.realised).toString())
    expect(out.data.summary.fees).toBe(new D(pos.fees).sub(first.fees).toString())
    // mm runs: one line per run, each with its own fills and net PnL; mm report on the second
    // run alone computes the same per-run figures from its log
    const runs = await runCli(['runs', '--state-dir', stateDir, '--json'])
    expect(runs.code, runs.stderr).toBe(0)
    const listed = (JSON.parse(runs.stdout) as {data: {runs: {id: string; fills: number; netPnl: string}[]}}).data.runs
    expect(listed.map((r) => r.fills)).toEqual([n1, st.trades.length - n1])
    expect(listed[1].netPnl).toBe(out.data.summary.netPnl)
    const rep = await runCli(['report', listed[1].id, '--state-dir', stateDir, '--json'])
    expect(rep.code, rep.stderr).toBe(0)
    const again = (JSON.parse(rep.stdout) as {data: {runs: {summary: QuoteJson['data']['summary'] & {netPnl: string}}[]}}).data.runs[0].summary
    expect({fills: again.fills, fees: again.fees, realisedPnl: again.realisedPnl, netPnl: again.netPnl, ledger: again.ledger}).toEqual({
      fills: out.data.summary.fills, fees: out.data.summary.fees, realisedPnl: out.data.summary.realisedPnl, netPnl: out.data.summary.netPnl, ledger: out.data.summary.ledger,
    })
  }, 300_000)

  it('hand-made market: every fill at the hand-computed price and fee; the totals equal the hand figures', async () => {
    // A constant book 2000.00 / 2000.10 (mid 2000.05); a far level (1990.00) changes every 250 ms so
    // the book is never stale; every 3 s a trade prints through the book, alternately at 1995.00
    // (sellers: fills our bid) and 2005.00 (buyers: fills our ask).
    const t0 = Date.now()
    const lines: string[] = [`${t0 * 1000} ${JSON.stringify({lastUpdateId: 1000, E: t0, T: t0, bids: [['2000.00', '5.000'], ['1990.00', '1.000']], asks: [['2000.10', '5.000']]})}`]
    let u = 1000
    let tradeId = 1
    for (let ms = 250; ms <= 15 * 60_000; ms += 250) {
      const t = t0 + ms
      lines.push(`${t * 1000} ${JSON.stringify({stream: 'ethusdc@depth@0ms', data: {e: 'depthUpdate', E: t, T: t, s: 'ETHUSDC', U: u + 1, u: u + 1, pu: u, b: [['1990.00', ms % 500 === 0 ? '1.000' : '1.001']], a: []}})}`)
      u++
      if (ms % 3000 === 0) {
        const sellers = (ms / 3000) % 2 === 1
        lines.push(`${t * 1000 + 1} ${JSON.stringify({stream: 'ethusdc@trade', data: {e: 'trade', E: t, T: t, s: 'ETHUSDC', t: tradeId++, p: sellers ? '1995.00' : '2005.00', q: '1.000', X: 'MARKET', m: sellers}})}`)
      }
    }
    const file = join(tmp, 'ethusdc_20260101.dat')
    writeFileSync(file, lines.join('\n') + '\n')
    const sim = await startLiveSim(['--replay', file, '--symbol', 'ETHUSDC', '--tick-size', '0.01', '--step-size', '0.001'])
    sims.push(sim)
    // naive: bid = floor(mid × (1 − 0.001/2)), ask = ceil(mid × (1 + 0.001/2)), 0.020 a side
    const qcfg = writeConfig(tmp, 'hand.json', {strategy: {kind: 'naive', baseSpread: 0.001, baseSize: '0.020', baseInterval: 500}, risk: {staleBookMs: 60_000}})
    const stateDir = join(tmp, 'hand')
    const out = await quoteUntilFills(sim, stateDir, qcfg, 'ldb', 4)
    // By hand:
    //   bid B = floor(2000.05 × 0.9995 = 1999.049975) = 1999.04; ask A = ceil(2000.05 × 1.0005 = 2001.050025) = 2001.06
    //   fee on a bid fill  = 1999.04 × 0.020 × 0.0002 = 39.9808 × 0.0002 = 0.00799616
    //   fee on an ask fill = 2001.06 × 0.020 × 0.0002 = 40.0212 × 0.0002 = 0.00800424
    //   each buy closed by a sell (or a sell by a buy) realises (2001.06 − 1999.04) × 0.020 = 2.02 × 0.020 = 0.0404
    //   with nb bid fills and ns ask fills: net = (nb − ns) × 0.020; realised = min(nb, ns) × 0.0404;
    //   fees = nb × 0.00799616 + ns × 0.00800424; avg cost = 1999.04 when long (all buys at B),
    //   2001.06 when short, none when flat
    const st = await sim.state()
    const trades = st.trades
    expect(trades.length).toBeGreaterThanOrEqual(4)
    for (const t of trades) {
      expect([t.side, t.price, t.qty, t.commission]).toEqual(t.side === 'BUY' ? ['BUY', '1999.04', '0.020', '0.00799616'] : ['SELL', '2001.06', '0.020', '0.00800424'])
    }
    const nb = trades.filter((t) => t.side === 'BUY').length
    const ns = trades.length - nb
    expect(nb).toBeGreaterThanOrEqual(1)
    expect(ns).toBeGreaterThanOrEqual(1)
    const net = new D('0.020').mul(nb - ns).toString()
    const realised = new D('0.0404').mul(Math.min(nb, ns)).toString()
    const fees = new D('0.00799616').mul(nb).add(new D('0.00800424').mul(ns)).toString()
    const avg = nb > ns ? '1999.04' : nb < ns ? '2001.06' : null
    const pos = readState(stateDir).position
    const [ledger] = st.ledger
    expect({net: canon(pos.net), realised: pos.realised, fees: pos.fees, avg: pos.avgCost, fills: pos.fills}).toEqual({net: canon(net), realised, fees, avg, fills: nb + ns})
    expect({net: canon(ledger.positionAmt), realised: ledger.realisedPnl, fees: ledger.fees, avg: avg === null ? '0' : ledger.entryPrice}).toEqual({net: canon(net), realised, fees, avg: avg ?? '0'})
    expect({fees: out.data.summary.fees, realised: out.data.summary.realisedPnl}).toEqual({fees, realised})
    expect(st.orders.filter((o) => ours('ldb')(o.clientOrderId) && isOpen(o))).toEqual([])
    expect(out.data.live.disarmed).toBe(true)
  }, 240_000)
})
