import {describe, expect, it} from 'vitest'
import {place, px, setup} from './helpers.js'

describe('IOC: takes the opposite levels up to its limit as taker, the rest EXPIRES', () => {
  it('buy IOC 0.015 @ 2000.01 fills 5 @ 2000.00 and 7 @ 2000.01, 3 expire', () => {
    const {venue, sendAt, all} = setup()
    sendAt(100, place('i1', 'BUY', '2000.01', '0.015', 'IOC'))
    venue.advanceTo(110)
    const rs = all()
    expect(rs.map((r) => r.type)).toEqual(['ack', 'fill', 'fill', 'expired'])
    expect(rs[1]).toEqual({
      type: 'fill',
      clientOrderId: 'i1',
      fill: {clientOrderId: 'i1', side: 'BUY', price: px('2000.00'), qty: 5, maker: false, fee: '0.005', ts: 110, tradeId: 'paper-1'},
      filled: 5,
      leaves: 10,
      status: 'PARTIALLY_FILLED',
      ts: 115,
      venueTs: 110,
    })
    expect(rs[2]).toMatchObject({type: 'fill', fill: {price: px('2000.01'), qty: 7, maker: false, fee: '0.007000035', tradeId: 'paper-2'}, filled: 12, leaves: 3, status: 'PARTIALLY_FILLED'})
    expect(rs[3]).toEqual({type: 'expired', clientOrderId: 'i1', filled: 12, reason: 'IOC', ts: 115, venueTs: 110})
    expect(venue.position).toBe(12)
    expect(venue.orders()).toEqual([])
    // no market impact: the replayed book still shows the levels we took
    expect(venue.book.qtyAt('ask', px('2000.00'))).toBe(5)
  })

  it('sell IOC that the bids fully absorb ends FILLED with no EXPIRED', () => {
    const {venue, sendAt, all} = setup()
    sendAt(100, place('i2', 'SELL', '1999.98', '0.012', 'IOC'))
    venue.advanceTo(110)
    expect(all()).toMatchObject([
      {type: 'ack'},
      {type: 'fill', fill: {price: px('1999.99'), qty: 10, maker: false}, leaves: 2, status: 'PARTIALLY_FILLED'},
      {type: 'fill', fill: {price: px('1999.98'), qty: 2, maker: false}, leaves: 0, status: 'FILLED'},
    ])
    expect(venue.position).toBe(-12)
  })

  it('IOC that does not reach the opposite best: ack then EXPIRED with nothing filled', () => {
    const {venue, sendAt, all} = setup()
    sendAt(100, place('i3', 'BUY', '1999.99', '0.005', 'IOC'))
    venue.advanceTo(110)
    expect(all()).toMatchObject([{type: 'ack'}, {type: 'expired', clientOrderId: 'i3', filled: 0, reason: 'IOC'}])
    expect(venue.position).toBe(0)
  })
})
