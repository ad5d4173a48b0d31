/**
 * Ctrl-C during `mm flatten` while it sends its own closing orders (no quote runs): no new
 * order after the one in flight, then the venue's position is read and the fills so far are
 * booked in state.json, exit 3 (partly done) with the residual. Before, Ctrl-C ended it at
 * once (exit 130): the fills of the orders already sent were in no state.json, whose
 * position still said the one before the flatten.
 *
 * On `mm sim` with every REST answer 300 ms late (`--latency`) and maxQty 1,000 so the
 * flatten needs several orders: SIGHUP is sent when the first order that filled is printed
 * (it goes on), SIGINT after the next order.
 */
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {PlainDecimal} from '../../src/lib/domain/decimal.js'
import type {StateFile} from '../../src/lib/state/file.js'
import {ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {LIVE_ENV, type LiveSim, startLiveSim, waitFor} from '../support/live-sim.js'
import {signed} from '../support/sim-cli.js'

vi.setConfig({testTimeout: 180_000, hookTimeout: 60_000})

const SYM = 'ETHUSDC'
const tmp = mkdtempSync(join(tmpdir(), 'mm-flatten-int-'))
let sim: LiveSim

beforeAll(async () => {
  ensureBuilt('flatten')
  ensureBuilt('quote')
  sim = await startLiveSim(['--synthetic', '--seed', '12', '--step-size', '1', '--max-qty', '1000', '--start-price', '20', '--min-notional', '5', '--balance', '1000000', '--latency', '300ms'])
})

afterAll(async () => {
  await sim?.stop()
})

const position = async () => (await sim.state()).positions.find((p) => p.symbol === SYM)?.positionAmt ?? '0'

describe('mm flatten, no quote running: Ctrl-C while it sends its own orders', () => {
  it('sends no new order, books the fills so far in state.json, exits 3 with the residual', async () => {
    // a live quote leaves its state (ledger, run id) behind: the flatten books into that ledger
    const dir = join(tmp, 'st')
    const cfg = join(tmp, 'q.json')
    writeFileSync(cfg, JSON.stringify({strategy: {baseSize: '1'}, risk: {netMax: '3'}}))
    const q = await runCli(['quote', '--symbol', SYM, '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', dir, '--config', cfg, '--duration', '3s'], {env: LIVE_ENV})
    expect(q.code, q.stderr).toBe(0)
    const before = JSON.parse(readFileSync(join(dir, SYM, 'state.json'), 'utf8')) as StateFile
    const start = Number(await position())
    expect(Math.abs(start)).toBeLessThanOrEqual(3)
    // a position from elsewhere (not mm's) to close: five times maxQty
    for (let i = 0; i < 5; i++) {
      const r = await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: SYM, side: 'BUY', type: 'MARKET', quantity: '1000'})
      expect(r.status, JSON.stringify(r.body)).toBe(200)
    }
    expect(Number(await position())).toBe(start + 5000)
    const f = spawnCli(['flatten', '--symbol', SYM, '--rest-url', sim.restUrl, '--state-dir', dir, '--max-slip', '0.05', '--rounds', '20'], {env: LIVE_ENV})
    // after the first order that filled (an IOC may find nothing within the cap)
    await f.waitFor(/^round \d+: SELL .*→ filled [1-9]/m, 'stdout', 60_000)
    // a hang-up (the ssh session gone) is no request to stop: the close goes on
    const before1 = f.stdout().split('\n').filter((l) => l.startsWith('round ')).length
    f.child.kill('SIGHUP')
    await waitFor(() => f.stdout().split('\n').filter((l) => l.startsWith('round ')).length > before1, 'an order after the SIGHUP', 60_000)
    const atInt = f.stdout().split('\n').filter((l) => l.startsWith('round ')).length
    f.child.kill('SIGINT')
    const {code} = await f.exited
    expect(code, f.stderr()).toBe(3)
    expect(f.stderr()).toContain('mm flatten: SIGINT: no new order after the one in flight')
    const rounds = f.stdout().split('\n').filter((l) => l.startsWith('round '))
    // no order after the one in flight when the signal came (5 were needed)
    const seen = rounds.findIndex((l) => /→ filled [1-9]/.test(l)) + 1
    expect(seen).toBeGreaterThan(0)
    expect(rounds.length).toBeGreaterThanOrEqual(seen + 1)
    expect(rounds.length).toBeLessThanOrEqual(atInt + 1)
    const left = await position()
    const filled = rounds.map((l) => Number(/→ filled (\d+)/.exec(l)?.[1]))
    expect(filled.every((x) => Number.isInteger(x) && x >= 0), rounds.join("\n")).toBe(true)
    expect(Number(left)).toBe(start + 5000 - filled.reduce((a, b) => a + b, 0))
    expect(f.stdout()).toContain(`residual ${left} after`)
    expect(f.stdout()).toContain('(stopped by SIGINT)')
    // the fills so far are in state.json: the venue's position, and one fill per trade of the flatten's orders
    const st = JSON.parse(readFileSync(join(dir, SYM, 'state.json'), 'utf8')) as StateFile
    expect(st.position.net).toBe(left)
    const sims = await sim.state()
    const ours = new Set(sims.orders.filter((o) => o.clientOrderId.includes('-flat-')).map((o) => o.orderId))
    expect(ours.size).toBe(rounds.length)
    const trades = sims.trades.filter((t) => ours.has(t.orderId))
    expect(trades.length).toBeGreaterThan(0)
    expect(st.position.fills, f.stderr()).toBe(before.position.fills + trades.length)
    const fees = trades.reduce((a, t) => a.add(t.commission), new PlainDecimal(0))
    expect(st.position.fees).toBe(new PlainDecimal(before.position.fees).add(fees).toString())
    expect(st.halt).toMatchObject({kind: 'manual', reason: 'mm flatten', flatten: true})
    expect(st.flatten?.rounds.length).toBe(rounds.length)
  })
})
