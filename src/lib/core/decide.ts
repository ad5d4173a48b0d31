/**
 * The one pure step the engine calls (ARCHITECTURE "the one idea"):
 *
 *   risk evaluate → strategy quote (with the risk mode) → mode filter / forced flatten →
 *   netMax on intents → reconcile (cancel-then-place) → netMax guard on places
 *
 * and returns the actions, the events (strategy_adjust + risk_event), the next state and
 * when to be called again at the latest. No I/O, no clock: `nowMs` is an argument.
 *
 * Modes: normal → the strategy's intents; reduce_only → only reducing ones
 * (risk/reduce-only.ts); paused → none (everything is cancelled); halted → none, or, when
 * the halt flattens (stop-loss, `mm flatten`), reduce-only IOCs from the strategy's 3.4
 * pricing (planFlatten). netMax applies in every mode and to both strategy kinds; with
 * strategy.kind = 'naive' the risk machine runs only manual halts and the no-usable-book
 * pause (limits.naive), so the baseline measures the quoting rules with the hard cap alone.
 */
import type {BookView} from '../book/types.js'
import type {CoreConfig} from '../config/resolve.js'
import type {Instrument} from '../domain/instrument.js'
import type {OrderAction, OrderIntent, OrderSide, WorkingOrder} from '../domain/orders.js'
import {type ClientIdState, clientIdAllocator, initClientIds} from '../orders/client-id.js'
import {avgEntryTicks, type Position} from '../orders/position.js'
import {reconcile, type ReplaceMode} from '../orders/reconcile.js'
import {riskLimits} from '../risk/limits.js'
import {effectiveNet, evaluateRisk, type RiskResult} from '../risk/machine.js'
import {enforceNetMax, guardPlaces, type NetMaxCut, type UnbookedSteps} from '../risk/net-max.js'
import {onlyReducing} from '../risk/reduce-only.js'
import {type ControlRequest, initialRiskState, type RiskEvent, type RiskLimits, type RiskMode, type RiskState, type VenueRisk} from '../risk/types.js'
import {finishQuote, planFlatten, type QuotePlan, quotePlan} from '../strategy/index.js'
import {initialStrategyState, type PositionView, type StrategyAdjustEvent, type StrategyState} from '../strategy/types.js'

export interface CoreState {
  risk: RiskState
  strategy: StrategyState
  ids: ClientIdState
}

export interface CoreContext {
  cfg: CoreConfig
  inst: Instrument
  limits: RiskLimits
  /** 'after-cancel' (default): a replacement waits for the old order to be gone */
  replaceMode: ReplaceMode
  /** dynamic layer re-price tolerance (default 0: re-priced on every tick move, SPEC 3.5) */
  dynamicToleranceTicks: number
}

export interface DecideInput {
  nowMs: number
  book: BookView
  /** local ms of the last applied book update (default: book.lastUpdateTs / 1000) */
  bookUpdatedMs?: number
  position: Position
  /** our working orders (acked and in flight) */
  working: readonly WorkingOrder[]
  control?: readonly ControlRequest[]
  /**
   * live: what the venue says — liquidation price and mark (4.6) and the rate governor's
   * verdict, whose factor (≥ 1) stretches the refresh interval and widens the re-price
   * tolerance (fewer orders before the venue's limits); absent in dry-run and replay
   */
  venue?: VenueRisk
  /**
   * live: steps the venue showed filled (an answer's executedQty) that the position has
   * not booked yet, by order side (the adapter reads them back): 4.1 counts them on their
   * side's exposure until booked; the effective net (booked + unbooked BUY − unbooked SELL)
   * enters reduce-only (4.1), sizes the reducing orders (4.4) and is the position the
   * strategy quotes from; absent = none
   */
  unbooked?: UnbookedSteps
}

export type CoreEvent = RiskEvent | StrategyAdjustEvent

export interface Decision {
  actions: OrderAction[]
  events: CoreEvent[]
  state: CoreState
  /** call decide again at the latest at this time (ms) */
  nextWakeMs: number
  mode: RiskMode
  /** bestBid + bestAsk of a usable book, else null (for PnL marks) */
  mid2: number | null
}

export function prepareCore(cfg: CoreConfig, inst: Instrument, runId: string, opts: {replaceMode?: ReplaceMode; dynamicToleranceTicks?: number} = {}): {ctx: CoreContext; state: CoreState} {
  return {
    ctx: {cfg, inst, limits: riskLimits(cfg, inst), replaceMode: opts.replaceMode ?? 'after-cancel', dynamicToleranceTicks: opts.dynamicToleranceTicks ?? 0},
    state: initialCoreState(runId),
  }
}

