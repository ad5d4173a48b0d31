/**
 * The Binance venue adapter: the engine's `Venue` (submit / queryOrder, never awaited)
 * over the signed REST gateway, and the user data stream's order updates, all turned into
 * the reports the order-lifecycle reducer takes.
 *
 *  - place → POST /fapi/v1/order with the intent exactly as decided (GTX stays GTX,
 *    `selfTradePreventionMode` always sent). Answer → `ack` (at the quantity the venue
 *    holds: a reduce-only order the venue clipped is acked at the clipped quantity); a
 *    definitive refusal → `reject` with Binance's code; an unknown outcome (timeout, reset,
 *    5xx, -1006/-1007) → **no report**: the lifecycle holds the order in doubt and settles it
 *    with `queryOrder`, never with a second order.
 *  - cancel → DELETE /fapi/v1/order → `canceled`, or `reject` (e.g. -2011), or nothing
 *    when the outcome is unknown (the lifecycle re-cancels).
 *  - queryOrder → GET /fapi/v1/order → `query` (found with status and cumulative fill, or
 *    not found on -2013).
 *  - safety nets before a place leaves the process (local rejects, nothing sent): the rate
 *    governor pausing new orders (-1015), PERCENT_PRICE against the last known mark
 *    (-4016 / -4024), MAX_NUM_ORDERS (-2025).
 *  - `onUserEvent`: ORDER_TRADE_UPDATE → ack / fill / canceled / expired; ACCOUNT_UPDATE →
 *    the venue's position (for the audit). Duplicates with REST answers are absorbed by
 *    the reducer (fills by trade id, status forward only).
 *  - `audit()`: the periodic REST audit (audit.ts): strays cancelled, missing orders
 *    queried, fills the stream missed fetched from userTrades and reported, the stream
 *    marked suspect.
 */
import type {Clock} from '../../clock/clock.js'
import {PlainDecimal} from '../../domain/decimal.js'
import type {Instrument, Steps} from '../../domain/instrument.js'
import type {OrderAction, OrderIntent, OrderSide} from '../../domain/orders.js'
import type {ReportSink, Venue, VenueOrderStatus, VenueReport} from '../types.js'
import {audit, type AuditResult, type AuditWorking} from './audit.js'
import {BinanceApiError} from './errors.js'
import type {BinanceGateway, PreparedCancelBatch} from './gateway.js'
import type {RateGovernor} from './rate-governor.js'
import type {BinanceOrder, BinanceTrade, StpMode} from './rest-types.js'
import type {OrderTransport} from './ws-orders.js'
import {type OrderUpdate, orderUpdateReports, type UserEvent} from './user-events.js'

export interface BinanceVenueOptions {
  gateway: BinanceGateway
  /** place / cancel / query go here when given (`--order-transport ws`: ws-orders.ts's router); default the REST gateway */
  orders?: OrderTransport
  instrument: Instrument
  clock: Clock
  sink: ReportSink
  stp: StpMode
  governor?: RateGovernor
  /** MAX_NUM_ORDERS of the symbol */
  maxOpenOrders?: number
  /** PERCENT_PRICE multipliers (decimal strings) */
  percentPrice?: {multiplierUp: string; multiplierDown: string}
  /** is this client id one of ours (this instance)? */
  isOurs: (clientOrderId: string) => boolean
  /**
   * is this client id one of this run's? Stream events of an earlier run's orders are
   * dropped: those orders were cancelled before the start position was read, so their
   * fills are already inside it (counting them again was the restart drift of issue 10).
   * Absent: every order of ours counts.
   */
  isThisRun?: (clientOrderId: string) => boolean
  /** told of problems worth a log line (never a secret) */
  onProblem?: (message: string) => void
  /**
   * send a decision's two or more cancels as one DELETE /fapi/v1/batchOrders (≤ 10 a
   * request) instead of one DELETE /fapi/v1/order each; default true on the REST gateway.
   * Never with another order transport (the WebSocket API has no batch cancel).
   */
  batchCancels?: boolean
  /**
   * an answer (place, cancel, query) showing more of an order filled than the stream told:
   * after this long (ms; default 1000), if the stream still has not told, the fills are
   * read back from userTrades at once instead of at the next audit's position check
   */
  unseenFillDelayMs?: number
  /**
   * the symbol's margin asset (exchangeInfo `marginAsset`): a fill whose fee the stream
   * names in another asset (BNB: the account's BNB fee discount, turned on while the run
   * trades; the start refuses it) is said once per asset, as mm books every fee in this one
   */
  marginAsset?: string
}

const LOCAL = {TOO_MANY_ORDERS: -1015, MAX_OPEN: -2025, PRICE_UP: -4016, PRICE_DOWN: -4024} as const
/**
 * A local reject is stamped this far in the future: the engine re-decides after a reject,
 * and a reject in the same turn would make a busy loop of place → local reject → place that
 * starves the process's I/O (seen in the e2e). At most a few local rejects per second.
 */
export const LOCAL_REJECT_DELAY_MS = 250

/** DELETE /fapi/v1/batchOrders takes at most 10 ids */
const BATCH_CANCEL_MAX = 10
/** venue order ids remembered for userTrades (`remember`): at most this many, pruned down to the second */
const BY_ORDER_ID_MAX = 20_000
const BY_ORDER_ID_KEEP = 15_000
/** client ids remembered as ended (`ended`) */
const ENDED_MAX = 10_000
/** orders looked up by venue id in one `recoverFills` (a trade whose order id the adapter does not know) */
const RECOVER_LOOKUPS_MAX = 10
/** userTrades' page (its maximum `limit`) */
const USER_TRADES_PAGE = 1000
/** pages of userTrades one `recoverFills` reads at most (weight 5 each); a read that reached it goes on from there next time */
const RECOVER_PAGES_MAX = 5
/** the read of a user-stream gap the adapter starts itself (`noteStreamResync`) is tried this many times at most */
const GAP_READ_TRIES = 5
/** the gap's read waits out a read hold (429 back-off, 418 ban) in steps of at most this long */
const GAP_READ_HOLD_MAX_MS = 60_000
/** venue order ids known not to be this run's (`notThisRun`) */
const NOT_THIS_RUN_MAX = 10_000
/** client ids whose filled quantity the stream told (`told`) */
const TOLD_MAX = 20_000
/** venue trade ids already reported (stream or read-back), the newest (`reportedTrades`) */
const REPORTED_TRADES_MAX = 20_000
/**
 * how far before this run's start a read-back with no trade id to start from looks (ms):
 * an order of this run cannot have traded earlier (clock offsets included)
 */
const RUN_START_MARGIN_MS = 60_000

/**
 * The requests a decision's cancels leave in, as the adapter sends them (`submitAll`): with
 * batching and two or more ids, groups of at most 10 ids, each a DELETE /fapi/v1/batchOrders
 * (a last group of one goes to DELETE /fapi/v1/order); else one group per id. Shared with the
 * start-up warm-up's request build (warm-build.ts), which must build what is sent.
 */
export function cancelGroups(ids: readonly string[], batch: boolean): string[][] {
  if (!batch || ids.length < 2) return ids.map((id) => [id])
  const out: string[][] = []
  for (let k = 0; k < ids.length; k += BATCH_CANCEL_MAX) out.push(ids.slice(k, k + BATCH_CANCEL_MAX))
  return out
}


