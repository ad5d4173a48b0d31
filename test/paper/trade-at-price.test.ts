import {describe, expect, it} from 'vitest'
import {depth, place, px, setup, trade} from './helpers.js'

describe('trades at the order price consume the queue ahead (front)', () => {
  it('front -= trade qty; no fill while front >= 0; fill −front once it goes below zero', () => {
    const {venue, sendAt, all, types} = setup()
    sendAt(100, place('b1', 'BUY', '1999.99', '0.005')) // front 10
    venue.advanceTo(110)
    all()
    venue.onMarket(trade(120, 'sell', '1999.99', '0.004'))
    expect(venue.order('b1')?.front).toBe(6)
    venue.onMarket(trade(121, 'sell', '1999.99', '0.006'))
    expect(venue.order('b1')?.front).toBe(0)
    expect(types(all())).toEqual([])
    venue.onMarket(trade(122, 'sell', '1999.99', '0.003'))
    expect(all()).toEqual([
      {
        type: 'fill',
        clientOrderId: 'b1',
        fill: {clientOrderId: 'b1', side: 'BUY', price: px('1999.99'), qty: 3, maker: true, fee: '0.001199994', ts: 122, tradeId: 'paper-1'},
        filled: 3,
        leaves: 2,
        status: 'PARTIALLY_FILLED',
        ts: 127,
        venueTs: 122,
      },
    ])
    // the rest of the order is now at the front of the queue
    expect(venue.order('b1')).toMatchObject({front: 0, filled: 3})
    expect(venue.position).toBe(3)
  })

  it('only trades whose aggressor hits our side count (a buy-aggressor trade at our bid price does not)', () => {
    const {venue, sendAt} = setup()
    sendAt(100, place('b1', 'BUY', '1999.99', '0.005'))
    venue.advanceTo(110)
    venue.onMarket(trade(120, 'buy', '1999.99', '0.004'))
    expect(venue.order('b1')?.front).toBe(10)
  })

  it('a partial fill is limited by the trade size', () => {
    const {venue, sendAt, all} = setup()
    venue.onMarket(depth(50, [['1999.99', '0.002']], []))
    sendAt(100, place('b1', 'BUY', '1999.99', '0.010')) // front 2
    venue.advanceTo(110)
    all()
    venue.onMarket(trade(120, 'sell', '1999.99', '0.005')) // 2 ahead, 3 left for us
    venue.onMarket(trade(121, 'sell', '1999.99', '0.004')) // at the front: all 4
    venue.onMarket(trade(122, 'sell', '1999.99', '0.009')) // 3 remaining of 9
    expect(all().map((r) => (r.type === 'fill' ? [r.fill.qty, r.filled, r.leaves, r.status] : r.type))).toEqual([
      [3, 3, 7, 'PARTIALLY_FILLED'],
      [4, 7, 3, 'PARTIALLY_FILLED'],
      [3, 10, 0, 'FILLED'],
    ])
    expect(venue.orders()).toEqual([])
  })

  it('two of our orders at one price share one trade, oldest first', () => {
    const {venue, sendAt, all} = setup()
    venue.onMarket(depth(50, [['1999.99', '0']], []))
    sendAt(100, place('b1', 'BUY', '1999.99', '0.003'))
    sendAt(100, place('b2', 'BUY', '1999.99', '0.003'))
    venue.advanceTo(110)
    all()
    venue.onMarket(trade(120, 'sell', '1999.99', '0.004'))
    expect(all().map((r) => (r.type === 'fill' ? [r.clientOrderId, r.fill.qty] : r.type))).toEqual([['b1', 3], ['b2', 1]])
  })
})
