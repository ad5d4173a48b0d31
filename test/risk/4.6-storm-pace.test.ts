/**
 * The venue's pace (issue 10 §4, with SPEC §4.6's live rules): the rate governor's verdict
 * reaches the core at every decision. `slow` stretches the refresh interval by its factor
 * and holds resting quotes between the stretched refreshes (fewer re-prices); `stopped`
 * (a storm of rejects / 5xx / -1008 / unknown outcomes, or a 418 ban) halts with a
 * risk_event until `mm resume`.
 */
import {describe, expect, it} from 'vitest'
import {decide, paceTolerance, prepareCore} from '../../src/lib/core/decide.js'
import type {OrderAction} from '../../src/lib/domain/orders.js'
import {evaluateRisk} from '../../src/lib/risk/machine.js'
import {resumeBlocker} from '../../src/lib/risk/resume.js'
import type {VenueRisk} from '../../src/lib/risk/types.js'
import {asWorking, book, coreCfg, INST, limitsFor, pos, running} from './support.js'

const L = limitsFor({})
const bk = book(299995, 300005, {tsMs: 1000})
const slow: VenueRisk = {pace: {mode: 'slow', factor: 3, reason: 'storm: 5 rejects/errors/unknown outcomes within 60000 ms'}}
const stopped: VenueRisk = {pace: {mode: 'stopped', factor: 4, reason: 'storm: 20 rejects/errors/unknown outcomes within 60000 ms'}}

