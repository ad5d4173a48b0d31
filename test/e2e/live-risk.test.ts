/**
 * Live `mm quote` (no --dry-run) against `mm sim` on loopback, through bin/run.js: the
 * venue-fed risk rules of issue 10 §4.
 *  - a storm of 5xx (the sim's http-error-rate fault, switched on once quoting runs)
 *    slows quoting (venue_pace slow) and then halts it (storm risk_event, halt reason
 *    storm) in the run log and the operator log; `mm resume` lifts it and quoting resumes;
 *  - the REST audit cancels a stray order of this instance and says so as a risk_event
 *    (run log and operator log), not only on stderr.
 */
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {type CliRun, ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {farPrices, getJson, signed, type SimProc, startSim, TEST_KEY, TEST_SECRET} from '../support/sim-cli.js'
import {until} from '../support/wait.js'
import {emptyState, type StateFile} from '../../src/lib/state/file.js'

const env = {MM_API_KEY: TEST_KEY, MM_API_SECRET: TEST_SECRET}
const tmp = mkdtempSync(join(tmpdir(), 'mm-live-risk-'))

interface Ev {
  type: string
  kind?: string
  reason?: string
  action?: string
  t: number
  values?: Record<string, unknown>
  from?: string
  to?: string
}

/** JSON lines of a file (the run log after the run — it is written in blocks — or the operator log, written per line). */
function lines(path: string): Array<Ev & {event?: string}> {
  let text = ''
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return []
  }
  return text.split('\n').filter((l) => l.trim() !== '').flatMap((l) => {
    try {
      return [JSON.parse(l) as Ev]
    } catch {
      return [] // a line being written
    }
  })
}
const events = lines
/** risk_event lines of the operator log (`event` names the run event) */
const logRisk = (log: string, kind: string) => lines(log).filter((l) => l.event === 'risk_event' && l.kind === kind)

async function startQuote(sim: SimProc, name: string, live: Record<string, unknown>): Promise<{q: CliRun; dir: string; log: string; evPath: string}> {
  const dir = join(tmp, name)
  const cfg = join(tmp, `${name}.json`)
  writeFileSync(cfg, JSON.stringify({live}))
  const log = join(tmp, `${name}.log`)
  const q = spawnCli(['quote', '--symbol', 'ETHUSDC', '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--duration', '120s', '--state-dir', dir, '--instance', name, '-c', cfg, '--log-file', log], {env})
  const m = await q.waitFor(/events → (\S+events\.jsonl)/, 'stderr', 60_000)
  await q.waitFor(/market data in sync; quoting/, 'stderr', 60_000)
  return {q, dir, log, evPath: m[1]}
}

async function simOrders(sim: SimProc): Promise<Array<{clientOrderId: string; status: string}>> {
  return (await getJson(sim.restUrl, '/__mm/state')).body.orders
}

