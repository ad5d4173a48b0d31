import {describe, expect, it} from 'vitest'
import type {Fill} from '../../src/lib/domain/orders.js'
import {initialStrategyState, onFill, onPostOnlyReject, quote} from '../../src/lib/strategy/index.js'
import {book, cfgOf, INST, inputOf, intent, workingOf} from './support.js'

// baseSize 0.02 = 20 steps; staticFraction 0.5 → static 10 + dynamic 10
const cfg = cfgOf({baseSize: '0.02', staticFraction: 0.5, staticTicks: 5}, {netMax: '0.2'})
const stat = (side: 'BUY' | 'SELL', price: number) => intent(`static:${side}:0`, price, 10)

describe('3.5 mixed layers: static + dynamic', () => {
  it('static layer: staticFraction × baseSize, post-only, same formula prices; dynamic carries the rest', () => {
    const r = quote(inputOf(book()), initialStrategyState(), cfg, INST)
    expect(r.intents).toEqual([intent('dyn:BUY:0', 9990, 10), intent('dyn:SELL:0', 10010, 10), stat('BUY', 9990), stat('SELL', 10010)])
  })

  it('static size is rounded down to the step; staticFraction 1 leaves no dynamic order', () => {
    const c = cfgOf({baseSize: '0.015', staticFraction: 0.5}, {netMax: '0.2'})
    expect(c.staticSizeSteps).toBe(7)
    expect(c.dynamicSizeSteps).toBe(8)
    const all = cfgOf({baseSize: '0.02', staticFraction: 1}, {netMax: '0.2'})
    expect(quote(inputOf(book()), initialStrategyState(), all, INST).intents.map((i) => i.slot)).toEqual(['static:BUY:0', 'static:SELL:0'])
  })

  it('static does not join: the dynamic layer joins, the static layer keeps the formula price', () => {
    const c = cfgOf({baseSize: '0.02', staticFraction: 0.5, joinEnabled: true}, {netMax: '0.2'})
    const r = quote(inputOf(book()), initialStrategyState(), c, INST)
    expect(r.intents.map((i) => [i.slot, i.price])).toEqual([['dyn:BUY:0', 9996], ['dyn:SELL:0', 10004], ['static:BUY:0', 9990], ['static:SELL:0', 10010]])
  })

  it('a working static order off by ≤ staticTicks is kept; by staticTicks + 1 it is replaced', () => {
    const keep = quote(inputOf(book(), {working: [workingOf(stat('BUY', 9985)), workingOf(stat('SELL', 10015))]}), initialStrategyState(), cfg, INST)
    expect(keep.intents.slice(2)).toEqual([stat('BUY', 9985), stat('SELL', 10015)])
    const repl = quote(inputOf(book(), {working: [workingOf(stat('BUY', 9984)), workingOf(stat('SELL', 10016))]}), initialStrategyState(), cfg, INST)
    expect(repl.intents.slice(2)).toEqual([stat('BUY', 9990), stat('SELL', 10010)])
  })

  it('a kept static order keeps its original size while partly filled', () => {
    const r = quote(inputOf(book(), {working: [workingOf(stat('BUY', 9987), {filled: 4, status: 'PARTIALLY_FILLED'})]}), initialStrategyState(), cfg, INST)
    expect(r.intents[2]).toEqual(stat('BUY', 9987))
  })

  it('a static order that would sit at or beyond our own ask is replaced even within staticTicks', () => {
    const c = cfgOf({baseSize: '0.02', staticFraction: 0.5, staticTicks: 20, joinEnabled: true}, {netMax: '0.2'})
    // dynamic ask joins at 10004; a working static bid at 10004 (14 ticks off) would meet it
    const r = quote(inputOf(book(), {working: [workingOf(stat('BUY', 10004))]}), initialStrategyState(), c, INST)
    expect(r.intents.find((i) => i.slot === 'static:BUY:0')).toEqual(stat('BUY', 9990))
    const ok = quote(inputOf(book(), {working: [workingOf(stat('BUY', 10003))]}), initialStrategyState(), c, INST)
    expect(ok.intents.find((i) => i.slot === 'static:BUY:0')).toEqual(stat('BUY', 10003))
  })

  it('static orders are cancelled (not wanted) in reduce-only, halted and paused', () => {
    const w = [workingOf(stat('BUY', 9990)), workingOf(stat('SELL', 10010))]
    const ro = quote(inputOf(book(), {riskMode: 'reduce_only', position: {net: 70, avgCost: 10100}, working: w}), initialStrategyState(), cfg, INST)
    expect(ro.intents.map((i) => i.slot)).toEqual(['reduce:SELL:0'])
    for (const riskMode of ['halted', 'paused'] as const) {
      expect(quote(inputOf(book(), {riskMode, working: w}), initialStrategyState(), cfg, INST).intents).toEqual([])
    }
  })

  it('a static order that cannot meet min notional is dropped with an event', () => {
    // baseSize 0.01, staticFraction 0.2 → static 2 steps × 999.0 < 5
    const c = cfgOf({staticFraction: 0.2})
    const r = quote(inputOf(book()), initialStrategyState(), c, INST)
    expect(r.intents.map((i) => i.slot)).toEqual(['dyn:BUY:0', 'dyn:SELL:0'])
    expect(r.events[0]).toMatchObject({
      reason: 'order_dropped',
      dropped: [
        {slot: 'static:BUY:0', price: 9990, qty: 2, why: 'below minQty or minNotional at this price'},
        {slot: 'static:SELL:0', price: 10010, qty: 2, why: 'below minQty or minNotional at this price'},
      ],
    })
  })
})

