/**
 * Vocabulary of the pure strategy: its input, its state and its output.
 * Prices are integer ticks, sizes integer lot steps; floats only for factors and the mid.
 */
import type {BookView} from '../book/types.js'
import type {Steps, Ticks} from '../domain/instrument.js'
import type {OrderIntent, OrderSide, TimeInForce, WorkingOrder} from '../domain/orders.js'

import type {RiskMode} from '../risk/types.js'

export type {RiskMode}

export interface PositionView {
  /** signed position in lot steps (long > 0) */
  net: Steps
  /** average entry price in ticks, may be fractional; ignored when net = 0 */
  avgCost: number
}

export interface QuoteInput {
  book: BookView
  position: PositionView
  /** every order the venue holds or that is in flight, ours only */
  working: readonly WorkingOrder[]
  riskMode: RiskMode
  /** ms (injected clock) */
  nowMs: number
}

/** How a side's price was chosen. */
export type SideMode = 'formula' | 'join' | 'take_profit' | 'reduce_ioc' | 'none'

export interface SideState {
  /** post-only rejects counted for the back-off; +1 per reject, −1 per accepted post-only order */
  rejects: number
  /** no joining on this side before this time (ms) */
  joinCooldownUntil: number
  /** plain GTC limit allowed on this side until this time (ms); 0 = not degraded */
  degradeUntil: number
  /** last few prices this side quoted in join mode (to recognise a joined fill) */
  joinPrices: Ticks[]
  /** no joining on this side before this time (ms): joinFillCooldownMs after its last fill (absent in older checkpoints = 0) */
  fillJoinUntil?: number
  /** times (ms) of this side's instant retries within the last instantRetryWindowMs (absent in older checkpoints = none) */
  retryTimes?: number[]
}

export interface AdverseWatch {
  side: OrderSide
  price: Ticks
  untilMs: number
}

export interface StrategyState {
  /** last mid seen (ticks, may be x.5), null before the first */
  lastMid: number | null
  /** start of the 1-second grid of the latest mid sample (ms), null before the first */
  lastSampleMs: number | null
  /** mid of the latest 1-second sample */
  lastSampleMid: number | null
  /** 1-second absolute relative mid changes: [sample time ms, r] */
  samples: Array<[number, number]>
  buy: SideState
  sell: SideState
  /** joined fills under watch for an adverse mid move */
  adverse: AdverseWatch[]
  /** reduce-only IOCs that came back EXPIRED in a row */
  iocExpiredStreak: number
  /** fingerprint of the last emitted quote (a change emits strategy_adjust) */
  lastKey: string
}

export interface DepthEstimate {
  /** VWAP (ticks, fractional) of the quantity available within the cap; null when none */
  depthFillPrice: number | null
  /** steps available within the cap, at most the quantity asked for */
  depthFillAvailable: Steps
  /** cost of the VWAP against mid as a fraction (positive = worse than mid); null when none */
  depthSlippage: number | null
  /** the worst level price needed (ticks), -1 when none */
  worstPrice: Ticks
}

export interface StrategyAdjustEvent {
  type: 'strategy_adjust'
  ts: number
  /** what changed: 'quote', 'no_book', 'risk_mode', 'post_only_reject', 'backoff_decay', 'degrade_off', 'join_adverse', 'order_dropped', 'reduce_ioc', 'ioc_expired', 'instant_retry' */
  reason: string
  side?: OrderSide
  spread?: number
  volatilityFactor?: number
  inventoryFactor?: number
  /** ms */
  quoteInterval?: number
  /** ticks; null when the side is not quoted */
  bid?: Ticks | null
  ask?: Ticks | null
  bidPrice?: string | null
  askPrice?: string | null
  /** 'join' when either side joins inside the spread, else 'formula' */
  mode?: 'join' | 'formula'
  bidMode?: SideMode
  askMode?: SideMode
  bidTif?: TimeInForce | null
  askTif?: TimeInForce | null
  backoffTicks?: {buy: number; sell: number}
  depthFillPrice?: number | null
  depthFillAvailable?: Steps | null
  depthSlippage?: number | null
  /** orders dropped because they could not meet min qty / min notional */
  dropped?: Array<{slot: string; price: Ticks; qty: Steps; why: string}>
  riskMode?: RiskMode
  /** the centre's fair value (ticks, fractional) when strategy.fairValue is 'microprice' */
  fairValue?: number
  /** why a side that could join does not (3.3): 'net_fraction', 'fill_cooldown', 'cooldown', 'backoff'; absent when joining is off or the book/volatility rule it out */
  joinBlocked?: {buy?: JoinBlock; sell?: JoinBlock}
  detail?: string
  /**
   * PERCENT_PRICE (live): a side's price before the core clamped it into the band of the
   * mark (ticks); bid/ask are the prices sent. Absent when no clamp moved a side's price.
   */
  clampedFrom?: {bid?: Ticks; ask?: Ticks}
}

export type JoinBlock = 'net_fraction' | 'fill_cooldown' | 'cooldown' | 'backoff'

export interface QuoteResult {
  /**
   * The orders wanted now. An intent equal (slot, side, price, qty, tif, reduceOnly) to a
   * working order means: keep that order. A working order whose slot is absent: cancel it.
   */
  intents: OrderIntent[]
  state: StrategyState
  events: StrategyAdjustEvent[]
  /** when to quote again at the latest (ms) */
  nextRefreshMs: number
}

export interface HandlerResult {
  state: StrategyState
  events: StrategyAdjustEvent[]
  /** orders to send at once (instant retry) */
  intents: OrderIntent[]
}

export function initialSideState(): SideState {
  return {rejects: 0, joinCooldownUntil: 0, degradeUntil: 0, joinPrices: [], fillJoinUntil: 0, retryTimes: []}
}

export function initialStrategyState(): StrategyState {
  return {
    lastMid: null,
    lastSampleMs: null,
    lastSampleMid: null,
    samples: [],
    buy: initialSideState(),
    sell: initialSideState(),
    adverse: [],
    iocExpiredStreak: 0,
    lastKey: '',
  }
}
