import {describe, expect, it} from 'vitest'
import {ConfigError} from '../../src/lib/domain/errors.js'
import {RateFees} from '../../src/lib/venue/paper/index.js'
import {inst, place, px, setup, trade} from './helpers.js'

describe('fees: exact decimal strings, maker on resting fills, taker on taking fills, negative = rebate', () => {
  it('RateFees: price × qty × rate with no rounding', () => {
    const f = new RateFees(inst, '0.0002', '0.0005')
    expect(f.fee(px('2000.00'), 5, true)).toBe('0.002')
    expect(f.fee(px('2000.00'), 5, false)).toBe('0.005')
    expect(f.fee(px('1999.99'), 3, true)).toBe('0.001199994')
    expect(f.fee(px('2000.01'), 7, false)).toBe('0.007000035')
    const big = new RateFees(inst, '0.00012345', '0.0005')
    expect(big.fee(px('98765.43'), 123_456_789, true)).toBe('1505258.2990799271315') // 98765.43 × 123456.789 × 0.00012345, checked with Python decimal
  })

  it('negative maker rate is a rebate; zero is "0"', () => {
    expect(new RateFees(inst, '-0.00005', '0.0004').fee(px('2000.00'), 5, true)).toBe('-0.0005')
    expect(new RateFees(inst, '0', '0').fee(px('2000.00'), 5, true)).toBe('0')
    expect(new RateFees(inst, '-0', '0').fee(px('2000.00'), 5, true)).toBe('0')
  })

  it('bad rates are a ConfigError', () => {
    expect(() => new RateFees(inst, '2bp', '0')).toThrow(ConfigError)
  })

  it('venue: resting fill pays the maker rebate, IOC pays taker', () => {
    const {venue, sendAt, all} = setup({config: {makerFeeRate: '-0.00005', takerFeeRate: '0.0004'}})
    sendAt(100, place('b1', 'BUY', '1999.97', '0.005'))
    sendAt(100, place('i1', 'BUY', '2000.00', '0.005', 'IOC'))
    venue.advanceTo(110)
    venue.onMarket(trade(120, 'sell', '1999.97', '0.005'))
    const fills = all().flatMap((r) => (r.type === 'fill' ? [[r.clientOrderId, r.fill.maker, r.fill.fee]] : []))
    expect(fills).toEqual([
      ['i1', false, '0.004'],
      ['b1', true, '-0.0004999925'], // 1999.97 × 0.005 × −0.00005
    ])
  })
})
