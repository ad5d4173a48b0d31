import {describe, expect, it} from 'vitest'
import {place, setup} from './helpers.js'

describe('reduce-only', () => {
  it('flat: any reduce-only order is rejected -2022', () => {
    const {venue, sendAt, all} = setup()
    sendAt(100, place('r1', 'SELL', '2000.05', '0.005', 'GTX', true))
    venue.advanceTo(110)
    expect(all()).toEqual([{type: 'reject', request: 'place', clientOrderId: 'r1', code: -2022, msg: 'ReduceOnly Order is rejected.', ts: 115, venueTs: 110}])
    expect(venue.orders()).toEqual([])
  })

  it('long: a reduce-only BUY would grow the position → -2022; a reduce-only SELL rests', () => {
    const {venue, sendAt, all} = setup({position: 5})
    sendAt(100, place('r1', 'BUY', '1999.90', '0.005', 'GTX', true))
    sendAt(100, place('r2', 'SELL', '2000.05', '0.005', 'GTX', true))
    venue.advanceTo(110)
    expect(all()).toMatchObject([{type: 'reject', clientOrderId: 'r1', code: -2022}, {type: 'ack', clientOrderId: 'r2', reduceOnly: true}])
  })

  it('the check uses the paper position at arrival, after earlier fills', () => {
    const {venue, sendAt, all} = setup()
    sendAt(100, place('i1', 'BUY', '2000.00', '0.005', 'IOC')) // +5 at 110
    sendAt(100, place('r1', 'SELL', '2000.05', '0.003', 'GTX', true))
    venue.advanceTo(110)
    expect(all()).toMatchObject([{type: 'ack', clientOrderId: 'i1'}, {type: 'fill'}, {type: 'ack', clientOrderId: 'r1'}])
  })

  it('a reduce-only IOC larger than the position fills only the position, the rest expires', () => {
    const {venue, sendAt, all} = setup({position: 5})
    sendAt(100, place('r1', 'SELL', '1999.98', '0.008', 'IOC', true))
    venue.advanceTo(110)
    expect(all()).toMatchObject([
      {type: 'ack'},
      {type: 'fill', fill: {qty: 5}, filled: 5, leaves: 3, status: 'PARTIALLY_FILLED'},
      {type: 'expired', clientOrderId: 'r1', filled: 5, reason: 'REDUCE_ONLY'},
    ])
    expect(venue.position).toBe(0)
  })

  it('a resting reduce-only order expires when other fills flatten the position', () => {
    const {venue, sendAt, all} = setup({position: 5})
    sendAt(100, place('r1', 'SELL', '2000.05', '0.005', 'GTX', true))
    sendAt(100, place('i1', 'SELL', '1999.99', '0.005', 'IOC'))
    venue.advanceTo(110)
    expect(all()).toMatchObject([
      {type: 'ack', clientOrderId: 'r1'},
      {type: 'ack', clientOrderId: 'i1'},
      {type: 'fill', clientOrderId: 'i1', status: 'FILLED'},
      {type: 'expired', clientOrderId: 'r1', filled: 0, reason: 'REDUCE_ONLY'},
    ])
    expect(venue.orders()).toEqual([])
  })
})
