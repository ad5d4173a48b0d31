/**
 * Issue 10, crash safety: fills that reach the venue after the quote's last state write
 * and before a SIGKILL are in the venue's position the restart adopts; they must also be
 * in the carried totals (fees, realised PnL, fill count), counted exactly once.
 *
 * Live `mm quote` against `mm sim`, both through bin/run.js. Made deterministic: run A
 * quotes (tight, so its own fills may come) and takes a MARKET fill of an order with its
 * run's client id (sent by the test with the account's keys, as a fill of A's the stream
 * tells A about); then A is frozen (SIGSTOP: it can neither read its stream nor write its
 * state), one more order with A's run id fills and a foreign order (a human's) fills on
 * the same account and symbol, and A is SIGKILLed. Restart B (quoting far from the touch,
 * so nothing of its own fills) must count exactly A's trades past A's last counted trade
 * id and say so in one `fills_recovered` risk_event; its totals then equal the sim's ledger
 * for mm's trades (the sim's ledger less the foreign trade); restart C counts nothing more.
 */
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Decimal} from 'decimal.js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt} from '../support/cli.js'
import {canon, type LiveSim, readState, spawnQuote, startLiveSim, type SimState, waitFor, writeConfig} from '../support/live-sim.js'
import {signed} from '../support/sim-cli.js'

const D = Decimal.clone({precision: 60, toExpNeg: -9e15, toExpPos: 9e15})
const INST = 'kf'
let tmp: string
let sim: LiveSim | undefined

beforeAll(() => {
  ensureBuilt('quote')
  ensureBuilt('sim')
  tmp = mkdtempSync(join(tmpdir(), 'mm-live-kill-fills-'))
})

afterAll(async () => {
  await sim?.stop()
})

interface Ledger {fills: number; fees: string; venueRealised?: string; lastTradeId?: string}
interface StateFull {process: {pid: number; running: boolean; clientRunId: string}; position: {net: string; fees: string; realised: string; fills: number; ledger: Ledger}; counters: {fills: number}}
const full = (dir: string) => readState(dir) as unknown as StateFull

/** a MARKET order filled at once against the sim's book, with the given client id */
async function marketFill(s: LiveSim, clientOrderId: string, side: 'BUY' | 'SELL'): Promise<void> {
  const r = await signed(s.restUrl, 'POST', '/fapi/v1/order', {symbol: 'ETHUSDC', side, type: 'MARKET', quantity: '0.050', newClientOrderId: clientOrderId, newOrderRespType: 'RESULT'})
  expect(r.status, `${clientOrderId}: ${JSON.stringify(r.body)}; mark ${JSON.stringify(await (await fetch(`${s.restUrl}/fapi/v1/premiumIndex?symbol=ETHUSDC`)).json())}`).toBe(200)
  await waitFor(async () => (await s.state({books: true})).orders.some((o) => o.clientOrderId === clientOrderId && o.status === 'FILLED'), `${clientOrderId} filled`, 30_000)
}

/** mm's trades at the sim (orders whose client id is of instance INST), with their client ids */
function mmTrades(st: SimState) {
  const cid = new Map(st.orders.map((o) => [o.orderId, o.clientOrderId]))
  return st.trades.map((t) => ({...t, clientOrderId: cid.get(t.orderId) ?? ''})).filter((t) => t.clientOrderId.startsWith(`mm-${INST}`))
}

