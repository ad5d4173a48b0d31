/**
 * A reusable batch of level updates already converted to integer ticks and steps.
 * Readers fill one batch per venue message (no per-level objects), and the book
 * applies it. Quantity 0 means "delete the level".
 */
import type {Steps, Ticks} from '../domain/instrument.js'

export class LevelBatch {
  bidPx: Float64Array
  bidQty: Float64Array
  nb = 0
  askPx: Float64Array
  askQty: Float64Array
  na = 0

  constructor(capacity = 64) {
    const c = Math.max(4, capacity)
    this.bidPx = new Float64Array(c)
    this.bidQty = new Float64Array(c)
    this.askPx = new Float64Array(c)
    this.askQty = new Float64Array(c)
  }

  reset(): void {
    this.nb = 0
    this.na = 0
  }

  get size(): number {
    return this.nb + this.na
  }

  pushBid(px: Ticks, qty: Steps): void {
    if (this.nb === this.bidPx.length) {
      this.bidPx = grow(this.bidPx)
      this.bidQty = grow(this.bidQty)
    }
    this.bidPx[this.nb] = px
    this.bidQty[this.nb++] = qty
  }

  pushAsk(px: Ticks, qty: Steps): void {
    if (this.na === this.askPx.length) {
      this.askPx = grow(this.askPx)
      this.askQty = grow(this.askQty)
    }
    this.askPx[this.na] = px
    this.askQty[this.na++] = qty
  }

  /** A batch over the given arrays (already filled: the first nb / na entries) — `src`'s values copied in. */
  static over(bidPx: Float64Array, bidQty: Float64Array, askPx: Float64Array, askQty: Float64Array, src: LevelBatch): LevelBatch {
    const b = new LevelBatch(0)
    bidPx.set(src.bidPx.subarray(0, src.nb))
    bidQty.set(src.bidQty.subarray(0, src.nb))
    askPx.set(src.askPx.subarray(0, src.na))
    askQty.set(src.askQty.subarray(0, src.na))
    b.bidPx = bidPx
    b.bidQty = bidQty
    b.askPx = askPx
    b.askQty = askQty
    b.nb = src.nb
    b.na = src.na
    return b
  }

  /** An independent copy sized to its content (used to buffer events before a snapshot). */
  copy(): LevelBatch {
    const b = new LevelBatch(Math.max(this.nb, this.na))
    b.bidPx.set(this.bidPx.subarray(0, this.nb))
    b.bidQty.set(this.bidQty.subarray(0, this.nb))
    b.askPx.set(this.askPx.subarray(0, this.na))
    b.askQty.set(this.askQty.subarray(0, this.na))
    b.nb = this.nb
    b.na = this.na
    return b
  }
}

function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2)
  b.set(a)
  return b
}
