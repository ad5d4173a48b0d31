/**
 * The v2 quoting rules of SPEC §3 as one pure function: dynamic spread with volatility and
 * inventory skew (3.1), refresh interval (3.2), join inside the spread and post-only
 * back-off (3.3), take profit and reduce-only pricing (3.4), static layer and degrade
 * mode (3.5).
 */
import type {CoreConfig} from '../config/resolve.js'
import type {Instrument, Steps, Ticks} from '../domain/instrument.js'
import type {Layer, OrderIntent, OrderSide, TimeInForce, WorkingOrder} from '../domain/orders.js'
import {readTop, type Top} from './book.js'
import {backoffTicks, isDegraded, onMid, rememberJoin, sideKey, volatilityFactor} from './handlers.js'
import {ceilTick, clamp, floorTick, geq, opposite, reducingSide} from './math.js'
import {asIntent, planReduceIoc, type ReducePlan} from './reduce.js'
import type {JoinBlock, QuoteInput, QuoteResult, SideMode, StrategyAdjustEvent, StrategyState} from './types.js'

const SIDES: readonly OrderSide[] = ['BUY', 'SELL']

/** the slot names, made once (not a template string per side and call) */
const SLOT = {
  dyn: {BUY: 'dyn:BUY:0', SELL: 'dyn:SELL:0'},
  reduce: {BUY: 'reduce:BUY:0', SELL: 'reduce:SELL:0'},
  static: {BUY: 'static:BUY:0', SELL: 'static:SELL:0'},
} as const

export interface Factors {
  mid: number
  volatilityFactor: number
  inventoryFactor: number
  /** fraction of mid */
  spread: number
  centre: number
  /** formula prices before back-off: bid rounded down, ask rounded up */
  bid: Ticks
  ask: Ticks
  /** ms */
  quoteInterval: number
}

/** 3.1 + 3.2: the formula quote for a mid, a volatility factor and a position. */
export function formulaQuote(mid: number, vf: number, net: Steps, cfg: CoreConfig): Factors {
  const inventoryFactor = cfg.netMaxSteps > 0 ? clamp((cfg.inventoryK * net) / cfg.netMaxSteps, -1, 1) : 0
  const spread = cfg.baseSpread * (1 + vf + Math.abs(inventoryFactor))
  const centre = mid * (1 - (inventoryFactor * spread) / 2)
  let bid = floorTick(centre * (1 - spread / 2))
  let ask = ceilTick(centre * (1 + spread / 2))
  if (ask <= bid) ask = bid + 1
  if (bid < 0) bid = 0
  return {mid, volatilityFactor: vf, inventoryFactor, spread, centre, bid, ask, quoteInterval: Math.round(cfg.baseIntervalMs * (1 + vf))}
}

interface SideQuote {
  price: Ticks
  mode: SideMode
}

/** Keep a resting (non-IOC) quote from crossing: a bid ≤ best ask − 1, an ask ≥ best bid + 1 (raw book, own orders included). */
function pullBack(side: OrderSide, price: Ticks, top: Top): Ticks {
  return side === 'BUY' ? Math.min(price, top.rawAsk - 1) : Math.max(price, top.rawBid + 1)
}

/** 3.5: a static quote stays inside our own quotes (below our lowest ask, above our highest bid) and off the other side of the raw book. */
function staticFits(side: OrderSide, p: Ticks, minAsk: number, maxBid: number, top: Top): boolean {
  return side === 'BUY' ? p < minAsk && p < top.rawAsk : p > maxBid && p > top.rawBid
}

function findWorking(working: readonly WorkingOrder[], slot: string): WorkingOrder | undefined {
  for (let i = 0; i < working.length; i++) if (working[i].slot === slot) return working[i]
  return undefined
}

/**
 * What a v2 quote still has to do once its intents are known: remember the joins, write the
 * change key and, when it changed, the `strategy_adjust`. The core makes the orders first
 * and this after they have left (`finishQuote`); nothing of it changes the intents.
 */
