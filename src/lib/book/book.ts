/**
 * L2 order book in integer ticks (price) and integer steps (quantity).
 *
 * Layout (measured on the real ETHUSDT @depth@0ms stream, see bench/book.bench.ts):
 * Binance's diff stream touches levels far from the top (median insert/delete ~1300
 * levels deep), so sorted arrays spend their time moving memory. Instead:
 *  - a dense price-indexed window of W ticks around the mid: quantity arrays indexed by
 *    `price - base`, one per side, plus the index of each side's best level and a level
 *    count; set/delete is O(1), a deleted best scans to the next non-empty tick;
 *  - levels outside the window live in per-side sorted Float64Arrays (best at the end)
 *    — rare, far-away prices;
 *  - when the top of book drifts into the outer eighth of the window, the window is
 *    re-centred (O(W + levels), rare).
 * No per-level objects, no decimals, no strings on the hot path.
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

export interface OrderBookOptions {
  /** width of the dense window in ticks (default 65 536) */
  window?: number
  /** initial capacity of the out-of-window sorted arrays per side */
  capacity?: number
}

const DEFAULT_WINDOW = 1 << 16

export class OrderBook implements BookView {
  /** set by the sync machine: the book reflects a snapshot plus a gap-free update chain */
  synced = false
  /** set by the sync machine's stale check */
  stale = false
  lastUpdateTs = 0

  private readonly W: number
  /** absolute tick of window index 0; the window is [base, base + W) */
  private base = 0
  private placed = false
  private readonly bq: Float64Array
  private readonly aq: Float64Array
  /** levels in the window per side */
  private bCount = 0
  private aCount = 0
  /** window index of the best bid (highest) / best ask (lowest), -1 when none in the window */
  private bBest = -1
  private aBest = -1
  /** out-of-window levels: bids key = price, asks key = -price, best at the end */
  private readonly bo: Side
  private readonly ao: Side

  constructor(opts: OrderBookOptions = {}) {
    this.W = Math.max(2, Math.floor(opts.window ?? DEFAULT_WINDOW))
    this.bq = new Float64Array(this.W)
    this.aq = new Float64Array(this.W)
    this.bo = new Side(Math.max(4, opts.capacity ?? 256))
    this.ao = new Side(Math.max(4, opts.capacity ?? 256))
  }

  get ready(): boolean {
    return this.synced && !this.stale && !this.crossed
  }

  /** best bid ≥ best ask (both sides present) */
  get crossed(): boolean {
    const b = this.bestBid()
    const a = this.bestAsk()
    return b >= 0 && a >= 0 && b >= a
  }

  clear(): void {
    if (this.bCount > 0) this.bq.fill(0)
    if (this.aCount > 0) this.aq.fill(0)
    this.bCount = this.aCount = 0
    this.bBest = this.aBest = -1
    this.bo.clear()
    this.ao.clear()
    this.placed = false
  }

  setBid(price: Ticks, qty: Steps): void {
    if (!this.placed) this.place(price)
    const i = price - this.base
    if (i >= 0 && i < this.W) {
      const q = this.bq
      const old = q[i]
      if (qty > 0) {
        q[i] = qty
        if (old === 0) {
          this.bCount++
          if (i > this.bBest) this.bBest = i
        }
      } else if (old !== 0) {
        q[i] = 0
        if (--this.bCount === 0) this.bBest = -1
        else if (i === this.bBest) {
          let j = i - 1
          while (q[j] === 0) j--
          this.bBest = j
        }
      }
    } else {
      this.bo.set(price, qty)
    }
  }

  setAsk(price: Ticks, qty: Steps): void {
    if (!this.placed) this.place(price)
    const i = price - this.base
    if (i >= 0 && i < this.W) {
      const q = this.aq
      const old = q[i]
      if (qty > 0) {
        q[i] = qty
        if (old === 0) {
          this.aCount++
          if (this.aBest < 0 || i < this.aBest) this.aBest = i
        }
      } else if (old !== 0) {
        q[i] = 0
        if (--this.aCount === 0) this.aBest = -1
        else if (i === this.aBest) {
          let j = i + 1
          while (q[j] === 0) j++
          this.aBest = j
        }
      }
    } else {
      this.ao.set(-price, qty)
    }
  }

  set(side: BookSide, price: Ticks, qty: Steps): void {
    if (side === 'bid') this.setBid(price, qty)
    else this.setAsk(price, qty)
  }

  /** Apply one message's absolute level quantities (0 deletes). */
  applyLevels(batch: LevelBatch): void {
    const bp = batch.bidPx
    const bq = batch.bidQty
    for (let i = 0, n = batch.nb; i < n; i++) this.setBid(bp[i], bq[i])
    const ap = batch.askPx
    const aq = batch.askQty
    for (let i = 0, n = batch.na; i < n; i++) this.setAsk(ap[i], aq[i])
    this.maybeRecenter()
  }

  /** Replace the whole book with a snapshot (zero quantities are ignored). */
  applySnapshot(batch: LevelBatch): void {
    this.clear()
    let hiBid = -1
    let loAsk = -1
    for (let i = 0; i < batch.nb; i++) if (batch.bidQty[i] > 0 && batch.bidPx[i] > hiBid) hiBid = batch.bidPx[i]
    for (let i = 0; i < batch.na; i++) if (batch.askQty[i] > 0 && (loAsk < 0 || batch.askPx[i] < loAsk)) loAsk = batch.askPx[i]
    const centre = hiBid >= 0 && loAsk >= 0 ? Math.floor((hiBid + loAsk) / 2) : hiBid >= 0 ? hiBid : loAsk
    if (centre >= 0) this.place(centre)
    this.applyLevels(batch)
  }