/** a restart that runs `--duration` and stops cleanly; its fills_recovered events */
async function restart(s: LiveSim, stateDir: string, cfg: string): Promise<{stderr: string; recovered: Array<Record<string, unknown>>}> {
  const q = spawnQuote(s, stateDir, ['--config', cfg, '--instance', INST, '--duration', '4s'])
  const {code} = await q.exited
  expect(code, q.stderr()).toBe(0)
  const runDir = /events → (\S+)\/events\.jsonl/.exec(q.stderr())![1]
  const events = readFileSync(join(runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as {type: string; reason?: string; values?: Record<string, unknown>})
  return {stderr: q.stderr(), recovered: events.filter((e) => e.type === 'risk_event' && e.reason === 'fills_recovered').map((e) => e.values!)}
}

describe('live restart after a SIGKILL: fills the state did not record are carried into the totals (issue 10)', () => {
  it('counts the killed run’s unrecorded fills once, never a foreign one, and a second restart adds nothing', async () => {
    const scfg = writeConfig(tmp, 'sim.json', {paper: {queueModel: 'prob-power'}})
    sim = await startLiveSim(['--synthetic', '--seed', '7', '--config', scfg])
    const s = sim
    const stateDir = join(tmp, 'state')
    const tight = writeConfig(tmp, 'tight.json', {strategy: {kind: 'naive', baseSpread: 0.00001, baseSize: '0.010', baseInterval: 500}, risk: {netMax: '0.5'}})
    // restarts quote 5 % away from the mid: nothing of theirs fills in their few seconds
    const far = writeConfig(tmp, 'far.json', {strategy: {kind: 'naive', baseSpread: 0.05, baseSize: '0.010', baseInterval: 500}, risk: {netMax: '0.5'}})

    // run A: up and quoting, one fill of its own counted in its state (a trade id recorded)
    const a = spawnQuote(s, stateDir, ['--config', tight, '--instance', INST])
    let runA = ''
    try {
      runA = await waitFor(() => {
        try {
          const st = full(stateDir)
          return st.process.running && st.process.pid === a.child.pid ? st.process.clientRunId : undefined
        } catch {
          return undefined
        }
      }, 'run A up', 60_000)
      await waitFor(async () => (await s.state({books: true})).orders.some((o) => o.clientOrderId.startsWith(`mm-${runA}-`) && o.status === 'NEW'), 'a working order of A', 60_000)
      await marketFill(s, `mm-${runA}-t-1`, 'BUY')
      await waitFor(() => full(stateDir).position.ledger.lastTradeId !== undefined, 'A’s state counting a trade', 30_000)
      // A frozen: fills from here on reach the venue, never A
      a.child.kill('SIGSTOP')
      await marketFill(s, `mm-${runA}-t-2`, 'BUY')
      await marketFill(s, 'web_kill_1', 'BUY')
    } finally {
      a.child.kill('SIGKILL')
    }
    await a.exited
    const before = full(stateDir)
    const lastCounted = BigInt(before.position.ledger.lastTradeId!)

    // restart B: reads back A's trades past its last counted one
    const b = await restart(s, stateDir, far)
    const st = await s.state()
    const mine = mmTrades(st)
    const missed = mine.filter((t) => t.clientOrderId.startsWith(`mm-${runA}-`) && BigInt(t.id) > lastCounted)
    // at least the fill sent while A was frozen (its resting orders may have filled too, or after the kill before B cancelled them)
    expect(missed.map((t) => t.clientOrderId)).toContain(`mm-${runA}-t-2`)
    expect(b.recovered.length).toBe(1)
    expect(b.recovered[0]).toMatchObject({fills: missed.length, run: runA, fromId: Number(lastCounted + 1n), others: 1, fees: missed.reduce((x, t) => x.add(t.commission), new D(0)).toString()})
    expect(b.stderr).toContain(`note: fills recovered: ${missed.length} fill(s) of the earlier run ${runA} read back from userTrades`)

    // B's totals: mm's trades at the sim, exactly (the sim's ledger less the foreign trade)
    const foreign = st.trades.filter((t) => !mine.includes(t as (typeof mine)[number]) && !mine.some((m) => m.id === t.id))
    expect(foreign.length).toBe(1)
    expect(new D(foreign[0].commission).gt(0)).toBe(true)
    const fees = mine.reduce((x, t) => x.add(t.commission), new D(0))
    const realised = mine.reduce((x, t) => x.add(t.realizedPnl), new D(0))
    const [ledger] = st.ledger
    expect(fees.add(foreign[0].commission).toString()).toBe(new D(ledger.fees).toString())
    expect(realised.add(foreign[0].realizedPnl).toString()).toBe(new D(ledger.realisedPnl).toString())
    const afterB = full(stateDir)
    expect(afterB.position.fills).toBe(mine.length)
    expect(afterB.position.ledger.fills).toBe(mine.length)
    expect(afterB.counters.fills).toBe(mine.length)
    expect(canon(afterB.position.fees)).toBe(canon(fees.toString()))
    expect(canon(afterB.position.realised)).toBe(canon(realised.toString()))
    expect(afterB.position.ledger.lastTradeId).toBe(String(Math.max(...mine.map((t) => t.id))))
    // the position is the venue's, the foreign fill included
    expect(canon(afterB.position.net)).toBe(canon(ledger.positionAmt))

    // restart C: nothing more to count, totals unchanged
    const c = await restart(s, stateDir, far)
    expect(c.recovered.length).toBe(1)
    expect(c.recovered[0]).toMatchObject({fills: 0, fees: '0', realised: '0'})
    const afterC = full(stateDir)
    expect(mmTrades(await s.state()).length).toBe(mine.length)
    expect({fills: afterC.position.fills, fees: afterC.position.fees, realised: afterC.position.realised, counter: afterC.counters.fills}).toEqual({fills: afterB.position.fills, fees: afterB.position.fees, realised: afterB.position.realised, counter: afterB.counters.fills})
  }, 300_000)
})