export function initialCoreState(runId: string): CoreState {
  return {risk: initialRiskState(), strategy: initialStrategyState(), ids: initClientIds(runId)}
}

export function decide(state: CoreState, input: DecideInput, ctx: CoreContext): Decision {
  return decideFinish(decideStart(state, input, ctx))
}

/**
 * A decision in two steps (`decide` is both): `decideStart` makes the orders; `decideFinish`
 * makes the rest — the strategy's change key and `strategy_adjust`, the events in their
 * order, the netMax bookkeeping, the next state and wake time. Nothing the second step does
 * changes the orders, so the engine hands them to the venue in between (tick-to-order).
 */
export interface DecisionStart {
  /** the orders, final */
  actions: OrderAction[]
  state: CoreState
  nowMs: number
  net: number
  working: readonly WorkingOrder[]
  r: RiskResult
  q: QuotePlan
  mode: RiskMode
  pace: number
  /** the risk state so far (its reduce-only drop counter) */
  risk: RiskState
  /** the events after the strategy's: non-reducing drops, a flatten's */
  modeEvents: CoreEvent[]
  cuts: readonly NetMaxCut[]
  unbooked: UnbookedSteps | undefined
  ids: ReturnType<typeof clientIdAllocator>
  limits: RiskLimits
}

export function decideStart(state: CoreState, input: DecideInput, ctx: CoreContext): DecisionStart {
  const {cfg, inst, limits} = ctx
  const {nowMs, book, position, working} = input
  const net = position.net
  const modeEvents: CoreEvent[] = []

  // ---- risk
  const r = evaluateRisk(state.risk, {nowMs, book, bookUpdatedMs: input.bookUpdatedMs, position, control: input.control, venue: input.venue, unbooked: input.unbooked}, limits)
  const pace = paceFactor(input.venue)
  let risk = r.state
  const mode = r.mode

  // ---- strategy (always called: it keeps its samples and reports its mode switches), on the venue's position
  const pv = positionView(position, input.unbooked)
  const eff = pv.net
  const q = bandQuote(quotePlan({book, position: pv, working, riskMode: mode, nowMs}, state.strategy, cfg, inst), input.venue, inst)

  // ---- the mode decides what may leave the core (4.4: reducing the venue's position, booked + unbooked)
  let intents: OrderIntent[] = []
  if (mode === 'normal') {
    intents = q.intents
  } else if (mode === 'reduce_only') {
    const f = onlyReducing(q.intents, eff)
    intents = f.intents
    if (f.dropped.length > 0) {
      risk = {...risk, counters: {...risk.counters, nonReducingDropped: risk.counters.nonReducingDropped + f.dropped.length}}
      modeEvents.push(riskEvent(nowMs, state.risk.mode, mode, 'non_reducing_dropped', {count: f.dropped.length, net, slots: f.dropped.map((d) => d.slot).join(',')}, {}))
    }
  } else if (mode === 'halted' && risk.halt?.flatten && eff !== 0) {
    // (halted: the quote is complete, its state final)
    const fp = planFlatten({book, position: pv, working, nowMs}, q.state, cfg, inst, {maxSlipPct: risk.halt.maxSlippagePct})
    modeEvents.push(...fp.events)
    intents = onlyReducing(fp.intents, eff).intents
  }

  // ---- 4.1 netMax on intents, reconcile, netMax guard on places
  const nm = enforceNetMax(intents, working, net, limits.netMaxSteps, inst, input.unbooked)
  const avg = pv.avgCost
  const inProfit = eff !== 0 && r.mid2 !== null && avg > 0 && (eff > 0 ? r.mid2 / 2 > avg : r.mid2 / 2 < avg)
  const ids = clientIdAllocator(state.ids)
  const planned = reconcile(clampToBand(nm.intents, input.venue), working, {
    nextId: ids.next,
    mode: ctx.replaceMode,
    // under the venue's pace: between stretched refreshes resting dynamic quotes stay where they are
    dynamicToleranceTicks: pace > 1 && nowMs < risk.paceHoldUntil ? Number.POSITIVE_INFINITY : paceTolerance(ctx.dynamicToleranceTicks, pace),
    staticTicks: cfg.staticTicks,
    reduceTolerancePct: inProfit ? cfg.reduceOnlyReplaceTolerancePct : 0,
  })
  const g = guardPlaces(planned, working, net, limits.netMaxSteps, inst, input.unbooked)
  const cuts = nm.cuts.length === 0 ? g.cuts : g.cuts.length === 0 ? nm.cuts : [...nm.cuts, ...g.cuts]
  return {actions: g.actions, state, nowMs, net, working, r, q, mode, pace, risk, modeEvents, cuts, unbooked: input.unbooked, ids, limits}
}