  bestBid(): Ticks {
    const w = this.bBest >= 0 ? this.base + this.bBest : -1
    const n = this.bo.n
    const o = n > 0 ? this.bo.keys[n - 1] : -1
    return w > o ? w : o
  }

  bestAsk(): Ticks {
    const w = this.aBest >= 0 ? this.base + this.aBest : -1
    const n = this.ao.n
    const o = n > 0 ? -this.ao.keys[n - 1] : -1
    if (w < 0) return o
    return o < 0 || w < o ? w : o
  }

  bestBidQty(): Steps {
    const p = this.bestBid()
    return p < 0 ? 0 : this.qtyAt('bid', p)
  }

  bestAskQty(): Steps {
    const p = this.bestAsk()
    return p < 0 ? 0 : this.qtyAt('ask', p)
  }

  /** number of levels on a side */
  depth(side: BookSide): number {
    return side === 'bid' ? this.bCount + this.bo.n : this.aCount + this.ao.n
  }

  qtyAt(side: BookSide, price: Ticks): Steps {
    const i = price - this.base
    const inWindow = this.placed && i >= 0 && i < this.W
    if (side === 'bid') return inWindow ? this.bq[i] : this.bo.get(price)
    return inWindow ? this.aq[i] : this.ao.get(-price)
  }

  forEachLevel(side: BookSide, fn: (price: Ticks, qty: Steps) => boolean | void): void {
    const base = this.base
    if (side === 'bid') {
      const q = this.bq
      const o = this.bo
      let i = this.bBest
      let j = o.n - 1
      for (;;) {
        const wp = i >= 0 ? base + i : -1
        const op = j >= 0 ? o.keys[j] : -1
        if (wp < 0 && op < 0) return
        if (wp > op) {
          if (fn(wp, q[i]) === false) return
          i--
          while (i >= 0 && q[i] === 0) i--
        } else {
          if (fn(op, o.qtys[j]) === false) return
          j--
        }
      }
    } else {
      const q = this.aq
      const o = this.ao
      const W = this.W
      let i = this.aBest
      let j = o.n - 1
      for (;;) {
        const wp = i >= 0 ? base + i : -1
        const op = j >= 0 ? -o.keys[j] : -1
        if (wp < 0 && op < 0) return
        if (wp >= 0 && (op < 0 || wp < op)) {
          if (fn(wp, q[i]) === false) return
          i++
          while (i < W && q[i] === 0) i++
          if (i >= W) i = -1
        } else {
          if (fn(op, o.qtys[j]) === false) return
          j--
        }
      }
    }
  }

  /** Same levels on both sides (flags and timestamps are not compared). */
  equals(other: OrderBook): boolean {
    if (this.depth('bid') !== other.depth('bid') || this.depth('ask') !== other.depth('ask')) return false
    if (this.W === other.W && this.base === other.base) {
      const a = this.bq
      const b = other.bq
      const c = this.aq
      const d = other.aq
      for (let i = 0; i < this.W; i++) if (a[i] !== b[i] || c[i] !== d[i]) return false
      return this.bo.equals(other.bo) && this.ao.equals(other.ao)
    }
    const x = this.dump()
    const y = other.dump()
    for (const k of ['bids', 'asks'] as const) {
      for (let i = 0; i < x[k].length; i++) if (x[k][i][0] !== y[k][i][0] || x[k][i][1] !== y[k][i][1]) return false
    }
    return true
  }

  /** Canonical dump, best level first on each side. */
  dump(maxLevels = Number.MAX_SAFE_INTEGER): BookDump {
    const out: BookDump = {bids: [], asks: []}
    if (maxLevels <= 0) return out
    this.forEachLevel('bid', (p, q) => out.bids.push([p, q]) < maxLevels)
    this.forEachLevel('ask', (p, q) => out.asks.push([p, q]) < maxLevels)
    return out
  }

  /** A deep copy of the levels and flags. */
  clone(): OrderBook {
    const c = new OrderBook({window: this.W, capacity: Math.max(this.bo.n, this.ao.n, 4)})
    c.base = this.base
    c.placed = this.placed
    c.bq.set(this.bq)
    c.aq.set(this.aq)
    c.bCount = this.bCount
    c.aCount = this.aCount
    c.bBest = this.bBest
    c.aBest = this.aBest
    c.bo.copyFrom(this.bo)
    c.ao.copyFrom(this.ao)
    c.synced = this.synced
    c.stale = this.stale
    c.lastUpdateTs = this.lastUpdateTs
    return c
  }

  // ---- window management --------------------------------------------------------

  /** centre the (empty) window on a price */
  private place(centre: Ticks): void {
    this.base = Math.max(0, centre - (this.W >> 1))
    this.placed = true
  }

  /** re-centre when the top of book has drifted into the outer eighth of the window */
  private maybeRecenter(): void {
    const b = this.bestBid()
    const a = this.bestAsk()
    const top = b >= 0 ? b : a
    if (top < 0) return
    const W = this.W
    const ref = top - this.base
    if (ref >= W >> 3 && ref < W - (W >> 3)) return
    const centre = b >= 0 && a >= 0 ? Math.floor((b + a) / 2) : b >= 0 ? b : a
    if (centre < 0) return
    const newBase = Math.max(0, centre - (W >> 1))
    if (newBase === this.base) return
    const d = this.dump()
    this.clear()
    this.base = newBase
    this.placed = true
    for (const [p, q] of d.bids) this.setBid(p, q)
    for (const [p, q] of d.asks) this.setAsk(p, q)
  }
}
