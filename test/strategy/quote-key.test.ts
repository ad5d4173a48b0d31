import {describe, expect, it} from 'vitest'
import type {OrderIntent} from '../../src/lib/domain/orders.js'
import {quoteKey} from '../../src/lib/strategy/v2.js'
import type {SideMode} from '../../src/lib/strategy/types.js'

// the state's lastKey: the same bytes JSON.stringify writes for the same values
const json = (riskMode: string, intents: OrderIntent[], modes: Record<'BUY' | 'SELL', SideMode>, bo: {BUY: number; SELL: number}, dropped: Array<{slot: string}>, blocked?: {buy?: string; sell?: string}) =>
  JSON.stringify([riskMode, intents.map((i) => [i.slot, i.price, i.qty, i.tif, i.reduceOnly]), modes, bo, dropped.map((d) => d.slot), blocked ?? null])

const intent = (slot: string, side: 'BUY' | 'SELL', price: number, qty: number, tif: OrderIntent['tif'] = 'GTX', reduceOnly = false): OrderIntent => ({slot, side, price, qty, tif, reduceOnly, layer: 'dynamic'})

describe('quoteKey', () => {
  const cases: Array<Parameters<typeof json>> = [
    ['normal', [], {BUY: 'none', SELL: 'none'}, {BUY: 0, SELL: 0}, []],
    ['normal', [intent('dyn:BUY:0', 'BUY', 342517, 40), intent('dyn:SELL:0', 'SELL', 342530, 40), intent('static:BUY:0', 'BUY', 342400, 40), intent('static:SELL:0', 'SELL', 342650, 40)], {BUY: 'join', SELL: 'formula'}, {BUY: 0, SELL: 2}, []],
    ['reduce_only', [intent('reduce:SELL:0', 'SELL', 1, 7, 'GTC', true)], {BUY: 'none', SELL: 'take_profit'}, {BUY: 3, SELL: 0}, [{slot: 'dyn:BUY:0'}, {slot: 'x:y'}], {buy: 'net_fraction'}],
    ['normal', [intent('reduce:BUY:1', 'BUY', 0, 1, 'IOC', true)], {BUY: 'reduce_ioc', SELL: 'formula'}, {BUY: 0, SELL: 0}, [], {sell: 'cooldown'}],
    ['normal', [], {BUY: 'formula', SELL: 'formula'}, {BUY: 1, SELL: 1}, [], {buy: 'backoff', sell: 'fill_cooldown'}],
    ['normal', [], {BUY: 'formula', SELL: 'formula'}, {BUY: 1, SELL: 1}, [], {sell: 'fill_cooldown', buy: 'backoff'}],
    ['normal', [], {BUY: 'formula', SELL: 'formula'}, {BUY: 1, SELL: 1}, [], {buy: undefined, sell: 'backoff'}],
    ['normal', [], {BUY: 'formula', SELL: 'formula'}, {BUY: 0, SELL: 0}, [], {}],
    // what JSON writes its own way: escapes, -0, non-finite numbers, large and fractional numbers
    ['normal', [intent('we"ird\\slot', 'BUY', 5, 1)], {BUY: 'formula', SELL: 'formula'}, {BUY: 0, SELL: 0}, []],
    ['normal', [intent('dyn:BUY:0', 'BUY', -0, 1e21), intent('dyn:SELL:0', 'SELL', 12.5, 3)], {BUY: 'formula', SELL: 'formula'}, {BUY: -0, SELL: 0}, []],
    ['normal', [intent('dyn:BUY:0', 'BUY', Number.NaN, 1)], {BUY: 'formula', SELL: 'formula'}, {BUY: Number.POSITIVE_INFINITY, SELL: 0}, []],
    ['off:paused é', [], {BUY: 'none', SELL: 'none'}, {BUY: 0, SELL: 0}, [{slot: 'a b'}]],
  ]
  it.each(cases.map((c, i) => [i, c] as const))('case %i: the same bytes as JSON.stringify', (_i, c) => {
    const [riskMode, intents, modes, bo, dropped, blocked] = c
    expect(quoteKey(riskMode, intents, modes, bo, dropped, blocked as never)).toBe(json(...c))
  })
})
