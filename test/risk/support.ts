/** Test helpers for the pure core: a tiny fake BookView, an instrument, orders. */
import type {BookSide, BookView} from '../../src/lib/book/types.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import type {OrderIntent, WorkingOrder} from '../../src/lib/domain/orders.js'

/** ETHUSDC-like: tick 0.01, step 0.001, min notional 5 → 500 000 tick·steps. */
export const INST = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5'})

export interface FakeBookInit {
  bids?: Array<[number, number]>
  asks?: Array<[number, number]>
  ready?: boolean
  /** venue time µs of the last update */
  ts?: number
}

export class FakeBook implements BookView {
  bids: Array<[number, number]>
  asks: Array<[number, number]>
  ready: boolean
  lastUpdateTs: number
  constructor(init: FakeBookInit = {}) {
    this.bids = [...(init.bids ?? [])].sort((a, b) => b[0] - a[0])
    this.asks = [...(init.asks ?? [])].sort((a, b) => a[0] - b[0])
    this.ready = init.ready ?? true
    this.lastUpdateTs = init.ts ?? 0
  }
  bestBid(): number {
    return this.bids.length ? this.bids[0][0] : -1
  }
  bestAsk(): number {
    return this.asks.length ? this.asks[0][0] : -1
  }
  bestBidQty(): number {
    return this.bids.length ? this.bids[0][1] : 0
  }
  bestAskQty(): number {
    return this.asks.length ? this.asks[0][1] : 0
  }
  qtyAt(side: BookSide, price: number): number {
    const lv = (side === 'bid' ? this.bids : this.asks).find((l) => l[0] === price)
    return lv ? lv[1] : 0
  }
  forEachLevel(side: BookSide, fn: (price: number, qty: number) => boolean | void): void {
    for (const [p, q] of side === 'bid' ? this.bids : this.asks) if (fn(p, q) === false) return
  }
}

/** A book with best bid `bid` and best ask `ask`, `depth` levels of `qty` each, updated at `tsMs`. */
export function book(bid: number, ask: number, opts: {qty?: number; depth?: number; tsMs?: number; ready?: boolean} = {}): FakeBook {
  const qty = opts.qty ?? 1000
  const depth = opts.depth ?? 5
  const bids: Array<[number, number]> = []
  const asks: Array<[number, number]> = []
  for (let i = 0; i < depth; i++) {
    if (bid > 0) bids.push([bid - i, qty])
    if (ask > 0) asks.push([ask + i, qty])
  }
  return new FakeBook({bids, asks, ts: (opts.tsMs ?? 0) * 1000, ready: opts.ready})
}

export function intent(p: Partial<OrderIntent> & Pick<OrderIntent, 'slot' | 'side' | 'price' | 'qty'>): OrderIntent {
  return {tif: 'GTX', reduceOnly: false, layer: 'dynamic', ...p}
}

export function working(p: Partial<WorkingOrder> & Pick<WorkingOrder, 'slot' | 'side' | 'price' | 'qty' | 'clientOrderId'>): WorkingOrder {
  return {tif: 'GTX', reduceOnly: false, layer: 'dynamic', filled: 0, status: 'NEW', sentAt: 0, ...p}
}

/** Working order from an intent. */
export function asWorking(i: OrderIntent, clientOrderId: string, extra: Partial<WorkingOrder> = {}): WorkingOrder {
  return {...i, clientOrderId, filled: 0, status: 'NEW', sentAt: 0, ...extra}
}

// ---- config / limits ------------------------------------------------------------------
import {resolveConfig, type CoreConfig} from '../../src/lib/config/resolve.js'
import {configSchema, type MmConfigInput} from '../../src/lib/config/schema.js'
import {riskLimits} from '../../src/lib/risk/limits.js'
import type {RiskLimits} from '../../src/lib/risk/types.js'

/**
 * Core config for INST. Defaults: baseSize 0.01 = 10 steps, netMax 0.1 = 100 steps,
 * reduce-only at 3 × baseSize = 30 steps, stopLoss −50, shockPct 0.01, halt 300 s,
 * staleBookMs 5000.
 */
export function coreCfg(input: MmConfigInput = {}): CoreConfig {
  return resolveConfig(configSchema.parse(input), INST)
}

export function limitsFor(input: MmConfigInput = {}): RiskLimits {
  return riskLimits(coreCfg(input), INST)
}

// ---- positions / risk inputs ------------------------------------------------------------
import {applyFill, emptyPosition, type Position} from '../../src/lib/orders/position.js'
import {initialRiskState, type RiskState} from '../../src/lib/risk/types.js'

/** A position of `net` steps opened at `price` ticks in one fill. */
export function pos(net: number, price = 300000): Position {
  if (net === 0) return emptyPosition()
  return applyFill(emptyPosition(), {clientOrderId: 'x', side: net > 0 ? 'BUY' : 'SELL', price, qty: Math.abs(net), maker: true, fee: '0', ts: 0, tradeId: 't'})
}

/** A risk state already running normally (book seen), with optional overrides. */
export function running(p: Partial<RiskState> = {}): RiskState {
  return {...initialRiskState(), mode: 'normal', pause: null, ...p}
}
