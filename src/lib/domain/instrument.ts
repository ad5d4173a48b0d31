/**
 * The instrument: tick and step grids from exchangeInfo, and the only place where
 * prices and quantities cross between venue decimal strings and integer ticks/steps.
 */
import {Decimal} from 'decimal.js'
import {divRound, formatScaled, parseScaled, type Rounding, significantDecimals} from './decimal.js'
import {GridError, UsageError} from './errors.js'

/** Integer number of ticks (price / tickSize). */
export type Ticks = number
/** Integer number of lot steps (qty / stepSize). */
export type Steps = number

export interface InstrumentSpec {
  symbol: string
  tickSize: string
  stepSize: string
  minQty: string
  maxQty?: string
  minPrice?: string
  maxPrice?: string
  minNotional: string
  pricePrecision?: number
  quantityPrecision?: number
  baseAsset?: string
  quoteAsset?: string
  marginAsset?: string
  status?: string
  contractType?: string
}

export class Instrument {
  readonly symbol: string
  readonly spec: InstrumentSpec
  /** decimals used for the scaled-integer representation of prices / quantities */
  readonly priceDecimals: number
  readonly qtyDecimals: number
  /** tick size and step size in scaled units */
  readonly tickUnits: number
  readonly stepUnits: number
  readonly minQtySteps: Steps
  readonly maxQtySteps: Steps
  /** min notional in units of (tick × step) value: price_ticks × qty_steps must be ≥ this */
  readonly minNotionalTickSteps: number

  constructor(spec: InstrumentSpec) {
    this.spec = {...spec}
    this.symbol = spec.symbol.toUpperCase()
    for (const k of ['tickSize', 'stepSize', 'minQty', 'minNotional'] as const) {
      if (!/^\d+(\.\d+)?$/.test(spec[k])) throw new UsageError('E_INSTRUMENT', `instrument ${spec.symbol}: ${k} ${JSON.stringify(spec[k])} is not a decimal`)
    }
    const tick = new Decimal(spec.tickSize)
    const step = new Decimal(spec.stepSize)
    if (tick.lte(0)) throw new UsageError('E_INSTRUMENT', `instrument ${spec.symbol}: tickSize must be > 0`)
    if (step.lte(0)) throw new UsageError('E_INSTRUMENT', `instrument ${spec.symbol}: stepSize must be > 0`)
    this.priceDecimals = significantDecimals(spec.tickSize)
    this.qtyDecimals = significantDecimals(spec.stepSize)
    this.tickUnits = parseScaled(spec.tickSize, this.priceDecimals)
    this.stepUnits = parseScaled(spec.stepSize, this.qtyDecimals)
    this.minQtySteps = Math.max(1, new Decimal(spec.minQty).div(step).ceil().toNumber())
    this.maxQtySteps = spec.maxQty && new Decimal(spec.maxQty).gt(0) ? new Decimal(spec.maxQty).div(step).floor().toNumber() : Number.MAX_SAFE_INTEGER
    this.minNotionalTickSteps = new Decimal(spec.minNotional).div(tick.mul(step)).ceil().toNumber()
  }

  // ---- prices -------------------------------------------------------------
  /** Venue price string → ticks. `exact` throws when the price is off the grid. */
  priceToTicks(s: string, rounding: Rounding = 'exact'): Ticks {
    const scaled = parseScaled(s, this.priceDecimals, rounding === 'exact' ? 'exact' : rounding)
    if (this.tickUnits === 1) return scaled
    return divRound(scaled, this.tickUnits, rounding)
  }

  /** ticks → venue price string with the tick's decimals (e.g. "3012.34"). */
  ticksToPrice(t: Ticks): string {
    if (!Number.isSafeInteger(t) || t < 0) throw new GridError(`price ticks must be a non-negative integer, got ${t}`)
    return formatScaled(t * this.tickUnits, this.priceDecimals)
  }

  // ---- quantities ---------------------------------------------------------
  qtyToSteps(s: string, rounding: Rounding = 'exact'): Steps {
    const scaled = parseScaled(s, this.qtyDecimals, rounding === 'exact' ? 'exact' : rounding)
    if (this.stepUnits === 1) return scaled
    return divRound(scaled, this.stepUnits, rounding)
  }

