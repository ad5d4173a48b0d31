/**
 * mm quote --metrics-port end to end through bin/run.js: /metrics on loopback while a
 * replay (paced) and a live dry-run (against mm sim) run, then a clean SIGTERM; the URL
 * in the --json result; the endpoint gone after the run. Every metric documented in
 * docs/engine.md is served with its documented type, the scrape passes
 * `promtool check metrics`, fills move the fill counter, a forced shock sets the risk state.
 */
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {type CliRun, ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {promtool} from '../support/promtool.js'
import {repoRoot} from '../support/shared-data.js'

const tmp = mkdtempSync(join(tmpdir(), 'mm-metrics-e2e-'))

type Series = Map<string, number>

/** name{labels} → value, from the text exposition */
function parse(text: string): Series {
  const out: Series = new Map()
  for (const l of text.split('\n')) {
    if (l === '' || l.startsWith('#')) continue
    const i = l.lastIndexOf(' ')
    out.set(l.slice(0, i), Number(l.slice(i + 1)))
  }
  return out
}

async function scrapeText(url: string): Promise<string> {
  const r = await fetch(url)
  expect(r.status).toBe(200)
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return r.text()
}

async function scrape(url: string): Promise<Series> {
  return parse(await scrapeText(url))
}

/** metric → type, from the table in docs/engine.md "Metrics" */
function documented(): Map<string, string> {
  const doc = readFileSync(join(repoRoot, 'docs/engine.md'), 'utf8')
  const out = new Map<string, string>()
  for (const m of doc.matchAll(/^\| `(mm_[a-z_]+)` \| (gauge|counter|histogram) \|/gm)) out.set(m[1], m[2])
  return out
}

/** metric → type, from the # TYPE lines of a scrape */
function types(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]))
}

const fills = (s: Series, L: string) => (s.get(`mm_fills_total{maker="true",${L}}`) ?? 0) + (s.get(`mm_fills_total{maker="false",${L}}`) ?? 0)

/** scrape until `ready` holds (the run is progressing on its own clock) or the deadline passes (60 s: the first fill of
 * the paced replay comes within its 12 s here; a loaded machine runs the replay behind its pace) */
async function scrapeUntil(url: string, ready: (s: Series) => boolean, timeoutMs = 60_000): Promise<Series> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const s = await scrape(url)
    if (ready(s)) return s
    if (Date.now() > deadline) throw new Error(`metrics never got ready: ${JSON.stringify([...s])}`)
    await new Promise((res) => setTimeout(res, 50))
  }
}

function checkCommon(s: Series, L: string): void {
  // every metric is there, with the run's constant labels
  for (const name of [
    'mm_spread_ratio', 'mm_volatility_factor', 'mm_inventory_factor', 'mm_position_base', 'mm_realised_pnl_quote', 'mm_unrealised_pnl_quote', 'mm_net_pnl_quote',
    'mm_open_orders', 'mm_book_staleness_seconds', 'mm_orders_placed_total', 'mm_cancels_total', 'mm_post_only_rejects_total', 'mm_resyncs_total', 'mm_reconnects_total',
    'mm_net_max_cuts_total', 'mm_market_events_total', 'mm_tick_to_order_seconds_count', 'mm_decide_submit_seconds_count',
  ]) expect(s.has(`${name}{${L}}`), name).toBe(true)
  const risk = ['normal', 'reduce_only', 'paused', 'halted'].map((st) => s.get(`mm_risk_state{state="${st}",${L}}`))
  expect(risk.filter((v) => v === 1)).toHaveLength(1)
  expect(risk.filter((v) => v === 0)).toHaveLength(3)
  const spread = s.get(`mm_spread_ratio{${L}}`) as number
  expect(spread).toBeGreaterThan(0)
  expect(spread).toBeLessThan(0.05)
  expect(s.get(`mm_orders_placed_total{${L}}`)).toBeGreaterThan(0)
  expect(s.get(`mm_open_orders{${L}}`)).toBeGreaterThanOrEqual(0)
  expect(s.get(`mm_open_orders{${L}}`)).toBeLessThanOrEqual(s.get(`mm_orders_placed_total{${L}}`) as number)
  // the default netMax is well under 1 ETH
  expect(Math.abs(s.get(`mm_position_base{${L}}`) as number)).toBeLessThan(1)
  const stale = s.get(`mm_book_staleness_seconds{${L}}`) as number
  expect(stale).toBeGreaterThanOrEqual(0)
  expect(stale).toBeLessThan(60)
  expect(s.get(`mm_market_events_total{${L}}`)).toBeGreaterThan(0)
  expect(s.get(`process_cpu_seconds_total{${L}}`)).toBeGreaterThan(0)
  expect(s.get(`process_resident_memory_bytes{${L}}`)).toBeGreaterThan(1e6)
  expect(s.get(`mm_fills_total{maker="true",${L}}`)).toBeGreaterThanOrEqual(0)
  expect(s.get(`mm_reconnects_total{${L}}`)).toBe(0)
  const n = s.get(`mm_decide_submit_seconds_count{${L}}`) as number
  expect(n).toBeGreaterThan(0)
  expect(s.get(`mm_tick_to_order_seconds_count{${L}}`)).toBe(n)
  expect(s.get(`mm_decide_submit_seconds_bucket{le="+Inf",${L}}`)).toBe(n)
  // a decide+submit well under a second of wall time
  expect((s.get(`mm_decide_submit_seconds_sum{${L}}`) as number) / n).toBeLessThan(1)
}

