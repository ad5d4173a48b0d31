/**
 * When `mm resume` may clear a halt (SPEC §4.2, §4.3): a manual halt clears at once; an
 * automatic halt only once its condition is gone — a stop-loss while the unrealised PnL
 * is still below `risk.stopLoss`, a shock halt during its watch-only period. `--force`
 * overrides (the risk machine still re-trips a stop-loss whose loss remains).
 * Pure: the caller supplies the clock, the PnL and the limit.
 */
import {PlainDecimal} from '../domain/decimal.js'

export type ResumeBlocker =
  | {kind: 'stop_loss'; unrealised: string; stopLoss: number; message: string}
  | {kind: 'shock'; untilMs: number; leftMs: number; message: string}

export interface ResumeInput {
  /** the halt's kind (null = not halted) */
  haltKind: 'manual' | 'stop_loss' | 'shock' | null
  /** ms; null = no end */
  haltUntilMs: number | null
  nowMs: number
  /** unrealised PnL now (quote currency decimal string) */
  unrealised: string
  /** risk.stopLoss (negative; 0 = off) */
  stopLoss: number
  /** net position is zero */
  flat: boolean
}

export function resumeBlocker(i: ResumeInput): ResumeBlocker | null {
  if (i.haltKind === 'stop_loss' && i.stopLoss < 0 && !i.flat && new PlainDecimal(i.unrealised).lt(i.stopLoss)) {
    return {kind: 'stop_loss', unrealised: i.unrealised, stopLoss: i.stopLoss, message: `the stop-loss condition still holds: unrealised PnL ${i.unrealised} < risk.stopLoss ${i.stopLoss}`}
  }
  if (i.haltKind === 'shock' && i.haltUntilMs !== null && i.nowMs < i.haltUntilMs) {
    const left = i.haltUntilMs - i.nowMs
    return {kind: 'shock', untilMs: i.haltUntilMs, leftMs: left, message: `the shock halt's watch-only period still runs (${Math.ceil(left / 1000)} s left)`}
  }
  return null
}
