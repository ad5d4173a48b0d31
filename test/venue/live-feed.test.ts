import {afterEach, describe, expect, it} from 'vitest'
import {Instrument} from '../../src/lib/domain/instrument.js'
import type {Level, MarketEvent} from '../../src/lib/market/events.js'
import {LiveFeed} from '../../src/lib/venue/binance/live-feed.js'
import type {MarkPriceUpdate} from '../../src/lib/venue/binance/parse.js'
import {seededRandom} from '../../src/lib/venue/binance/http.js'
import {applyBook, BTCUSDT, ETHUSDC, nextEvent, scriptedMarket, startVenue, type TestVenue} from '../support/venue.js'

const inst = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})
const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!()
})

function ticks(levels: Level[]): [number, number][] {
  return levels.map(([p, q]) => [inst.priceToTicks(p), inst.qtyToSteps(q)])
}

/** a depth event that marks the end of a batch: a unique far bid level */
function marker(n: number): MarketEvent {
  return {kind: 'depth', symbol: 'ETHUSDC', ts: 0, localTs: 0, bids: [['1.00', `${n}.000`]], asks: []}
}
const isMarker = (n: number) => (ev: MarketEvent) => ev.kind === 'depth' && ev.bids.some(([p, q]) => p === '1.00' && q === `${n}.000`)

async function setup(): Promise<{v: TestVenue; feed: LiveFeed; got: MarketEvent[]; script: MarketEvent[]}> {
  const v = await startVenue({instruments: [ETHUSDC]})
  cleanup.push(() => v.close())
  const script = scriptedMarket({n: 400, seed: 3})
  v.venue.publish(script[0])
  const feed = new LiveFeed({endpoints: v.endpoints, instruments: [inst], trades: 'trade', ticker: true, ws: {backoffBaseMs: 10, backoffMaxMs: 40, random: seededRandom(1)}, snapshotRetryBaseMs: 10, snapshotRetryMaxMs: 40, random: seededRandom(2)})
  cleanup.push(() => feed.stop())
  const got: MarketEvent[] = []
  feed.on('event', (ev) => got.push(ev))
  await feed.start()
  return {v, feed, got, script}
}

function expectSameBook(v: TestVenue, feed: LiveFeed, got: MarketEvent[]): void {
  const venue = v.venue.book('ETHUSDC')
  // the feed's integer book and the emitted event stream both equal the venue's book
  expect(feed.depthSync('ETHUSDC').orderBook.dump()).toEqual({bids: ticks(venue.bids), asks: ticks(venue.asks)})
  expect(applyBook(got)).toEqual({bids: venue.bids, asks: venue.asks})
  expect(feed.book('ETHUSDC').ready).toBe(true)
}

