/**
 * 4.1 reduce-only threshold and 4.4 reduce-only flow with fills the venue showed and the
 * position has not booked yet (live: `DecideInput.unbooked`, an answer's executedQty the
 * user stream has not told; booked by the read-back within ~1 s). The venue's position is
 * the effective net = booked + unbooked BUY − unbooked SELL.
 *
 * Before: the mode and the reducing orders looked at the booked net only. A long booked
 * at 25 with 10 more filled (effective 35, threshold 30) kept quoting both sides until the
 * read-back; a long booked at 35 with 30 sold (effective 5) kept a reduce-only SELL of 10;
 * one booked at 32 with 40 sold (effective short 8) kept selling.
 * Now: reduce-only holds while either the booked or the effective |net| is at the
 * threshold (it starts with the venue's word, ends once both are below), the reducing side
 * and the total of the reducing orders follow the effective net, and the strategy quotes
 * from it. Replay and dry-run (no unbooked fills) are unchanged.
 *
 * Defaults (support.ts): baseSize 10 steps, reduce-only threshold 30 steps, netMax 100.
 */
import {describe, expect, it} from 'vitest'
import {decide, type DecideInput, decideRequested, prepareCore} from '../../src/lib/core/decide.js'
import type {OrderIntent} from '../../src/lib/domain/orders.js'
import {effectiveNet, evaluateRisk} from '../../src/lib/risk/machine.js'
import type {UnbookedSteps} from '../../src/lib/risk/net-max.js'
import type {RiskEvent, RiskMode} from '../../src/lib/risk/types.js'
import {asWorking, book, coreCfg, INST, intent, limitsFor, pos, running} from './support.js'

const B = book(299995, 300005, {tsMs: 1000})
const ub = (BUY: number, SELL: number): UnbookedSteps => ({BUY, SELL})
type Place = [slot: string, side: string, qty: number, reduceOnly: boolean]

