/**
 * The operator commands against the real `mm sim` (signed endpoints, the documented test
 * keys, introspection GET /__mm/state), no stub (issue 9):
 *  - `mm status --live`: the venue's position, mark and open orders (this instance's,
 *    another mm instance's, foreign) next to state.json's, drift flagged; no keys / a dead
 *    venue are one-line errors.
 *  - `mm halt` with the quote SIGKILLed while holding orders: a faulty venue → exit 3;
 *    then halt cancels this instance's orders itself (exit 0, none open on the sim, the
 *    foreign one untouched); `--all` cancels the foreign one too.
 * Fills in the sim are random: nothing here depends on whether one happens.
 */
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {emptyState, type StateFile} from '../../src/lib/state/file.js'
import {ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {promtool} from '../support/promtool.js'
import {farPrices, getJson, type SimProc, signed, startSim, TEST_KEY, TEST_SECRET, until} from '../support/sim-cli.js'

vi.setConfig({testTimeout: 240_000, hookTimeout: 60_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-ops-sim-'))
const ENV = {MM_API_KEY: TEST_KEY, MM_API_SECRET: TEST_SECRET}
let sim: SimProc

interface SimOrder {clientOrderId: string; status: string; side: string; price: string}
const simState = async () => (await getJson(sim.restUrl, '/__mm/state')).body as {orders: SimOrder[]; positions: Array<{symbol: string; positionAmt: string}>; requests: Array<{method: string; path: string; params: Record<string, string>}>}
const openIds = async () => (await simState()).orders.filter((o) => o.status === 'NEW' || o.status === 'PARTIALLY_FILLED').map((o) => o.clientOrderId)
const value = (text: string, name: string): number => {
  const m = new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)
  if (!m) throw new Error(`${name} missing from\n${text}`)
  return Number(m[1])
}
const read = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as StateFile

async function place(params: Record<string, string>): Promise<Record<string, unknown>> {
  const r = await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: 'ETHUSDC', ...params})
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return r.body
}

beforeAll(async () => {
  for (const c of ['status', 'halt', 'quote', 'sim']) ensureBuilt(c)
  sim = await startSim()
})

afterAll(async () => {
  await sim.stop()
})