describe('LiveFeed against the loopback venue', () => {
  it('syncs from snapshot + diffs and keeps exactly the venue book; trades and tickers pass through', async () => {
    const {v, feed, got, script} = await setup()
    expect(got[0]).toMatchObject({kind: 'snapshot', symbol: 'ETHUSDC', lastUpdateId: v.venue.book('ETHUSDC').lastUpdateId + 1})
    const done = nextEvent<[MarketEvent]>(feed, 'event', isMarker(1))
    for (const ev of script.slice(1)) v.venue.publish(ev)
    v.venue.publish(marker(1))
    await done
    expectSameBook(v, feed, got)
    expect(feed.stats()).toMatchObject({resyncs: 0, gaps: 0, reconnects: 0, snapshots: 1})
    expect(got.filter((e) => e.kind === 'ticker').length).toBe(script.filter((e) => e.kind === 'ticker').length)
  })

  it('a dropped diff is a gap: resync with a fresh snapshot, emitted, book exact again', async () => {
    const {v, feed, got, script} = await setup()
    const resync = nextEvent(feed, 'resync')
    for (const ev of script.slice(1, 100)) v.venue.publish(ev)
    v.venue.dropNext(1)
    v.venue.publish({kind: 'depth', symbol: 'ETHUSDC', ts: 0, localTs: 0, bids: [['2999.00', '5.000']], asks: []})
    for (const ev of script.slice(100, 200)) v.venue.publish(ev)
    expect((await resync)[0]).toEqual({symbol: 'ETHUSDC', reason: 'gap'})
    const done = nextEvent<[MarketEvent]>(feed, 'event', isMarker(2))
    // after the resync snapshot, more diffs
    await nextEvent<[MarketEvent]>(feed, 'event', (e) => e.kind === 'snapshot')
    for (const ev of script.slice(200)) v.venue.publish(ev)
    v.venue.publish(marker(2))
    await done
    expectSameBook(v, feed, got)
    expect(feed.stats()).toMatchObject({resyncs: 1, gaps: 1, snapshots: 2})
    expect(got.filter((e) => e.kind === 'snapshot').length).toBe(2)
  })

  it('a reconnect is always a resync', async () => {
    const {v, feed, got, script} = await setup()
    for (const ev of script.slice(1, 150)) v.venue.publish(ev)
    const gap = nextEvent(feed, 'gap')
    const snap = nextEvent<[MarketEvent]>(feed, 'event', (e) => e.kind === 'snapshot')
    v.venue.disconnectAll()
    expect((await gap)[0]).toMatchObject({symbol: 'ETHUSDC'})
    await snap
    const done = nextEvent<[MarketEvent]>(feed, 'event', isMarker(3))
    for (const ev of script.slice(150)) v.venue.publish(ev)
    v.venue.publish(marker(3))
    await done
    expectSameBook(v, feed, got)
    expect(feed.stats()).toMatchObject({resyncs: 1, snapshots: 2})
    expect(feed.stats().reconnects).toBeGreaterThanOrEqual(1)
  })

  it('survives duplicated, reordered and delayed messages by resyncing', async () => {
    const {v, feed, got, script} = await setup()
    v.venue.setFaults({duplicate: 0.05, reorder: 0.05, delayMs: 2})
    for (const ev of script.slice(1)) v.venue.publish(ev)
    v.venue.setFaults({})
    // a clean tail; then wait (on feed events) until the book is whole and equal to the venue's
    v.venue.publish(marker(4))
    const want = () => {
      const b = v.venue.book('ETHUSDC')
      return {bids: ticks(b.bids), asks: ticks(b.asks)}
    }
    const whole = () => feed.book('ETHUSDC').ready && JSON.stringify(feed.depthSync('ETHUSDC').orderBook.dump()) === JSON.stringify(want())
    // (after a resync the book is whole only once a diff bridges the snapshot: keep the market moving)
    for (let k = 10; !whole() && k < 200; k++) {
      const next = nextEvent<[MarketEvent]>(feed, 'event', () => true, 20_000)
      v.venue.publish(marker(k))
      await next
    }
    expectSameBook(v, feed, got)
    expect(v.venue.stats.duplicated + v.venue.stats.reordered).toBeGreaterThan(0)
    expect(feed.stats().gaps).toBeGreaterThan(0)
  })

  it("output 'book': every frame scanned once into the one book; trades in ticks and steps; a gap resyncs the same book object", async () => {
    const v = await startVenue({instruments: [ETHUSDC]})
    cleanup.push(() => v.close())
    const script = scriptedMarket({n: 300, seed: 5})
    v.venue.publish(script[0])
    const feed = new LiveFeed({endpoints: v.endpoints, instruments: [inst], trades: 'trade', output: 'book', ws: {backoffBaseMs: 10, backoffMaxMs: 40, random: seededRandom(1)}, snapshotRetryBaseMs: 10, snapshotRetryMaxMs: 40, random: seededRandom(2)})
    cleanup.push(() => feed.stop())
    const sync = feed.depthSync('ETHUSDC')
    const trades: [string, number, number][] = []
    let books = 0
    let before = 0
    feed.on('book', () => books++)
    // every frame is announced ('arrive') before it is read: a frame's 'before-book' comes in
    // the same turn as its 'arrive'; only the REST snapshots' come outside a frame
    let inFrame = false
    let outside = 0
    feed.on('arrive', () => {
      inFrame = true
      queueMicrotask(() => (inFrame = false))
    })
    feed.on('before-book', () => {
      before++
      if (!inFrame) outside++
    })
    feed.on('trade', (sc) => void trades.push([sc.side, sc.price, sc.qty]))
    const strings: MarketEvent[] = []
    feed.on('event', (ev) => strings.push(ev))
    await feed.start()
    const resync = nextEvent(feed, 'resync')
    for (const ev of script.slice(1, 100)) v.venue.publish(ev)
    v.venue.dropNext(1)
    v.venue.publish({kind: 'depth', symbol: 'ETHUSDC', ts: 0, localTs: 0, bids: [['2999.00', '5.000']], asks: []})
    for (const ev of script.slice(100)) v.venue.publish(ev)
    await resync
    const want = () => {
      const b = v.venue.book('ETHUSDC')
      return {bids: ticks(b.bids), asks: ticks(b.asks)}
    }
    const whole = () => sync.book.ready && JSON.stringify(sync.orderBook.dump()) === JSON.stringify(want())
    for (let k = 10; !whole() && k < 200; k++) {
      const next = nextEvent(feed, 'book', () => true, 20_000)
      v.venue.publish(marker(k))
      await next
    }
    expect(feed.depthSync('ETHUSDC')).toBe(sync)
    expect(sync.orderBook.dump()).toEqual(want())
    expect(books).toBeGreaterThan(30)
    expect(before).toBeGreaterThanOrEqual(books)
    expect(outside).toBe(feed.stats().snapshots)
    const published = script.filter((e) => e.kind === 'trade')
    expect(trades).toEqual(published.map((e) => (e.kind === 'trade' ? [e.side, inst.priceToTicks(e.price), inst.qtyToSteps(e.qty)] : [])))
    // nothing went the JSON.parse way: every frame was the scanner's
    expect(strings).toEqual([])
    expect(feed.stats()).toMatchObject({resyncs: 1, gaps: 1, snapshots: 2})
  })

  it("option marks: <symbol>@markPrice@1s joins the trades on /market; each markPriceUpdate is a `mark`, a bad one a counted `bad` frame; the book, its trades and its events untouched", async () => {
    const v = await startVenue({instruments: [ETHUSDC, BTCUSDT]})
    cleanup.push(() => v.close())
    const script = scriptedMarket({n: 120, seed: 5})
    v.venue.publish(script[0])
    const feed = new LiveFeed({endpoints: v.endpoints, instruments: [inst], trades: 'trade', output: 'book', marks: true, ws: {backoffBaseMs: 10, backoffMaxMs: 40, random: seededRandom(1)}, snapshotRetryBaseMs: 10, snapshotRetryMaxMs: 40, random: seededRandom(2)})
    cleanup.push(() => feed.stop())
    expect(feed.marketClient?.url).toBe(`${v.wsUrl}/market/stream?streams=ethusdc@trade/ethusdc@markPrice@1s`)
    const marks: [MarkPriceUpdate, number][] = []
    const bad: {symbol?: string; detail: string}[] = []
    const strings: MarketEvent[] = []
    const trades: [string, number, number][] = []
    feed.on('mark', (m, localTs) => void marks.push([m, localTs]))
    feed.on('bad', (b) => void bad.push(b))
    feed.on('event', (ev) => void strings.push(ev))
    feed.on('trade', (sc) => void trades.push([sc.side, sc.price, sc.qty]))
    await feed.start()
    for (let i = 0; i < 100 && v.venue.clientCount('market') < 1; i++) await new Promise((r) => setTimeout(r, 20))
    const mark = (p: unknown, sym = 'ETHUSDC', extra: Record<string, unknown> = {}) => v.venue.broadcastStream(`${sym.toLowerCase()}@markPrice@1s`, JSON.stringify({e: 'markPriceUpdate', E: 1_700_000_000_123, s: sym, p, ap: '1', i: '1', P: '1', r: '0.0001', T: 1_700_000_100_000, ...extra}), 'market')
    const last = nextEvent<[MarkPriceUpdate, number]>(feed, 'mark', (m) => m.markPrice === '3001.25')
    mark('3000.105')
    // a zero, negative, exponent, empty, numeric or missing mark: bad frames, never a `mark`
    for (const p of ['0.00000000', '-3000.00', '3e3', '', 3000.5, undefined]) mark(p)
    // a key order the scanner cannot walk (e not first, an escape): the JSON.parse way, the same answer
    v.venue.broadcastStream('ethusdc@markPrice@1s', '{"s":"ETH\\u0055SDC","p":"3000.50","e":"markPriceUpdate","E":1700000000200}', 'market')
    // another symbol's mark (not subscribed here): nothing
    mark('60000.00', 'BTCUSDT')
    for (const ev of script.slice(1)) v.venue.publish(ev)
    mark('3001.25')
    await last
    expect(marks.map(([m]) => m)).toEqual([
      {symbol: 'ETHUSDC', ts: 1_700_000_000_123_000, markPrice: '3000.105'},
      {symbol: 'ETHUSDC', ts: 1_700_000_000_200_000, markPrice: '3000.50'},
      {symbol: 'ETHUSDC', ts: 1_700_000_000_123_000, markPrice: '3001.25'},
    ])
    expect(bad.map((b) => b.detail)).toEqual([
      'mark price: field p is not a positive decimal ("0.00000000")',
      'mark price: field p is not a positive decimal ("-3000.00")',
      'mark price: field p is not a positive decimal ("3e3")',
      'mark price: field p is not a positive decimal ("")',
      'mark price: field p is not a positive decimal (3000.5)',
      'mark price: field p is not a positive decimal (undefined)',
    ])
    // a bad mark names no symbol and leaves the book's state alone
    expect(bad.every((b) => b.symbol === undefined)).toBe(true)
    expect(feed.stats().badFrames).toBe(6)
    // the book's path is the scanner's as without marks: no string event, every trade in ticks
    expect(strings).toEqual([])
    const published = script.filter((e) => e.kind === 'trade')
    expect(trades).toEqual(published.map((e) => (e.kind === 'trade' ? [e.side, inst.priceToTicks(e.price), inst.qtyToSteps(e.qty)] : [])))
    // the depth comes on /public, its own connection: wait (bounded) until it has caught up
    const sync = feed.depthSync('ETHUSDC')
    const want = () => {
      const b = v.venue.book('ETHUSDC')
      return {bids: ticks(b.bids), asks: ticks(b.asks)}
    }
    const whole = () => sync.book.ready && JSON.stringify(sync.orderBook.dump()) === JSON.stringify(want())
    for (let k = 10; !whole() && k < 200; k++) {
      const next = nextEvent(feed, 'book', () => true, 20_000)
      v.venue.publish(marker(k))
      await next
    }
    expect(sync.orderBook.dump()).toEqual(want())
    expect(feed.stats()).toMatchObject({resyncs: 0, gaps: 0, snapshots: 1})
  })

  it('without the option (mm record, dry-run) no mark stream is asked for', () => {
    const ep = {rest: 'http://127.0.0.1:9', ws: 'ws://127.0.0.1:9', routed: true, name: 'custom' as const}
    const rec = new LiveFeed({endpoints: ep, instruments: [inst]})
    expect(rec.marketClient?.url).toBe('ws://127.0.0.1:9/market/stream?streams=ethusdc@aggTrade')
    const book = new LiveFeed({endpoints: ep, instruments: [inst], trades: 'trade', output: 'book'})
    expect(book.marketClient?.url).toBe('ws://127.0.0.1:9/market/stream?streams=ethusdc@trade')
  })
})
