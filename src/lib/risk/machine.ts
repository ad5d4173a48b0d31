/**
 * The risk state machine (SPEC §4). Pure: time, book, position and operator requests are
 * arguments; the result is the next state, the events and the mode the rest of the core
 * obeys.
 *
 *  - 4.1 reduce_only while |net| ≥ reduceOnlyThresholdSteps, normal again below it.
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

export function evaluateRisk(prev: RiskState, input: RiskInput, limits: RiskLimits): RiskResult {
  const now = input.nowMs
  const from = prev.mode
  const pending: Array<Omit<RiskEvent, 'type' | 'ts' | 'from' | 'to'>> = []
  const ev = (kind: RiskEventKind, values: RiskEvent['values'], thresholds: RiskEvent['thresholds'] = {}, extra: {reason?: string} = {}) => pending.push({kind, values, thresholds, ...extra})
  let halt: HaltInfo | null = prev.halt
  // copied only when one of them moves (the usual decision changes none: fewer objects per call)
  let counters = prev.counters
  let dayRestart = false

  // ---- operator requests, in order
  for (const c of input.control ?? []) {
    if (c.kind === 'resume') {
      if (halt) ev('resume', {by: c.by ?? null, haltReason: halt.reason, since: halt.since})
      if (halt?.reason === 'daily_loss') dayRestart = true
      halt = null
    } else if (c.kind === 'halt' && c.carried) {
      // restored as its own kind (not as a manual halt): `mm resume` keeps the rule of that kind
      const until = c.untilMs ?? null
      halt = {reason: c.carried.reason, since: c.carried.sinceMs, until, by: c.by, why: c.why, flatten: c.carried.flatten}
      ev('halt', {by: c.by ?? null, why: c.why ?? null, until, carried: 1}, {}, {reason: c.carried.reason})
    } else if (c.kind === 'halt') {
      const until = c.untilMs ?? null
      if (halt?.reason === 'stop_loss' || halt?.reason === 'daily_loss') {
        // a stop-loss (or daily-loss) halt waits for `mm resume` (4.2): a manual halt on top neither ends nor times it
        ev('halt', {by: c.by ?? null, why: c.why ?? null, until: null}, {}, {reason: halt.reason})
      } else {
        halt = {reason: 'manual', since: now, until, by: c.by, why: c.why, flatten: halt?.flatten ?? false, maxSlippagePct: halt?.maxSlippagePct}
        ev('halt', {by: c.by ?? null, why: c.why ?? null, until}, {}, {reason: 'manual'})
      }
    } else {
      halt = {reason: 'manual', since: now, until: null, by: c.by, why: c.why, flatten: true, maxSlippagePct: c.maxSlippagePct}
      ev('flatten', {by: c.by ?? null, why: c.why ?? null, net: input.position.net}, {maxSlippagePct: c.maxSlippagePct ?? limits.reduceOnlyMaxSlippagePct}, {reason: 'manual'})
    }
  }

  // ---- a timed halt ends
  if (halt && halt.until !== null && now >= halt.until) {
    ev('halt_end', {since: halt.since, until: halt.until}, {haltMs: limits.haltMs}, {reason: halt.reason})
    halt = null
  }

  // ---- the venue's pace (live): a change is reported; a stop (storm, ban) halts
  const venue = input.venue
  let pace = prev.pace
  if (venue?.pace) {
    const p = venue.pace
    if (p.mode !== prev.pace) ev('venue_pace', {mode: p.mode, factor: p.factor, until: p.until ?? null}, {}, {reason: p.reason})
    pace = p.mode
    if (p.mode === 'stopped' && (!halt || halt.reason === 'shock')) {
      halt = {reason: 'storm', since: now, until: p.until ?? null, flatten: false}
      ev('storm', {factor: p.factor, until: p.until ?? null}, {}, {reason: p.reason})
    }
  }

  // ---- 4.5 the book
  const bookMs = input.bookUpdatedMs ?? Math.floor(input.book.lastUpdateTs / 1000)
  const pause = bookProblem(input.book, now, bookMs, limits.naive ? null : limits.staleBookMs)
  if (pause !== prev.pause) {
    if (pause) {
      if (pause === 'stale_book') counters = {...counters, stale: counters.stale + 1}
      ev('pause', {lastUpdateMs: bookMs, ageMs: now - bookMs, bestBid: input.book.bestBid(), bestAsk: input.book.bestAsk(), ready: input.book.ready ? 1 : 0}, {staleBookMs: limits.staleBookMs}, {reason: pause})
    } else {
      ev('pause_end', {lastUpdateMs: bookMs}, {staleBookMs: limits.staleBookMs}, {reason: prev.pause ?? undefined})
    }
  }
  const mid2 = pause ? null : input.book.bestBid() + input.book.bestAsk()
  let shockRefs = pause ? [] : prev.shockRefs

  // ---- 4.3 shock
  if (mid2 !== null && !limits.naive) {
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
    if (worst > limits.shockPct && (!halt || halt.reason === 'shock')) {
      counters = {...counters, shock: counters.shock + 1}
      halt = {reason: 'shock', since: halt?.since ?? now, until: now + limits.haltMs, flatten: false}
      ev('shock', {mid: mid2 / 2, refMid: worstRef / 2, move: worst}, {shockPct: limits.shockPct, haltMs: limits.haltMs})
      // the move is now the reference: a halt ends on calm, not on the same jump again
      shockRefs = [[now, mid2]]
    }
    const n = shockRefs.length
    // the newest two samples, this one last (no copy and slice per call)
    if (n === 0 || now - shockRefs[n - 1][0] >= limits.shockWindowMs) shockRefs = n === 0 ? [[now, mid2]] : [shockRefs[n - 1], [now, mid2]]
  }

  // ---- 4.2 stop-loss
  const net = input.position.net
  if (mid2 !== null && !limits.naive && limits.stopLossUnits !== null && net !== 0 && halt?.reason !== 'stop_loss') {
    const u = unrealisedUnits(input.position, mid2)
    if (u < limits.stopLossUnits) {
      counters = {...counters, stopLoss: counters.stopLoss + 1}
      halt = {reason: 'stop_loss', since: now, until: null, flatten: true}
      ev('stop_loss', {unrealisedUnits: u.toString(), net, mid: mid2 / 2}, {stopLoss: limits.stopLoss, stopLossUnits: limits.stopLossUnits.toString()})
    }
  }
  // ---- 4.6 daily loss: realised + unrealised − fees since 00:00 UTC
  let day = prev.day
  if (mid2 !== null && !limits.naive && limits.maxDailyLossUnits !== null) {
    const pos = input.position
    const equity = pos.realised + unrealisedUnits(pos, mid2) - limits.feesToUnits(pos.fees)
    const startMs = now - (((now % DAY_MS) + DAY_MS) % DAY_MS)
    if (!day || day.startMs !== startMs || dayRestart) day = {startMs, base: equity.toString(), pnl: '0'}
    else if (day.base === null) day = {startMs, base: (equity - BigInt(day.pnl)).toString(), pnl: day.pnl}
    const pnl = equity - BigInt(day.base as string)
    day = {startMs, base: day.base, pnl: pnl.toString()}
    if (-pnl >= limits.maxDailyLossUnits && halt?.reason !== 'daily_loss' && halt?.reason !== 'stop_loss') {
      halt = {reason: 'daily_loss', since: now, until: null, flatten: true}
      ev('daily_loss', {dayPnlUnits: pnl.toString(), dayStartMs: startMs, net, mid: mid2 / 2}, {maxDailyLoss: limits.maxDailyLoss, maxDailyLossUnits: limits.maxDailyLossUnits.toString()})
    }
  }

  // ---- 4.6 liquidation distance (live): closer than the limit → reduce-only
  let liqNear = prev.liqNear
  if (venue && !limits.naive && limits.minLiquidationDistancePct > 0) {
    const liq = venue.liquidationTicks ?? 0
    const mark = venue.markTicks ?? 0
    const distance = net !== 0 && liq > 0 && mark > 0 ? Math.abs(mark - liq) / mark : null
    const near = distance !== null && distance < limits.minLiquidationDistancePct
    if (near !== liqNear) {
      ev(near ? 'liquidation_near' : 'liquidation_clear', {liquidationTicks: liq, markTicks: mark, distance, net}, {minLiquidationDistancePct: limits.minLiquidationDistancePct})
      liqNear = near
    }
  } else if (limits.naive || limits.minLiquidationDistancePct <= 0) {
    liqNear = false
  }

  if (halt?.flatten && !halt.flattened && net === 0) {
    halt = {...halt, flattened: true}
    ev('flatten_done', {net}, {}, {reason: halt.reason})
  }

  // ---- 4.1 reduce-only
  const reduceOnly = !limits.naive && isReduceOnly(net, limits.reduceOnlyThresholdSteps)
  if (reduceOnly !== prev.reduceOnly) {
    ev(reduceOnly ? 'reduce_only_enter' : 'reduce_only_exit', {net, absNet: Math.abs(net)}, {reduceOnlyThresholdSteps: limits.reduceOnlyThresholdSteps})
  }

  const state: RiskState = {
    mode: halt ? 'halted' : pause ? 'paused' : reduceOnly || liqNear ? 'reduce_only' : 'normal',
    halt,
    pause,
    reduceOnly,
    shockRefs,
    lastMid2: mid2 ?? prev.lastMid2,
    netMaxCapped: prev.netMaxCapped,
    counters,
    day,
    liqNear,
    pace,
    paceHoldUntil: prev.paceHoldUntil,
  }
  const events: RiskEvent[] = []
  for (let i = 0; i < pending.length; i++) events.push({type: 'risk_event', ts: now, ...pending[i], from, to: state.mode})

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
