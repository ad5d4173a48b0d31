/**
 * What the strategy reads from the book: the top of book with our own orders taken out,
 * and the depth walk for reduce-only IOCs (EstimateFillPrice of the note).
 */
import type {BookSide, BookView} from '../book/types.js'
import type {Steps, Ticks} from '../domain/instrument.js'
import type {OrderSide, WorkingOrder} from '../domain/orders.js'
import type {DepthEstimate} from './types.js'

/**
 * Our remaining quantity at one price on one book side (working orders that are not IOC).
 * A plain loop over the few working orders: no map per call (the decision runs about once
 * a second, cold; each object it makes costs).
 */
function ownQtyAt(working: readonly WorkingOrder[], orderSide: OrderSide, price: Ticks): Steps {
  let q = 0
  for (let i = 0; i < working.length; i++) {
    const w = working[i]
    if (w.side !== orderSide || w.tif === 'IOC' || w.price !== price) continue
    const rem = w.qty - w.filled
    if (rem > 0) q += rem
  }
  return q
}

/** Do we have any remaining (non-IOC) quantity on this book side? */
function hasOwn(working: readonly WorkingOrder[], orderSide: OrderSide): boolean {
  for (let i = 0; i < working.length; i++) {
    const w = working[i]
    if (w.side === orderSide && w.tif !== 'IOC' && w.qty - w.filled > 0) return true
  }
  return false
}

/**
 * Best price of one side with our own working orders removed (all of them, in flight
 * too: treating an order that is not yet displayed as displayed can only make us see the
 * book one level deeper, never chase our own price). -1 when nothing else is there.
 */
export function othersBest(book: BookView, side: BookSide, working: readonly WorkingOrder[]): Ticks {
  const orderSide: OrderSide = side === 'bid' ? 'BUY' : 'SELL'
  if (!hasOwn(working, orderSide)) return side === 'bid' ? book.bestBid() : book.bestAsk()
  let best = -1
  book.forEachLevel(side, (price, qty) => {
    if (qty - ownQtyAt(working, orderSide, price) > 0) {
      best = price
      return false
    }
    return true
  })
  return best
}

export interface Top {
  /** best bid/ask of others (own orders excluded) */
  bid: Ticks
  ask: Ticks
  /** (bid + ask) / 2 in ticks, may be x.5 */
  mid: number
  /** others' quantity at bid / ask (steps, own orders excluded) */
  bidQty: Steps
  askQty: Steps
  /** imbalance-weighted fair value (bid × askQty + ask × bidQty) / (bidQty + askQty), ticks; in [bid, ask] */
  microprice: number
  /** raw best bid/ask, own orders included (used to keep post-only quotes from crossing) */
  rawBid: Ticks
  rawAsk: Ticks
}

export type TopResult = {ok: true; top: Top} | {ok: false; why: 'not_ready' | 'empty_side' | 'crossed'}

/** The top of book the strategy quotes against; not ok when unready, one-sided or crossed. */
export function readTop(book: BookView, working: readonly WorkingOrder[]): TopResult {
  if (!book.ready) return {ok: false, why: 'not_ready'}
  const rawBid = book.bestBid()
  const rawAsk = book.bestAsk()
  if (rawBid <= 0 || rawAsk <= 0) return {ok: false, why: 'empty_side'}
  if (rawBid >= rawAsk) return {ok: false, why: 'crossed'}
  const bid = othersBest(book, 'bid', working)
  const ask = othersBest(book, 'ask', working)
  if (bid <= 0 || ask <= 0) return {ok: false, why: 'empty_side'}
  if (bid >= ask) return {ok: false, why: 'crossed'}
  const bidQty = othersQtyAt(book, 'bid', bid, working)
  const askQty = othersQtyAt(book, 'ask', ask, working)
  const microprice = bidQty + askQty > 0 ? (bid * askQty + ask * bidQty) / (bidQty + askQty) : (bid + ask) / 2
  return {ok: true, top: {bid, ask, mid: (bid + ask) / 2, bidQty, askQty, microprice, rawBid, rawAsk}}
}

/** Others' quantity at one price (our remaining quantity there taken out). */
export function othersQtyAt(book: BookView, side: BookSide, price: Ticks, working: readonly WorkingOrder[]): Steps {
  const q = book.qtyAt(side, price) - ownQtyAt(working, side === 'bid' ? 'BUY' : 'SELL', price)
  return q > 0 ? q : 0
}

/**
 * Walk the levels an order of `side` and `qty` would take (a SELL walks the bids down, a
 * BUY the asks up), not beyond `capTicks`, our own resting orders excluded.
 * depthFillPrice = VWAP of what is available, depthFillAvailable = min(qty, available
 * within the cap), depthSlippage = VWAP's cost vs `mid` (positive = worse than mid).
 */
export function estimateFillPrice(
  book: BookView,
  side: OrderSide,
  qty: Steps,
  capTicks: Ticks,
  mid: number,
  working: readonly WorkingOrder[] = [],
): DepthEstimate {
  const bookSide: BookSide = side === 'SELL' ? 'bid' : 'ask'
  // our resting orders sit on the side the order walks: a SELL takes bids (our BUYs)
  const ownSide: OrderSide = side === 'SELL' ? 'BUY' : 'SELL'
  let filled = 0
  let notional = 0
  let worst = -1
  book.forEachLevel(bookSide, (price, levelQty) => {
    if (side === 'SELL' ? price < capTicks : price > capTicks) return false
    const avail = levelQty - ownQtyAt(working, ownSide, price)
    if (avail <= 0) return true
    const take = Math.min(avail, qty - filled)
    filled += take
    notional += take * price
    worst = price
    return filled < qty
  })
  if (filled === 0) return {depthFillPrice: null, depthFillAvailable: 0, depthSlippage: null, worstPrice: -1}
  const vwap = notional / filled
  const slip = mid > 0 ? (side === 'SELL' ? (mid - vwap) / mid : (vwap - mid) / mid) : null
  return {depthFillPrice: vwap, depthFillAvailable: filled, depthSlippage: slip, worstPrice: worst}
}
