/**
 * The risk state machine (SPEC §4). Pure: time, book, position and operator requests are
 * arguments; the result is the next state, the events and the mode the rest of the core
 * obeys.
 *
 *  - 4.1 reduce_only while |net| ≥ reduceOnlyThresholdSteps, normal again below it. Live,
 *    |net| is checked both booked and effective (booked + the fills the venue showed and
 *    the position has not booked yet, `input.unbooked`): reduce_only starts as soon as
 *    either is at the threshold and ends once both are below it.
 *  - 4.2 stop-loss: unrealised PnL (against the mid) < stopLoss → halted{stop_loss},
 *    flatten with reduce-only IOCs, stays halted until `mm resume` (no expiry).
 *  - 4.3 shock: a mid move > shockPct against a 1-second mid sample of the last two
 *    seconds → halted{shock} for haltMs (a further shock while halted extends it); watch
 *    only. The samples restart after any pause, so a gap over a disconnect is not a "move".
 *  - 4.5 stale book: no book update for ≥ staleBookMs, or a book that is not ready
 *    (resync), crossed or one-sided → paused until the book is whole again.
 *  - 4.6 daily loss: realised + unrealised (against the mid) − fees since 00:00 UTC of
 *    the clock's day ≤ −maxDailyLoss → halted{daily_loss}, flatten, until `mm resume`
 *    (a resume over it starts the day's count again from that moment). The day's basis
 *    is taken at its first usable mid; a run started mid-day may carry the day's PnL of
 *    an earlier run (`day.base` null).
 *  - 4.6 liquidation (live: `input.venue`): the venue's liquidation price closer to the
 *    mark than minLiquidationDistancePct → reduce_only until it is not.
 *  - venue pace (live): the rate governor's mode changes are reported (venue_pace); its
 *    `stopped` (a storm of rejects / 5xx / -1008 / unknown outcomes, or a 418 ban) →
 *    halted{storm} until `mm resume` (or the ban's end).
 *  - manual: `halt` (optionally until a time), `flatten` (halt + close), `resume` (clears
 *    any halt at once — it is the operator's explicit decision; a stop-loss re-triggers if
 *    the loss is still there).
 * Precedence: halted > paused > reduce_only > normal. Stop-loss overrides a shock or
 * manual halt (it adds the flatten). With `limits.naive` only manual halts and an unusable
 * book (no prices) apply; netMax is enforced elsewhere for both kinds.
 */
import type {BookView} from '../book/types.js'
import type {Steps} from '../domain/instrument.js'
import {type Position, unrealisedUnits} from '../orders/position.js'
import type {UnbookedSteps} from './net-max.js'
import {type ControlRequest, DAY_MS, type HaltInfo, type PauseReason, type RiskEvent, type RiskEventKind, type RiskLimits, type RiskMode, type RiskState, type VenueRisk} from './types.js'

export {DAY_MS}

export interface RiskInput {
  nowMs: number
  book: BookView
  /** local ms of the last applied book update; default book.lastUpdateTs / 1000 */
  bookUpdatedMs?: number
  position: Position
  control?: readonly ControlRequest[]
  /** live: what the venue says (liquidation price, mark, rate governor); absent otherwise */
  venue?: VenueRisk
  /** live: fills the venue showed and the position has not booked yet, by side; absent = none */
  unbooked?: UnbookedSteps
}

export interface RiskResult {
  state: RiskState
  events: RiskEvent[]
  mode: RiskMode
  /** mid2 (bestBid + bestAsk) of a healthy book, else null */
  mid2: number | null
  /** when the risk state may change by itself (halt end, stale deadline, next sample), ms; null = no deadline */
  wakeMs: number | null
}

/** Why the book cannot be used, or null when it can. */
export function bookProblem(book: BookView, nowMs: number, bookUpdatedMs: number, staleBookMs: number | null): PauseReason | null {
  if (!book.ready) return 'book_not_ready'
  const bid = book.bestBid()
  const ask = book.bestAsk()
  if (bid < 0 || ask < 0) return 'one_sided_book'
  if (bid >= ask) return 'crossed_book'
  if (staleBookMs !== null && nowMs - bookUpdatedMs >= staleBookMs) return 'stale_book'
  return null
}

