/**
 * Risk vocabulary (SPEC §4): the state machine's state, its events and limits.
 * Precedence of modes: halted > paused > reduce_only > normal.
 */
import type {Steps} from '../domain/instrument.js'
import type {OrderSide} from '../domain/orders.js'

/** One UTC day in ms (§4.6 daily loss: days start at multiples of it, 00:00 UTC) */
export const DAY_MS = 86_400_000

/** The risk machine's mode (the one definition; the strategy and the event log use it). */
export type RiskMode = 'normal' | 'reduce_only' | 'halted' | 'paused'

export type HaltReason = 'stop_loss' | 'shock' | 'manual' | 'daily_loss' | 'storm'
export type PauseReason = 'stale_book' | 'book_not_ready' | 'crossed_book' | 'one_sided_book'

export interface HaltInfo {
  reason: HaltReason
  /** ms */
  since: number
  /** ms; null = until `mm resume` (stop-loss, or a manual halt without an end) */
  until: number | null
  /** who / why (manual halts) */
  by?: string
  why?: string
  /** close the position with reduce-only IOCs while halted (stop-loss, `mm flatten`) */
  flatten: boolean
  /** the flatten reached net = 0 (the halt stays until resume / its end) */
  flattened?: boolean
  /** slippage cap for the flatten IOCs (fraction of mid); default risk.reduceOnlyMaxSlippagePct */
  maxSlippagePct?: number
}

/** Operator requests that reach the core (from `mm halt` / `mm resume` / `mm flatten`). */
export type ControlRequest =
  | {
      kind: 'halt'
      by?: string
      why?: string
      untilMs?: number | null
      /**
       * A halt carried over from the previous run (state.json): it is restored as that kind,
       * since `sinceMs`, so the resume rule of its kind (§4.2, §4.6) still holds after a
       * restart, and a manual halt keeps its start. Absent = a new manual halt.
       */
      carried?: {reason: HaltReason; sinceMs: number; flatten: boolean}
    }
  | {kind: 'resume'; by?: string}
  | {kind: 'flatten'; by?: string; why?: string; maxSlippagePct?: number}

export interface RiskState {
  mode: RiskMode
  halt: HaltInfo | null
  pause: PauseReason | null
  /** |net| ≥ reduce-only threshold, booked or effective (booked + unbooked fills, live) (tracked in every mode) */
  reduceOnly: boolean
  /** 1-second mid samples for the shock rule: [ms, mid2], newest last, at most 2 */
  shockRefs: Array<[number, number]>
  /** last mid2 of a healthy book (fallback pricing of flatten IOCs) */
  lastMid2: number | null
  /** netMax currently cutting orders on that side */
  netMaxCapped: {BUY: boolean; SELL: boolean}
  /** monotone counters for metrics */
  counters: {netMaxCuts: number; stopLoss: number; shock: number; stale: number; nonReducingDropped: number}
  /**
   * 4.6 daily loss: the UTC day being counted (its 00:00 in ms), the PnL basis at its start
   * (realised + unrealised − fees, cost units as a decimal string: the state is JSON) and
   * the latest day PnL (cost units, string); null before the first usable mid. A base of
   * null carries `pnl` over from an earlier run of the same day (set at the first mid).
   */
  day: {startMs: number; base: string | null; pnl: string} | null
  /** 4.6 liquidation: the venue's liquidation price is closer than the limit (→ reduce-only) */
  liqNear: boolean
  /** the venue's pace (rate governor verdict mode) at the last decision: 'normal' | 'slow' | 'paused' | 'stopped' */
  pace: string
  /** under a pace factor > 1: until this time (ms) resting dynamic quotes are not re-priced (0 = no hold) */
  paceHoldUntil: number
}

/**
 * What the venue tells the risk rules (live only; absent in dry-run and replay): the
 * position's liquidation price and the mark (positionRisk), and the rate governor's verdict.
 */
export interface VenueRisk {
  /** liquidation price in ticks (0 or null: none, e.g. flat or fully collateralised) */
  liquidationTicks?: number | null
  /** mark price in ticks */
  markTicks?: number | null
  /**
   * PERCENT_PRICE of the mark (exchangeInfo multipliers × positionRisk's mark, in ticks): a
   * BUY is priced no higher than `maxBuyTicks` (cap rounded down), a SELL no lower than
   * `minSellTicks` (floor rounded up); the core clamps its intents to them. Absent, null or
   * non-finite (no band known): no clamp.
   */
  maxBuyTicks?: number | null
  minSellTicks?: number | null
  /** the rate governor: mode, refresh-interval factor (≥ 1), why, and when a stop ends (ms) */
  pace?: {mode: 'normal' | 'slow' | 'paused' | 'stopped'; factor: number; reason: string; until?: number}
}

export type RiskEventKind =
  | 'reduce_only_enter'
  | 'reduce_only_exit'
  | 'net_max'
  | 'net_max_clear'
  | 'stop_loss'
  | 'shock'
  | 'halt'
  | 'halt_end'
  | 'resume'
  | 'flatten'
  | 'flatten_done'
  | 'pause'
  | 'pause_end'
  | 'non_reducing_dropped'
  | 'daily_loss'
  | 'liquidation_near'
  | 'liquidation_clear'
  | 'venue_pace'
  | 'storm'
  | 'audit'
  /** live, --order-transport ws: orders moved to REST (WebSocket API down) or back (info only) */
  | 'order_transport'

/** A `risk_event` log line (SPEC §5): kind, the values that triggered it, the thresholds. */
export interface RiskEvent {
  type: 'risk_event'
  ts: number
  kind: RiskEventKind
  /** mode before and after this decision step */
  from: RiskMode
  to: RiskMode
  side?: OrderSide
  reason?: string
  values: Record<string, number | string | null>
  thresholds: Record<string, number | string | null>
}

/** The config limits the risk rules need, resolved once (see limits.ts). */
export interface RiskLimits {
  /** strategy.kind === 'naive': only netMax, manual halts and an unusable book apply */
  naive: boolean
  netMaxSteps: Steps
  reduceOnlyThresholdSteps: Steps
  /** stopLoss in position cost units (rounded up), null when off */
  stopLossUnits: bigint | null
  /** the configured stopLoss, quote currency (for events) */
  stopLoss: number
  shockPct: number
  /** the sampling period of the shock reference mid (ms) */
  shockWindowMs: number
  haltMs: number
  staleBookMs: number
  reduceOnlyMaxSlippagePct: number
  /** 4.6: the daily loss limit in cost units (positive, rounded up), null when off */
  maxDailyLossUnits: bigint | null
  /** the configured maxDailyLoss, quote currency (for events) */
  maxDailyLoss: number
  /** 4.6: fraction of the mark (0 = off) */
  minLiquidationDistancePct: number
  /** fees (quote currency decimal string) → cost units, rounded up */
  feesToUnits: (fees: string) => bigint
}

export function initialRiskState(): RiskState {
  return {
    mode: 'paused',
    halt: null,
    pause: 'book_not_ready',
    reduceOnly: false,
    shockRefs: [],
    lastMid2: null,
    netMaxCapped: {BUY: false, SELL: false},
    counters: {netMaxCuts: 0, stopLoss: 0, shock: 0, stale: 0, nonReducingDropped: 0},
    day: null,
    liqNear: false,
    pace: 'normal',
    paceHoldUntil: 0,
  }
}
