/**
 * User data stream payloads (FACTS.md §3.3), validated at the edge into typed events with
 * exact decimal strings: ORDER_TRADE_UPDATE, ACCOUNT_UPDATE, listenKeyExpired. Anything
 * else (TRADE_LITE, MARGIN_CALL, ACCOUNT_CONFIG_UPDATE, …) is `other` and ignored by the
 * adapter. A malformed known event is a `UserEventError` naming the field.
 *
 * `orderUpdateReports` turns one order update into the venue reports the order-lifecycle
 * reducer takes (ack, fill, canceled, expired), on the instrument's tick/step grid.
 */
import type {Instrument} from '../../domain/instrument.js'
import type {Fill, TimeInForce} from '../../domain/orders.js'
import type {VenueReport} from '../types.js'

export interface OrderUpdate {
  e: 'ORDER_TRADE_UPDATE'
  /** event time, ms */
  E: number
  /** transaction time, ms */
  T: number
  symbol: string
  clientOrderId: string
  side: 'BUY' | 'SELL'
  orderType: string
  timeInForce: string
  origQty: string
  price: string
  avgPrice: string
  /** execution type: NEW, CANCELED, CALCULATED, EXPIRED, TRADE, AMENDMENT */
  execType: string
  /** order status: NEW, PARTIALLY_FILLED, FILLED, CANCELED, EXPIRED, EXPIRED_IN_MATCH */
  status: string
  orderId: number
  lastQty: string
  cumQty: string
  lastPrice: string
  /** commission of this fill and its asset (absent when none) */
  commission?: string
  commissionAsset?: string
  /** trade time, ms */
  tradeTime: number
  tradeId: number
  maker: boolean
  reduceOnly: boolean
  positionSide: string
  realizedProfit: string
  stpMode?: string
  /** expiry reason (0 none, 1 STP, 2 IOC rest, 4 reduce-only knocked out, 9 market rest, …) */
  expiryReason?: string
}

export interface AccountPosition {
  symbol: string
  /** position amount, signed */
  amount: string
  entryPrice: string
  breakEvenPrice?: string
  /** accumulated realised (pre-fee) */
  accumulatedRealized?: string
  unrealizedPnl?: string
  marginType?: string
  positionSide: string
}

export interface AccountUpdate {
  e: 'ACCOUNT_UPDATE'
  E: number
  T: number
  /** reason: ORDER, FUNDING_FEE, DEPOSIT, … */
  reason: string
  balances: Array<{asset: string; walletBalance: string; crossWalletBalance?: string; balanceChange?: string}>
  positions: AccountPosition[]
}

export interface ListenKeyExpired {
  e: 'listenKeyExpired'
  E: number
  listenKey?: string
}

export type UserEvent = OrderUpdate | AccountUpdate | ListenKeyExpired | {e: 'other'; type: string}

export class UserEventError extends Error {
  readonly code = 'E_VENUE_BAD_MESSAGE'
}

type J = Record<string, unknown>
const isObj = (x: unknown): x is J => typeof x === 'object' && x !== null && !Array.isArray(x)

function s(j: J, k: string, where: string): string {
  const v = j[k]
  if (typeof v === 'string') return v
  if (typeof v === 'number' && Number.isFinite(v)) return String(v)
  throw new UserEventError(`${where}: field ${k} missing or not a string`)
}
const so = (j: J, k: string): string | undefined => (typeof j[k] === 'string' ? (j[k] as string) : typeof j[k] === 'number' ? String(j[k]) : undefined)
function n(j: J, k: string, where: string): number {
  const v = j[k]
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v
  throw new UserEventError(`${where}: field ${k} missing or not an integer`)
}
function b(j: J, k: string, where: string): boolean {
  const v = j[k]
  if (typeof v === 'boolean') return v
  throw new UserEventError(`${where}: field ${k} missing or not a boolean`)
}

