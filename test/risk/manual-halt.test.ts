import {describe, expect, it} from 'vitest'
import {decide, prepareCore} from '../../src/lib/core/decide.js'
import {evaluateRisk} from '../../src/lib/risk/machine.js'
import {asWorking, book, coreCfg, INST, intent, limitsFor, pos, running} from './support.js'

const L = limitsFor()
const B = (t: number) => book(299995, 300005, {tsMs: t})

describe('manual halt / resume / flatten (mm halt, mm resume, mm flatten)', () => {
  it('halt records who/why/until and ends by itself at until', () => {
    const h = evaluateRisk(running(), {nowMs: 1000, book: B(1000), position: pos(0), control: [{kind: 'halt', by: 'ops', why: 'deploy', untilMs: 61_000}]}, L)
    expect(h.mode).toBe('halted')
    expect(h.state.halt).toEqual({reason: 'manual', since: 1000, until: 61_000, by: 'ops', why: 'deploy', flatten: false, maxSlippagePct: undefined})
    expect(h.events).toEqual([{type: 'risk_event', ts: 1000, kind: 'halt', from: 'normal', to: 'halted', reason: 'manual', values: {by: 'ops', why: 'deploy', until: 61_000}, thresholds: {}}])
    expect(h.wakeMs).toBe(2000) // the next 1-second shock sample comes first (stale deadline 6000, halt end 61 000)
    expect(evaluateRisk(h.state, {nowMs: 60_999, book: B(60_999), position: pos(0)}, L).mode).toBe('halted')
    expect(evaluateRisk(h.state, {nowMs: 61_000, book: B(61_000), position: pos(0)}, L).mode).toBe('normal')
  })

  it('a halt without until lasts until resume; resume without a halt is a no-op', () => {
    const h = evaluateRisk(running(), {nowMs: 1000, book: B(1000), position: pos(0), control: [{kind: 'halt'}]}, L)
    expect(evaluateRisk(h.state, {nowMs: 10_000_000, book: B(10_000_000), position: pos(0)}, L).mode).toBe('halted')
    const r = evaluateRisk(h.state, {nowMs: 2000, book: B(2000), position: pos(0), control: [{kind: 'resume'}]}, L)
    expect(r.mode).toBe('normal')
    expect(evaluateRisk(running(), {nowMs: 2000, book: B(2000), position: pos(0), control: [{kind: 'resume'}]}, L).events).toEqual([])
  })

  it('a carried automatic halt (restart, state.json) comes back as its own kind and start, not as a manual halt', () => {
    const h = evaluateRisk(running(), {nowMs: 5000, book: B(5000), position: pos(0), control: [{kind: 'halt', by: 'mm quote', why: 'PnL since 00:00 UTC reached −risk.maxDailyLoss', carried: {reason: 'daily_loss', sinceMs: 1000, flatten: true}}]}, L)
    expect(h.mode).toBe('halted')
    expect(h.state.halt).toEqual({reason: 'daily_loss', since: 1000, until: null, by: 'mm quote', why: 'PnL since 00:00 UTC reached −risk.maxDailyLoss', flatten: true, flattened: true})
    expect(h.events.map((e) => [e.kind, e.reason, e.values])).toEqual([
      ['halt', 'daily_loss', {by: 'mm quote', why: 'PnL since 00:00 UTC reached −risk.maxDailyLoss', until: null, carried: 1}],
      ['flatten_done', 'daily_loss', {net: 0}],
    ])
    // a manual halt on top does not replace it; it lasts until resume
    const m = evaluateRisk(h.state, {nowMs: 6000, book: B(6000), position: pos(0), control: [{kind: 'halt', by: 'ops'}]}, L)
    expect(m.state.halt?.reason).toBe('daily_loss')
    expect(evaluateRisk(m.state, {nowMs: 10_000_000, book: B(10_000_000), position: pos(0)}, L).state.halt?.reason).toBe('daily_loss')
    // a carried stop-loss with a position flattens again
    const s = evaluateRisk(running(), {nowMs: 5000, book: B(5000), position: pos(12), control: [{kind: 'halt', carried: {reason: 'stop_loss', sinceMs: 4000, flatten: true}}]}, L)
    expect(s.state.halt).toMatchObject({reason: 'stop_loss', since: 4000, flatten: true})
    expect(s.state.halt?.flattened).toBeUndefined()
  })

  it('requests apply in order: halt then resume in one batch leaves it running', () => {
    const r = evaluateRisk(running(), {nowMs: 1000, book: B(1000), position: pos(0), control: [{kind: 'halt'}, {kind: 'resume'}]}, L)
    expect(r.mode).toBe('normal')
    expect(r.events.map((e) => e.kind)).toEqual(['halt', 'resume'])
  })

  it('decide: halt cancels every order and places none, even with a position', () => {
    const {ctx, state} = prepareCore(coreCfg(), INST, 'm')
    const w = [asWorking(intent({slot: 'dyn:BUY:0', side: 'BUY', price: 299990, qty: 10}), 'b')]
    const d = decide({...state, risk: running()}, {nowMs: 1000, book: B(1000), position: pos(12), working: w, control: [{kind: 'halt', by: 'cron'}]}, ctx)
    expect(d.actions).toEqual([{type: 'cancel', clientOrderId: 'b', slot: 'dyn:BUY:0', reason: 'stray'}])
  })

  it('decide: flatten closes a short with a reduce-only IOC BUY capped at mid × (1 + maxSlippagePct)', () => {
    const {ctx, state} = prepareCore(coreCfg(), INST, 'm')
    // asks 300005… 5 steps each; short 12 needs 3 levels; cap with 0.00001: floor(300000 × 1.00001) = 300003 → book short within the cap
    const thin = book(299995, 300005, {tsMs: 1000, qty: 5})
    const d = decide({...state, risk: running()}, {nowMs: 1000, book: thin, position: pos(-12), working: [], control: [{kind: 'flatten', maxSlippagePct: 0.00001}]}, ctx)
    expect(d.mode).toBe('halted')
    expect(d.actions).toEqual([{type: 'place', clientOrderId: 'mm-m-flatten:BUY:0-0', order: {slot: 'flatten:BUY:0', side: 'BUY', price: 300003, qty: 12, tif: 'IOC', reduceOnly: true, layer: 'flatten'}}])
    // with the default cap (0.2 %) the book takes it all: limit = the worst level needed
    const d2 = decide({...state, risk: running()}, {nowMs: 1000, book: thin, position: pos(-12), working: [], control: [{kind: 'flatten'}]}, ctx)
    expect(d2.actions.map((a) => a.type === 'place' && [a.order.price, a.order.qty])).toEqual([[300007, 12]])
  })
})
