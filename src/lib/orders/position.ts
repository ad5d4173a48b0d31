/**
 * Position and PnL ledger (SPEC §8): a pure reducer over fills and funding payments.
 *
 * Units. Quantities are signed integer steps. Money from trading is kept in *cost units*:
 * tick × step × 10^-12 (`COST_SCALE`), as BigInt — one tick·step is the value of one
 * step moving one tick; the extra 10^12 only absorbs the rounding of a partial reduction
 * (see below). Fees and funding arrive as venue decimal strings and stay exact decimals
 * (decimal.js, 60 significant digits). No floats anywhere.
 *
 * Average cost. `cost` is the signed cost basis of the open position (avg entry × net):
 * an increase adds price × qty exactly; a reduction by q of |net| removes
 * cost × q / |net|, rounded half-up on the magnitude to the cost unit, and books
 * `exit value − removed cost` as realised. Closing to zero removes the whole basis, so a
 * round trip is exact to the tick·step. The rounding only moves at most 10^-12 tick·step
 * between realised and unrealised; their sum is always exactly the cash-flow
 * mark-to-market: realised + unrealised = −Σ signed(qty) × price + net × mark.
 * A fill that crosses zero closes the old position at the fill price and opens the rest
 * at the fill price.
 *
 * Unrealised PnL is marked against the *mid* of the local book ((bestBid + bestAsk)/2),
 * the price the core sees in live, dry-run and replay alike (the mark-price stream is not
 * in recordings). Inputs take `mid2` = bestBid + bestAsk in ticks (twice the mid) so a
 * half-tick mid stays exact.
 *
 * Live, the venue is the truth for realised PnL: each fill carries the venue's own figure
 * for the trade (`Fill.realised`, Binance `rp` / `realizedPnl`) and `venueRealised` is
 * their exact sum; `pnlSummary` reports it as the realised PnL. The cost-unit `realised`
 * above is still kept (it is what dry-run, paper and replay report, and what the risk rules
 * count in integer units) and serves live as the cross-check (`realisedCheck`). A ledger
 * that already had fills without the venue's figure keeps the client's own one.
 *
 * Fees: positive = paid, negative = rebate (Binance `n` commission is reported positive
 * for a charge). Funding: the signed balance change of an ACCOUNT_UPDATE with reason
 * FUNDING_FEE (positive = received). total = realised + unrealised − fees + funding.
 */
import {Decimal as BaseDecimal} from 'decimal.js'
import type {Instrument, Steps, Ticks} from '../domain/instrument.js'
import type {Fill} from '../domain/orders.js'
import {ledgerProblem, TRADE_ID} from './ledger-check.js'

// never exponent notation: toString() is the plain exact decimal
export const Dec = BaseDecimal.clone({precision: 60, rounding: BaseDecimal.ROUND_HALF_EVEN, toExpNeg: -9e15, toExpPos: 9e15})
export type Dec = InstanceType<typeof Dec>

export const COST_SCALE = 10n ** 12n

export interface Position {
  /** signed net position, steps (> 0 long) */
  net: Steps
  /** signed cost basis of the open position, cost units (avg entry × net) */
  cost: bigint
  /** realised trading PnL, cost units */
  realised: bigint
  /** Σ fees, quote currency decimal string (negative = net rebate) */
  fees: string
  makerFees: string
  takerFees: string
  /** Σ funding, quote currency decimal string (positive = received) */
  funding: string
  fills: number
  makerFills: number
  /** Σ |qty| filled, steps */
  volume: Steps
  /** Σ price × |qty|, tick·step (integer) */
  notional: bigint
  lastFillTs: number
  /**
   * The highest venue trade id counted (decimal string), live only: set by fills whose
   * trade id is a venue one (digits; paper ids are not). A restart reads the venue's trades
   * after it (`GET /fapi/v1/userTrades?fromId=`) so that a fill the last state write missed
   * is counted once and one counted is never counted again (docs/live.md).
   */
  lastTradeId?: string
  /**
   * The venue trade ids this run counted (live only), ascending, the highest TRADE_IDS_MAX;
   * `tradeIdsFloor`: the highest id dropped from the list (every id at or below it is taken
   * as counted). A restart reads back the earlier run's trades it never counted after
   * `lastTradeId`, and below it those not in this list: a fill counted out of id order (the
   * stream told a later trade before an earlier one was read back) left a lower trade
   * behind that `lastTradeId` alone hides (kill-fills.ts). Not carried to the next run.
   */
  tradeIds?: string[]
  tradeIdsFloor?: string
  /**
   * Σ of the venue's realised profit of every fill (quote decimal), live only; absent when
   * some fill did not carry it (then the client's own `realised` is the figure).
   */
  venueRealised?: string
}

