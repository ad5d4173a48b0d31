/**
 * The restart's read-back below the last counted trade id (stop-readback): run A (live
 * `mm quote` against `mm sim`, both through bin/run.js) books its fills and stops; its
 * state.json is then made what a fill counted out of id order leaves (a trade below
 * `lastTradeId` never counted: the stream told a later trade before the earlier one was
 * read back, and the run died): that trade's fee, realised profit and count taken out of
 * the ledger and its id out of `tradeIds`. Run B starts on that state dir. Before, B read
 * from `lastTradeId + 1` only: the trade stayed out of the totals for good (fees and
 * realised PnL off by it, one fill short). Now B reads it back, once.
 */
import {readFileSync, writeFileSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Decimal} from 'decimal.js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt} from '../support/cli.js'
import {canon, type LiveSim, spawnQuote, startLiveSim, waitFor, writeConfig} from '../support/live-sim.js'

let tmp: string
let sim: LiveSim | undefined

beforeAll(() => {
  ensureBuilt('quote')
  ensureBuilt('sim')
  tmp = mkdtempSync(join(tmpdir(), 'mm-restart-below-'))
})

afterAll(async () => {
  await sim?.stop()
})

interface Ledger {fills: number; makerFills: number; fees: string; makerFees: string; takerFees: string; volume: number; notional: string; venueRealised?: string; lastTradeId?: string; tradeIds?: string[]}

describe('live restart: a trade below the last counted id that the earlier run never counted (stop-readback)', () => {
  it('is read back at the restart and counted once: fees, realised and fills equal the sim ledger', async () => {
    const scfg = writeConfig(tmp, 'sim.json', {paper: {queueModel: 'prob-power'}})
    sim = await startLiveSim(['--synthetic', '--seed', '7', '--config', scfg])
    const s = sim
    const stateDir = join(tmp, 'state')
    const qa = writeConfig(tmp, 'a.json', {strategy: {kind: 'naive', baseSpread: 0.00001, baseSize: '0.010', baseInterval: 500}, risk: {netMax: '0.05', reduceOnlyThreshold: 2}})
    const a = spawnQuote(s, stateDir, ['--config', qa, '--instance', 'rb'])
    try {
      await waitFor(async () => (await s.state({books: true})).trades.length >= 3, '3 fills at the sim', 120_000, 100)
    } finally {
      a.child.kill('SIGTERM')
    }
    expect((await a.exited).code, a.stderr()).toBe(0)
    const trades = [...(await s.state({books: true})).trades].sort((x, y) => x.id - y.id) as unknown as Array<{id: number; qty: string; price: string; commission: string; realizedPnl: string; maker: boolean}>
    const file = join(stateDir, 'ETHUSDC', 'state.json')
    const st = JSON.parse(readFileSync(file, 'utf8')) as {position: {ledger: Ledger}}
    const l = st.position.ledger
    expect(l.fills).toBe(trades.length)
    expect(l.tradeIds).toEqual(trades.map((t) => String(t.id)))
    // the ledger as counting out of id order leaves it: the first trade never counted (lastTradeId stays the highest)
    const t = trades[0]
    const steps = Number(new Decimal(t.qty).div('0.001'))
    l.fees = new Decimal(l.fees).sub(t.commission).toString()
    if (t.maker) l.makerFees = new Decimal(l.makerFees).sub(t.commission).toString()
    else l.takerFees = new Decimal(l.takerFees).sub(t.commission).toString()
    l.fills -= 1
    l.makerFills -= t.maker ? 1 : 0
    l.volume -= steps
    l.notional = (BigInt(l.notional) - BigInt(new Decimal(t.price).div('0.01').toString()) * BigInt(steps)).toString()
    l.venueRealised = new Decimal(l.venueRealised!).sub(t.realizedPnl).toString()
    l.tradeIds = l.tradeIds!.slice(1)
    expect(l.lastTradeId).toBe(String(trades.at(-1)!.id))
    writeFileSync(file, JSON.stringify(st, null, 2))
    // run B: wide quotes (no fill of its own), a short run
    const qb = writeConfig(tmp, 'b.json', {strategy: {kind: 'naive', baseSpread: 0.05, baseSize: '0.010', baseInterval: 500}})
    const b = spawnQuote(s, stateDir, ['--config', qb, '--instance', 'rb', '--duration', '2s'])
    expect((await b.exited).code, b.stderr()).toBe(0)
    expect(b.stderr()).toContain(`note: fills recovered: 1 fill(s) of the earlier run rb`)
    expect(b.stderr()).toMatch(/read back from userTrades \(fees [\d.]+, realised -?[\d.]+\); 1 of them below its last counted trade id/)
    const after = JSON.parse(readFileSync(file, 'utf8')) as {position: {fees: string; realised: string; ledger: Ledger}}
    const sl = (await s.state({books: true})).ledger.find((x) => x.symbol === 'ETHUSDC')!
    expect(after.position.ledger.fills).toBe(trades.length)
    expect(canon(after.position.fees)).toBe(canon(sl.fees))
    expect(canon(after.position.realised)).toBe(canon(sl.realisedPnl))
    // a third start counts nothing again
    const c = spawnQuote(s, stateDir, ['--config', qb, '--instance', 'rb', '--duration', '2s'])
    expect((await c.exited).code, c.stderr()).toBe(0)
    expect(c.stderr()).toContain('note: fills recovered: 0 fill(s)')
    const again = JSON.parse(readFileSync(file, 'utf8')) as {position: {fees: string; ledger: Ledger}}
    expect([again.position.ledger.fills, canon(again.position.fees)]).toEqual([trades.length, canon(sl.fees)])
  }, 240_000)
})
