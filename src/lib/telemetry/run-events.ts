/**
 * The run event log: one JSON object per line under <state-dir>/runs/<run>/events.jsonl.
 * Every run (live, dry-run, replay) writes the same shapes, so `mm report` and a diff of
 * a live run against its replay work the same way. Times `t` are ms from the run's clock
 * (virtual in replay), prices and quantities are the venue's decimal strings.
 * Key order is fixed by construction, so a replay's log is byte-identical run to run.
 */
import type {RiskMode} from '../risk/types.js'

/** the risk mode as logged (the risk machine's own type) */
export type RiskStateName = RiskMode

export interface RunStartEvent {
  type: 'run_start'
  t: number
  symbol: string
  mode: 'replay' | 'dry-run' | 'live'
  strategy: string
  instrument: {tickSize: string; stepSize: string; minQty: string; minNotional: string}
  source?: string
  /**
   * live and live dry-run: the ledger carried in from state.json at the start (cumulative
   * realised PnL and fees, quote currency; the position): the run's summary counts its own
   * change from here (docs/state.md "Per-run figures"). Absent in a replay (it starts at 0).
   */
  carried?: {position: string; realised: string; fees: string}
}

export interface OrderEvent {
  type: 'order'
  t: number
  action: 'place' | 'cancel'
  clientOrderId: string
  side?: 'BUY' | 'SELL'
  price?: string
  qty?: string
  tif?: string
  reduceOnly?: boolean
  layer?: string
  reason?: string
}

export interface OrderReportEvent {
  type: 'ack' | 'canceled' | 'expired' | 'reject'
  t: number
  clientOrderId: string
  code?: number
  msg?: string
}

export interface FillEvent {
  type: 'fill'
  t: number
  clientOrderId: string
  side: 'BUY' | 'SELL'
  price: string
  qty: string
  maker: boolean
  fee: string
  /** position after the fill (signed base qty) */
  position: string
  realised: string
  mid?: string
}

export interface MarkoutEvent {
  type: 'markout'
  t: number
  clientOrderId: string
  horizonMs: number
  side: 'BUY' | 'SELL'
  fillPrice: string
  mid: string
  /** mid move against the fill per unit, quote currency: buy → fill − mid, sell → mid − fill (positive = adverse) */
  adverse: string
}

export interface SampleEvent {
  type: 'sample'
  t: number
  mid: string | null
  bid: string | null
  ask: string | null
  ownBid: string | null
  ownAsk: string | null
  position: string
  realised: string
  unrealised: string
  fees: string
  risk: RiskStateName
}

export interface CoreLogEvent {
  type: 'strategy_adjust' | 'risk_event'
  t: number
  [k: string]: unknown
}

/**
 * What the order lifecycle saw beyond the venue's plain answers (orders/lifecycle.ts):
 * `query` (a client id asked for), `in_doubt`, `settled` (a query or the recvWindow rule
 * ended an order: `status`, `by`), `duplicate_fill`, `fill_mismatch` (`reported` vs
 * `seen` steps), `unknown_order`.
 */
export interface LifecycleLogEvent {
  type: 'order_lifecycle'
  t: number
  kind: 'query' | 'in_doubt' | 'settled' | 'duplicate_fill' | 'fill_mismatch' | 'unknown_order'
  clientOrderId: string
  [k: string]: unknown
}

/**
 * What the live market feed said about the book's continuity (live and dry-run on the live
 * market; a replay has none): `book_lost` (a sequence gap, a disconnect, a snapshot the
 * stream never bridged: `reason`), `reconnect` (a market-data connection went down: `route`,
 * `reason`), `warning` (a snapshot fetch failed or did not bridge: `reason`), `bad_frame`
 * (a frame that could not be used: `reason`, `count` so far; logged at the 1st, 10th,
 * 100th, … so a stream of bad frames is no log storm). The engine's `pause` says that
 * quoting stopped; this says why.
 */
export interface FeedEvent {
  type: 'feed'
  t: number
  kind: 'book_lost' | 'reconnect' | 'warning' | 'bad_frame'
  reason: string
  [k: string]: unknown
}

export interface RunEndEvent {
  type: 'run_end'
  t: number
  reason: string
  marketEvents: number
  resyncs: number
}

export type RunEvent = RunStartEvent | OrderEvent | OrderReportEvent | FillEvent | MarkoutEvent | SampleEvent | CoreLogEvent | LifecycleLogEvent | FeedEvent | RunEndEvent
