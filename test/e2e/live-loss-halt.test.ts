/**
 * Issue 10 §4 (risk rules that need the venue) and SPEC §2 / §4.6: a daily-loss halt of a
 * live `mm quote` against `mm sim`, both through bin/run.js, survives a restart *as a
 * daily-loss halt* (not as a manual one), so `mm resume` still refuses it while the day's
 * loss holds and only `--force` clears it.
 *
 * The market is hand-made and one-way: the book falls 0.10 every 250 ms and every second a
 * seller prints 5.00 through the best bid, so the quote's bids are filled and each fill
 * loses as the market keeps falling; nothing ever brings the day's PnL back above the
 * limit, whatever the quote's fills.
 */
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {type LiveSim, LIVE_ENV, spawnQuote, startLiveSim, waitFor, writeConfig} from '../support/live-sim.js'

let tmp: string
const sims: LiveSim[] = []

beforeAll(() => {
  ensureBuilt('quote')
  ensureBuilt('sim')
  ensureBuilt('resume')
  tmp = mkdtempSync(join(tmpdir(), 'mm-live-loss-'))
})

afterAll(async () => {
  for (const s of sims) await s.stop()
})

interface StateHaltJson {kind: string; reason: string; by: string; at: string; until: string | null}
interface StateJson {halt: StateHaltJson | null; process: {running: boolean; pid: number; runId: string | null} | null; risk: {mode: string; day: {startMs: number; pnl: string} | null}}
const state = (dir: string): StateJson | undefined => {
  try {
    return JSON.parse(readFileSync(join(dir, 'ETHUSDC', 'state.json'), 'utf8')) as StateJson
  } catch {
    return undefined // not written yet, or being replaced
  }
}