export function modeOf(s: Pick<RiskState, 'halt' | 'pause' | 'reduceOnly'>): RiskMode {
  if (s.halt) return 'halted'
  if (s.pause) return 'paused'
  return s.reduceOnly ? 'reduce_only' : 'normal'
}

/** |net| ≥ threshold (4.1). */
export function isReduceOnly(net: Steps, thresholdSteps: Steps): boolean {
  return Math.abs(net) >= thresholdSteps
}

/**
 * The position the venue holds: the booked net plus the fills it showed and the position
 * has not booked yet (unbooked BUY − unbooked SELL). The booked net itself without any.
 */
export function effectiveNet(net: Steps, unbooked: UnbookedSteps | undefined): Steps {
  return unbooked === undefined ? net : net + unbooked.BUY - unbooked.SELL
}

type PendingEvent = Omit<RiskEvent, 'type' | 'ts' | 'from' | 'to'>

/**
 * What one evaluation works on, handed through the rules below (one object per call).
 * The rules are small functions of their own, each called only when it can act: the
 * function run at every decision stays small, so V8 optimises it within the first
 * minutes of a run (one of 4,377 bytes of bytecode was never optimised in a live run).
 */
interface Evaluation {
  halt: HaltInfo | null
  counters: RiskState['counters']
  pending: PendingEvent[]
  /** a resume lifted a daily-loss halt: the day's count starts again */
  dayRestart: boolean
}

function ev(x: Evaluation, kind: RiskEventKind, values: RiskEvent['values'], thresholds: RiskEvent['thresholds'] = {}, extra: {reason?: string} = {}): void {
  x.pending.push({kind, values, thresholds, ...extra})
}

