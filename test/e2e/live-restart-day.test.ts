/**
 * SPEC §4.6 across a restart: the day's PnL (realised + unrealised − fees since 00:00 UTC)
 * includes what the position made or lost while no quote ran. Before, a restart carried
 * the day's PnL as a number and re-based the day at its first mid, so a fall of the market
 * while the process was down (a SIGKILL, a crash, a stop for a deploy with the position
 * open) never reached the daily loss limit: the day could lose that fall on top of
 * `risk.maxDailyLoss`.
 *
 * Live `mm quote` against `mm sim` replaying a hand-made market that falls 2.00 a second
 * (no trades: nothing of the quote's fills but the test's own MARKET order, sent with the
 * run's client id). Run A holds 0.050 and is SIGKILLed; the market falls; restart B. The
 * day's base — equity at the day's start, state.json `position.total − risk.day.pnl` — is
 * the same in A's last state and in B's: before the fix B's base was lower by the
 * position × the fall while down (its day PnL higher by as much).
 */
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Decimal} from 'decimal.js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {emptyState} from '../../src/lib/state/file.js'
import {ensureBuilt, runCli} from '../support/cli.js'
import {type LiveSim, spawnQuote, startLiveSim, waitFor, writeConfig} from '../support/live-sim.js'
import {signed} from '../support/sim-cli.js'

let tmp: string
let sim: LiveSim | undefined
let sim2: LiveSim | undefined

beforeAll(() => {
  ensureBuilt('quote')
  ensureBuilt('sim')
  ensureBuilt('resume')
  tmp = mkdtempSync(join(tmpdir(), 'mm-live-restart-day-'))
})

afterAll(async () => {
  await sim?.stop()
  await sim2?.stop()
})

interface Day {startMs: number; pnl: string}
interface St {process: {pid: number; running: boolean; clientRunId: string}; position: {net: string; mark: string | null; total: string; fills: number}; risk: {day: Day | null}}
const state = (dir: string): St | undefined => {
  try {
    return JSON.parse(readFileSync(join(dir, 'ETHUSDC', 'state.json'), 'utf8')) as St
  } catch {
    return undefined // not written yet
  }
}
/** the day's base in quote currency: equity − the day's PnL (no funding here) */
const base = (s: St) => new Decimal(s.position.total).sub(s.risk.day!.pnl)