export interface QuoteReport {
  riskMode: QuoteInput['riskMode']
  nowMs: number
  q: Record<OrderSide, SideQuote>
  mainPrice: Record<OrderSide, Ticks | null>
  mainTif: Record<OrderSide, TimeInForce | null>
  bo: Record<OrderSide, number>
  dropped: NonNullable<StrategyAdjustEvent['dropped']>
  joinBlocked: NonNullable<StrategyAdjustEvent['joinBlocked']>
  plan: ReducePlan | null
  f: Factors
  vf: number
  fair: number
  cfg: CoreConfig
  inst: Instrument
  /** PERCENT_PRICE (live, set by the core): a side's main price before the band clamp, when it moved (mainPrice is the clamped one) */
  clampedFrom?: {bid?: Ticks; ask?: Ticks}
}

/** A quote whose intents are final; `report` (when set) is still to be done by `finishQuote`. */
export type QuotePlan = QuoteResult & {report?: QuoteReport}

export function quoteV2(input: QuoteInput, state: StrategyState, cfg: CoreConfig, inst: Instrument): QuoteResult {
  return finishQuote(quoteV2Plan(input, state, cfg, inst))
}

/** The rest of a quote: joins remembered, the change key, the `strategy_adjust` of a change. */
export function finishQuote(p: QuotePlan): QuoteResult {
  const r = p.report
  if (r === undefined) return p
  const {riskMode, nowMs, q, mainPrice, mainTif, bo, dropped, joinBlocked, plan, f, vf, fair, cfg, inst, clampedFrom} = r
  const intents = p.intents
  const events = p.events
  let s = p.state
  for (const side of SIDES) if (q[side].mode === 'join' && mainPrice[side] !== null) s = rememberJoin(s, side, q[side].price)
  const modes = {BUY: mainPrice.BUY === null ? 'none' : q.BUY.mode, SELL: mainPrice.SELL === null ? 'none' : q.SELL.mode} as Record<OrderSide, SideMode>
  const blocked = joinBlocked.buy || joinBlocked.sell ? joinBlocked : undefined
  const key = quoteKey(riskMode, intents, modes, bo, dropped, blocked)
  if (key !== s.lastKey) {
    const ev = adjustEvent(nowMs, riskMode, plan, dropped, f, vf, mainPrice, mainTif, modes, bo, fair, blocked, cfg, inst)
    if (clampedFrom) ev.clampedFrom = clampedFrom
    events.push(ev)
    s = {...s, lastKey: key}
  }
  return {intents, state: s, events, nextRefreshMs: p.nextRefreshMs}
}

