/**
 * Exploratory checks of SPEC §3–4 and the telemetry in live runs (`mm quote` without
 * --dry-run against `mm sim`, both through bin/run.js), each pinning a fix:
 *  - §4.5 a feed that lags behind the venue (the sim's `--faults delay=6s`: every market
 *    message leaves 6 s after its event time) is stale data: the quote pauses with
 *    `stale_book` and sends no order. Before the fix the book's age counted only from the
 *    local receive time, so a late but steady feed looked fresh and mm quoted on a book
 *    6 s old (-5022s and fills at stale prices).
 */
import {existsSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {LIVE_ENV, RequestLogTail, spawnQuote, startLiveSim, waitFor, writeConfig} from '../support/live-sim.js'

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
  it('§4.5 a lagging feed (sim --faults delay=6s) is a stale book: paused (stale_book), no order sent, mm status says why', async () => {
    const reqLog = join(tmp, 'lag.requests.ndjson')
    const sim = await startLiveSim(['--synthetic', '--seed', '7', '--faults', 'delay=6s', '--request-log', reqLog])
    try {
      const cfg = writeConfig(tmp, 'lag.json', {
        strategy: {baseSpread: 0.00002, baseSize: '0.02', baseInterval: 500},
        risk: {netMax: '0.05', reduceOnlyThreshold: 2, staleBookMs: 2500},
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
      expect(pause!.thresholds).toEqual({staleBookMs: 2500})
      expect(pause!.values!.ageMs).toBeGreaterThanOrEqual(2500)
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
})
