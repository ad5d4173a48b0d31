/**
 * Reduce-only IOC pricing (SPEC 3.4): walk the book within the slippage cap, truncate and
 * split when it cannot take the whole size, and the fallback ladder when there is no book
 * or IOCs keep expiring.
 */
import type {BookView} from '../book/types.js'
import type {CoreConfig} from '../config/resolve.js'
import type {Instrument, Steps, Ticks} from '../domain/instrument.js'
import type {Layer, OrderIntent, OrderSide, WorkingOrder} from '../domain/orders.js'
import {estimateFillPrice, readTop} from './book.js'
import {ceilTick, floorTick, reducingSide} from './math.js'
import type {DepthEstimate, PositionView, StrategyAdjustEvent, StrategyState} from './types.js'

export interface ReducePlan {
  intents: OrderIntent[]
  /** the slippage pct used for the cap */
  pct: number
  /** true when priced by the fallback ladder (no book, or too many EXPIRED) */
  fallback: boolean
  capTicks: Ticks | null
  estimate: DepthEstimate | null
  event: StrategyAdjustEvent
}

/**
 * The slippage pct for the next reduce-only IOC: the cap itself normally; in fallback
 * (no usable book, or iocExpiredFallbackCount EXPIRED in a row) cap × multiplier^round,
 * round = EXPIRED beyond the count, never above fallbackSlippageMax (or the cap if larger);
 * with `hardCap` (an explicit `mm flatten --max-slip`) never above the cap itself.
 */
export function reduceSlippagePct(state: StrategyState, cfg: CoreConfig, haveBook: boolean, capPct = cfg.reduceOnlyMaxSlippagePct, hardCap = false): {pct: number; fallback: boolean; round: number} {
  const over = state.iocExpiredStreak - cfg.iocExpiredFallbackCount
  const fallback = !haveBook || over >= 0
  if (!fallback) return {pct: capPct, fallback, round: 0}
  const round = Math.max(0, over)
  // `mm flatten --max-slip` is a hard cap: the fallback widening stops at it
  const max = hardCap ? capPct : Math.max(cfg.fallbackSlippageMax, capPct)
  return {pct: Math.min(max, capPct * cfg.fallbackSlippageMultiplier ** round), fallback, round}
}

/** Cap price of a reducing order: a SELL never below mid × (1 − pct) (rounded up), a BUY never above mid × (1 + pct) (rounded down). */
export function capPrice(side: OrderSide, mid: number, pct: number): Ticks {
  return side === 'SELL' ? Math.max(1, ceilTick(mid * (1 - pct))) : floorTick(mid * (1 + pct))
}

export interface ReduceArgs {
  book: BookView
  side: OrderSide
  qty: Steps
  working: readonly WorkingOrder[]
  nowMs: number
  /** slot prefix and layer: 'ioc' / 'reduce' for the strategy's own closes, 'flatten' / 'flatten' for flatten */
  slotPrefix?: string
  layer?: Layer
  /** slippage cap override (mm flatten --max-slip): a hard cap, the fallback ladder never widens past it */
  capPct?: number
}

/**
 * Plan reduce-only IOC orders closing `qty` on `side`. With a book: the limit is the worst
 * level needed (best opposite price when the best level suffices), never beyond the cap;
 * when the depth within the cap is short, one IOC takes what is there and a second one,
 * limited at the cap, carries the rest (unless either part would be below minQty; then one
 * IOC at the cap). Without a book or in fallback: one IOC at mid ± the ladder's pct.
 * Reduce-only orders need only minQty (Binance waives MIN_NOTIONAL for them).
 */