/** One user-stream payload (already JSON-parsed; combined-stream envelopes unwrapped). */
export function parseUserEvent(x: unknown): UserEvent {
  if (!isObj(x)) throw new UserEventError('user stream: a message that is not a JSON object')
  const env = isObj(x.data) && typeof x.stream === 'string' ? x.data : x
  const e = env.e
  if (e === 'ORDER_TRADE_UPDATE') {
    const w = 'ORDER_TRADE_UPDATE'
    const o = env.o
    if (!isObj(o)) throw new UserEventError(`${w}: no order object o`)
    const side = s(o, 'S', w)
    if (side !== 'BUY' && side !== 'SELL') throw new UserEventError(`${w}: side S ${JSON.stringify(side).slice(0, 20)} is not BUY or SELL`)
    return {
      e,
      E: n(env, 'E', w),
      T: typeof env.T === 'number' ? env.T : n(env, 'E', w),
      symbol: s(o, 's', w),
      clientOrderId: s(o, 'c', w),
      side,
      orderType: s(o, 'o', w),
      timeInForce: s(o, 'f', w),
      origQty: s(o, 'q', w),
      price: s(o, 'p', w),
      avgPrice: so(o, 'ap') ?? '0',
      execType: s(o, 'x', w),
      status: s(o, 'X', w),
      orderId: n(o, 'i', w),
      lastQty: s(o, 'l', w),
      cumQty: s(o, 'z', w),
      lastPrice: s(o, 'L', w),
      commission: so(o, 'n'),
      commissionAsset: so(o, 'N'),
      tradeTime: typeof o.T === 'number' ? o.T : n(env, 'E', w),
      tradeId: typeof o.t === 'number' ? o.t : 0,
      maker: typeof o.m === 'boolean' ? o.m : false,
      reduceOnly: typeof o.R === 'boolean' ? o.R : false,
      positionSide: so(o, 'ps') ?? 'BOTH',
      realizedProfit: so(o, 'rp') ?? '0',
      stpMode: so(o, 'V'),
      expiryReason: so(o, 'er'),
    }
  }
  if (e === 'ACCOUNT_UPDATE') {
    const w = 'ACCOUNT_UPDATE'
    const a = env.a
    if (!isObj(a)) throw new UserEventError(`${w}: no update object a`)
    const B = Array.isArray(a.B) ? a.B : []
    const P = Array.isArray(a.P) ? a.P : []
    return {
      e,
      E: n(env, 'E', w),
      T: typeof env.T === 'number' ? env.T : n(env, 'E', w),
      reason: s(a, 'm', w),
      balances: B.map((x) => {
        if (!isObj(x)) throw new UserEventError(`${w}: a balance that is not an object`)
        return {asset: s(x, 'a', w), walletBalance: s(x, 'wb', w), crossWalletBalance: so(x, 'cw'), balanceChange: so(x, 'bc')}
      }),
      positions: P.map((x) => {
        if (!isObj(x)) throw new UserEventError(`${w}: a position that is not an object`)
        return {
          symbol: s(x, 's', w),
          amount: s(x, 'pa', w),
          entryPrice: s(x, 'ep', w),
          breakEvenPrice: so(x, 'bep'),
          accumulatedRealized: so(x, 'cr'),
          unrealizedPnl: so(x, 'up'),
          marginType: so(x, 'mt'),
          positionSide: so(x, 'ps') ?? 'BOTH',
        }
      }),
    }
  }
  if (e === 'listenKeyExpired') return {e, E: typeof env.E === 'number' ? env.E : 0, listenKey: so(env, 'listenKey')}
  return {e: 'other', type: typeof e === 'string' ? e : 'unknown'}
}

const TIFS = new Set<TimeInForce>(['GTX', 'GTC', 'IOC'])

/**
 * The lifecycle reports one order update stands for. `ts` is the local time the strategy
 * learns it (ms). Fees are exact strings as the venue sent them, booked in the symbol's
 * margin asset: a fee in another asset (BNB, with the account's BNB fee discount on) is not
 * converted, so `mm quote` refuses such an account at start-up (startup.ts, E_BNB_FEES).
 *
 *  - x=NEW → ack (price/qty on the grid; off-grid is an error: the order is not ours to
 *    fix)
 *  - x=TRADE or CALCULATED → fill (trade id `t`, maker flag `m`, fee `n`)
 *  - x=CANCELED → canceled; x=EXPIRED → expired (reason from `er`: 1/3 STP, 4 reduce-only,
 *    otherwise IOC); X=EXPIRED_IN_MATCH → expired by STP
 *  - AMENDMENT and anything else → none (the audit and queries catch up)
 */
/** A signed decimal string as the venue prints money; anything else is an error naming the field. */
export function venueDecimal(v: string, field: string): string {
  if (!/^-?\d+(\.\d+)?$/.test(v)) throw new UserEventError(`ORDER_TRADE_UPDATE: field ${field} ${JSON.stringify(v).slice(0, 24)} is not a decimal`)
  return v
}

export function orderUpdateReports(u: OrderUpdate, inst: Instrument, ts: number): VenueReport[] {
  // each report is one literal, not `{...base, type}`: on Node 20 a spread followed by new
  // keys gives every object a hidden class of its own (orders/lifecycle.ts, `edit`)
  const id = u.clientOrderId
  const filled = inst.qtyToSteps(u.cumQty)
  switch (u.execType) {
    case 'NEW': {
      const tif = u.timeInForce as TimeInForce
      if (!TIFS.has(tif)) return []
      return [{clientOrderId: id, ts, venueTs: u.T, type: 'ack', venueOrderId: String(u.orderId), side: u.side, price: inst.priceToTicks(u.price), qty: inst.qtyToSteps(u.origQty), tif, reduceOnly: u.reduceOnly}]
    }
    case 'TRADE':
    case 'CALCULATED': {
      const qty = inst.qtyToSteps(u.lastQty)
      const fill: Fill = {
        clientOrderId: u.clientOrderId,
        side: u.side,
        price: inst.priceToTicks(u.lastPrice),
        qty,
        maker: u.maker,
        fee: u.commission ?? '0',
        ts: u.tradeTime,
        tradeId: String(u.tradeId),
        realised: venueDecimal(u.realizedProfit, 'rp'),
      }
      const leaves = Math.max(0, inst.qtyToSteps(u.origQty) - filled)
      return [{clientOrderId: id, ts, venueTs: u.T, type: 'fill', fill, filled, leaves, status: u.status === 'FILLED' ? 'FILLED' : 'PARTIALLY_FILLED'}]
    }
    case 'CANCELED':
      return [{clientOrderId: id, ts, venueTs: u.T, type: 'canceled', filled}]
    case 'EXPIRED': {
      const er = u.expiryReason
      if (u.status === 'EXPIRED_IN_MATCH' || er === '1' || er === '3') return [{clientOrderId: id, ts, venueTs: u.T, type: 'expired', filled, reason: 'STP', status: u.status === 'EXPIRED_IN_MATCH' ? 'EXPIRED_IN_MATCH' : 'EXPIRED'}]
      return [{clientOrderId: id, ts, venueTs: u.T, type: 'expired', filled, reason: er === '4' ? 'REDUCE_ONLY' : 'IOC'}]
    }
    default:
      return []
  }
}
