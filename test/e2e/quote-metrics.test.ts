/**
 * mm quote --metrics-port end to end through bin/run.js: /metrics on loopback while a
 * replay (paced) and a live dry-run (against mm sim) run, then a clean SIGTERM; the URL
 * in the --json result; the endpoint gone after the run.
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {type CliRun, ensureBuilt, runCli, spawnCli} from '../support/cli.js'

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

async function scrape(url: string): Promise<Series> {
  const r = await fetch(url)
  expect(r.status).toBe(200)
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return parse(await r.text())
}

/** scrape until `ready` holds (the run is progressing on its own clock) or the deadline passes */
async function scrapeUntil(url: string, ready: (s: Series) => boolean, timeoutMs = 20_000): Promise<Series> {
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
    'mm_open_orders', 'mm_book_staleness_ms', 'mm_orders_placed_total', 'mm_cancels_total', 'mm_post_only_rejects_total', 'mm_resyncs_total', 'mm_reconnects_total',
    'mm_net_max_cuts_total', 'mm_tick_to_order_ms_count', 'mm_decide_submit_us_count',
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
  const stale = s.get(`mm_book_staleness_ms{${L}}`) as number
  expect(stale).toBeGreaterThanOrEqual(0)
  expect(stale).toBeLessThan(60_000)
  expect(s.get(`mm_fills_total{maker="true",${L}}`)).toBeGreaterThanOrEqual(0)
  expect(s.get(`mm_reconnects_total{${L}}`)).toBe(0)
  const n = s.get(`mm_decide_submit_us_count{${L}}`) as number
  expect(n).toBeGreaterThan(0)
  expect(s.get(`mm_tick_to_order_ms_count{${L}}`)).toBe(n)
  expect(s.get(`mm_decide_submit_us_bucket{le="+Inf",${L}}`)).toBe(n)
  // a decide+submit well under a second of wall time
  expect((s.get(`mm_decide_submit_us_sum{${L}}`) as number) / n).toBeLessThan(1_000_000)
}

async function stopCleanly(q: CliRun): Promise<void> {
  q.child.kill('SIGTERM')
  const {code} = await q.exited
  expect(code, q.stderr()).toBe(0)
  expect(q.stdout()).toMatch(/run summary/)
}

describe('mm quote --metrics-port', () => {
  it('replay at --speed 20: /metrics on 127.0.0.1 while it runs, SIGTERM exits 0 and closes it', async () => {
    ensureBuilt('quote')
    const q = spawnCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--replay', 'recordings/ETHUSDC', '--speed', '20', '--metrics-port', '0', '--state-dir', join(tmp, 'a')])
    const m = await q.waitFor(/^metrics: (http:\/\/127\.0\.0\.1:(\d+)\/metrics)$/m, 'stderr')
    const url = m[1]
    expect(Number(m[2])).toBeGreaterThan(0)
    try {
      const L = 'symbol="ETHUSDC",mode="replay"'
      const s = await scrapeUntil(url, (x) => (x.get(`mm_decide_submit_us_count{${L}}`) ?? 0) > 0 && (x.get(`mm_spread_ratio{${L}}`) ?? 0) > 0)
      checkCommon(s, L)
      expect(s.get(`mm_resyncs_total{${L}}`)).toBe(0)
      // replay: the tick-to-order time is virtual, at most a quote interval (< 60 s) per order action
      expect((s.get(`mm_tick_to_order_ms_sum{${L}}`) as number) / (s.get(`mm_tick_to_order_ms_count{${L}}`) as number)).toBeLessThan(60_000)
      // counters only grow
      const again = await scrape(url)
      expect(again.get(`mm_orders_placed_total{${L}}`)).toBeGreaterThanOrEqual(s.get(`mm_orders_placed_total{${L}}`) as number)
      expect((await fetch(url.replace('/metrics', '/'))).status).toBe(404)
    } finally {
      await stopCleanly(q)
    }
    expect(q.stdout()).toMatch(/│ ended +│ signal +│/)
    await expect(fetch(url)).rejects.toThrow()
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
        const s = await scrapeUntil(url, (x) => (x.get(`mm_tick_to_order_ms_count{${L}}`) ?? 0) > 0 && (x.get(`mm_spread_ratio{${L}}`) ?? 0) > 0)
        checkCommon(s, L)
        // live: from the receive time of the tick acted on, wall time; within a quote interval plus processing
        const mean = (s.get(`mm_tick_to_order_ms_sum{${L}}`) as number) / (s.get(`mm_tick_to_order_ms_count{${L}}`) as number)
        expect(mean).toBeGreaterThanOrEqual(0)
        expect(mean).toBeLessThan(10_000)
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