/** The quote up to its intents (the report is left to `finishQuote`). */
export function quoteV2Plan(input: QuoteInput, state: StrategyState, cfg: CoreConfig, inst: Instrument): QuotePlan {
  const {book, position, working, riskMode, nowMs} = input
  const net = position.net
  const events: StrategyAdjustEvent[] = []
  let s = state

  if (riskMode === 'halted' || riskMode === 'paused') {
    return idle(s, events, `off:${riskMode}`, {type: 'strategy_adjust', ts: nowMs, reason: 'risk_mode', riskMode, bid: null, ask: null, detail: `${riskMode}: every order cancelled, no quotes`}, nowMs + cfg.baseIntervalMs)
  }
  const tr = readTop(book, working)
  if (!tr.ok) {
    return idle(s, events, `nobook:${tr.why}`, {type: 'strategy_adjust', ts: nowMs, reason: 'no_book', riskMode, bid: null, ask: null, detail: `book ${tr.why.replace('_', ' ')}: no quotes`}, nowMs + cfg.baseIntervalMs)
  }
  const top = tr.top
  const m = onMid(s, top.mid, nowMs, cfg)
  s = m.state
  events.push(...m.events)

  const vf = volatilityFactor(s, nowMs, cfg)
  // fair value (calib): the centre the spread and skew are applied to; the mid still drives volatility and take profit
  const fair = cfg.fairValue === 'microprice' ? top.microprice : top.mid
  const f = formulaQuote(fair, vf, net, cfg)
  const bo = {BUY: backoffTicks(s, 'BUY', cfg), SELL: backoffTicks(s, 'SELL', cfg)}
  const formula: Record<OrderSide, Ticks> = {BUY: pullBack('BUY', f.bid - bo.BUY, top), SELL: pullBack('SELL', f.ask + bo.SELL, top)}
  const redSide = reducingSide(net)
  const reduceOnly = riskMode === 'reduce_only'
  const active: Record<OrderSide, boolean> = {BUY: !reduceOnly || redSide === 'BUY', SELL: !reduceOnly || redSide === 'SELL'}

  // ---- 3.4 profit state
  const avg = position.avgCost
  const hasCost = net !== 0 && avg > 0
  const profit = hasCost ? (net > 0 ? top.mid - avg : avg - top.mid) : 0
  const inProfit = hasCost && profit > 0
  const takeProfit = hasCost && cfg.takeProfitPct > 0 && geq(profit, cfg.takeProfitPct * avg)
  const marketClose = hasCost && cfg.reduceOnlyMarketTriggerPct > 0 && geq(profit, cfg.reduceOnlyMarketTriggerPct * avg)
  if (marketClose && redSide) active[opposite(redSide)] = false // no resting order to trade against our own IOC

  // ---- 3.3 join
  const bookSpread = top.ask - top.bid
  const joinable = cfg.joinEnabled && bookSpread >= cfg.joinMinSpreadTicks && vf < cfg.joinMaxVolFactor
  const q: Record<OrderSide, SideQuote> = {BUY: {price: formula.BUY, mode: 'formula'}, SELL: {price: formula.SELL, mode: 'formula'}}
  const joinBlocked: NonNullable<StrategyAdjustEvent['joinBlocked']> = {}
  for (const side of SIDES) {
    if (!active[side]) {
      q[side] = {price: -1, mode: 'none'}
      continue
    }
    if (!joinable) continue
    const why = joinBlock(side, net, reduceOnly, s, bo[side], nowMs, cfg)
    if (why) joinBlocked[sideKey(side)] = why
    else q[side] = {price: pullBack(side, side === 'BUY' ? top.bid + 1 : top.ask - 1, top), mode: 'join'}
  }
  // ---- 3.4 take profit: the reducing quote moves to the mid
  if (redSide && active[redSide] && takeProfit && !marketClose) {
    q[redSide] = {price: pullBack(redSide, redSide === 'SELL' ? ceilTick(top.mid) : floorTick(top.mid), top), mode: 'take_profit'}
  }
  // ---- own bid < own ask: the reducing side keeps its price; flat: joins give way
  if (active.BUY && active.SELL && q.BUY.price >= q.SELL.price) {
    if (redSide) {
      const mover = opposite(redSide)
      const keeper = q[redSide].price
      q[mover] = {price: mover === 'BUY' ? Math.min(formula.BUY, keeper - 1) : Math.max(formula.SELL, keeper + 1), mode: 'formula'}
    } else {
      q.BUY = {price: formula.BUY, mode: 'formula'}
      q.SELL = {price: formula.SELL, mode: 'formula'}
      if (q.BUY.price >= q.SELL.price) q.SELL = {price: q.BUY.price + 1, mode: 'formula'}
    }
  }

  // ---- assemble intents per side
  const intents: OrderIntent[] = []
  const dropped: NonNullable<StrategyAdjustEvent['dropped']> = []
  let plan: ReducePlan | null = null
  const mainTif: Record<OrderSide, TimeInForce | null> = {BUY: null, SELL: null}
  const mainPrice: Record<OrderSide, Ticks | null> = {BUY: null, SELL: null}

  for (const side of SIDES) {
    if (!active[side]) continue
    const reducing = side === redSide
    if (reducing && marketClose) {
      const p = marketCloseSide(side, input, s, cfg, inst, intents, dropped, q, mainTif, mainPrice)
      if (p) plan = p
      continue
    }
    if (reducing && (reduceOnly || takeProfit)) {
      reduceSide(side, input, s, cfg, inst, takeProfit, inProfit, top.mid, intents, dropped, q, mainTif, mainPrice)
      continue
    }
    const t: TimeInForce = isDegraded(s, side, nowMs) ? 'GTC' : 'GTX'
    if (pushIntent(intents, dropped, inst, SLOT.dyn[side], side, q[side].price, cfg.dynamicSizeSteps, t, false, 'dynamic')) {
      mainPrice[side] = q[side].price
      mainTif[side] = t
    }
  }

  // ---- 3.5 static layer: normal mode only, same spread (no join), post-only, sticky within staticTicks
  if (riskMode === 'normal' && !marketClose && cfg.staticSizeSteps > 0) staticLayer(working, formula, top, cfg, inst, intents, dropped)

  // ---- remember joins, report changes: after the orders have left (finishQuote)
  return {intents, state: s, events, nextRefreshMs: nowMs + f.quoteInterval, report: {riskMode, nowMs, q, mainPrice, mainTif, bo, dropped, joinBlocked, plan, f, vf, fair, cfg, inst}}
}