export function emptyPosition(): Position {
  return {net: 0, cost: 0n, realised: 0n, fees: '0', makerFees: '0', takerFees: '0', funding: '0', fills: 0, makerFills: 0, volume: 0, notional: 0n, lastFillTs: 0}
}

/** Round a / b (b > 0) half-up on the magnitude. */
function divHalfUp(a: bigint, b: bigint): bigint {
  const neg = a < 0n
  const m = neg ? -a : a
  const q = (2n * m + b) / (2n * b)
  return neg ? -q : q
}

const addDec = (a: string, b: string): string => new Dec(a).add(b).toString()

export function applyFill(pos: Position, fill: Fill): Position {
  if (!Number.isSafeInteger(fill.qty) || fill.qty <= 0) throw new Error(`fill qty must be a positive integer of steps, got ${fill.qty}`)
  const signed = fill.side === 'BUY' ? fill.qty : -fill.qty
  const p = BigInt(fill.price)
  let net = pos.net
  let cost = pos.cost
  let realised = pos.realised
  if (net === 0 || Math.sign(net) === Math.sign(signed)) {
    cost += BigInt(signed) * p * COST_SCALE
    net += signed
  } else {
    const abs = Math.abs(net)
    const closing = Math.min(fill.qty, abs)
    const removed = closing === abs ? cost : divHalfUp(cost * BigInt(closing), BigInt(abs))
    const closedSigned = BigInt(net > 0 ? closing : -closing)
    realised += closedSigned * p * COST_SCALE - removed
    cost -= removed
    net += net > 0 ? -closing : closing
    const opening = fill.qty - closing
    if (opening > 0) {
      const o = signed > 0 ? opening : -opening
      cost = BigInt(o) * p * COST_SCALE
      net = o
    }
  }
  const fee = new Dec(fill.fee)
  return {
    net,
    cost,
    realised,
    fees: fee.add(pos.fees).toString(),
    makerFees: fill.maker ? fee.add(pos.makerFees).toString() : pos.makerFees,
    takerFees: fill.maker ? pos.takerFees : fee.add(pos.takerFees).toString(),
    funding: pos.funding,
    fills: pos.fills + 1,
    makerFills: pos.makerFills + (fill.maker ? 1 : 0),
    volume: pos.volume + fill.qty,
    notional: pos.notional + p * BigInt(fill.qty),
    lastFillTs: Math.max(pos.lastFillTs, fill.ts),
    ...venueRealisedAfter(pos, fill),
    ...lastTradeIdAfter(pos, fill.tradeId),
    ...tradeIdsAfter(pos, fill.tradeId),
  }
}


/** venue trade ids a ledger lists (`tradeIds`), the highest this many */
export const TRADE_IDS_MAX = 500

/** The run's counted venue trade ids after one more (ascending, the highest TRADE_IDS_MAX; the highest dropped is the floor). */
function tradeIdsAfter(pos: Position, tradeId: string): {tradeIds?: string[]; tradeIdsFloor?: string} {
  const keep = {...(pos.tradeIds === undefined ? {} : {tradeIds: pos.tradeIds}), ...(pos.tradeIdsFloor === undefined ? {} : {tradeIdsFloor: pos.tradeIdsFloor})}
  if (!TRADE_ID.test(tradeId)) return keep
  const id = BigInt(tradeId)
  if (pos.tradeIdsFloor !== undefined && id <= BigInt(pos.tradeIdsFloor)) return keep
  const list = pos.tradeIds ?? []
  // fills mostly come in id order: the place is found from the end
  let i = list.length
  while (i > 0 && BigInt(list[i - 1]) > id) i--
  if (i > 0 && BigInt(list[i - 1]) === id) return keep
  const next = [...list.slice(0, i), id.toString(), ...list.slice(i)]
  if (next.length <= TRADE_IDS_MAX) return {...keep, tradeIds: next}
  return {tradeIds: next.slice(1), tradeIdsFloor: next[0]}
}

