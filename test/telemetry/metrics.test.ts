/**
 * The metrics observer fed a scripted list of run events (the shapes the engine writes),
 * with scripted probes and a scripted wall clock: exact values out of its own registry.
 */
import {register as globalRegistry} from 'prom-client'
import {describe, expect, it} from 'vitest'
import {createMetrics, type RunMetrics} from '../../src/lib/telemetry/metrics.js'
import type {RunEvent} from '../../src/lib/telemetry/run-events.js'

const one = (m: RunMetrics, name: string) => m.registry.getSingleMetricAsString(name)

/** the value lines of one metric (no HELP/TYPE) */
async function values(m: RunMetrics, name: string): Promise<string[]> {
  return (await one(m, name)).split('\n').filter((l) => l !== '' && !l.startsWith('#'))
}

const EVENTS: RunEvent[] = [
  {type: 'run_start', t: 1000, symbol: 'ETHUSDC', mode: 'replay', strategy: 'v2', instrument: {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}},
  {type: 'risk_event', t: 1000, kind: 'pause_end', from: 'paused', to: 'normal', values: {}, thresholds: {}},
  {type: 'strategy_adjust', t: 1000, reason: 'quote', riskMode: 'normal', spread: 0.0004, volatilityFactor: 1.25, inventoryFactor: 0, quoteInterval: 1000},
]
// the two places the first market event caused
const PLACES: RunEvent[] = [
  {type: 'order', t: 1000, action: 'place', clientOrderId: 'a1', side: 'BUY', price: '1999.60', qty: '0.010', tif: 'GTX', reduceOnly: false, layer: 'dynamic'},
  {type: 'order', t: 1000, action: 'place', clientOrderId: 'a2', side: 'SELL', price: '2000.40', qty: '0.010', tif: 'GTX', reduceOnly: false, layer: 'dynamic'},
]
const LATER: RunEvent[] = [
  {type: 'ack', t: 1020, clientOrderId: 'a1'},
  {type: 'reject', t: 1020, clientOrderId: 'a2', code: -5022, msg: 'post only'},
  {type: 'fill', t: 1500, clientOrderId: 'a1', side: 'BUY', price: '1999.60', qty: '0.010', maker: true, fee: '-0.0004', position: '0.010', realised: '0', mid: '2000.005'},
  {type: 'fill', t: 1600, clientOrderId: 'b1', side: 'SELL', price: '2000.50', qty: '0.004', maker: false, fee: '0.0008', position: '0.006', realised: '0.0036', mid: '2000.5'},
  {type: 'strategy_adjust', t: 1600, reason: 'quote', riskMode: 'normal', spread: 0.0006, volatilityFactor: 1.5, inventoryFactor: 0.2, quoteInterval: 800},
  {type: 'strategy_adjust', t: 1700, reason: 'backoff_decay', side: 'SELL', backoffTicks: {buy: 0, sell: 1}},
  {type: 'reject', t: 1800, clientOrderId: 'a9', code: -2011, msg: 'unknown order'},
  {type: 'risk_event', t: 1900, kind: 'net_max', from: 'normal', to: 'normal', side: 'BUY', values: {}, thresholds: {}},
  {type: 'risk_event', t: 1900, kind: 'reduce_only_enter', from: 'normal', to: 'reduce_only', values: {}, thresholds: {}},
  {type: 'sample', t: 2000, mid: '2001', bid: '2000.99', ask: '2001.01', ownBid: null, ownAsk: '2001.20', position: '-0.006', realised: '0.0036', unrealised: '-0.0264', fees: '0.0004', risk: 'reduce_only'},
  {type: 'markout', t: 2500, clientOrderId: 'a1', horizonMs: 1000, side: 'BUY', fillPrice: '1999.60', mid: '2001', adverse: '-1.4'},
]
// the clean stop's cancel: no decision, no market event
const STOP: RunEvent[] = [
  {type: 'order', t: 2900, action: 'cancel', clientOrderId: 'c1', reason: 'stop'},
  {type: 'run_end', t: 3000, reason: 'end of data', marketEvents: 7, resyncs: 0},
]