describe('mm status --live against mm sim', () => {
  it("shows the venue's position, mark and orders by owner next to state.json's, drift flagged; --json; no keys exit 2; a dead venue exit 1", async () => {
    const far = await farPrices(sim.restUrl, 300)
    // the venue: long 0.010 (a market buy), one order of instance stk not in state.json, one of another instance, one foreign
    await place({side: 'BUY', type: 'MARKET', quantity: '0.010'})
    await place({side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: far.bidBelow, quantity: '0.010', newClientOrderId: 'mm-stk0001-dyn:BUY:0-0'})
    await place({side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: far.bidBelow, quantity: '0.010', newClientOrderId: 'mm-oth0001-dyn:BUY:0-0'})
    await place({side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', price: far.askAbove, quantity: '0.020', newClientOrderId: 'web_manual_1'})
    // state.json of instance stk: flat, one working order the venue does not have
    const S = join(tmp, 'status')
    const s = emptyState('ETHUSDC', false, new Date().toISOString())
    s.instrument = {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}
    s.position = {...s.position, net: '0.000'}
    s.process = {pid: 999_999, host: 'elsewhere', startedAt: s.updatedAt, heartbeat: s.updatedAt, running: false, runId: 'r1', runDir: null, instance: 'stk'}
    s.orders = {'mm-stk0001-dyn:SELL:0-0': {side: 'SELL', price: far.askAbove, qty: '0.010', filled: '0.000', status: 'NEW', tif: 'GTX', reduceOnly: false, layer: 'dynamic', sentAt: s.updatedAt}}
    mkdirSync(join(S, 'ETHUSDC'), {recursive: true})
    writeFileSync(join(S, 'ETHUSDC', 'state.json'), JSON.stringify(s))

    const j = await runCli(['status', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', sim.restUrl, '--live', '--json'], {env: ENV})
    expect(j.code, j.stderr).toBe(0)
    const d = JSON.parse(j.stdout).data
    expect(d.drift).toBe(true)
    const live = d.symbols[0].live
    expect(live).toMatchObject({venue: sim.restUrl, instance: 'stk', instanceFrom: 'state', position: '0.010', counts: {ours: 1, 'other-instance': 1, foreign: 1}})
    expect(live.markPrice).toMatch(/^\d{4}\.\d+$/)
    expect(live.drift).toEqual({any: true, position: {state: '0.000', venue: '0.010'}, missingOnVenue: ['mm-stk0001-dyn:SELL:0-0'], notInState: ['mm-stk0001-dyn:BUY:0-0']})
    expect(Object.fromEntries(live.orders.map((o: {clientOrderId: string; owner: string}) => [o.clientOrderId, o.owner]))).toEqual({'mm-stk0001-dyn:BUY:0-0': 'ours', 'mm-oth0001-dyn:BUY:0-0': 'other-instance', web_manual_1: 'foreign'})
    // state.json's own figures are still there, beside the venue's
    expect(d.symbols[0].position.net).toBe('0.000')

    const t = await runCli(['status', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', sim.restUrl, '--live'], {env: ENV})
    expect(t.code, t.stderr).toBe(0)
    expect(t.stdout).toContain(`ETHUSDC on the venue ${sim.restUrl} (instance stk, from state.json's run):`)
    expect(t.stdout).toContain('open orders: 1 ours, 1 of another mm instance, 1 foreign')
    expect(t.stdout).toContain('DRIFT position: state.json 0.000, venue 0.010')
    expect(t.stdout).toContain('DRIFT 1 order(s) in state.json not open on the venue: mm-stk0001-dyn:SELL:0-0')
    expect(t.stdout).toContain('DRIFT 1 order(s) of ours open on the venue, not in state.json: mm-stk0001-dyn:BUY:0-0')
    // --instance overrides: the stk order is then another instance's
    const o = await runCli(['status', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', sim.restUrl, '--live', '--instance', 'oth', '--json'], {env: ENV})
    expect(JSON.parse(o.stdout).data.symbols[0].live).toMatchObject({instance: 'oth', instanceFrom: 'flag', counts: {ours: 1, 'other-instance': 1, foreign: 1}})
    for (const x of [j, t, o]) expect(x.stdout + x.stderr).not.toContain(TEST_SECRET)

    const nokeys = await runCli(['status', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', sim.restUrl, '--live'], {env: {MM_API_KEY: undefined, MM_API_SECRET: undefined}})
    expect(nokeys.code).toBe(2)
    expect(nokeys.stderr.split('\n')[0]).toBe('mm status: status --live needs API keys: set MM_API_KEY and MM_API_SECRET, or pass --key-file PATH')
    const dead = await runCli(['status', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', 'http://127.0.0.1:1', '--live'], {env: ENV})
    expect(dead.code).toBe(1)
    expect(dead.stderr.split('\n')[0]).toMatch(/^mm status: venue http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/)
    expect(dead.stderr).not.toMatch(/\n\s+at /)
    // plain status: state.json only, no venue request
    const venueCalls = async () => (await simState()).requests.filter((x) => !x.path.startsWith('/__mm')).length
    const before = await venueCalls()
    const plain = await runCli(['status', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', sim.restUrl, '--json'], {env: ENV})
    expect(plain.code).toBe(0)
    expect(JSON.parse(plain.stdout).data.symbols[0].live).toBeUndefined()
    expect(await venueCalls()).toBe(before)

    // clean the account for the next test: no order, flat
    expect((await signed(sim.restUrl, 'DELETE', '/fapi/v1/allOpenOrders', {symbol: 'ETHUSDC'})).status).toBe(200)
    await place({side: 'SELL', type: 'MARKET', quantity: '0.010', reduceOnly: 'true'})
    expect(await openIds()).toEqual([])
  })
})

describe('mm halt with mm quote killed, against mm sim', () => {
  it('a faulty venue: exit 3, halt recorded; then halt cancels this instance\'s orders itself (exit 0, none left, the foreign one kept); --all cancels the foreign one', async () => {
    const S = join(tmp, 'halt')
    const statePath = join(S, 'ETHUSDC', 'state.json')
    const prom = join(mkdtempSync(join(tmpdir(), 'mm-ops-prom-')), 'mm_halt.prom')
    // whatever an earlier test left: no order (a foreign one would stop the live quote)
    expect((await signed(sim.restUrl, 'DELETE', '/fapi/v1/allOpenOrders', {symbol: 'ETHUSDC'})).status).toBe(200)
    // the dead-man's switch at 1 h: the venue must not cancel the orders by itself while this test runs on a loaded machine
    const cfg = join(tmp, 'deadman.json')
    writeFileSync(cfg, JSON.stringify({live: {deadmanCountdownMs: 3_600_000, deadmanRefreshMs: 30_000}}))
    const q = spawnCli(['quote', '--symbol', 'ETHUSDC', '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', S, '--instance', 'opk', '--config', cfg], {env: ENV})
    try {
      await until(async () => (await openIds()).some((id) => id.startsWith('mm-opk')) || q.child.exitCode !== null, 'a resting order of the live quote', 90_000)
      expect(q.child.exitCode, q.stderr()).toBe(null)
    } finally {
      q.child.kill('SIGKILL')
    }
    expect((await q.exited).signal).toBe('SIGKILL')
    const st = read(statePath)
    expect(st.process).toMatchObject({running: true, instance: 'opk'})
    const far = await farPrices(sim.restUrl, 300)
    await place({side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: far.bidBelow, quantity: '0.010', newClientOrderId: 'web_manual_2'})
    // the quote's own orders rest near the touch and may fill meanwhile; one of this instance far from the book surely rests
    const FAR = 'mm-opkzzzz-dyn:SELL:9-0'
    await place({side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', price: far.askAbove, quantity: '0.010', newClientOrderId: FAR})

    // a venue that answers every request 503: nothing can be confirmed
    const bad = await startSim(['--unavailable-rate', '1'])
    try {
      const r = await runCli(['halt', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', bad.restUrl, '--reason', 'quote died', '--json', '--metrics-textfile', prom], {env: ENV})
      expect(r.code, r.stderr).toBe(3)
      const j = JSON.parse(r.stdout).data
      expect(j).toMatchObject({via: 'self', exitCode: 3, halt: {kind: 'manual', reason: 'quote died'}})
      expect(j.notes.some((n: string) => n.startsWith('venue: '))).toBe(true)
      expect(read(statePath).halt).toMatchObject({kind: 'manual', reason: 'quote died'})
      expect(read(statePath).process).toMatchObject({running: false})
      const text = readFileSync(prom, 'utf8')
      expect([value(text, 'mm_halt_success'), value(text, 'mm_halt_exit_code'), value(text, 'mm_halt_orders_cancelled'), value(text, 'mm_halt_active')]).toEqual([0, 3, 0, 1])
    } finally {
      await bad.stop()
    }

    // the real venue: this instance's orders cancelled by halt itself
    const h = await runCli(['halt', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', sim.restUrl, '--reason', 'quote died', '--json', '--metrics-textfile', prom], {env: ENV})
    expect(h.code, h.stderr).toBe(0)
    const hj = JSON.parse(h.stdout).data
    expect(hj).toMatchObject({via: 'self', ordersLeft: [], exitCode: 0})
    // the textfile: the run's figures, promtool-clean, no temporary file beside it
    const text = readFileSync(prom, 'utf8')
    expect(hj.cancelled).toBeGreaterThan(0)
    expect([value(text, 'mm_halt_success'), value(text, 'mm_halt_exit_code'), value(text, 'mm_halt_orders_cancelled'), value(text, 'mm_halt_orders_left'), value(text, 'mm_halt_active')]).toEqual([1, 0, hj.cancelled, 0, 1])
    expect(Math.abs(value(text, 'mm_halt_last_run_timestamp_seconds') - Date.now() / 1000)).toBeLessThan(300)
    expect(text).toMatch(/^mm_halt_orders_cancelled\{symbol="ETHUSDC",command="halt"\} \d+$/m)
    expect(text).not.toMatch(/^process_/m)
    expect(readdirSync(dirname(prom))).toEqual(['mm_halt.prom'])
    const check = promtool(['check', 'metrics'], text)
    expect(check.out).toBe('')
    expect(check.code).toBe(0)
    const open = await openIds()
    expect(open.filter((id) => id.startsWith('mm-'))).toEqual([])
    expect(open).toEqual(['web_manual_2'])
    const deletes = (await simState()).requests.filter((x) => x.method === 'DELETE' && x.path === '/fapi/v1/order').map((x) => x.params.origClientOrderId)
    expect(deletes).toContain(FAR)
    expect(deletes.every((id) => id.startsWith('mm-opk'))).toBe(true)
    expect(read(statePath).orders).toEqual({})

    // status --live now: nothing of ours open, the foreign order seen, the orders agree
    const s = await runCli(['status', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', sim.restUrl, '--live', '--json'], {env: ENV})
    expect(s.code, s.stderr).toBe(0)
    const live = JSON.parse(s.stdout).data.symbols[0].live
    expect(live).toMatchObject({instance: 'opk', instanceFrom: 'state', counts: {ours: 0, 'other-instance': 0, foreign: 1}})
    expect(live.drift).toMatchObject({missingOnVenue: [], notInState: []})

    // twice is safe; --all takes the foreign one too
    const again = await runCli(['halt', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', sim.restUrl], {env: ENV})
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain('no order of ours remains')
    expect(await openIds()).toEqual(['web_manual_2'])
    const all = await runCli(['halt', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', sim.restUrl, '--all'], {env: ENV})
    expect(all.code, all.stderr).toBe(0)
    expect(await openIds()).toEqual([])
  })
})
