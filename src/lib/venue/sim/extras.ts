/**
 * The routes third-party Binance clients call around trading (at start-up, or to read the
 * market), served by `mm sim` from its own state:
 *
 *  - account settings: `POST /fapi/v1/positionSide/dual` (one-way / hedge, only with no
 *    position and no open order), `POST /fapi/v1/marginType` (a per-symbol label: the sim
 *    has no margin model);
 *  - market data from the trades the sim has published (synthetic or replayed): ticker
 *    price (v1, v2), the 24 h ticker, klines, recent trades, aggregate trades;
 *  - funding: `GET /fapi/v1/fundingRate` (the bookings of `--funding-interval`);
 *  - `GET /fapi/v1/income`: the account ledger's REALIZED_PNL, COMMISSION and FUNDING_FEE;
 *  - `GET /fapi/v1/openInterest`: the account's own position (the only one the sim holds).
 *
 * Shapes, parameters and error codes follow Binance's USDⓈ-M documentation; weights are in
 * limits.ts (costOf). Prices and quantities are formatted from integer ticks and steps (or
 * exact decimals), never from floats.
 */
import type {Clock} from '../../clock/clock.js'
import {formatScaled, PlainDecimal as D} from '../../domain/decimal.js'
import type {Instrument} from '../../domain/instrument.js'
import type {MarketEvent} from '../../market/events.js'
import type {SimExchange} from './exchange.js'
import {ApiError, Err} from './signing.js'

/** trades kept per symbol for the market-data routes (the oldest are dropped beyond it) */
export const SIM_TAPE_MAX = 100_000

const HOUR = 3_600_000
const DAY = 24 * HOUR
const WEEK = 7 * DAY

interface TapeTrade {
  id: number | string
  time: number
  ticks: number
  steps: number
  buyerMaker: boolean
}

export const ExtraMessages = {
  [-4059]: 'No need to change position side.',
  [-4067]: 'Position side cannot be changed if there exists open orders.',
  [-4068]: 'Position side cannot be changed if there exists position.',
  [-4046]: 'No need to change margin type.',
  [-4047]: 'Margin type cannot be changed if there exists open orders.',
  [-4048]: 'Margin type cannot be changed if there exists position.',
  [-1120]: 'Invalid interval.',
  [-1127]: 'More than 1 hours between startTime and endTime.',
} as Record<number, string>

const err = (code: number) => new ApiError(code, ExtraMessages[code])

/** kline intervals with a fixed length (1w opens on Monday 00:00 UTC; 1M is calendar months) */
const INTERVAL_MS: Record<string, number> = {
  '1m': 60_000, '3m': 180_000, '5m': 300_000, '15m': 900_000, '30m': 1_800_000,
  '1h': HOUR, '2h': 2 * HOUR, '4h': 4 * HOUR, '6h': 6 * HOUR, '8h': 8 * HOUR, '12h': 12 * HOUR,
  '1d': DAY, '3d': 3 * DAY, '1w': WEEK,
}

/** the open time of the kline of `interval` that holds `t` */
export function klineOpen(t: number, interval: string): number {
  if (interval === '1M') {
    const d = new Date(t)
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
  }
  // 1970-01-01 was a Thursday: weeks open on the Mondays 4 days after multiples of 7 days
  if (interval === '1w') return Math.floor((t - 4 * DAY) / WEEK) * WEEK + 4 * DAY
  const ms = INTERVAL_MS[interval]
  return Math.floor(t / ms) * ms
}

function klineNext(open: number, interval: string): number {
  if (interval === '1M') {
    const d = new Date(open)
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
  }
  return open + INTERVAL_MS[interval]
}

function klinePrev(open: number, interval: string): number {
  if (interval === '1M') {
    const d = new Date(open)
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1)
  }
  return open - INTERVAL_MS[interval]
}