describe('3.5 degrade mode', () => {
  const c = cfgOf({baseSize: '0.02', staticFraction: 0.5, degradeMs: 2000, instantRetry: false}, {netMax: '0.2'})
  const rejected = intent('dyn:BUY:0', 9990, 10)

  it('after a -5022 the side quotes a plain GTC limit at the backed-off price for degradeMs; the static layer stays post-only', () => {
    const s = onPostOnlyReject(initialStrategyState(), rejected, 0, c).state
    expect(s.buy.degradeUntil).toBe(2000)
    const during = quote(inputOf(book(), {nowMs: 1999}), s, c, INST)
    expect(during.intents).toEqual([intent('dyn:BUY:0', 9989, 10, {tif: 'GTC'}), intent('dyn:SELL:0', 10010, 10), stat('BUY', 9989), stat('SELL', 10010)])
    expect(during.events[0]).toMatchObject({bidTif: 'GTC', askTif: 'GTX', backoffTicks: {buy: 1, sell: 0}})
    const after = quote(inputOf(book(), {nowMs: 2000}), during.state, c, INST)
    expect(after.intents[0]).toEqual(intent('dyn:BUY:0', 9989, 10))
  })

  it('a fill on the degraded side returns it to maker at once', () => {
    const s = onPostOnlyReject(initialStrategyState(), rejected, 0, c).state
    const fill: Fill = {clientOrderId: 'x', side: 'BUY', price: 9989, qty: 10, maker: true, fee: '0', ts: 500, tradeId: 't'}
    const f = onFill(s, fill, 500, c)
    expect(f.events).toEqual([{type: 'strategy_adjust', ts: 500, reason: 'degrade_off', side: 'BUY', detail: 'filled: back to post-only'}])
    expect(quote(inputOf(book(), {nowMs: 600, position: {net: 10, avgCost: 9989}}), f.state, c, INST).intents[0].tif).toBe('GTX')
  })

  it('degradeMs 0: never degraded', () => {
    const c0 = cfgOf({degradeMs: 0})
    const s = onPostOnlyReject(initialStrategyState(), rejected, 0, c0).state
    expect(quote(inputOf(book(), {nowMs: 1}), s, c0, INST).intents[0]).toEqual(intent('dyn:BUY:0', 9989, 10))
  })
})

describe('3.5 instant retry', () => {
  it('a rejected dynamic post-only order is retried once at the same price as GTC (default on)', () => {
    const r = onPostOnlyReject(initialStrategyState(), intent('dyn:SELL:0', 10004, 10), 0, cfgOf())
    expect(r.intents).toEqual([intent('dyn:SELL:0', 10004, 10, {tif: 'GTC'})])
    expect(r.events[0].detail).toBe('dyn:SELL:0 at 10004 rejected as post-only (1 counted); degraded to GTC until 2000; instant retry as GTC at the same price')
  })

  it('a resting reduce-only order is retried with its reduce-only flag', () => {
    const r = onPostOnlyReject(initialStrategyState(), intent('reduce:SELL:0', 10004, 10), 0, cfgOf())
    expect(r.intents).toEqual([intent('reduce:SELL:0', 10004, 10, {tif: 'GTC', reduceOnly: true})])
  })

  it('no retry when instantRetry is false, for the static layer, or for an order that was not post-only', () => {
    expect(onPostOnlyReject(initialStrategyState(), intent('dyn:SELL:0', 10004, 10), 0, cfgOf({instantRetry: false})).intents).toEqual([])
    expect(onPostOnlyReject(initialStrategyState(), intent('static:SELL:0', 10004, 10), 0, cfgOf()).intents).toEqual([])
    expect(onPostOnlyReject(initialStrategyState(), intent('dyn:SELL:0', 10004, 10, {tif: 'GTC'}), 0, cfgOf()).intents).toEqual([])
  })
})
