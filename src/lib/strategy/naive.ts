/**
 * The naive baseline (strategy.kind = 'naive'): a fixed symmetric spread of baseSpread
 * around the mid, baseSize per side, post-only, no skew, no join, no layers, no back-off,
 * no take profit. It honours the risk mode it is given (halted/paused: nothing;
 * reduce-only: only the reducing side, reduce-only flag set); netMax is enforced by risk.
 */
import type {CoreConfig} from '../config/resolve.js'
import type {Instrument} from '../domain/instrument.js'
import type {OrderIntent, OrderSide} from '../domain/orders.js'
import {readTop} from './book.js'
import {onMid} from './handlers.js'
import {ceilTick, floorTick, reducingSide} from './math.js'
import type {QuoteInput, QuoteResult, StrategyAdjustEvent, StrategyState} from './types.js'

export function quoteNaive(input: QuoteInput, state: StrategyState, cfg: CoreConfig, inst: Instrument): QuoteResult {
  const {book, working, riskMode, nowMs, position} = input
  const events: StrategyAdjustEvent[] = []
  let s = state
  const next = nowMs + cfg.baseIntervalMs
  const tr = riskMode === 'halted' || riskMode === 'paused' ? null : readTop(book, working)
  if (tr === null || !tr.ok) {
    const key = tr === null ? `off:${riskMode}` : `nobook:${tr.why}`
    if (key !== s.lastKey) {
      events.push({type: 'strategy_adjust', ts: nowMs, reason: tr === null ? 'risk_mode' : 'no_book', riskMode, bid: null, ask: null})
      s = {...s, lastKey: key}
    }
    return {intents: [], state: s, events, nextRefreshMs: next}
  }
  const top = tr.top
  s = onMid(s, top.mid, nowMs, cfg).state
  let bid = Math.min(floorTick(top.mid * (1 - cfg.baseSpread / 2)), top.rawAsk - 1)
  let ask = Math.max(ceilTick(top.mid * (1 + cfg.baseSpread / 2)), top.rawBid + 1)
  if (ask <= bid) ask = bid + 1
  const red = reducingSide(position.net)
  const intents: OrderIntent[] = []
  const dropped: NonNullable<StrategyAdjustEvent['dropped']> = []
  const sides: OrderSide[] = riskMode === 'reduce_only' ? (red ? [red] : []) : ['BUY', 'SELL']
  for (const side of sides) {
    const price = side === 'BUY' ? bid : ask
    const ro = riskMode === 'reduce_only'
    const qty = ro ? Math.min(cfg.baseSizeSteps, Math.abs(position.net)) : cfg.baseSizeSteps
    const slot = `${ro ? 'reduce' : 'dyn'}:${side}:0`
    const ok = price >= 1 && (ro ? qty >= inst.minQtySteps : inst.meetsMinimums(price, qty))
    if (!ok) dropped.push({slot, price, qty, why: 'below minQty or minNotional at this price'})
    else intents.push({slot, side, price, qty, tif: 'GTX', reduceOnly: ro, layer: ro ? 'reduce' : 'dynamic'})
  }
  bid = intents.find((i) => i.side === 'BUY')?.price ?? -1
  ask = intents.find((i) => i.side === 'SELL')?.price ?? -1
  const key = JSON.stringify([riskMode, intents.map((i) => [i.slot, i.price, i.qty]), dropped.map((d) => d.slot)])
  if (key !== s.lastKey) {
    events.push({
      type: 'strategy_adjust',
      ts: nowMs,
      reason: dropped.length > 0 ? 'order_dropped' : 'quote',
      riskMode,
      spread: cfg.baseSpread,
      volatilityFactor: 0,
      inventoryFactor: 0,
      quoteInterval: cfg.baseIntervalMs,
      bid: bid >= 0 ? bid : null,
      ask: ask >= 0 ? ask : null,
      bidPrice: bid >= 0 ? inst.ticksToPrice(bid) : null,
      askPrice: ask >= 0 ? inst.ticksToPrice(ask) : null,
      mode: 'formula',
      bidMode: bid >= 0 ? 'formula' : 'none',
      askMode: ask >= 0 ? 'formula' : 'none',
      bidTif: bid >= 0 ? 'GTX' : null,
      askTif: ask >= 0 ? 'GTX' : null,
      backoffTicks: {buy: 0, sell: 0},
      depthFillPrice: null,
      depthFillAvailable: null,
      depthSlippage: null,
      ...(dropped.length > 0 ? {dropped} : {}),
    })
    s = {...s, lastKey: key}
  }
  return {intents, state: s, events, nextRefreshMs: next}
}
