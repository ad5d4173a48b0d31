/**
 * `mm flatten` with no quote running takes the venue as the truth (found by driving the CLI
 * on other instruments, 2026-11-30): with no state.json it asks the venue for the position
 * and closes it; it cuts orders to the venue's max order size (LOT_SIZE maxQty, read from
 * exchangeInfo, which state.json does not keep); and the fills of its own orders are read
 * back from userTrades into state.json's ledger, so its fees, realised PnL and fill count
 * are the venue's. On `mm sim` with a 1000PEPEUSDT-like contract (tick 0.0000001, whole
 * lots, maxQty 1,000,000).
 */
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {PlainDecimal} from '../../src/lib/domain/decimal.js'
import type {StateFile} from '../../src/lib/state/file.js'
import {ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {LIVE_ENV, type LiveSim, startLiveSim, waitFor} from '../support/live-sim.js'
import {signed} from '../support/sim-cli.js'

vi.setConfig({testTimeout: 180_000, hookTimeout: 60_000})

const SYM = '1000PEPEUSDT'
const tmp = mkdtempSync(join(tmpdir(), 'mm-flatten-truth-'))
let sim: LiveSim

beforeAll(async () => {
  ensureBuilt('flatten')
  sim = await startLiveSim(['--synthetic', '--seed', '11', '--symbol', SYM, '--tick-size', '0.0000001', '--step-size', '1', '--min-notional', '5', '--start-price', '0.0123', '--balance', '1000000'])
})

afterAll(async () => {
  await sim?.stop()
})

const position = async () => (await sim.state()).positions.find((p) => p.symbol === SYM)?.positionAmt ?? '0'
const buy = async (quantity: string) => {
  const r = await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: SYM, side: 'BUY', type: 'MARKET', quantity})
  expect(r.status, JSON.stringify(r.body)).toBe(200)
}
const flatten = (stateDir: string) => runCli(['flatten', '--symbol', SYM, '--rest-url', sim.restUrl, '--state-dir', stateDir, '--max-slip', '0.002', '--rounds', '10', '--json'], {env: LIVE_ENV})
/** the flatten's --json answer, and the sim's trades of the orders it sent */
async function ownTrades(stdout: string) {
  const j = JSON.parse(stdout).data as {rounds: Round[]; notes: string[]}
  const ids = new Set(j.rounds.map((x) => x.clientOrderId))
  const st = await sim.state()
  const orderIds = new Set(st.orders.filter((o) => ids.has(o.clientOrderId)).map((o) => o.orderId))
  return {j, trades: st.trades.filter((t) => orderIds.has(t.orderId))}
}

interface Round {round: number; side: string; qty: string; filled: string; clientOrderId: string}

