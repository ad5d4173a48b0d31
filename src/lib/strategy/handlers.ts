/**
 * Event handlers of the strategy state: mid samples (volatility, adverse joins), order
 * accepted, post-only reject (back-off, join cooldown, degrade, instant retry), fills,
 * IOC outcomes. All pure: state in, state out; time is an argument.
 */
import type {CoreConfig} from '../config/resolve.js'
import type {Ticks} from '../domain/instrument.js'
import type {Fill, OrderIntent, OrderSide, TimeInForce, Layer} from '../domain/orders.js'
import type {AdverseWatch, HandlerResult, SideState, StrategyAdjustEvent, StrategyState} from './types.js'

/** How many recent join prices a side remembers to recognise a joined fill. */
export const JOIN_PRICE_MEMORY = 8

export function sideKey(side: OrderSide): 'buy' | 'sell' {
  return side === 'BUY' ? 'buy' : 'sell'
}

function withSide(state: StrategyState, side: OrderSide, patch: Partial<SideState>): StrategyState {
  const k = sideKey(side)
  return {...state, [k]: {...state[k], ...patch}}
}

export function backoffTicks(state: StrategyState, side: OrderSide, cfg: CoreConfig): number {
  return Math.min(cfg.postOnlyMaxBackoffTicks, state[sideKey(side)].rejects * cfg.postOnlyBackoffTicks)
}

// ---- 3.1 volatility -------------------------------------------------------------

/**
 * Record the mid. Samples sit on a 1-second grid: the first mid seen at or after each
 * whole second after the previous sample gives r = |mid − prev| / prev; seconds without
 * any update count as r = 0 (the mid did not move). Also checks joined fills for an
 * adverse move (3.3). Call it on every book update; `quote` calls it too.
 */
export function onMid(state: StrategyState, mid: number, nowMs: number, cfg: CoreConfig): {state: StrategyState; events: StrategyAdjustEvent[]} {
  let s: StrategyState = {...state, lastMid: mid}
  if (s.lastSampleMs === null || s.lastSampleMid === null || nowMs < s.lastSampleMs) {
    s = {...s, lastSampleMs: nowMs, lastSampleMid: mid, samples: nowMs < (state.lastSampleMs ?? nowMs) ? [] : s.samples}
  } else if (nowMs - s.lastSampleMs >= 1000) {
    const k = Math.floor((nowMs - s.lastSampleMs) / 1000)
    const windowMs = cfg.volWindowSec * 1000
    const sampleAt = s.lastSampleMs + k * 1000
    // the samples still in the window, then the seconds without an update (r = 0), then
    // this one: each kept only when inside the window (plain loops: no closures per call)
    const cut = sampleAt - windowMs
    const old = s.samples
    const samples: Array<[number, number]> = []
    for (let i = 0; i < old.length; i++) if (old[i][0] > cut) samples.push(old[i])
    const zeros = Math.min(k - 1, cfg.volWindowSec)
    for (let i = zeros; i >= 1; i--) if (sampleAt - i * 1000 > cut) samples.push([sampleAt - i * 1000, 0])
    if (sampleAt > cut) samples.push([sampleAt, Math.abs(mid - s.lastSampleMid) / s.lastSampleMid])
    s = {...s, lastSampleMs: sampleAt, lastSampleMid: mid, samples}
  }
  return checkAdverse(s, mid, nowMs, cfg)
}

/** min(volFactorMax, volK × mean(r over the last volWindowSec) / baseSpread); 0 without samples. */
export function volatilityFactor(state: StrategyState, nowMs: number, cfg: CoreConfig): number {
  const from = nowMs - cfg.volWindowSec * 1000
  let sum = 0
  let n = 0
  const samples = state.samples
  for (let i = 0; i < samples.length; i++) {
    const t = samples[i][0]
    if (t > from && t <= nowMs) {
      sum += samples[i][1]
      n++
    }
  }
  if (n === 0) return 0
  return Math.min(cfg.volFactorMax, (cfg.volK * (sum / n)) / cfg.baseSpread)
}

// ---- 3.3 join failure: adverse fill ------------------------------------------------

