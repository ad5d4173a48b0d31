/**
 * PERCENT_PRICE in the core: live, the venue adapter knows the band of the mark (a BUY no
 * higher than mark × multiplierUp rounded down, a SELL no lower than mark × multiplierDown
 * rounded up) and hands it to `decide` through VenueRisk. Every order intent is clamped to
 * it before reconcile (decideStart and decideRequested): a reduce IOC the book's walk put
 * below the floor goes out at the floor (it was refused locally, -4024, every decision,
 * and the position in reduce_only never shrank). A clamp only makes an order less aggressive.
 */
import {describe, expect, it} from 'vitest'
import {clampToBand, decide, decideRequested, prepareCore} from '../../src/lib/core/decide.js'
import type {OrderIntent} from '../../src/lib/domain/orders.js'
import type {VenueRisk} from '../../src/lib/risk/types.js'
import {book, coreCfg, INST, intent, pos, running} from '../risk/support.js'

const B = book(299995, 300005, {tsMs: 1000})
const band = (maxBuyTicks: number | null | undefined, minSellTicks: number | null | undefined): VenueRisk => ({maxBuyTicks, minSellTicks})

describe('clampToBand (PERCENT_PRICE of the mark)', () => {
  const bid = intent({slot: 'dyn:BUY:0', side: 'BUY', price: 300010, qty: 10})
  const ask = intent({slot: 'dyn:SELL:0', side: 'SELL', price: 299990, qty: 10})
  const inside: OrderIntent[] = [intent({slot: 'dyn:BUY:0', side: 'BUY', price: 299995, qty: 10}), intent({slot: 'dyn:SELL:0', side: 'SELL', price: 300005, qty: 10})]

  it('a BUY above the cap is priced at the cap, a SELL below the floor at the floor (exact ticks), the rest as they are', () => {
    expect(clampToBand([bid, ask], band(300007, 299993))).toEqual([{...bid, price: 300007}, {...ask, price: 299993}])
    expect(clampToBand([inside[0], ask], band(300007, 299993))).toEqual([inside[0], {...ask, price: 299993}])
    // a price at the edge stays
    expect(clampToBand([bid], band(300010, 0))).toEqual([bid])
  })

  it('nothing outside the band, or no band known: the very same array (no allocation)', () => {
    expect(clampToBand(inside, band(300007, 299993))).toBe(inside)
    for (const v of [undefined, {}, band(null, null), band(Number.POSITIVE_INFINITY, 0), band(0, 0), band(Number.NaN, Number.NaN)]) {
      const xs = [bid, ask]
      expect(clampToBand(xs, v)).toBe(xs)
    }
  })
})

describe('decide clamps its orders to the PERCENT_PRICE band', () => {
  it('reduce_only, long 31 steps, floor 300008 above the reducing SELL: the SELL is placed at the floor', () => {
    const {ctx, state} = prepareCore(coreCfg(), INST, 'p')
    const free = decide({...state, risk: running()}, {nowMs: 1000, book: B, position: pos(31, 300000), working: []}, ctx)
    expect(free.mode).toBe('reduce_only')
    const sells = free.actions.filter((a) => a.type === 'place' && a.order.side === 'SELL')
    expect(sells.map((a) => a.type === 'place' && a.order.price)).toEqual([300004])
    const d = decide({...state, risk: running()}, {nowMs: 1000, book: B, position: pos(31, 300000), working: [], venue: band(300020, 300008)}, ctx)
    expect(d.actions.map((a) => a.type === 'place' && [a.order.slot, a.order.side, a.order.price, a.order.qty, a.order.reduceOnly])).toEqual([['reduce:SELL:0', 'SELL', 300008, 10, true]])
  })

  it('normal mode: a bid above the cap is placed at the cap, the ask inside the band untouched', () => {
    const {ctx, state} = prepareCore(coreCfg(), INST, 'p')
    const free = decide({...state, risk: running()}, {nowMs: 1000, book: B, position: pos(0), working: []}, ctx)
    const bids = free.actions.flatMap((a) => (a.type === 'place' && a.order.side === 'BUY' ? [a.order.price] : []))
    const asks = free.actions.flatMap((a) => (a.type === 'place' && a.order.side === 'SELL' ? [a.order.price] : []))
    expect(bids.length).toBeGreaterThan(0)
    const cap = Math.min(...bids) - 1
    const d = decide({...state, risk: running()}, {nowMs: 1000, book: B, position: pos(0), working: [], venue: band(cap, 1)}, ctx)
    expect(d.actions.flatMap((a) => (a.type === 'place' && a.order.side === 'BUY' ? [a.order.price] : []))).toEqual(bids.map(() => cap))
    expect(d.actions.flatMap((a) => (a.type === 'place' && a.order.side === 'SELL' ? [a.order.price] : []))).toEqual(asks)
  })

  it('decideRequested (the instant post-only retry): a BUY above the cap is placed at the cap', () => {
    const {ctx, state} = prepareCore(coreCfg(), INST, 'p')
    const retry: OrderIntent = {slot: 'dyn:BUY:0', side: 'BUY', price: 299994, qty: 10, tif: 'GTC', reduceOnly: false, layer: 'dynamic'}
    const d = decideRequested({...state, risk: running()}, {nowMs: 1000, book: B, position: pos(0), working: [], venue: band(299990, 1)}, [retry], ctx)
    expect(d.actions).toEqual([{type: 'place', clientOrderId: 'mm-p-dyn:BUY:0-0', order: {...retry, price: 299990}}])
  })
})
