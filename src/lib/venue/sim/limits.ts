/**
 * Rate limits of `mm sim`, counted as Binance counts them (FACTS.md §5, §4):
 *
 *  - REQUEST_WEIGHT per minute (per IP; one client here): every request adds its weight;
 *    every answer carries `X-MBX-USED-WEIGHT-1M`;
 *  - ORDERS per 10 s and per minute (per account): order requests add their order count;
 *    order answers carry `X-MBX-ORDER-COUNT-10S` / `-1M`;
 *  - windows are fixed (aligned to the interval), as Binance's counters reset;
 *  - over the weight limit: HTTP 429, `-1003`, `Retry-After` (seconds to the window's end);
 *    over an order limit: HTTP 429, `-1015`; requests that keep coming while limited
 *    (more than `banAfter` 429s in a window) get HTTP 418 and an IP ban for `banMs`.
 */
import {ApiError} from './signing.js'

export interface RateLimitConfig {
  weightPerMinute: number
  ordersPer10s: number
  ordersPerMinute: number
  /** 429 answers tolerated in a window before the ban (418) */
  banAfter: number
  banMs: number
}

export const BINANCE_LIMITS: RateLimitConfig = {weightPerMinute: 2400, ordersPer10s: 300, ordersPerMinute: 1200, banAfter: 3, banMs: 120_000}

interface Window {
  start: number
  used: number
}

function bump(w: Window, size: number, now: number, n: number): Window {
  const start = Math.floor(now / size) * size
  if (start !== w.start) {
    w.start = start
    w.used = 0
  }
  w.used += n
  return w
}

export class RateLimiter {
  private readonly weight: Window = {start: 0, used: 0}
  private readonly orders10s: Window = {start: 0, used: 0}
  private readonly orders1m: Window = {start: 0, used: 0}
  private limited429 = 0
  private limitedWindow = -1
  private bannedUntil = 0

  constructor(readonly cfg: RateLimitConfig) {}

  /** Count a request of `weight`; throws the 418/429 ApiError when over the limit. */
  request(weight: number, now: number): void {
    if (now < this.bannedUntil) throw this.ban(now)
    bump(this.weight, 60_000, now, weight)
    if (this.weight.used > this.cfg.weightPerMinute) {
      if (this.limitedWindow !== this.weight.start) {
        this.limitedWindow = this.weight.start
        this.limited429 = 0
      }
      this.limited429++
      if (this.limited429 > this.cfg.banAfter) {
        this.bannedUntil = now + this.cfg.banMs
        throw this.ban(now)
      }
      const retry = Math.max(1, Math.ceil((this.weight.start + 60_000 - now) / 1000))
      throw new ApiError(-1003, `Too many requests; current limit is ${this.cfg.weightPerMinute} requests per minute. Please use the websocket for live updates to avoid polling the API.`, 429, {'Retry-After': String(retry)})
    }
  }

  private ban(now: number): ApiError {
    const retry = Math.max(1, Math.ceil((this.bannedUntil - now) / 1000))
    return new ApiError(-1003, `Way too many requests; IP banned until ${this.bannedUntil}. Please use the websocket for live updates to avoid bans.`, 418, {'Retry-After': String(retry)})
  }

  /** Count `n10s` / `n1m` new orders; throws -1015 (HTTP 429) over a limit. */
  orders(n10s: number, n1m: number, now: number): void {
    bump(this.orders10s, 10_000, now, n10s)
    bump(this.orders1m, 60_000, now, n1m)
    if (this.orders10s.used > this.cfg.ordersPer10s) {
      throw new ApiError(-1015, `Too many new orders; current limit is ${this.cfg.ordersPer10s} orders per 10 SECOND.`, 429, {...this.orderHeaders(now), 'Retry-After': String(Math.max(1, Math.ceil((this.orders10s.start + 10_000 - now) / 1000)))})
    }
    if (this.orders1m.used > this.cfg.ordersPerMinute) {
      throw new ApiError(-1015, `Too many new orders; current limit is ${this.cfg.ordersPerMinute} orders per MINUTE.`, 429, {...this.orderHeaders(now), 'Retry-After': String(Math.max(1, Math.ceil((this.orders1m.start + 60_000 - now) / 1000)))})
    }
  }

