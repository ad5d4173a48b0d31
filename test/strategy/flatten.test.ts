/** mm flatten's round planning (issue 9): depth within the hard cap, split, residual. */
import {describe, expect, it} from 'vitest'
import {Instrument} from '../../src/lib/domain/instrument.js'
import {afterRound, levelsBook, planFlattenRound} from '../../src/lib/strategy/flatten.js'

// tick 0.01, step 0.001, min qty 0.002, max order 0.010 (10 steps)
const INST = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.002', maxQty: '0.010', minNotional: '20'})
// mid = (9990 + 10010) / 2 = 10000 ticks (100.00)
const bids: Array<[number, number]> = [[9990, 3], [9980, 4], [9950, 100]]
const asks: Array<[number, number]> = [[10010, 2], [10020, 5], [10060, 100]]
const book = levelsBook(bids, asks)

describe('planFlattenRound', () => {
  const cases: Array<[string, number, number, {orders: Array<[string, number, number]>; cap: number | null; available: number; residual: number; why: string}]> = [
    ['flat: nothing', 0, 0.002, {orders: [], cap: null, available: 0, residual: 0, why: 'flat'}],
    // long 5: sell; cap = ceil(10000 × 0.998) = 9980; bids 3 @ 9990 + 2 of 4 @ 9980
    ['long within the cap: one IOC at the worst level needed', 5, 0.002, {orders: [['SELL', 9980, 5]], cap: 9980, available: 5, residual: 0, why: 'full_depth'}],
    // long 20: only 7 within 9980 → one IOC of 7, residual 13 (nothing is ever priced past the cap)
    ['long beyond the depth within the cap: the rest is the residual', 20, 0.002, {orders: [['SELL', 9980, 7]], cap: 9980, available: 7, residual: 13, why: 'partial_depth'}],
    // short 12: buy; cap = floor(10000 × 1.01) = 10100; 2 + 5 + 5 of 100 @ 10060 → 12, split by max order size 10
    // into near-equal pieces (6 + 6, not 10 + 2: a short last piece could fall under minQty)
    ['short, deep cap: split by the max order size', -12, 0.01, {orders: [['BUY', 10060, 6], ['BUY', 10060, 6]], cap: 10100, available: 12, residual: 0, why: 'full_depth'}],
    // short 11 with minQty 2, maxQty 10: 6 + 5 (10 + 1 would send 1, under minQty, which the venue refuses)
    ['a remainder under minQty is never a piece of its own', -11, 0.01, {orders: [['BUY', 10060, 6], ['BUY', 10060, 5]], cap: 10100, available: 11, residual: 0, why: 'full_depth'}],
    // cap 0.00001: 9999.9 → ceil 10000 > best bid: nothing within the cap
    ['a cap tighter than the spread: nothing sent, all residual', 5, 0.00001, {orders: [], cap: 10000, available: 0, residual: 5, why: 'no_depth_within_cap'}],
    ['below min qty: cannot be closed by an order', 1, 0.002, {orders: [], cap: 9980, available: 0, residual: 1, why: 'below_min_qty'}],
  ]
  it.each(cases)('%s', (_n, net, slip, want) => {
    const p = planFlattenRound(book, net, slip, INST)
    expect(p.orders.map((o) => [o.side, o.price, o.qty])).toEqual(want.orders)
    expect(p.capTicks).toBe(want.cap)
    expect(p.available).toBe(want.available)
    expect(p.residual).toBe(want.residual)
    expect(p.why).toBe(want.why)
    // the hard cap: no order beyond it
    for (const o of p.orders) expect(o.side === 'SELL' ? o.price >= (p.capTicks as number) : o.price <= (p.capTicks as number)).toBe(true)
  })

  it('expected VWAP and slippage come from the depth estimate', () => {
    const p = planFlattenRound(book, 5, 0.002, INST)
    // (3 × 9990 + 2 × 9980) / 5 = 9986
    expect(p.expectedPrice).toBe(9986)
    expect(p.expectedSlippage).toBeCloseTo(14 / 10000, 12)
  })

  // SPEC §3.4 with the venue's PERCENT_PRICE band: the round's limit is the nearer of the
  // slippage cap and the band's edge. Before, the plan walked to the cap and only the price
  // was moved to the band afterwards: `available`, the quantity and the VWAP counted levels
  // the IOC could never reach (the dry run said 7 available where the band held 3).
  const bandCases: Array<[string, number, number, {minSell: number; maxBuy: number}, {orders: Array<[string, number, number]>; cap: number; bandLimited: boolean; available: number; expectedPrice: number | null; residual: number; why: string}]> = [
    // long 20, cap 9980, band floor 9985: only the 3 @ 9990 are inside it
    ['a SELL floor above the cap: the band limits the round', 20, 0.002, {minSell: 9985, maxBuy: 10015}, {orders: [['SELL', 9990, 3]], cap: 9985, bandLimited: true, available: 3, expectedPrice: 9990, residual: 17, why: 'partial_depth'}],
    // the floor below the cap: the cap limits, as without a band
    ['a SELL floor below the cap: the cap limits', 20, 0.002, {minSell: 9900, maxBuy: 10100}, {orders: [['SELL', 9980, 7]], cap: 9980, bandLimited: false, available: 7, expectedPrice: (3 * 9990 + 4 * 9980) / 7, residual: 13, why: 'partial_depth'}],
    // short 12, cap 10100, band cap 10030: 2 @ 10010 + 5 @ 10020
    ['a BUY cap below the slippage cap: the band limits the round', -12, 0.01, {minSell: 9970, maxBuy: 10030}, {orders: [['BUY', 10020, 7]], cap: 10030, bandLimited: true, available: 7, expectedPrice: (2 * 10010 + 5 * 10020) / 7, residual: 5, why: 'partial_depth'}],
    // the band's floor above the best bid: nothing can be sent
    ['a SELL floor above the best bid: nothing within the band', 5, 0.002, {minSell: 9995, maxBuy: 10005}, {orders: [], cap: 9995, bandLimited: true, available: 0, expectedPrice: null, residual: 5, why: 'no_depth_within_cap'}],
  ]
  it.each(bandCases)('PERCENT_PRICE: %s', (_n, net, slip, band, want) => {
    const p = planFlattenRound(book, net, slip, INST, band)
    expect(p.orders.map((o) => [o.side, o.price, o.qty])).toEqual(want.orders)
    expect([p.capTicks, p.bandLimited, p.available, p.expectedPrice, p.residual, p.why]).toEqual([want.cap, want.bandLimited, want.available, want.expectedPrice, want.residual, want.why])
    for (const o of p.orders) expect(o.side === 'SELL' ? o.price >= band.minSell : o.price <= band.maxBuy).toBe(true)
  })

  it('a one-sided or empty book: no_book, all residual', () => {
    const p = planFlattenRound(levelsBook(bids, []), 5, 0.002, INST)
    expect(p).toMatchObject({why: 'no_book', orders: [], residual: 5})
  })
})

describe('afterRound', () => {
  const plan = planFlattenRound(book, 20, 0.002, INST)
  const cases: Array<[string, number, number, {filled: number; venueError?: string}, unknown]> = [
    ['flat → exit 0', 0, 1, {filled: 7}, {done: true, exit: 0, why: 'flat'}],
    ['a venue error → exit 1', 13, 1, {filled: 0, venueError: '-1001'}, {done: true, exit: 1, why: 'venue_error'}],
    ['rounds exhausted with a residual → exit 3', 13, 5, {filled: 7}, {done: true, exit: 3, why: 'rounds_exhausted'}],
    ['rounds left → go on', 13, 2, {filled: 7}, {done: false}],
  ]
  it.each(cases)('%s', (_n, net, round, res, want) => {
    expect(afterRound(net, round, 5, plan, res)).toEqual(want)
  })
})