describe('4.1 + 4.4 with unbooked fills: the effective net', () => {
  it('effectiveNet = booked + unbooked BUY − unbooked SELL; the booked net without any', () => {
    expect(effectiveNet(25, ub(10, 0))).toBe(35)
    expect(effectiveNet(32, ub(0, 40))).toBe(-8)
    expect(effectiveNet(-5, ub(40, 3))).toBe(32)
    expect(effectiveNet(17, undefined)).toBe(17)
  })

  const table: Array<{rule: string; name: string; net: number; unbooked?: UnbookedSteps; prevReduceOnly?: boolean; mode: RiskMode; places: Place[]; event?: Pick<RiskEvent, 'kind' | 'values'> | null}> = [
    // ---- 4.1 entry and exit
    {rule: '4.1', name: 'booked 25 + unbooked BUY 5 = 30: reduce-only enters on the venue\'s word', net: 25, unbooked: ub(5, 0), mode: 'reduce_only', places: [['reduce:SELL:0', 'SELL', 10, true]], event: {kind: 'reduce_only_enter', values: {net: 25, absNet: 25, unbookedBuy: 5, unbookedSell: 0, effectiveNet: 30}}},
    {rule: '4.1', name: 'booked −25 + unbooked SELL 10 = −35: reduce-only, only a BUY', net: -25, unbooked: ub(0, 10), mode: 'reduce_only', places: [['reduce:BUY:0', 'BUY', 10, true]], event: {kind: 'reduce_only_enter', values: {net: -25, absNet: 25, unbookedBuy: 0, unbookedSell: 10, effectiveNet: -35}}},
    {rule: '4.1', name: 'booked 25, unbooked BUY 5 and SELL 5 = 25: normal, both sides', net: 25, unbooked: ub(5, 5), mode: 'normal', places: [['dyn:BUY:0', 'BUY', 10, false], ['dyn:SELL:0', 'SELL', 10, false]], event: null},
    {rule: '4.1', name: 'booked 29, none unbooked: normal (the threshold as before)', net: 29, mode: 'normal', places: [['dyn:BUY:0', 'BUY', 10, false], ['dyn:SELL:0', 'SELL', 10, false]], event: null},
    {rule: '4.1', name: 'in reduce-only at booked 30, unbooked SELL 5 = 25: held until booked (no exit), the SELL sized 10', net: 30, unbooked: ub(0, 5), prevReduceOnly: true, mode: 'reduce_only', places: [['reduce:SELL:0', 'SELL', 10, true]], event: null},
    {rule: '4.1', name: 'in reduce-only at booked 30, booked back to 25: exit as before', net: 25, prevReduceOnly: true, mode: 'normal', places: [['dyn:BUY:0', 'BUY', 10, false], ['dyn:SELL:0', 'SELL', 10, false]], event: {kind: 'reduce_only_exit', values: {net: 25, absNet: 25}}},
    // ---- 4.4 the reducing side and size
    {rule: '4.4', name: 'booked 5 + unbooked BUY 30 = 35: a reduce-only SELL of baseSize 10 (not 5)', net: 5, unbooked: ub(30, 0), mode: 'reduce_only', places: [['reduce:SELL:0', 'SELL', 10, true]], event: {kind: 'reduce_only_enter', values: {net: 5, absNet: 5, unbookedBuy: 30, unbookedSell: 0, effectiveNet: 35}}},
    {rule: '4.4', name: 'booked 35 − unbooked SELL 30 = 5: the SELL is 5 (not 10)', net: 35, unbooked: ub(0, 30), prevReduceOnly: true, mode: 'reduce_only', places: [['reduce:SELL:0', 'SELL', 5, true]], event: null},
    {rule: '4.4', name: 'booked 35 − unbooked SELL 35 = 0: nothing left to reduce, nothing placed', net: 35, unbooked: ub(0, 35), prevReduceOnly: true, mode: 'reduce_only', places: [], event: null},
    {rule: '4.4', name: 'booked 32 − unbooked SELL 40 = −8: the reducing side is BUY, 8', net: 32, unbooked: ub(0, 40), prevReduceOnly: true, mode: 'reduce_only', places: [['reduce:BUY:0', 'BUY', 8, true]], event: null},
    {rule: '4.4', name: 'booked −5 + unbooked BUY 40 = 35: long on the venue, a reduce-only SELL of 10', net: -5, unbooked: ub(40, 0), mode: 'reduce_only', places: [['reduce:SELL:0', 'SELL', 10, true]], event: {kind: 'reduce_only_enter', values: {net: -5, absNet: 5, unbookedBuy: 40, unbookedSell: 0, effectiveNet: 35}}},
  ]

  it.each(table)('$rule $name', ({net, unbooked, prevReduceOnly, mode, places, event}) => {
    const {ctx, state} = prepareCore(coreCfg(), INST, 'u')
    const prev = running(prevReduceOnly ? {reduceOnly: true, mode: 'reduce_only'} : {})
    const input: DecideInput = {nowMs: 1000, book: B, position: pos(net), working: [], ...(unbooked ? {unbooked} : {})}
    const d = decide({...state, risk: prev}, input, ctx)
    expect(d.mode).toBe(mode)
    expect(d.actions.map((a) => a.type === 'place' && [a.order.slot, a.order.side, a.order.qty, a.order.reduceOnly])).toEqual(places)
    const ro = d.events.filter((e) => e.type === 'risk_event' && (e.kind === 'reduce_only_enter' || e.kind === 'reduce_only_exit')).map((e) => e.type === 'risk_event' && {kind: e.kind, values: e.values})
    expect(ro).toEqual(event ? [event] : [])
  })

  it('4.4 a working bid is cancelled when the unbooked fills take the venue past the threshold', () => {
    const {ctx, state} = prepareCore(coreCfg(), INST, 'u')
    const w = [asWorking(intent({slot: 'dyn:BUY:0', side: 'BUY', price: 299990, qty: 10}), 'b')]
    const d = decide({...state, risk: running()}, {nowMs: 1000, book: B, position: pos(25), working: w, unbooked: ub(10, 0)}, ctx)
    expect(d.mode).toBe('reduce_only')
    expect(d.actions.map((a) => (a.type === 'cancel' ? ['cancel', a.clientOrderId, a.reason] : [a.type, a.order.slot, a.order.qty]))).toEqual([['cancel', 'b', 'stray'], ['place', 'reduce:SELL:0', 10]])
  })

  it('4.4 halted flatten closes the effective net: booked 20 + unbooked BUY 10 → SELL IOCs of 30; booked 0 + unbooked BUY 10 → SELL 10, no flatten_done yet', () => {
    const {ctx, state} = prepareCore(coreCfg(), INST, 'u')
    const sold = (d: ReturnType<typeof decide>) => d.actions.reduce((a, x) => a + (x.type === 'place' && x.order.side === 'SELL' && x.order.reduceOnly && x.order.tif === 'IOC' ? x.order.qty : 0), 0)
    const a = decide({...state, risk: running()}, {nowMs: 1000, book: B, position: pos(20), working: [], control: [{kind: 'flatten'}], unbooked: ub(10, 0)}, ctx)
    expect(a.mode).toBe('halted')
    expect(sold(a)).toBe(30)
    expect(a.actions.every((x) => x.type === 'place' && x.order.side === 'SELL')).toBe(true)
    const b = decide({...state, risk: running()}, {nowMs: 1000, book: B, position: pos(0), working: [], control: [{kind: 'flatten'}], unbooked: ub(10, 0)}, ctx)
    expect(sold(b)).toBe(10)
    expect(b.events.filter((e) => e.type === 'risk_event' && e.kind === 'flatten_done')).toEqual([])
    // booked: flat on both counts, the flatten is done
    const c = decide(b.state, {nowMs: 1100, book: B, position: pos(0), working: []}, ctx)
    expect(c.actions).toEqual([])
    expect(c.events.filter((e) => e.type === 'risk_event' && e.kind === 'flatten_done').map((e) => e.type === 'risk_event' && e.values)).toEqual([{net: 0}])
  })

  it('4.4 decideRequested (instant retry) in reduce-only trims to the effective net: booked 35 − unbooked SELL 30 → 5', () => {
    const {ctx, state} = prepareCore(coreCfg(), INST, 'u')
    const retry: OrderIntent = {slot: 'reduce:SELL:0', side: 'SELL', price: 300006, qty: 10, tif: 'GTC', reduceOnly: true, layer: 'reduce'}
    const d = decideRequested({...state, risk: running({reduceOnly: true, mode: 'reduce_only'})}, {nowMs: 1000, book: B, position: pos(35), working: [], unbooked: ub(0, 30)}, [retry], ctx)
    expect(d.actions).toEqual([{type: 'place', clientOrderId: 'mm-u-reduce:SELL:0-0', order: {...retry, qty: 5}}])
  })

  it('4.1 the risk machine alone: unbooked fills enter reduce-only, the state holds it until both counts are below', () => {
    const limits = limitsFor()
    const base = {nowMs: 1000, book: B}
    const a = evaluateRisk(running(), {...base, position: pos(20), unbooked: ub(10, 0)}, limits)
    expect([a.mode, a.state.reduceOnly]).toEqual(['reduce_only', true])
    const b = evaluateRisk(a.state, {...base, position: pos(30), unbooked: ub(0, 10)}, limits)
    expect([b.mode, b.events.map((e) => e.kind)]).toEqual(['reduce_only', []])
    const c = evaluateRisk(b.state, {...base, position: pos(20)}, limits)
    expect([c.mode, c.events.map((e) => [e.kind, e.values])]).toEqual(['normal', [['reduce_only_exit', {net: 20, absNet: 20}]]])
  })
})