export function evaluateRisk(prev: RiskState, input: RiskInput, limits: RiskLimits): RiskResult {
  const now = input.nowMs
  const from = prev.mode
  // counters are copied only when one of them moves (the usual decision changes none)
  const x: Evaluation = {halt: prev.halt, counters: prev.counters, pending: [], dayRestart: false}

  // ---- operator requests, in order
  if (input.control !== undefined && input.control.length > 0) applyControl(x, input.control, now, input.position.net, limits)

  // ---- a timed halt ends
  if (x.halt && x.halt.until !== null && now >= x.halt.until) {
    ev(x, 'halt_end', {since: x.halt.since, until: x.halt.until}, {haltMs: limits.haltMs}, {reason: x.halt.reason})
    x.halt = null
  }

  // ---- the venue's pace (live): a change is reported; a stop (storm, ban) halts
  const venue = input.venue
  let pace = prev.pace
  if (venue?.pace) pace = applyPace(x, venue.pace, prev.pace, now)

  // ---- 4.5 the book
  const bookMs = input.bookUpdatedMs ?? Math.floor(input.book.lastUpdateTs / 1000)
  const pause = bookProblem(input.book, now, bookMs, limits.naive ? null : limits.staleBookMs)
  if (pause !== prev.pause) bookChange(x, pause, prev.pause, input.book, now, bookMs, limits)
  const mid2 = pause ? null : input.book.bestBid() + input.book.bestAsk()
  let shockRefs = pause ? [] : prev.shockRefs

  // ---- 4.3 shock
  if (mid2 !== null && !limits.naive) shockRefs = shockRule(x, shockRefs, mid2, now, limits)

  // ---- 4.2 stop-loss
  const net = input.position.net
  if (mid2 !== null && !limits.naive && limits.stopLossUnits !== null && net !== 0 && x.halt?.reason !== 'stop_loss') stopLossRule(x, input.position, mid2, now, limits)
  // ---- 4.6 daily loss: realised + unrealised − fees since 00:00 UTC
  let day = prev.day
  if (mid2 !== null && !limits.naive && limits.maxDailyLossUnits !== null) day = dailyLossRule(x, day, input.position, mid2, now, limits)

  // ---- 4.6 liquidation distance (live): closer than the limit → reduce-only
  let liqNear = prev.liqNear
  if (venue && !limits.naive && limits.minLiquidationDistancePct > 0) {
    liqNear = liquidationRule(x, venue, prev.liqNear, net, limits)
  } else if (limits.naive || limits.minLiquidationDistancePct <= 0) {
    liqNear = false
  }

  // the venue's position (booked + unbooked fills): what reduce-only and the flatten's end look at too
  const eff = effectiveNet(net, input.unbooked)
  if (x.halt?.flatten && !x.halt.flattened && net === 0 && eff === 0) {
    x.halt = {...x.halt, flattened: true}
    ev(x, 'flatten_done', {net}, {}, {reason: x.halt.reason})
  } else if (x.halt?.flatten && x.halt.flattened && (net !== 0 || eff !== 0)) {
    // a position after flatten_done (a fill booked late, a position opened by hand that the
    // audit took in): the flatten goes on (decide closes the effective net), and the halt
    // no longer says flattened: state.json and mm status said "flattened" over it
    x.halt = {...x.halt, flattened: false}
    ev(x, 'flatten', {net, effective: eff, again: 'position after flatten_done'}, {}, {reason: x.halt.reason})
  }

  // ---- 4.1 reduce-only: from the booked or the effective net (either at the threshold holds it)
  const reduceOnly = !limits.naive && (isReduceOnly(net, limits.reduceOnlyThresholdSteps) || isReduceOnly(eff, limits.reduceOnlyThresholdSteps))
  if (reduceOnly !== prev.reduceOnly) reduceOnlyChange(x, reduceOnly, net, eff, input.unbooked, limits)

  const halt = x.halt
  const state: RiskState = {
    mode: halt ? 'halted' : pause ? 'paused' : reduceOnly || liqNear ? 'reduce_only' : 'normal',
    halt,
    pause,
    reduceOnly,
    shockRefs,
    lastMid2: mid2 ?? prev.lastMid2,
    netMaxCapped: prev.netMaxCapped,
    counters: x.counters,
    day,
    liqNear,
    pace,
    paceHoldUntil: prev.paceHoldUntil,
  }
  const events: RiskEvent[] = []
  for (let i = 0; i < x.pending.length; i++) events.push({type: 'risk_event', ts: now, ...x.pending[i], from, to: state.mode})

  // the earliest of: a timed halt's end, the stale-book deadline, the next shock sample
  let wakeMs: number | null = halt?.until != null ? halt.until : null
  if (!pause && !limits.naive) {
    const stale = bookMs + limits.staleBookMs
    if (wakeMs === null || stale < wakeMs) wakeMs = stale
    if (shockRefs.length > 0) {
      const sample = shockRefs[shockRefs.length - 1][0] + limits.shockWindowMs
      if (sample < wakeMs) wakeMs = sample
    }
  }
  return {state, events, mode: state.mode, mid2, wakeMs}
}

