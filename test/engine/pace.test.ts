/**
 * The rate governor's slow factor reaches the engine (issue 10 §2 "longer refresh, fewer
 * re-prices"): the engine reads the venue's pace at every decision, and a factor of 4
 * cuts the re-prices of a steadily moving market by the stretched refresh. Virtual clock,
 * a scripted venue that acknowledges every place and cancel 1 ms later.
 */
import {describe, expect, it} from 'vitest'
import {VirtualClock} from '../../src/lib/clock/clock.js'
import {defaultConfig, resolveConfig} from '../../src/lib/config/index.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import {Engine} from '../../src/lib/engine/engine.js'
import type {MarketEvent} from '../../src/lib/market/events.js'
import type {VenueRisk} from '../../src/lib/risk/types.js'
import type {RunEvent} from '../../src/lib/telemetry/run-events.js'
import {ReportQueue, type Venue} from '../../src/lib/venue/types.js'

const inst = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5'})
const px = (ticks: number) => `${Math.floor(ticks / 100)}.${String(ticks % 100).padStart(2, '0')}`

function run(factor: number | null) {
  const clock = new VirtualClock(1000)
  const reports = new ReportQueue()
  const log: RunEvent[] = []
  let reads = 0
  const venue: Venue = {
    submit: (a) => {
      const t = clock.now() + 1
      if (a.type === 'place') reports.push({type: 'ack', clientOrderId: a.clientOrderId, venueOrderId: a.clientOrderId, side: a.order.side, price: a.order.price, qty: a.order.qty, tif: a.order.tif, reduceOnly: a.order.reduceOnly, ts: t, venueTs: t})
      else reports.push({type: 'canceled', clientOrderId: a.clientOrderId, filled: 0, ts: t, venueTs: t})
    },
    queryOrder: () => {},
  }
  const c = defaultConfig()
  const core = resolveConfig({...c, strategy: {...c.strategy, baseSize: '0.010'}}, inst)
  const venueRisk = factor === null ? undefined : {read: (): VenueRisk => (reads++, {pace: {mode: factor > 1 ? 'slow' : 'normal', factor, reason: 'test'}})}
  const engine = new Engine({instrument: inst, core, venue, reports, clock, log: (e) => void log.push(e), runId: 'pace', mode: 'live', venueRisk})
  const set = (ms: number) => clock.set(ms)
  // 20 s of a market moving up one tick every 200 ms
  for (let k = 0; k <= 100; k++) {
    const t = 1000 + k * 200
    engine.runUntil(t, set)
    set(t)
    const bid = 200_000 + k
    const ev: MarketEvent = {kind: 'snapshot', symbol: 'ETHUSDC', ts: t * 1000, localTs: t * 1000, bids: [[px(bid), '5.000']], asks: [[px(bid + 1), '5.000']]}
    engine.onMarket(ev)
  }
  engine.runUntil(21_000, set)
  const replaces = log.filter((e) => e.type === 'order' && e.action === 'cancel' && (e as {reason?: string}).reason === 'replace').length
  const places = log.filter((e) => e.type === 'order' && e.action === 'place').length
  const pace = log.filter((e) => e.type === 'risk_event' && (e as {kind?: string}).kind === 'venue_pace')
  return {replaces, places, reads, pace}
}

describe('the venue pace in the engine', () => {
  it('the engine reads the pace at every decision; ×4 cuts the re-prices of a moving market', () => {
    const none = run(null)
    const normal = run(1)
    const slow = run(4)
    // factor 1 is the same run as no venue input at all
    expect([normal.replaces, normal.places]).toEqual([none.replaces, none.places])
    expect(normal.reads).toBeGreaterThan(0)
    expect(normal.pace).toEqual([])
    expect(slow.pace.length).toBe(1)
    // 1 s refresh: both sides re-priced each second (the decisions of the moving book wait for it)
    expect([none.replaces, none.places]).toEqual([40, 40])
    // ×4: a refresh every 4 s, quotes held in between (tolerance 3 ticks at the refresh)
    expect([slow.replaces, slow.places]).toEqual([8, 10])
    expect(slow.replaces * 3).toBeLessThan(none.replaces)
  })
})
