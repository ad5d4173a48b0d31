/**
 * The paper matching engine: our orders against a replayed L2 book, in integer ticks and
 * steps, at a given venue time. It knows nothing about latency or MarketEvents; the
 * PaperVenue feeds it (and it can be driven by hand in tests with a LevelBook).
 *
 * Rules (docs/paper-venue.md): GTX crossing on arrival → -5022; IOC takes the opposite
 * levels up to its limit and the rest EXPIREs; reduce-only that cannot reduce → -2022;
 * a resting order joins behind the displayed quantity at its price and advances by the
 * QueueModel; trades through its price or the opposite best reaching its price fill it.
 * The replayed book never sees our orders (no market impact).
 */
import type {Instrument, Steps, Ticks} from '../../domain/instrument.js'
import type {OrderIntent, OrderSide, TimeInForce} from '../../domain/orders.js'
import type {BookSide, BookView} from '../../book/types.js'
import {VenueCode, VenueMessage, type VenueReport} from '../types.js'
import type {FeeModel} from './fees.js'
import type {QueueModel, QueuePos} from './queue.js'

/** tolerance when rounding a fractional `front` down to whole steps */
const EPS = 1e-9

export interface PaperOrderView {
  clientOrderId: string
  side: OrderSide
  price: Ticks
  qty: Steps
  filled: Steps
  tif: TimeInForce
  reduceOnly: boolean
  /** estimated steps ahead in the queue */
  front: number
  /** venue time it started resting */
  restingSince: number
}

interface PaperOrder extends Omit<PaperOrderView, 'front'> {
  q: QueuePos
  done: boolean
  /**
   * A GTC order that took liquidity on arrival rests while the replayed book still shows the
   * levels it consumed; it gets no book-crossing fill until the replayed book stops crossing it.
   */
  crossGuard: boolean
}

export interface MatchingEngineOptions {
  inst: Instrument
  book: BookView
  queue: QueueModel
  fees: FeeModel
  /** receives every report with `ts` = `venueTs`; the venue adds the response latency */
  emit: (r: VenueReport) => void
  /** signed steps; used for reduce-only checks */
  position?: Steps
}

const bookSideOf = (s: OrderSide): BookSide => (s === 'BUY' ? 'bid' : 'ask')

export class MatchingEngine {
  private readonly inst: Instrument
  private readonly book: BookView
  private readonly queue: QueueModel
  private readonly fees: FeeModel
  private readonly emit: (r: VenueReport) => void
  /** open (resting) orders in arrival order */
  private readonly open = new Map<string, PaperOrder>()
  private readonly bidCount = new Map<Ticks, number>()
  private readonly askCount = new Map<Ticks, number>()
  private pos: Steps
  private tradeSeq = 0
  /** final orders (FILLED, CANCELED, EXPIRED) for queries; a refused place is never created */
  private readonly ended = new Map<string, {status: 'FILLED' | 'CANCELED' | 'EXPIRED'; filled: Steps}>()

  constructor(o: MatchingEngineOptions) {
    this.inst = o.inst
    this.book = o.book
    this.queue = o.queue
    this.fees = o.fees
    this.emit = o.emit
    this.pos = o.position ?? 0
  }

  /** signed position in steps, as the paper venue has executed it */
  get position(): Steps {
    return this.pos
  }

  get openCount(): number {
    return this.open.size
  }

  /** true when one of our resting orders sits at this side/price */
  hasOrdersAt(side: BookSide, price: Ticks): boolean {
    return ((side === 'bid' ? this.bidCount : this.askCount).get(price) ?? 0) > 0
  }

  /** prices of our resting orders on a side (for snapshot diffs) */
  pricesOn(side: BookSide): Ticks[] {
    return [...(side === 'bid' ? this.bidCount : this.askCount).keys()]
  }

  /**
   * Write (side, price, displayed quantity) of each price our resting orders sit at into
   * `out` from index 0, bids first (flat triples; the array is reused, not emptied);
   * returns how many entries were written.
   */
  watchLevels(out: Array<BookSide | number>, book: BookView): number {
    let n = 0
    for (const price of this.bidCount.keys()) {
      out[n++] = 'bid'
      out[n++] = price
      out[n++] = book.qtyAt('bid', price)
    }
    for (const price of this.askCount.keys()) {
      out[n++] = 'ask'
      out[n++] = price
      out[n++] = book.qtyAt('ask', price)
    }
    return n
  }