/** a decimal with exactly `dp` places (half-even), as Binance prints income and funding figures */
export function fixedDp(v: string | D, dp: number): string {
  const r = new D(v).toDecimalPlaces(dp, D.ROUND_HALF_EVEN)
  const s = r.abs().toString()
  const i = s.indexOf('.')
  const frac = i < 0 ? '' : s.slice(i + 1)
  const int = i < 0 ? s : s.slice(0, i)
  const body = dp === 0 ? int : `${int}.${frac.padEnd(dp, '0')}`
  return r.isNeg() && !r.isZero() ? `-${body}` : body
}

/** an integer scaled by 10^dp as a decimal string */
function fmtBig(v: bigint, dp: number): string {
  const neg = v < 0n
  let digits = (neg ? -v : v).toString()
  if (dp === 0) return (neg ? '-' : '') + digits
  if (digits.length <= dp) digits = '0'.repeat(dp - digits.length + 1) + digits
  return (neg ? '-' : '') + digits.slice(0, digits.length - dp) + '.' + digits.slice(digits.length - dp)
}

/** an optional non-negative integer parameter (-1130 when malformed) */
function intParam(p: Map<string, string>, name: string): number | undefined {
  const v = p.get(name)
  if (v === undefined) return undefined
  if (!/^\d{1,16}$/.test(v)) throw Err.invalidParam(name)
  return Number(v)
}

/** `limit`: default `def`, at most `max` (larger values are cut to it), 0 or malformed is -1130 */
function limitParam(p: Map<string, string>, def: number, max: number): number {
  const n = intParam(p, 'limit')
  if (n === undefined) return def
  if (n < 1) throw Err.invalidParam('limit')
  return Math.min(n, max)
}

const INCOME_TYPES = new Set(['TRANSFER', 'WELCOME_BONUS', 'REALIZED_PNL', 'FUNDING_FEE', 'COMMISSION', 'INSURANCE_CLEAR', 'REFERRAL_KICKBACK', 'COMMISSION_REBATE', 'API_REBATE', 'CONTEST_REWARD', 'CROSS_COLLATERAL_TRANSFER', 'OPTIONS_PREMIUM_FEE', 'OPTIONS_SETTLE_PROFIT', 'INTERNAL_TRANSFER', 'AUTO_EXCHANGE', 'DELIVERED_SETTELMENT', 'COIN_SWAP_DEPOSIT', 'COIN_SWAP_WITHDRAW', 'POSITION_LIMIT_INCREASE_FEE', 'STRATEGY_UMFUTURES_TRANSFER', 'FEE_RETURN', 'BFUSD_REWARD'])

/** tranId bases: a fill's REALIZED_PNL and COMMISSION rows share the fill's (unique within a type, as Binance says) */
const TRAN_TRADE = 9_000_000_000
const TRAN_FUNDING = 8_000_000_000

type Handler = (p: Map<string, string>) => unknown

export interface SimExtrasHost {
  exchange: SimExchange
  /** the server clock (times in answers) */
  clock: Clock
  symbols(): string[]
  /** `symbol` of a request, upper-cased: -1102 when missing, -1121 when unknown */
  sym(p: Map<string, string>): string
}

export class SimExtras {
  private readonly tapes = new Map<string, TapeTrade[]>()

  constructor(private readonly h: SimExtrasHost) {}

  /** Keep a published trade (`sentMs`: the T its stream messages carried). */
  onPublished(ev: MarketEvent, sentMs: number): void {
    if (ev.kind !== 'trade') return
    const sym = ev.symbol.toUpperCase()
    const inst = this.h.exchange.instrument(sym)
    if (!inst) return
    let ticks: number
    let steps: number
    try {
      ticks = inst.priceToTicks(ev.price)
      steps = inst.qtyToSteps(ev.qty)
    } catch {
      return // off the instrument's grid: not a trade the sim can report in its units
    }
    let tape = this.tapes.get(sym)
    if (!tape) {
      tape = []
      this.tapes.set(sym, tape)
    }
    tape.push({id: /^\d+$/.test(ev.id) ? Number(ev.id) : ev.id, time: sentMs, ticks, steps, buyerMaker: ev.side === 'sell'})
    if (tape.length > SIM_TAPE_MAX + SIM_TAPE_MAX / 10) tape.splice(0, tape.length - SIM_TAPE_MAX)
  }