/** an unfilled IOC at the PERCENT_PRICE band's edge reads the mark again at most this often (weight 1 each) */
const MARK_REREAD_GAP_MS = 1000
export class BinanceVenue implements Venue {
  /** requests sent and not answered yet */
  inFlight = 0
  /** batch cancels sent as signed ahead (`afterBook`) */
  presignedCancels = 0
  /** cancels left unsent during a 418 ban or a 429 back-off (cancelsHeldNow) */
  cancelsHeld = 0
  private lastHoldNote?: string
  /** orders whose cancel went out during the current 429 back-off (retries wait for its end) */
  private readonly triedInBackoff = new Set<string>()
  /** places refused locally (nothing sent), by code */
  readonly localRejects: Record<number, number> = {}
  /** the venue's position in steps, from ACCOUNT_UPDATE or the audit */
  venuePosition: Steps | undefined
  /** the venue's entry price (decimal string) reported with `venuePosition` (the last audit's positionRisk or ACCOUNT_UPDATE) */
  venueEntryPrice: string | undefined
  /** user-stream order updates of an earlier run's orders, dropped (their fills are in the start position) */
  earlierRunUpdates = 0
  /** §4.6: the position's liquidation price and the mark, in ticks, from positionRisk (start-up, audit); 0 = none */
  liquidationTicks = 0
  markTicks = 0
  private readonly o: BinanceVenueOptions
  private readonly inst: Instrument
  private readonly symbol: string
  /** where place / cancel / query go: the REST gateway, or the WebSocket API router */
  private readonly orders: OrderTransport
  /** our open orders at the venue as far as answers and the stream tell (for MAX_NUM_ORDERS) */
  private readonly open = new Set<string>()
  /**
   * client ids the venue said ended (a final status on the stream, a cancel's or a query's
   * answer), the newest ENDED_MAX: a later answer that still shows one live (a place's
   * answer or a query read before the stream's final event came in) does not make it open
   * again. Before, each such race left an id in `open` for good, and once they reached
   * MAX_NUM_ORDERS every place, reduce-only ones too, was refused locally (-2025).
   */
  private readonly ended = new Set<string>()
  /** venue order id → client id, for userTrades (which carry only the order id); bounded (`remember`) */
  private readonly byOrderId = new Map<number, string>()
  /** venue order ids a lookup showed are not this run's (foreign, an earlier run's, unknown to the venue) */
  private readonly notThisRun = new Set<number>()
  /** client id → steps filled as the stream (or a read-back) told, the newest TOLD_MAX */
  private readonly told = new Map<string, Steps>()
  /** client id → steps filled as an answer showed, more than `told`: a read-back is due */
  private readonly unseen = new Map<string, Steps>()
  /**
   * client id → the order's side and the steps filled an answer showed, while more than
   * `told` (the position has not booked them): `unbookedSteps`, for netMax. Unlike
   * `unseen` it stays while a read-back runs; an entry goes once the fills are told, or
   * when an audit finds the venue's position equal to ours.
   */
  private readonly unbooked = new Map<string, {side: OrderSide; steps: Steps}>()
  private readBackTimer: NodeJS.Timeout | undefined
  private readingBack = false
  /** the run ended (`stop`): no read-back is scheduled or started any more */
  private stopped = false
  /** fee assets other than the margin asset already said (`onOrderUpdate`) */
  private readonly otherFeeAssets = new Set<string>()
  /** userTrades read-backs made because an answer showed fills the stream had not told */
  unseenFillReadBacks = 0
  /** is the adapter's own read of a user-stream gap waiting for its delay? (tests) */
  get gapReadPending(): boolean {
    return this.gapReadTimer !== undefined
  }
  /** is a read-back of unseen fills waiting for its delay or running? (tests) */
  get readBackPending(): boolean {
    return this.readBackTimer !== undefined || this.readingBack
  }
  /**
   * Steps an answer showed filled that the stream (or a read-back) has not told yet, of
   * orders the venue said ended, by the orders' side: fills the venue's position holds and
   * ours does not, while the order no longer counts among the working ones. The engine
   * hands them to the decision (4.1 counts them on their side until they are booked). An
   * order still live is left out: its working remaining (quantity less the fills booked)
   * already holds them. Undefined when there are none (the usual case: no object made).
   */
  unbookedSteps(): {BUY: Steps; SELL: Steps} | undefined {
    if (this.unbooked.size === 0) return undefined
    let buy = 0
    let sell = 0
    for (const [id, u] of this.unbooked) {
      if (!this.ended.has(id)) continue
      const n = Math.max(0, u.steps - (this.told.get(id) ?? 0))
      if (u.side === 'BUY') buy += n
      else sell += n
    }
    return buy === 0 && sell === 0 ? undefined : {BUY: buy, SELL: sell}
  }
  /** mark price in ticks bounds (PERCENT_PRICE) */
  private maxBuyTicks = Number.POSITIVE_INFINITY
  private minSellTicks = 0
  private lastTradeTime = 0
  /**
   * the highest venue trade id reported (stream or read back): the next read-back starts
   * after it (`fromId`), so a fill already reported is never reported again (by time, the
   * last one came back each time, and was booked twice once the lifecycle had forgotten
   * its order: closed > retainClosedMs ago)
   */
  private lastTradeId = 0
  /**
   * where the last read-back stopped (a lookup that failed, or the lookups' cap): the next
   * one starts there even when the stream has told later trades since (which move
   * `lastTradeId` past it)
   */
  private readFrom: number | undefined
  /**
   * where the read-backs start while a user-stream gap may hold a fill of ours the stream
   * never told (`noteStreamResync`): the trade id after the last one reported when the
   * stream came back, or, with none reported yet, the time this run's reads start from.
   * A fill in the gap the new stream does not replay sits below the `fromId` cursor once
   * the new stream tells a later fill; the reads start here until one that began after
   * the gap has read past it
   */
  private gapFloor: {fromId: number} | {startTime: number} | undefined
  /** gaps noted (`noteStreamResync`): a read-back that began before the last one does not clear `gapFloor` */
  private gaps = 0
  /** `reported` when `gapFloor` was set: past REPORTED_TRADES_MAX trades reported since, `reportedTrades` may have forgotten some above it */
  private gapReported = 0
  /** trades reported (`noteReported`, new ids), in all */
  private reported = 0
  /** the gap's read the adapter starts itself, waiting for its delay */
  private gapReadTimer: NodeJS.Timeout | undefined
  /** reads of a user-stream gap the adapter started itself (tests) */
  gapReads = 0
  /** trade ids already reported (the stream or a read-back): a read-back reports none twice */
  private readonly reportedTrades = new Set<number>()
  /** the read-back of fills on its way (`recoverFills`): the audit's and the unseen fills' run one at a time */
  private recovering: Promise<number> | undefined
  /** wall time this adapter started (the run): trades older than it minus RUN_START_MARGIN_MS are not this run's */
  private readonly startedAt: number
  /** cancels of one decision go as one batch request (REST gateway only) */
  private readonly batchCancels: boolean
  /** batch cancels of open orders signed ahead (`afterBook`): every open order's first, then each layer's */
  private prepared: PreparedCancelBatch[] = []
  private prepareQueued = false
  /** the layer of each order placed (the groups of the pre-signed cancels), pruned to the open ones */
  private readonly layerOf = new Map<string, string>()

  constructor(o: BinanceVenueOptions) {
    this.startedAt = o.clock.now()
    this.o = o
    this.inst = o.instrument
    this.symbol = o.instrument.symbol
    this.orders = o.orders ?? o.gateway
    this.batchCancels = o.orders === undefined && o.batchCancels !== false
  }