export function decideFinish(p: DecisionStart): Decision {
  const {state, nowMs, net, working, r, mode, pace, modeEvents, limits} = p
  let risk = p.risk
  const q = finishQuote(p.q)
  // the events in their order: the risk machine's, the strategy's, the mode's, netMax's
  const events: CoreEvent[] = []
  events.push(...r.events)
  events.push(...q.events)
  events.push(...modeEvents)
  risk = netMaxBookkeeping(risk, p.cuts, nowMs, state.risk.mode, mode, net, working, limits, events, p.unbooked)

  // the venue's pace stretches the refresh interval (the risk machine's own deadlines stay)
  let next = pace > 1 && Number.isFinite(q.nextRefreshMs) ? nowMs + Math.ceil((q.nextRefreshMs - nowMs) * pace) : q.nextRefreshMs
  // a refresh under the pace holds the quotes until the next stretched refresh (a wake of the risk rules or a report in between does not re-price)
  const hold = pace <= 1 ? 0 : nowMs >= risk.paceHoldUntil ? next : risk.paceHoldUntil
  if (hold !== risk.paceHoldUntil) risk = {...risk, paceHoldUntil: hold}
  if (r.wakeMs !== null && r.wakeMs < next) next = r.wakeMs
  return {actions: p.actions, events, state: {risk, strategy: q.state, ids: p.ids.state()}, nextWakeMs: next, mode, mid2: r.mid2}
}

/**
 * Orders a strategy report handler asks for (today: the instant retry of a post-only
 * order refused with -5022) are decided here, like any other order (issue 7 §2): the risk
 * machine is evaluated on the current input (its state is not advanced; the next full
 * decision does that) and its mode filters them (normal: as asked; reduce-only: only
 * reducing ones; halted, paused: none); then netMax on the intents, reconcile against
 * the working orders of their slots (client ids minted by the one allocator), and the
 * netMax guard on the places. The strategy is not asked to quote, so the other slots
 * stay as they are until the next refresh. Cuts are counted like any other.
 */
export function decideRequested(state: CoreState, input: DecideInput, requested: readonly OrderIntent[], ctx: CoreContext): Decision {
  const {inst, limits} = ctx
  const {nowMs, book, position, working} = input
  const net = position.net
  const r = evaluateRisk(state.risk, {nowMs, book, bookUpdatedMs: input.bookUpdatedMs, position, control: input.control, venue: input.venue, unbooked: input.unbooked}, limits)
  const mode = r.mode
  const intents = mode === 'normal' ? [...requested] : mode === 'reduce_only' ? onlyReducing(requested, effectiveNet(net, input.unbooked)).intents : []
  const nm = enforceNetMax(intents, working, net, limits.netMaxSteps, inst, input.unbooked)
  const slots = new Set(intents.map((i) => i.slot))
  const ids = clientIdAllocator(state.ids)
  const planned = reconcile(clampToBand(nm.intents, input.venue), working.filter((w) => slots.has(w.slot)), {nextId: ids.next, mode: ctx.replaceMode, dynamicToleranceTicks: ctx.dynamicToleranceTicks, staticTicks: ctx.cfg.staticTicks})
  const g = guardPlaces(planned, working, net, limits.netMaxSteps, inst, input.unbooked)
  const cuts = [...nm.cuts, ...g.cuts]
  const events: CoreEvent[] = []
  let risk = state.risk
  if (cuts.length > 0) {
    risk = {...risk, counters: {...risk.counters, netMaxCuts: risk.counters.netMaxCuts + cuts.length}}
    for (const side of ['BUY', 'SELL'] as const) {
      const c = cuts.filter((x) => x.side === side)
      if (c.length === 0) continue
      const onSide = working.filter((w) => w.side === side).reduce((a, w) => a + Math.max(0, w.qty - w.filled), 0)
      events.push(riskEvent(nowMs, state.risk.mode, state.risk.mode, 'net_max', {net, workingOnSide: onSide, ...unbookedValue(input.unbooked, side), wanted: c.reduce((a, x) => a + x.wanted, 0), allowed: c.reduce((a, x) => a + x.allowed, 0), slots: c.map((x) => x.slot).join(',')}, {netMaxSteps: limits.netMaxSteps}, side))
    }
  }
  return {actions: g.actions, events, state: {risk, strategy: state.strategy, ids: ids.state()}, nextWakeMs: Number.POSITIVE_INFINITY, mode, mid2: r.mid2}
}

