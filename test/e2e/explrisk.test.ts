/**
 * Exploratory checks of SPEC §3–4 and the telemetry in live runs (`mm quote` without
 * --dry-run against `mm sim`, both through bin/run.js), each pinning a fix:
 *  - §4.5 a feed that lags behind the venue (the sim's `--faults delay=3s`: every market
 *    message leaves 3 s after its event time; well under the feed's 5 s bridge timeout, so the
 *    book syncs) is stale data: the quote pauses with
 *    `stale_book` and sends no order. Before the fix the book's age counted only from the
 *    local receive time, so a late but steady feed looked fresh and mm quoted on a book
 *    seconds old (-5022s and fills at stale prices).
 *  - a 418 ban (the sim's `--rate-limit weight=150,ban-after=1`): the halted quote leaves
 *    its cancels, the audit and the switch refresh unsent until the ban ends, and a stop
 *    during the ban ends with its summary (exit 0), the switch left armed. Before, each
 *    418 on a cancel was a reject and the next decision cancelled again: thousands of
 *    cancels a second to a venue that had banned us (Binance lengthens bans of IPs that
 *    keep calling), the audit and the switch every second, and the stop failed (exit 1).
 *  - `mm status` says why a quote is reduce-only: the inventory threshold (§4.1) or the
 *    liquidation distance (§4.6). Before, both read `reduce_only`, and a live run with the
 *    sim's `--balance 2` showed reduce_only with 0.020 against a threshold of 0.040.
 *  - §3.5 layers: baseSize 0.01 with staticFraction 0.5 at ~3400 splits into two layers of
 *    0.005 (17 < min notional 20): nothing is ever placed. The start-up note checked
 *    baseSize alone (34), so the live run sat silent with no order; now one note names the
 *    layers and the size that would do.
 */
