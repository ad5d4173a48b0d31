import {describe, expect, it} from 'vitest'
import {depth, place, px, setup} from './helpers.js'

describe('the opposite best reaching the order price fills it (book crossed it)', () => {
  it('best ask falls to a resting bid: full maker fill at the bid price', () => {
    const {venue, sendAt, all} = setup()
    sendAt(100, place('b1', 'BUY', '1999.98', '0.005'))
    venue.advanceTo(110)
    all()
    // ask moves down to 1999.99: not yet our price
    venue.onMarket(depth(120, [['1999.99', '0']], [['1999.99', '0.004']]))
    expect(all()).toEqual([])
    // ask reaches 1999.98
    venue.onMarket(depth(130, [['1999.98', '0']], [['1999.98', '0.001']]))
    expect(all()).toMatchObject([{type: 'fill', fill: {price: px('1999.98'), qty: 5, maker: true, fee: '0.00199998'}, status: 'FILLED', venueTs: 130}])
  })

  it('best bid rises through a resting ask (snapshot after a resync counts too)', () => {
    const {venue, sendAt, all} = setup()
    sendAt(100, place('a1', 'SELL', '2000.02', '0.005'))
    venue.advanceTo(110)
    all()
    venue.onMarket({kind: 'snapshot', symbol: 'ETHUSDC', ts: 140_000, localTs: 140_000, bids: [['2000.03', '0.001']], asks: [['2000.04', '0.001']]})
    expect(all()).toMatchObject([{type: 'fill', fill: {side: 'SELL', price: px('2000.02'), qty: 5, maker: true}, status: 'FILLED'}])
  })

  it('GTC that crosses on arrival: takes as taker, rests the rest, not re-filled by the levels it took', () => {
    const {venue, sendAt, all} = setup()
    sendAt(100, place('g1', 'BUY', '2000.00', '0.008', 'GTC'))
    venue.advanceTo(110)
    expect(all()).toMatchObject([{type: 'ack'}, {type: 'fill', fill: {price: px('2000.00'), qty: 5, maker: false}, leaves: 3}])
    expect(venue.order('g1')).toMatchObject({filled: 5, front: 0})
    venue.onMarket(depth(120, [], [['2000.00', '0.006']])) // replay still shows the ask at our price
    expect(all()).toEqual([])
    venue.onMarket(depth(130, [], [['2000.00', '0']])) // the ask leaves: no longer crossing
    venue.onMarket(depth(140, [], [['2000.00', '0.002']])) // a new ask reaches our price
    expect(all()).toMatchObject([{type: 'fill', fill: {qty: 3, maker: true}, status: 'FILLED'}])
  })
})