/** An intent into `intents`, or a `dropped` entry when it cannot meet the venue's minimums. */
function pushIntent(intents: OrderIntent[], dropped: NonNullable<StrategyAdjustEvent['dropped']>, inst: Instrument, slot: string, side: OrderSide, price: Ticks, qty: Steps, t: TimeInForce, ro: boolean, layer: Layer): boolean {
  if (qty <= 0) return false
  const ok = price >= 1 && (ro ? qty >= inst.minQtySteps && qty <= inst.maxQtySteps : inst.meetsMinimums(price, qty))
  if (!ok) {
    dropped.push({slot, price, qty, why: price < 1 ? 'price below one tick' : ro ? `qty outside [minQty, maxQty]` : `below minQty or minNotional at this price`})
    return false
  }
  intents.push({slot, side, price, qty, tif: t, reduceOnly: ro, layer})
  return true
}

/** 3.4 market close: the reducing side's reduce-only IOCs (those in flight stay). Returns the new plan, if one was made. */
function marketCloseSide(side: OrderSide, input: QuoteInput, s: StrategyState, cfg: CoreConfig, inst: Instrument, intents: OrderIntent[], dropped: NonNullable<StrategyAdjustEvent['dropped']>, q: Record<OrderSide, SideQuote>, mainTif: Record<OrderSide, TimeInForce | null>, mainPrice: Record<OrderSide, Ticks | null>): ReducePlan | null {
  const {book, working, nowMs} = input
  let plan: ReducePlan | null = null
  const inFlight = working.filter((w) => w.side === side && w.tif === 'IOC' && w.reduceOnly && w.layer === 'reduce')
  if (inFlight.length > 0) {
    intents.push(...inFlight.map(asIntent))
    q[side] = {price: inFlight[0].price, mode: 'reduce_ioc'}
  } else {
    plan = planReduceIoc({book, side, qty: Math.abs(input.position.net), working, nowMs}, s, cfg, inst)
    intents.push(...plan.intents)
    q[side] = {price: plan.intents[0]?.price ?? -1, mode: 'reduce_ioc'}
    if (plan.intents.length === 0 && plan.event.dropped) dropped.push(...plan.event.dropped)
  }
  mainTif[side] = 'IOC'
  mainPrice[side] = q[side].price >= 0 ? q[side].price : null
  return plan
}

/** 3.4 reduce-only / take profit: the reducing side's one reduce-only order (kept while in profit and close enough). */
function reduceSide(side: OrderSide, input: QuoteInput, s: StrategyState, cfg: CoreConfig, inst: Instrument, takeProfit: boolean, inProfit: boolean, mid: number, intents: OrderIntent[], dropped: NonNullable<StrategyAdjustEvent['dropped']>, q: Record<OrderSide, SideQuote>, mainTif: Record<OrderSide, TimeInForce | null>, mainPrice: Record<OrderSide, Ticks | null>): void {
  const net = input.position.net
  const slot = SLOT.reduce[side]
  const qty = Math.min(Math.abs(net), takeProfit ? Math.abs(net) : cfg.baseSizeSteps)
  const desired = q[side].price
  const w = findWorking(input.working, slot)
  if (w && inProfit && keepReduce(w, side, desired, qty, mid, cfg)) {
    intents.push(asIntent(w))
    mainPrice[side] = w.price
    mainTif[side] = w.tif
    return
  }
  const t: TimeInForce = isDegraded(s, side, input.nowMs) ? 'GTC' : 'GTX'
  if (pushIntent(intents, dropped, inst, slot, side, desired, qty, t, true, 'reduce')) {
    mainPrice[side] = desired
    mainTif[side] = t
  }
}

