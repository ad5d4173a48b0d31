import {describe, expect, it} from 'vitest'
import {cancel, depth, place, px, setup} from './helpers.js'

describe('arrival: GTX that would cross is rejected with -5022 and leaves no order', () => {
  it('buy GTX at the best ask', () => {
    const {venue, sendAt, all} = setup()
    sendAt(100, place('b1', 'BUY', '2000.00', '0.005'))
    venue.advanceTo(110)
    expect(all()).toEqual([
      {type: 'reject', request: 'place', clientOrderId: 'b1', code: -5022, msg: 'Due to the order could not be executed as maker, the Post Only order will be rejected.', ts: 115, venueTs: 110},
    ])
    expect(venue.orders()).toEqual([])
    // no order exists, so a cancel of it is unknown
    sendAt(120, cancel('b1'))
    venue.advanceTo(130)
    expect(all()).toMatchObject([{type: 'reject', request: 'cancel', clientOrderId: 'b1', code: -2011, ts: 135}])
  })

  it('sell GTX through the best bid', () => {
    const {venue, sendAt, all} = setup()
    sendAt(100, place('s1', 'SELL', '1999.98', '0.005'))
    venue.advanceTo(110)
    expect(all()).toMatchObject([{type: 'reject', clientOrderId: 's1', code: -5022}])
    expect(venue.orders()).toEqual([])
  })

  it('a GTX one tick inside the spread is acked and rests', () => {
    const {venue, sendAt, all} = setup({book: false})
    venue.onMarket(depth(1, [['1999.98', '0.010']], [['2000.00', '0.005']]))
    sendAt(100, place('b1', 'BUY', '1999.99', '0.005'))
    venue.advanceTo(110)
    expect(all()).toEqual([{type: 'ack', clientOrderId: 'b1', side: 'BUY', price: px('1999.99'), qty: 5, tif: 'GTX', reduceOnly: false, ts: 115, venueTs: 110}])
    expect(venue.orders()).toMatchObject([{clientOrderId: 'b1', front: 0, filled: 0}])
  })

  it('GTX on an empty book rests (nothing to cross)', () => {
    const {venue, sendAt, all, types} = setup({book: false})
    sendAt(100, place('b1', 'BUY', '2000.00', '0.005'))
    venue.advanceTo(110)
    expect(types(all())).toEqual(['ack'])
    expect(venue.orders()).toHaveLength(1)
  })
})

describe('arrival: filters', () => {
  it('rejects a notional under minNotional with -4164, a duplicate open id with -4116', () => {
    const {venue, sendAt, all} = setup()
    sendAt(100, place('tiny', 'BUY', '1999.99', '0.002')) // 3.99998 < 5
    sendAt(100, place('b1', 'BUY', '1999.99', '0.003'))
    sendAt(100, place('b1', 'BUY', '1999.98', '0.003'))
    venue.advanceTo(110)
    expect(all()).toMatchObject([
      {type: 'reject', clientOrderId: 'tiny', code: -4164},
      {type: 'ack', clientOrderId: 'b1', price: px('1999.99')},
      {type: 'reject', clientOrderId: 'b1', code: -4116},
    ])
    expect(venue.orders()).toMatchObject([{clientOrderId: 'b1', price: px('1999.99')}])
  })
})
