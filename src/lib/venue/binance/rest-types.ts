/**
 * Shapes of Binance USDⓈ-M signed REST answers (FACTS.md §2.2–2.3), validated at the edge.
 * Decimal fields stay exact strings; the adapter turns them into ticks/steps through the
 * instrument. A shape that does not match throws a `BinanceApiError` of kind `bad-response`
 * (outcome `unknown`: the request may have been acted on).
 */
import {BinanceApiError} from './errors.js'

export type Side = 'BUY' | 'SELL'
export type OrderType = 'LIMIT' | 'MARKET'
/** the time in force the core chose; the gateway sends it exactly, never rewriting GTX */
export type Tif = 'GTX' | 'GTC' | 'IOC'
export type StpMode = 'NONE' | 'EXPIRE_TAKER' | 'EXPIRE_MAKER' | 'EXPIRE_BOTH'
export type BinanceOrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'REJECTED' | 'EXPIRED' | 'EXPIRED_IN_MATCH'

export interface PlaceOrderParams {
  symbol: string
  side: Side
  type: OrderType
  /** LIMIT only; required there */
  timeInForce?: Tif
  /** decimal string on the step grid */
  quantity: string
  /** decimal string on the tick grid; LIMIT only */
  price?: string
  reduceOnly?: boolean
  newClientOrderId: string
  /** always sent (the venue's default differs between its pages, FACTS §8.5) */
  selfTradePreventionMode: StpMode
  newOrderRespType?: 'ACK' | 'RESULT'
}

export interface BinanceOrder {
  symbol: string
  orderId: number
  clientOrderId: string
  side: Side
  type: string
  timeInForce: string
  status: BinanceOrderStatus
  price: string
  origQty: string
  executedQty: string
  avgPrice: string
  cumQuote?: string
  reduceOnly: boolean
  /** ms */
  updateTime: number
  /** ms, open orders and queries only */
  time?: number
  selfTradePreventionMode?: string
  positionSide?: string
}

export interface BinanceTrade {
  id: number
  orderId: number
  symbol: string
  side: Side
  price: string
  qty: string
  quoteQty?: string
  commission: string
  commissionAsset: string
  realizedPnl: string
  maker: boolean
  time: number
  positionSide?: string
}

export interface BinancePosition {
  symbol: string
  positionSide: string
  positionAmt: string
  entryPrice: string
  breakEvenPrice?: string
  markPrice: string
  unRealizedProfit: string
  liquidationPrice: string
  leverage?: string
  marginAsset?: string
  updateTime: number
}

export interface CommissionRate {
  symbol: string
  makerCommissionRate: string
  takerCommissionRate: string
}

export interface SymbolRules {
  symbol: string
  status: string
  contractType?: string
  quoteAsset?: string
  marginAsset?: string
  tickSize: string
  minPrice: string
  maxPrice: string
  stepSize: string
  minQty: string
  maxQty: string
  marketStepSize?: string
  marketMinQty?: string
  marketMaxQty?: string
  minNotional: string
  percentPrice?: {multiplierUp: string; multiplierDown: string; multiplierDecimal: string}
  maxNumOrders?: number
  maxNumAlgoOrders?: number
  timeInForce: string[]
  orderTypes: string[]
}

export interface RateLimitRule {
  rateLimitType: string
  interval: string
  intervalNum: number
  limit: number
}