async function waitAsync(cond: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const rounds = Math.ceil(timeoutMs / 100)
  for (let i = 0; i < rounds; i++) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

beforeAll(() => {
  ensureBuilt('quote')
})

describe('live risk rules fed by the venue (mm sim)', () => {
  it('a storm of 5xx slows quoting, then halts it with a storm risk_event; mm resume lifts it and quoting resumes', async () => {
    const sim = await startSim()
    try {
      const {q, dir, log, evPath} = await startQuote(sim, 'st0r', {stormSlowAt: 2, stormHaltAt: 16, stormWindowMs: 600_000, auditIntervalMs: 1000})
      await waitAsync(async () => (await simOrders(sim)).some((o) => o.clientOrderId.startsWith('mm-st0r')), 'a first order at the sim', 30_000)
      expect((await signed(sim.restUrl, 'GET', '/fapi/v1/time', {})).status).toBe(200)
      // every REST request from now on: HTTP 500 -1000
      const on = await fetch(`${sim.restUrl}/__mm/faults?httpErrorRate=1`, {method: 'POST'})
      expect(await on.json()).toMatchObject({httpErrorRate: 1})
      await until(() => logRisk(log, 'storm').length > 0, 'the storm halt in the operator log', 60_000, 50)
      // state.json says why quoting stopped
      await until(() => JSON.parse(readFileSync(join(dir, 'ETHUSDC', 'state.json'), 'utf8')).halt?.kind === 'storm', 'the storm halt in state.json', 30_000, 50)
      // the venue recovers; the operator resumes
      await fetch(`${sim.restUrl}/__mm/faults?httpErrorRate=0`, {method: 'POST'})
      const before = (await simOrders(sim)).filter((o) => o.clientOrderId.startsWith('mm-st0r')).length
      const r = await runCli(['resume', '--symbol', 'ETHUSDC', '--state-dir', dir, '--wait', '30s', '--json'], {env})
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout).data).toMatchObject({via: 'quote', ack: {kind: 'resume', result: 'applied', message: 'resumed (was storm)'}})
      await waitAsync(async () => (await simOrders(sim)).filter((o) => o.clientOrderId.startsWith('mm-st0r')).length > before, 'a new order at the sim after the resume', 60_000)
      q.child.kill('SIGINT')
      const end = await q.exited
      expect(end.code, q.stderr()).toBe(0)
      // the run log, whole after the run: slow first, then stopped with the halt, then the resume and quoting again
      const all = events(evPath)
      const risk = all.filter((e) => e.type === 'risk_event' && (e.kind === 'venue_pace' || e.kind === 'storm' || e.kind === 'resume'))
      expect(risk.slice(0, 4).map((e) => [e.kind, e.values?.mode ?? null, e.from, e.to])).toEqual([
        ['venue_pace', 'slow', 'normal', 'normal'],
        ['venue_pace', 'stopped', 'normal', 'halted'],
        ['storm', null, 'normal', 'halted'],
        ['resume', null, 'halted', 'normal'],
      ])
      expect(risk[2].reason).toBe('storm: 16 rejects/errors/unknown outcomes within 600000 ms')
      const resumedAt = risk[3].t
      expect(all.some((e) => e.type === 'order' && e.action === 'place' && e.t >= resumedAt)).toBe(true)
      // the operator log has the same risk_events
      expect(logRisk(log, 'storm').map((l) => l.reason)).toEqual([risk[2].reason])
      expect(logRisk(log, 'venue_pace').slice(0, 2).map((l) => l.values?.mode)).toEqual(['slow', 'stopped'])
      // nothing of ours left at the sim
      await waitAsync(async () => !(await simOrders(sim)).some((o) => o.clientOrderId.startsWith('mm-st0r') && (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED')), 'no open order of ours', 20_000)
    } finally {
      await sim.stop()
    }
  }, 240_000)

  it('the audit cancels a stray order of this instance and reports it as a risk_event in the run log and the operator log', async () => {
    const sim = await startSim()
    try {
      const {q, log, evPath} = await startQuote(sim, 'aud1', {auditIntervalMs: 1000})
      await waitAsync(async () => (await simOrders(sim)).some((o) => o.clientOrderId.startsWith('mm-aud1')), 'a first order at the sim', 30_000)
      // an order with this instance's prefix that the running quote never placed (a crashed run's leftover, say)
      const {bidBelow} = await farPrices(sim.restUrl, 300)
      const stray = 'mm-aud1zzzz-x-1'
      const placed = await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: 'ETHUSDC', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: bidBelow, quantity: '0.010', newClientOrderId: stray})
      expect(placed.status, JSON.stringify(placed.body)).toBe(200)
      await until(() => logRisk(log, 'audit').some((l) => l.values?.clientOrderId === stray), 'the audit risk_event in the operator log', 60_000, 50)
      await waitAsync(async () => (await simOrders(sim)).find((o) => o.clientOrderId === stray)?.status === 'CANCELED', 'the stray cancelled at the sim', 20_000)
      q.child.kill('SIGINT')
      const end = await q.exited
      expect(end.code, q.stderr()).toBe(0)
      // the run log (whole after the run) and the operator log carry the same finding
      const ev = events(evPath).filter((e) => e.type === 'risk_event' && e.kind === 'audit' && e.values?.clientOrderId === stray)
      expect(ev.length).toBe(1)
      expect(ev[0]).toMatchObject({reason: 'stray_order_cancelled', values: {clientOrderId: stray, cancelled: 1, streamReconnected: 1}, thresholds: {}})
      expect(ev[0].from).toBe(ev[0].to)
      expect(logRisk(log, 'audit').filter((l) => l.values?.clientOrderId === stray).map((l) => l.reason)).toEqual(['stray_order_cancelled'])
      // and stderr says it too
      expect(q.stderr()).toContain(`audit: stray ${stray}`)
    } finally {
      await sim.stop()
    }
  }, 240_000)
})

