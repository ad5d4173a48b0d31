/**
 * 4.1 netMax with fills the venue showed but the position has not booked (netmax-unseen):
 * live, with a silent user stream, a cancel's answer shows the bid filled; its fill is read
 * back later. The engine hands the venue's unbooked steps to every decision, so the slot
 * the filled bid frees is not bid again until the fill is booked. Before, it was: the
 * position still read flat, a second bid went out, and it could fill too (one order past
 * netMax; review run 0.030 with netMax 0.02). Virtual clock, a scripted venue.
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

describe('netMax counts the fills an answer showed until they are booked (4.1, live engine)', () => {
  it('the slot of a bid whose cancel answer shows it filled is not bid again before the read-back books the fill', () => {
    const clock = new VirtualClock(1000)
    const reports = new ReportQueue()
    const log: RunEvent[] = []
    /** the bid the venue filled (its cancel is answered CANCELED with executedQty = qty; the stream says nothing) */
    let unbooked: {BUY: number; SELL: number} | undefined
    const venue: Venue = {
      submit: (a) => {
        const t = clock.now() + 1
        if (a.type === 'place') {
          reports.push({type: 'ack', clientOrderId: a.clientOrderId, venueOrderId: a.clientOrderId, side: a.order.side, price: a.order.price, qty: a.order.qty, tif: a.order.tif, reduceOnly: a.order.reduceOnly, ts: t, venueTs: t})
          return
        }
        const bid = a.clientOrderId.includes(':BUY:')
        if (bid) unbooked = {BUY: 10, SELL: 0}
        reports.push({type: 'canceled', clientOrderId: a.clientOrderId, filled: bid ? 10 : 0, ts: t, venueTs: t})
      },
      queryOrder: () => {},
      unbookedSteps: () => unbooked,
    }
    const c = defaultConfig()
    // netMax = baseSize: one filled bid is the cap
    const core = resolveConfig({...c, strategy: {...c.strategy, kind: 'naive', baseSize: '0.010'}, risk: {...c.risk, netMax: '0.010', reduceOnlyThreshold: 1}}, inst)
    const engine = new Engine({instrument: inst, core, venue, reports, clock, log: (e) => void log.push(e), runId: 'ub', mode: 'live'})
    const set = (ms: number) => clock.set(ms)
    // the book moves up a tick each 500 ms: every refresh re-prices (cancel, then place)
    for (let k = 0; k <= 8; k++) {
      const t = 1000 + k * 500
      engine.runUntil(t, set)
      set(t)
      const b = 200_000 + k
      const ev: MarketEvent = {kind: 'snapshot', symbol: 'ETHUSDC', ts: t * 1000, localTs: t * 1000, bids: [[px(b), '5.000']], asks: [[px(b + 1), '5.000']]}
      engine.onMarket(ev)
    }
    engine.runUntil(5500, set)
    const bids = () => log.filter((e) => e.type === 'order' && e.action === 'place' && (e as {side?: string}).side === 'BUY').length
    // one bid: placed, filled at the venue, cancelled too late; none after it while its fill is unbooked
    expect(bids()).toBe(1)
    const capped = log.filter((e) => e.type === 'risk_event' && (e as {kind?: string}).kind === 'net_max')
    expect(capped.map((e) => (e as {values?: unknown}).values)).toEqual([{net: 0, workingOnSide: 0, unbookedOnSide: 10, wanted: 10, allowed: 0, slots: 'dyn:BUY:0'}])
    expect(engine.status().position).toBe('0.000')
    // the read-back books the fill: the position holds it, nothing is unbooked, the cap holds as before
    unbooked = undefined
    const t = clock.now() + 1
    reports.push({type: 'fill', clientOrderId: 'mm-ub-dyn:BUY:0-0', ts: t, venueTs: t, filled: 10, leaves: 0, status: 'PARTIALLY_FILLED', fill: {clientOrderId: 'mm-ub-dyn:BUY:0-0', side: 'BUY', price: 199900, qty: 10, maker: true, fee: '0', ts: t, tradeId: '1', realised: '0'}})
    for (let k = 9; k <= 12; k++) {
      const tk = 1000 + k * 500
      engine.runUntil(tk, set)
      set(tk)
      const b = 200_000 + k
      engine.onMarket({kind: 'snapshot', symbol: 'ETHUSDC', ts: tk * 1000, localTs: tk * 1000, bids: [[px(b), '5.000']], asks: [[px(b + 1), '5.000']]})
    }
    engine.runUntil(7500, set)
    expect(engine.status().position).toBe('0.010')
    expect(bids()).toBe(1)
  })
})
