/**
 * 4.1 / 4.4 reduce-only with fills the venue showed but the position has not booked
 * (live engine, a scripted venue, virtual clock): the cancel answer of a bid shows it
 * filled (10 steps) while the stream says nothing. With the reduce-only threshold at
 * 1 × baseSize (10 steps) the venue's position is then at the threshold. Before, the mode
 * followed the booked position (flat): the engine kept quoting both sides, the freed bid
 * slot bid again, until the read-back booked the fill. Now reduce-only starts at once
 * (`reduce_only_enter` with `effectiveNet` 10): no bid, only a reduce-only SELL of 10.
 */
import {describe, expect, it} from 'vitest'
import {VirtualClock} from '../../src/lib/clock/clock.js'
import {defaultConfig, resolveConfig} from '../../src/lib/config/index.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import {Engine} from '../../src/lib/engine/engine.js'
import type {MarketEvent} from '../../src/lib/market/events.js'
import type {RunEvent} from '../../src/lib/telemetry/run-events.js'
import {ReportQueue, type Venue} from '../../src/lib/venue/types.js'

const inst = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5'})
const px = (ticks: number) => `${Math.floor(ticks / 100)}.${String(ticks % 100).padStart(2, '0')}`

describe('reduce-only follows the venue\'s position while a fill is unbooked (4.1, 4.4, live engine)', () => {
  it('a bid whose cancel answer shows it filled puts the run in reduce-only at once: no bid after it, a reduce-only SELL of 10', () => {
    const clock = new VirtualClock(1000)
    const reports = new ReportQueue()
    const log: RunEvent[] = []
    let unbooked: {BUY: number; SELL: number} | undefined
    const venue: Venue = {
      submit: (a) => {
        const t = clock.now() + 1
        if (a.type === 'place') {
          reports.push({type: 'ack', clientOrderId: a.clientOrderId, venueOrderId: a.clientOrderId, side: a.order.side, price: a.order.price, qty: a.order.qty, tif: a.order.tif, reduceOnly: a.order.reduceOnly, ts: t, venueTs: t})
          return
        }
        // the first bid cancelled is answered as filled in full (10 steps); the stream says nothing
        const bid = a.clientOrderId.includes(':BUY:') && unbooked === undefined
        if (bid) unbooked = {BUY: 10, SELL: 0}
        reports.push({type: 'canceled', clientOrderId: a.clientOrderId, filled: bid ? 10 : 0, ts: t, venueTs: t})
      },
      queryOrder: () => {},
      unbookedSteps: () => unbooked,
    }
    const c = defaultConfig()
    const core = resolveConfig({...c, strategy: {...c.strategy, baseSize: '0.010'}, risk: {...c.risk, netMax: '0.100', reduceOnlyThreshold: 1}}, inst)
    const engine = new Engine({instrument: inst, core, venue, reports, clock, log: (e) => void log.push(e), runId: 'ru', mode: 'live'})
    const set = (ms: number) => clock.set(ms)
    // the book moves up a tick each 500 ms: the quotes are re-priced (cancel, then place)
    for (let k = 0; k <= 8; k++) {
      const t = 1000 + k * 500
      engine.runUntil(t, set)
      set(t)
      const b = 200_000 + k
      const ev: MarketEvent = {kind: 'snapshot', symbol: 'ETHUSDC', ts: t * 1000, localTs: t * 1000, bids: [[px(b), '5.000']], asks: [[px(b + 1), '5.000']]}
      engine.onMarket(ev)
    }
    engine.runUntil(5500, set)
    const orders = log.filter((e) => e.type === 'order' || (e.type === 'risk_event' && (e as {kind?: string}).kind === 'reduce_only_enter')) as Array<{type: string; action?: string; side?: string; qty?: string; reduceOnly?: boolean; layer?: string; values?: unknown}>
    const enter = orders.findIndex((e) => e.type === 'risk_event')
    expect(orders[enter]?.values).toEqual({net: 0, absNet: 0, unbookedBuy: 10, unbookedSell: 0, effectiveNet: 10})
    // before it: the two quotes, re-priced once (the bid's cancel answered as filled)
    expect(orders.slice(0, enter).map((e) => [e.action, e.side ?? null])).toEqual([['place', 'BUY'], ['place', 'SELL'], ['cancel', null], ['cancel', null], ['place', 'SELL']])
    // after it: no bid, only reduce-only SELLs of 10 steps (re-priced as the book moves)
    const after = orders.slice(enter + 1).filter((e) => e.action === 'place')
    expect(after.length).toBeGreaterThan(0)
    expect(new Set(after.map((e) => JSON.stringify([e.side, e.qty, e.reduceOnly, e.layer])))).toEqual(new Set([JSON.stringify(['SELL', '0.010', true, 'reduce'])]))
    expect(orders.filter((e) => e.type === 'risk_event')).toHaveLength(1)
    expect(engine.status().position).toBe('0.000')
  })
})
