import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {type CoreState, decide, type DecideInput, prepareCore} from '../../src/lib/core/decide.js'
import type {OrderAction, WorkingOrder} from '../../src/lib/domain/orders.js'
import {book, coreCfg, FakeBook, INST, pos, running} from '../risk/support.js'

/** The venue acknowledges everything: cancels remove, places rest as NEW. */
function apply(working: readonly WorkingOrder[], acts: OrderAction[]): WorkingOrder[] {
  const gone = new Set(acts.flatMap((a) => (a.type === 'cancel' ? [a.clientOrderId] : [])))
  const out = working.filter((w) => !gone.has(w.clientOrderId))
  for (const a of acts) if (a.type === 'place' && a.order.tif !== 'IOC') out.push({...a.order, clientOrderId: a.clientOrderId, filled: 0, status: 'NEW', sentAt: 0})
  return out
}

const B = book(299995, 300005, {tsMs: 1000})

describe('decide: the pure step the engine calls', () => {
  const table: Array<{name: string; input: Partial<DecideInput>; cfg?: Parameters<typeof coreCfg>[0]; mode: string; places: Array<[string, string, boolean, string]>}> = [
    {name: 'flat, normal: a post-only quote each side', input: {}, mode: 'normal', places: [['dyn:BUY:0', 'BUY', false, 'GTX'], ['dyn:SELL:0', 'SELL', false, 'GTX']]},
    {name: 'static layer on: dynamic and static each side', input: {}, cfg: {strategy: {staticFraction: 0.5}}, mode: 'normal', places: [['dyn:BUY:0', 'BUY', false, 'GTX'], ['dyn:SELL:0', 'SELL', false, 'GTX'], ['static:BUY:0', 'BUY', false, 'GTX'], ['static:SELL:0', 'SELL', false, 'GTX']]},
    {name: 'long at the threshold: reduce-only sell only', input: {position: pos(30)}, mode: 'reduce_only', places: [['reduce:SELL:0', 'SELL', true, 'GTX']]},
    {name: 'stale book: nothing', input: {nowMs: 6000}, mode: 'paused', places: []},
    {name: 'book not ready: nothing', input: {book: new FakeBook({ready: false})}, mode: 'paused', places: []},
    {name: 'manual halt: nothing', input: {control: [{kind: 'halt'}]}, mode: 'halted', places: []},
    {name: 'naive baseline at 90 steps: still both sides (no reduce-only), the bid capped by netMax', input: {position: pos(90)}, cfg: {strategy: {kind: 'naive'}}, mode: 'normal', places: [['dyn:BUY:0', 'BUY', false, 'GTX'], ['dyn:SELL:0', 'SELL', false, 'GTX']]},
  ]
  it.each(table)('$name', ({input, cfg, mode, places}) => {
    const {ctx, state} = prepareCore(coreCfg(cfg), INST, 'c')
    const d = decide({...state, risk: running()}, {nowMs: 1000, book: B, position: pos(0), working: [], ...input}, ctx)
    expect(d.mode).toBe(mode)
    expect(d.actions.map((a) => a.type === 'place' && [a.order.slot, a.order.side, a.order.reduceOnly, a.order.tif])).toEqual(places)
  })

  it('the naive baseline is cut by netMax: 90 + 10 fits, 95 + 10 does not', () => {
    const {ctx, state} = prepareCore(coreCfg({strategy: {kind: 'naive'}}), INST, 'c')
    const d = decide({...state, risk: running()}, {nowMs: 1000, book: B, position: pos(95), working: []}, ctx)
    expect(d.actions.map((a) => a.type === 'place' && [a.order.side, a.order.qty])).toEqual([['BUY', 5], ['SELL', 10]])
    expect(d.events.some((e) => e.type === 'risk_event' && e.kind === 'net_max')).toBe(true)
  })

  it('client ids advance in the returned state; the input state is untouched', () => {
    const {ctx, state} = prepareCore(coreCfg(), INST, 'c')
    const s0: CoreState = {...state, risk: running()}
    const d = decide(s0, {nowMs: 1000, book: B, position: pos(0), working: []}, ctx)
    expect(d.actions.map((a) => a.clientOrderId)).toEqual(['mm-c-dyn:BUY:0-0', 'mm-c-dyn:SELL:0-0'])
    expect(d.state.ids.seq).toEqual({'dyn:BUY:0': 1, 'dyn:SELL:0': 1})
    expect(s0.ids.seq).toEqual({})
    // same input, same output (deterministic)
    expect(decide(s0, {nowMs: 1000, book: B, position: pos(0), working: []}, ctx)).toEqual(d)
  })

  it('nextWakeMs is the earliest of the strategy refresh and the risk deadlines', () => {
    const {ctx, state} = prepareCore(coreCfg({strategy: {baseInterval: 500}}), INST, 'c')
    const d = decide({...state, risk: running()}, {nowMs: 1000, book: B, position: pos(0), working: []}, ctx)
    expect(d.nextWakeMs).toBe(1500)
    const {ctx: ctx2, state: s2} = prepareCore(coreCfg({strategy: {baseInterval: 60_000}}), INST, 'c')
    expect(decide({...s2, risk: running()}, {nowMs: 1000, book: B, position: pos(0), working: []}, ctx2).nextWakeMs).toBe(2000)
  })

  it('a re-priced quote is cancelled first and placed once the cancel is acknowledged', () => {
    const {ctx, state} = prepareCore(coreCfg(), INST, 'c')
    const d1 = decide({...state, risk: running()}, {nowMs: 1000, book: B, position: pos(0), working: []}, ctx)
    const w1 = apply([], d1.actions)
    const moved = book(299985, 299995, {tsMs: 1100})
    const d2 = decide(d1.state, {nowMs: 1100, book: moved, position: pos(0), working: w1}, ctx)
    expect(d2.actions.every((a) => a.type === 'cancel')).toBe(true)
    expect(d2.actions).toHaveLength(2)
    const d3 = decide(d2.state, {nowMs: 1110, book: moved, position: pos(0), working: apply(w1, d2.actions)}, ctx)
    expect(d3.actions.map((a) => a.type)).toEqual(['place', 'place'])
    expect(d3.actions.map((a) => a.clientOrderId)).toEqual(['mm-c-dyn:BUY:0-1', 'mm-c-dyn:SELL:0-1'])
  })

  it('property: with the book unchanged, decide reaches a fixed point (no actions) within two acknowledged rounds', () => {
    fc.assert(
      fc.property(fc.integer({min: -120, max: 120}), fc.integer({min: 299800, max: 300200}), fc.integer({min: 1, max: 20}), fc.constantFrom('v2' as const, 'naive' as const), fc.constantFrom(0, 0.5), (net, bid, spread, kind, staticFraction) => {
        const {ctx, state} = prepareCore(coreCfg({strategy: {kind, staticFraction}, risk: {reduceOnlyThreshold: 5}}), INST, 'f')
        const b = book(bid, bid + spread, {tsMs: 1000})
        let s: CoreState = {...state, risk: running()}
        let w: WorkingOrder[] = []
        for (let i = 0; i < 3; i++) {
          const d = decide(s, {nowMs: 1000 + i, book: b, position: pos(net), working: w}, ctx)
          s = d.state
          w = apply(w, d.actions)
        }
        const last = decide(s, {nowMs: 1003, book: b, position: pos(net), working: w}, ctx)
        expect(last.actions.filter((a) => !(a.type === 'place' && a.order.tif === 'IOC'))).toEqual([])
      }),
      {numRuns: 1500},
    )
  })
})