function scripted() {
  let wall = 0
  const m = createMetrics({wallUs: () => wall})
  let open = 0
  let stale: number | null = null
  const counts = {resyncs: 0, reconnects: 0, netMaxCuts: 0}
  m.setProbes({openOrders: () => open, bookStalenessMs: () => stale, resyncs: () => counts.resyncs, reconnects: () => counts.reconnects, netMaxCuts: () => counts.netMaxCuts})
  for (const e of EVENTS) m.observe(e)
  // one market event at run time 1000 (wall 5000 µs) triggers a decision (wall 5010 µs)
  // that places at wall 5040 and 5090 µs
  wall = 5000
  m.onTick(1000)
  wall = 5010
  m.decideBegin()
  wall = 5040
  m.observe(PLACES[0])
  wall = 5090
  m.observe(PLACES[1])
  m.decideEnd()
  for (const e of LATER) m.observe(e)
  // a refresh-timer decision at run time 1900 on the tick of 1000: cancel 200 µs in
  wall = 9000
  m.decideBegin()
  wall = 9200
  m.observe({type: 'order', t: 1900, action: 'cancel', clientOrderId: 'a1', reason: 'reduce_only'})
  m.decideEnd()
  for (const e of STOP) m.observe(e)
  return {m, setOpen: (n: number) => (open = n), setStale: (v: number | null) => (stale = v), counts}
}

