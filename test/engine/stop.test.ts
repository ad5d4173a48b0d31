/**
 * The clean stop cancels every order, including one that comes back to life during the
 * stop: a cancel refused with -2011 (it raced the place's ack) leaves the order pending
 * cancel; the stop's cancel-all skips it; the lifecycle's query then finds it NEW — the
 * stop must cancel it then (seen live against mm sim: the order was left to the
 * dead-man's switch). Virtual clock, scripted venue.
 */
import {describe, expect, it} from 'vitest'
import {VirtualClock} from '../../src/lib/clock/clock.js'
import {defaultConfig, resolveConfig} from '../../src/lib/config/index.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import type {OrderAction} from '../../src/lib/domain/orders.js'
import {Engine} from '../../src/lib/engine/engine.js'
import type {MarketEvent} from '../../src/lib/market/events.js'
import type {RunEvent} from '../../src/lib/telemetry/run-events.js'
import {ReportQueue, type Venue} from '../../src/lib/venue/types.js'

const inst = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5'})
const snap = (ms: number, bid: string, ask: string): MarketEvent => ({kind: 'snapshot', symbol: 'ETHUSDC', ts: ms * 1000, localTs: ms * 1000, bids: [[bid, '5.000']], asks: [[ask, '5.000']]})

describe('engine clean stop', () => {
  it('an order whose refused cancel is followed by a query finding it NEW is cancelled by the stop', () => {
    const clock = new VirtualClock(1000)
    const reports = new ReportQueue()
    const sent: OrderAction[] = []
    const queried: string[] = []
    const venue: Venue = {submit: (a) => void sent.push(a), queryOrder: (id) => void queried.push(id)}
    const log: RunEvent[] = []
    const c = defaultConfig()
    const engine = new Engine({instrument: inst, core: resolveConfig({...c, strategy: {...c.strategy, baseSize: '0.010'}}, inst), venue, reports, clock, log: (e) => void log.push(e), runId: 'stop', mode: 'live'})
    const set = (ms: number) => clock.set(ms)
    engine.onMarket(snap(1000, '2000.00', '2000.01'))
    const [buy, sell] = sent.filter((a): a is Extract<OrderAction, {type: 'place'}> => a.type === 'place')
    for (const p of [buy, sell]) reports.push({type: 'ack', clientOrderId: p.clientOrderId, venueOrderId: '1', side: p.order.side, price: p.order.price, qty: p.order.qty, tif: p.order.tif, reduceOnly: false, ts: 1010, venueTs: 1010})
    engine.runUntil(1010, set)
    // the stop: both cancelled; the buy's cancel is refused with -2011 (the venue says it does not hold it — yet)
    engine.beginStop()
    const stopCancels = () => sent.filter((a) => a.type === 'cancel').map((a) => a.clientOrderId)
    expect(stopCancels()).toEqual([buy.clientOrderId, sell.clientOrderId])
    reports.push({type: 'reject', request: 'cancel', clientOrderId: buy.clientOrderId, code: -2011, msg: 'Unknown order sent.', ts: 1020, venueTs: 1020})
    reports.push({type: 'canceled', clientOrderId: sell.clientOrderId, filled: 0, ts: 1020, venueTs: 1020})
    engine.runUntil(1020, set)
    expect(engine.openOrders).toBe(1)
    expect(stopCancels().length).toBe(2) // pending cancel: not sent again yet
    // ackTimeoutMs (2000) later the lifecycle queries it; the venue finds it NEW
    engine.runUntil(3020, set)
    expect(queried).toEqual([buy.clientOrderId])
    reports.push({type: 'query', clientOrderId: buy.clientOrderId, found: true, status: 'NEW', filled: 0, venueOrderId: '1', ts: 3030, venueTs: 3030})
    engine.runUntil(3030, set)
    expect(stopCancels()).toEqual([buy.clientOrderId, sell.clientOrderId, buy.clientOrderId])
    expect(log.filter((e) => e.type === 'order' && e.action === 'cancel').map((e) => (e as {reason?: string}).reason)).toEqual(['stop', 'stop', 'stop'])
    reports.push({type: 'canceled', clientOrderId: buy.clientOrderId, filled: 0, ts: 3040, venueTs: 3040})
    engine.runUntil(3040, set)
    expect(engine.openOrders).toBe(0)
  })
})