function checkAdverse(state: StrategyState, mid: number, nowMs: number, cfg: CoreConfig): {state: StrategyState; events: StrategyAdjustEvent[]} {
  if (state.adverse.length === 0) return {state, events: []}
  const events: StrategyAdjustEvent[] = []
  const keep: AdverseWatch[] = []
  let s = state
  for (const w of state.adverse) {
    const through = w.side === 'BUY' ? w.price - mid : mid - w.price
    if (nowMs <= w.untilMs && through > cfg.joinAdverseTicks) {
      s = withSide(s, w.side, {joinCooldownUntil: nowMs + cfg.joinCooldownMs})
      events.push({type: 'strategy_adjust', ts: nowMs, reason: 'join_adverse', side: w.side, detail: `mid ${mid} moved ${through} ticks through the joined fill at ${w.price}; no join until ${nowMs + cfg.joinCooldownMs}`})
    } else if (nowMs <= w.untilMs) {
      keep.push(w)
    }
  }
  return {state: {...s, adverse: keep}, events}
}

/** Remember that `side` quoted `price` in join mode (quote calls this). */
export function rememberJoin(state: StrategyState, side: OrderSide, price: Ticks): StrategyState {
  const prev = state[sideKey(side)].joinPrices
  if (prev[prev.length - 1] === price) return state
  const next = [...prev.filter((p) => p !== price), price].slice(-JOIN_PRICE_MEMORY)
  return withSide(state, side, {joinPrices: next})
}

// ---- fills -----------------------------------------------------------------------

/**
 * A fill of ours. No joining on the fill's side for joinFillCooldownMs (3.3: a joined
 * quote re-placed after each fill in a burst must not keep adding to the position). A maker fill at a price the side recently quoted in join mode is
 * watched for `joinAdverseMs`: the mid moving through it by more than joinAdverseTicks
 * starts the join cooldown. Any fill on a degraded side returns it to maker (3.5).
 */
export function onFill(state: StrategyState, fill: Fill, nowMs: number, cfg: CoreConfig): HandlerResult {
  const k = sideKey(fill.side)
  const events: StrategyAdjustEvent[] = []
  let s = state
  if (cfg.joinFillCooldownMs > 0) s = withSide(s, fill.side, {fillJoinUntil: nowMs + cfg.joinFillCooldownMs})
  if (s[k].degradeUntil > 0) {
    s = withSide(s, fill.side, {degradeUntil: 0})
    events.push({type: 'strategy_adjust', ts: nowMs, reason: 'degrade_off', side: fill.side, detail: 'filled: back to post-only'})
  }
  if (fill.maker && s[k].joinPrices.includes(fill.price) && cfg.joinAdverseMs > 0) {
    s = {...s, adverse: [...s.adverse, {side: fill.side, price: fill.price, untilMs: nowMs + cfg.joinAdverseMs}]}
  }
  if (s.lastMid !== null) {
    const r = checkAdverse(s, s.lastMid, nowMs, cfg)
    s = r.state
    events.push(...r.events)
  }
  return {state: s, events, intents: []}
}

// ---- post-only reject / acceptance (3.3, 3.5) -------------------------------------

export interface RejectedOrder {
  /** the order was being cancelled when the reject came: no longer wanted, never retried */
  cancelling?: boolean
  slot: string
  side: OrderSide
  price: Ticks
  qty: number
  tif: TimeInForce
  reduceOnly: boolean
  layer: Layer
}

/**
 * A post-only order came back -5022. The side's reject count grows (back-off widens by
 * postOnlyBackoffTicks per reject up to the max), a join on that side cools down, the
 * side is degraded to plain GTC for degradeMs, and a dynamic (or resting reduce) order is
 * retried once at the same price without post-only when instantRetry is on and the order
 * was not being cancelled. The retry is only asked for: `decideRequested` (core) decides
 * it like any other order. The naive baseline does none of this.
 */
