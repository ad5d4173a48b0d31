/**
 * The paper venue's own replay of the displayed L2 book (integer ticks → steps).
 * Kept apart from the engine's synced book so the matching engine can be tested with a
 * hand-built book; its storage is an OrderBook (O(1) level updates near the touch,
 * ordered walks), and `set` reports the previous quantity for the queue models.
 */
import type {Steps, Ticks} from '../../domain/instrument.js'
import {OrderBook} from '../../book/book.js'
import type {BookSide, BookView} from '../../book/types.js'

export class LevelBook implements BookView {
  // the engine's fast L2 book (dense tick window + sorted tails) does the storage
  private readonly ob = new OrderBook()
  lastUpdateTs = 0

  get ready(): boolean {
    const b = this.ob.bestBid()
    const a = this.ob.bestAsk()
    return b >= 0 && a >= 0 && b < a
  }

  /** set a level (qty 0 removes it); returns the previous quantity */
  set(side: BookSide, price: Ticks, qty: Steps): Steps {
    const prev = this.ob.qtyAt(side, price)
    if (prev !== qty) this.ob.set(side, price, qty)
    return prev
  }

  clear(): void {
    this.ob.clear()
  }

  bestBid(): Ticks {
    return this.ob.bestBid()
  }

  bestAsk(): Ticks {
    return this.ob.bestAsk()
  }

  bestBidQty(): Steps {
    return this.ob.bestBidQty()
  }

  bestAskQty(): Steps {
    return this.ob.bestAskQty()
  }

  qtyAt(side: BookSide, price: Ticks): Steps {
    return this.ob.qtyAt(side, price)
  }

  forEachLevel(side: BookSide, fn: (price: Ticks, qty: Steps) => boolean | void): void {
    this.ob.forEachLevel(side, fn)
  }
}