describe('venue pace and storms', () => {
  it('a change of the governor mode is a venue_pace risk_event; slow quotes on', () => {
    const r = evaluateRisk(running(), {nowMs: 1000, book: bk, position: pos(0), venue: slow}, L)
    expect(r.mode).toBe('normal')
    expect(r.state.pace).toBe('slow')
    expect(r.events).toEqual([{type: 'risk_event', ts: 1000, kind: 'venue_pace', from: 'normal', to: 'normal', reason: slow.pace!.reason, values: {mode: 'slow', factor: 3, until: null}, thresholds: {}}])
    // the same mode again: nothing new
    expect(evaluateRisk(r.state, {nowMs: 1100, book: bk, position: pos(0), venue: slow}, L).events).toEqual([])
  })

  it('a storm stop halts (watch only, no flatten) with a storm risk_event, until mm resume', () => {
    const r = evaluateRisk(running({pace: 'slow'}), {nowMs: 2000, book: bk, position: pos(10), venue: stopped}, L)
    expect(r.mode).toBe('halted')
    expect(r.state.halt).toEqual({reason: 'storm', since: 2000, until: null, flatten: false})
    expect(r.events).toEqual([
      {type: 'risk_event', ts: 2000, kind: 'venue_pace', from: 'normal', to: 'halted', reason: stopped.pace!.reason, values: {mode: 'stopped', factor: 4, until: null}, thresholds: {}},
      {type: 'risk_event', ts: 2000, kind: 'storm', from: 'normal', to: 'halted', reason: stopped.pace!.reason, values: {factor: 4, until: null}, thresholds: {}},
    ])
    // a resume while the governor still says stopped trips it again; once lifted, normal
    const again = evaluateRisk(r.state, {nowMs: 3000, book: bk, position: pos(10), venue: stopped, control: [{kind: 'resume', by: 'op'}]}, L)
    expect(again.events.map((e) => e.kind)).toEqual(['resume', 'storm'])
    const lifted = evaluateRisk(r.state, {nowMs: 3000, book: bk, position: pos(10), venue: {pace: {mode: 'normal', factor: 1, reason: 'within limits'}}, control: [{kind: 'resume', by: 'op'}]}, L)
    expect(lifted.mode).toBe('normal')
    expect(lifted.events.map((e) => e.kind)).toEqual(['resume', 'venue_pace'])
  })

  it('a 418 ban with Retry-After halts until its end; resume refuses while it runs', () => {
    const ban: VenueRisk = {pace: {mode: 'stopped', factor: 4, reason: 'HTTP 418: the venue banned this IP', until: 62_000}}
    const r = evaluateRisk(running(), {nowMs: 2000, book: bk, position: pos(0), venue: ban}, L)
    expect(r.state.halt).toEqual({reason: 'storm', since: 2000, until: 62_000, flatten: false})
    expect(resumeBlocker({haltKind: 'storm', haltUntilMs: 62_000, nowMs: 2000, unrealised: '0', stopLoss: -50, flat: true})).toEqual({kind: 'storm', untilMs: 62_000, leftMs: 60_000, message: "the venue's ban still runs (60 s left)"})
    expect(resumeBlocker({haltKind: 'storm', haltUntilMs: null, nowMs: 2000, unrealised: '0', stopLoss: -50, flat: true})).toBeNull()
  })

  it('a stop-loss or daily-loss halt is not replaced by a storm', () => {
    const sl = running({halt: {reason: 'stop_loss', since: 1, until: null, flatten: true}, mode: 'halted'})
    expect(evaluateRisk(sl, {nowMs: 2000, book: bk, position: pos(10), venue: stopped}, L).state.halt?.reason).toBe('stop_loss')
  })

  it('paceTolerance: the configured tolerance × factor, at least factor − 1 ticks', () => {
    expect([paceTolerance(0, 1), paceTolerance(0, 1.5), paceTolerance(0, 3), paceTolerance(2, 3), paceTolerance(0, 4)]).toEqual([0, 0, 2, 6, 3])
  })

  it('slow ×3: the refresh interval is stretched ×3 and resting quotes are held until then (no re-price on a 2-tick move)', () => {
    const {ctx, state} = prepareCore(coreCfg({}), INST, 'pace')
    const s0 = {...state, risk: running()}
    const plain = decide(s0, {nowMs: 1000, book: bk, position: pos(0), working: []}, ctx)
    const paced = decide(s0, {nowMs: 1000, book: bk, position: pos(0), working: [], venue: slow}, ctx)
    expect(plain.state.risk.paceHoldUntil).toBe(0)
    const interval = plain.events.find((e) => e.type === 'strategy_adjust') as {quoteInterval: number} | undefined
    expect(interval?.quoteInterval).toBe(1000)
    expect(paced.state.risk.paceHoldUntil).toBe(1000 + 3 * 1000)
    // the orders rest; the book moves 2 ticks up
    const working = paced.actions.flatMap((a: OrderAction) => (a.type === 'place' ? [asWorking(a.order, a.clientOrderId)] : []))
    expect(working.length).toBe(2)
    const moved = book(299997, 300007, {tsMs: 2000})
    const between = decide(paced.state, {nowMs: 2000, book: moved, position: pos(0), working, venue: slow}, ctx)
    expect(between.actions).toEqual([])
    // without the pace the same move re-prices both sides (cancel, then place)
    const unpaced = decide({...paced.state, risk: {...paced.state.risk, paceHoldUntil: 0}}, {nowMs: 2000, book: moved, position: pos(0), working}, ctx)
    expect(unpaced.actions.filter((a) => a.type === 'cancel').length).toBe(2)
    // at the stretched refresh the quotes follow the book: a 3-tick move is beyond the ×3 tolerance (2 ticks)
    const far = book(299998, 300008, {tsMs: 4000})
    const refresh = decide(between.state, {nowMs: 4000, book: far, position: pos(0), working, venue: slow}, ctx)
    expect(refresh.actions.filter((a) => a.type === 'cancel').length).toBe(2)
    // the strategy's own interval has moved with the volatility of the moves: still × 3
    const adj = refresh.events.filter((e) => e.type === 'strategy_adjust') as Array<{quoteInterval?: number}>
    const qi = adj.map((e) => e.quoteInterval).find((x) => x !== undefined)
    expect(qi).toBe(1003)
    expect(refresh.state.risk.paceHoldUntil).toBe(4000 + 3 * 1003)
    // back to normal: no hold
    const normal = decide(refresh.state, {nowMs: 4100, book: far, position: pos(0), working, venue: {pace: {mode: 'normal', factor: 1, reason: 'within limits'}}}, ctx)
    expect(normal.state.risk.paceHoldUntil).toBe(0)
  })
})
