/**
 * The paper venue's own replay of the displayed L2 book (integer ticks → steps).
 * Small and independent of the engine's OrderBook so the matching engine can be tested
 * with a hand-built book; it implements BookView so either can be read the same way.
 * Sorted price arrays keep best-price queries O(1) and level walks in order.
 */
import type {Steps, Ticks} from '../../domain/instrument.js'
import type {BookSide, BookView} from '../../book/types.js'

class Side {
  /** prices sorted best-first */
  readonly prices: Ticks[] = []
  readonly qty = new Map<Ticks, Steps>()
  constructor(private readonly desc: boolean) {}

  /** set the level; returns the previous quantity (0 when absent) */
  set(price: Ticks, q: Steps): Steps {
    const prev = this.qty.get(price) ?? 0
    if (q <= 0) {
      if (prev > 0) {
        this.qty.delete(price)
        const i = this.find(price)
        this.prices.splice(i, 1)
      }
      return prev
    }
    if (prev === 0) {
      const i = this.find(price)
      this.prices.splice(i, 0, price)
    }
    this.qty.set(price, q)
    return prev
  }

  clear(): void {
    this.prices.length = 0
    this.qty.clear()
  }

  /** index of price, or where it would be inserted */
  private find(price: Ticks): number {
    const a = this.prices
    let lo = 0
    let hi = a.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      const better = this.desc ? a[mid] > price : a[mid] < price
      if (better) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

export class LevelBook implements BookView {
  private readonly bids = new Side(true)
  private readonly asks = new Side(false)
  lastUpdateTs = 0

  get ready(): boolean {
    const b = this.bestBid()
    const a = this.bestAsk()
    return b >= 0 && a >= 0 && b < a
  }

  private side(s: BookSide): Side {
    return s === 'bid' ? this.bids : this.asks
  }

  /** set a level (qty 0 removes it); returns the previous quantity */
  set(side: BookSide, price: Ticks, qty: Steps): Steps {
    return this.side(side).set(price, qty)
  }

  clear(): void {
    this.bids.clear()
    this.asks.clear()
  }

  bestBid(): Ticks {
    return this.bids.prices.length > 0 ? this.bids.prices[0] : -1
  }

  bestAsk(): Ticks {
    return this.asks.prices.length > 0 ? this.asks.prices[0] : -1
  }

  bestBidQty(): Steps {
    const p = this.bestBid()
    return p < 0 ? 0 : this.bids.qty.get(p) ?? 0
  }

  bestAskQty(): Steps {
    const p = this.bestAsk()
    return p < 0 ? 0 : this.asks.qty.get(p) ?? 0
  }

  qtyAt(side: BookSide, price: Ticks): Steps {
    return this.side(side).qty.get(price) ?? 0
  }

  forEachLevel(side: BookSide, fn: (price: Ticks, qty: Steps) => boolean | void): void {
    const s = this.side(side)
    for (const p of s.prices) {
      if (fn(p, s.qty.get(p) ?? 0) === false) return
    }
  }
}
