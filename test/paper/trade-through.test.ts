import {describe, expect, it} from 'vitest'
import {place, px, setup, trade} from './helpers.js'

describe('a trade through the order price fills it completely, as maker at its own price', () => {
  it('sell trade below a resting bid', () => {
    const {venue, sendAt, all} = setup()
    sendAt(100, place('b1', 'BUY', '1999.98', '0.005')) // front 20
    venue.advanceTo(110)
    all()
    venue.onMarket(trade(120, 'sell', '1999.97', '0.001'))
    expect(all()).toMatchObject([{type: 'fill', fill: {price: px('1999.98'), qty: 5, maker: true}, filled: 5, leaves: 0, status: 'FILLED', venueTs: 120, ts: 125}])
    expect(venue.orders()).toEqual([])
    expect(venue.position).toBe(5)
  })

  it('buy trade above a resting ask; a trade at a worse price leaves it alone', () => {
    const {venue, sendAt, all} = setup()
    sendAt(100, place('a1', 'SELL', '2000.02', '0.005')) // front 50
    venue.advanceTo(110)
    all()
    venue.onMarket(trade(120, 'buy', '2000.01', '0.100'))
    expect(all()).toEqual([])
    venue.onMarket(trade(121, 'buy', '2000.03', '0.001'))
    expect(all()).toMatchObject([{type: 'fill', fill: {side: 'SELL', price: px('2000.02'), qty: 5, maker: true}, status: 'FILLED'}])
    expect(venue.position).toBe(-5)
  })
})