describe('metrics observer', () => {
  it('has a registry of its own, not the global one', () => {
    const m = createMetrics()
    expect(m.registry).not.toBe(globalRegistry)
    expect(globalRegistry.getSingleMetric('mm_orders_placed_total')).toBeUndefined()
    expect(m.registry.getSingleMetric('mm_orders_placed_total')).toBeDefined()
  })

  it('gauges from strategy_adjust, fill and sample', async () => {
    const {m} = scripted()
    expect(await values(m, 'mm_spread_ratio')).toEqual(['mm_spread_ratio 0.0006'])
    expect(await values(m, 'mm_volatility_factor')).toEqual(['mm_volatility_factor 1.5'])
    expect(await values(m, 'mm_inventory_factor')).toEqual(['mm_inventory_factor 0.2'])
    expect(await values(m, 'mm_position_base')).toEqual(['mm_position_base -0.006'])
    expect(await values(m, 'mm_realised_pnl_quote')).toEqual(['mm_realised_pnl_quote 0.0036'])
    expect(await values(m, 'mm_unrealised_pnl_quote')).toEqual(['mm_unrealised_pnl_quote -0.0264'])
    // 0.0036 − 0.0264 − 0.0004, in decimal (no float noise)
    expect(await values(m, 'mm_net_pnl_quote')).toEqual(['mm_net_pnl_quote -0.0232'])
  })

  it('one risk-state series per state, 1 for the current', async () => {
    const m = createMetrics()
    expect(await values(m, 'mm_risk_state')).toEqual([
      'mm_risk_state{state="normal"} 0', 'mm_risk_state{state="reduce_only"} 0', 'mm_risk_state{state="paused"} 0', 'mm_risk_state{state="halted"} 0',
    ])
    const {m: s} = scripted()
    expect(await values(s, 'mm_risk_state')).toEqual([
      'mm_risk_state{state="normal"} 0', 'mm_risk_state{state="reduce_only"} 1', 'mm_risk_state{state="paused"} 0', 'mm_risk_state{state="halted"} 0',
    ])
    s.observe({type: 'risk_event', t: 4000, kind: 'stop_loss', from: 'reduce_only', to: 'halted', values: {}, thresholds: {}})
    expect(await values(s, 'mm_risk_state')).toEqual([
      'mm_risk_state{state="normal"} 0', 'mm_risk_state{state="reduce_only"} 0', 'mm_risk_state{state="paused"} 0', 'mm_risk_state{state="halted"} 1',
    ])
  })

  it('counters: orders, cancels, fills by maker, rejects by code, post-only rejects, risk events by kind', async () => {
    const {m} = scripted()
    expect(await values(m, 'mm_orders_placed_total')).toEqual(['mm_orders_placed_total 2'])
    expect(await values(m, 'mm_cancels_total')).toEqual(['mm_cancels_total 2'])
    expect(await values(m, 'mm_fills_total')).toEqual(['mm_fills_total{maker="true"} 1', 'mm_fills_total{maker="false"} 1'])
    expect(await values(m, 'mm_rejects_total')).toEqual(['mm_rejects_total{code="-5022"} 1', 'mm_rejects_total{code="-2011"} 1'])
    expect(await values(m, 'mm_post_only_rejects_total')).toEqual(['mm_post_only_rejects_total 1'])
    expect(await values(m, 'mm_risk_events_total')).toEqual([
      'mm_risk_events_total{kind="pause_end"} 1', 'mm_risk_events_total{kind="net_max"} 1', 'mm_risk_events_total{kind="reduce_only_enter"} 1',
    ])
  })

  it('probes are read at scrape time: open orders, staleness, monotone resyncs / reconnects / netMax cuts', async () => {
    const {m, setOpen, setStale, counts} = scripted()
    expect(await values(m, 'mm_book_staleness_seconds')).toEqual(['mm_book_staleness_seconds Nan'])
    setOpen(3)
    setStale(250)
    counts.resyncs = 2
    counts.reconnects = 1
    counts.netMaxCuts = 4
    expect(await values(m, 'mm_open_orders')).toEqual(['mm_open_orders 3'])
    expect(await values(m, 'mm_book_staleness_seconds')).toEqual(['mm_book_staleness_seconds 0.25'])
    expect(await values(m, 'mm_resyncs_total')).toEqual(['mm_resyncs_total 2'])
    expect(await values(m, 'mm_reconnects_total')).toEqual(['mm_reconnects_total 1'])
    expect(await values(m, 'mm_net_max_cuts_total')).toEqual(['mm_net_max_cuts_total 4'])
    counts.netMaxCuts = 7
    expect(await values(m, 'mm_net_max_cuts_total')).toEqual(['mm_net_max_cuts_total 7'])
    // scraping again without change adds nothing
    expect(await values(m, 'mm_net_max_cuts_total')).toEqual(['mm_net_max_cuts_total 7'])
  })

  it('tick-to-order: order actions of decisions; run clock from the tick acted on, wall µs from the decision start', async () => {
    const {m} = scripted()
    // replay clock: the two places at the event's own time (0 ms), the timer cancel 900 ms after the tick; the stop cancel is in neither
    const tick = await values(m, 'mm_tick_to_order_seconds')
    expect(tick).toContain('mm_tick_to_order_seconds_bucket{le="0.00005"} 2')
    expect(tick).toContain('mm_tick_to_order_seconds_bucket{le="0.25"} 2')
    expect(tick).toContain('mm_tick_to_order_seconds_bucket{le="1"} 3')
    expect(tick).toContain('mm_tick_to_order_seconds_bucket{le="+Inf"} 3')
    expect(tick).toContain('mm_tick_to_order_seconds_sum 0.9')
    expect(tick).toContain('mm_tick_to_order_seconds_count 3')
    const us = await values(m, 'mm_decide_submit_seconds')
    // 30 µs and 80 µs after the first decision began, 200 µs after the second
    expect(us).toContain('mm_decide_submit_seconds_bucket{le="0.000025"} 0')
    expect(us).toContain('mm_decide_submit_seconds_bucket{le="0.00005"} 1')
    expect(us).toContain('mm_decide_submit_seconds_bucket{le="0.0001"} 2')
    expect(us).toContain('mm_decide_submit_seconds_bucket{le="0.00025"} 3')
    expect(us).toContain('mm_decide_submit_seconds_sum 0.00031')
    expect(us).toContain('mm_decide_submit_seconds_count 3')
  })

  it('an order action outside a decision (instant retry, stop) is in neither histogram', async () => {
    const m = createMetrics({wallUs: () => 100})
    m.onTick(5000)
    m.observe({type: 'order', t: 5000, action: 'place', clientOrderId: 'r', side: 'BUY', price: '1', qty: '1', tif: 'GTC', reduceOnly: false, layer: 'dynamic'})
    expect(await values(m, 'mm_orders_placed_total')).toEqual(['mm_orders_placed_total 1'])
    expect(await values(m, 'mm_decide_submit_seconds')).toContain('mm_decide_submit_seconds_count 0')
    expect(await values(m, 'mm_tick_to_order_seconds')).toContain('mm_tick_to_order_seconds_count 0')
  })

  it('live: the run clock at submit minus the event receive time', async () => {
    let now = 0
    const m = createMetrics({wallUs: () => 0})
    m.setProbes({nowMs: () => now})
    m.onTick(1_700_000_000_000.25) // receive time, ms (µs resolution)
    m.decideBegin()
    now = 1_700_000_000_001.5
    m.observe({type: 'order', t: 1_700_000_000_001, action: 'place', clientOrderId: 'x', side: 'BUY', price: '1', qty: '1', tif: 'GTX', reduceOnly: false, layer: 'dynamic'})
    m.decideEnd()
    const tick = await values(m, 'mm_tick_to_order_seconds')
    expect(tick).toContain('mm_tick_to_order_seconds_bucket{le="0.001"} 0')
    expect(tick).toContain('mm_tick_to_order_seconds_bucket{le="0.0025"} 1')
    expect(tick).toContain('mm_tick_to_order_seconds_sum 0.00125')
  })

  it('constant labels on every series; the whole exposition parses line by line', async () => {
    const m = createMetrics({labels: {symbol: 'ETHUSDC', mode: 'replay'}})
    m.observe({type: 'fill', t: 1, clientOrderId: 'a', side: 'SELL', price: '2000', qty: '0.001', maker: true, fee: '0', position: '-0.001', realised: '0'})
    const text = await m.registry.metrics()
    expect(text).toContain('mm_fills_total{maker="true",symbol="ETHUSDC",mode="replay"} 1')
    expect(text).toContain('mm_position_base{symbol="ETHUSDC",mode="replay"} -0.001')
    const names = new Set(text.split('\n').filter((l) => l.startsWith('# TYPE mm_')).map((l) => l.split(' ').slice(2).join(' ')))
    expect([...names].sort()).toEqual([
      'mm_build_info gauge',
      'mm_spread_ratio gauge', 'mm_volatility_factor gauge', 'mm_inventory_factor gauge', 'mm_risk_state gauge', 'mm_position_base gauge', 'mm_net_max_base gauge',
      'mm_realised_pnl_quote gauge', 'mm_unrealised_pnl_quote gauge', 'mm_net_pnl_quote gauge', 'mm_mid_price gauge', 'mm_best_bid_price gauge', 'mm_best_ask_price gauge', 'mm_own_bid_price gauge', 'mm_own_ask_price gauge', 'mm_open_orders gauge', 'mm_book_staleness_seconds gauge',
      'mm_orders_placed_total counter', 'mm_cancels_total counter', 'mm_fills_total counter', 'mm_rejects_total counter', 'mm_post_only_rejects_total counter',
      'mm_resyncs_total counter', 'mm_reconnects_total counter', 'mm_risk_events_total counter', 'mm_net_max_cuts_total counter', 'mm_market_events_total counter',
      'mm_rate_limit_used_weight gauge', 'mm_tick_to_order_seconds histogram', 'mm_decide_submit_seconds histogram',
    ].sort())
    // the process's own metrics beside the run's, and the build
    expect(text).toMatch(/^process_cpu_seconds_total\{symbol="ETHUSDC",mode="replay"\} /m)
    expect(text).toMatch(/^nodejs_heap_size_used_bytes\{symbol="ETHUSDC",mode="replay"\} /m)
    expect(text).toContain(`mm_build_info{version="0.1.0",nodejs="${process.versions.node}",platform="${process.platform}-${process.arch}",symbol="ETHUSDC",mode="replay"} 1`)
    for (const l of text.split('\n')) if (l.startsWith('mm_')) expect(l).toMatch(/^mm_[a-z_]+(\{[^}]*\})? (-?[0-9.e+-]+|Nan|\+Inf)$/)
  })
})
