import type {Steps, Ticks} from '../domain/instrument.js'

export type BookSide = 'bid' | 'ask'

/**
 * A read-only view of the local L2 book, in integer ticks and steps, as the pure core
 * sees it. Empty sides report -1 for the best price and 0 for its quantity.
 */
export interface BookView {
  /** true only when synced, not crossed and not known-stale */
  readonly ready: boolean
  bestBid(): Ticks
  bestAsk(): Ticks
  bestBidQty(): Steps
  bestAskQty(): Steps
  /** displayed quantity at a price (0 when no level) */
  qtyAt(side: BookSide, price: Ticks): Steps
  /** walk levels from the best outward; stop when fn returns false */
  forEachLevel(side: BookSide, fn: (price: Ticks, qty: Steps) => boolean | void): void
  /** venue time (µs) of the last applied update */
  readonly lastUpdateTs: number
}
