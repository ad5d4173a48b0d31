import {describe, expect, it} from 'vitest'
import type {QueryReport, VenueReport} from '../../src/lib/venue/types.js'
import {cancel, place, setup, trade} from './helpers.js'

/** queryOrder(clientId): Binance GET /fapi/v1/order by origClientOrderId, answered as a `query` report. */
describe('paper venue: queries by client id', () => {
  const q = (r: VenueReport[]) => r.filter((x): x is QueryReport => x.type === 'query')

  it('travels like a request (behind the place sent before it) and answers with status and filled', () => {
    const {venue, clock, sendAt, all} = setup()
    sendAt(100, place('b1', 'BUY', '1999.99', '0.005'))
    venue.queryOrder('b1') // same ms: arrives after the place
    venue.advanceTo(110)
    expect(q(all())).toEqual([{type: 'query', clientOrderId: 'b1', found: true, status: 'NEW', filled: 0, ts: 115, venueTs: 110}])
    // a trade through its price fills it: FILLED, with the fill's trade id
    venue.onMarket(trade(200, 'sell', '1999.98', '0.010'))
    const fills = all().filter((r) => r.type === 'fill')
    expect(fills.map((r) => r.type === 'fill' && r.fill.tradeId)).toEqual(['paper-1'])
    clock.set(300)
    venue.queryOrder('b1')
    venue.advanceTo(310)
    expect(q(all())).toEqual([{type: 'query', clientOrderId: 'b1', found: true, status: 'FILLED', filled: 5, ts: 315, venueTs: 310}])
  })

  it('a cancelled order is CANCELED; a post-only reject and an unknown id are not found', () => {
    const {venue, clock, sendAt, all} = setup()
    sendAt(100, place('b1', 'BUY', '1999.99', '0.005'))
    sendAt(101, cancel('b1'))
    sendAt(102, place('x1', 'BUY', '2000.00', '0.005')) // crosses: -5022, never created
    clock.set(103)
    venue.queryOrder('b1')
    venue.queryOrder('x1')
    venue.queryOrder('nope')
    venue.advanceTo(200)
    expect(q(all()).map((r) => [r.clientOrderId, r.found, r.status ?? null])).toEqual([
      ['b1', true, 'CANCELED'],
      ['x1', false, null],
      ['nope', false, null],
    ])
  })
})