  private tape(sym: string): TapeTrade[] {
    return this.tapes.get(sym) ?? []
  }

  private inst(sym: string): Instrument {
    return this.h.exchange.instrument(sym) as Instrument
  }

  private now(): number {
    return this.h.clock.now()
  }

  /** the symbols of a request whose `symbol` is optional (all of them without it) */
  private symsOf(p: Map<string, string>): string[] {
    return p.get('symbol') === undefined ? this.h.symbols() : [this.h.sym(p)]
  }

  register(route: (key: string, auth: 'none' | 'key' | 'signed', fn: Handler) => void): void {
    const ex = this.h.exchange
    route('POST /fapi/v1/positionSide/dual', 'signed', (p) => {
      const v = p.get('dualSidePosition')
      if (v === undefined || v === '') throw Err.mandatory('dualSidePosition')
      const want = v.toLowerCase()
      if (want !== 'true' && want !== 'false') throw Err.invalidParam('dualSidePosition')
      const hedge = want === 'true'
      if (hedge === ex.hedgeMode) throw err(-4059)
      if (ex.openOrders().length > 0) throw err(-4067)
      if (this.h.symbols().some((s) => !ex.ledger.position(s).amt.isZero())) throw err(-4068)
      ex.hedgeMode = hedge
      return {code: 200, msg: 'success'}
    })
    // the BNB fee discount, on every symbol: a setting the sim stores and reports (its fees stay in the margin asset)
    route('POST /fapi/v1/feeBurn', 'signed', (p) => {
      const v = p.get('feeBurn')
      if (v === undefined || v === '') throw Err.mandatory('feeBurn')
      const want = v.toLowerCase()
      if (want !== 'true' && want !== 'false') throw Err.invalidParam('feeBurn')
      ex.feeBurn = want === 'true'
      return {code: 200, msg: 'success'}
    })
    route('POST /fapi/v1/marginType', 'signed', (p) => {
      const sym = this.h.sym(p)
      const v = p.get('marginType')
      if (v === undefined || v === '') throw Err.mandatory('marginType')
      const up = v.toUpperCase()
      if (up !== 'ISOLATED' && up !== 'CROSSED') throw Err.invalidParam('marginType')
      const want = up === 'ISOLATED' ? 'isolated' : 'cross'
      if (want === ex.marginTypeOf(sym)) throw err(-4046)
      if (ex.openOrders(sym).length > 0) throw err(-4047)
      if (!ex.ledger.position(sym).amt.isZero()) throw err(-4048)
      ex.marginTypes.set(sym, want)
      return {code: 200, msg: 'success'}
    })
    for (const v of [1, 2]) route(`GET /fapi/v${v}/ticker/price`, 'none', (p) => this.one(p, (s) => this.tickerPrice(s)))
    route('GET /fapi/v1/ticker/24hr', 'none', (p) => this.one(p, (s) => this.ticker24h(s)))
    route('GET /fapi/v1/klines', 'none', (p) => this.klines(p))
    route('GET /fapi/v1/trades', 'none', (p) => {
      const sym = this.h.sym(p)
      const limit = limitParam(p, 500, 1000)
      const inst = this.inst(sym)
      return this.tape(sym).slice(-limit).map((t) => ({id: t.id, price: inst.ticksToPrice(t.ticks), qty: inst.stepsToQty(t.steps), quoteQty: this.quote(inst, BigInt(t.ticks) * BigInt(t.steps)), time: t.time, isBuyerMaker: t.buyerMaker}))
    })
    route('GET /fapi/v1/aggTrades', 'none', (p) => this.aggTrades(p))
    route('GET /fapi/v1/fundingRate', 'none', (p) => {
      const syms = new Set(this.symsOf(p))
      const start = intParam(p, 'startTime')
      const end = intParam(p, 'endTime')
      const limit = limitParam(p, 100, 1000)
      const rows = ex.fundingLog.filter((f) => syms.has(f.symbol) && (start === undefined || f.time >= start) && (end === undefined || f.time <= end))
      const pick = start === undefined ? rows.slice(-limit) : rows.slice(0, limit)
      return pick.map((f) => ({symbol: f.symbol, fundingRate: fixedDp(f.rate, 8), fundingTime: f.time, markPrice: fixedDp(f.mark, 8)}))
    })
    route('GET /fapi/v1/openInterest', 'none', (p) => {
      const sym = this.h.sym(p)
      const inst = this.inst(sym)
      const amt = ex.ledger.position(sym).amt.abs()
      return {openInterest: inst.stepsToQty(inst.qtyToSteps(amt.toString(), 'down')), symbol: sym, time: this.now()}
    })
    route('GET /fapi/v1/income', 'signed', (p) => this.income(p))
  }