/** The highest venue (all-digit) trade id counted, after one more. */
function lastTradeIdAfter(pos: Position, tradeId: string): {lastTradeId?: string} {
  if (!TRADE_ID.test(tradeId)) return pos.lastTradeId === undefined ? {} : {lastTradeId: pos.lastTradeId}
  if (pos.lastTradeId !== undefined && BigInt(pos.lastTradeId) >= BigInt(tradeId)) return {lastTradeId: pos.lastTradeId}
  return {lastTradeId: BigInt(tradeId).toString()}
}

/** The venue's running realised PnL after `fill`: only while every fill of the ledger carried it. */
function venueRealisedAfter(pos: Position, fill: Fill): {venueRealised?: string} {
  if (fill.realised === undefined) return {}
  if (pos.venueRealised !== undefined) return {venueRealised: addDec(pos.venueRealised, fill.realised)}
  return pos.fills === 0 && pos.realised === 0n ? {venueRealised: new Dec(fill.realised).toString()} : {}
}

/**
 * A live restart: the position the venue holds (`start`: net and cost at the venue's entry
 * price) with the running totals of the previous run's ledger (state.json) carried on —
 * realised PnL (the client's and the venue's), fees, funding, fill counts, volume.
 */
export function carryTotals(start: Position, prev: Position): Position {
  return {
    ...start,
    realised: prev.realised,
    fees: prev.fees,
    makerFees: prev.makerFees,
    takerFees: prev.takerFees,
    funding: prev.funding,
    fills: prev.fills,
    makerFills: prev.makerFills,
    volume: prev.volume,
    notional: prev.notional,
    lastFillTs: prev.lastFillTs,
    ...(prev.venueRealised === undefined ? {} : {venueRealised: prev.venueRealised}),
    ...(prev.lastTradeId === undefined ? {} : {lastTradeId: prev.lastTradeId}),
  }
}

/** A funding payment (ACCOUNT_UPDATE reason FUNDING_FEE): signed balance change, positive = received. */
export function applyFunding(pos: Position, amount: string): Position {
  return {...pos, funding: addDec(pos.funding, amount)}
}

/** Unrealised PnL in cost units against mid2 = bestBid + bestAsk (ticks). */
export function unrealisedUnits(pos: Position, mid2: number): bigint {
  if (pos.net === 0) return 0n
  return (BigInt(pos.net) * BigInt(mid2) * COST_SCALE) / 2n - pos.cost
}

/** Cost units → quote currency (exact). */
export function unitsToQuote(units: bigint, inst: Instrument): Dec {
  return new Dec(units.toString()).mul(quotePerUnit(inst))
}

/** tick × step ÷ COST_SCALE, the quote value of one cost unit: exact (finite decimals, far under Dec's 60 digits), kept for the last instrument asked */
function quotePerUnit(inst: Instrument): Dec {
  if (unitMemo.inst !== inst || unitMemo.tick !== inst.spec.tickSize || unitMemo.step !== inst.spec.stepSize) {
    unitMemo.value = new Dec(inst.spec.tickSize).mul(inst.spec.stepSize).div(COST_SCALE.toString())
    unitMemo.inst = inst
    unitMemo.tick = inst.spec.tickSize
    unitMemo.step = inst.spec.stepSize
  }
  return unitMemo.value
}

const unitMemo: {inst: Instrument | null; tick: string; step: string; value: Dec} = {inst: null, tick: '', step: '', value: new Dec(0)}

/**
 * A quote-currency amount → cost units, rounded up (toward +∞): for a threshold t,
 * u < t ⇔ u < quoteToUnitsCeil(t) for integer u.
 */
export function quoteToUnitsCeil(amount: string | number, inst: Instrument): bigint {
  const u = new Dec(amount).div(inst.spec.tickSize).div(inst.spec.stepSize).mul(COST_SCALE.toString()).ceil()
  return BigInt(u.toString())
}