const STATUSES = new Set(['NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'EXPIRED_IN_MATCH'])

function bad(endpoint: string, what: string): BinanceApiError {
  return new BinanceApiError({outcome: 'unknown', kind: 'bad-response', endpoint, message: `${endpoint}: unexpected answer (${what})`})
}

type J = Record<string, unknown>
const isObj = (x: unknown): x is J => typeof x === 'object' && x !== null && !Array.isArray(x)
const str = (j: J, k: string): string | undefined => (typeof j[k] === 'string' ? (j[k] as string) : typeof j[k] === 'number' ? String(j[k]) : undefined)
const int = (j: J, k: string): number | undefined => {
  const v = j[k]
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : Number.NaN
  return Number.isSafeInteger(n) ? n : undefined
}
const bool = (j: J, k: string): boolean | undefined => (typeof j[k] === 'boolean' ? (j[k] as boolean) : j[k] === 'true' ? true : j[k] === 'false' ? false : undefined)

/** a signed decimal string (money as the venue prints it), or undefined */
function signedDecimal(v: string | undefined): string | undefined {
  return v !== undefined && /^-?\d+(\.\d+)?$/.test(v) ? v : undefined
}

function need<T>(v: T | undefined, endpoint: string, field: string): T {
  if (v === undefined) throw bad(endpoint, `no valid ${field}`)
  return v
}

export function parseOrder(x: unknown, endpoint: string): BinanceOrder {
  if (!isObj(x)) throw bad(endpoint, 'not an order object')
  const status = need(str(x, 'status'), endpoint, 'status')
  if (!STATUSES.has(status)) throw bad(endpoint, `unknown order status ${JSON.stringify(status).slice(0, 40)}`)
  const side = need(str(x, 'side'), endpoint, 'side')
  if (side !== 'BUY' && side !== 'SELL') throw bad(endpoint, 'side')
  return {
    symbol: need(str(x, 'symbol'), endpoint, 'symbol'),
    orderId: need(int(x, 'orderId'), endpoint, 'orderId'),
    clientOrderId: need(str(x, 'clientOrderId'), endpoint, 'clientOrderId'),
    side,
    type: need(str(x, 'type'), endpoint, 'type'),
    timeInForce: str(x, 'timeInForce') ?? '',
    status: status as BinanceOrderStatus,
    price: str(x, 'price') ?? '0',
    origQty: need(str(x, 'origQty'), endpoint, 'origQty'),
    executedQty: str(x, 'executedQty') ?? '0',
    avgPrice: str(x, 'avgPrice') ?? '0',
    cumQuote: str(x, 'cumQuote'),
    reduceOnly: bool(x, 'reduceOnly') ?? false,
    updateTime: int(x, 'updateTime') ?? int(x, 'time') ?? 0,
    time: int(x, 'time'),
    selfTradePreventionMode: str(x, 'selfTradePreventionMode'),
    positionSide: str(x, 'positionSide'),
  }
}

export function parseOrders(x: unknown, endpoint: string): BinanceOrder[] {
  if (!Array.isArray(x)) throw bad(endpoint, 'not a list')
  return x.map((o) => parseOrder(o, endpoint))
}

export function parseTrades(x: unknown, endpoint: string): BinanceTrade[] {
  if (!Array.isArray(x)) throw bad(endpoint, 'not a list')
  return x.map((t) => {
    if (!isObj(t)) throw bad(endpoint, 'not a trade')
    const side = need(str(t, 'side'), endpoint, 'side')
    if (side !== 'BUY' && side !== 'SELL') throw bad(endpoint, 'side')
    return {
      id: need(int(t, 'id'), endpoint, 'id'),
      orderId: need(int(t, 'orderId'), endpoint, 'orderId'),
      symbol: need(str(t, 'symbol'), endpoint, 'symbol'),
      side,
      price: need(str(t, 'price'), endpoint, 'price'),
      qty: need(str(t, 'qty'), endpoint, 'qty'),
      quoteQty: str(t, 'quoteQty'),
      commission: need(str(t, 'commission'), endpoint, 'commission'),
      commissionAsset: str(t, 'commissionAsset') ?? '',
      realizedPnl: need(signedDecimal(str(t, 'realizedPnl') ?? '0'), endpoint, 'realizedPnl'),
      maker: need(bool(t, 'maker'), endpoint, 'maker'),
      time: need(int(t, 'time'), endpoint, 'time'),
      positionSide: str(t, 'positionSide'),
    }
  })
}

export function parsePositions(x: unknown, endpoint: string): BinancePosition[] {
  if (!Array.isArray(x)) throw bad(endpoint, 'not a list')
  return x.map((p) => {
    if (!isObj(p)) throw bad(endpoint, 'not a position')
    return {
      symbol: need(str(p, 'symbol'), endpoint, 'symbol'),
      positionSide: str(p, 'positionSide') ?? 'BOTH',
      positionAmt: need(str(p, 'positionAmt'), endpoint, 'positionAmt'),
      entryPrice: str(p, 'entryPrice') ?? '0',
      breakEvenPrice: str(p, 'breakEvenPrice'),
      markPrice: str(p, 'markPrice') ?? '0',
      unRealizedProfit: str(p, 'unRealizedProfit') ?? '0',
      liquidationPrice: str(p, 'liquidationPrice') ?? '0',
      leverage: str(p, 'leverage'),
      marginAsset: str(p, 'marginAsset'),
      updateTime: int(p, 'updateTime') ?? 0,
    }
  })
}

export function parseCommission(x: unknown, endpoint: string): CommissionRate {
  if (!isObj(x)) throw bad(endpoint, 'not an object')
  return {
    symbol: need(str(x, 'symbol'), endpoint, 'symbol'),
    makerCommissionRate: need(str(x, 'makerCommissionRate'), endpoint, 'makerCommissionRate'),
    takerCommissionRate: need(str(x, 'takerCommissionRate'), endpoint, 'takerCommissionRate'),
  }
}

/** The symbol's trading rules from exchangeInfo; undefined when the symbol is not listed. */
export function parseSymbolRules(info: unknown, symbol: string, endpoint = 'GET /fapi/v1/exchangeInfo'): SymbolRules | undefined {
  if (!isObj(info) || !Array.isArray(info.symbols)) throw bad(endpoint, 'no symbols[]')
  const want = symbol.toUpperCase()
  const s = info.symbols.find((e) => isObj(e) && e.symbol === want)
  if (!isObj(s)) return undefined
  const filters = Array.isArray(s.filters) ? s.filters.filter(isObj) : []
  const f = (type: string): J | undefined => filters.find((x) => x.filterType === type)
  const price = f('PRICE_FILTER')
  const lot = f('LOT_SIZE')
  if (!price || !lot) throw bad(endpoint, `${want} has no PRICE_FILTER or LOT_SIZE`)
  const mlot = f('MARKET_LOT_SIZE')
  const notional = f('MIN_NOTIONAL')
  const pct = f('PERCENT_PRICE')
  const maxOrders = f('MAX_NUM_ORDERS')
  const maxAlgo = f('MAX_NUM_ALGO_ORDERS')
  return {
    symbol: want,
    status: str(s, 'status') ?? 'UNKNOWN',
    contractType: str(s, 'contractType'),
    quoteAsset: str(s, 'quoteAsset'),
    marginAsset: str(s, 'marginAsset'),
    tickSize: need(str(price, 'tickSize'), endpoint, 'PRICE_FILTER.tickSize'),
    minPrice: str(price, 'minPrice') ?? '0',
    maxPrice: str(price, 'maxPrice') ?? '0',
    stepSize: need(str(lot, 'stepSize'), endpoint, 'LOT_SIZE.stepSize'),
    minQty: need(str(lot, 'minQty'), endpoint, 'LOT_SIZE.minQty'),
    maxQty: str(lot, 'maxQty') ?? '0',
    marketStepSize: mlot ? str(mlot, 'stepSize') : undefined,
    marketMinQty: mlot ? str(mlot, 'minQty') : undefined,
    marketMaxQty: mlot ? str(mlot, 'maxQty') : undefined,
    minNotional: (notional && (str(notional, 'notional') ?? str(notional, 'minNotional'))) || '0',
    percentPrice:
      pct && str(pct, 'multiplierUp') && str(pct, 'multiplierDown')
        ? {multiplierUp: str(pct, 'multiplierUp')!, multiplierDown: str(pct, 'multiplierDown')!, multiplierDecimal: str(pct, 'multiplierDecimal') ?? ''}
        : undefined,
    maxNumOrders: maxOrders ? int(maxOrders, 'limit') : undefined,
    maxNumAlgoOrders: maxAlgo ? int(maxAlgo, 'limit') : undefined,
    timeInForce: Array.isArray(s.timeInForce) ? s.timeInForce.filter((x): x is string => typeof x === 'string') : [],
    orderTypes: Array.isArray(s.orderTypes) ? s.orderTypes.filter((x): x is string => typeof x === 'string') : [],
  }
}

export function parseRateLimits(info: unknown): RateLimitRule[] {
  if (!isObj(info) || !Array.isArray(info.rateLimits)) return []
  const out: RateLimitRule[] = []
  for (const r of info.rateLimits) {
    if (!isObj(r)) continue
    const rateLimitType = str(r, 'rateLimitType')
    const interval = str(r, 'interval')
    const intervalNum = int(r, 'intervalNum')
    const limit = int(r, 'limit')
    if (rateLimitType && interval && intervalNum !== undefined && limit !== undefined) out.push({rateLimitType, interval, intervalNum, limit})
  }
  return out
}