  /** positionRisk's liquidation price and mark (decimal strings; '0' = none) for the §4.6 liquidation-distance rule. */
  setLiquidation(liquidationPrice: string | undefined, markPrice: string | undefined): void {
    const ticks = (p: string | undefined) => {
      if (!p || !/^\d+(\.\d+)?$/.test(p)) return 0
      try {
        return this.inst.priceToTicks(p, 'down')
      } catch {
        return 0
      }
    }
    this.liquidationTicks = ticks(liquidationPrice)
    const m = ticks(markPrice)
    if (m > 0) this.markTicks = m
  }

  /**
   * A mark price (decimal string: the mark price stream's each second, a re-read's, the
   * audit's) → the PERCENT_PRICE bounds and the §4.6 liquidation rule's mark (before, that
   * one moved only with the audit's positionRisk, up to live.auditIntervalMs old in the
   * fast market the rule is for).
   */
  setMark(markPrice: string): void {
    // no mark (0, "0.00000000"): the band stays as it was (a cap of 0 refused every BUY here while the core saw no band)
    if (new PlainDecimal(markPrice).isZero()) return
    try {
      const m = this.inst.priceToTicks(markPrice, 'down')
      if (m > 0 && Number.isSafeInteger(m)) this.markTicks = m
    } catch {
      // a mark the instrument cannot hold: the rule keeps the last one
    }
    const p = this.o.percentPrice
    if (!p) return
    const up = new PlainDecimal(markPrice).mul(p.multiplierUp).toString()
    const down = new PlainDecimal(markPrice).mul(p.multiplierDown).toString()
    this.maxBuyTicks = this.inst.priceToTicks(up, 'down')
    this.minSellTicks = this.inst.priceToTicks(down, 'up')
  }

  submit(a: OrderAction): void {
    if (a.type === 'place') this.place(a.clientOrderId, a.order)
    else this.cancel(a.clientOrderId)
  }

