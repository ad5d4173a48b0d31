import {describe, expect, it} from 'vitest'
import {decide, prepareCore} from '../../src/lib/core/decide.js'
import {COST_SCALE} from '../../src/lib/orders/position.js'
import {evaluateRisk} from '../../src/lib/risk/machine.js'
import {asWorking, book, coreCfg, INST, intent, limitsFor, pos, running} from './support.js'

// stopLoss −1 USDC = −100 000 tick·steps; a long of 100 steps from 3000.00 reaches it at mid 2990.00
const CFG = {risk: {stopLoss: -1}}
const L = limitsFor(CFG)
const P = pos(100, 300000)

describe('4.2 stop-loss', () => {
  it('converts stopLoss to position cost units once', () => {
    expect(L.stopLossUnits).toBe(-100_000n * COST_SCALE)
    expect(limitsFor({risk: {stopLoss: 0}}).stopLossUnits).toBeNull()
  })

  it('unrealised exactly at stopLoss does not trigger; half a tick of mid below does', () => {
    // mid 2990.00 → uPnL = −1000 ticks × 100 steps = −100 000 = stopLoss (not below)
    const at = evaluateRisk(running({reduceOnly: true, mode: 'reduce_only'}), {nowMs: 1000, book: book(298995, 299005, {tsMs: 1000}), position: P}, L)
    expect(at.mode).toBe('reduce_only')
    expect(at.events).toEqual([])
    // mid 2989.995 → uPnL −100 050
    const below = evaluateRisk(running({reduceOnly: true, mode: 'reduce_only'}), {nowMs: 1000, book: book(298994, 299005, {tsMs: 1000}), position: P}, L)
    expect(below.mode).toBe('halted')
    expect(below.state.halt).toEqual({reason: 'stop_loss', since: 1000, until: null, flatten: true})
    expect(below.events).toEqual([
      {type: 'risk_event', ts: 1000, kind: 'stop_loss', from: 'reduce_only', to: 'halted', values: {unrealisedUnits: (-100_050n * COST_SCALE).toString(), net: 100, mid: 298999.5}, thresholds: {stopLoss: -1, stopLossUnits: (-100_000n * COST_SCALE).toString()}},
    ])
    expect(below.state.counters.stopLoss).toBe(1)
  })

  it('a short is measured the other way; a flat position or stopLoss 0 never triggers', () => {
    const short = pos(-100, 300000)
    expect(evaluateRisk(running(), {nowMs: 1, book: book(300995, 301005, {tsMs: 1}), position: short}, L).mode).toBe('reduce_only')
    expect(evaluateRisk(running(), {nowMs: 1, book: book(300996, 301005, {tsMs: 1}), position: short}, L).mode).toBe('halted')
    expect(evaluateRisk(running(), {nowMs: 1, book: book(100000, 100010, {tsMs: 1}), position: pos(0)}, L).mode).toBe('normal')
    expect(evaluateRisk(running(), {nowMs: 1, book: book(100000, 100010, {tsMs: 1}), position: P}, limitsFor({risk: {stopLoss: 0}})).mode).toBe('reduce_only')
  })

  it('a manual halt on top of a stop-loss halt neither ends it nor gives it an expiry: only resume does', () => {
    const halted = evaluateRisk(running(), {nowMs: 1000, book: book(298994, 299005, {tsMs: 1000}), position: P}, L)
    expect(halted.state.halt?.reason).toBe('stop_loss')
    const manual = evaluateRisk(halted.state, {nowMs: 2000, book: book(298994, 299005, {tsMs: 2000}), position: pos(0), control: [{kind: 'halt', by: 'ops', untilMs: 3000}]}, L)
    expect(manual.state.halt).toMatchObject({reason: 'stop_loss', since: 1000, until: null})
    const later = evaluateRisk(manual.state, {nowMs: 10_000, book: book(298994, 299005, {tsMs: 10_000}), position: pos(0)}, L)
    expect(later.mode).toBe('halted')
    const resumed = evaluateRisk(later.state, {nowMs: 10_001, book: book(298994, 299005, {tsMs: 10_001}), position: pos(0), control: [{kind: 'resume', by: 'ops'}]}, L)
    expect(resumed.state.halt).toBeNull()
  })

  it('decide: cancel all, flatten with a reduce-only IOC priced from the book within the cap', () => {
    const {ctx, state} = prepareCore(coreCfg(CFG), INST, 's')
    const resting = [asWorking(intent({slot: 'reduce:SELL:0', side: 'SELL', price: 299100, qty: 10, layer: 'reduce', reduceOnly: true}), 'mm-s-r-0'), asWorking(intent({slot: 'static:BUY:0', side: 'BUY', price: 298000, qty: 5, layer: 'static'}), 'mm-s-b-0')]
    const d = decide({...state, risk: running({reduceOnly: true, mode: 'reduce_only'})}, {nowMs: 1000, book: book(298990, 299000, {tsMs: 1000, qty: 60}), position: P, working: resting}, ctx)
    expect(d.mode).toBe('halted')
    // bids 298990 ×60, 298989 ×60 … : 100 steps need two levels; cap = ceil(298995 × 0.998) = 298397
    expect(d.actions).toEqual([
      {type: 'cancel', clientOrderId: 'mm-s-r-0', slot: 'reduce:SELL:0', reason: 'stray'},
      {type: 'cancel', clientOrderId: 'mm-s-b-0', slot: 'static:BUY:0', reason: 'stray'},
      {type: 'place', clientOrderId: 'mm-s-flatten:SELL:0-0', order: {slot: 'flatten:SELL:0', side: 'SELL', price: 298989, qty: 100, tif: 'IOC', reduceOnly: true, layer: 'flatten'}},
    ])
    expect(d.events.some((e) => e.type === 'risk_event' && e.kind === 'stop_loss')).toBe(true)
    const adj = d.events.find((e) => e.type === 'strategy_adjust' && e.reason === 'reduce_ioc')
    expect(adj).toMatchObject({depthFillAvailable: 100, depthFillPrice: 298989.6})
    // the IOC in flight is never doubled
    const inflight = [asWorking(d.actions[2].type === 'place' ? d.actions[2].order : (null as never), 'mm-s-flatten:SELL:0-0', {status: 'PENDING_NEW'})]
    const d2 = decide(d.state, {nowMs: 1001, book: book(298990, 299000, {tsMs: 1001}), position: P, working: inflight}, ctx)
    expect(d2.actions).toEqual([])
  })

  it('stays halted after haltSeconds until resume; flatten_done once flat; resume clears', () => {
    const {ctx, state} = prepareCore(coreCfg(CFG), INST, 's')
    const d1 = decide({...state, risk: running()}, {nowMs: 1000, book: book(298990, 299000, {tsMs: 1000}), position: P, working: []}, ctx)
    expect(d1.mode).toBe('halted')
    const later = 1000 + 300_000 + 1
    const d2 = decide(d1.state, {nowMs: later, book: book(298990, 299000, {tsMs: later}), position: pos(0), working: []}, ctx)
    expect(d2.mode).toBe('halted')
    expect(d2.actions).toEqual([])
    expect(d2.events.filter((e) => e.type === 'risk_event').map((e) => e.type === 'risk_event' && e.kind)).toEqual(['flatten_done', 'reduce_only_exit'])
    const d3 = decide(d2.state, {nowMs: later + 1, book: book(298990, 299000, {tsMs: later}), position: pos(0), working: [], control: [{kind: 'resume', by: 'ops'}]}, ctx)
    expect(d3.mode).toBe('normal')
    expect(d3.events.find((e) => e.type === 'risk_event')).toEqual({type: 'risk_event', ts: later + 1, kind: 'resume', from: 'halted', to: 'normal', values: {by: 'ops', haltReason: 'stop_loss', since: 1000}, thresholds: {}})
    expect(d3.actions.filter((a) => a.type === 'place')).toHaveLength(2)
  })

  it('a position after flatten_done (a late fill, a hand-opened position the audit took in): flattened is taken back, the flatten goes on', () => {
    const {ctx, state} = prepareCore(coreCfg(CFG), INST, 's')
    const d1 = decide({...state, risk: running()}, {nowMs: 1000, book: book(298990, 299000, {tsMs: 1000}), position: P, working: []}, ctx)
    const d2 = decide(d1.state, {nowMs: 2000, book: book(298990, 299000, {tsMs: 2000}), position: pos(0), working: []}, ctx)
    expect(d2.state.risk.halt).toEqual({reason: 'stop_loss', since: 1000, until: null, flatten: true, flattened: true})
    // a short of 30 appears: a BUY IOC of 30, and the halt no longer says flattened
    const d3 = decide(d2.state, {nowMs: 3000, book: book(298990, 299000, {tsMs: 3000, qty: 60}), position: pos(-30, 299500), working: []}, ctx)
    expect(d3.mode).toBe('halted')
    expect(d3.state.risk.halt).toEqual({reason: 'stop_loss', since: 1000, until: null, flatten: true, flattened: false})
    expect(d3.events.filter((e) => e.type === 'risk_event' && e.kind === 'flatten')).toEqual([
      {type: 'risk_event', ts: 3000, kind: 'flatten', from: 'halted', to: 'halted', values: {net: -30, effective: -30, again: 'position after flatten_done'}, thresholds: {}, reason: 'stop_loss'},
    ])
    expect(d3.actions.map((a) => (a.type === 'place' ? [a.order.side, a.order.qty, a.order.tif, a.order.reduceOnly, a.order.layer] : a.type))).toEqual([['BUY', 30, 'IOC', true, 'flatten']])
    // flat again: flatten_done once more
    const d4 = decide(d3.state, {nowMs: 4000, book: book(298990, 299000, {tsMs: 4000}), position: pos(0), working: []}, ctx)
    expect(d4.state.risk.halt?.flattened).toBe(true)
    expect(d4.events.filter((e) => e.type === 'risk_event' && e.kind === 'flatten_done')).toHaveLength(1)
  })

  it('overrides a shock or manual halt (adds the flatten)', () => {
    const r = evaluateRisk(running({halt: {reason: 'manual', since: 0, until: null, flatten: false}, mode: 'halted'}), {nowMs: 5, book: book(298994, 299005, {tsMs: 5}), position: P}, L)
    expect(r.state.halt).toEqual({reason: 'stop_loss', since: 5, until: null, flatten: true})
  })

  it('is off in the naive baseline', () => {
    expect(evaluateRisk(running(), {nowMs: 1, book: book(200000, 200010, {tsMs: 1}), position: P}, limitsFor({...CFG, strategy: {kind: 'naive'}})).mode).toBe('normal')
  })
})
