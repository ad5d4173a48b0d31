import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {OrderBook} from '../../src/lib/book/book.js'
import {LevelBatch} from '../../src/lib/book/levels.js'

function batch(bids: [number, number][], asks: [number, number][]): LevelBatch {
  const b = new LevelBatch(2)
  for (const [p, q] of bids) b.pushBid(p, q)
  for (const [p, q] of asks) b.pushAsk(p, q)
  return b
}

describe('OrderBook', () => {
  it('is empty and not ready at start: best -1, qty 0', () => {
    const ob = new OrderBook()
    expect(ob.ready).toBe(false)
    expect([ob.bestBid(), ob.bestAsk(), ob.bestBidQty(), ob.bestAskQty()]).toEqual([-1, -1, 0, 0])
    expect(ob.depth('bid')).toBe(0)
    expect(ob.dump()).toEqual({bids: [], asks: []})
  })

  it('keeps both sides sorted best-first whatever the insert order', () => {
    const ob = new OrderBook({window: 4, capacity: 4})
    ob.applySnapshot(batch([[100, 5], [102, 7], [99, 1], [101, 2]], [[105, 3], [103, 4], [104, 9]]))
    expect(ob.dump()).toEqual({bids: [[102, 7], [101, 2], [100, 5], [99, 1]], asks: [[103, 4], [104, 9], [105, 3]]})
    expect([ob.bestBid(), ob.bestBidQty(), ob.bestAsk(), ob.bestAskQty()]).toEqual([102, 7, 103, 4])
    expect(ob.depth('bid')).toBe(4)
    expect(ob.depth('ask')).toBe(3)
  })

  it('sets absolute quantities, 0 deletes, deleting an absent level is a no-op', () => {
    const ob = new OrderBook()
    ob.applySnapshot(batch([[100, 5], [99, 1]], [[101, 3]]))
    ob.applyLevels(batch([[100, 8], [99, 0], [98, 0]], [[101, 0], [110, 0], [102, 6]]))
    expect(ob.dump()).toEqual({bids: [[100, 8]], asks: [[102, 6]]})
    ob.setBid(97, 0)
    ob.setAsk(250, 0)
    expect(ob.dump()).toEqual({bids: [[100, 8]], asks: [[102, 6]]})
    ob.setBid(100, 0)
    expect(ob.bestBid()).toBe(-1)
    expect(ob.bestBidQty()).toBe(0)
  })

  it('a snapshot replaces everything (zero quantities in it are ignored)', () => {
    const ob = new OrderBook()
    ob.applySnapshot(batch([[100, 5]], [[101, 3]]))
    ob.applySnapshot(batch([[90, 1], [89, 0]], [[95, 2]]))
    expect(ob.dump()).toEqual({bids: [[90, 1]], asks: [[95, 2]]})
  })

  it('qtyAt reads any level on either side, 0 when absent', () => {
    const ob = new OrderBook()
    ob.applySnapshot(batch([[100, 5], [97, 2]], [[101, 3], [120, 11]]))
    expect(ob.qtyAt('bid', 97)).toBe(2)
    expect(ob.qtyAt('bid', 98)).toBe(0)
    expect(ob.qtyAt('bid', 101)).toBe(0)
    expect(ob.qtyAt('ask', 120)).toBe(11)
    expect(ob.qtyAt('ask', 100)).toBe(0)
  })

  it('forEachLevel walks from the best outward and stops on false', () => {
    const ob = new OrderBook()
    ob.applySnapshot(batch([[100, 5], [97, 2], [98, 4]], [[101, 3], [120, 11], [110, 1]]))
    const seen: number[] = []
    ob.forEachLevel('ask', (p, q) => {
      seen.push(p, q)
      return p < 110
    })
    expect(seen).toEqual([101, 3, 110, 1])
    const bids: number[] = []
    ob.forEachLevel('bid', (p) => {
      bids.push(p)
    })
    expect(bids).toEqual([100, 98, 97])
  })

  it('crossed (bid ≥ ask) is never ready; synced and not stale is', () => {
    const ob = new OrderBook()
    ob.applySnapshot(batch([[100, 5]], [[101, 3]]))
    expect(ob.ready).toBe(false) // not synced
    ob.synced = true
    expect(ob.ready).toBe(true)
    ob.setBid(101, 1) // locked: bid == ask
    expect(ob.crossed).toBe(true)
    expect(ob.ready).toBe(false)
    ob.setBid(101, 0)
    expect(ob.ready).toBe(true)
    ob.stale = true
    expect(ob.ready).toBe(false)
  })

  it('grows past its initial capacity and keeps order (most levels outside a small window)', () => {
    const ob = new OrderBook({window: 64, capacity: 4})
    for (let i = 0; i < 5000; i++) ob.setBid((i * 7919) % 5000, i + 1)
    expect(ob.depth('bid')).toBe(5000)
    let prev = Infinity
    let n = 0
    ob.forEachLevel('bid', (p) => {
      expect(p).toBeLessThan(prev)
      prev = p
      n++
    })
    expect(n).toBe(5000)
    expect(ob.bestBid()).toBe(4999)
  })

  it('equals compares levels; clone is deep', () => {
    const a = new OrderBook()
    a.applySnapshot(batch([[100, 5]], [[101, 3]]))
    const c = a.clone()
    expect(c.equals(a)).toBe(true)
    c.setAsk(101, 4)
    expect(c.equals(a)).toBe(false)
    expect(a.bestAskQty()).toBe(3)
    c.setAsk(101, 3)
    expect(c.equals(a)).toBe(true)
    c.setAsk(102, 1)
    expect(c.equals(a)).toBe(false)
  })

  for (const window of [3, 16, 1 << 16]) {
    it(`matches a Map reference model on random update sequences (window ${window})`, () => {
      const op = fc.tuple(fc.boolean(), fc.integer({min: 0, max: 60}), fc.integer({min: 0, max: 3}), fc.boolean())
      fc.assert(
        fc.property(fc.integer({min: 0, max: 1000}), fc.array(op, {maxLength: 300}), (offset, ops) => {
          const ob = new OrderBook({window, capacity: 2})
          const ref = {bid: new Map<number, number>(), ask: new Map<number, number>()}
          const batch = new LevelBatch(2)
          for (const [isBid, p0, q, flush] of ops) {
            const side = isBid ? 'bid' : 'ask'
            const p = offset + p0
            // mix single sets and batched messages (batches re-centre the window)
            if (isBid) batch.pushBid(p, q)
            else batch.pushAsk(p, q)
            if (flush) {
              ob.applyLevels(batch)
              batch.reset()
            }
            if (q === 0) ref[side].delete(p)
            else ref[side].set(p, q)
          }
          ob.applyLevels(batch)
          const want = {
            bids: [...ref.bid.entries()].sort((x, y) => y[0] - x[0]),
            asks: [...ref.ask.entries()].sort((x, y) => x[0] - y[0]),
          }
          expect(ob.dump()).toEqual(want)
          expect(ob.depth('bid')).toBe(ref.bid.size)
          expect(ob.depth('ask')).toBe(ref.ask.size)
          expect(ob.bestBid()).toBe(want.bids[0]?.[0] ?? -1)
          expect(ob.bestBidQty()).toBe(want.bids[0]?.[1] ?? 0)
          expect(ob.bestAsk()).toBe(want.asks[0]?.[0] ?? -1)
          expect(ob.bestAskQty()).toBe(want.asks[0]?.[1] ?? 0)
          for (let p = offset - 1; p <= offset + 61; p++) {
            expect(ob.qtyAt('bid', p)).toBe(ref.bid.get(p) ?? 0)
            expect(ob.qtyAt('ask', p)).toBe(ref.ask.get(p) ?? 0)
          }
          const c = ob.clone()
          expect(c.equals(ob)).toBe(true)
          expect(c.dump()).toEqual(want)
        }),
        {numRuns: 300, seed: 42},
      )
    })
  }

  it('follows a market that drifts far from where the window was placed', () => {
    const ob = new OrderBook({window: 32})
    const b = new LevelBatch()
    b.pushBid(1000, 1)
    b.pushAsk(1001, 1)
    ob.applySnapshot(b)
    for (let p = 1000; p < 5000; p += 7) {
      b.reset()
      b.pushBid(p, 0)
      b.pushAsk(p + 1, 0)
      b.pushBid(p + 7, 2)
      b.pushAsk(p + 8, 3)
      b.pushBid(p - 500, 9) // a deep level that stays behind
      ob.applyLevels(b)
      expect([ob.bestBid(), ob.bestBidQty(), ob.bestAsk(), ob.bestAskQty()]).toEqual([p + 7, 2, p + 8, 3])
    }
    expect(ob.depth('ask')).toBe(1)
    expect(ob.depth('bid')).toBe(1 + 572)
    expect(ob.qtyAt('bid', 500)).toBe(9)
    expect(ob.dump(3).bids).toEqual([[5004, 2], [4497, 9], [4490, 9]])
  })
})