/** cents → a price string with 2 decimals (integers only) */
const px = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`

function fallingMarket(): string {
  const t0 = Date.now()
  let bid = 200_000 // cents
  const lines: string[] = [`${t0 * 1000} ${JSON.stringify({lastUpdateId: 1000, E: t0, T: t0, bids: [[px(bid), '5.000']], asks: [[px(bid + 10), '5.000']]})}`]
  let u = 1000
  let tradeId = 1
  for (let ms = 250; ms <= 10 * 60_000; ms += 250) {
    const t = t0 + ms
    const nb = bid - 10
    lines.push(`${t * 1000} ${JSON.stringify({stream: 'ethusdc@depth@0ms', data: {e: 'depthUpdate', E: t, T: t, s: 'ETHUSDC', U: u + 1, u: u + 1, pu: u, b: [[px(bid), '0'], [px(nb), '5.000']], a: [[px(bid + 10), '0'], [px(nb + 10), '5.000']]}})}`)
    u++
    bid = nb
    if (ms % 1000 === 0) lines.push(`${t * 1000 + 1} ${JSON.stringify({stream: 'ethusdc@trade', data: {e: 'trade', E: t, T: t, s: 'ETHUSDC', t: tradeId++, p: px(bid - 500), q: '1.000', X: 'MARKET', m: true}})}`)
  }
  const file = join(tmp, 'ethusdc_20260102.dat')
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}

describe('a carried daily-loss halt after a restart (issue 10 §4, SPEC §4.6)', () => {
  it('live quote hits the daily loss limit → halted; restart → still a daily-loss halt with the same reason; mm resume refused while the loss holds, --force clears it', async () => {
    const sim = await startLiveSim(['--replay', fallingMarket(), '--symbol', 'ETHUSDC', '--tick-size', '0.01', '--step-size', '0.001'])
    sims.push(sim)
    // v2 with the loss rules on: no stop-loss (0 = off) and no shock halt in the way, a daily loss limit of 0.05 USDC
    const cfg = writeConfig(tmp, 'loss.json', {
      strategy: {kind: 'v2', baseSpread: 0.0002, baseSize: '0.050', baseInterval: 500, volK: 0},
      risk: {netMax: '0.2', stopLoss: 0, shockPct: 0.5, maxDailyLoss: 0.05, staleBookMs: 60_000},
    })
    const S = join(tmp, 'state')
    const args = ['--config', cfg, '--instance', 'lsh']

    // 1. the first run trades into the falling market until the daily loss limit halts it
    const q1 = spawnQuote(sim, S, args)
    let first: StateHaltJson
    try {
      first = await waitFor(() => (state(S)?.halt?.kind === 'daily_loss' ? state(S)?.halt ?? undefined : undefined), 'the daily-loss halt in state.json', 180_000, 100)
    } finally {
      q1.child.kill('SIGTERM')
    }
    const end1 = await q1.exited
    expect(end1.code, q1.stderr()).toBe(0)
    expect(first).toMatchObject({kind: 'daily_loss', reason: 'PnL since 00:00 UTC reached −risk.maxDailyLoss', by: 'mm quote', until: null})
    const after1 = state(S)!
    expect(after1.halt).toMatchObject({kind: 'daily_loss', reason: first.reason, at: first.at})
    expect(after1.process?.running).toBe(false)
    const day1 = after1.risk.day!
    expect(Number(day1.pnl) <= -0.05, `day PnL ${day1.pnl}`).toBe(true)

    // 2. restart: the same halt, as a daily-loss halt, from its first write on
    const q2 = spawnQuote(sim, S, args)
    try {
      await q2.waitFor(/halt carried over from .*: daily_loss, PnL since 00:00 UTC reached −risk\.maxDailyLoss, by mm quote — mm resume clears it/, 'stderr', 60_000)
      const run2 = await waitFor(() => {
        const s = state(S)
        return s?.process?.running && s.process.pid === q2.child.pid ? s : undefined
      }, 'the restarted quote in state.json', 60_000, 100)
      expect(run2.halt).toMatchObject({kind: 'daily_loss', reason: first.reason, by: 'mm quote', at: first.at, until: null})
      await q2.waitFor(/market data in sync; quoting/, 'stderr', 60_000)
      await waitFor(() => state(S)?.risk.mode === 'halted', 'the engine halted', 60_000, 100)
      expect(state(S)!.halt).toMatchObject({kind: 'daily_loss', at: first.at})

      // 3. mm resume: refused while the day's PnL stands at or below −maxDailyLoss (SPEC §4.6); the quote stays halted
      const sameDay = Math.floor(Date.now() / 86_400_000) * 86_400_000 === day1.startMs
      const r = await runCli(['resume', '--symbol', 'ETHUSDC', '--state-dir', S, '-c', cfg, '--wait', '60s'], {env: LIVE_ENV})
      if (sameDay) {
        expect(r.code, r.stderr).toBe(1)
        expect(r.stderr).toMatch(new RegExp(`resume refused by mm quote pid ${q2.child.pid}: the daily loss limit still holds: PnL since 00:00 UTC -\\d+(\\.\\d+)? ≤ −risk\\.maxDailyLoss 0\\.05 \\(--force overrides\\)`))
        expect(r.stderr).not.toMatch(/\n\s+at /)
        expect(state(S)!.halt).toMatchObject({kind: 'daily_loss', at: first.at})
        // --force clears it (the day's count starts again from then)
        const f = await runCli(['resume', '--symbol', 'ETHUSDC', '--state-dir', S, '-c', cfg, '--wait', '60s', '--force'], {env: LIVE_ENV})
        expect(f.code, f.stderr).toBe(0)
        expect(f.stdout).toMatch(/ETHUSDC: resumed by force over: the daily loss limit still holds: PnL since 00:00 UTC -\d+(\.\d+)? ≤ −risk\.maxDailyLoss 0\.05/)
      } else {
        // the run crossed 00:00 UTC: a past day's loss does not hold (SPEC §4.6), the halt clears
        expect(r.code, r.stderr).toBe(0)
        expect(r.stdout).toContain('resumed (was daily_loss)')
      }
    } finally {
      q2.child.kill('SIGTERM')
    }
    const end2 = await q2.exited
    expect(end2.code, q2.stderr()).toBe(0)
  }, 300_000)
})