async function stopCleanly(q: CliRun): Promise<void> {
  q.child.kill('SIGTERM')
  const {code} = await q.exited
  expect(code, q.stderr()).toBe(0)
  expect(q.stdout()).toMatch(/run summary/)
}

describe('mm quote --metrics-port', () => {
  it('replay at --speed 20: every documented metric with its type, promtool-clean, fills and market events move; SIGTERM exits 0 and closes it', async () => {
    ensureBuilt('quote')
    const stateDir = join(tmp, 'a')
    const q = spawnCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--replay', 'recordings/ETHUSDC', '--speed', '20', '--metrics-port', '0', '--state-dir', stateDir])
    const m = await q.waitFor(/^metrics: (http:\/\/127\.0\.0\.1:(\d+)\/metrics)$/m, 'stderr')
    const url = m[1]
    expect(Number(m[2])).toBeGreaterThan(0)
    const L = 'symbol="ETHUSDC",mode="replay"'
    try {
      const first = await scrape(url)
      const s = await scrapeUntil(url, (x) => (x.get(`mm_decide_submit_seconds_count{${L}}`) ?? 0) > 0 && (x.get(`mm_spread_ratio{${L}}`) ?? 0) > 0)
      checkCommon(s, L)
      expect(s.get(`mm_resyncs_total{${L}}`)).toBe(0)
      // replay: the tick-to-order time is virtual, at most a quote interval (< 60 s) per order action
      expect((s.get(`mm_tick_to_order_seconds_sum{${L}}`) as number) / (s.get(`mm_tick_to_order_seconds_count{${L}}`) as number)).toBeLessThan(60)
      // every documented metric is served with the documented type, and nothing undocumented under mm_
      const text = await scrapeText(url)
      const doc = documented()
      expect(doc.size).toBeGreaterThan(20)
      const served = new Map([...types(text)].filter(([k]) => k.startsWith('mm_')))
      // live-only series (rate-limit weight) have a TYPE line even without a sample
      expect(served).toEqual(doc)
      expect(text).toMatch(/^mm_build_info\{version="[^"]+",nodejs="[^"]+",platform="[^"]+",symbol="ETHUSDC",mode="replay"\} 1$/m)
      // promtool has nothing to say about the names, types and units
      const check = promtool(['check', 'metrics'], text)
      expect(check.out).toBe('')
      expect(check.code).toBe(0)
      // a fill moves the fill counter (the sample has 29 fills over 240 s of market time, 12 s here), market events grow
      const filled = await scrapeUntil(url, (x) => fills(x, L) > fills(first, L))
      expect(filled.get(`mm_market_events_total{${L}}`)).toBeGreaterThan(s.get(`mm_market_events_total{${L}}`) as number)
      // counters only grow
      const again = await scrape(url)
      expect(again.get(`mm_orders_placed_total{${L}}`)).toBeGreaterThanOrEqual(s.get(`mm_orders_placed_total{${L}}`) as number)
      expect(fills(again, L)).toBeGreaterThanOrEqual(fills(filled, L))
      expect((await fetch(url.replace('/metrics', '/'))).status).toBe(404)
    } finally {
      await stopCleanly(q)
    }
    expect(q.stdout()).toMatch(/│ ended +│ signal +│/)
    await expect(fetch(url)).rejects.toThrow()
  })

  it('a forced shock (shockPct 0.001 %) sets mm_risk_state to halted and counts the shock', async () => {
    const dir = join(tmp, 'shock')
    const cfg = join(tmp, 'shock.json')
    writeFileSync(cfg, JSON.stringify({risk: {shockPct: 0.00001, haltSeconds: 3600}}))
    const q = spawnCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--replay', 'recordings/ETHUSDC', '--speed', '20', '--config', cfg, '--metrics-port', '0', '--state-dir', dir])
    const url = (await q.waitFor(/^metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)$/m, 'stderr'))[1]
    const L = 'symbol="ETHUSDC",mode="replay"'
    try {
      const s = await scrapeUntil(url, (x) => x.get(`mm_risk_state{state="halted",${L}}`) === 1)
      expect(s.get(`mm_risk_events_total{kind="shock",${L}}`)).toBeGreaterThanOrEqual(1)
      expect(s.get(`mm_risk_state{state="normal",${L}}`)).toBe(0)
      expect(s.get(`mm_risk_state{state="reduce_only",${L}}`)).toBe(0)
      expect(s.get(`mm_risk_state{state="paused",${L}}`)).toBe(0)
    } finally {
      await stopCleanly(q)
    }
  })

  it('--json: no line on stderr, the URL in the result; --metrics-host alone is a usage error', async () => {
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--replay', 'recordings/ETHUSDC', '--duration', '20s', '--metrics-port', '0', '--state-dir', join(tmp, 'b'), '--json'])
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout) as {ok: boolean; data: {metricsUrl: string; summary: {endReason: string}}}
    expect(j.ok).toBe(true)
    expect(j.data.summary.endReason).toBe('duration')
    expect(j.data.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    expect(r.stderr).not.toMatch(/metrics/)
    const bad = await runCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--replay', 'recordings/ETHUSDC', '--metrics-host', '127.0.0.1', '--state-dir', join(tmp, 'c')])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--metrics-port/)
  })

  it('live dry-run against mm sim: mode="dry-run", real tick-to-order times, SIGTERM exits 0', async () => {
    const sim = spawnCli(['sim', '--synthetic', '--seed', '5', '--symbol', 'ETHUSDC', '--port', '0', '--json'])
    try {
      const v = await sim.waitFor(/"restUrl":"(http:[^"]+)","wsUrl":"(ws:[^"]+)"/)
      const q = spawnCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--rest-url', v[1], '--ws-url', v[2], '--metrics-port', '0', '--metrics-host', '127.0.0.1', '--state-dir', join(tmp, 'd')])
      const url = (await q.waitFor(/^metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)$/m, 'stderr'))[1]
      try {
        await q.waitFor(/market data in sync/, 'stderr')
        const L = 'symbol="ETHUSDC",mode="dry-run"'
        const s = await scrapeUntil(url, (x) => (x.get(`mm_tick_to_order_seconds_count{${L}}`) ?? 0) > 0 && (x.get(`mm_spread_ratio{${L}}`) ?? 0) > 0)
        checkCommon(s, L)
        // live: from the receive time of the tick acted on, wall time; within a quote interval plus processing
        const mean = (s.get(`mm_tick_to_order_seconds_sum{${L}}`) as number) / (s.get(`mm_tick_to_order_seconds_count{${L}}`) as number)
        expect(mean).toBeGreaterThanOrEqual(0)
        expect(mean).toBeLessThan(10)
      } finally {
        await stopCleanly(q)
      }
      expect(q.stdout()).toMatch(/signal SIGTERM/)
    } finally {
      sim.child.kill('SIGTERM')
      await sim.exited
    }
  })
})
