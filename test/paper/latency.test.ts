import {describe, expect, it} from 'vitest'
import {VirtualClock} from '../../src/lib/clock/clock.js'
import {ConstantLatency, InterpolatedLatency, PaperVenue} from '../../src/lib/venue/paper/index.js'
import {ReportQueue} from '../../src/lib/venue/types.js'
import {ASKS, BIDS, cancel, depth, inst, place, setup, snap, trade} from './helpers.js'

describe('entry latency: requests reach the matching engine entryLatencyMs after sending', () => {
  it('nothing happens at the venue before arrival; the ack reaches the strategy responseLatencyMs after', () => {
    const {venue, sendAt, reports} = setup()
    sendAt(100, place('b1', 'BUY', '1999.99', '0.005'))
    expect(venue.nextArrivalTs()).toBe(110)
    venue.advanceTo(109)
    expect(venue.orders()).toEqual([])
    venue.advanceTo(110)
    expect(venue.orders()).toHaveLength(1)
    expect(reports.nextTs()).toBe(115)
    expect(reports.drain(114)).toEqual([])
    expect(reports.drain(115)).toMatchObject([{type: 'ack', clientOrderId: 'b1', venueTs: 110, ts: 115}])
  })

  it('market events drive the venue: a request due before an event is decided on the book before it', () => {
    const {venue, sendAt, all} = setup()
    sendAt(100, place('b1', 'BUY', '1999.99', '0.005')) // arrives 110
    venue.onMarket(depth(112, [['1999.99', '0']], [['1999.99', '0.003']])) // ask drops to our price after arrival
    expect(all()).toMatchObject([
      {type: 'ack', venueTs: 110},
      {type: 'fill', fill: {qty: 5, maker: true}, venueTs: 112, ts: 117},
    ])
  })

  it('a GTX is judged on the book at arrival: the ask moved onto its price in flight → -5022', () => {
    const {venue, sendAt, all} = setup()
    sendAt(100, place('b1', 'BUY', '1999.99', '0.005')) // would not cross when sent
    venue.onMarket(depth(105, [['1999.99', '0']], [['1999.99', '0.003']]))
    venue.onMarket(depth(111, [], []))
    expect(all()).toMatchObject([{type: 'reject', code: -5022, venueTs: 110, ts: 115}])
  })

  it('a cancel that arrives after the fill cannot cancel it: -2011', () => {
    const {venue, sendAt, all} = setup()
    sendAt(100, place('b1', 'BUY', '1999.97', '0.005')) // front 0
    venue.advanceTo(110)
    all()
    sendAt(200, cancel('b1')) // arrives 210
    venue.onMarket(trade(205, 'sell', '1999.97', '0.005'))
    venue.onMarket(depth(211, [], []))
    expect(all()).toMatchObject([
      {type: 'fill', clientOrderId: 'b1', status: 'FILLED', venueTs: 205, ts: 210},
      {type: 'reject', request: 'cancel', clientOrderId: 'b1', code: -2011, msg: 'Unknown order sent.', venueTs: 210, ts: 215},
    ])
    expect(venue.position).toBe(5)
  })

  it('a cancel that arrives before the trade wins', () => {
    const {venue, sendAt, all} = setup()
    sendAt(100, place('b1', 'BUY', '1999.97', '0.005'))
    venue.advanceTo(110)
    all()
    sendAt(200, cancel('b1'))
    venue.onMarket(trade(212, 'sell', '1999.97', '0.005'))
    expect(all()).toEqual([{type: 'canceled', clientOrderId: 'b1', filled: 0, ts: 215, venueTs: 210}])
    expect(venue.position).toBe(0)
  })

  it('requests are FIFO: a cancel sent right after its place finds the order', () => {
    const {venue, sendAt, types, all} = setup()
    sendAt(100, place('b1', 'BUY', '1999.97', '0.005'))
    sendAt(100, cancel('b1'))
    venue.advanceTo(110)
    expect(types(all())).toEqual(['ack', 'canceled'])
  })
})

describe('latency models', () => {
  it('constant', () => {
    const m = new ConstantLatency(7, 9)
    expect([m.entry(), m.response()]).toEqual([7, 9])
  })

  it('interpolated: linear between recorded samples, clamped outside', () => {
    const m = new InterpolatedLatency([
      {ts: 1000, entryMs: 30, responseMs: 40},
      {ts: 0, entryMs: 10, responseMs: 20},
    ])
    expect([m.entry(-5), m.entry(0), m.entry(500), m.entry(1000), m.entry(2000)]).toEqual([10, 10, 20, 30, 30])
    expect([m.response(250), m.response(750)]).toEqual([25, 35])
  })

  it('reports stay in order even when response latency shrinks', () => {
    const clock = new VirtualClock(0)
    const reports = new ReportQueue()
    const latency = new InterpolatedLatency([
      {ts: 0, entryMs: 1, responseMs: 50},
      {ts: 100, entryMs: 1, responseMs: 0},
    ])
    const venue = new PaperVenue({instrument: inst, clock, sink: reports, latency})
    venue.onMarket(snap(0, BIDS, ASKS))
    venue.submit(place('b1', 'BUY', '1999.97', '0.005')) // venue at 1 → ts 1 + 49.5
    clock.set(99)
    venue.submit(place('b2', 'BUY', '1999.96', '0.005')) // venue at 100 → 100 + 0, held back to 50.5
    venue.advanceTo(100)
    expect(reports.drain(Number.POSITIVE_INFINITY).map((r) => [r.clientOrderId, r.venueTs, r.ts])).toEqual([
      ['b1', 1, 50.5],
      ['b2', 100, 100],
    ])
  })
})
