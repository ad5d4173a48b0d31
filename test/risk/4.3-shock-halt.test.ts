import {describe, expect, it} from 'vitest'
import {decide, prepareCore} from '../../src/lib/core/decide.js'
import {evaluateRisk} from '../../src/lib/risk/machine.js'
import type {RiskState} from '../../src/lib/risk/types.js'
import {asWorking, book, coreCfg, FakeBook, INST, intent, limitsFor, pos, running} from './support.js'

const L = limitsFor() // shockPct 0.01, haltSeconds 300
const flat = pos(0)
/** a book whose mid2 is exactly `mid2` (even) */
const at = (mid2: number, tsMs: number) => book(mid2 / 2 - 5, mid2 / 2 + 5, {tsMs})
/** seed the 1-second reference: one evaluation at t=0 with mid2 600000 (mid 3000.00) */
const seeded = (): RiskState => evaluateRisk(running(), {nowMs: 0, book: at(600000, 0), position: flat}, L).state

describe('4.3 shock halt', () => {
  it('a move of exactly shockPct does not halt; one tick more does', () => {
    // 1 % of 600000 = 6000 in mid2
    expect(evaluateRisk(seeded(), {nowMs: 500, book: at(606000, 500), position: flat}, L).mode).toBe('normal')
    expect(evaluateRisk(seeded(), {nowMs: 500, book: at(594000, 500), position: flat}, L).mode).toBe('normal')
    const up = evaluateRisk(seeded(), {nowMs: 500, book: at(606002, 500), position: flat}, L)
    expect(up.mode).toBe('halted')
    expect(up.state.halt).toEqual({reason: 'shock', since: 500, until: 300_500, flatten: false})
    expect(up.events).toEqual([{type: 'risk_event', ts: 500, kind: 'shock', from: 'normal', to: 'halted', values: {mid: 303001, refMid: 300000, move: 6002 / 600000}, thresholds: {shockPct: 0.01, haltMs: 300_000}}])
    expect(evaluateRisk(seeded(), {nowMs: 500, book: at(593998, 500), position: flat}, L).mode).toBe('halted')
  })

  it('halts for haltSeconds exactly, watch only, then quotes again', () => {
    const {ctx, state} = prepareCore(coreCfg(), INST, 'k')
    const s0 = {...state, risk: seeded()}
    const resting = [asWorking(intent({slot: 'dyn:BUY:0', side: 'BUY', price: 299990, qty: 10}), 'b'), asWorking(intent({slot: 'dyn:SELL:0', side: 'SELL', price: 300010, qty: 10}), 'a')]
    const d1 = decide(s0, {nowMs: 500, book: at(610000, 500), position: pos(20), working: resting}, ctx)
    expect(d1.mode).toBe('halted')
    expect(d1.actions).toEqual([
      {type: 'cancel', clientOrderId: 'b', slot: 'dyn:BUY:0', reason: 'stray'},
      {type: 'cancel', clientOrderId: 'a', slot: 'dyn:SELL:0', reason: 'stray'},
    ])
    expect(d1.nextWakeMs).toBeLessThanOrEqual(300_500)
    const d2 = decide(d1.state, {nowMs: 300_499, book: at(610000, 300_499), position: pos(20), working: []}, ctx)
    expect(d2.mode).toBe('halted')
    expect(d2.actions).toEqual([]) // no flatten on a shock: watch only
    const d3 = decide(d2.state, {nowMs: 300_500, book: at(610000, 300_500), position: pos(20), working: []}, ctx)
    expect(d3.mode).toBe('normal')
    expect(d3.events.find((e) => e.type === 'risk_event')).toEqual({type: 'risk_event', ts: 300_500, kind: 'halt_end', from: 'halted', to: 'normal', reason: 'shock', values: {since: 500, until: 300_500}, thresholds: {haltMs: 300_000}})
    expect(d3.actions.filter((a) => a.type === 'place').map((a) => a.type === 'place' && a.order.side).sort()).toEqual(['BUY', 'SELL'])
  })

  it('a further shock while halted extends the halt from now', () => {
    const h = evaluateRisk(seeded(), {nowMs: 500, book: at(610000, 500), position: flat}, L)
    const h2 = evaluateRisk(h.state, {nowMs: 2000, book: at(630000, 2000), position: flat}, L)
    expect(h2.state.halt).toEqual({reason: 'shock', since: 500, until: 302_000, flatten: false})
    // the jump itself became the reference: staying at the new level is calm
    const h3 = evaluateRisk(h2.state, {nowMs: 2500, book: at(630000, 2500), position: flat}, L)
    expect(h3.events).toEqual([])
  })

  it('compares against the 1-second samples of the last two seconds (a move straddling a sample is seen)', () => {
    let s = seeded() // sample at 0: 600000
    s = evaluateRisk(s, {nowMs: 1000, book: at(603600, 1000), position: flat}, L).state // +0.6 %, new sample at 1000
    expect(s.shockRefs).toEqual([[0, 600000], [1000, 603600]])
    // +1.2 % against the sample at 0, +0.6 % against the one at 1000
    expect(evaluateRisk(s, {nowMs: 1200, book: at(607200, 1200), position: flat}, L).mode).toBe('halted')
    // within 1 s no new sample is taken
    const s2 = evaluateRisk(s, {nowMs: 1500, book: at(603000, 1500), position: flat}, L).state
    expect(s2.shockRefs).toEqual(s.shockRefs)
  })

  it('the samples restart after a pause: a gap over a resync is not a single move', () => {
    const paused = evaluateRisk(seeded(), {nowMs: 500, book: new FakeBook({ready: false}), position: flat}, L)
    expect(paused.state.shockRefs).toEqual([])
    expect(evaluateRisk(paused.state, {nowMs: 900, book: at(700000, 900), position: flat}, L).mode).toBe('normal')
  })

  it('does not replace a manual or stop-loss halt, and is off in the naive baseline', () => {
    const manual = running({mode: 'halted', halt: {reason: 'manual', since: 0, until: null, flatten: false}, shockRefs: [[0, 600000]]})
    expect(evaluateRisk(manual, {nowMs: 500, book: at(700000, 500), position: flat}, L).state.halt?.reason).toBe('manual')
    const naive = limitsFor({strategy: {kind: 'naive'}})
    const s = evaluateRisk(running(), {nowMs: 0, book: at(600000, 0), position: flat}, naive).state
    expect(evaluateRisk(s, {nowMs: 500, book: at(700000, 500), position: flat}, naive).mode).toBe('normal')
  })
})