/** 3.5 static layer: inside our own quotes, post-only, sticky within staticTicks. */
function staticLayer(working: readonly WorkingOrder[], formula: Record<OrderSide, Ticks>, top: Top, cfg: CoreConfig, inst: Instrument, intents: OrderIntent[], dropped: NonNullable<StrategyAdjustEvent['dropped']>): void {
  // the highest bid and lowest ask among the intents so far (plain loop: no arrays per call)
  let maxBid = -Infinity
  let minAsk = Infinity
  for (let n = 0; n < intents.length; n++) {
    const p = intents[n].price
    if (intents[n].side === 'BUY') {
      if (p > maxBid) maxBid = p
    } else if (intents[n].side === 'SELL' && p < minAsk) minAsk = p
  }
  const desiredBuy = Math.min(formula.BUY, minAsk - 1)
  const desiredSell = Math.max(formula.SELL, maxBid + 1)
  for (const side of SIDES) {
    const slot = SLOT.static[side]
    const want = side === 'BUY' ? desiredBuy : desiredSell
    const w = findWorking(working, slot)
    if (w && w.tif === 'GTX' && !w.reduceOnly && w.side === side && w.qty - w.filled > 0 && Math.abs(w.price - want) <= cfg.staticTicks && staticFits(side, w.price, minAsk, maxBid, top)) {
      intents.push(asIntent(w))
    } else if (!staticFits(side, want, minAsk, maxBid, top) || !pushIntent(intents, dropped, inst, slot, side, want, cfg.staticSizeSteps, 'GTX', false, 'static')) {
      continue
    }
    const p = intents[intents.length - 1].price
    if (side === 'BUY') maxBid = Math.max(maxBid, p)
    else minAsk = Math.min(minAsk, p)
  }
}

/** The strategy_adjust of a changed quote. */
function adjustEvent(nowMs: number, riskMode: QuoteInput['riskMode'], plan: ReducePlan | null, dropped: NonNullable<StrategyAdjustEvent['dropped']>, f: Factors, vf: number, mainPrice: Record<OrderSide, Ticks | null>, mainTif: Record<OrderSide, TimeInForce | null>, modes: Record<OrderSide, SideMode>, bo: Record<OrderSide, number>, fair: number, blocked: StrategyAdjustEvent['joinBlocked'] | undefined, cfg: CoreConfig, inst: Instrument): StrategyAdjustEvent {
  const ev: StrategyAdjustEvent = {
    type: 'strategy_adjust',
    ts: nowMs,
    reason: plan ? 'reduce_ioc' : dropped.length > 0 ? 'order_dropped' : 'quote',
    riskMode,
    spread: f.spread,
    volatilityFactor: vf,
    inventoryFactor: f.inventoryFactor,
    quoteInterval: f.quoteInterval,
    bid: mainPrice.BUY,
    ask: mainPrice.SELL,
    bidPrice: mainPrice.BUY === null ? null : inst.ticksToPrice(mainPrice.BUY),
    askPrice: mainPrice.SELL === null ? null : inst.ticksToPrice(mainPrice.SELL),
    mode: modes.BUY === 'join' || modes.SELL === 'join' ? 'join' : 'formula',
    bidMode: modes.BUY,
    askMode: modes.SELL,
    bidTif: mainTif.BUY,
    askTif: mainTif.SELL,
    backoffTicks: {buy: bo.BUY, sell: bo.SELL},
    depthFillPrice: plan?.event.depthFillPrice ?? null,
    depthFillAvailable: plan?.event.depthFillAvailable ?? null,
    depthSlippage: plan?.event.depthSlippage ?? null,
  }
  // the optional fields in the order they always had (the log line's key order)
  if (dropped.length > 0) ev.dropped = dropped
  if (cfg.fairValue === 'microprice') ev.fairValue = fair
  if (blocked) ev.joinBlocked = blocked
  if (plan) ev.detail = plan.event.detail
  return ev
}

/** a string JSON writes as is between quotes */
const PLAIN = /^[A-Za-z0-9_:.-]*$/

/**
 * What a quote decided, as one string (the state's `lastKey`: a change is reported):
 * `JSON.stringify([riskMode, intents as [slot, price, qty, tif, reduceOnly], modes, bo,
 * dropped slots, blocked ?? null])`, written by hand — the same bytes, without the
 * arrays the call would need — and by JSON.stringify itself for anything it would escape
 * or write differently (a string outside [A-Za-z0-9_:.-], a number that is not finite).
 */
