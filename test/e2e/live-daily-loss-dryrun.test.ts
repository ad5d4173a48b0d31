/**
 * SPEC §4.6 daily loss across a dry-run in the same state dir (the documented flow:
 * `mm quote --dry-run` to rehearse, then `mm quote` to trade, the same UTC day), through
 * bin/run.js against `mm sim`. A dry-run's PnL is paper: a live run must not count it, and a
 * dry-run between two live runs must not make the live day forget its real PnL.
 * Before: a live run carried whatever day state.json held, a dry-run's paper day included
 * (a paper loss of 20 halted the live run at once; a paper profit of 50 would have let it
 * lose 60 against a limit of 10), and a dry-run after a losing live run wrote its own day
 * over the live one. Now a dry-run keeps the live day apart (`risk.liveDay`).
 */
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {ensureBuilt, spawnCli} from '../support/cli.js'
import {type LiveSim, LIVE_ENV, startLiveSim, writeConfig} from '../support/live-sim.js'

const tmp = mkdtempSync(join(tmpdir(), 'mm-daily-dry-'))
const sims: LiveSim[] = []
afterAll(async () => {
  for (const s of sims) await s.stop()
  rmSync(tmp, {recursive: true, force: true})
})

const startMs = () => Date.now() - (Date.now() % 86_400_000)

/** today's risk.day as a run writes it: its PnL in USDT and in cost units (tick 0.01 × step 0.001 ÷ 10^12) */
const day = (pnl: string, pnlUnits: string) => ({start: new Date(startMs()).toISOString(), startMs: startMs(), pnl, pnlUnits})

/** a config with a daily loss limit of 10 USDT (no stop-loss) */
const limit10 = () => writeConfig(tmp, 'cfg.json', {strategy: {baseSize: '0.01'}, risk: {netMax: '0.1', stopLoss: 0, maxDailyLoss: 10}})

/** a dry-run in `S` until it has written its day; its state.json */
async function dryRunState(sim: LiveSim, S: string, cfg: string) {
  const r = await quote(sim, S, cfg, true, (x) => x.risk?.day?.startMs !== undefined)
  expect(r.code, r.stderr).toBe(0)
  const s = JSON.parse(readFileSync(join(S, 'TESTUSDT', 'state.json'), 'utf8'))
  expect(s.dryRun).toBe(true)
  return s
}

/** the synthetic TESTUSDT venue of every test here (stopped after the file) */
async function newSim(): Promise<LiveSim> {
  const sim = await startLiveSim(['--synthetic', '--seed', '7', '--symbol', 'TESTUSDT', '--tick-size', '0.01', '--step-size', '0.001', '--start-price', '3400'])
  sims.push(sim)
  return sim
}

/** a quote (live, or --dry-run) until it quotes and `done` holds of state.json (polled, at most 20 s once quoting) */
async function quote(sim: LiveSim, stateDir: string, cfg: string, dryRun: boolean, done: (s: {dryRun: boolean; halt: {kind: string} | null; risk: Record<string, {startMs: number; pnl: string} | null | undefined>}) => boolean): Promise<{code: number | null; stderr: string}> {
  const file = join(stateDir, 'TESTUSDT', 'state.json')
  const q = spawnCli(['quote', '--symbol', 'TESTUSDT', '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', stateDir, '--config', cfg, '--instance', 'dd', '--duration', '120s', ...(dryRun ? ['--dry-run'] : [])], {env: LIVE_ENV})
  try {
    await q.waitFor(/market data in sync; quoting/, 'stderr', 60_000)
    const end = Date.now() + 20_000
    while (Date.now() < end) {
      let s
      try {
        s = JSON.parse(readFileSync(file, 'utf8'))
      } catch {
        s = undefined
      }
      if (s && done(s)) break
      await new Promise((r) => setTimeout(r, 100))
    }
  } finally {
    q.child.kill('SIGTERM')
  }
  const {code} = await q.exited
  return {code, stderr: q.stderr()}
}