/**
 * PERCENT_PRICE (live): each intent priced inside the venue's band of the mark — a BUY no
 * higher than `maxBuyTicks`, a SELL no lower than `minSellTicks` — so an order the venue
 * would refuse (-4024, refused locally by the adapter first) goes out at the band's edge
 * instead: a reduce IOC then fills what the book holds inside the band. A clamp only makes
 * an order less aggressive. No band (absent, null, non-finite, ≤ 0): the intents as they
 * are. The same array when nothing is clamped (no allocation on the usual decision).
 */
export function clampToBand(intents: OrderIntent[], venue: VenueRisk | undefined): OrderIntent[] {
  const cap = bandCap(venue)
  const floor = bandFloor(venue)
  if (cap === Number.POSITIVE_INFINITY && floor === 0) return intents
  let out: OrderIntent[] | null = null
  for (let i = 0; i < intents.length; i++) {
    const it = intents[i]
    const price = it.side === 'BUY' ? Math.min(it.price, cap) : Math.max(it.price, floor)
    if (price === it.price) {
      if (out !== null) out.push(it)
      continue
    }
    if (out === null) out = intents.slice(0, i)
    out.push({...it, price})
  }
  return out ?? intents
}

/** The PERCENT_PRICE band's BUY cap (ticks; +∞ when none is known). */
function bandCap(venue: VenueRisk | undefined): number {
  const c = venue?.maxBuyTicks
  return typeof c === 'number' && Number.isFinite(c) && c > 0 ? c : Number.POSITIVE_INFINITY
}

/** The PERCENT_PRICE band's SELL floor (ticks; 0 when none is known). */
function bandFloor(venue: VenueRisk | undefined): number {
  const f = venue?.minSellTicks
  return typeof f === 'number' && Number.isFinite(f) && f > 0 ? f : 0
}

/**
 * The strategy's quote priced inside the PERCENT_PRICE band before its change key and its
 * `strategy_adjust` are made: the event's bid/ask (and bidPrice/askPrice) are the prices
 * sent, `clampedFrom` names the side's price before the clamp, and a band that moves alone
 * (a new mark) is a changed quote. v2 makes its event later (finishQuote, from the report);
 * the naive baseline has made it already: its bid/ask are set to the clamped prices. The
 * same plan when nothing is clamped (no band: dry-run, replay).
 */
export function bandQuote(q: QuotePlan, venue: VenueRisk | undefined, inst: Instrument): QuotePlan {
  // nothing clamped (no band, or every intent inside it): the same plan, nothing allocated
  const intents = clampToBand(q.intents, venue)
  if (intents === q.intents) return q
  const cap = bandCap(venue)
  const floor = bandFloor(venue)
  const bid = (p: number | null | undefined): number | null => (typeof p === 'number' && p >= 0 ? Math.min(p, cap) : null)
  const ask = (p: number | null | undefined): number | null => (typeof p === 'number' && p >= 0 ? Math.max(p, floor) : null)
  const r = q.report
  if (r !== undefined) {
    const mainPrice = {BUY: bid(r.mainPrice.BUY), SELL: ask(r.mainPrice.SELL)}
    const from = clampedFrom(r.mainPrice.BUY, mainPrice.BUY, r.mainPrice.SELL, mainPrice.SELL)
    return {...q, intents, report: from ? {...r, mainPrice, clampedFrom: from} : r}
  }
  const events = q.events.map((e) => {
    if (e.type !== 'strategy_adjust' || (e.bid == null && e.ask == null)) return e
    const b = bid(e.bid)
    const a = ask(e.ask)
    const from = clampedFrom(e.bid ?? null, b, e.ask ?? null, a)
    return from ? {...e, bid: b, ask: a, bidPrice: b === null ? null : inst.ticksToPrice(b), askPrice: a === null ? null : inst.ticksToPrice(a), clampedFrom: from} : e
  })
  return {...q, intents, events}
}

