/**
 * The venue interface the engine talks to, whatever sits behind it: the in-process paper
 * venue, the live Binance adapter, or a client of `mm sim`.
 *
 * It is event-driven and free of promises on purpose:
 *  - the engine *submits* place/cancel actions and never awaits them;
 *  - the venue *pushes* `VenueReport`s into a `ReportSink`, each stamped with `ts`, the
 *    time (ms, the engine's Clock) at which the strategy learns it;
 *  - the engine drains the sink at its own pace (`ReportQueue.drain(now)`), so a report
 *    stamped in the future (paper: response latency) stays invisible until then.
 *
 * A live adapter fits the same shape: its HTTP responses and user-data-stream messages
 * arrive asynchronously and are pushed with `ts` = local receive time.
 *
 * Prices in integer ticks, quantities in integer steps; fees are exact decimal strings.
 */
import type {Steps, Ticks} from '../domain/instrument.js'
import type {Fill, OrderAction, OrderSide, TimeInForce} from '../domain/orders.js'

/** Binance USDⓈ-M error codes the venues produce (FACTS.md §4). */
export const VenueCode = {
  /** cancel of an order the venue does not hold (unknown, filled, already gone) */
  CANCEL_REJECTED: -2011,
  /** reduce-only order that cannot reduce the position */
  REDUCE_ONLY_REJECT: -2022,
  QTY_LESS_THAN_MIN_QTY: -4004,
  QTY_GREATER_THAN_MAX_QTY: -4005,
  PRICE_LESS_THAN_MIN_PRICE: -4013,
  DUPLICATED_CLIENT_ORDER_ID: -4116,
  MIN_NOTIONAL: -4164,
  /** post-only (GTX) order that would take liquidity on arrival; no order is created */
  GTX_ORDER_REJECT: -5022,
} as const

export const VenueMessage: Record<number, string> = {
  [-2011]: 'Unknown order sent.',
  [-2022]: 'ReduceOnly Order is rejected.',
  [-4004]: 'Quantity less than min quantity.',
  [-4005]: 'Quantity greater than max quantity.',
  [-4013]: 'Price less than min price.',
  [-4116]: 'clientOrderId is duplicated',
  [-4164]: "Order's notional must be no smaller than the minimum (unless you choose reduce only)",
  [-5022]: 'Due to the order could not be executed as maker, the Post Only order will be rejected.',
}

interface ReportBase {
  clientOrderId: string
  /** ms (engine Clock): when the strategy learns this report */
  ts: number
  /** ms: when the venue produced it (exchange/matching-engine time) */
  venueTs: number
}

/** The order is live at the venue (Binance status NEW). */
export interface AckReport extends ReportBase {
  type: 'ack'
  /** the venue's own order id, when it reports one */
  venueOrderId?: string
  side: OrderSide
  price: Ticks
  qty: Steps
  tif: TimeInForce
  reduceOnly: boolean
}

/** A place or cancel request was refused; for a place no order exists. */
export interface RejectReport extends ReportBase {
  type: 'reject'
  request: 'place' | 'cancel'
  code: number
  msg: string
}

/** Part or all of an order executed. `filled`/`leaves` are the order's totals after this fill. */
export interface FillReport extends ReportBase {
  type: 'fill'
  fill: Fill
  filled: Steps
  leaves: Steps
  status: 'PARTIALLY_FILLED' | 'FILLED'
}

/** The order was cancelled at our request; `filled` = steps executed before. */
export interface CanceledReport extends ReportBase {
  type: 'canceled'
  filled: Steps
}

/**
 * The venue ended the order without a request: the unfilled rest of an IOC
 * (`IOC`), or a reduce-only order left with nothing to reduce (`REDUCE_ONLY`).
 */
export interface ExpiredReport extends ReportBase {
  type: 'expired'
  filled: Steps
  reason: 'IOC' | 'REDUCE_ONLY' | 'STP'
  /** EXPIRED_IN_MATCH: expired by self-trade prevention (default EXPIRED) */
  status?: 'EXPIRED' | 'EXPIRED_IN_MATCH'
}

/** Binance order statuses (FACTS §4). */
export type VenueOrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED' | 'EXPIRED_IN_MATCH' | 'REJECTED'

/**
 * The answer to `queryOrder(clientOrderId)` (Binance GET /fapi/v1/order by
 * origClientOrderId): the order's status and cumulative filled steps, or `found: false`
 * (-2013 "Order does not exist": never created, or a post-only reject, FACTS §4).
 */
export interface QueryReport extends ReportBase {
  type: 'query'
  found: boolean
  status?: VenueOrderStatus
  /** cumulative filled steps */
  filled?: Steps
  venueOrderId?: string
}

export type VenueReport = AckReport | RejectReport | FillReport | CanceledReport | ExpiredReport | QueryReport

/** Where a venue delivers its reports. */
export interface ReportSink {
  push(report: VenueReport): void
}

/** What the engine calls on any venue. */
export interface Venue {
  /**
   * Send a place or cancel. Never throws for venue-side refusals: those come back as
   * `reject` reports. The venue stamps the send time from its Clock.
   */
  submit(action: OrderAction): void
  /**
   * Send a decision's places and cancels together, as `submit` of each in turn would (the
   * same reports come back, one per action); a venue may group them into fewer requests
   * (the Binance adapter: two or more cancels in one batch request). Optional.
   */
  submitAll?(actions: readonly OrderAction[]): void
  /**
   * Ask for the state of one of our orders by client id; the answer comes back as a
   * `query` report. The order lifecycle uses it to settle a place or cancel in doubt.
   */
  queryOrder(clientOrderId: string): void
  /**
   * Steps the venue showed filled (an answer's executedQty) whose fills have not been
   * reported yet, by the orders' side; undefined when none. The engine counts them against
   * netMax (4.1) until the fills are booked. Optional (live Binance adapter only).
   */
  unbookedSteps?(): {BUY: number; SELL: number} | undefined
}

/**
 * A time-ordered report queue: the default ReportSink. Reports are released by
 * `drain(now)` once `ts <= now`, in `ts` order and, for equal `ts`, in push order.
 */
export class ReportQueue implements ReportSink {
  private items: VenueReport[] = []
  private listener: ((report: VenueReport) => void) | undefined

  /**
   * Be told of every push (the live driver wakes the loop on it, so a report from the venue
   * is acted on at once). One listener; `undefined` removes it.
   */
  listen(fn: ((report: VenueReport) => void) | undefined): void {
    this.listener = fn
  }

  push(report: VenueReport): void {
    this.insert(report)
    this.listener?.(report)
  }

  private insert(report: VenueReport): void {
    const items = this.items
    // common case: pushed in time order
    let i = items.length
    while (i > 0 && items[i - 1].ts > report.ts) i--
    if (i === items.length) items.push(report)
    else items.splice(i, 0, report)
  }

  /** Remove and return every report with ts <= now. */
  drain(now: number): VenueReport[] {
    const items = this.items
    let n = 0
    while (n < items.length && items[n].ts <= now) n++
    if (n === 0) return []
    return items.splice(0, n)
  }

  /** ts of the earliest pending report, or Infinity when empty (lets a virtual clock jump there). */
  nextTs(): number {
    return this.items.length > 0 ? this.items[0].ts : Number.POSITIVE_INFINITY
  }

  get size(): number {
    return this.items.length
  }
}