  stepsToQty(n: Steps): string {
    if (!Number.isSafeInteger(n) || n < 0) throw new GridError(`quantity steps must be a non-negative integer, got ${n}`)
    return formatScaled(n * this.stepUnits, this.qtyDecimals)
  }

  /** Signed steps → signed decimal string (positions). */
  signedStepsToQty(n: Steps): string {
    return n < 0 ? '-' + this.stepsToQty(-n) : this.stepsToQty(n)
  }

  // ---- exact decimal views (boundary use: reports, PnL) ---------------------
  tickDecimal(t: Ticks): Decimal {
    return new Decimal(this.ticksToPrice(t))
  }

  stepDecimal(n: Steps): Decimal {
    return new Decimal(this.signedStepsToQty(n))
  }

  /** Notional of `steps` at `ticks` as an exact decimal string. */
  notional(t: Ticks, n: Steps): Decimal {
    return this.tickDecimal(t).mul(this.stepDecimal(n))
  }

  /** Does an order of n steps at t ticks meet LOT_SIZE minQty and MIN_NOTIONAL? */
  meetsMinimums(t: Ticks, n: Steps): boolean {
    return n >= this.minQtySteps && n <= this.maxQtySteps && t * n >= this.minNotionalTickSteps
  }

  /** Smallest step count that meets min qty and min notional at price t. */
  minStepsAt(t: Ticks): Steps {
    if (t <= 0) return this.minQtySteps
    return Math.max(this.minQtySteps, Math.ceil(this.minNotionalTickSteps / t))
  }

  toJSON(): InstrumentSpec {
    return this.spec
  }
}

/** Build an Instrument from one `symbols[]` entry of GET /fapi/v1/exchangeInfo. */
export function instrumentFromExchangeInfo(info: unknown, symbol: string): Instrument {
  const sym = symbol.toUpperCase()
  const symbols = (info as {symbols?: unknown})?.symbols
  if (!Array.isArray(symbols)) throw new UsageError('E_EXCHANGE_INFO', 'exchangeInfo has no symbols[] array', {suggestion: 'check --rest-url points at a Binance USDⓈ-M futures venue'})
  const entry = symbols.find((s: {symbol?: string}) => s?.symbol === sym) as Record<string, unknown> | undefined
  if (!entry) {
    throw new UsageError('E_UNKNOWN_SYMBOL', `unknown symbol ${sym}: not listed in the venue's exchangeInfo`, {suggestion: 'check the spelling, e.g. --symbol ETHUSDC'})
  }
  const filters = Array.isArray(entry.filters) ? (entry.filters as Record<string, string>[]) : []
  const f = (type: string) => filters.find((x) => x.filterType === type)
  const price = f('PRICE_FILTER')
  const lot = f('LOT_SIZE')
  const notional = f('MIN_NOTIONAL')
  if (!price?.tickSize || !lot?.stepSize) {
    throw new UsageError('E_EXCHANGE_INFO', `exchangeInfo for ${sym} lacks PRICE_FILTER.tickSize or LOT_SIZE.stepSize`)
  }
  return new Instrument({
    symbol: sym,
    tickSize: price.tickSize,
    stepSize: lot.stepSize,
    minQty: lot.minQty ?? lot.stepSize,
    maxQty: lot.maxQty,
    minPrice: price.minPrice,
    maxPrice: price.maxPrice,
    minNotional: notional?.notional ?? '0',
    pricePrecision: typeof entry.pricePrecision === 'number' ? entry.pricePrecision : undefined,
    quantityPrecision: typeof entry.quantityPrecision === 'number' ? entry.quantityPrecision : undefined,
    baseAsset: entry.baseAsset as string | undefined,
    quoteAsset: entry.quoteAsset as string | undefined,
    marginAsset: entry.marginAsset as string | undefined,
    status: entry.status as string | undefined,
    contractType: entry.contractType as string | undefined,
  })
}