  usedWeight(now: number): number {
    return bump(this.weight, 60_000, now, 0).used
  }

  orderHeaders(now: number): Record<string, string> {
    return {'X-MBX-ORDER-COUNT-10S': String(bump(this.orders10s, 10_000, now, 0).used), 'X-MBX-ORDER-COUNT-1M': String(bump(this.orders1m, 60_000, now, 0).used)}
  }

  /** the ws-fapi `rateLimits` block */
  rateLimits(now: number): Array<Record<string, unknown>> {
    return [
      {rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: this.cfg.weightPerMinute, count: this.usedWeight(now)},
      {rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: this.cfg.ordersPer10s, count: bump(this.orders10s, 10_000, now, 0).used},
      {rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: this.cfg.ordersPerMinute, count: bump(this.orders1m, 60_000, now, 0).used},
    ]
  }
}

/** Binance's REQUEST_WEIGHT and ORDERS cost of a REST call (FACTS.md §2, §5). */
export function costOf(method: string, path: string, p: Map<string, string>): {weight: number; orders10s: number; orders1m: number} {
  const c = (weight: number, orders10s = 0, orders1m = 0) => ({weight, orders10s, orders1m})
  switch (`${method} ${path}`) {
    case 'POST /fapi/v1/order': return c(0, 1, 1)
    case 'PUT /fapi/v1/order': return c(0, 1, 1)
    case 'POST /fapi/v1/batchOrders': return c(5, 5, 1)
    case 'DELETE /fapi/v1/order': case 'DELETE /fapi/v1/batchOrders': case 'DELETE /fapi/v1/allOpenOrders': return c(1)
    case 'GET /fapi/v1/openOrders': return c(p.has('symbol') ? 1 : 40)
    case 'POST /fapi/v1/countdownCancelAll': return c(10)
    case 'GET /fapi/v2/positionRisk': case 'GET /fapi/v3/positionRisk': case 'GET /fapi/v2/account': case 'GET /fapi/v3/account':
    case 'GET /fapi/v2/balance': case 'GET /fapi/v3/balance': case 'GET /fapi/v1/userTrades': case 'GET /fapi/v1/allOrders':
    case 'GET /fapi/v1/symbolConfig': case 'GET /fapi/v1/accountConfig':
      return c(5)
    case 'GET /fapi/v1/commissionRate': return c(20)
    case 'GET /fapi/v1/positionSide/dual': case 'GET /fapi/v1/feeBurn': return c(30)
    case 'GET /fapi/v1/premiumIndex': return c(p.has('symbol') ? 1 : 10)
    case 'GET /fapi/v1/ticker/bookTicker': return c(p.has('symbol') ? 2 : 5)
    // the routes around trading (extras.ts); the others there weigh 1
    case 'GET /fapi/v1/ticker/price': case 'GET /fapi/v2/ticker/price': return c(p.has('symbol') ? 1 : 2)
    case 'GET /fapi/v1/ticker/24hr': return c(p.has('symbol') ? 1 : 40)
    case 'GET /fapi/v1/trades': return c(5)
    case 'GET /fapi/v1/aggTrades': return c(20)
    case 'GET /fapi/v1/income': return c(30)
    case 'GET /fapi/v1/klines': {
      const l = Number(p.get('limit') ?? 500)
      return c(l < 100 ? 1 : l < 500 ? 2 : l <= 1000 ? 5 : 10)
    }
    case 'GET /fapi/v1/depth': {
      const l = Number(p.get('limit') ?? 500)
      return c(l <= 50 ? 2 : l <= 100 ? 5 : l <= 500 ? 10 : 20)
    }
    default: return c(1)
  }
}
