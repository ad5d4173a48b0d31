/**
 * When `mm resume` may clear a halt (SPEC §4.2, §4.3, §4.6): a manual halt clears at once;
 * an automatic halt only once its condition is gone — a stop-loss while the unrealised PnL
 * is still below `risk.stopLoss`, a shock halt during its watch-only period, a daily-loss
 * halt while the day's PnL (same UTC day) is still at or below −`risk.maxDailyLoss`, a
 * storm halt while the venue's ban (418) lasts. `--force` overrides (the risk machine
 * still re-trips a stop-loss whose loss remains; a forced resume over a daily-loss halt
 * starts the day's count again from that moment).
 * Pure: the caller supplies the clock, the PnL and the limit.
 */
import {PlainDecimal} from '../domain/decimal.js'

export type ResumeBlocker =
  | {kind: 'stop_loss'; unrealised: string; stopLoss: number; message: string}
  | {kind: 'shock'; untilMs: number; leftMs: number; message: string}
  | {kind: 'daily_loss'; dayPnl: string; maxDailyLoss: number; message: string}
  | {kind: 'storm'; untilMs: number; leftMs: number; message: string}

export interface ResumeInput {
  /** the halt's kind (null = not halted) */
  haltKind: 'manual' | 'stop_loss' | 'shock' | 'daily_loss' | 'storm' | null
  /** ms; null = no end */
  haltUntilMs: number | null
  nowMs: number
  /** unrealised PnL now (quote currency decimal string) */
  unrealised: string
  /** risk.stopLoss (negative; 0 = off) */
  stopLoss: number
  /** net position is zero */
  flat: boolean
  /** the day's PnL (quote currency decimal string) of the current UTC day; absent = unknown or another day */
  dayPnl?: string
  /** risk.maxDailyLoss (positive; 0 = off) */
  maxDailyLoss?: number
}

export function resumeBlocker(i: ResumeInput): ResumeBlocker | null {
  if (i.haltKind === 'stop_loss' && i.stopLoss < 0 && !i.flat && new PlainDecimal(i.unrealised).lt(i.stopLoss)) {
    return {kind: 'stop_loss', unrealised: i.unrealised, stopLoss: i.stopLoss, message: `the stop-loss condition still holds: unrealised PnL ${i.unrealised} < risk.stopLoss ${i.stopLoss}`}
  }
  if (i.haltKind === 'shock' && i.haltUntilMs !== null && i.nowMs < i.haltUntilMs) {
    const left = i.haltUntilMs - i.nowMs
    return {kind: 'shock', untilMs: i.haltUntilMs, leftMs: left, message: `the shock halt's watch-only period still runs (${Math.ceil(left / 1000)} s left)`}
  }
  const max = i.maxDailyLoss ?? 0
  if (i.haltKind === 'daily_loss' && max > 0 && i.dayPnl !== undefined && new PlainDecimal(i.dayPnl).lte(-max)) {
    return {kind: 'daily_loss', dayPnl: i.dayPnl, maxDailyLoss: max, message: `the daily loss limit still holds: PnL since 00:00 UTC ${i.dayPnl} ≤ −risk.maxDailyLoss ${max}`}
  }
  if (i.haltKind === 'storm' && i.haltUntilMs !== null && i.nowMs < i.haltUntilMs) {
    const left = i.haltUntilMs - i.nowMs
    return {kind: 'storm', untilMs: i.haltUntilMs, leftMs: left, message: `the venue's ban still runs (${Math.ceil(left / 1000)} s left)`}
  }
  return null
}