  /**
   * A decision's orders: places one request each, in their order; two or more cancels as
   * one batch request (≤ 10 ids each; its place in the order is the first cancel's), so a
   * re-pricing tick's 2–4 cancels leave in one signed request (one HMAC, one round trip,
   * weight 1) instead of one each. Each id's answer is reported as a single cancel's would
   * be: `canceled`, a `reject` with its own code, or nothing when the request's outcome is
   * unknown (the lifecycle settles each cancel in doubt).
   */
  submitAll(actions: readonly OrderAction[]): void {
    let cancels = 0
    for (let i = 0; i < actions.length; i++) if (actions[i].type === 'cancel') cancels++
    if (cancels < 2 || !this.batchCancels) {
      for (let i = 0; i < actions.length; i++) this.submit(actions[i])
      return
    }
    let sent = false
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i]
      if (a.type === 'place') this.place(a.clientOrderId, a.order)
      else if (!sent) {
        sent = true
        const ids: string[] = []
        for (let j = i; j < actions.length; j++) if (actions[j].type === 'cancel') ids.push(actions[j].clientOrderId)
        const p = this.takePrepared(ids)
        if (p !== undefined) {
          this.presignedCancels++
          this.cancelBatch(p.ids, p)
        } else {
          for (const g of cancelGroups(ids, true)) {
            if (g.length === 1) this.cancel(g[0])
            else this.cancelBatch(g)
          }
        }
      }
    }
  }

  queryOrder(clientOrderId: string): void {
    void this.query(clientOrderId)
  }

  /**
   * After each book message: keep the batch cancels of our open orders signed ahead —
   * one naming every open order (2–10 of them) and one per layer holding two or more of
   * them — so a re-pricing tick that cancels such a set hands over a ready request, with
   * no parameters to encode and no HMAC on the tick's path. They are signed on a later
   * turn, when no request is in flight, and again when the open orders changed, when half
   * their usable age has passed since they were signed, or when the server-time offset
   * moved. Each is sent at most once, and only while younger than that usable age
   * (`preparedMaxAgeMs`: half the recvWindow, leaving at least 1 s of it; none with a
   * recvWindow under 2 s): an older one is dropped and the cancel signed on the spot, as
   * without them. The venue sees the same request either way, but for its timestamp.
   */
  afterBook(): void {
    if (!this.batchCancels || this.prepareQueued || this.inFlight > 0 || this.o.gateway.preparedMaxAgeMs <= 0) return
    const n = this.open.size
    if (n < 2 || n > BATCH_CANCEL_MAX) {
      if (this.prepared.length > 0) this.prepared = []
      return
    }
    const all = this.prepared[0]
    if (all !== undefined && all.ids.length === n && this.o.gateway.isFresh(all, this.o.gateway.preparedMaxAgeMs / 2)) {
      let same = true
      for (let i = 0; i < n && same; i++) same = this.open.has(all.ids[i])
      if (same) return
    }
    this.prepareQueued = true
    setImmediate(this.prepare)
  }

  private readonly prepare = (): void => {
    this.prepareQueued = false
    // a decision sent requests since (a shock, the first book): its answers change the open orders; the next book message asks again
    if (this.inFlight > 0) return
    this.prepared = []
    const ids = [...this.open]
    for (const id of this.layerOf.keys()) if (!this.open.has(id)) this.layerOf.delete(id)
    if (ids.length < 2 || ids.length > BATCH_CANCEL_MAX) return
    const byLayer = new Map<string, string[]>()
    for (const id of ids) {
      const layer = this.layerOf.get(id)
      if (layer === undefined) continue
      const g = byLayer.get(layer)
      if (g === undefined) byLayer.set(layer, [id])
      else g.push(id)
    }
    try {
      const out = [this.o.gateway.prepareCancelBatch(this.symbol, ids)]
      for (const g of byLayer.values()) if (g.length >= 2 && g.length < ids.length) out.push(this.o.gateway.prepareCancelBatch(this.symbol, g))
      this.prepared = out
    } catch (err) {
      // nothing is lost: the cancels are signed when they are sent
      try {
        this.o.onProblem?.(`pre-signing the batch cancels failed: ${(err as Error).message}`)
      } catch {
        // (a log that failed: never a crash from here)
      }
    }
  }

  /** A pre-signed batch cancel naming exactly `ids` (in any order), still young enough; taken (sent once). */
  private takePrepared(ids: readonly string[]): PreparedCancelBatch | undefined {
    const list = this.prepared
    for (let k = 0; k < list.length; k++) {
      const p = list[k]
      if (p.ids.length !== ids.length) continue
      // the same set both ways (a decision naming one order twice never takes another's place)
      let same = true
      for (let i = 0; i < ids.length && same; i++) same = p.ids.includes(ids[i]) && ids.includes(p.ids[i])
      if (!same) continue
      list.splice(k, 1)
      return this.o.gateway.isFresh(p, this.o.gateway.preparedMaxAgeMs) ? p : undefined
    }
    return undefined
  }

  private now(): number {
    return this.o.clock.now()
  }

  private push(r: VenueReport): void {
    this.o.sink.push(r)
  }

  private localReject(clientOrderId: string, code: number, msg: string): void {
    this.localRejects[code] = (this.localRejects[code] ?? 0) + 1
    const t = this.now()
    this.push({type: 'reject', request: 'place', clientOrderId, code, msg, ts: t + LOCAL_REJECT_DELAY_MS, venueTs: t})
  }

  /**
   * A place handed to the transport before this returns (a plain call, not an async one:
   * no promise layer on the tick's path), its answer settled later.
   */
  private place(clientOrderId: string, order: OrderIntent): void {
    const g = this.o.governor?.verdict(this.now())
    if (g && !g.allowNewOrders) return this.localReject(clientOrderId, LOCAL.TOO_MANY_ORDERS, `not sent: rate governor ${g.mode} (${g.reason})`)
    if (this.o.maxOpenOrders !== undefined && this.open.size >= this.o.maxOpenOrders) return this.localReject(clientOrderId, LOCAL.MAX_OPEN, `not sent: ${this.open.size} open orders reach MAX_NUM_ORDERS ${this.o.maxOpenOrders}`)
    if (order.side === 'BUY' && order.price > this.maxBuyTicks) return this.localReject(clientOrderId, LOCAL.PRICE_UP, 'not sent: price above the PERCENT_PRICE cap of the mark')
    if (order.side === 'SELL' && order.price < this.minSellTicks) return this.localReject(clientOrderId, LOCAL.PRICE_DOWN, 'not sent: price below the PERCENT_PRICE floor of the mark')
    if (this.batchCancels) this.layerOf.set(clientOrderId, order.layer)
    this.inFlight++
    let answer: Promise<BinanceOrder>
    try {
      answer = this.orders.placeOrder({
        symbol: this.symbol,
        side: order.side,
        type: 'LIMIT',
        timeInForce: order.tif,
        quantity: this.inst.stepsToQty(order.qty),
        price: this.inst.ticksToPrice(order.price),
        reduceOnly: order.reduceOnly || undefined,
        newClientOrderId: clientOrderId,
        selfTradePreventionMode: this.o.stp,
      })
    } catch (err) {
      answer = Promise.reject(err)
    }
    void this.settlePlace(clientOrderId, order, answer)
  }

  private async settlePlace(clientOrderId: string, order: OrderIntent, answer: Promise<BinanceOrder>): Promise<void> {
    try {
      this.onOrderAnswer(await answer, order)
    } catch (err) {
      this.onFailure(err, clientOrderId, 'place')
    } finally {
      this.inFlight--
    }
  }

  /**
   * Keep an order's venue id → client id for `recoverFills`. Bounded for a run of weeks:
   * past BY_ORDER_ID_MAX entries the oldest ones of orders no longer open are dropped, down
   * to BY_ORDER_ID_KEEP (thousands of orders back: the fills a stream missed are read back
   * from the last fill it reported, within an audit interval).
   */
  private remember(orderId: number, clientOrderId: string): void {
    this.byOrderId.set(orderId, clientOrderId)
    if (this.byOrderId.size <= BY_ORDER_ID_MAX) return
    for (const [id, cid] of this.byOrderId) {
      if (this.byOrderId.size <= BY_ORDER_ID_KEEP) break
      if (!this.open.has(cid)) this.byOrderId.delete(id)
    }
  }

  /** size of the order-id map (tests) */
  get knownOrderIds(): number {
    return this.byOrderId.size
  }

  /** an order of ours is no longer open at the venue */
  private gone(clientOrderId: string): void {
    this.open.delete(clientOrderId)
    this.layerOf.delete(clientOrderId)
  }

  /** the venue said this order ended (a final status): gone, and never open again */
  private endedAt(clientOrderId: string): void {
    this.gone(clientOrderId)
    this.ended.add(clientOrderId)
    // the oldest first (a Set iterates in insertion order)
    for (const id of this.ended) {
      if (this.ended.size <= ENDED_MAX) break
      this.ended.delete(id)
    }
  }

  /** an answer shows the order live: open, unless the venue already said it ended */
  private live(clientOrderId: string): void {
    if (!this.ended.has(clientOrderId)) this.open.add(clientOrderId)
  }

  private onOrderAnswer(ans: BinanceOrder, order: OrderIntent): void {
    const t = this.now()
    // one literal per report, not `{...base, type}`: a spread followed by new keys gives each
    // object a hidden class of its own on Node 20 (orders/lifecycle.ts, `edit`)
    const id = ans.clientOrderId
    const vt = ans.updateTime
    this.remember(ans.orderId, ans.clientOrderId)
    const qty = this.inst.qtyToSteps(ans.origQty)
    this.push({clientOrderId: id, ts: t, venueTs: vt, type: 'ack', venueOrderId: String(ans.orderId), side: ans.side, price: order.price, qty, tif: order.tif, reduceOnly: ans.reduceOnly})
    if (ans.status === 'NEW' || ans.status === 'PARTIALLY_FILLED') this.live(ans.clientOrderId)
    else this.endedAt(ans.clientOrderId)
    const filled = this.inst.qtyToSteps(ans.executedQty)
    this.checkTold(ans.clientOrderId, ans.side, filled)
    if (ans.status === 'CANCELED') this.push({clientOrderId: id, ts: t, venueTs: vt, type: 'canceled', filled})
    else if (ans.status === 'EXPIRED' || ans.status === 'EXPIRED_IN_MATCH') this.push({clientOrderId: id, ts: t, venueTs: vt, type: 'expired', filled, reason: ans.status === 'EXPIRED_IN_MATCH' ? 'STP' : order.reduceOnly && order.tif !== 'IOC' ? 'REDUCE_ONLY' : 'IOC', status: ans.status})
    // an IOC clamped to the band's edge that took nothing: the mark may have moved away from
    // its side (a falling market under a SELL's stale floor), which no refusal would tell
    if (ans.status === 'EXPIRED' && filled === 0 && order.tif === 'IOC' && (order.side === 'SELL' ? order.price === this.minSellTicks : order.price === this.maxBuyTicks)) this.rereadMark(MARK_REREAD_GAP_MS)
  }

  private onFailure(err: unknown, clientOrderId: string, request: 'place' | 'cancel'): void {
    if (err instanceof BinanceApiError) {
      if (err.outcome === 'rejected') {
        const t = this.now()
        this.push({type: 'reject', request, clientOrderId, code: err.venueCode ?? -1, msg: err.venueMsg ?? err.message, ts: t, venueTs: t})
        if (request === 'cancel' && err.noSuchOrder) this.gone(clientOrderId)
        if (request === 'place') this.layerOf.delete(clientOrderId)
        if (request === 'place' && (err.venueCode === -4016 || err.venueCode === -4024)) this.rereadMark()
      } else {
        this.o.onProblem?.(`${request} ${clientOrderId}: ${err.message} (in doubt, settled by a query)`)
      }
      return
    }
    // a programming error in the parameters: nothing was sent
    const t = this.now()
    this.o.onProblem?.(`${request} ${clientOrderId}: ${(err as Error).message}`)
    if (request === 'place') this.push({type: 'reject', request, clientOrderId, code: -1, msg: (err as Error).message, ts: t, venueTs: t})
  }

  /**
   * Cancels wait out a 418 ban or a 429 back-off (rate-governor.ts `readsHeld`): not sent,
   * and nothing reported, so the lifecycle keeps them PENDING_CANCEL and re-sends them after
   * `orders.ackTimeoutMs` (then queries), one try per order and timeout. Before, each
   * refusal (418, answered at once) was a reject, the next decision cancelled again, and a
   * halted quote sent thousands of cancels a second to a venue that had banned it. In a
   * 429 back-off (no ban) an order's first cancel still goes out; only its retries wait.
   */
  private cancelsHeldNow(ids: readonly string[]): boolean {
    const h = this.o.governor?.readsHeld(this.now())
    if (!h) {
      this.lastHoldNote = undefined
      if (this.triedInBackoff.size > 0) this.triedInBackoff.clear()
      return false
    }
    // a 429 back-off (not a ban): each order's first cancel goes out (a quote the risk rules
    // want gone is not left up for the back-off), its retries wait for the back-off's end
    if (!h.ban && ids.some((id) => !this.triedInBackoff.has(id))) {
      for (const id of ids) this.triedInBackoff.add(id)
      return false
    }
    this.cancelsHeld += ids.length
    const note = `${h.reason}${h.until === undefined ? '' : ` until ${h.until}`}`
    if (note !== this.lastHoldNote) this.o.onProblem?.(`cancels not sent while the venue refuses us (${h.reason}); they are tried again after the order timeout; an armed dead-man's switch cancels them at the venue`)
    this.lastHoldNote = note
    return true
  }

  /** Queries wait out a 418 ban like cancels (nothing reported: the lifecycle asks again when the query is next due). */
  private queryHeldNow(): boolean {
    return this.o.governor?.readsHeld(this.now())?.ban === true
  }

  /** A cancel handed to the transport before this returns (as `place`), its answer settled later. */
  private cancel(clientOrderId: string): void {
    if (this.cancelsHeldNow([clientOrderId])) return
    this.inFlight++
    let answer: Promise<BinanceOrder>
    try {
      answer = this.orders.cancelOrder(this.symbol, clientOrderId)
    } catch (err) {
      answer = Promise.reject(err)
    }
    void this.settleCancel(clientOrderId, answer)
  }

  private async settleCancel(clientOrderId: string, answer: Promise<BinanceOrder>): Promise<void> {
    try {
      this.onCanceled(clientOrderId, await answer)
    } catch (err) {
      this.onFailure(err, clientOrderId, 'cancel')
    } finally {
      this.inFlight--
    }
  }

  private onCanceled(clientOrderId: string, ans: BinanceOrder): void {
    this.endedAt(clientOrderId)
    const t = this.now()
    const filled = this.inst.qtyToSteps(ans.executedQty)
    this.checkTold(clientOrderId, ans.side, filled)
    this.push({type: 'canceled', clientOrderId, filled, ts: t, venueTs: ans.updateTime})
  }

  /** steps of an order filled, as the stream or a read-back told */
  private noteTold(clientOrderId: string, steps: Steps): void {
    const had = this.told.get(clientOrderId)
    if (had !== undefined && had >= steps) return
    this.told.set(clientOrderId, steps)
    const u = this.unbooked.get(clientOrderId)
    if (u !== undefined && u.steps <= steps) this.unbooked.delete(clientOrderId)
    for (const id of this.told.keys()) {
      if (this.told.size <= TOLD_MAX) break
      this.told.delete(id)
    }
  }

  /**
   * An answer shows `filled` steps of an order executed: more than the stream told, and
   * the fills are read back from userTrades `unseenFillDelayMs` later unless the stream
   * tells them meanwhile. Before, such fills (a silent stream) stayed out of the position
   * until the audit's position check, up to an audit interval, while the order was known
   * filled: every bid filled and was replaced from a position believed short, and the
   * venue's position went past netMax.
   */
  private checkTold(clientOrderId: string, side: OrderSide, filled: Steps, atOnce = false): void {
    if (filled <= (this.told.get(clientOrderId) ?? 0)) return
    this.unseen.set(clientOrderId, Math.max(filled, this.unseen.get(clientOrderId) ?? 0))
    if (filled > (this.unbooked.get(clientOrderId)?.steps ?? 0)) this.unbooked.set(clientOrderId, {side, steps: filled})
    for (const id of this.unbooked.keys()) {
      if (this.unbooked.size <= TOLD_MAX) break
      this.unbooked.delete(id)
    }
    this.scheduleReadBack(atOnce ? 0 : undefined)
  }

  /** The run ends: a read-back waiting for its delay is dropped, none starts after (the gateway is about to close; the next run's start-up reads the fills back). */
  stop(): void {
    this.stopped = true
    clearTimeout(this.readBackTimer)
    this.readBackTimer = undefined
    clearTimeout(this.gapReadTimer)
    this.gapReadTimer = undefined
  }

  /** `delayMs` 0: at once (a query's answer: the fill is older than the query), replacing a read-back still waiting */
  private scheduleReadBack(delayMs = this.o.unseenFillDelayMs ?? 1000): void {
    if (this.stopped || this.readingBack) return
    if (this.readBackTimer !== undefined) {
      if (delayMs > 0) return
      clearTimeout(this.readBackTimer)
    }
    this.readBackTimer = setTimeout(() => void this.readBack(), delayMs)
    this.readBackTimer.unref?.()
  }

  private async readBack(): Promise<void> {
    this.readBackTimer = undefined
    if (this.stopped) return
    for (const [id, steps] of this.unseen) if (steps <= (this.told.get(id) ?? 0)) this.unseen.delete(id)
    if (this.unseen.size === 0) return
    // in a 418 ban or a 429 back-off the read waits (as the audit does): asked again after the delay
    if (this.o.governor?.readsHeld(this.now())) return this.scheduleReadBack()
    const want = new Map(this.unseen)
    const ids = [...want.keys()]
    this.unseen.clear()
    this.readingBack = true
    this.unseenFillReadBacks++
    try {
      const n = await this.recoverFills()
      this.o.onProblem?.(`the venue shows fills of ${ids.join(', ')} the user stream did not tell: ${n} fill(s) read back from userTrades`)
    } catch (err) {
      this.o.onProblem?.(`reading back the fills of ${ids.join(', ')} the user stream did not tell failed: ${(err as Error).message} (the audit reads them)`)
    } finally {
      this.readingBack = false
    }
    // a read that stopped early (a lookup failed, the lookups' cap): what it did not reach is asked for again
    for (const [id, steps] of want) if (steps > (this.told.get(id) ?? 0) && !this.unseen.has(id)) this.unseen.set(id, steps)
    if (this.unseen.size > 0 && !this.stopped) this.scheduleReadBack()
  }

  /**
   * One DELETE /fapi/v1/batchOrders for 2–10 of our orders. Each slot answers its id, in
   * the order sent: the order (→ `canceled`) or its own error (→ a definitive `reject`,
   * e.g. -2011). A slot naming another order, or a failed request, leaves those cancels in
   * doubt exactly as a single cancel's unknown outcome does; a definitive refusal of the
   * whole request (429, -1021, …) rejects each.
   */
  /**
   * The batch cancel handed to the gateway's pool before this returns (a plain call, not an
   * async one: no promise layer on the tick's path), its answer settled later.
   */
  private cancelBatch(ids: readonly string[], prepared?: PreparedCancelBatch): void {
    if (this.cancelsHeldNow(ids)) return
    this.inFlight++
    let answer: Promise<Array<BinanceOrder | BinanceApiError>>
    try {
      answer = this.o.gateway.cancelBatch(this.symbol, ids, prepared)
    } catch (err) {
      answer = Promise.reject(err)
    }
    void this.settleCancelBatch(ids, answer)
  }

  private async settleCancelBatch(ids: readonly string[], answer: Promise<Array<BinanceOrder | BinanceApiError>>): Promise<void> {
    try {
      const slots = await answer
      for (let i = 0; i < ids.length; i++) {
        const s = slots[i]
        if (s instanceof BinanceApiError) this.onFailure(s, ids[i], 'cancel')
        else if (s.clientOrderId !== ids[i]) this.o.onProblem?.(`cancel ${ids[i]}: the batch answered for ${s.clientOrderId} in its place (in doubt, settled by a query)`)
        else this.onCanceled(ids[i], s)
      }
    } catch (err) {
      for (const id of ids) this.onFailure(err, id, 'cancel')
    } finally {
      this.inFlight--
    }
  }

  private async query(clientOrderId: string): Promise<void> {
    if (this.queryHeldNow()) return
    this.inFlight++
    try {
      const ans = await this.orders.queryOrder(this.symbol, clientOrderId)
      this.remember(ans.orderId, ans.clientOrderId)
      if (ans.status === 'NEW' || ans.status === 'PARTIALLY_FILLED') this.live(clientOrderId)
      else this.endedAt(clientOrderId)
      const t = this.now()
      const filled = this.inst.qtyToSteps(ans.executedQty)
      // a query is asked when an order is in doubt (a refused cancel, a lost answer): its fills are older than the question, the stream had its time
      this.checkTold(clientOrderId, ans.side, filled, true)
      this.push({type: 'query', clientOrderId, found: true, status: ans.status as VenueOrderStatus, filled, venueOrderId: String(ans.orderId), ts: t, venueTs: ans.updateTime})
    } catch (err) {
      if (err instanceof BinanceApiError && err.noSuchOrder) {
        this.gone(clientOrderId)
        const t = this.now()
        this.push({type: 'query', clientOrderId, found: false, ts: t, venueTs: t})
      } else {
        this.o.onProblem?.(`query ${clientOrderId}: ${(err as Error).message}`)
      }
    } finally {
      this.inFlight--
    }
  }

  /** A user-stream event (after the stream's resync buffer was flushed). */
  onUserEvent(ev: UserEvent, localTs: number): void {
    if (ev.e === 'ORDER_TRADE_UPDATE') {
      if (ev.symbol !== this.symbol || !this.o.isOurs(ev.clientOrderId)) return
      if (this.o.isThisRun && !this.o.isThisRun(ev.clientOrderId)) {
        this.earlierRunUpdates++
        return
      }
      this.onOrderUpdate(ev, localTs)
    } else if (ev.e === 'ACCOUNT_UPDATE') {
      for (const p of ev.positions) {
        if (p.symbol !== this.symbol || p.positionSide !== 'BOTH') continue
        this.venuePosition = this.signedSteps(p.amount)
        this.venueEntryPrice = p.entryPrice
      }
    }
  }

  private onOrderUpdate(u: OrderUpdate, localTs: number): void {
    this.remember(u.orderId, u.clientOrderId)
    if (u.status === 'NEW' || u.status === 'PARTIALLY_FILLED') this.live(u.clientOrderId)
    else this.endedAt(u.clientOrderId)
    if (u.execType === 'TRADE' && u.tradeTime > this.lastTradeTime) this.lastTradeTime = u.tradeTime
    if ((u.execType === 'TRADE' || u.execType === 'CALCULATED') && u.tradeId > this.lastTradeId) this.lastTradeId = u.tradeId
    if (u.execType === 'TRADE' || u.execType === 'CALCULATED') {
      this.noteFeeAsset(u.commissionAsset)
      this.noteReported(u.tradeId)
    }
    // what the stream told of the order's fills (its cumulative quantity, on every update)
    try {
      this.noteTold(u.clientOrderId, this.inst.qtyToSteps(u.cumQty))
    } catch {
      // (off the step grid: orderUpdateReports says so below)
    }
    let reports: VenueReport[]
    try {
      reports = orderUpdateReports(u, this.inst, localTs)
    } catch (err) {
      this.o.onProblem?.(`ORDER_TRADE_UPDATE of ${u.clientOrderId}: ${(err as Error).message}`)
      return
    }
    for (const r of reports) this.push(r)
  }

  private signedSteps(amount: string): Steps {
    return amount.startsWith('-') ? -this.inst.qtyToSteps(amount.slice(1)) : this.inst.qtyToSteps(amount)
  }

  /**
   * The REST audit: venue open orders and position against ours. Cancels strays, queries
   * missing orders, reports the fills the stream missed. Returns what it found (the
   * caller writes the risk_event and marks the stream dead when `streamSuspect`).
   */
  async audit(own: {working: readonly AuditWorking[]; position: Steps; graceMs: number; positionNow?: () => Steps}): Promise<AuditResult & {fillsRecovered: number; strayCancelled: string[]; venueEntryPrice: string | undefined}> {
    // the unbooked fills known before the venue's position is read: that position holds them
    const unbookedBefore = [...this.unbooked]
    const [open, positions] = await Promise.all([this.o.gateway.openOrders(this.symbol), this.o.gateway.positionRisk(this.symbol)])
    const pos = positions.find((p) => p.symbol === this.symbol && (p.positionSide === 'BOTH' || p.positionSide === ''))
    const venuePos = pos ? this.signedSteps(pos.positionAmt) : 0
    // a fill between our reading and the venue's, whose event has come in by now, is no drift
    // (it was: a false "position drift", its fills read back, the user stream reconnected)
    if (own.positionNow !== undefined && own.position !== venuePos && own.positionNow() === venuePos) own = {...own, position: venuePos}
    this.venuePosition = venuePos
    this.venueEntryPrice = pos?.entryPrice
    if (pos && pos.markPrice !== '0') this.setMark(pos.markPrice)
    this.setLiquidation(pos?.liquidationPrice, pos?.markPrice)
    const res = audit({venueOpen: open.map((x) => x.clientOrderId), venuePosition: venuePos, ownPosition: own.position, working: own.working, isOurs: this.o.isOurs, now: this.now(), graceMs: own.graceMs})
    // our position equals the venue's: the fills an answer showed are in ours (told, or an
    // adopted position): no longer counted against netMax (else a fill never read back
    // held its side's room for good). Ours as it is now, not as the audit began: a fill of
    // the other side told during the reads can make the venue equal the snapshot while
    // ours still lacks the unbooked fill (a bid's 10 unbooked, an ask's 10 told: venue 0,
    // snapshot 0, ours −10)
    if (!res.findings.some((f) => f.kind === 'position_drift') && (own.positionNow?.() ?? own.position) === venuePos) for (const [id, u] of unbookedBefore) if (this.unbooked.get(id) === u) this.unbooked.delete(id)
    let fillsRecovered = 0
    const strayCancelled: string[] = []
    for (const f of res.findings) {
      if (f.kind === 'stray') {
        try {
          await this.o.gateway.cancelOrder(this.symbol, f.clientOrderId)
          strayCancelled.push(f.clientOrderId)
        } catch (err) {
          this.o.onProblem?.(`audit: cancel of stray ${f.clientOrderId} failed: ${(err as Error).message}`)
        }
      } else if (f.kind === 'missing') {
        this.queryOrder(f.clientOrderId)
      } else if (f.kind === 'position_drift') {
        fillsRecovered = await this.recoverFills()
      }
    }
    // a user-stream gap not read back yet, or a read-back that stopped early (a failed order
    // lookup, the lookups' or pages' cap): read now, whatever the position says (a bid's and
    // an ask's fills lost in a gap net out: no drift shows them). Before, such a read waited
    // for a position difference, and netting fills stayed unbooked for the run (review6)
    if (!res.findings.some((f) => f.kind === 'position_drift') && (this.gapFloor !== undefined || this.readFrom !== undefined)) fillsRecovered = await this.recoverFills()
    return {...res, fillsRecovered, strayCancelled, venueEntryPrice: pos?.entryPrice}
  }

  /**
   * Fills after the last one reported (by the stream or an earlier read-back), from
   * userTrades `fromId` = that trade id + 1 (before any: by time, as before), as fill
   * reports (the reducer drops those already counted, while it still holds their order).
   * A trade of an order whose venue id the adapter never learnt (its place's answer was
   * lost and the query had not answered yet) is looked up once by order id
   * (GET /fapi/v1/order, at most RECOVER_LOOKUPS_MAX a call): before, it was skipped, and
   * once a later fill moved the read past it, never booked. When a lookup cannot be made,
   * the read stops there: the next one starts at that trade.
   */
  recoverFills(): Promise<number> {
    // one at a time (the audit's and the unseen fills' read-backs): two at once read the same trades
    const next = (this.recovering ?? Promise.resolve(0)).catch(() => 0).then(() => this.recoverFillsOnce())
    this.recovering = next
    const clear = () => {
      if (this.recovering === next) this.recovering = undefined
    }
    next.then(clear, clear)
    return next
  }

  /**
   * The user stream came back after a gap (a reconnect, a new listenKey; live.ts, on its
   * `resync`, before the reconnect's audit and before the held events are applied): a
   * fill of ours in the gap may never be told (Binance does not replay a dead stream's
   * events) while a later one, told by the new stream, moves the `fromId` cursor past it.
   * The read-backs start at the trade after the last one reported now (every unreported
   * trade is above it: the stream and the reads report in trade-id order) — or, with none
   * reported yet, from this run's start by time — until a read begun after this has read
   * past it. Before, a reconnect audit that failed (a 5xx, a timeout) or was held (429)
   * left such a fill out of the run for good: its fee and realised PnL never booked, the
   * position set by an adoption only. The adapter reads the gap itself `unseenFillDelayMs`
   * later (once the reconnect's audit has usually let the held events through), tried
   * again at that pace while it fails or reads are held, GAP_READ_TRIES times at most: the
   * gap's fills are booked at once, not only when a later answer, a missing-order query or a
   * position difference asks for a read (a bid's and an ask's partial fills lost in a gap
   * show neither), and the floor does not linger.
   */
  noteStreamResync(): void {
    this.gaps++
    const f = this.gapFloor
    if (f === undefined) this.gapReported = this.reported
    if (f === undefined || !('startTime' in f)) {
      if (this.lastTradeId > 0) {
        if (f === undefined || this.lastTradeId + 1 < f.fromId) this.gapFloor = {fromId: this.lastTradeId + 1}
      } else this.gapFloor = {startTime: Math.max(this.lastTradeTime, this.startedAt - RUN_START_MARGIN_MS)}
    }
    this.scheduleGapRead(GAP_READ_TRIES)
  }

  private scheduleGapRead(tries: number, waitMs?: number): void {
    if (this.stopped || this.gapReadTimer !== undefined || tries <= 0) return
    const delay = Math.max(this.o.unseenFillDelayMs ?? 1000, Math.min(waitMs ?? 0, GAP_READ_HOLD_MAX_MS))
    this.gapReadTimer = setTimeout(() => {
      this.gapReadTimer = undefined
      if (this.stopped || (this.gapFloor === undefined && this.readFrom === undefined)) return
      // in a 418 ban or a 429 back-off the read waits, as the others do, until the hold ends:
      // a wait uses no try (before, a hold over ~5 s used them all and nothing read the gap)
      const held = this.o.governor?.readsHeld(this.now())
      if (held) return this.scheduleGapRead(tries, held.until === undefined ? undefined : held.until - this.now())
      this.gapReads++
      this.recoverFills().then(
        (n) => {
          if (n > 0) this.o.onProblem?.(`the user stream came back after a gap: ${n} fill(s) it did not tell read back from userTrades`)
          // a gap that began while this read ran, or a read that stopped early (a failed
          // order lookup: before, it counted as done and only a position difference read on)
          if (this.gapFloor !== undefined || this.readFrom !== undefined) this.scheduleGapRead(tries - 1)
        },
        (err) => {
          this.o.onProblem?.(`reading back the fills of a user-stream gap failed: ${(err as Error).message}${tries > 1 ? ' (tried again)' : ' (the next read-back reads it)'}`)
          this.scheduleGapRead(tries - 1)
        },
      )
    }, delay)
    this.gapReadTimer.unref?.()
  }

  private async recoverFillsOnce(): Promise<number> {
    // a gap not read before REPORTED_TRADES_MAX trades were reported above it: a read from there
    // could report again a trade `reportedTrades` has forgotten (booked twice once the lifecycle
    // has forgotten its order too); left to the next start's read below the last counted id
    if (this.gapFloor !== undefined && this.reported - this.gapReported >= REPORTED_TRADES_MAX) {
      this.o.onProblem?.(`a user-stream gap was not read back before ${REPORTED_TRADES_MAX} later fills: a fill it lost is booked by the next start`)
      this.gapFloor = undefined
    }
    const gaps = this.gaps
    const floor = this.gapFloor
    let fromId = this.lastTradeId > 0 ? this.lastTradeId + 1 : undefined
    if (this.readFrom !== undefined) fromId = fromId === undefined ? this.readFrom : Math.min(fromId, this.readFrom)
    if (floor !== undefined && 'fromId' in floor) fromId = fromId === undefined ? floor.fromId : Math.min(fromId, floor.fromId)
    // before any trade id: from this run's start (by time), not the account's newest 1000 trades (an earlier run's, after a restart)
    const oldest = this.startedAt - RUN_START_MARGIN_MS
    let from: {fromId: number} | {startTime: number} = floor !== undefined && 'startTime' in floor ? floor : fromId !== undefined ? {fromId} : {startTime: Math.max(this.lastTradeTime, oldest)}
    let n = 0
    let lookups = 0
    let stoppedAt: number | undefined
    const t = this.now()
    // a full page (1000 trades) is followed by the next, at most RECOVER_PAGES_MAX in one read:
    // a read from below the cursor (a gap, a stopped read) reaches the cursor's trades too
    for (let page = 1; ; page++) {
      const trades = (await this.o.gateway.userTrades({symbol: this.symbol, ...from, limit: USER_TRADES_PAGE})).sort((a, b) => a.id - b.id)
      n += await this.reportTrades(trades, oldest, t, () => lookups++ < RECOVER_LOOKUPS_MAX, (id) => (stoppedAt = id))
      if (stoppedAt !== undefined || trades.length < USER_TRADES_PAGE) break
      const next = trades[trades.length - 1].id + 1
      if (page >= RECOVER_PAGES_MAX) {
        stoppedAt = next
        break
      }
      from = {fromId: next}
    }
    this.readFrom = stoppedAt
    // read past the gap's floor (what it did not reach is in `readFrom`), unless a gap began meanwhile
    if (this.gaps === gaps) this.gapFloor = undefined
    return n
  }

  /**
   * Report a page of userTrades (oldest first) as fills: those not reported yet, of this
   * run's orders. `lookup()` says whether one more order may be looked up by id; `stop(id)`
   * marks where the read stopped (a lookup that failed or the lookups' cap).
   */
  private async reportTrades(trades: readonly BinanceTrade[], oldest: number, t: number, lookup: () => boolean, stop: (tradeId: number) => void): Promise<number> {
    let n = 0
    for (const tr of trades) {
      if (this.reportedTrades.has(tr.id)) continue
      let clientOrderId = this.byOrderId.get(tr.orderId)
      // an order that traded before this run started is not this run's: no lookup
      if (clientOrderId === undefined && tr.time < oldest) this.skipOrder(tr.orderId)
      if (clientOrderId === undefined && !this.notThisRun.has(tr.orderId)) {
        if (!lookup()) {
          stop(tr.id)
          break
        }
        try {
          const o = await this.o.gateway.queryOrderById(this.symbol, tr.orderId)
          if (this.o.isOurs(o.clientOrderId) && (this.o.isThisRun?.(o.clientOrderId) ?? true)) {
            this.remember(tr.orderId, o.clientOrderId)
            clientOrderId = o.clientOrderId
          } else this.skipOrder(tr.orderId)
        } catch (err) {
          if (!(err instanceof BinanceApiError && err.noSuchOrder)) {
            this.o.onProblem?.(`reading back fills: the order of trade ${tr.id} could not be looked up (${(err as Error).message}); read again from it at the next read-back (the next audit at the latest)`)
            stop(tr.id)
            break
          }
          // an order the venue no longer knows cannot be shown to be ours
          this.skipOrder(tr.orderId)
        }
      }
      if (tr.time > this.lastTradeTime) this.lastTradeTime = tr.time
      if (tr.id > this.lastTradeId) this.lastTradeId = tr.id
      if (clientOrderId === undefined) continue
      const qty = this.inst.qtyToSteps(tr.qty)
      this.noteReported(tr.id)
      this.noteFeeAsset(tr.commissionAsset)
      this.noteTold(clientOrderId, (this.told.get(clientOrderId) ?? 0) + qty)
      // totals unknown from a trade alone: report this fill as the order's (the reducer keeps the higher venue total)
      this.push({
        type: 'fill',
        clientOrderId,
        ts: t,
        venueTs: tr.time,
        filled: qty,
        leaves: 0,
        status: 'PARTIALLY_FILLED',
        fill: {clientOrderId, side: tr.side, price: this.inst.priceToTicks(tr.price), qty, maker: tr.maker, fee: tr.commission, ts: tr.time, tradeId: String(tr.id), realised: tr.realizedPnl},
      })
      n++
    }
    return n
  }

  /** a fill's fee asset other than the margin asset: said once per asset */
  private noteFeeAsset(feeAsset: string | undefined): void {
    const margin = this.o.marginAsset
    if (!feeAsset || !margin || feeAsset === margin || this.otherFeeAssets.has(feeAsset)) return
    this.otherFeeAssets.add(feeAsset)
    this.o.onProblem?.(`a fill's fee was charged in ${feeAsset}, not ${margin} (the BNB fee discount turned on?): mm books every fee as ${margin}, so its fees, PnL and loss limit are off from here; stop, turn the discount off, start again`)
  }

  private noteReported(tradeId: number): void {
    if (!(tradeId > 0) || this.reportedTrades.has(tradeId)) return
    this.reported++
    this.reportedTrades.add(tradeId)
    for (const id of this.reportedTrades) {
      if (this.reportedTrades.size <= REPORTED_TRADES_MAX) break
      this.reportedTrades.delete(id)
    }
  }

  private skipOrder(orderId: number): void {
    this.notThisRun.add(orderId)
    for (const id of this.notThisRun) {
      if (this.notThisRun.size <= NOT_THIS_RUN_MAX) break
      this.notThisRun.delete(id)
    }
  }

  /**
   * The run stops (live.ts: after the stop's cancels settled, while reports still reach the
   * engine, before run_end, the summary and the last state write): the fills an answer
   * showed and the stream has not told (`unseen`) are read back now, once, instead of after
   * the delay the stop used to drop (they reached only the next start's kill-fills read,
   * missing from this run's summary, run log and state.json). A read-back on its way is
   * waited for first. Nothing is asked during a 418 ban or a 429 back-off (`held`), and no
   * read-back starts after this (as after `stop`). Bounded by `boundMs` in all: a read still
   * unanswered then is left (`timedOut`). `pending`: the client ids whose fills were to be
   * read; `left`: those whose fills are still not all booked after it.
   */
  async readBackAtStop(boundMs: number): Promise<{pending: string[]; read: number; left: string[]; held?: {until?: number; reason: string; ban: boolean}; failed?: string; timedOut?: boolean}> {
    this.stopped = true
    clearTimeout(this.readBackTimer)
    this.readBackTimer = undefined
    clearTimeout(this.gapReadTimer)
    this.gapReadTimer = undefined
    const deadline = this.now() + boundMs
    const outstanding = () => {
      for (const [id, steps] of this.unseen) if (steps <= (this.told.get(id) ?? 0)) this.unseen.delete(id)
      return [...this.unseen.keys()]
    }
    const timedOut = Symbol('timed out')
    const within = async <T>(p: Promise<T>): Promise<T | typeof timedOut> => {
      let t: NodeJS.Timeout | undefined
      const bound = new Promise<typeof timedOut>((res) => (t = setTimeout(() => res(timedOut), Math.max(0, deadline - this.now()))))
      try {
        return await Promise.race([p, bound])
      } finally {
        clearTimeout(t)
      }
    }
    // a read-back (the unseen fills' or the audit's) on its way: its fills first, then what it left
    if (this.recovering !== undefined && (await within(this.recovering.catch(() => 0))) === timedOut) {
      const left = outstanding()
      return {pending: left, read: 0, left, timedOut: true}
    }
    const pending = outstanding()
    if (pending.length === 0) return {pending, read: 0, left: []}
    const held = this.o.governor?.readsHeld(this.now())
    if (held) return {pending, read: 0, left: pending, held}
    this.unseenFillReadBacks++
    let read = 0
    let failed: string | undefined
    let late = false
    try {
      const n = await within(this.recoverFills())
      if (n === timedOut) late = true
      else read = n
    } catch (err) {
      failed = (err as Error).message
    }
    const left = outstanding()
    return {pending, read, left, ...(failed === undefined ? {} : {failed}), ...(late ? {timedOut: true} : {})}
  }

  /** the PERCENT_PRICE cap of the last mark, ticks (a BUY above it is refused; +Infinity: no band known) */
  get percentMaxBuyTicks(): number {
    return this.maxBuyTicks
  }

  /** the PERCENT_PRICE floor of the last mark, ticks (a SELL below it is refused; 0: no band known) */
  get percentMinSellTicks(): number {
    return this.minSellTicks
  }

  /** a mark read (premiumIndex) after a PERCENT_PRICE refusal is under way */
  private markRereading = false
  /** marks read again after a PERCENT_PRICE refusal, or an IOC at the band's edge that took nothing (count) */
  markRereads = 0
  /** when the last such read started (ms; at most one per MARK_REREAD_GAP_MS after an unfilled IOC) */
  private markRereadAt = Number.NEGATIVE_INFINITY

  /**
   * The venue refused a place for PERCENT_PRICE (-4016 / -4024): its mark has moved since
   * ours was read (at the start and at each audit, every live.auditIntervalMs). Read it
   * again (GET /fapi/v1/premiumIndex, weight 1, one read at a time) so the band the core
   * clamps to follows the venue's; a failed read leaves the band as it was.
   */
  private rereadMark(minGapMs = 0): void {
    if (this.markRereading || !this.o.percentPrice) return
    const now = this.now()
    if (minGapMs > 0 && now - this.markRereadAt < minGapMs) return
    this.markRereading = true
    this.markRereadAt = now
    this.markRereads++
    this.o.gateway.premiumIndex(this.symbol).then(
      (p) => {
        this.markRereading = false
        try {
          if (/^\d+(\.\d+)?$/.test(p.markPrice) && !/^0(\.0*)?$/.test(p.markPrice)) this.setMark(p.markPrice)
        } catch {
          // a mark the instrument cannot hold (absurdly large): the band is left as it was
        }
      },
      () => {
        this.markRereading = false
      },
    )
  }
}
