/**
 * SPEC §4.6 liquidation distance (live): the venue's liquidation price (positionRisk)
 * closer to the mark than risk.minLiquidationDistancePct → reduce-only until it is not.
 * Ticks of INST (0.01): mark 3000.00 = 300 000 ticks.
 */
import {describe, expect, it} from 'vitest'
import {decide, prepareCore} from '../../src/lib/core/decide.js'
import {evaluateRisk} from '../../src/lib/risk/machine.js'
import {book, coreCfg, INST, limitsFor, pos, running} from './support.js'

const L = limitsFor({})
const P = pos(10, 300000) // below the 4.1 threshold (30 steps): normal without the rule
const bk = book(299995, 300005, {tsMs: 1000})
const at = (liquidationTicks: number | null, markTicks: number | null = 300000, position = P, prev = running()) =>
  evaluateRisk(prev, {nowMs: 1000, book: bk, position, venue: {liquidationTicks, markTicks}}, L)

describe('4.6 liquidation distance', () => {
  it('default limit 3 % of the mark', () => {
    expect(L.minLiquidationDistancePct).toBe(0.03)
  })

  it('closer than the limit → reduce_only with a risk_event; exactly at it is not closer', () => {
    const near = at(291001)
    expect(near.mode).toBe('reduce_only')
    expect(near.state.liqNear).toBe(true)
    expect(near.state.reduceOnly).toBe(false)
    expect(near.events).toEqual([
      {type: 'risk_event', ts: 1000, kind: 'liquidation_near', from: 'normal', to: 'reduce_only', values: {liquidationTicks: 291001, markTicks: 300000, distance: 8999 / 300000, net: 10}, thresholds: {minLiquidationDistancePct: 0.03}},
    ])
    const edge = at(291000)
    expect(edge.mode).toBe('normal')
    expect(edge.events).toEqual([])
    // a short: liquidation above the mark
    expect(at(308999, 300000, pos(-10, 300000)).mode).toBe('reduce_only')
    expect(at(309000, 300000, pos(-10, 300000)).mode).toBe('normal')
  })

  it('back beyond the limit → liquidation_clear and normal again', () => {
    const near = at(291001).state
    const clear = at(250000, 300000, P, near)
    expect(clear.mode).toBe('normal')
    expect(clear.events).toEqual([
      {type: 'risk_event', ts: 1000, kind: 'liquidation_clear', from: 'reduce_only', to: 'normal', values: {liquidationTicks: 250000, markTicks: 300000, distance: 50000 / 300000, net: 10}, thresholds: {minLiquidationDistancePct: 0.03}},
    ])
  })

  it('no liquidation price (0 / null), no mark, flat, no venue input or the limit at 0: never near', () => {
    expect(at(0).mode).toBe('normal')
    expect(at(null).mode).toBe('normal')
    expect(at(291001, 0).mode).toBe('normal')
    expect(at(291001, 300000, pos(0)).mode).toBe('normal')
    expect(evaluateRisk(running(), {nowMs: 1000, book: bk, position: P}, L).mode).toBe('normal')
    expect(evaluateRisk(running(), {nowMs: 1000, book: bk, position: P, venue: {liquidationTicks: 291001, markTicks: 300000}}, limitsFor({risk: {minLiquidationDistancePct: 0}})).mode).toBe('normal')
  })

  it('in decide, only reducing orders leave while the liquidation price is near', () => {
    const cfg = coreCfg({})
    const {ctx, state} = prepareCore(cfg, INST, 'liq')
    const s0 = {...state, risk: running()}
    const d = decide(s0, {nowMs: 1000, book: bk, position: P, working: [], venue: {liquidationTicks: 291001, markTicks: 300000}}, ctx)
    expect(d.mode).toBe('reduce_only')
    const places = d.actions.filter((a) => a.type === 'place')
    expect(places.length).toBeGreaterThan(0)
    for (const a of places) if (a.type === 'place') expect([a.order.side, a.order.reduceOnly]).toEqual(['SELL', true])
    const normal = decide(s0, {nowMs: 1000, book: bk, position: P, working: []}, ctx)
    expect(normal.actions.filter((a) => a.type === 'place' && a.order.side === 'BUY').length).toBe(1)
  })
})