  orders(): PaperOrderView[] {
    const out: PaperOrderView[] = []
    for (const o of this.open.values()) {
      out.push({clientOrderId: o.clientOrderId, side: o.side, price: o.price, qty: o.qty, filled: o.filled, tif: o.tif, reduceOnly: o.reduceOnly, front: o.q.front, restingSince: o.restingSince})
    }
    return out
  }

  order(clientOrderId: string): PaperOrderView | undefined {
    return this.orders().find((o) => o.clientOrderId === clientOrderId)
  }

  // ---- requests ---------------------------------------------------------------

  /** A query by client id reaches the matching engine at venue time t (Binance GET /fapi/v1/order). */
  query(clientOrderId: string, t: number): void {
    const o = this.open.get(clientOrderId)
    const e = o ? {status: o.filled > 0 ? ('PARTIALLY_FILLED' as const) : ('NEW' as const), filled: o.filled} : this.ended.get(clientOrderId)
    this.emit({type: 'query', clientOrderId, found: e !== undefined, ...(e ?? {}), ts: t, venueTs: t})
  }

  /** A place request reaches the matching engine at venue time t. */
  place(clientOrderId: string, intent: OrderIntent, t: number): void {
    const {side, price, qty, tif, reduceOnly} = intent
    const reject = (code: number) =>
      this.emit({type: 'reject', request: 'place', clientOrderId, code, msg: VenueMessage[code] ?? 'rejected', ts: t, venueTs: t})
    if (!Number.isSafeInteger(qty) || qty < this.inst.minQtySteps) return reject(VenueCode.QTY_LESS_THAN_MIN_QTY)
    if (qty > this.inst.maxQtySteps) return reject(VenueCode.QTY_GREATER_THAN_MAX_QTY)
    if (!Number.isSafeInteger(price) || price <= 0) return reject(VenueCode.PRICE_LESS_THAN_MIN_PRICE)
    if (this.open.has(clientOrderId)) return reject(VenueCode.DUPLICATED_CLIENT_ORDER_ID)
    if (!reduceOnly && intent.market !== true && price * qty < this.inst.minNotionalTickSteps) return reject(VenueCode.MIN_NOTIONAL)
    if (reduceOnly && this.reducible(side) === 0) return reject(VenueCode.REDUCE_ONLY_REJECT)

    const buy = side === 'BUY'
    const oppBest = buy ? this.book.bestAsk() : this.book.bestBid()
    const crosses = oppBest >= 0 && (buy ? price >= oppBest : price <= oppBest)
    if (crosses && tif === 'GTX') return reject(VenueCode.GTX_ORDER_REJECT)

    const o: PaperOrder = {clientOrderId, side, price, qty, filled: 0, tif, reduceOnly, q: {front: 0, tradedSinceDepth: 0}, restingSince: t, done: false, crossGuard: false}
    this.emit({type: 'ack', clientOrderId, side, price, qty, tif, reduceOnly, ts: t, venueTs: t})

    if (crosses) {
      // take the opposite levels up to the limit, at their prices, as taker
      const levels: Array<[Ticks, Steps]> = []
      this.book.forEachLevel(buy ? 'ask' : 'bid', (p, q) => {
        if (buy ? p > price : p < price) return false
        levels.push([p, q])
      })
      for (const [p, q] of levels) {
        if (o.done) break
        const take = Math.min(q, o.qty - o.filled)
        if (take > 0) this.fill(o, take, p, false, t)
      }
    }
    if (o.done) return
    if (tif === 'IOC') {
      o.done = true
      this.end(o, 'EXPIRED')
      this.emit({type: 'expired', clientOrderId, filled: o.filled, reason: 'IOC', ts: t, venueTs: t})
      return
    }
    o.q = this.queue.join(this.book.qtyAt(bookSideOf(side), price))
    o.crossGuard = crosses
    this.rest(o)
  }

  /** A cancel request reaches the matching engine at venue time t. */
  cancel(clientOrderId: string, t: number): void {
    const o = this.open.get(clientOrderId)
    if (!o) {
      this.emit({type: 'reject', request: 'cancel', clientOrderId, code: VenueCode.CANCEL_REJECTED, msg: VenueMessage[VenueCode.CANCEL_REJECTED], ts: t, venueTs: t})
      return
    }
    this.remove(o)
    this.end(o, 'CANCELED')
    this.emit({type: 'canceled', clientOrderId, filled: o.filled, ts: t, venueTs: t})
  }

  // ---- market -----------------------------------------------------------------

  /** The displayed quantity at (side, price) changed from prev to next (a depth update touched it). */
  levelChanged(side: BookSide, price: Ticks, prev: Steps, next: Steps): void {
    const want: OrderSide = side === 'bid' ? 'BUY' : 'SELL'
    for (const o of this.open.values()) {
      if (o.side !== want || o.price !== price) continue
      this.queue.depth(o.q, prev, next)
    }
  }

