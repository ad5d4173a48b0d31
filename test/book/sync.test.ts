import fc from 'fast-check'
import {afterEach, describe, expect, it} from 'vitest'
import {DepthSync, gridInt, memoizeLevels, NO_ID} from '../../src/lib/book/sync.js'
import {GridError} from '../../src/lib/domain/errors.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import type {DepthEvent, Level, SnapshotEvent} from '../../src/lib/market/events.js'

// tickSize 0.01, stepSize 0.001: "100.01" → 10001 ticks, "1.500" → 1500 steps
const inst = new Instrument({symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5'})

function depth(U: number, u: number, pu: number, bids: Level[] = [], asks: Level[] = [], ts = u * 1000): DepthEvent {
  return {kind: 'depth', symbol: 'ETHUSDT', ts, localTs: ts, U, u, pu, bids, asks}
}
function snap(lastUpdateId: number | undefined, bids: Level[], asks: Level[], ts = 1_000): SnapshotEvent {
  return {kind: 'snapshot', symbol: 'ETHUSDT', ts, localTs: ts, lastUpdateId, bids, asks}
}
const SNAP_BIDS: Level[] = [['100.00', '1.000'], ['99.99', '2.000']]
const SNAP_ASKS: Level[] = [['100.01', '3.000'], ['100.02', '4.000']]

/** a sync that has applied snapshot L=100 and bridging event 95..105 */
function synced(): DepthSync {
  const s = new DepthSync(inst)
  expect(s.onSnapshot(snap(100, SNAP_BIDS, SNAP_ASKS))).toBe('applied')
  expect(s.onDepth(depth(95, 105, 90, [['100.00', '1.500']]))).toBe('applied')
  return s
}

describe('DepthSync (Binance USDⓈ-M diff depth)', () => {
  it('buffers depth events until a snapshot arrives', () => {
    const s = new DepthSync(inst)
    expect(s.needsSnapshot).toBe(true)
    expect(s.onDepth(depth(90, 95, 80))).toBe('buffered')
    expect(s.onDepth(depth(96, 99, 95))).toBe('buffered')
    expect(s.bufferedCount).toBe(2)
    expect(s.book.ready).toBe(false)
    expect(s.counters.buffered).toBe(2)
  })

  it('on the snapshot drops buffered u < lastUpdateId and applies the bridging event U ≤ L ≤ u', () => {
    const s = new DepthSync(inst)
    s.onDepth(depth(90, 95, 80, [['100.00', '9.000']])) // u < L: dropped
    s.onDepth(depth(96, 104, 95, [['100.00', '7.000']])) // U ≤ 100 ≤ u: bridges
    s.onDepth(depth(105, 110, 104, [], [['100.01', '0.500']])) // pu == 104
    expect(s.onSnapshot(snap(100, SNAP_BIDS, SNAP_ASKS))).toBe('applied')
    expect(s.state).toBe('live')
    expect(s.needsSnapshot).toBe(false)
    expect(s.counters).toMatchObject({dropped: 1, applied: 2, gaps: 0, resyncs: 0, snapshots: 1})
    expect(s.book.ready).toBe(true)
    expect(s.orderBook.dump()).toEqual({bids: [[10000, 7000], [9999, 2000]], asks: [[10001, 500], [10002, 4000]]})
    expect(s.lastU).toBe(110)
    expect(s.book.lastUpdateTs).toBe(110_000)
  })

  it('drops events with u < lastUpdateId that arrive after the snapshot; u == L bridges', () => {
    const s = new DepthSync(inst)
    s.onSnapshot(snap(100, SNAP_BIDS, SNAP_ASKS))
    expect(s.state).toBe('bridging')
    expect(s.book.ready).toBe(false)
    expect(s.onDepth(depth(90, 99, 85))).toBe('dropped')
    expect(s.onDepth(depth(99, 100, 99, [], [['100.01', '0.000']]))).toBe('applied')
    expect(s.book.ready).toBe(true)
    expect(s.book.bestAsk()).toBe(10002)
  })

  it('a first event with U > lastUpdateId is a gap (snapshot too old)', () => {
    const s = new DepthSync(inst)
    s.onSnapshot(snap(100, SNAP_BIDS, SNAP_ASKS))
    expect(s.onDepth(depth(101, 120, 100))).toBe('gap')
    expect(s.needsSnapshot).toBe(true)
    expect(s.counters).toMatchObject({gaps: 1, resyncs: 1})
    expect(s.book.ready).toBe(false)
  })

  it('applies later events only while pu == previous u', () => {
    const s = synced()
    expect(s.onDepth(depth(106, 110, 105, [['99.98', '1.000']]))).toBe('applied')
    expect(s.onDepth(depth(111, 120, 110, [], [['100.03', '2.000']]))).toBe('applied')
    expect(s.orderBook.dump()).toEqual({bids: [[10000, 1500], [9999, 2000], [9998, 1000]], asks: [[10001, 3000], [10002, 4000], [10003, 2000]]})
  })

  it('without pu (a Binance spot capture) events chain by U == previous u + 1; a skipped id is a gap', () => {
    const s = synced()
    expect(s.onDepth(depth(106, 110, NO_ID, [['99.98', '1.000']]))).toBe('applied')
    expect(s.onDepth(depth(111, 120, NO_ID, [], [['100.03', '2.000']]))).toBe('applied')
    expect(s.counters).toMatchObject({gaps: 0, resyncs: 0})
    expect(s.orderBook.dump()).toEqual({bids: [[10000, 1500], [9999, 2000], [9998, 1000]], asks: [[10001, 3000], [10002, 4000], [10003, 2000]]})
    expect(s.onDepth(depth(122, 125, NO_ID))).toBe('gap')
    expect(s.lastResyncReason).toBe('U=122 != previous u+1=121 (no pu)')
    expect(s.counters).toMatchObject({gaps: 1, resyncs: 1})
  })

  it('a pu break is a counted resync: not ready, buffer restarted with the event, snapshot needed, then recovers', () => {
    const s = synced()
    expect(s.onDepth(depth(111, 120, 108, [['100.00', '5.000']]))).toBe('gap')
    expect(s.needsSnapshot).toBe(true)
    expect(s.book.ready).toBe(false)
    expect(s.counters).toMatchObject({gaps: 1, resyncs: 1})
    expect(s.lastResyncReason).toBe('pu=108 != previous u=105')
    expect(s.bufferedCount).toBe(1)
    expect(s.onDepth(depth(121, 130, 120, [], [['100.01', '1.000']]))).toBe('buffered')
    expect(s.bufferedCount).toBe(2)
    // the fresh snapshot is bridged by the buffered event 121..130
    expect(s.onSnapshot(snap(125, [['100.00', '5.000']], [['100.01', '3.000']]))).toBe('applied')
    expect(s.book.ready).toBe(true)
    expect(s.counters).toMatchObject({gaps: 1, resyncs: 1, snapshots: 2, dropped: 1})
    expect(s.orderBook.dump()).toEqual({bids: [[10000, 5000]], asks: [[10001, 1000]]})
    expect(s.onDepth(depth(131, 140, 130))).toBe('applied')
  })

  it('a gap inside the buffered replay makes the snapshot report a gap and keeps the rest buffered', () => {
    const s = new DepthSync(inst)
    s.onDepth(depth(96, 104, 95))
    s.onDepth(depth(105, 110, 103)) // pu != 104
    s.onDepth(depth(111, 115, 110))
    expect(s.onSnapshot(snap(100, SNAP_BIDS, SNAP_ASKS))).toBe('gap')
    expect(s.needsSnapshot).toBe(true)
    expect(s.bufferedCount).toBe(2)
    expect(s.counters).toMatchObject({gaps: 1, resyncs: 1})
    expect(s.onSnapshot(snap(107, SNAP_BIDS, SNAP_ASKS))).toBe('applied')
    expect(s.book.ready).toBe(true)
    expect(s.lastU).toBe(115)
  })

  it('zero quantities delete; deleting an absent level is normal', () => {
    const s = synced()
    expect(s.onDepth(depth(106, 110, 105, [['99.99', '0.000'], ['50.00', '0.000']], [['100.02', '0'], ['200.00', '0.000']]))).toBe('applied')
    expect(s.orderBook.dump()).toEqual({bids: [[10000, 1500]], asks: [[10001, 3000]]})
    expect(s.counters.gaps).toBe(0)
  })

  it('a crossed book after an update is never ready, and is counted', () => {
    const s = synced()
    expect(s.onDepth(depth(106, 110, 105, [['100.01', '1.000']]))).toBe('applied')
    expect(s.book.bestBid()).toBe(10001)
    expect(s.book.ready).toBe(false)
    expect(s.counters.crossed).toBe(1)
    expect(s.onDepth(depth(111, 112, 110, [['100.01', '0.000']]))).toBe('applied')
    expect(s.book.ready).toBe(true)
    expect(s.counters.crossed).toBe(1)
  })

  it('checkStale: no applied update for more than staleMs marks the book not ready until the next update', () => {
    const s = synced() // last update recv time = ts = 105_000 µs
    expect(s.checkStale(105_000 + 500_000, 500)).toBe(false)
    expect(s.book.ready).toBe(true)
    expect(s.checkStale(105_000 + 500_001, 500)).toBe(true)
    expect(s.book.ready).toBe(false)
    expect(s.checkStale(105_000 + 900_000, 500)).toBe(true)
    expect(s.counters.staleEvents).toBe(1)
    expect(s.onDepth(depth(106, 110, 105), 700_000)).toBe('applied')
    expect(s.book.ready).toBe(true)
    expect(s.checkStale(1_200_000, 500)).toBe(false)
    expect(s.checkStale(1_200_001, 500)).toBe(true)
    expect(s.counters.staleEvents).toBe(2)
    // nothing to be stale about before any snapshot
    expect(new DepthSync(inst).checkStale(1e12, 1)).toBe(false)
  })

  it('an off-grid price is a venue-message error: counted, resynced, the message not applied', () => {
    const s = synced()
    expect(s.onDepth(depth(106, 110, 105, [['99.995', '1.000']]))).toBe('gap')
    expect(s.counters).toMatchObject({gridErrors: 1, resyncs: 1, gaps: 0})
    expect(s.needsSnapshot).toBe(true)
    expect(s.book.qtyAt('bid', 9999)).toBe(2000)
    expect(s.onDepth(depth(111, 120, 110, [], [['1.0001', '1.000']]))).toBe('dropped') // while awaiting: just dropped
    expect(s.onDepth(depth(121, 130, 120, [['abc', '1.000']]))).toBe('dropped')
    expect(s.counters.gridErrors).toBe(3)
    expect(s.counters.resyncs).toBe(1)
  })

  it('an off-grid snapshot asks for another and keeps the buffered events', () => {
    const s = new DepthSync(inst)
    s.onDepth(depth(96, 104, 95))
    expect(s.onSnapshot(snap(100, [['100.001', '1.000']], SNAP_ASKS))).toBe('gap')
    expect(s.counters).toMatchObject({gridErrors: 1, resyncs: 1})
    expect(s.bufferedCount).toBe(1)
    expect(s.onSnapshot(snap(100, SNAP_BIDS, SNAP_ASKS))).toBe('applied')
    expect(s.book.ready).toBe(true)
  })

  it('Tardis-style id-less events: a snapshot replaces the book, updates apply', () => {
    const s = new DepthSync(inst)
    const upd = (bids: Level[], asks: Level[], ts: number): DepthEvent => ({kind: 'depth', symbol: 'ETHUSDT', ts, localTs: ts, bids, asks})
    expect(s.onDepth(upd([['100.00', '1.000']], [], 1))).toBe('dropped') // nothing to apply onto yet
    expect(s.onSnapshot(snap(undefined, SNAP_BIDS, SNAP_ASKS, 5))).toBe('applied')
    expect(s.book.ready).toBe(true)
    expect(s.onDepth(upd([['99.99', '0']], [['100.01', '0.250']], 6))).toBe('applied')
    expect(s.orderBook.dump()).toEqual({bids: [[10000, 1000]], asks: [[10001, 250], [10002, 4000]]})
    expect(s.onSnapshot(snap(undefined, [['90.00', '1.000']], [['91.00', '1.000']], 7))).toBe('applied')
    expect(s.orderBook.dump()).toEqual({bids: [[9000, 1000]], asks: [[9100, 1000]]})
    expect(s.book.lastUpdateTs).toBe(7)
    expect(s.counters).toMatchObject({gaps: 0, resyncs: 0, snapshots: 2, applied: 1, dropped: 1})
  })

  it('feed routes snapshot and depth, ignores trade and ticker', () => {
    const s = new DepthSync(inst)
    expect(s.feed({kind: 'trade', symbol: 'ETHUSDT', ts: 1, localTs: 1, id: '1', side: 'buy', price: '1.00', qty: '1.000'})).toBe('ignored')
    expect(s.feed({kind: 'ticker', symbol: 'ETHUSDT', ts: 1, localTs: 1, u: 1, bidPrice: '1.00', bidQty: '1.000', askPrice: '1.01', askQty: '1.000'})).toBe('ignored')
    expect(s.feed(depth(96, 104, 95))).toBe('buffered')
    expect(s.feed(snap(100, SNAP_BIDS, SNAP_ASKS))).toBe('applied')
    expect(s.book.ready).toBe(true)
  })

  it('the pre-snapshot buffer is bounded: the oldest events go first, counted', () => {
    const s = new DepthSync(inst, {maxBuffer: 3})
    for (let i = 0; i < 5; i++) s.onDepth(depth(10 * i + 1, 10 * i + 10, 10 * i))
    expect(s.bufferedCount).toBe(3)
    expect(s.counters.bufferOverflow).toBe(2)
    expect(s.onSnapshot(snap(25, SNAP_BIDS, SNAP_ASKS))).toBe('applied')
    expect(s.lastU).toBe(50)
  })
})

describe('memoizeLevels (calibrate workers replay the same event objects once per point)', () => {
  afterEach(() => memoizeLevels(false))

  // buffering before the snapshot, the bridge, a gap (the offending event kept), an
  // off-grid price, a malformed level (TypeError path), a snapshot with a bad level
  const stream = (): (DepthEvent | SnapshotEvent)[] => [
    depth(90, 95, 80, [['100.00', '9.000']]),
    depth(96, 104, 95, [['100.00', '7.000']], [['100.03', '1.000']]),
    snap(100, SNAP_BIDS, SNAP_ASKS),
    depth(105, 110, 104, [], [['100.01', '0.500']]),
    depth(112, 115, 111, [['99.98', '2.500']]),
    snap(0, [['100.001', '1.000']], SNAP_ASKS),
    snap(113, SNAP_BIDS, SNAP_ASKS),
    depth(116, 120, 115, [['99.995', '1.000']]),
    depth(121, 125, 120, [[undefined as unknown as string, '1.000']]),
    snap(125, [['100.10', '1.000']], [['100.20', '2.000']]),
    depth(124, 130, 123, [['100.10', '0.500']], [['100.20', '1.500'], ['100.30', '0.250']]),
  ]
  const play = (events: (DepthEvent | SnapshotEvent)[], instrument = inst) => {
    const s = new DepthSync(instrument)
    const results = events.map((ev) => s.feed(ev))
    return {results, counters: {...s.counters}, book: s.orderBook.dump(), lastGridError: s.lastGridError, state: s.state, lastU: s.lastU}
  }

  it('a second replay of the same events gives exactly what plain conversion gives', () => {
    const events = stream()
    const plain = play(events)
    expect(plain.counters).toMatchObject({gridErrors: 3, gaps: 1, snapshots: 3})
    expect(plain.book).toEqual({bids: [[10010, 500]], asks: [[10020, 1500], [10030, 250]]})
    memoizeLevels(true)
    expect(play(events)).toEqual(plain) // converts and keeps
    expect(play(events)).toEqual(plain) // from the memo
    expect(play(stream())).toEqual(plain) // other objects, same content
  })

  it('is keyed by event object and grid: a coarser tick converts afresh', () => {
    const coarse = new Instrument({symbol: 'ETHUSDT', tickSize: '0.1', stepSize: '0.001', minQty: '0.001', minNotional: '5'})
    const events = stream()
    const plain = play(events)
    const plainCoarse = play(events, coarse)
    expect(plainCoarse.counters.gridErrors).toBe(8)
    memoizeLevels(true)
    play(events)
    expect(play(events, coarse)).toEqual(plainCoarse)
    expect(play(events)).toEqual(plain)
    // the memo is used: a level changed in place after the first pass is not read again
    const ev = events[10] as DepthEvent
    ev.asks[1] = ['100.30', '9.000']
    expect(play(events).book.asks).toEqual([[10020, 1500], [10030, 250]])
  })

  it('is bounded: past maxLevels kept, events convert as without it', () => {
    memoizeLevels(true, 2)
    const events = stream()
    play(events) // keeps only the first event's level
    const ev = events[10] as DepthEvent
    ev.asks[1] = ['100.30', '9.000']
    expect(play(events).book.asks).toEqual([[10020, 1500], [10030, 9000]])
  })
})

describe('gridInt (the JSON path per-level conversion)', () => {
  const grids = [
    new Instrument({symbol: 'A', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5'}),
    new Instrument({symbol: 'B', tickSize: '0.10', stepSize: '1', minQty: '1', minNotional: '5'}),
    new Instrument({symbol: 'C', tickSize: '0.005', stepSize: '0.25', minQty: '0.25', minNotional: '5'}),
    new Instrument({symbol: 'D', tickSize: '5', stepSize: '0.0001', minQty: '0.0001', minNotional: '5'}),
  ]
  const decimalish = fc.oneof(
    fc.tuple(fc.nat({max: 99_999}), fc.stringMatching(/^[0-9]{0,5}$/), fc.boolean()).map(([i, f, dot]) => (dot ? `${i}.${f}` : `${i}`)),
    fc.constantFrom('', '.', '.5', '1..2', '-1', '1e3', ' 1', '1,0', '0x10', '١', '99999999999999999999.00', '7.'),
  )
  const outcome = (f: () => number) => {
    try {
      return f()
    } catch (e) {
      return e instanceof GridError ? 'GridError' : `other ${(e as Error).name}`
    }
  }
  it('equals Instrument.priceToTicks/qtyToSteps(s, "exact") on any input, errors included', () => {
    fc.assert(
      fc.property(fc.constantFrom(...grids), decimalish, (inst, s) => {
        expect(outcome(() => gridInt(s, inst.priceDecimals, inst.tickUnits))).toEqual(outcome(() => inst.priceToTicks(s, 'exact')))
        expect(outcome(() => gridInt(s, inst.qtyDecimals, inst.stepUnits))).toEqual(outcome(() => inst.qtyToSteps(s, 'exact')))
      }),
      {numRuns: 5000, seed: 7},
    )
  })
})
