/**
 * Flatten (4.2 stop-loss, `mm flatten`): close the position with reduce-only IOC orders
 * priced as in §3.4.
 *  - With a healthy book: walk the opposite side from the best level while the price is
 *    within the cap mid × (1 ∓ maxSlippagePct). If the levels within the cap hold the
 *    whole size, the limit is the worst level needed. If not, the order is split: this
 *    IOC takes what the book shows within the cap, at the cap price (truncated limit),
 *    and the rest goes in the next round, after this IOC has come back.
 *  - Without a usable book (last known mid), or after `iocExpiredFallbackCount` flatten
 *    IOCs in a row came back EXPIRED with nothing filled: the fallback ladder prices the
 *    whole size at mid ∓ pct, pct = maxSlippagePct × fallbackSlippageMultiplier^k
 *    (k = 0 on the first fallback round, +1 each further one), capped at fallbackSlippageMax.
 * Prices: a SELL limit never below the cap (ceil), a BUY never above it (floor); exact
 * integer arithmetic on mid2 = bestBid + bestAsk.
 */
import type {BookView} from '../book/types.js'
import type {Instrument, Steps, Ticks} from '../domain/instrument.js'
import type {OrderIntent, OrderSide} from '../domain/orders.js'
import type {RiskLimits} from './types.js'

export interface FlattenPlan {
  intent: OrderIntent | null
  side: OrderSide | null
  /** 'book': priced from the depth; 'fallback': mid ± pct */
  pricing: 'book' | 'fallback' | 'none'
  /** slippage pct used for the cap */
  pct: number
  depthFillPrice: number | null
  depthFillAvailable: Steps | null
  depthSlippage: number | null
  /** why no order: 'flat', 'no_price', 'below_min_qty' */
  why?: string
}

/** Limit price at mid × (1 ± pct) for a reducing order of `side`, rounded toward the mid. */
export function capPrice(mid2: number, pct: number, side: OrderSide): Ticks {
  const ppb = BigInt(Math.round(pct * 1e9))
  const m = BigInt(mid2)
  const den = 2_000_000_000n
  if (side === 'BUY') return Number((m * (1_000_000_000n + ppb)) / den)
  const num = m * (1_000_000_000n - ppb)
  return Number((num + den - 1n) / den)
}

export function fallbackPct(limits: RiskLimits, basePct: number, expiredStreak: number): number {
  const k = Math.max(0, expiredStreak - limits.iocExpiredFallbackCount)
  return Math.min(limits.fallbackSlippageMax, basePct * limits.fallbackSlippageMultiplier ** k)
}

export function flattenPlan(net: Steps, book: BookView | null, mid2: number | null, limits: RiskLimits, inst: Instrument, opts: {maxSlippagePct?: number; expiredStreak?: number} = {}): FlattenPlan {
  const basePct = opts.maxSlippagePct ?? limits.reduceOnlyMaxSlippagePct
  const streak = opts.expiredStreak ?? 0
  const none = (why: string, side: OrderSide | null = null): FlattenPlan => ({intent: null, side, pricing: 'none', pct: basePct, depthFillPrice: null, depthFillAvailable: null, depthSlippage: null, why})
  if (net === 0) return none('flat')
  const side: OrderSide = net > 0 ? 'SELL' : 'BUY'
  const qty = Math.abs(net)
  if (qty < inst.minQtySteps) return none('below_min_qty', side)
  if (mid2 === null) return none('no_price', side)
  const mk = (price: Ticks, q: Steps): OrderIntent => ({slot: `flatten:${side}`, side, price, qty: q, tif: 'IOC', reduceOnly: true, layer: 'flatten'})

  if (book === null || streak >= limits.iocExpiredFallbackCount) {
    const pct = fallbackPct(limits, basePct, streak)
    return {intent: mk(capPrice(mid2, pct, side), qty), side, pricing: 'fallback', pct, depthFillPrice: null, depthFillAvailable: null, depthSlippage: null}
  }

  const cap = capPrice(mid2, basePct, side)
  let left = qty
  let value = 0
  let worst = -1
  book.forEachLevel(side === 'SELL' ? 'bid' : 'ask', (p, q) => {
    if (side === 'SELL' ? p < cap : p > cap) return false
    const take = Math.min(q, left)
    left -= take
    value += take * p
    worst = p
    return left > 0
  })
  const available = qty - left
  const vwap = available > 0 ? value / available : null
  const mid = mid2 / 2
  const slip = vwap === null ? null : side === 'SELL' ? (mid - vwap) / mid : (vwap - mid) / mid
  const est = {depthFillPrice: vwap, depthFillAvailable: available, depthSlippage: slip}
  if (available >= qty) return {intent: mk(worst, qty), side, pricing: 'book', pct: basePct, ...est}
  // the book cannot take the whole size within the cap: truncate to the cap and split
  const q = available >= inst.minQtySteps ? available : qty
  return {intent: mk(cap, q), side, pricing: 'book', pct: basePct, ...est}
}
