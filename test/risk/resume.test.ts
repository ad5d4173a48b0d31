/** mm resume's refusal rule (issue 9): an automatic halt clears only once its condition is gone. */
import {describe, expect, it} from 'vitest'
import {resumeBlocker, type ResumeInput} from '../../src/lib/risk/resume.js'

const base: ResumeInput = {haltKind: 'stop_loss', haltUntilMs: null, nowMs: 10_000, unrealised: '-60', stopLoss: -50, flat: false}

describe('resumeBlocker', () => {
  const cases: Array<[string, Partial<ResumeInput>, string | null]> = [
    ['stop-loss, loss still below the limit → refused', {}, 'the stop-loss condition still holds: unrealised PnL -60 < risk.stopLoss -50'],
    ['stop-loss, loss back above the limit → allowed', {unrealised: '-49.99'}, null],
    ['stop-loss, exactly at the limit → allowed (the rule is <)', {unrealised: '-50'}, null],
    ['stop-loss, position closed → allowed', {flat: true}, null],
    ['stop-loss rule off (0) → allowed', {stopLoss: 0}, null],
    ['shock during its watch-only period → refused', {haltKind: 'shock', haltUntilMs: 12_500}, "the shock halt's watch-only period still runs (3 s left)"],
    ['shock after its period → allowed', {haltKind: 'shock', haltUntilMs: 10_000}, null],
    ['manual → allowed', {haltKind: 'manual'}, null],
    ['not halted → nothing to block', {haltKind: null}, null],
  ]
  it.each(cases)('%s', (_n, over, msg) => {
    expect(resumeBlocker({...base, ...over})?.message ?? null).toBe(msg)
  })
})
