/**
 * A restart with `--allow-foreign-orders` after a SIGKILL: the killed run's dead-man's
 * switch (countdownCancelAll, the account's, per symbol) is still counting at the venue,
 * and when it ends the venue cancels every order of the symbol — the hand-placed order the
 * restart said it would not touch ("dead-man's switch OFF (--allow-foreign-orders)") too.
 * Before the fix the restart never stopped that countdown: against `mm sim` a hand order
 * `hand_1` was CANCELED 120 s after the killed run's last refresh, while the restart quoted
 * beside it. Now the restart sends countdownTime=0 before quoting, and says so.
 *
 * Live `mm quote` and `mm sim` through bin/run.js; the sim's request log tells which
 * countdown is in force (the last countdownCancelAll it received).
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt} from '../support/cli.js'
import {isOpen, type LiveSim, readState, spawnQuote, startLiveSim, waitFor, writeConfig} from '../support/live-sim.js'
import {farPrices, signed} from '../support/sim-cli.js'

let tmp: string
let sim: LiveSim | undefined
let sim2: LiveSim | undefined

beforeAll(() => {
  ensureBuilt('quote')
  ensureBuilt('sim')
  tmp = mkdtempSync(join(tmpdir(), 'mm-live-restart-foreign-'))
})

afterAll(async () => {
  await sim?.stop()
  await sim2?.stop()
})

describe('live restart with --allow-foreign-orders after a kill', () => {
  it('stops the killed run’s dead-man’s switch, so the venue does not cancel the foreign order', async () => {
    sim = await startLiveSim(['--synthetic', '--seed', '7'])
    const s = sim
    const stateDir = join(tmp, 'state')
    const cfg = writeConfig(tmp, 'far.json', {strategy: {kind: 'naive', baseSpread: 0.05, baseSize: '0.010', baseInterval: 500}, risk: {netMax: '0.5'}})

    // run A: quoting, its switch armed (120 s), then killed with its orders resting
    const a = spawnQuote(s, stateDir, ['--config', cfg, '--instance', 'rf'])
    try {
      await a.waitFor(/quoting \(Ctrl-C stops/, 'stderr')
      await waitFor(async () => (await s.state({books: true})).orders.some((o) => o.clientOrderId.startsWith('mm-rf') && isOpen(o)), 'an order of A resting', 30_000)
    } finally {
      a.child.kill('SIGKILL')
    }
    await a.exited
    expect(readState(stateDir).process!.running).toBe(true)

    // a human's order on the same account and symbol, far from the touch
    const {bidBelow} = await farPrices(s.restUrl, 5000)
    const placed = await signed(s.restUrl, 'POST', '/fapi/v1/order', {symbol: 'ETHUSDC', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: bidBelow, quantity: '0.010', newClientOrderId: 'hand_1'})
    expect(placed.status, JSON.stringify(placed.body)).toBe(200)

    // restart B beside it
    const before = (await s.state()).requests.length
    const b = spawnQuote(s, stateDir, ['--config', cfg, '--instance', 'rf', '--allow-foreign-orders', '--duration', '3s'])
    const {code} = await b.exited
    expect(code, b.stderr()).toBe(0)
    expect(b.stderr()).toContain('note: not touching 1 foreign order(s): hand_1 (BUY 0.010 @ ')

    const st = await s.state()
    const countdowns = st.requests.filter((r) => r.path === '/fapi/v1/countdownCancelAll')
    // A armed it (120000); B's stop is the last word: countdown 0, answered
    expect(countdowns[0].params.countdownTime).toBe('120000')
    const last = countdowns.at(-1)!
    expect(last.seq).toBeGreaterThan(before)
    expect([last.params.countdownTime, last.status]).toEqual(['0', 200])
    // B sent no countdown but that 0
    expect(countdowns.filter((r) => r.seq > before).map((r) => r.params.countdownTime)).toEqual(['0'])
    // nothing of mm's open; the human's order untouched
    expect(st.orders.filter(isOpen).map((o) => o.clientOrderId)).toEqual(['hand_1'])
    expect(b.stderr()).toContain("note: dead-man's switch OFF (--allow-foreign-orders); a countdown an earlier run left running is stopped, so the venue cancels none of the foreign orders")
  })
})

describe('live restart under another instance name after a kill (a host name that changed: a new container or pod)', () => {
  it('cancels the orders of the run state.json names as its own leftovers (it refused: "another mm instance has orders", its orders left to rest)', async () => {
    // a venue of its own: the test above leaves its hand-placed order resting
    sim2 = await startLiveSim(['--synthetic', '--seed', '7'])
    const s = sim2
    const stateDir = join(tmp, 'renamed')
    const cfg = writeConfig(tmp, 'far2.json', {strategy: {kind: 'naive', baseSpread: 0.05, baseSize: '0.010', baseInterval: 500}, risk: {netMax: '0.5'}})

    const a = spawnQuote(s, stateDir, ['--config', cfg, '--instance', 'ha'])
    let runA = ''
    try {
      await a.waitFor(/quoting \(Ctrl-C stops/, 'stderr')
      runA = (readState(stateDir).process as unknown as {clientRunId: string}).clientRunId
      await waitFor(async () => (await s.state({books: true})).orders.some((o) => o.clientOrderId.startsWith(`mm-${runA}-`) && isOpen(o)), 'an order of A resting', 30_000)
    } finally {
      a.child.kill('SIGKILL')
    }
    await a.exited
    const left = (await s.state({books: true})).orders.filter((o) => o.clientOrderId.startsWith(`mm-${runA}-`) && isOpen(o))
    expect(left.length).toBeGreaterThan(0)

    const b = spawnQuote(s, stateDir, ['--config', cfg, '--instance', 'hb', '--duration', '3s'])
    const {code} = await b.exited
    expect(code, b.stderr()).toBe(0)
    expect(b.stderr()).toContain(`note: cancelling ${left.length} order(s) left by run ${runA}, which wrote this state dir's state.json under another instance name (it is not running: this quote holds its lock)`)
    const st = await s.state({books: true})
    for (const o of left) expect(st.orders.find((x) => x.orderId === o.orderId)?.status, o.clientOrderId).toBe('CANCELED')
    expect(st.orders.filter((o) => o.clientOrderId.startsWith('mm-') && isOpen(o)).map((o) => o.clientOrderId)).toEqual([])
  })
})