export function quoteKey(riskMode: string, intents: readonly OrderIntent[], modes: Record<OrderSide, SideMode>, bo: Record<OrderSide, number>, dropped: ReadonlyArray<{slot: string}>, blocked: StrategyAdjustEvent['joinBlocked'] | undefined): string {
  const slow = () => JSON.stringify([riskMode, intents.map((i) => [i.slot, i.price, i.qty, i.tif, i.reduceOnly]), modes, bo, dropped.map((d) => d.slot), blocked ?? null])
  if (!PLAIN.test(riskMode) || !PLAIN.test(modes.BUY) || !PLAIN.test(modes.SELL) || !Number.isFinite(bo.BUY) || !Number.isFinite(bo.SELL)) return slow()
  let k = '["' + riskMode + '",['
  for (let n = 0; n < intents.length; n++) {
    const i = intents[n]
    if (!PLAIN.test(i.slot) || !PLAIN.test(i.tif) || !Number.isFinite(i.price) || !Number.isFinite(i.qty)) return slow()
    k += (n > 0 ? ',["' : '["') + i.slot + '",' + String(i.price) + ',' + String(i.qty) + ',"' + i.tif + '",' + (i.reduceOnly ? 'true' : 'false') + ']'
  }
  k += '],{"BUY":"' + modes.BUY + '","SELL":"' + modes.SELL + '"},{"BUY":' + String(bo.BUY) + ',"SELL":' + String(bo.SELL) + '},['
  for (let n = 0; n < dropped.length; n++) {
    if (!PLAIN.test(dropped[n].slot)) return slow()
    k += (n > 0 ? ',"' : '"') + dropped[n].slot + '"'
  }
  k += '],'
  if (!blocked) return k + 'null]'
  // the keys in the order JSON.stringify writes them (insertion order of the object)
  let b = '{'
  for (const name of Object.keys(blocked) as Array<keyof typeof blocked>) {
    const v = blocked[name]
    if (v === undefined) continue
    if (!PLAIN.test(name) || !PLAIN.test(v)) return slow()
    b += (b.length > 1 ? ',"' : '"') + name + '":"' + v + '"'
  }
  return k + b + '}]'
}

/**
 * 3.3: why a side may not join although the book spread and the volatility allow it, or
 * null when it may. Joining must never override the inventory skew: a side whose fill
 * would take |net| past joinMaxNetFraction × the reduce-only threshold keeps its formula
 * price (which the skew already moved away), and so does a side filled within
 * joinFillCooldownMs (a burst of fills re-joining after each one would run the position
 * through zero before any adverse move is seen).
 */
export function joinBlock(side: OrderSide, net: Steps, reduceOnly: boolean, s: StrategyState, backoff: number, nowMs: number, cfg: CoreConfig): JoinBlock | null {
  const k = sideKey(side)
  const qty = reduceOnly ? Math.min(Math.abs(net), cfg.baseSizeSteps) : cfg.dynamicSizeSteps
  const after = side === 'BUY' ? net + qty : net - qty
  if (Math.abs(after) > Math.abs(net) && Math.abs(after) > cfg.joinMaxNetFraction * cfg.reduceOnlyThresholdSteps * (1 + 1e-12)) return 'net_fraction'
  if (nowMs < (s[k].fillJoinUntil ?? 0)) return 'fill_cooldown'
  if (nowMs < s[k].joinCooldownUntil) return 'cooldown'
  if (backoff > 0) return 'backoff'
  return null
}

/**
 * 3.4: in profit, a resting reduce-only order stays unless its price is off the wanted one
 * by more than reduceOnlyReplaceTolerancePct, it breaches the slippage cap, or it no longer
 * covers the size wanted.
 */
function keepReduce(w: WorkingOrder, side: OrderSide, desired: Ticks, qty: Steps, mid: number, cfg: CoreConfig): boolean {
  if (w.side !== side || w.tif === 'IOC' || !w.reduceOnly) return false
  if (w.qty - w.filled < qty) return false
  if (Math.abs(w.price - desired) > cfg.reduceOnlyReplaceTolerancePct * desired * (1 + 1e-12)) return false
  const capBreached = side === 'SELL' ? w.price < mid * (1 - cfg.reduceOnlyMaxSlippagePct) : w.price > mid * (1 + cfg.reduceOnlyMaxSlippagePct)
  return !capBreached
}

function idle(s: StrategyState, events: StrategyAdjustEvent[], key: string, ev: StrategyAdjustEvent, next: number): QuoteResult {
  if (key !== s.lastKey) {
    events.push(ev)
    s = {...s, lastKey: key}
  }
  return {intents: [], state: s, events, nextRefreshMs: next}
}