describe('mm flatten without a quote: the venue is the truth', () => {
  it('no state.json: asks the venue, closes 2,700,000 in orders of at most maxQty 1,000,000, records the halt', async () => {
    for (const q of ['900000', '900000', '900000']) await buy(q)
    expect(await position()).toBe('2700000')
    const dir = join(tmp, 'nostate')
    const r = await flatten(dir)
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout).data as {positionBefore: string; positionAfter: string; rounds: Round[]}
    expect([j.positionBefore, j.positionAfter]).toEqual(['2700000', '0'])
    for (const x of j.rounds) {
      expect(x.side).toBe('SELL')
      expect(Number(x.qty)).toBeLessThanOrEqual(1_000_000)
    }
    expect(j.rounds.reduce((a, x) => a + BigInt(x.filled), 0n)).toBe(2_700_000n)
    expect(await position()).toBe('0')
    const st = JSON.parse(readFileSync(join(dir, SYM, 'state.json'), 'utf8')) as StateFile
    expect(st.instrument).toEqual({tickSize: '0.0000001', stepSize: '1', minQty: '1', minNotional: '5'})
    expect(st.halt).toMatchObject({kind: 'manual', reason: 'mm flatten', flatten: true, flattened: true})
    expect(st.position.net).toBe('0')
  })

  it("no state.json: the flatten's own fills are booked in the state.json it writes (fees, realised, count), as with an earlier one", async () => {
    // before: state.json's fees stayed 0 and no fill was counted (no ledger to fold them into)
    await buy('600000')
    const dir = join(tmp, 'nostate-fees')
    const r = await flatten(dir)
    expect(r.code, r.stderr).toBe(0)
    expect(await position()).toBe('0')
    const {j, trades} = await ownTrades(r.stdout)
    expect(trades.length).toBeGreaterThan(0)
    const fees = trades.reduce((a, t) => a.add(t.commission), new PlainDecimal(0)).toString()
    const realised = trades.reduce((a, t) => a.add(t.realizedPnl), new PlainDecimal(0)).toString()
    expect(new PlainDecimal(fees).gt(0)).toBe(true)
    const after = JSON.parse(readFileSync(join(dir, SYM, 'state.json'), 'utf8')) as StateFile
    expect(after.position).toMatchObject({net: '0', avgCost: null, fees, realised, fills: trades.length, total: new PlainDecimal(realised).sub(fees).toString()})
    expect(after.position.ledger).toMatchObject({net: 0, fees, fills: trades.length, venueRealised: realised})
    expect(after.counters.fills).toBe(trades.length)
    expect(j.notes).toContain(`fills booked: ${trades.length} trade(s) read back from userTrades (fees ${fees}, realised ${realised})`)
  })

  it("no state.json while another mm instance quotes: exit 1 naming its orders; nothing sent, its orders left working", async () => {
    const cfg = join(tmp, 'pepe-other.json')
    writeFileSync(cfg, JSON.stringify({strategy: {baseSize: '1000'}, risk: {netMax: '10000'}}))
    const q = spawnCli(['quote', '--symbol', SYM, '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', join(tmp, 'other-live'), '--config', cfg], {env: LIVE_ENV})
    try {
      const working = async () => (await sim.state()).orders.filter((o) => o.clientOrderId.startsWith('mm-') && o.status === 'NEW')
      await waitFor(async () => (await working()).length > 0, 'the other instance quoting', 60_000)
      // the other instance keeps quoting meanwhile: its requests carry its client-id prefix
      // (mm-<instance><nonce>-), or are its housekeeping (dead-man's switch, listenKey)
      const prefix = (await working())[0].clientOrderId.split('-').slice(0, 2).join('-') + '-'
      const theirs = (x: {path: string; params: Record<string, string>}) => JSON.stringify(x.params).includes(prefix) || x.path === '/fapi/v1/countdownCancelAll' || x.path === '/fapi/v1/listenKey'
      const before = (await sim.state()).requests.length
      const r = await flatten(join(tmp, 'elsewhere'))
      expect(r.code, r.stderr).toBe(1)
      const err = (JSON.parse(r.stdout) as {error: {code: string; message: string}}).error
      expect(err.code).toBe('E_OTHER_INSTANCE')
      expect(err.message).toMatch(/^1000PEPEUSDT: no state\.json in .*elsewhere, and \d+ mm order\(s\) are working on the venue \(mm-.*\): another mm instance looks live; nothing was sent$/)
      // only reads reached the venue: no cancel, no order
      expect((await sim.state()).requests.slice(before).filter((x) => x.method !== 'GET' && x.path !== '/__mm/state' && !theirs(x)).map((x) => `${x.method} ${x.path}`)).toEqual([])
      expect(existsSync(join(tmp, 'elsewhere', SYM, 'state.json'))).toBe(false)
    } finally {
      q.child.kill('SIGTERM')
      await q.exited
    }
  })

  it("the flatten's own fills are booked in state.json: fees and fill count move by exactly its trades'", async () => {
    // a live quote leaves its state (ledger, run id) behind
    const dir = join(tmp, 'booked')
    const cfg = join(tmp, 'pepe.json')
    writeFileSync(cfg, JSON.stringify({strategy: {baseSize: '1000'}, risk: {netMax: '10000'}}))
    const q = await runCli(['quote', '--symbol', SYM, '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', dir, '--config', cfg, '--duration', '4s'], {env: LIVE_ENV})
    expect(q.code, q.stderr).toBe(0)
    const path = join(dir, SYM, 'state.json')
    expect(existsSync(path)).toBe(true)
    const before = JSON.parse(readFileSync(path, 'utf8')) as StateFile
    // a position from elsewhere (not mm's) to close
    await buy('5000')
    const r = await flatten(dir)
    expect(r.code, r.stderr).toBe(0)
    expect(await position()).toBe('0')
    const {j, trades} = await ownTrades(r.stdout)
    expect(trades.length).toBeGreaterThan(0)
    const fees = trades.reduce((a, t) => a.add(t.commission), new PlainDecimal(0))
    const after = JSON.parse(readFileSync(path, 'utf8')) as StateFile
    expect(after.position.fees).toBe(new PlainDecimal(before.position.fees).add(fees).toString())
    expect(after.position.fills).toBe(before.position.fills + trades.length)
    expect(after.position.net).toBe('0')
    expect(j.notes.some((n) => n.startsWith(`fills booked: ${trades.length} trade(s) read back from userTrades`))).toBe(true)
  })
})