  /** one object with `symbol`, a list of all symbols without it */
  private one(p: Map<string, string>, f: (sym: string) => unknown): unknown {
    if (p.get('symbol') !== undefined) return f(this.h.sym(p))
    return this.h.symbols().map(f)
  }

  /** quote volume: Σ ticks × steps, scaled to the price decimals + the quantity decimals (exact) */
  private quote(inst: Instrument, tickSteps: bigint): string {
    return fmtBig(tickSteps * BigInt(inst.tickUnits) * BigInt(inst.stepUnits), inst.priceDecimals + inst.qtyDecimals)
  }

  /** the last trade's price (the mark price before the first trade) */
  private tickerPrice(sym: string): Record<string, unknown> {
    const last = this.tape(sym).at(-1)
    if (!last) return {symbol: sym, price: this.h.exchange.markString(sym), time: this.now()}
    return {symbol: sym, price: this.inst(sym).ticksToPrice(last.ticks), time: last.time}
  }

  /**
   * The `<symbol>@ticker` (24hrTicker) and `<symbol>@miniTicker` (24hrMiniTicker) stream
   * payloads: the 24 h ticker's figures under the stream's field letters.
   */
  tickerStreams(sym: string): {ticker: Record<string, unknown>; mini: Record<string, unknown>} {
    const t = this.ticker24h(sym)
    const E = t.closeTime
    return {
      ticker: {e: '24hrTicker', E, s: sym, p: t.priceChange, P: t.priceChangePercent, w: t.weightedAvgPrice, c: t.lastPrice, Q: t.lastQty, o: t.openPrice, h: t.highPrice, l: t.lowPrice, v: t.volume, q: t.quoteVolume, O: t.openTime, C: t.closeTime, F: t.firstId, L: t.lastId, n: t.count},
      mini: {e: '24hrMiniTicker', E, s: sym, c: t.lastPrice, o: t.openPrice, h: t.highPrice, l: t.lowPrice, v: t.volume, q: t.quoteVolume},
    }
  }

