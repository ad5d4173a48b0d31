/**
 * The book and its sync on real Binance USDⓈ-M data: the ETHUSDT 2024-07-18/19 capture
 * (two files, one gap-free stream). ETHUSDT's grid: tickSize 0.01, stepSize 0.001.
 */
import {beforeAll, describe, expect, it} from 'vitest'
import type {OrderBook} from '../../src/lib/book/book.js'
import {DepthSync} from '../../src/lib/book/sync.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import type {DepthEvent, Level, MarketEvent, SnapshotEvent, TickerEvent} from '../../src/lib/market/events.js'
import {newRawStats, readRawAll} from '../../src/lib/record/raw-reader.js'
import {ETH_JULY, sharedData} from '../support/shared-data.js'

const inst = new Instrument({symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5'})

let events: MarketEvent[]
/** depth events in stream order, and the snapshot */
let depths: DepthEvent[]
let snapshot: SnapshotEvent
/** position of the snapshot among depth events: it comes after depths[0..snapAt) */
let snapAt: number

beforeAll(async () => {
  const stats = newRawStats()
  events = await readRawAll(ETH_JULY.map((f) => sharedData(f)), {stats})
  expect(stats).toEqual({files: 2, lines: 69_913, events: 69_913, ignored: {}})
  depths = []
  for (const ev of events) {
    if (ev.kind === 'depth') depths.push(ev)
    else if (ev.kind === 'snapshot') {
      snapshot = ev
      snapAt = depths.length
    }
  }
})

function counts(evs: MarketEvent[]): Record<string, number> {
  const c: Record<string, number> = {}
  for (const e of evs) c[e.kind] = (c[e.kind] ?? 0) + 1
  return c
}

describe('ETHUSDT 2024-07-18/19 replay through reader + sync', () => {
  it('reads the expected stream', () => {
    expect(counts(events)).toEqual({depth: 8929, ticker: 47_328, trade: 13_655, snapshot: 1})
    expect(snapshot.lastUpdateId).toBe(4_984_028_386_786)
    expect(snapshot.bids.length).toBe(1000)
    expect(snapAt).toBe(7)
  })

  it('syncs with zero gaps/resyncs, and the top of book equals every bookTicker with the same u', () => {
    const tickers = new Map<number, TickerEvent>()
    for (const ev of events) if (ev.kind === 'ticker' && ev.u !== undefined) tickers.set(ev.u, ev)
    const sync = new DepthSync(inst)
    const results: Record<string, number> = {}
    let checkpoints = 0
    const mismatches: string[] = []
    let readyAfterSync = true
    for (const ev of events) {
      const r = sync.feed(ev)
      results[r] = (results[r] ?? 0) + 1
      if (ev.kind !== 'depth' || r !== 'applied') continue
      if (!sync.book.ready) readyAfterSync = false
      // bookTicker with this u may come before or after this depth line: look it up by u
      const t = tickers.get(ev.u as number)
      if (!t) continue
      checkpoints++
      const b = sync.book
      const want = [inst.priceToTicks(t.bidPrice), inst.qtyToSteps(t.bidQty), inst.priceToTicks(t.askPrice), inst.qtyToSteps(t.askQty)]
      const got = [b.bestBid(), b.bestBidQty(), b.bestAsk(), b.bestAskQty()]
      if (want.join() !== got.join()) mismatches.push(`u=${ev.u}: book ${got} ticker ${want}`)
    }
    // 7 depth events before the snapshot are buffered; 'applied' = the snapshot + 8922 depth events
    expect(results).toEqual({buffered: 7, applied: 8923, ignored: 60_983})
    expect(sync.counters).toEqual({snapshots: 1, applied: 8924, buffered: 7, dropped: 5, gaps: 0, resyncs: 0, gridErrors: 0, crossed: 0, staleEvents: 0, bufferOverflow: 0})
    expect(readyAfterSync).toBe(true)
    expect(checkpoints).toBe(834)
    expect(mismatches).toEqual([])
    expect(sync.book.ready).toBe(true)
    expect([sync.orderBook.depth('bid'), sync.orderBook.depth('ask')]).toEqual([4685, 4357])
  })
})

// ---- injected faults ---------------------------------------------------------------

/** Fault-free books after selected depth indices (stream order, snapshot fed at its place). */
function referenceBooks(at: Set<number>): {books: Map<number, OrderBook>; final: OrderBook} {
  const sync = new DepthSync(inst)
  const books = new Map<number, OrderBook>()
  for (let i = 0; i < depths.length; i++) {
    if (i === snapAt) sync.onSnapshot(snapshot)
    sync.onDepth(depths[i])
    if (at.has(i)) books.set(i, sync.orderBook.clone())
  }
  expect(sync.gaps).toBe(0)
  return {books, final: sync.orderBook}
}

/** A REST-like snapshot of a book state, with lastUpdateId = u of the last event it contains. */
function snapshotOf(book: OrderBook, lastUpdateId: number): SnapshotEvent {
  const bids: Level[] = []
  const asks: Level[] = []
  book.forEachLevel('bid', (p, q) => {
    bids.push([inst.ticksToPrice(p), inst.stepsToQty(q)])
  })
  book.forEachLevel('ask', (p, q) => {
    asks.push([inst.ticksToPrice(p), inst.stepsToQty(q)])
  })
  return {kind: 'snapshot', symbol: 'ETHUSDT', ts: 0, localTs: 0, lastUpdateId, bids, asks}
}

interface Fault {
  name: string
  /** the delivered order of depth indices; the fault sits at index F = 4000 */
  order: (n: number) => number[]
  /** after delivering this original depth index (the first time), the fresh snapshot arrives */
  snapshotAfter: number
  /** the original index whose delivery reveals the gap */
  gapAt: number
}

const F = 4000
const range = (a: number, b: number) => Array.from({length: b - a}, (_, i) => a + i)
const FAULTS: Fault[] = [
  {name: 'a dropped event', order: (n) => [...range(0, F), ...range(F + 1, n)], gapAt: F + 1, snapshotAfter: F + 1},
  {name: 'a duplicated event', order: (n) => [...range(0, F + 1), F, ...range(F + 1, n)], gapAt: F, snapshotAfter: F + 3},
  {name: 'an out-of-order pair', order: (n) => [...range(0, F), F + 1, F, ...range(F + 2, n)], gapAt: F + 1, snapshotAfter: F + 5},
  {name: 'a disconnect (40 events lost, stream resumes)', order: (n) => [...range(0, F), ...range(F + 40, n)], gapAt: F + 40, snapshotAfter: F + 45},
]

describe('ETHUSDT replay with injected faults', () => {
  for (const fault of FAULTS) {
    it(`${fault.name}: detected, one counted resync, recovered by a fresh snapshot, final book equals the fault-free one`, () => {
      const {books, final} = referenceBooks(new Set([fault.snapshotAfter]))
      const order = fault.order(depths.length)
      const sync = new DepthSync(inst)
      const seen = new Set<number>()
      let gapSeenAt = -1
      let notReadyWhileResyncing = true
      let snapshotFed = false
      for (let k = 0; k < order.length; k++) {
        const i = order[k]
        if (i === snapAt && !seen.has(i)) sync.onSnapshot(snapshot)
        const r = sync.onDepth(depths[i])
        if (r === 'gap') {
          expect(gapSeenAt).toBe(-1)
          gapSeenAt = i
        }
        if (gapSeenAt >= 0 && !snapshotFed && sync.book.ready) notReadyWhileResyncing = false
        if (i === fault.snapshotAfter && !seen.has(i)) {
          expect(sync.needsSnapshot).toBe(true)
          const ref = books.get(i) as OrderBook
          expect(sync.onSnapshot(snapshotOf(ref, depths[i].u as number))).toBe('applied')
          snapshotFed = true
          expect(sync.book.ready).toBe(true)
          expect(sync.orderBook.equals(ref)).toBe(true)
        }
        seen.add(i)
      }
      expect(gapSeenAt).toBe(fault.gapAt)
      expect(notReadyWhileResyncing).toBe(true)
      expect(snapshotFed).toBe(true)
      expect(sync.counters).toMatchObject({gaps: 1, resyncs: 1, snapshots: 2, gridErrors: 0})
      expect(sync.needsSnapshot).toBe(false)
      expect(sync.book.ready).toBe(true)
      expect(sync.orderBook.equals(final)).toBe(true)
      expect(sync.orderBook.dump()).toEqual(final.dump())
    })
  }

  it('without a fresh snapshot the faulted stream stays unsynced (the fault is never silently absorbed)', () => {
    const sync = new DepthSync(inst)
    const order = FAULTS[0].order(depths.length)
    for (const i of order) {
      if (i === snapAt) sync.onSnapshot(snapshot)
      sync.onDepth(depths[i])
    }
    expect(sync.needsSnapshot).toBe(true)
    expect(sync.book.ready).toBe(false)
    expect(sync.counters.resyncs).toBe(1)
    expect(sync.bufferedCount).toBe(depths.length - F - 1)
  })
})
