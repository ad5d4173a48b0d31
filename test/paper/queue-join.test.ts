import {describe, expect, it} from 'vitest'
import {Instrument} from '../../src/lib/domain/instrument.js'
import {ConservativeQueue, LevelBook, MatchingEngine, RateFees} from '../../src/lib/venue/paper/index.js'
import type {VenueReport} from '../../src/lib/venue/types.js'
import {depth, place, px, setup} from './helpers.js'

describe('queue join: a resting order starts behind the displayed quantity at its price', () => {
  it('front = displayed qty at the price on arrival, 0 on an empty level', () => {
    const {venue, sendAt} = setup()
    sendAt(100, place('b1', 'BUY', '1999.99', '0.005'))
    sendAt(100, place('b2', 'BUY', '1999.98', '0.005'))
    sendAt(100, place('b3', 'BUY', '1999.97', '0.005'))
    sendAt(100, place('a1', 'SELL', '2000.01', '0.005'))
    venue.advanceTo(110)
    expect(venue.orders().map((o) => [o.clientOrderId, o.front])).toEqual([['b1', 10], ['b2', 20], ['b3', 0], ['a1', 7]])
  })

  it('uses the level as it is when the order arrives, not when it was sent', () => {
    const {venue, sendAt} = setup()
    sendAt(100, place('b1', 'BUY', '1999.99', '0.005'))
    venue.onMarket(depth(105, [['1999.99', '0.012']], []))
    venue.advanceTo(110)
    expect(venue.order('b1')?.front).toBe(12)
  })

  it('the matching engine can be driven alone over a hand-built LevelBook', () => {
    const inst = new Instrument({symbol: 'X', tickSize: '1', stepSize: '1', minQty: '1', minNotional: '0'})
    const book = new LevelBook()
    book.set('bid', 99, 7)
    book.set('ask', 101, 3)
    const out: VenueReport[] = []
    const m = new MatchingEngine({inst, book, queue: new ConservativeQueue(), fees: new RateFees(inst, '0', '0'), emit: (r) => out.push(r)})
    m.place('o1', {slot: 's', side: 'BUY', price: 99, qty: 2, tif: 'GTX', reduceOnly: false, layer: 'dynamic'}, 0)
    expect(m.order('o1')?.front).toBe(7)
    expect(out.map((r) => r.type)).toEqual(['ack'])
    expect(px('1999.99')).toBe(199999)
  })
})