import {existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {emptyState, type StateFile} from '../../src/lib/state/file.js'
import {RequestLogTail, spawnQuote, startLiveSim, waitFor, writeConfig} from '../support/live-sim.js'

const tmp = mkdtempSync(join(tmpdir(), 'mm-explrisk-'))

interface Ev {type: string; kind?: string; reason?: string; mid?: string | null; risk?: string; values?: Record<string, number>; thresholds?: Record<string, number>}

/** the JSON lines of a run log written so far (a line being written is left out) */
function events(path: string): Ev[] {
  if (!existsSync(path)) return []
  return readFileSync(path, 'utf8').split('\n').flatMap((l) => {
    try {
      return l.trim() === '' ? [] : [JSON.parse(l) as Ev]
    } catch {
      return []
    }
  })
}

beforeAll(() => {
  ensureBuilt('quote')
})

describe('explrisk: SPEC §4 rules in live runs against mm sim', () => {
  it('§4.5 a lagging feed (sim --faults delay=3s) is a stale book: paused (stale_book), no order sent, mm status says why', async () => {
    const reqLog = join(tmp, 'lag.requests.ndjson')
    const sim = await startLiveSim(['--synthetic', '--seed', '7', '--faults', 'delay=3s', '--request-log', reqLog])
    try {
      const cfg = writeConfig(tmp, 'lag.json', {
        strategy: {baseSpread: 0.00002, baseSize: '0.02', baseInterval: 500},
        risk: {netMax: '0.05', reduceOnlyThreshold: 2, staleBookMs: 1500},
        live: {auditIntervalMs: 2000, deadmanCountdownMs: 10_000, deadmanRefreshMs: 3000},
      })
      const stateDir = join(tmp, 'lag')
      const q = spawnQuote(sim, stateDir, ['--config', cfg, '--instance', 'lag1', '--duration', '90s'])
      const m = await q.waitFor(/events → (\S+events\.jsonl)/, 'stderr', 60_000)
      const evPath = m[1]
      await q.waitFor(/market data in sync; quoting/, 'stderr', 60_000)
      // the book is whole (a mid in the samples) for three samples in a row, and paused all along
      await waitFor(() => events(evPath).filter((e) => e.type === 'sample' && e.mid != null).length >= 3, 'three samples with a whole book', 60_000)
      const samples = events(evPath).filter((e) => e.type === 'sample' && e.mid != null)
      expect(samples.map((s) => s.risk)).toEqual(samples.map(() => 'paused'))
      const pause = events(evPath).find((e) => e.type === 'risk_event' && e.kind === 'pause' && e.reason === 'stale_book')
      expect(pause, 'a stale_book pause in the run log').toBeDefined()
      expect(pause!.thresholds).toEqual({staleBookMs: 1500})
      expect(pause!.values!.ageMs).toBeGreaterThanOrEqual(1500)
      expect(pause!.values!.ready).toBe(1)
      // mm status names the pause
      const st = await runCli(['status', '--symbol', 'ETHUSDC', '--state-dir', stateDir, '--json'])
      expect(st.code, st.stderr).toBe(0)
      expect(JSON.parse(st.stdout).data.symbols[0].risk).toMatchObject({mode: 'paused', pause: 'stale_book'})
      q.child.kill('SIGTERM')
      expect((await q.exited).code, q.stderr()).toBe(0)
      // nothing was ever sent to the book
      const reqs = new RequestLogTail(reqLog)
      reqs.read()
      expect(reqs.all.filter((r) => r.path === '/fapi/v1/order' && r.method === 'POST')).toEqual([])
      expect(reqs.all.filter((r) => r.path === '/fapi/v1/batchOrders' && r.method === 'POST')).toEqual([])
    } finally {
      await sim.stop()
    }
  }, 150_000)

  it('§4 venue pace: a 418 ban halts and the quote goes quiet (no cancel loop, audit and switch refresh held); SIGTERM during the ban exits 0 with the summary', async () => {
    const reqLog = join(tmp, 'ban.requests.ndjson')
    const sim = await startLiveSim(['--synthetic', '--seed', '7', '--rate-limit', 'weight=150,ban-after=1,ban=60s', '--request-log', reqLog])
    try {
      const cfg = writeConfig(tmp, 'ban.json', {
        strategy: {baseSpread: 0.00002, baseSize: '0.02', baseInterval: 500},
        risk: {netMax: '0.05', reduceOnlyThreshold: 2},
        // the audit (weight 6) and the switch (weight 10) every second: well over 150 a minute
        live: {auditIntervalMs: 1000, deadmanCountdownMs: 10_000, deadmanRefreshMs: 1000},
      })
      const stateDir = join(tmp, 'ban')
      const q = spawnQuote(sim, stateDir, ['--config', cfg, '--instance', 'ban1', '--duration', '150s'])
      const evPath = (await q.waitFor(/events → (\S+events\.jsonl)/, 'stderr', 60_000))[1]
      await q.waitFor(/market data in sync; quoting/, 'stderr', 60_000)
      const reqs = new RequestLogTail(reqLog)
      await waitFor(() => {
        reqs.read()
        return reqs.all.some((r) => r.status === 418)
      }, 'the first 418 at the sim', 60_000)
      // three switch refreshes fell due during the ban and were left unsent
      await waitFor(() => (q.stderr().match(/dead-man's switch refresh not sent: HTTP 418/g) ?? []).length >= 3, 'three held switch refreshes', 60_000)
      await waitFor(() => /audit not sent: HTTP 418/.test(q.stderr()), 'a held audit', 30_000)
      q.child.kill('SIGTERM')
      const end = await q.exited
      expect(end.code, q.stderr()).toBe(0)
      expect(q.stderr()).toMatch(/note: the venue could not be asked for our open orders at the stop \(GET \/fapi\/v1\/openOrders: HTTP 418: .*\); the dead-man's switch (stays armed and cancels any order of ours within (10|[1-9]) s|lapsed at \S+ \(not refreshed since\): it no longer covers any order of ours; check the venue and cancel by hand \(mm halt\))/)
      expect(q.stdout()).toMatch(/│ ended +│ signal SIGTERM +│/)
      // the run log: halted by the ban (storm halt, watch only)
      const risk = events(evPath).filter((e) => e.type === 'risk_event' && e.kind === 'storm')
      expect(risk[0]?.reason).toBe('HTTP 418: the venue banned this IP')
      // what reached the sim while it refused us: the requests already on their way at the
      // first 418, and the stop's one look at the open orders and its listenKey close
      reqs.read()
      const banned = reqs.all.filter((r) => r.status === 418)
      const count = (path: string, method: string) => banned.filter((r) => r.path === path && r.method === method).length
      expect(count('/fapi/v1/countdownCancelAll', 'POST')).toBeLessThanOrEqual(1)
      expect(count('/fapi/v3/positionRisk', 'GET')).toBeLessThanOrEqual(1)
      expect(count('/fapi/v1/order', 'DELETE') + count('/fapi/v1/batchOrders', 'DELETE')).toBeLessThanOrEqual(6)
      expect(banned.length).toBeLessThanOrEqual(20)
    } finally {
      await sim.stop()
    }
  }, 150_000)

  it('§4.1/§4.6 mm status names why the quote is reduce-only: the inventory threshold or the liquidation distance', async () => {
    const cases: Array<[boolean, boolean, string]> = [
      [false, true, 'reduce_only (liquidation price within risk.minLiquidationDistancePct of the mark)'],
      [true, false, 'reduce_only (|position| ≥ risk.reduceOnlyThreshold)'],
      [true, true, 'reduce_only (|position| ≥ risk.reduceOnlyThreshold; liquidation price within risk.minLiquidationDistancePct of the mark)'],
    ]
    for (const [i, [inventory, liq, text]] of cases.entries()) {
      const dir = join(tmp, `ro${i}`)
      const s: StateFile = emptyState('ETHUSDC', false, new Date().toISOString())
      s.risk = {...s.risk, mode: 'reduce_only', reduceOnly: inventory, liquidationNear: liq}
      mkdirSync(join(dir, 'ETHUSDC'), {recursive: true})
      writeFileSync(join(dir, 'ETHUSDC', 'state.json'), JSON.stringify(s, null, 2))
      const r = await runCli(['status', '--symbol', 'ETHUSDC', '--state-dir', dir])
      expect(r.code, r.stderr).toBe(0)
      const row = r.stdout.split('\n').find((l) => l.startsWith('│ risk '))
      expect(row?.split('│')[2].trim()).toBe(text)
    }
  }, 60_000)

  it('§3.5 layers below the min notional (baseSize 0.01, staticFraction 0.5 at ~3400): one note naming the layers, no order placed; SIGTERM exits 0', async () => {
    const reqLog = join(tmp, 'layers.requests.ndjson')
    const sim = await startLiveSim(['--synthetic', '--seed', '7', '--request-log', reqLog])
    try {
      const cfg = writeConfig(tmp, 'layers.json', {strategy: {baseSize: '0.01', staticFraction: 0.5}, risk: {netMax: '0.05'}})
      const q = spawnQuote(sim, join(tmp, 'layers'), ['--config', cfg, '--instance', 'lay1', '--duration', '90s'])
      await q.waitFor(/note: strategy\.staticFraction 0\.5 splits baseSize 0\.01 into layers below ETHUSDC's min notional 20 at the bid [0-9.]+ of the mid [0-9.]+ \(dynamic 0\.005, static 0\.005; each needs ≥ 0\.00[67]\): no quote can be placed \(raise baseSize to ≥ 0\.01[24], or set staticFraction to 0\)/, 'stderr', 60_000)
      q.child.kill('SIGTERM')
      expect((await q.exited).code, q.stderr()).toBe(0)
      expect(q.stderr().split('\n').filter((l) => l.includes('min notional 20 at'))).toHaveLength(1)
      const reqs = new RequestLogTail(reqLog)
      reqs.read()
      expect(reqs.all.filter((r) => r.path === '/fapi/v1/order' && r.method === 'POST')).toEqual([])
    } finally {
      await sim.stop()
    }
  }, 120_000)
})