  /** A market trade: `aggressor` is the taker side; it hits our orders on the other side. */
  trade(aggressor: 'buy' | 'sell', price: Ticks, qty: Steps, t: number): void {
    if (this.open.size === 0) return
    const hit: OrderSide = aggressor === 'sell' ? 'BUY' : 'SELL'
    let avail = qty
    // the map itself: a fill removes only the order being visited, which Map iteration allows
    for (const o of this.open.values()) {
      if (o.done || o.side !== hit) continue
      const through = hit === 'BUY' ? o.price > price : o.price < price
      if (through) {
        this.fill(o, o.qty - o.filled, o.price, true, t)
        continue
      }
      if (o.price !== price) continue
      this.queue.trade(o.q, qty)
      if (o.q.front < 0) {
        const can = Math.floor(-o.q.front + EPS)
        const x = Math.min(can, avail, o.qty - o.filled)
        if (x > 0) {
          o.q.front += x
          avail -= x
          this.fill(o, x, o.price, true, t)
        }
      }
    }
  }

  /** After a book update: fill resting orders the opposite best has reached. */
  checkCross(t: number): void {
    if (this.open.size === 0) return
    const bestAsk = this.book.bestAsk()
    const bestBid = this.book.bestBid()
    // the map itself: a fill removes only the order being visited, which Map iteration allows
    for (const o of this.open.values()) {
      if (o.done) continue
      const crossed = o.side === 'BUY' ? bestAsk >= 0 && bestAsk <= o.price : bestBid >= 0 && bestBid >= o.price
      if (o.crossGuard) {
        if (!crossed) o.crossGuard = false
        continue
      }
      if (crossed) this.fill(o, o.qty - o.filled, o.price, true, t)
    }
  }

  // ---- internals --------------------------------------------------------------

  private reducible(side: OrderSide): Steps {
    return side === 'BUY' ? Math.max(0, -this.pos) : Math.max(0, this.pos)
  }

  private rest(o: PaperOrder): void {
    this.open.set(o.clientOrderId, o)
    const m = o.side === 'BUY' ? this.bidCount : this.askCount
    m.set(o.price, (m.get(o.price) ?? 0) + 1)
  }

  private end(o: PaperOrder, status: 'FILLED' | 'CANCELED' | 'EXPIRED'): void {
    this.ended.set(o.clientOrderId, {status, filled: o.filled})
  }

  private remove(o: PaperOrder): void {
    o.done = true
    if (!this.open.delete(o.clientOrderId)) return
    const m = o.side === 'BUY' ? this.bidCount : this.askCount
    const n = (m.get(o.price) ?? 0) - 1
    if (n > 0) m.set(o.price, n)
    else m.delete(o.price)
  }

  /** Execute up to `qty` of `o` at `price`; reduce-only orders are capped at the position. */
  private fill(o: PaperOrder, qty: Steps, price: Ticks, maker: boolean, t: number): void {
    if (o.reduceOnly) qty = Math.min(qty, this.reducible(o.side))
    if (qty > 0) {
      o.filled += qty
      this.pos += o.side === 'BUY' ? qty : -qty
      const leaves = o.qty - o.filled
      const full = leaves === 0
      if (full) {
        this.remove(o)
        this.end(o, 'FILLED')
      }
      this.tradeSeq++
      this.emit({
        type: 'fill',
        clientOrderId: o.clientOrderId,
        fill: {clientOrderId: o.clientOrderId, side: o.side, price, qty, maker, fee: this.fees.fee(price, qty, maker), ts: t, tradeId: `paper-${this.tradeSeq}`},
        filled: o.filled,
        leaves,
        status: full ? 'FILLED' : 'PARTIALLY_FILLED',
        ts: t,
        venueTs: t,
      })
    }
    this.expireStrandedReduceOnly(o, t)
  }

  /** Reduce-only orders left with nothing to reduce are expired by the venue. */
  private expireStrandedReduceOnly(current: PaperOrder, t: number): void {
    const check = (o: PaperOrder) => {
      if (!o.done && o.reduceOnly && this.reducible(o.side) === 0) {
        this.remove(o)
        this.end(o, 'EXPIRED')
        this.emit({type: 'expired', clientOrderId: o.clientOrderId, filled: o.filled, reason: 'REDUCE_ONLY', ts: t, venueTs: t})
      }
    }
    if (!this.open.has(current.clientOrderId)) check(current)
    for (const o of [...this.open.values()]) check(o)
  }
}
