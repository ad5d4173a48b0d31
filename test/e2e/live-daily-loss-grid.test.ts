/**
 * The day's PnL a live run carries across a restart (SPEC §4.6, risk.day in state.json) when
 * the venue changed the symbol's tick and step in between (Binance does adjust them): both
 * runs through bin/run.js against `mm sim`, the first on tick 0.1 × step 0.01, the second
 * on tick 0.01 × step 0.001. The day's PnL is kept in cost units (tick × step ÷ 10^12).
 * Before: the second run took the units as they were, so the day's loss of 20 USDT read as
 * 0.2 USDT on the finer grid and a daily loss limit of 10 let the day go on losing. Now the
 * units are converted: the second run halts for the daily loss at its first decision.
 */
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {ensureBuilt} from '../support/cli.js'
import {type LiveSim, LIVE_ENV, startLiveSim, writeConfig} from '../support/live-sim.js'
import {spawnCli} from '../support/cli.js'

const tmp = mkdtempSync(join(tmpdir(), 'mm-daily-grid-'))
const S = join(tmp, 'state')
const file = join(S, 'TESTUSDT', 'state.json')
const sims: LiveSim[] = []
afterAll(async () => {
  for (const s of sims) await s.stop()
  rmSync(tmp, {recursive: true, force: true})
})

const read = () => JSON.parse(readFileSync(file, 'utf8'))

/** a live quote until it quotes and `done` holds of state.json (polled, at most `boundMs` once quoting) */
async function quote(sim: LiveSim, cfg: string, done: () => boolean, boundMs: number): Promise<{code: number | null; stderr: string}> {
  const q = spawnCli(['quote', '--symbol', 'TESTUSDT', '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', S, '--config', cfg, '--instance', 'dlg', '--duration', '120s'], {env: LIVE_ENV})
  try {
    await q.waitFor(/market data in sync; quoting/, 'stderr', 60_000)
    const end = Date.now() + boundMs
    while (Date.now() < end && !done()) await new Promise((r) => setTimeout(r, 100))
  } finally {
    q.child.kill('SIGTERM')
  }
  const {code} = await q.exited
  return {code, stderr: q.stderr()}
}

describe('daily loss carried across a change of tick and step', () => {
  it('the carried loss keeps its value in USDT on the new grid: the limit halts the second run', async () => {
    ensureBuilt('quote')
    const cfg = writeConfig(tmp, 'cfg.json', {strategy: {baseSize: '0.01'}, risk: {netMax: '0.1', stopLoss: 0, maxDailyLoss: 10}})
    const a = await startLiveSim(['--synthetic', '--seed', '7', '--symbol', 'TESTUSDT', '--tick-size', '0.1', '--step-size', '0.01', '--start-price', '3400'])
    sims.push(a)
    const r1 = await quote(a, cfg, () => read().risk?.day?.startMs !== undefined, 20_000)
    expect(r1.code, r1.stderr).toBe(0)
    await a.stop()
    // the first run's day (its basis taken at its first mid); a losing day is written as the first run would have
    // written it (20 USDT lost today: pnl in units of 0.1 × 0.01 ÷ 10^12)
    const s = read()
    expect(s.instrument).toMatchObject({tickSize: '0.1', stepSize: '0.01'})
    const startMs = Date.now() - (Date.now() % 86_400_000)
    s.risk.day = {start: new Date(startMs).toISOString(), startMs, pnl: '-20', pnlUnits: '-20000000000000000'}
    writeFileSync(file, JSON.stringify(s))

    const b = await startLiveSim(['--synthetic', '--seed', '7', '--symbol', 'TESTUSDT', '--tick-size', '0.01', '--step-size', '0.001', '--start-price', '3400'])
    sims.push(b)
    const r2 = await quote(b, cfg, () => read().halt?.kind === 'daily_loss', 20_000)
    expect(r2.code, r2.stderr).toBe(0)
    // halted at the first decision with a mid, -20 ≤ -10: a daily-loss halt
    const after = read()
    expect(after.halt, r2.stderr).toMatchObject({kind: 'daily_loss'})
    expect(after.risk.day.pnl).toBe('-20')
    expect(after.risk.day.pnlUnits).toBe('-2000000000000000000')
    // the ledger's running totals on the old grid are not carried on: said once (they went without a word)
    // (the first run's own totals: it may have had a fill before it was stopped)
    expect(r2.stderr).toContain(`note: state.json's ledger is on tick 0.1 × step 0.01, the venue now lists tick 0.01 × step 0.001: its running totals (realised ${s.position.realised}, fees ${s.position.fees}, ${s.position.fills} fill(s)) are not carried on; this run's count starts from the venue's position (the day's PnL for risk.maxDailyLoss is carried, converted)\n`)
  })
})
