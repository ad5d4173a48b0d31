import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {decide, prepareCore} from '../../src/lib/core/decide.js'
import type {ControlRequest} from '../../src/lib/risk/types.js'
import type {WorkingOrder} from '../../src/lib/domain/orders.js'
import {onlyReducing, reducingSide} from '../../src/lib/risk/reduce-only.js'
import {asWorking, book, coreCfg, INST, intent, pos, running} from './support.js'

const B = book(299995, 300005, {tsMs: 1000})

describe('4.4 reduce-only flow', () => {
  it('the reducing side is opposite the position; none when flat', () => {
    expect(reducingSide(5)).toBe('SELL')
    expect(reducingSide(-5)).toBe('BUY')
    expect(reducingSide(0)).toBeNull()
  })

  it('onlyReducing keeps the reducing side, forces reduceOnly, caps the total at |net| in layer priority', () => {
    const bid = intent({slot: 'dyn:BUY:0', side: 'BUY', price: 299990, qty: 10})
    const ask = intent({slot: 'dyn:SELL:0', side: 'SELL', price: 300010, qty: 10})
    const red = intent({slot: 'reduce:SELL:0', side: 'SELL', price: 300005, qty: 10, reduceOnly: true, layer: 'reduce'})
    expect(onlyReducing([bid, ask, red], 15)).toEqual({intents: [{...ask, qty: 5, reduceOnly: true}, red], dropped: [bid]})
    expect(onlyReducing([bid, ask], 0)).toEqual({intents: [], dropped: [bid, ask]})
    expect(onlyReducing([bid], -3)).toEqual({intents: [{...bid, qty: 3, reduceOnly: true}], dropped: []})
  })

  it('decide in reduce_only (net 30 = threshold): only a reduce-only SELL, the bid is cancelled', () => {
    const {ctx, state} = prepareCore(coreCfg(), INST, 'r')
    const w = [asWorking(intent({slot: 'dyn:BUY:0', side: 'BUY', price: 299990, qty: 10}), 'b')]
    const d = decide({...state, risk: running()}, {nowMs: 1000, book: B, position: pos(30, 300000), working: w}, ctx)
    expect(d.mode).toBe('reduce_only')
    expect(d.actions[0]).toEqual({type: 'cancel', clientOrderId: 'b', slot: 'dyn:BUY:0', reason: 'stray'})
    const places = d.actions.slice(1)
    expect(places).toHaveLength(1)
    expect(places[0]).toMatchObject({type: 'place', order: {slot: 'reduce:SELL:0', side: 'SELL', qty: 10, reduceOnly: true, layer: 'reduce', tif: 'GTX'}})
    // one step below the threshold: normal quoting on both sides again
    const d2 = decide(d.state, {nowMs: 1100, book: B, position: pos(29, 300000), working: []}, ctx)
    expect(d2.mode).toBe('normal')
    expect(d2.events.some((e) => e.type === 'risk_event' && e.kind === 'reduce_only_exit')).toBe(true)
    expect(d2.actions.filter((a) => a.type === 'place' && a.order.side === 'BUY')).toHaveLength(1)
  })

  it('a short in reduce_only only buys', () => {
    const {ctx, state} = prepareCore(coreCfg(), INST, 'r')
    const d = decide({...state, risk: running()}, {nowMs: 1000, book: B, position: pos(-31, 300000), working: []}, ctx)
    expect(d.actions.map((a) => a.type === 'place' && [a.order.side, a.order.reduceOnly])).toEqual([['BUY', true]])
  })

  it('property: in reduce_only and halted modes only reducing orders leave the core', () => {
    const arbW = fc.array(
      fc.record({slot: fc.constantFrom('dyn:BUY:0', 'dyn:SELL:0', 'reduce:SELL:0', 'reduce:BUY:0', 'flatten:SELL:0', 'x'), side: fc.constantFrom('BUY' as const, 'SELL' as const), price: fc.integer({min: 299950, max: 300050}), qty: fc.integer({min: 1, max: 40}), status: fc.constantFrom('NEW' as const, 'PENDING_CANCEL' as const, 'PENDING_NEW' as const)}),
      {maxLength: 4},
    )
    const arbControl = fc.constantFrom<ControlRequest[]>([], [{kind: 'halt'}], [{kind: 'flatten'}], [{kind: 'flatten', maxSlippagePct: 0.01}])
    fc.assert(
      fc.property(fc.integer({min: -100, max: 100}), fc.integer({min: 299800, max: 300200}), fc.integer({min: 1, max: 20}), arbW, arbControl, fc.constantFrom(-1, -50), fc.integer({min: 299000, max: 301000}), (net, bid, spread, ws, control, stopLoss, entry) => {
        const {ctx, state} = prepareCore(coreCfg({risk: {stopLoss}}), INST, 'q')
        const w: WorkingOrder[] = ws.map((x, i) => ({...x, tif: 'GTX', reduceOnly: false, layer: 'dynamic', filled: 0, clientOrderId: `w${i}`, sentAt: 0}))
        const d = decide({...state, risk: running()}, {nowMs: 1000, book: book(bid, bid + spread, {tsMs: 1000}), position: pos(net, entry), working: w, control}, ctx)
        if (d.mode === 'reduce_only' || d.mode === 'halted' || d.mode === 'paused') {
          let total = 0
          for (const a of d.actions) {
            if (a.type !== 'place') continue
            expect(d.mode).not.toBe('paused')
            expect(a.order.side).toBe(net > 0 ? 'SELL' : 'BUY')
            expect(a.order.reduceOnly).toBe(true)
            total += a.order.qty
          }
          expect(total).toBeLessThanOrEqual(Math.abs(net))
        }
        if (control.length > 0) expect(d.mode).toBe('halted')
      }),
      {numRuns: 2000},
    )
  })
})
