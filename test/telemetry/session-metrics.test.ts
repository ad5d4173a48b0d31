/**
 * Metrics wired through a real replay session (the embedded ETHUSDC sample, in process):
 * the counters agree exactly with the run summary computed from the same events, the
 * event log is the same with or without metrics, and the latency histograms saw every
 * order action of the decisions.
 */
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {defaultConfig} from '../../src/lib/config/index.js'
import {openReplay} from '../../src/lib/record/replay-source.js'
import {instrumentOf, runReplay, type SessionResult} from '../../src/lib/run/session.js'
import {paperVenue} from '../../src/lib/run/venues.js'
import {createMetrics, type RunMetrics} from '../../src/lib/telemetry/metrics.js'
import {repoRoot} from '../support/shared-data.js'

const SAMPLE = join(repoRoot, 'recordings/ETHUSDC')

async function replay(metrics?: RunMetrics): Promise<SessionResult> {
  const src = await openReplay([SAMPLE], {symbol: 'ETHUSDC'})
  const stateDir = mkdtempSync(join(tmpdir(), 'mm-metrics-'))
  return runReplay(
    {instrument: instrumentOf(src.instrument), config: defaultConfig(), configSource: '(defaults)', mode: 'replay', stateDir, wallMs: 0, source: SAMPLE, runId: 'replay', metrics, venue: paperVenue},
    src.batches(),
    {speed: 'max', durationMs: 90_000},
  )
}

/** value of an unlabelled series, or of the one with these labels */
async function value(m: RunMetrics, name: string, labels = ''): Promise<number> {
  const metric = /^mm_(tick_to_order_seconds|decide_submit_seconds)_/.test(name) ? name.replace(/_(bucket|sum|count)$/, '') : name
  const text = await m.registry.getSingleMetricAsString(metric)
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `))
  if (line === undefined) throw new Error(`no ${name}${labels} in\n${text}`)
  return Number(line.slice(line.lastIndexOf(' ') + 1))
}

describe('metrics through a replay session', () => {
  it('agree with the run summary; the event log does not change', async () => {
    const m = createMetrics()
    const withM = await replay(m)
    const without = await replay()
    expect(readFileSync(withM.eventLog as string)).toEqual(readFileSync(without.eventLog as string))
    const s = withM.summary
    expect(s.quotesPlaced).toBeGreaterThan(0)
    expect(await value(m, 'mm_orders_placed_total')).toBe(s.quotesPlaced)
    expect(await value(m, 'mm_cancels_total')).toBe(s.quotesCancelled)
    expect(await value(m, 'mm_fills_total', '{maker="true"}')).toBe(s.makerFills)
    expect(await value(m, 'mm_fills_total', '{maker="false"}')).toBe(s.fills - s.makerFills)
    expect(await value(m, 'mm_post_only_rejects_total')).toBe(s.postOnlyRejects)
    expect(await value(m, 'mm_resyncs_total')).toBe(s.resyncs)
    expect(await value(m, 'mm_reconnects_total')).toBe(0)
    for (const [kind, n] of Object.entries(s.riskEvents)) expect(await value(m, 'mm_risk_events_total', `{kind="${kind}"}`)).toBe(n)
    expect(await value(m, 'mm_position_base')).toBe(Number(s.finalPosition))
    expect(await value(m, 'mm_realised_pnl_quote')).toBe(Number(s.realisedPnl))
    expect(await value(m, 'mm_unrealised_pnl_quote')).toBeCloseTo(Number(s.unrealisedPnl), 8)
    expect(await value(m, 'mm_net_pnl_quote')).toBeCloseTo(Number(s.netPnl), 8)
    // the clean stop cancelled everything
    expect(await value(m, 'mm_open_orders')).toBe(0)
    // every order action of a decision: all but the stop's cancels and the instant retries (at most one per post-only reject)
    const stopCancels = readFileSync(withM.eventLog as string, 'utf8').split('\n').filter((l) => l.includes('"action":"cancel"') && l.includes('"reason":"stop"')).length
    const observed = await value(m, 'mm_decide_submit_seconds_count')
    expect(observed).toBeLessThanOrEqual(s.quotesPlaced + s.quotesCancelled - stopCancels)
    expect(observed).toBeGreaterThanOrEqual(s.quotesPlaced + s.quotesCancelled - stopCancels - s.postOnlyRejects)
    expect(await value(m, 'mm_tick_to_order_seconds_count')).toBe(observed)
    expect(await value(m, 'mm_decide_submit_seconds_sum')).toBeGreaterThan(0)
    // replay: virtual time; a refresh-timer decision waits at most the quote interval after the tick
    expect(await value(m, 'mm_tick_to_order_seconds_bucket', '{le="+Inf"}')).toBe(observed)
    const one = await m.registry.getSingleMetricAsString('mm_risk_state')
    expect(one.split('\n').filter((l) => l.endsWith(' 1'))).toHaveLength(1)
  })
})