describe('daily loss and dry-runs in the same state dir', () => {
  it("a live run does not count a dry-run's paper day: a paper loss of 20 does not halt it against a limit of 10", async () => {
    ensureBuilt('quote')
    const S = join(tmp, 'paper-loss')
    const file = join(S, 'TESTUSDT', 'state.json')
    const cfg = limit10()
    const sim = await newSim()
    const s = await dryRunState(sim, S, cfg)
    // no live run before it: no live day
    expect(s.risk.liveDay).toBe(null)
    // the dry-run lost 20 USDT on paper today
    s.risk.day = day('-20', '-2000000000000000000')
    writeFileSync(file, JSON.stringify(s))

    const r2 = await quote(sim, S, cfg, false, (x) => x.dryRun === false && x.risk?.day?.startMs !== undefined)
    expect(r2.code, r2.stderr).toBe(0)
    const after = JSON.parse(readFileSync(file, 'utf8'))
    expect(after.dryRun).toBe(false)
    expect(after.halt).toBe(null)
    expect(after.risk.day.pnl).not.toBe('-20')
    expect(after.risk.liveDay).toBe(undefined)
  })

  it('live, then a dry-run, then live: the second live run carries the live day (a loss of 20), not the paper one, and halts', async () => {
    const S = join(tmp, 'live-dry-live')
    const file = join(S, 'TESTUSDT', 'state.json')
    const cfg = limit10()
    const sim = await newSim()
    const r1 = await quote(sim, S, cfg, false, (s) => s.risk?.day?.startMs !== undefined)
    expect(r1.code, r1.stderr).toBe(0)
    // the live day lost 5 USDT (under the limit: the dry-run quotes)
    const s = JSON.parse(readFileSync(file, 'utf8'))
    expect(s.dryRun).toBe(false)
    s.risk.day = day('-5', '-500000000000000000')
    writeFileSync(file, JSON.stringify(s))

    const r2 = await quote(sim, S, cfg, true, (x) => x.dryRun === true && x.risk?.liveDay?.startMs !== undefined)
    expect(r2.code, r2.stderr).toBe(0)
    const dry = JSON.parse(readFileSync(file, 'utf8'))
    expect(dry.dryRun).toBe(true)
    expect(dry.risk.liveDay).toEqual(day('-5', '-500000000000000000'))
    // then the live day lost 15 more (as the live run would have written it; the dry-run's own paper day says 0)
    dry.risk.liveDay = day('-20', '-2000000000000000000')
    dry.risk.day = day('0', '0')
    writeFileSync(file, JSON.stringify(dry))

    const r3 = await quote(sim, S, cfg, false, (x) => x.halt?.kind === 'daily_loss')
    expect(r3.code, r3.stderr).toBe(0)
    const after = JSON.parse(readFileSync(file, 'utf8'))
    expect(after.halt, r3.stderr).toMatchObject({kind: 'daily_loss'})
    expect(after.risk.day.pnl).toBe('-20')
  })

  it("a dry-run's own daily-loss halt (paper) does not halt the live run after it", async () => {
    // the dry-run lost 20 on paper against a limit of 10 and halted itself (daily_loss, flatten,
    // until mm resume). Before, the live run carried that halt: halted at once and closing the
    // real position, over a paper loss (the day itself was no longer carried)
    ensureBuilt('quote')
    const S = join(tmp, 'paper-halt')
    const file = join(S, 'TESTUSDT', 'state.json')
    const cfg = limit10()
    const sim = await newSim()
    const s = await dryRunState(sim, S, cfg)
    s.risk.day = day('-20', '-2000000000000000000')
    s.halt = {kind: 'daily_loss', reason: 'daily loss limit', by: 'mm quote', at: new Date(Date.parse(s.process.startedAt) + 1000).toISOString(), until: null, flatten: true}
    writeFileSync(file, JSON.stringify(s))

    const r2 = await quote(sim, S, cfg, false, (x) => x.dryRun === false && x.risk?.day?.startMs !== undefined)
    expect(r2.code, r2.stderr).toBe(0)
    expect(r2.stderr).not.toMatch(/halt carried over/)
    const after = JSON.parse(readFileSync(file, 'utf8'))
    expect(after.dryRun).toBe(false)
    expect(after.halt).toBe(null)
    expect(after.risk.day.pnl).toBe('0')
  })

  it('a dry-run file from before risk.liveDay (an older mm: its day is the live day carried plus paper): a live run carries its loss, never its profit', async () => {
    // before, such a file gave the live run no day at all: a live loss of 8 earlier that day
    // was forgotten across the upgrade, and the limit of 10 let the day lose 18
    ensureBuilt('quote')
    const cfg = limit10()
    const sim = await newSim()
    for (const [name, pnl, pnlUnits, expected] of [['legacy-loss', '-20', '-2000000000000000000', '-20'], ['legacy-profit', '50', '5000000000000000000', '0']] as const) {
      const S = join(tmp, name)
      const file = join(S, 'TESTUSDT', 'state.json')
      const s = await dryRunState(sim, S, cfg)
      delete s.risk.liveDay
      s.risk.day = day(pnl, pnlUnits)
      writeFileSync(file, JSON.stringify(s))

      const r2 = await quote(sim, S, cfg, false, (x) => x.dryRun === false && x.risk?.day?.startMs !== undefined && (expected === '0' || x.halt?.kind === 'daily_loss'))
      expect(r2.code, r2.stderr).toBe(0)
      const after = JSON.parse(readFileSync(file, 'utf8'))
      expect(after.dryRun).toBe(false)
      // the live run's own fills move the day by cents: the carried part is what is asserted
      if (expected === '0') expect(Math.abs(Number(after.risk.day.pnl)), `${name}: ${after.risk.day.pnl}`).toBeLessThan(1)
      else expect(Number(after.risk.day.pnl), name).toBeLessThanOrEqual(-20)
      expect(after.halt?.kind ?? null, name).toBe(expected === '0' ? null : 'daily_loss')
    }
  })

  it("a dry-run's own stop-loss halt (its paper position) does not halt the live run either; a live run's halt the dry-run carried on still does", async () => {
    ensureBuilt('quote')
    const cfg = writeConfig(tmp, 'cfg5.json', {strategy: {baseSize: '0.01'}, risk: {netMax: '0.1', stopLoss: -50, maxDailyLoss: 1000}})
    const sim = await newSim()
    // own: the halt began during the dry-run; carried: it began before (a carried halt keeps its start)
    for (const [name, offsetMs, carried] of [['paper-stop', 1000, false], ['live-stop-carried', -60_000, true]] as const) {
      const S = join(tmp, name)
      const file = join(S, 'TESTUSDT', 'state.json')
      const s = await dryRunState(sim, S, cfg)
      s.halt = {kind: 'stop_loss', reason: 'stop loss', by: 'mm quote', at: new Date(Date.parse(s.process.startedAt) + offsetMs).toISOString(), until: null, flatten: true}
      writeFileSync(file, JSON.stringify(s))

      const r2 = await quote(sim, S, cfg, false, (x) => x.dryRun === false && x.risk?.day?.startMs !== undefined)
      expect(r2.code, r2.stderr).toBe(0)
      const after = JSON.parse(readFileSync(file, 'utf8'))
      expect(after.dryRun).toBe(false)
      expect(/halt carried over/.test(r2.stderr), name).toBe(carried)
      expect(after.halt?.kind ?? null, name).toBe(carried ? 'stop_loss' : null)
    }
  })
})