/** Operator requests (halt, resume, flatten), in order. */
function applyControl(x: Evaluation, control: readonly ControlRequest[], now: number, net: Steps, limits: RiskLimits): void {
  for (const c of control) {
    const halt = x.halt
    if (c.kind === 'resume') {
      if (halt) ev(x, 'resume', {by: c.by ?? null, haltReason: halt.reason, since: halt.since})
      if (halt?.reason === 'daily_loss') x.dayRestart = true
      x.halt = null
    } else if (c.kind === 'halt' && c.carried) {
      // restored as its own kind (not as a manual halt): `mm resume` keeps the rule of that kind
      const until = c.untilMs ?? null
      x.halt = {reason: c.carried.reason, since: c.carried.sinceMs, until, by: c.by, why: c.why, flatten: c.carried.flatten}
      ev(x, 'halt', {by: c.by ?? null, why: c.why ?? null, until, carried: 1}, {}, {reason: c.carried.reason})
    } else if (c.kind === 'halt') {
      const until = c.untilMs ?? null
      if (halt?.reason === 'stop_loss' || halt?.reason === 'daily_loss') {
        // a stop-loss (or daily-loss) halt waits for `mm resume` (4.2): a manual halt on top neither ends nor times it
        ev(x, 'halt', {by: c.by ?? null, why: c.why ?? null, until: null}, {}, {reason: halt.reason})
      } else {
        x.halt = {reason: 'manual', since: now, until, by: c.by, why: c.why, flatten: halt?.flatten ?? false, maxSlippagePct: halt?.maxSlippagePct}
        ev(x, 'halt', {by: c.by ?? null, why: c.why ?? null, until}, {}, {reason: 'manual'})
      }
    } else {
      x.halt = {reason: 'manual', since: now, until: null, by: c.by, why: c.why, flatten: true, maxSlippagePct: c.maxSlippagePct}
      ev(x, 'flatten', {by: c.by ?? null, why: c.why ?? null, net}, {maxSlippagePct: c.maxSlippagePct ?? limits.reduceOnlyMaxSlippagePct}, {reason: 'manual'})
    }
  }
}

/** 4.1: reduce-only entered or left; the unbooked fills are named only when they move the net (replay and dry-run never have any). */
function reduceOnlyChange(x: Evaluation, reduceOnly: boolean, net: Steps, eff: Steps, unbooked: UnbookedSteps | undefined, limits: RiskLimits): void {
  const values: RiskEvent['values'] = eff === net ? {net, absNet: Math.abs(net)} : {net, absNet: Math.abs(net), unbookedBuy: unbooked?.BUY ?? 0, unbookedSell: unbooked?.SELL ?? 0, effectiveNet: eff}
  ev(x, reduceOnly ? 'reduce_only_enter' : 'reduce_only_exit', values, {reduceOnlyThresholdSteps: limits.reduceOnlyThresholdSteps})
}

/** The rate governor's verdict: a mode change is reported, a stop halts. Returns the pace mode. */
function applyPace(x: Evaluation, p: NonNullable<VenueRisk['pace']>, prevPace: string, now: number): string {
  if (p.mode !== prevPace) ev(x, 'venue_pace', {mode: p.mode, factor: p.factor, until: p.until ?? null}, {}, {reason: p.reason})
  if (p.mode === 'stopped' && (!x.halt || x.halt.reason === 'shock')) {
    x.halt = {reason: 'storm', since: now, until: p.until ?? null, flatten: false}
    ev(x, 'storm', {factor: p.factor, until: p.until ?? null}, {}, {reason: p.reason})
  }
  return p.mode
}

/** 4.5: the book became unusable (pause) or usable again (pause_end). */
function bookChange(x: Evaluation, pause: PauseReason | null, prevPause: PauseReason | null, book: BookView, now: number, bookMs: number, limits: RiskLimits): void {
  if (pause) {
    if (pause === 'stale_book') x.counters = {...x.counters, stale: x.counters.stale + 1}
    ev(x, 'pause', {lastUpdateMs: bookMs, ageMs: now - bookMs, bestBid: book.bestBid(), bestAsk: book.bestAsk(), ready: book.ready ? 1 : 0}, {staleBookMs: limits.staleBookMs}, {reason: pause})
  } else {
    ev(x, 'pause_end', {lastUpdateMs: bookMs}, {staleBookMs: limits.staleBookMs}, {reason: prevPause ?? undefined})
  }
}