/** the sides a band clamp moved: their price before it (ticks); undefined when none moved */
function clampedFrom(bid0: number | null, bid1: number | null, ask0: number | null, ask1: number | null): {bid?: number; ask?: number} | undefined {
  if (bid0 === bid1 && ask0 === ask1) return undefined
  const from: {bid?: number; ask?: number} = {}
  if (bid0 !== null && bid0 !== bid1) from.bid = bid0
  if (ask0 !== null && ask0 !== ask1) from.ask = ask0
  return from
}

/**
 * The position the strategy quotes from: the venue's, booked + the fills it showed and
 * the position has not booked (live); the booked entry price while those fills leave the
 * position on the same side, none (0: no take profit) when they flatten or flip it.
 */
export function positionView(position: Position, unbooked: UnbookedSteps | undefined): PositionView {
  const avg = avgEntryTicks(position)
  const cost = Number.isNaN(avg) ? 0 : avg
  const net = effectiveNet(position.net, unbooked)
  return {net, avgCost: net === position.net || Math.sign(net) === Math.sign(position.net) ? cost : 0}
}

/** The rate governor's refresh-interval factor (1 without a venue verdict). */
export function paceFactor(v: VenueRisk | undefined): number {
  const f = v?.pace?.factor
  return f !== undefined && Number.isFinite(f) && f > 1 ? f : 1
}

/**
 * The dynamic layer's re-price tolerance under a pace factor: the configured one times
 * the factor, and at least factor − 1 ticks (so a tolerance of 0 widens too): at factor
 * 4 an order within 3 ticks of its target stays.
 */
export function paceTolerance(ticks: number, factor: number): number {
  if (factor <= 1) return ticks
  return Math.max(Math.round(ticks * factor), Math.floor(factor) - 1)
}

function riskEvent(ts: number, from: RiskMode, to: RiskMode, kind: RiskEvent['kind'], values: RiskEvent['values'], thresholds: RiskEvent['thresholds'], side?: OrderSide): RiskEvent {
  return {type: 'risk_event', ts, kind, from, to, ...(side ? {side} : {}), values, thresholds}
}

/** a net_max event's `unbookedOnSide` (fills the venue showed, not booked yet), only when there are some */
function unbookedValue(unbooked: UnbookedSteps | undefined, side: OrderSide): {unbookedOnSide?: number} {
  const n = unbooked?.[side] ?? 0
  return n > 0 ? {unbookedOnSide: n} : {}
}

/** Count the cuts (alert metric) and report a side entering / leaving the cap. */
function netMaxBookkeeping(risk: RiskState, cuts: readonly NetMaxCut[], nowMs: number, from: RiskMode, to: RiskMode, net: number, working: readonly WorkingOrder[], limits: RiskLimits, events: CoreEvent[], unbooked: UnbookedSteps | undefined): RiskState {
  // the usual decision: nothing cut and neither side capped before: no objects made
  if (cuts.length === 0 && !risk.netMaxCapped.BUY && !risk.netMaxCapped.SELL) return risk
  const capped = {BUY: cuts.some((c) => c.side === 'BUY'), SELL: cuts.some((c) => c.side === 'SELL')}
  for (const side of ['BUY', 'SELL'] as const) {
    if (capped[side] === risk.netMaxCapped[side]) continue
    const onSide = working.filter((w) => w.side === side).reduce((a, w) => a + Math.max(0, w.qty - w.filled), 0)
    if (capped[side]) {
      const c = cuts.filter((x) => x.side === side)
      events.push(riskEvent(nowMs, from, to, 'net_max', {net, workingOnSide: onSide, ...unbookedValue(unbooked, side), wanted: c.reduce((a, x) => a + x.wanted, 0), allowed: c.reduce((a, x) => a + x.allowed, 0), slots: c.map((x) => x.slot).join(',')}, {netMaxSteps: limits.netMaxSteps}, side))
    } else {
      events.push(riskEvent(nowMs, from, to, 'net_max_clear', {net, workingOnSide: onSide}, {netMaxSteps: limits.netMaxSteps}, side))
    }
  }
  if (cuts.length === 0 && capped.BUY === risk.netMaxCapped.BUY && capped.SELL === risk.netMaxCapped.SELL) return risk
  return {...risk, netMaxCapped: capped, counters: {...risk.counters, netMaxCuts: risk.counters.netMaxCuts + cuts.length}}
}