describe('mm resume and the §4.6 daily loss (state.json, no quote running)', () => {
  function handMade(stateDir: string, dayStartMs: number, pnl: string): string {
    const s: StateFile = emptyState('ETHUSDC', false, new Date().toISOString())
    s.instrument = {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}
    s.halt = {kind: 'daily_loss', reason: 'PnL since 00:00 UTC reached −risk.maxDailyLoss', by: 'mm quote', at: new Date(dayStartMs + 1000).toISOString(), until: null, flatten: true, flattened: true}
    s.risk = {...s.risk, mode: 'halted', day: {start: new Date(dayStartMs).toISOString(), startMs: dayStartMs, pnl, pnlUnits: '0'}}
    mkdirSync(join(stateDir, 'ETHUSDC'), {recursive: true})
    const p = join(stateDir, 'ETHUSDC', 'state.json')
    writeFileSync(p, JSON.stringify(s, null, 2))
    return p
  }
  const cfg = join(tmp, 'daily.json')
  const DAY = 86_400_000

  it('refused while today stands at or below −maxDailyLoss (exit 1, naming it, state untouched); --force clears it; a past day does not hold', async () => {
    writeFileSync(cfg, JSON.stringify({risk: {maxDailyLoss: 10}}))
    const today = Date.now() - (Date.now() % DAY)
    const S = join(tmp, 'daily')
    const p = handMade(S, today, '-12.5')
    const before = readFileSync(p, 'utf8')
    const r = await runCli(['resume', '--symbol', 'ETHUSDC', '--state-dir', S, '-c', cfg])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/resume refused: the daily loss limit still holds: PnL since 00:00 UTC -12\.5 ≤ −risk\.maxDailyLoss 10 \(as of the state written /)
    expect(r.stderr).not.toMatch(/\n\s+at /) // no stack trace
    expect(readFileSync(p, 'utf8')).toBe(before)
    const f = await runCli(['resume', '--symbol', 'ETHUSDC', '--state-dir', S, '-c', cfg, '--force', '--json'])
    expect(f.code, f.stderr).toBe(0)
    expect(JSON.parse(f.stdout).data.notes).toContain('forced over: the daily loss limit still holds: PnL since 00:00 UTC -12.5 ≤ −risk.maxDailyLoss 10')
    expect((JSON.parse(readFileSync(p, 'utf8')) as StateFile).halt).toBeNull()
    // above the limit, or yesterday's count: resumes
    const S2 = join(tmp, 'daily2')
    handMade(S2, today, '-9.99')
    expect((await runCli(['resume', '--symbol', 'ETHUSDC', '--state-dir', S2, '-c', cfg])).code).toBe(0)
    const S3 = join(tmp, 'daily3')
    handMade(S3, today - DAY, '-50')
    expect((await runCli(['resume', '--symbol', 'ETHUSDC', '--state-dir', S3, '-c', cfg])).code).toBe(0)
  }, 120_000)
})