export function onPostOnlyReject(state: StrategyState, order: RejectedOrder, nowMs: number, cfg: CoreConfig): HandlerResult {
  if (cfg.kind === 'naive') {
    // the baseline is plain: no back-off, no degrade, no retry; the next quote re-posts
    return {state, events: [{type: 'strategy_adjust', ts: nowMs, reason: 'post_only_reject', side: order.side, backoffTicks: {buy: 0, sell: 0}, detail: `${order.slot} at ${order.price} rejected as post-only (naive: no back-off, no retry)`}], intents: []}
  }
  const k = sideKey(order.side)
  const side = state[k]
  const joined = side.joinPrices.includes(order.price) && order.layer !== 'static'
  let s = withSide(state, order.side, {
    rejects: side.rejects + 1,
    joinCooldownUntil: joined ? nowMs + cfg.joinCooldownMs : side.joinCooldownUntil,
    degradeUntil: cfg.degradeMs > 0 ? nowMs + cfg.degradeMs : side.degradeUntil,
  })
  // the fingerprint must change so the next quote reports the new back-off
  s = {...s, lastKey: ''}
  const intents: OrderIntent[] = []
  const eligible = cfg.instantRetry && !order.cancelling && order.tif === 'GTX' && (order.layer === 'dynamic' || order.layer === 'reduce')
  // bounded per side and per window (issue 12: the retry crosses as a taker and costs money wherever it fires)
  const recent = (side.retryTimes ?? []).filter((t) => t > nowMs - cfg.instantRetryWindowMs && t <= nowMs)
  const retry = eligible && recent.length < cfg.instantRetryMax
  const capped = eligible && !retry
  s = withSide(s, order.side, {retryTimes: retry ? [...recent, nowMs] : recent})
  if (retry) intents.push({slot: order.slot, side: order.side, price: order.price, qty: order.qty, tif: 'GTC', reduceOnly: order.reduceOnly, layer: order.layer})
  const events: StrategyAdjustEvent[] = [
    {
      type: 'strategy_adjust',
      ts: nowMs,
      reason: 'post_only_reject',
      side: order.side,
      backoffTicks: {buy: backoffTicks(s, 'BUY', cfg), sell: backoffTicks(s, 'SELL', cfg)},
      detail: `${order.slot} at ${order.price} rejected as post-only (${s[k].rejects} counted)` +
        (joined ? `; join cooldown until ${nowMs + cfg.joinCooldownMs}` : '') +
        (cfg.degradeMs > 0 ? `; degraded to GTC until ${nowMs + cfg.degradeMs}` : '') +
        (retry ? '; instant retry as GTC at the same price' : '') +
        (capped ? `; no instant retry (${recent.length} on this side within ${cfg.instantRetryWindowMs} ms, cap ${cfg.instantRetryMax})` : ''),
    },
  ]
  return {state: s, events, intents}
}

/** A post-only order was accepted by the venue: the side's back-off decays by one step. */
export function onOrderAccepted(state: StrategyState, order: {side: OrderSide; tif: TimeInForce}, nowMs: number, cfg: CoreConfig): HandlerResult {
  const k = sideKey(order.side)
  if (order.tif !== 'GTX' || state[k].rejects === 0) return {state, events: [], intents: []}
  const s = {...withSide(state, order.side, {rejects: state[k].rejects - 1}), lastKey: ''}
  return {
    state: s,
    events: [{type: 'strategy_adjust', ts: nowMs, reason: 'backoff_decay', side: order.side, backoffTicks: {buy: backoffTicks(s, 'BUY', cfg), sell: backoffTicks(s, 'SELL', cfg)}}],
    intents: [],
  }
}

// ---- reduce-only IOC outcome (3.4) -----------------------------------------------

/**
 * A reduce-only IOC came back: 'expired' (nothing filled) extends the EXPIRED streak that
 * drives the fallback ladder; 'filled' or 'partial' (something filled) resets it.
 */
export function onIocResult(state: StrategyState, outcome: 'filled' | 'partial' | 'expired', nowMs: number, cfg: CoreConfig): HandlerResult {
  if (outcome !== 'expired') {
    if (state.iocExpiredStreak === 0) return {state, events: [], intents: []}
    return {state: {...state, iocExpiredStreak: 0}, events: [{type: 'strategy_adjust', ts: nowMs, reason: 'ioc_filled', detail: 'reduce-only IOC filled: fallback ladder reset'}], intents: []}
  }
  const streak = state.iocExpiredStreak + 1
  return {
    state: {...state, iocExpiredStreak: streak},
    events: [
      {
        type: 'strategy_adjust',
        ts: nowMs,
        reason: 'ioc_expired',
        detail: `reduce-only IOC expired (${streak} in a row${streak >= cfg.iocExpiredFallbackCount ? ', fallback pricing' : ''})`,
      },
    ],
    intents: [],
  }
}

/** Is the side degraded (plain GTC allowed) at `nowMs`? */
export function isDegraded(state: StrategyState, side: OrderSide, nowMs: number): boolean {
  return nowMs < state[sideKey(side)].degradeUntil
}
