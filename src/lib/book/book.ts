/**
 * L2 order book in integer ticks (price) and integer steps (quantity).
 *
 * Each side is a pair of parallel Float64Arrays sorted so that the best level is at the
 * END (bids: ascending price; asks: stored as negated price, ascending). Updates cluster
 * at the top of the book, so inserts and deletes there move few elements; a lookup is a
 * binary search. No per-level objects, no decimals, no strings on the hot path.
 *
 * Levels are absolute: qty > 0 sets the level, qty 0 deletes it (deleting an absent level
 * is normal and a no-op). The book itself knows nothing of update ids; `DepthSync` drives
 * `synced`/`stale`, and `ready` combines them with the crossed check.
 */
import type {Steps, Ticks} from '../domain/instrument.js'
import type {LevelBatch} from './levels.js'
import type {BookSide, BookView} from './types.js'

/** One side: keys ascending, best = last. Bids key = price, asks key = -price. */
class Side {
  keys: Float64Array
  qtys: Float64Array
  n = 0

  constructor(capacity: number) {
    this.keys = new Float64Array(capacity)
    this.qtys = new Float64Array(capacity)
  }

  /** index of the first key >= key (n when none) */
  lowerBound(key: number): number {
    const k = this.keys
    let lo = 0
    let hi = this.n
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (k[mid] < key) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  set(key: number, qty: number): void {
    const n = this.n
    const k = this.keys
    // fast path: a new best level (or the first one)
    if (n === 0 || key > k[n - 1]) {
      if (qty > 0) this.insertAt(n, key, qty)
      return
    }
    const i = key === k[n - 1] ? n - 1 : this.lowerBound(key)
    if (i < n && k[i] === key) {
      if (qty > 0) this.qtys[i] = qty
      else this.removeAt(i)
    } else if (qty > 0) {
      this.insertAt(i, key, qty)
    }
  }

  get(key: number): number {
    const n = this.n
    if (n === 0) return 0
    const i = this.lowerBound(key)
    return i < n && this.keys[i] === key ? this.qtys[i] : 0
  }

  private insertAt(i: number, key: number, qty: number): void {
    const n = this.n
    if (n === this.keys.length) {
      const nk = new Float64Array(n * 2)
      const nq = new Float64Array(n * 2)
      nk.set(this.keys)
      nq.set(this.qtys)
      this.keys = nk
      this.qtys = nq
    }
    const k = this.keys
    const q = this.qtys
    if (i < n) {
      k.copyWithin(i + 1, i, n)
      q.copyWithin(i + 1, i, n)
    }
    k[i] = key
    q[i] = qty
    this.n = n + 1
  }

  private removeAt(i: number): void {
    const n = this.n
    if (i < n - 1) {
      this.keys.copyWithin(i, i + 1, n)
      this.qtys.copyWithin(i, i + 1, n)
    }
    this.n = n - 1
  }

  clear(): void {
    this.n = 0
  }

  copyFrom(o: Side): void {
    if (this.keys.length < o.n) {
      this.keys = new Float64Array(o.keys.length)
      this.qtys = new Float64Array(o.keys.length)
    }
    this.keys.set(o.keys.subarray(0, o.n))
    this.qtys.set(o.qtys.subarray(0, o.n))
    this.n = o.n
  }

  equals(o: Side): boolean {
    if (this.n !== o.n) return false
    for (let i = 0; i < this.n; i++) {
      if (this.keys[i] !== o.keys[i] || this.qtys[i] !== o.qtys[i]) return false
    }
    return true
  }
}

export interface BookDump {
  /** best first: [priceTicks, qtySteps] */
  bids: [Ticks, Steps][]
  asks: [Ticks, Steps][]
}

export class OrderBook implements BookView {
  private readonly b: Side
  private readonly a: Side
  /** set by the sync machine: the book reflects a snapshot plus a gap-free update chain */
  synced = false
  /** set by the sync machine's stale check */
  stale = false
  lastUpdateTs = 0

  constructor(capacity = 2048) {
    this.b = new Side(capacity)
    this.a = new Side(capacity)
  }

  get ready(): boolean {
    return this.synced && !this.stale && !this.crossed
  }

  /** best bid ≥ best ask (both sides present) */
  get crossed(): boolean {
    const nb = this.b.n
    const na = this.a.n
    return nb > 0 && na > 0 && this.b.keys[nb - 1] >= -this.a.keys[na - 1]
  }

  clear(): void {
    this.b.clear()
    this.a.clear()
  }

  setBid(price: Ticks, qty: Steps): void {
    this.b.set(price, qty)
  }

  setAsk(price: Ticks, qty: Steps): void {
    this.a.set(-price, qty)
  }

  set(side: BookSide, price: Ticks, qty: Steps): void {
    if (side === 'bid') this.b.set(price, qty)
    else this.a.set(-price, qty)
  }

  /** Apply one message's absolute level quantities (0 deletes). */
  applyLevels(batch: LevelBatch): void {
    const b = this.b
    const a = this.a
    const bp = batch.bidPx
    const bq = batch.bidQty
    for (let i = 0, n = batch.nb; i < n; i++) b.set(bp[i], bq[i])
    const ap = batch.askPx
    const aq = batch.askQty
    for (let i = 0, n = batch.na; i < n; i++) a.set(-ap[i], aq[i])
  }

  /** Replace the whole book with a snapshot (zero quantities are ignored). */
  applySnapshot(batch: LevelBatch): void {
    this.clear()
    this.applyLevels(batch)
  }

  bestBid(): Ticks {
    const n = this.b.n
    return n > 0 ? this.b.keys[n - 1] : -1
  }

  bestAsk(): Ticks {
    const n = this.a.n
    return n > 0 ? -this.a.keys[n - 1] : -1
  }

  bestBidQty(): Steps {
    const n = this.b.n
    return n > 0 ? this.b.qtys[n - 1] : 0
  }

  bestAskQty(): Steps {
    const n = this.a.n
    return n > 0 ? this.a.qtys[n - 1] : 0
  }

  /** number of levels on a side */
  depth(side: BookSide): number {
    return side === 'bid' ? this.b.n : this.a.n
  }

  qtyAt(side: BookSide, price: Ticks): Steps {
    return side === 'bid' ? this.b.get(price) : this.a.get(-price)
  }

  forEachLevel(side: BookSide, fn: (price: Ticks, qty: Steps) => boolean | void): void {
    const s = side === 'bid' ? this.b : this.a
    const sign = side === 'bid' ? 1 : -1
    const k = s.keys
    const q = s.qtys
    for (let i = s.n - 1; i >= 0; i--) {
      if (fn(sign * k[i], q[i]) === false) return
    }
  }

  /** Same levels on both sides (flags and timestamps are not compared). */
  equals(other: OrderBook): boolean {
    return this.b.equals(other.b) && this.a.equals(other.a)
  }

  /** Canonical dump, best level first on each side. */
  dump(maxLevels = Number.MAX_SAFE_INTEGER): BookDump {
    const out: BookDump = {bids: [], asks: []}
    this.forEachLevel('bid', (p, q) => out.bids.push([p, q]) < maxLevels)
    this.forEachLevel('ask', (p, q) => out.asks.push([p, q]) < maxLevels)
    return out
  }

  /** A deep copy of the levels and flags. */
  clone(): OrderBook {
    const c = new OrderBook(4)
    c.b.copyFrom(this.b)
    c.a.copyFrom(this.a)
    c.synced = this.synced
    c.stale = this.stale
    c.lastUpdateTs = this.lastUpdateTs
    return c
  }
}