/** 4.3: a move past shockPct against a reference sample halts; returns the samples (the newest two, this one last). */
function shockRule(x: Evaluation, refs: Array<[number, number]>, mid2: number, now: number, limits: RiskLimits): Array<[number, number]> {
  let shockRefs = refs
  let worst = 0
  let worstRef = 0
  for (let k = 0; k < shockRefs.length; k++) {
    const ref = shockRefs[k][1]
    const move = Math.abs(mid2 - ref) / ref
    if (move > worst) {
      worst = move
      worstRef = ref
    }
  }
  if (worst > limits.shockPct && (!x.halt || x.halt.reason === 'shock')) {
    x.counters = {...x.counters, shock: x.counters.shock + 1}
    x.halt = {reason: 'shock', since: x.halt?.since ?? now, until: now + limits.haltMs, flatten: false}
    ev(x, 'shock', {mid: mid2 / 2, refMid: worstRef / 2, move: worst}, {shockPct: limits.shockPct, haltMs: limits.haltMs})
    // the move is now the reference: a halt ends on calm, not on the same jump again
    shockRefs = [[now, mid2]]
  }
  const n = shockRefs.length
  // the newest two samples, this one last (no copy and slice per call)
  if (n === 0 || now - shockRefs[n - 1][0] >= limits.shockWindowMs) shockRefs = n === 0 ? [[now, mid2]] : [shockRefs[n - 1], [now, mid2]]
  return shockRefs
}

/** 4.2: unrealised PnL against the mid below the stop-loss halts and flattens. */
function stopLossRule(x: Evaluation, position: Position, mid2: number, now: number, limits: RiskLimits): void {
  const u = unrealisedUnits(position, mid2)
  if (u < (limits.stopLossUnits as bigint)) {
    x.counters = {...x.counters, stopLoss: x.counters.stopLoss + 1}
    x.halt = {reason: 'stop_loss', since: now, until: null, flatten: true}
    ev(x, 'stop_loss', {unrealisedUnits: u.toString(), net: position.net, mid: mid2 / 2}, {stopLoss: limits.stopLoss, stopLossUnits: (limits.stopLossUnits as bigint).toString()})
  }
}

/** 4.6 daily loss: realised + unrealised − fees since 00:00 UTC; returns the day's count. */
function dailyLossRule(x: Evaluation, prevDay: RiskState['day'], pos: Position, mid2: number, now: number, limits: RiskLimits): RiskState['day'] {
  let day = prevDay
  const equity = pos.realised + unrealisedUnits(pos, mid2) - limits.feesToUnits(pos.fees)
  const startMs = now - (((now % DAY_MS) + DAY_MS) % DAY_MS)
  if (!day || day.startMs !== startMs || x.dayRestart) day = {startMs, base: equity.toString(), pnl: '0'}
  else if (day.base === null) day = {startMs, base: (equity - BigInt(day.pnl)).toString(), pnl: day.pnl}
  const pnl = equity - BigInt(day.base as string)
  day = {startMs, base: day.base, pnl: pnl.toString()}
  if (-pnl >= (limits.maxDailyLossUnits as bigint) && x.halt?.reason !== 'daily_loss' && x.halt?.reason !== 'stop_loss') {
    x.halt = {reason: 'daily_loss', since: now, until: null, flatten: true}
    ev(x, 'daily_loss', {dayPnlUnits: pnl.toString(), dayStartMs: startMs, net: pos.net, mid: mid2 / 2}, {maxDailyLoss: limits.maxDailyLoss, maxDailyLossUnits: (limits.maxDailyLossUnits as bigint).toString()})
  }
  return day
}

/** 4.6 liquidation distance: returns whether the liquidation price is nearer than the limit. */
function liquidationRule(x: Evaluation, venue: VenueRisk, prevNear: boolean, net: Steps, limits: RiskLimits): boolean {
  const liq = venue.liquidationTicks ?? 0
  const mark = venue.markTicks ?? 0
  const distance = net !== 0 && liq > 0 && mark > 0 ? Math.abs(mark - liq) / mark : null
  const near = distance !== null && distance < limits.minLiquidationDistancePct
  if (near !== prevNear) ev(x, near ? 'liquidation_near' : 'liquidation_clear', {liquidationTicks: liq, markTicks: mark, distance, net}, {minLiquidationDistancePct: limits.minLiquidationDistancePct})
  return near
}
