/**
 * `mm flatten` planning (SPEC §3.4, issue 9): one round closes what the book can take
 * within the hard cap — a reduce-only IOC limited at the worst level needed (the depth
 * estimate of reduce.ts), never beyond mid × (1 ± maxSlip), cut into pieces of at most
 * the instrument's max order size. What the book cannot take within the cap is the
 * round's residual; the next round re-reads the book. Pure: the command does the I/O.
 */
import type {BookSide, BookView} from '../book/types.js'
import type {Instrument, Steps, Ticks} from '../domain/instrument.js'
import type {OrderSide} from '../domain/orders.js'
import {estimateFillPrice, readTop} from './book.js'
import {reducingSide} from './math.js'
import {capPrice} from './reduce.js'

export interface FlattenOrder {
  side: OrderSide
  /** limit, ticks */
  price: Ticks
  qty: Steps
}

export interface FlattenRoundPlan {
  /** the closing side; null when flat */
  side: OrderSide | null
  /** |net| to close, steps */
  qty: Steps
  /** mid of the book, ticks (x.5 possible); null without a usable book */
  mid: number | null
  /** the price no order of the round goes beyond, ticks: the hard cap, or the PERCENT_PRICE band's edge where that is nearer the mid */
  capTicks: Ticks | null
  /** the band's edge, not the slippage cap, limits the round (its orders, `available` and the expected VWAP) */
  bandLimited: boolean
  /** steps the book holds within the cap (at most qty) */
  available: Steps
  /** expected VWAP of the orders (ticks, fractional) and its slippage vs mid (fraction) */
  expectedPrice: number | null
  expectedSlippage: number | null
  /** reduce-only IOC orders of this round */
  orders: FlattenOrder[]
  /** what this round leaves: qty − Σ orders */
  residual: Steps
  /** why the plan is what it is */
  why: 'flat' | 'no_book' | 'below_min_qty' | 'no_depth_within_cap' | 'partial_depth' | 'full_depth'
}

/**
 * The venue's PERCENT_PRICE band of the mark, in ticks rounded inside it: a SELL's floor
 * (mark × multiplierDown, up), a BUY's cap (mark × multiplierUp, down). The venue refuses
 * an IOC beyond it whole (-4024 / -4016).
 */
export interface PriceBand {
  minSell: Ticks
  maxBuy: Ticks
}

/**
 * Plan one flatten round for signed position `net` against `book`. With `band`, the
 * round's limit is the nearer of the slippage cap and the band's edge: an IOC priced at
 * the band's edge takes only the levels inside it, so `available`, the orders and the
 * expected VWAP are what the band lets the round take, not what the cap alone would.
 */
export function planFlattenRound(book: BookView, net: Steps, maxSlipPct: number, inst: Instrument, band: PriceBand | null = null): FlattenRoundPlan {
  const side = reducingSide(net)
  const qty = Math.abs(net)
  const none = {mid: null, capTicks: null, bandLimited: false, available: 0, expectedPrice: null, expectedSlippage: null, orders: [] as FlattenOrder[]}
  if (side === null) return {side, qty: 0, ...none, residual: 0, why: 'flat'}
  const top = readTop(book, [])
  if (!top.ok) return {side, qty, ...none, residual: qty, why: 'no_book'}
  const mid = top.top.mid
  const slipCap = capPrice(side, mid, maxSlipPct)
  const cap = band === null ? slipCap : side === 'SELL' ? Math.max(slipCap, band.minSell) : Math.min(slipCap, band.maxBuy)
  const bandLimited = cap !== slipCap
  if (qty < inst.minQtySteps) return {side, qty, ...none, mid, capTicks: cap, bandLimited, residual: qty, why: 'below_min_qty'}
  const est = estimateFillPrice(book, side, qty, cap, mid)
  // reduce-only orders need only minQty (Binance waives MIN_NOTIONAL for them)
  const take = est.depthFillAvailable >= inst.minQtySteps ? est.depthFillAvailable : 0
  // pieces of at most the max order size, as equal as the step allows: a last piece cut
  // short could fall under minQty (a refused order), near-equal ones never do
  const orders: FlattenOrder[] = []
  const pieces = take === 0 ? 0 : Math.ceil(take / inst.maxQtySteps)
  for (let i = 0; i < pieces; i++) {
    const q = Math.floor(take / pieces) + (i < take % pieces ? 1 : 0)
    orders.push({side, price: est.worstPrice, qty: q})
  }
  const why = take === 0 ? 'no_depth_within_cap' : take < qty ? 'partial_depth' : 'full_depth'
  return {side, qty, mid, capTicks: cap, bandLimited, available: est.depthFillAvailable, expectedPrice: take > 0 ? est.depthFillPrice : null, expectedSlippage: take > 0 ? est.depthSlippage : null, orders, residual: qty - take, why}
}

export interface FlattenRoundResult {
  /** steps filled by the round's orders (signed toward closing: always ≥ 0) */
  filled: Steps
  /** the venue refused an order or did not answer */
  venueError?: string
}

export type FlattenVerdict = {done: true; exit: 0 | 1 | 3; why: 'flat' | 'residual' | 'venue_error' | 'rounds_exhausted'} | {done: false}

/**
 * After a round: stop when flat (0), on a venue error (1), when the round could send
 * nothing and nothing moved (3: the residual cannot be closed within the cap), or when
 * the rounds run out (3).
 */
export function afterRound(net: Steps, round: number, maxRounds: number, plan: FlattenRoundPlan, res: FlattenRoundResult): FlattenVerdict {
  if (res.venueError !== undefined) return {done: true, exit: 1, why: 'venue_error'}
  if (net === 0) return {done: true, exit: 0, why: 'flat'}
  if (round >= maxRounds) return {done: true, exit: 3, why: 'rounds_exhausted'}
  if (plan.orders.length === 0 && plan.why === 'below_min_qty') return {done: true, exit: 3, why: 'residual'}
  return {done: false}
}

/** A book from plain level lists (a REST depth snapshot), best first, for planning. */
export function levelsBook(bids: ReadonlyArray<[Ticks, Steps]>, asks: ReadonlyArray<[Ticks, Steps]>, ts = 0): BookView {
  const b = [...bids].filter(([, q]) => q > 0).sort((x, y) => y[0] - x[0])
  const a = [...asks].filter(([, q]) => q > 0).sort((x, y) => x[0] - y[0])
  const sideOf = (s: BookSide) => (s === 'bid' ? b : a)
  return {
    ready: b.length > 0 && a.length > 0,
    bestBid: () => (b.length > 0 ? b[0][0] : -1),
    bestAsk: () => (a.length > 0 ? a[0][0] : -1),
    bestBidQty: () => (b.length > 0 ? b[0][1] : 0),
    bestAskQty: () => (a.length > 0 ? a[0][1] : 0),
    qtyAt: (s, p) => sideOf(s).find(([x]) => x === p)?.[1] ?? 0,
    forEachLevel(s, fn) {
      for (const [p, q] of sideOf(s)) if (fn(p, q) === false) return
    },
    lastUpdateTs: ts,
  }
}