const px = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`

/** a book one tick wide falling 0.50 every 250 ms for 10 minutes, from 3000.00; no trades */
function fallingBook(): string {
  const t0 = Date.now()
  let bid = 300_000
  const lines = [`${t0 * 1000} ${JSON.stringify({lastUpdateId: 1000, E: t0, T: t0, bids: [[px(bid), '5.000']], asks: [[px(bid + 1), '5.000']]})}`]
  let u = 1000
  for (let ms = 250; ms <= 10 * 60_000; ms += 250) {
    const t = t0 + ms
    const nb = bid - 50
    lines.push(`${t * 1000} ${JSON.stringify({stream: 'ethusdc@depth@0ms', data: {e: 'depthUpdate', E: t, T: t, s: 'ETHUSDC', U: u + 1, u: u + 1, pu: u, b: [[px(bid), '0'], [px(nb), '5.000']], a: [[px(bid + 1), '0'], [px(nb + 1), '5.000']]}})}`)
    u++
    bid = nb
  }
  const file = join(tmp, 'ethusdc_20260102.dat')
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}

async function mid(s: LiveSim): Promise<Decimal> {
  const d = (await (await fetch(`${s.restUrl}/fapi/v1/depth?symbol=ETHUSDC&limit=5`)).json()) as {bids: string[][]; asks: string[][]}
  return new Decimal(d.bids[0][0]).add(d.asks[0][0]).div(2)
}

describe('the day’s PnL across a restart (SPEC §4.6)', () => {
  it('counts the fall of a position held while the process was down', async () => {
    sim = await startLiveSim(['--replay', fallingBook(), '--symbol', 'ETHUSDC', '--tick-size', '0.01', '--step-size', '0.001'])
    const s = sim
    const S = join(tmp, 'state')
    // v2 (the daily loss rule runs), quoting 2 % away, never joining the touch nor retrying a
    // post-only reject as a taker: nothing of its own fills; a limit far off
    const cfg = writeConfig(tmp, 'far.json', {
      strategy: {kind: 'v2', baseSpread: 0.02, baseSize: '0.050', baseInterval: 500, volK: 0, joinEnabled: false, instantRetry: false},
      risk: {netMax: '0.2', stopLoss: 0, shockPct: 0.5, maxDailyLoss: 1000, staleBookMs: 60_000},
    })
    const args = ['--config', cfg, '--instance', 'dy']

    const a = spawnQuote(s, S, args)
    let lastA: St
    try {
      const runA = await waitFor(() => {
        const st = state(S)
        return st?.process.running && st.process.pid === a.child.pid && st.risk.day ? st.process.clientRunId : undefined
      }, 'run A quoting', 60_000, 100)
      // a fill of A's (its run's client id): A counts it and holds 0.050
      const r = await signed(s.restUrl, 'POST', '/fapi/v1/order', {symbol: 'ETHUSDC', side: 'BUY', type: 'MARKET', quantity: '0.050', newClientOrderId: `mm-${runA}-t-1`, newOrderRespType: 'RESULT'})
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      // A's day counts the position: two writes after the fill with the same base, the mark moved
      const first = await waitFor(() => {
        const st = state(S)
        return st?.position.net === '0.050' && st.risk.day ? st : undefined
      }, 'A holding 0.050', 30_000, 100)
      lastA = await waitFor(() => {
        const st = state(S)
        return st && st.position.mark !== first.position.mark && base(st).eq(base(first)) ? st : undefined
      }, 'A’s day counting the position', 30_000, 100)
    } finally {
      a.child.kill('SIGKILL')
    }
    await a.exited
    lastA = state(S)!
    expect(lastA.process.running).toBe(true)
    expect(lastA.position.net).toBe('0.050')

    // the market falls 4.00 or more while no quote runs: 0.050 × 4.00 = 0.20 lost, at least
    const markA = new Decimal(lastA.position.mark!)
    await waitFor(async () => ((await mid(s)).lte(markA.sub(4)) ? true : undefined), 'the market 4.00 lower', 30_000, 100)

    const b = spawnQuote(s, S, [...args, '--duration', '3s'])
    const {code} = await b.exited
    expect(code, b.stderr()).toBe(0)
    const lastB = state(S)!
    expect(lastB.process.running).toBe(false)
    expect(lastB.position.net).toBe('0.050')
    expect(new Decimal(lastB.position.mark!).lte(markA.sub(4))).toBe(true)
    if (lastB.risk.day!.startMs !== lastA.risk.day!.startMs) {
      // the test ran across 00:00 UTC: B counts a new day, from its own start (nothing to compare)
      expect(lastB.risk.day!.startMs).toBe(lastA.risk.day!.startMs + 86_400_000)
      return
    }
    // the same day, the same base: B's day PnL is A's plus the fall since A's last mark (and B's own run)
    expect(base(lastB).toString()).toBe(base(lastA).toString())
  }, 180_000)
})

describe('mm resume --force over a daily-loss halt while no quote runs', () => {
  it('starts the day’s count again, as a running quote does: the next quote does not halt and flatten at once', async () => {
    sim2 = await startLiveSim(['--synthetic', '--seed', '7'])
    const S = join(tmp, 'forced')
    const cfg = writeConfig(tmp, 'limit10.json', {strategy: {kind: 'v2', baseSize: '0.010', joinEnabled: false, instantRetry: false}, risk: {netMax: '0.1', stopLoss: 0, maxDailyLoss: 10}})
    // a live run's state: halted by the daily loss limit, the day at −20 (limit 10)
    const now = Date.now()
    const startMs = now - (now % 86_400_000)
    const st = emptyState('ETHUSDC', false, new Date(now).toISOString())
    st.instrument = {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}
    st.risk = {...st.risk, mode: 'halted', day: {start: new Date(startMs).toISOString(), startMs, pnl: '-20', pnlUnits: '-2000000000000000000'}}
    st.halt = {kind: 'daily_loss', reason: 'PnL since 00:00 UTC reached −risk.maxDailyLoss', by: 'mm quote', at: new Date(now).toISOString(), until: null, flatten: true}
    mkdirSync(join(S, 'ETHUSDC'), {recursive: true})
    writeFileSync(join(S, 'ETHUSDC', 'state.json'), JSON.stringify(st, null, 2))

    const refused = await runCli(['resume', '--symbol', 'ETHUSDC', '--state-dir', S, '-c', cfg])
    expect(refused.code, refused.stderr).toBe(1)
    const forced = await runCli(['resume', '--symbol', 'ETHUSDC', '--state-dir', S, '-c', cfg, '--force'])
    expect(forced.code, forced.stderr).toBe(0)
    expect(forced.stdout).toContain('ETHUSDC: resumed (was daily_loss halt')

    // the next quote quotes (before: "daily_loss" at its first mid, halted, flatten)
    const q = spawnQuote(sim2, S, ['--config', cfg, '--instance', 'dz', '--duration', '4s'])
    const {code} = await q.exited
    expect(code, q.stderr()).toBe(0)
    const runDir = /events → (\S+)\/events\.jsonl/.exec(q.stderr())![1]
    const events = readFileSync(join(runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as {type: string; kind?: string; action?: string})
    expect(events.filter((e) => e.type === 'risk_event' && (e.kind === 'daily_loss' || e.kind === 'flatten_done')).length).toBe(0)
    expect(events.some((e) => e.type === 'order' && e.action === 'place')).toBe(true)
    const after = JSON.parse(readFileSync(join(S, 'ETHUSDC', 'state.json'), 'utf8')) as {halt: unknown; risk: {day: {startMs: number; pnl: string} | null}}
    expect(after.halt).toBeNull()
    expect(Number(after.risk.day!.pnl) > -10, after.risk.day!.pnl).toBe(true)
  }, 120_000)
})