export function planReduceIoc(args: ReduceArgs, state: StrategyState, cfg: CoreConfig, inst: Instrument): ReducePlan {
  const {book, side, working, nowMs} = args
  const prefix = args.slotPrefix ?? 'ioc'
  const layer = args.layer ?? 'reduce'
  const qty = Math.min(args.qty, inst.maxQtySteps)
  const tr = readTop(book, working)
  const mid = tr.ok ? tr.top.mid : state.lastMid
  const {pct, fallback, round} = reduceSlippagePct(state, cfg, tr.ok, args.capPct, args.capPct !== undefined)
  const base = {type: 'strategy_adjust' as const, ts: nowMs, reason: 'reduce_ioc', side}
  if (mid === null || mid <= 0) {
    return {intents: [], pct, fallback, capTicks: null, estimate: null, event: {...base, detail: 'no book and no mid seen yet: cannot price a reduce-only IOC'}}
  }
  if (qty < inst.minQtySteps) {
    return {
      intents: [],
      pct,
      fallback,
      capTicks: null,
      estimate: null,
      event: {...base, dropped: [{slot: `${prefix}:${side}:0`, price: 0, qty, why: `below minQty (${inst.minQtySteps} steps)`}], detail: 'position below minQty: cannot be closed by an order'},
    }
  }
  const cap = capPrice(side, mid, pct)
  const ioc = (i: number, price: Ticks, q: Steps): OrderIntent => ({slot: `${prefix}:${side}:${i}`, side, price, qty: q, tif: 'IOC', reduceOnly: true, layer})
  const estimate = tr.ok ? estimateFillPrice(book, side, qty, cap, mid, working) : null
  let intents: OrderIntent[]
  let detail: string
  if (fallback || estimate === null) {
    intents = [ioc(0, cap, qty)]
    detail = `fallback round ${round}${tr.ok ? '' : ' (no book)'}: IOC at mid ${side === 'SELL' ? '−' : '+'} ${pct}`
  } else if (estimate.depthFillAvailable >= qty) {
    intents = [ioc(0, estimate.worstPrice, qty)]
    detail = 'book takes the whole size within the cap'
  } else {
    const avail = estimate.depthFillAvailable
    const rest = qty - avail
    if (avail >= inst.minQtySteps && rest >= inst.minQtySteps) {
      intents = [ioc(0, estimate.worstPrice, avail), ioc(1, cap, rest)]
      detail = `depth within the cap ${avail} < ${qty}: split, the rest limited at the cap`
    } else {
      intents = [ioc(0, cap, qty)]
      detail = `depth within the cap ${avail} < ${qty}: one IOC limited at the cap`
    }
  }
  // one literal, keys in the order they are logged (a spread adding keys gives each event a
  // hidden class of its own on Node 20: docs/engine.md)
  const event = {
    type: base.type, ts: base.ts, reason: base.reason, side: base.side,
    depthFillPrice: estimate?.depthFillPrice ?? null,
    depthFillAvailable: estimate?.depthFillAvailable ?? null,
    depthSlippage: estimate?.depthSlippage ?? null,
    detail,
  }
  return {intents, pct, fallback, capTicks: cap, estimate, event}
}

/**
 * Close the whole position with reduce-only IOCs (stop-loss flatten, `mm flatten`), priced
 * as in 3.4 with the fallback ladder. The caller (risk / flatten) decides when.
 */
export function planFlatten(
  input: {book: BookView; position: PositionView; working: readonly WorkingOrder[]; nowMs: number},
  state: StrategyState,
  cfg: CoreConfig,
  inst: Instrument,
  opts: {maxSlipPct?: number} = {},
): {intents: OrderIntent[]; events: StrategyAdjustEvent[]; plan: ReducePlan | null} {
  const side = reducingSide(input.position.net)
  if (side === null) return {intents: [], events: [], plan: null}
  const inFlight = input.working.filter((w) => w.layer === 'flatten' && w.tif === 'IOC' && w.side === side)
  if (inFlight.length > 0) return {intents: inFlight.map(asIntent), events: [], plan: null}
  const plan = planReduceIoc(
    {book: input.book, side, qty: Math.abs(input.position.net), working: input.working, nowMs: input.nowMs, slotPrefix: 'flatten', layer: 'flatten', capPct: opts.maxSlipPct},
    state,
    cfg,
    inst,
  )
  return {intents: plan.intents, events: [plan.event], plan}
}

/** The intent that keeps a working order as it is. */
export function asIntent(w: WorkingOrder): OrderIntent {
  return {slot: w.slot, side: w.side, price: w.price, qty: w.qty, tif: w.tif, reduceOnly: w.reduceOnly, layer: w.layer}
}