  private ticker24h(sym: string): Record<string, unknown> {
    const inst = this.inst(sym)
    const now = this.now()
    const tape = this.tape(sym)
    const from = lowerBound(tape, now - DAY)
    const w = tape.slice(from)
    const last = tape.at(-1)
    if (w.length === 0 || !last) {
      const price = last ? inst.ticksToPrice(last.ticks) : this.h.exchange.markString(sym)
      return {symbol: sym, priceChange: formatScaled(0, inst.priceDecimals), priceChangePercent: '0.000', weightedAvgPrice: price, lastPrice: price, lastQty: inst.stepsToQty(last ? last.steps : 0), openPrice: price, highPrice: price, lowPrice: price, volume: inst.stepsToQty(0), quoteVolume: this.quote(inst, 0n), openTime: now - DAY, closeTime: now, firstId: -1, lastId: -1, count: 0}
    }
    let hi = w[0].ticks
    let lo = w[0].ticks
    let vol = 0
    let q = 0n
    for (const t of w) {
      if (t.ticks > hi) hi = t.ticks
      if (t.ticks < lo) lo = t.ticks
      vol += t.steps
      q += BigInt(t.ticks) * BigInt(t.steps)
    }
    const open = w[0].ticks
    const change = last.ticks - open
    const quote = this.quote(inst, q)
    return {
      symbol: sym,
      priceChange: formatScaled(change * inst.tickUnits, inst.priceDecimals),
      priceChangePercent: fixedDp(new D(change).mul(100).div(open), 3),
      weightedAvgPrice: fixedDp(new D(quote).div(inst.stepsToQty(vol)), inst.priceDecimals),
      lastPrice: inst.ticksToPrice(last.ticks),
      lastQty: inst.stepsToQty(last.steps),
      openPrice: inst.ticksToPrice(open),
      highPrice: inst.ticksToPrice(hi),
      lowPrice: inst.ticksToPrice(lo),
      volume: inst.stepsToQty(vol),
      quoteVolume: quote,
      openTime: now - DAY,
      closeTime: now,
      firstId: w[0].id,
      lastId: last.id,
      count: w.length,
    }
  }

  private klines(p: Map<string, string>): unknown[] {
    const sym = this.h.sym(p)
    const interval = p.get('interval')
    if (interval === undefined || interval === '') throw Err.mandatory('interval')
    if (!(interval in INTERVAL_MS) && interval !== '1M') throw err(-1120)
    const start = intParam(p, 'startTime')
    const end = intParam(p, 'endTime')
    const limit = limitParam(p, 500, 1500)
    const inst = this.inst(sym)
    const tape = this.tape(sym)
    if (tape.length === 0) return []
    const first = klineOpen(tape[0].time, interval)
    const current = klineOpen(Math.max(this.now(), tape[tape.length - 1].time), interval)
    const hi = end === undefined ? current : Math.min(klineOpen(end, interval), current)
    let lo = first
    if (start !== undefined) {
      const s = klineOpen(start, interval)
      lo = Math.max(first, s === start ? s : klineNext(s, interval))
    }
    const opens: number[] = []
    if (start !== undefined) {
      for (let o = lo; o <= hi && opens.length < limit; o = klineNext(o, interval)) opens.push(o)
    } else {
      for (let o = hi; o >= lo && opens.length < limit; o = klinePrev(o, interval)) opens.push(o)
      opens.reverse()
    }
    return opens.map((o) => {
      const next = klineNext(o, interval)
      const a = lowerBound(tape, o)
      const b = lowerBound(tape, next)
      if (a === b) {
        // no trade: the previous close, nothing traded (as Binance fills a quiet interval)
        const c = inst.ticksToPrice(tape[a - 1].ticks)
        return [o, c, c, c, c, inst.stepsToQty(0), next - 1, this.quote(inst, 0n), 0, inst.stepsToQty(0), this.quote(inst, 0n), '0']
      }
      let h = tape[a].ticks
      let l = tape[a].ticks
      let vol = 0
      let q = 0n
      let buyVol = 0
      let buyQ = 0n
      for (let i = a; i < b; i++) {
        const t = tape[i]
        if (t.ticks > h) h = t.ticks
        if (t.ticks < l) l = t.ticks
        const tq = BigInt(t.ticks) * BigInt(t.steps)
        vol += t.steps
        q += tq
        if (!t.buyerMaker) {
          buyVol += t.steps
          buyQ += tq
        }
      }
      return [o, inst.ticksToPrice(tape[a].ticks), inst.ticksToPrice(h), inst.ticksToPrice(l), inst.ticksToPrice(tape[b - 1].ticks), inst.stepsToQty(vol), next - 1, this.quote(inst, q), b - a, inst.stepsToQty(buyVol), this.quote(inst, buyQ), '0']
    })
  }

