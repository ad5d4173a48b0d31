/**
 * Test support for the strategy: a tiny sorted-array BookView, a test instrument and
 * builders for configs, inputs and working orders. Independent of the real OrderBook.
 */
import type {BookSide, BookView} from '../../src/lib/book/types.js'
import {type CoreConfig, parseConfig, resolveConfig} from '../../src/lib/config/index.js'
import {Instrument, type Steps, type Ticks} from '../../src/lib/domain/instrument.js'
import type {OrderIntent, WorkingOrder} from '../../src/lib/domain/orders.js'
import type {QuoteInput} from '../../src/lib/strategy/index.js'

export class FakeBook implements BookView {
  readonly bids: Array<[Ticks, Steps]>
  readonly asks: Array<[Ticks, Steps]>
  readonly ready: boolean
  readonly lastUpdateTs = 0

  /** levels in any order; bids are sorted high→low, asks low→high */
  constructor(bids: Array<[Ticks, Steps]>, asks: Array<[Ticks, Steps]>, ready = true) {
    this.bids = [...bids].filter(([, q]) => q > 0).sort((a, b) => b[0] - a[0])
    this.asks = [...asks].filter(([, q]) => q > 0).sort((a, b) => a[0] - b[0])
    this.ready = ready
  }

  bestBid(): Ticks {
    return this.bids[0]?.[0] ?? -1
  }
  bestAsk(): Ticks {
    return this.asks[0]?.[0] ?? -1
  }
  bestBidQty(): Steps {
    return this.bids[0]?.[1] ?? 0
  }
  bestAskQty(): Steps {
    return this.asks[0]?.[1] ?? 0
  }
  qtyAt(side: BookSide, price: Ticks): Steps {
    return (side === 'bid' ? this.bids : this.asks).find(([p]) => p === price)?.[1] ?? 0
  }
  forEachLevel(side: BookSide, fn: (price: Ticks, qty: Steps) => boolean | void): void {
    for (const [p, q] of side === 'bid' ? this.bids : this.asks) if (fn(p, q) === false) return
  }
}

/** tick 0.1, step 0.001, minQty 0.001, minNotional 5: price 1000.0 = 10000 ticks */
export const INST = new Instrument({symbol: 'TESTUSDC', tickSize: '0.1', stepSize: '0.001', minQty: '0.001', minNotional: '5'})

/** A book around mid 10000 (1000.0): best bid 9995, best ask 10005 (10 ticks), 10 steps each. */
export function book(bid = 9995, ask = 10005, qty = 10): FakeBook {
  return new FakeBook([[bid, qty], [bid - 1, qty], [bid - 5, qty * 2]], [[ask, qty], [ask + 1, qty], [ask + 5, qty * 2]])
}

/**
 * Core config for tests: baseSpread 0.002, baseSize 0.01 (10 steps), netMax 0.1 (100 steps),
 * reduce-only at 3 × baseSize (30 steps), join and static off unless asked.
 */
export function cfgOf(strategy: Record<string, unknown> = {}, risk: Record<string, unknown> = {}): CoreConfig {
  return resolveConfig(
    parseConfig({
      strategy: {baseSpread: 0.002, baseSize: '0.01', joinEnabled: false, staticFraction: 0, takeProfitPct: 0, ...strategy},
      risk: {netMax: '0.1', reduceOnlyThreshold: 3, ...risk},
    }),
    INST,
  )
}

export function inputOf(b: BookView, over: Partial<QuoteInput> = {}): QuoteInput {
  return {book: b, position: {net: 0, avgCost: 0}, working: [], riskMode: 'normal', nowMs: 0, ...over}
}

export function workingOf(i: OrderIntent, over: Partial<WorkingOrder> = {}): WorkingOrder {
  return {...i, clientOrderId: `c-${i.slot}`, filled: 0, status: 'NEW', sentAt: 0, ...over}
}

export function intent(slot: string, price: Ticks, qty: Steps, over: Partial<OrderIntent> = {}): OrderIntent {
  const [layer, side] = slot.split(':') as [string, 'BUY' | 'SELL']
  return {slot, side, price, qty, tif: 'GTX', reduceOnly: layer === 'reduce' || layer === 'ioc', layer: layer === 'dyn' ? 'dynamic' : layer === 'ioc' ? 'reduce' : (layer as OrderIntent['layer']), ...over}
}
