/**
 * SPEC §4.6 daily loss: realised + unrealised − fees since 00:00 UTC reaching
 * −risk.maxDailyLoss → flatten and halt until `mm resume`.
 * INST: tick 0.01 × step 0.001 = 0.00001 USDC per tick·step, so maxDailyLoss 1 USDC =
 * 100 000 tick·steps; a long of 100 steps from 3000.00 loses exactly that at mid 2990.00.
 */
import {describe, expect, it} from 'vitest'
import {COST_SCALE} from '../../src/lib/orders/position.js'
import {DAY_MS, evaluateRisk} from '../../src/lib/risk/machine.js'
import {resumeBlocker} from '../../src/lib/risk/resume.js'
import {book, limitsFor, pos, running} from './support.js'

const L = limitsFor({risk: {maxDailyLoss: 1, stopLoss: 0}})
const U = (tickSteps: number) => BigInt(tickSteps) * COST_SCALE
const P = pos(100, 300000)
// the day began at 0 with nothing: equity 0
const counted = (p: Partial<Parameters<typeof running>[0]> = {}) => running({day: {startMs: 0, base: '0', pnl: '0'}, reduceOnly: true, mode: 'reduce_only', ...p})

describe('4.6 daily loss', () => {
  it('converts maxDailyLoss to cost units once (rounded up); 0 is off', () => {
    expect(L.maxDailyLossUnits).toBe(U(100_000))
    expect(L.maxDailyLoss).toBe(1)
    expect(limitsFor({risk: {maxDailyLoss: 0}}).maxDailyLossUnits).toBeNull()
    expect(limitsFor({}).maxDailyLossUnits).toBeNull()
  })

  it('a loss exactly at −maxDailyLoss halts (reached), flattening; half a tick of mid better does not', () => {
    // mid 2990.00: unrealised −100 000 tick·steps = −1 USDC
    const at = evaluateRisk(counted(), {nowMs: 5000, book: book(298995, 299005, {tsMs: 5000}), position: P}, L)
    expect(at.mode).toBe('halted')
    expect(at.state.halt).toEqual({reason: 'daily_loss', since: 5000, until: null, flatten: true})
    expect(at.state.day).toEqual({startMs: 0, base: '0', pnl: U(-100_000).toString()})
    expect(at.events).toEqual([
      {type: 'risk_event', ts: 5000, kind: 'daily_loss', from: 'reduce_only', to: 'halted', values: {dayPnlUnits: U(-100_000).toString(), dayStartMs: 0, net: 100, mid: 299000}, thresholds: {maxDailyLoss: 1, maxDailyLossUnits: U(100_000).toString()}},
    ])
    // mid 2990.005: −99 950
    const above = evaluateRisk(counted(), {nowMs: 5000, book: book(298996, 299005, {tsMs: 5000}), position: P}, L)
    expect(above.mode).toBe('reduce_only')
    expect(above.events).toEqual([])
    expect(above.state.day?.pnl).toBe(U(-99_950).toString())
  })

  it('fees count against the day (a rebate for it); realised losses count when flat', () => {
    // mid 2995.00: unrealised −0.5 USDC; fees 0.5 paid → −1 → halt; a 0.5 rebate → 0
    const b = book(299495, 299505, {tsMs: 5000})
    expect(evaluateRisk(counted(), {nowMs: 5000, book: b, position: {...P, fees: '0.5'}}, L).state.halt?.reason).toBe('daily_loss')
    const rebate = evaluateRisk(counted(), {nowMs: 5000, book: b, position: {...P, fees: '-0.5'}}, L)
    expect(rebate.state.halt).toBeNull()
    expect(rebate.state.day?.pnl).toBe('0')
    // flat, realised −1 USDC: halted and at once flattened (nothing to close)
    const flat = evaluateRisk(counted({reduceOnly: false, mode: 'normal'}), {nowMs: 5000, book: b, position: {...pos(0), realised: U(-100_000)}}, L)
    expect(flat.events.map((e) => e.kind)).toEqual(['daily_loss', 'flatten_done'])
    expect(flat.state.halt).toEqual({reason: 'daily_loss', since: 5000, until: null, flatten: true, flattened: true})
  })

  it('the count starts at the first usable mid of a UTC day, and again at the next 00:00 UTC', () => {
    // first mid of the run: whatever the PnL, the day's basis is taken there (pnl 0)
    const first = evaluateRisk(running(), {nowMs: 5000, book: book(298995, 299005, {tsMs: 5000}), position: P}, L)
    expect(first.state.day).toEqual({startMs: 0, base: U(-100_000).toString(), pnl: '0'})
    expect(first.state.halt).toBeNull()
    // no usable book: the day is left as it was
    const none = evaluateRisk(running(), {nowMs: 5000, book: book(0, 0, {tsMs: 5000, ready: false}), position: P}, L)
    expect(none.state.day).toBeNull()
    // the next UTC day: a new basis at its first mid, even after yesterday's loss
    const next = evaluateRisk(counted({day: {startMs: 0, base: '0', pnl: U(-90_000).toString()}}), {nowMs: DAY_MS + 7, book: book(298995, 299005, {tsMs: DAY_MS + 7}), position: P}, L)
    expect(next.state.day).toEqual({startMs: DAY_MS, base: U(-100_000).toString(), pnl: '0'})
    expect(next.state.halt).toBeNull()
  })

  it("an earlier run's PnL of the same day is carried on (state.json → base null)", () => {
    // carried −0.6 USDC; now unrealised −0.4 → the day stands at −0.6 (the basis is now − carried)
    const carry = running({day: {startMs: 0, base: null, pnl: U(-60_000).toString()}})
    const a = evaluateRisk(carry, {nowMs: 5000, book: book(299595, 299605, {tsMs: 5000}), position: P}, L)
    expect(a.state.day).toEqual({startMs: 0, base: U(20_000).toString(), pnl: U(-60_000).toString()})
    expect(a.state.halt).toBeNull()
    // a further −0.4 (mid 2996.00 → 2992.00 … unrealised −0.8): −0.6 − 0.4 = −1.0 → halt
    const b = evaluateRisk(a.state, {nowMs: 6000, book: book(299195, 299205, {tsMs: 6000}), position: P}, L)
    expect(b.state.day?.pnl).toBe(U(-100_000).toString())
    expect(b.state.halt?.reason).toBe('daily_loss')
  })

  it('stays halted through a manual halt; a resume over it restarts the count from that moment', () => {
    const halted = counted({halt: {reason: 'daily_loss', since: 5000, until: null, flatten: true}, mode: 'halted'})
    const bk = book(298995, 299005, {tsMs: 9000})
    const m = evaluateRisk(halted, {nowMs: 9000, book: bk, position: P, control: [{kind: 'halt', by: 'op', why: 'x'}]}, L)
    expect(m.state.halt?.reason).toBe('daily_loss')
    const r = evaluateRisk(halted, {nowMs: 9000, book: bk, position: P, control: [{kind: 'resume', by: 'op'}]}, L)
    expect(r.state.halt).toBeNull()
    expect(r.state.day).toEqual({startMs: 0, base: U(-100_000).toString(), pnl: '0'})
    expect(r.events.map((e) => e.kind)).toEqual(['resume'])
  })

  it('the naive strategy never trips it', () => {
    const n = limitsFor({strategy: {kind: 'naive'}, risk: {maxDailyLoss: 1, stopLoss: 0}})
    expect(evaluateRisk(counted(), {nowMs: 5000, book: book(298995, 299005, {tsMs: 5000}), position: P}, n).state.halt).toBeNull()
  })

  it('mm resume refuses while the same day is still at or below −maxDailyLoss', () => {
    const base = {haltKind: 'daily_loss' as const, haltUntilMs: null, nowMs: 5000, unrealised: '0', stopLoss: 0, flat: true, maxDailyLoss: 1}
    expect(resumeBlocker({...base, dayPnl: '-1'})).toEqual({kind: 'daily_loss', dayPnl: '-1', maxDailyLoss: 1, message: 'the daily loss limit still holds: PnL since 00:00 UTC -1 ≤ −risk.maxDailyLoss 1'})
    expect(resumeBlocker({...base, dayPnl: '-0.99999'})).toBeNull()
    expect(resumeBlocker({...base, dayPnl: undefined})).toBeNull()
    expect(resumeBlocker({...base, dayPnl: '-5', maxDailyLoss: 0})).toBeNull()
  })
})