  private aggTrades(p: Map<string, string>): unknown[] {
    const sym = this.h.sym(p)
    const fromId = intParam(p, 'fromId')
    const start = intParam(p, 'startTime')
    const end = intParam(p, 'endTime')
    const limit = limitParam(p, 500, 1000)
    if (start !== undefined && end !== undefined && end - start > HOUR) throw err(-1127)
    const inst = this.inst(sym)
    const rows = this.tape(sym).filter((t) => (fromId === undefined || (typeof t.id === 'number' && t.id >= fromId)) && (start === undefined || t.time >= start) && (end === undefined || t.time <= end))
    const pick = fromId === undefined && start === undefined ? rows.slice(-limit) : rows.slice(0, limit)
    // one trade per aggregate, as on the sim's aggTrade stream: a = f = l = the trade id
    return pick.map((t) => ({a: t.id, p: inst.ticksToPrice(t.ticks), q: inst.stepsToQty(t.steps), f: t.id, l: t.id, T: t.time, m: t.buyerMaker}))
  }

  private income(p: Map<string, string>): unknown[] {
    const ex = this.h.exchange
    const syms = p.get('symbol') === undefined ? undefined : this.h.sym(p)
    const type = p.get('incomeType')
    if (type !== undefined && !INCOME_TYPES.has(type)) throw Err.invalidParam('incomeType')
    const start = intParam(p, 'startTime')
    const end = intParam(p, 'endTime')
    const limit = limitParam(p, 100, 1000)
    const page = intParam(p, 'page') ?? 1
    if (page < 1) throw Err.invalidParam('page')
    const rows: Array<{symbol: string; incomeType: string; income: string; asset: string; info: string; time: number; tranId: number; tradeId: string}> = []
    for (const t of ex.tradeLog) {
      if (!new D(t.realizedPnl).isZero()) rows.push({symbol: t.symbol, incomeType: 'REALIZED_PNL', income: fixedDp(t.realizedPnl, 8), asset: t.marginAsset, info: 'REALIZED_PNL', time: t.time, tranId: TRAN_TRADE + t.id, tradeId: String(t.id)})
      if (!new D(t.commission).isZero()) rows.push({symbol: t.symbol, incomeType: 'COMMISSION', income: fixedDp(new D(t.commission).neg(), 8), asset: t.commissionAsset, info: 'COMMISSION', time: t.time, tranId: TRAN_TRADE + t.id, tradeId: String(t.id)})
    }
    ex.fundingLog.forEach((f, i) => {
      if (f.income !== undefined) rows.push({symbol: f.symbol, incomeType: 'FUNDING_FEE', income: fixedDp(f.income, 8), asset: f.asset, info: 'FUNDING_FEE', time: f.time, tranId: TRAN_FUNDING + i + 1, tradeId: ''})
    })
    rows.sort((x, y) => x.time - y.time)
    // neither startTime nor endTime: the last 7 days; rows oldest first, pages of `limit` from the start
    const from = start ?? (end === undefined ? this.now() - WEEK : end - WEEK)
    const sel = rows.filter((r) => (syms === undefined || r.symbol === syms) && (type === undefined || r.incomeType === type) && r.time >= from && (end === undefined || r.time <= end))
    return sel.slice((page - 1) * limit, page * limit)
  }
}

/** the first index whose trade time is ≥ t (trades are in publication order) */
function lowerBound(tape: TapeTrade[], t: number): number {
  let lo = 0
  let hi = tape.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (tape[mid].time < t) lo = mid + 1
    else hi = mid
  }
  return lo
}