/** Average entry price in ticks as a float (for comparisons in the strategy, never for money); NaN when flat. */
export function avgEntryTicks(pos: Position): number {
  if (pos.net === 0) return Number.NaN
  // micro-ticks by exact integer division, then one float division
  return Number((pos.cost * 1_000_000n) / (BigInt(pos.net) * COST_SCALE)) / 1e6
}

/** Exact average entry price as a venue decimal string ('' when flat). */
export function avgEntryPrice(pos: Position, inst: Instrument, decimals = inst.priceDecimals + 6): string {
  if (pos.net === 0) return ''
  const ticks = new Dec(pos.cost.toString()).div(COST_SCALE.toString()).div(pos.net)
  return ticks.mul(inst.spec.tickSize).toDecimalPlaces(decimals).toString()
}

export interface PnlSummary {
  /** signed position in base units */
  net: string
  avgEntry: string
  /** the mark used: the book mid */
  mark: string
  realised: string
  unrealised: string
  fees: string
  funding: string
  /** realised + unrealised − fees + funding */
  total: string
  /**
   * Live, when `realised` is the venue's figure: the client's own computation of it and the
   * difference (own − venue), the cross-check. Absent otherwise.
   */
  realisedCheck?: {own: string; diff: string}
}

/** PnL in quote currency, exact decimal strings; `mid2` = bestBid + bestAsk in ticks. */
/** The ledger's realised PnL in quote currency: the venue's figure live, else the client's own. */
export function realisedQuote(pos: Position, inst: Instrument): Dec {
  return pos.venueRealised === undefined ? unitsToQuote(pos.realised, inst) : new Dec(pos.venueRealised)
}

export function pnlSummary(pos: Position, inst: Instrument, mid2: number): PnlSummary {
  const own = unitsToQuote(pos.realised, inst)
  const realised = pos.venueRealised === undefined ? own : new Dec(pos.venueRealised)
  const unrealised = unitsToQuote(unrealisedUnits(pos, mid2), inst)
  const total = realised.add(unrealised).sub(pos.fees).add(pos.funding)
  return {
    net: inst.signedStepsToQty(pos.net),
    avgEntry: avgEntryPrice(pos, inst),
    mark: new Dec(mid2).div(2).mul(inst.spec.tickSize).toString(),
    realised: realised.toString(),
    unrealised: unrealised.toString(),
    fees: new Dec(pos.fees).toString(),
    funding: new Dec(pos.funding).toString(),
    total: total.toString(),
    ...(pos.venueRealised === undefined ? {} : {realisedCheck: {own: own.toString(), diff: own.sub(realised).toString()}}),
  }
}

/** JSON form (checkpoints): BigInts as decimal strings. */
export interface PositionJSON extends Omit<Position, 'cost' | 'realised' | 'notional'> {
  cost: string
  realised: string
  notional: string
}

export function positionToJSON(pos: Position): PositionJSON {
  return {...pos, cost: pos.cost.toString(), realised: pos.realised.toString(), notional: pos.notional.toString()}
}

export function positionFromJSON(j: PositionJSON): Position {
  return {...j, cost: BigInt(j.cost), realised: BigInt(j.realised), notional: BigInt(j.notional)}
}


/** A ledger read back from a file (state.json), checked field by field; null when it is not one. */
export function parsePositionJSON(x: unknown): Position | null {
  if (ledgerProblem(x) !== null) return null
  const j = x as Record<string, unknown>
  const pos = positionFromJSON(j as unknown as PositionJSON)
  // a list that is not one (or a floor without a list) is dropped, not the ledger: a restart then reads after `lastTradeId` only
  const ids = j.tradeIds
  const listOk = Array.isArray(ids) && ids.length <= TRADE_IDS_MAX && ids.every((t, i) => typeof t === 'string' && TRADE_ID.test(t) && (i === 0 || BigInt(ids[i - 1] as string) < BigInt(t)))
  const floorOk = j.tradeIdsFloor === undefined || (typeof j.tradeIdsFloor === 'string' && TRADE_ID.test(j.tradeIdsFloor))
  if (!listOk || !floorOk) {
    delete pos.tradeIds
    delete pos.tradeIdsFloor
  }
  return pos
}

/** Price × qty helper for tests and reports: tick·step units of a fill. */
export function fillValue(price: Ticks, qty: Steps): bigint {
  return BigInt(price) * BigInt(qty)
}
