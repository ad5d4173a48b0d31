import {mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gunzipSync, gzipSync} from 'node:zlib'
import {describe, expect, it} from 'vitest'
import type {MarketEvent} from '../../src/lib/market/events.js'
import {readMeta} from '../../src/lib/record/meta.js'
import {listTardisFiles, readTardis, readTardisFile} from '../../src/lib/record/tardis-reader.js'
import {periodNames, TardisWriter} from '../../src/lib/record/tardis-writer.js'
import {applyBook, scriptedMarket} from '../support/venue.js'
import {readRaw} from '../../src/lib/record/raw-reader.js'
import {sharedData} from '../support/shared-data.js'

const tmp = () => mkdtempSync(join(tmpdir(), 'mm-tardis-'))

async function all(it: AsyncIterable<MarketEvent>): Promise<MarketEvent[]> {
  const out: MarketEvent[] = []
  for await (const ev of it) out.push(ev)
  return out
}

/** what a Tardis round trip keeps: everything but the Binance ids */
function strip(ev: MarketEvent): MarketEvent {
  const e = {...ev} as Record<string, unknown>
  delete e.U
  delete e.u
  delete e.pu
  delete e.lastUpdateId
  return e as unknown as MarketEvent
}

const HOUR = 3_600_000_000 // µs
const T0 = 1_767_225_600_000_000 // 2026-01-01T00:00:00Z

describe('Tardis writer → reader', () => {
  it('round-trips every event exactly, strings untouched, in local_timestamp order', async () => {
    const root = tmp()
    const events: MarketEvent[] = [
      {kind: 'snapshot', symbol: 'ETHUSDC', ts: T0 + 10, localTs: T0 + 20, lastUpdateId: 5, bids: [['3000.10', '1.000'], ['2999.9', '0.00100000']], asks: [['3000.20', '12']]},
      {kind: 'trade', symbol: 'ETHUSDC', ts: T0 + 25, localTs: T0 + 30, id: '991', side: 'sell', price: '3000.10', qty: '0.500'},
      {kind: 'depth', symbol: 'ETHUSDC', ts: T0 + 35, localTs: T0 + 40, U: 6, u: 9, pu: 5, bids: [['3000.10', '0']], asks: [['3000.20', '11.999'], ['3000.30', '4.0']]},
      {kind: 'ticker', symbol: 'ETHUSDC', ts: T0 + 36, localTs: T0 + 41, bidPrice: '2999.9', bidQty: '0.00100000', askPrice: '3000.20', askQty: '11.999'},
      {kind: 'depth', symbol: 'ETHUSDC', ts: T0 + 50, localTs: T0 + 60, bids: [['2999.8', '7.25']], asks: []},
      {kind: 'trade', symbol: 'ETHUSDC', ts: T0 + 55, localTs: T0 + 60, id: '992', side: 'buy', price: '3000.20', qty: '0.001'},
    ]
    const w = new TardisWriter({root, symbol: 'ETHUSDC', ticker: true, mmVersion: '9.9.9', instrument: {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}})
    for (const ev of events) w.write(ev)
    const st = await w.close()
    expect(st.rows).toBe(3 + 1 + 3 + 1 + 1 + 1)
    expect(st.files.map((f) => f.slice(root.length))).toEqual(['/ETHUSDC/2026-01-01/00.book.csv.gz', '/ETHUSDC/2026-01-01/00.trades.csv.gz', '/ETHUSDC/2026-01-01/00.ticker.csv.gz'])
    const book = gunzipSync(readFileSync(join(root, 'ETHUSDC/2026-01-01/00.book.csv.gz'))).toString()
    expect(book).toBe(
      'exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n' +
        `binance-futures,ETHUSDC,${T0 + 10},${T0 + 20},true,bid,3000.10,1.000\n` +
        `binance-futures,ETHUSDC,${T0 + 10},${T0 + 20},true,bid,2999.9,0.00100000\n` +
        `binance-futures,ETHUSDC,${T0 + 10},${T0 + 20},true,ask,3000.20,12\n` +
        `binance-futures,ETHUSDC,${T0 + 35},${T0 + 40},false,bid,3000.10,0\n` +
        `binance-futures,ETHUSDC,${T0 + 35},${T0 + 40},false,ask,3000.20,11.999\n` +
        `binance-futures,ETHUSDC,${T0 + 35},${T0 + 40},false,ask,3000.30,4.0\n` +
        `binance-futures,ETHUSDC,${T0 + 50},${T0 + 60},false,bid,2999.8,7.25\n`,
    )
    const back = await all(readTardis(root))
    // same local time: book before trades before ticker
    expect(back).toEqual(events.map(strip))
    const meta = await readMeta(join(root, 'ETHUSDC/2026-01-01/00.meta.json'))
    expect(meta).toMatchObject({
      symbol: 'ETHUSDC', exchange: 'binance-futures', mmVersion: '9.9.9', closed: true, gaps: 0, resyncs: 0,
      instrument: {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'},
      files: {book: {file: '00.book.csv.gz', rows: 7, messages: 3}, trades: {file: '00.trades.csv.gz', rows: 2, messages: 2}, ticker: {file: '00.ticker.csv.gz', rows: 1, messages: 1}},
      firstTimestamp: T0 + 10, lastTimestamp: T0 + 55, firstLocalTimestamp: T0 + 20, lastLocalTimestamp: T0 + 60,
      periodStart: '2026-01-01T00:00:00.000Z', periodEnd: '2026-01-01T01:00:00.000Z',
    })
  })

  it('rotates by UTC hour; each book file starts with a snapshot; the folder rebuilds the same book', async () => {
    const root = tmp()
    const events = scriptedMarket({n: 600, seed: 11, startUs: T0 + HOUR - 1_000_000})
    // spread local times over three hours
    const spaced = events.map((ev, i) => ({...ev, localTs: T0 + HOUR - 1_000_000 + i * 12_000_000, ts: T0 + HOUR - 1_000_000 + i * 12_000_000 - 5}))
    const w = new TardisWriter({root, symbol: 'ETHUSDC', ticker: true})
    w.noteResync()
    for (const ev of spaced) w.write(ev)
    w.noteGap()
    await w.close()
    const dir = join(root, 'ETHUSDC/2026-01-01')
    expect(readdirSync(dir).sort()).toEqual([
      '00.book.csv.gz', '00.meta.json', '00.ticker.csv.gz', '00.trades.csv.gz',
      '01.book.csv.gz', '01.meta.json', '01.ticker.csv.gz', '01.trades.csv.gz',
      '02.book.csv.gz', '02.meta.json', '02.ticker.csv.gz', '02.trades.csv.gz',
    ])
    const lastLocal = spaced[spaced.length - 1].localTs
    for (const h of ['00', '01', '02']) {
      const first = await readTardisFile(join(dir, `${h}.book.csv.gz`)).next()
      expect(first.value?.kind).toBe('snapshot')
      // every hour alone gives the book as of its last row (the last hour: before the gap's hole marker)
      const hourEvents = spaced.filter((e) => e.localTs < T0 + (Number(h) + 1) * HOUR)
      const read = await all(readTardisFile(join(dir, `${h}.book.csv.gz`)))
      expect(applyBook(h === '02' ? read.slice(0, -1) : read)).toEqual(applyBook(hourEvents))
      expect((await readMeta(join(dir, `${h}.meta.json`))).closed).toBe(true)
    }
    expect(await readMeta(join(dir, '02.meta.json'))).toMatchObject({gaps: 1, holes: 1})
    const back = await all(readTardis(root))
    // the gap is marked: an empty book (one level at 0) just after the last row; before it, the same book
    const hole = back[back.length - 1]
    expect(hole).toMatchObject({kind: 'snapshot', localTs: lastLocal + 1, asks: []})
    expect(hole.kind === 'snapshot' && hole.bids.length === 1 && hole.bids[0][1]).toBe('0')
    expect(applyBook(back)).toEqual({bids: [], asks: []})
    expect(applyBook(back.slice(0, -1))).toEqual(applyBook(spaced))
    // trades and tickers are all there, in order
    expect(back.filter((e) => e.kind !== 'snapshot' && e.kind !== 'depth')).toEqual(spaced.filter((e) => e.kind === 'trade' || e.kind === 'ticker').map(strip))
  })

  it("dates a diff row by the message's E, as Tardis does (T stays the loop's venue time); a rotation snapshot too", async () => {
    // real captured depth messages, where E is a few ms after T
    const events: MarketEvent[] = []
    for await (const ev of readRaw([sharedData('hftbacktest/examples/usdm/ethusdt_20240718.gz')], {symbol: 'ETHUSDT'})) {
      if (ev.kind !== 'depth') continue
      events.push(ev)
      if (events.length === 3) break
    }
    // the first two, from the capture: "E":1721347022530,"T":1721347022526 and "E":1721347022581,"T":1721347022580
    expect(events.slice(0, 2).map((e) => [e.ts, e.kind === 'depth' ? e.eventTs : undefined])).toEqual([[1721347022526000, 1721347022530000], [1721347022580000, 1721347022581000]])
    const root = tmp()
    const w = new TardisWriter({root, symbol: 'ETHUSDT', trades: false, rotateMs: 60_000})
    w.write({kind: 'snapshot', symbol: 'ETHUSDT', ts: events[0].ts - 5000, localTs: events[0].localTs - 5000, bids: [['3400.00', '1.000']], asks: [['3423.00', '2.000']]})
    w.write(events[0])
    w.write(events[1])
    // the third message a minute later (local time): a new period, which opens with the book as a snapshot dated like the diff
    const e3 = {...events[2], localTs: events[2].localTs + 60_000_000} as MarketEvent
    w.write(e3)
    const st = await w.close()
    const rows = (f: string) => gunzipSync(readFileSync(f)).toString().trim().split('\n').slice(1).map((l) => l.split(','))
    const first = rows(st.files[0])
    const eOf = (e: MarketEvent) => String(e.kind === 'depth' ? e.eventTs : NaN)
    expect(first.filter((r) => r[4] === 'false').every((r) => r[2] === eOf(events[0]) || r[2] === eOf(events[1]))).toBe(true)
    expect(new Set(first.filter((r) => r[4] === 'false').map((r) => r[2]))).toEqual(new Set(['1721347022530000', '1721347022581000']))
    const second = rows(st.files[1])
    expect(new Set(second.map((r) => `${r[2]} ${r[4]}`))).toEqual(new Set([`${eOf(e3)} true`, `${eOf(e3)} false`]))
    // read back: the row timestamp is the event's venue time
    const back = await all(readTardis(root))
    expect(back.filter((e) => e.kind === 'depth').map((e) => e.ts)).toEqual([1721347022530000, 1721347022581000, Number(eOf(e3))])
    const dir = join(root, 'ETHUSDT', '2024-07-18')
    const metas = readdirSync(dir).filter((f) => f.endsWith('.meta.json'))
    expect(metas).toEqual(['23-57.meta.json', '23-58.meta.json'])
    for (const m of metas) expect((await readMeta(join(dir, m))).bookTimestamp).toBe('E')
  })

  it('names finer periods HH-MM / HH-MM-SS and never overwrites an earlier run', async () => {
    expect(periodNames(Date.UTC(2026, 0, 2, 13, 45, 0), 15 * 60_000)).toEqual({date: '2026-01-02', stem: '13-45'})
    expect(periodNames(Date.UTC(2026, 0, 2, 13, 45, 30), 30_000)).toEqual({date: '2026-01-02', stem: '13-45-30'})
    expect(periodNames(Date.UTC(2026, 0, 2, 13, 0, 0), 2 * 3_600_000)).toEqual({date: '2026-01-02', stem: '13'})
    const root = tmp()
    const snap: MarketEvent = {kind: 'snapshot', symbol: 'ETHUSDC', ts: T0, localTs: T0 + 5_000_000, bids: [['1.00', '1']], asks: [['1.01', '1']]}
    for (let run = 0; run < 2; run++) {
      const w = new TardisWriter({root, symbol: 'ETHUSDC'})
      w.write({...snap, localTs: snap.localTs + run * 60_000_000})
      await w.close()
    }
    expect(readdirSync(join(root, 'ETHUSDC/2026-01-01')).sort()).toEqual(['00-01-05.book.csv.gz', '00-01-05.meta.json', '00-01-05.trades.csv.gz', '00.book.csv.gz', '00.meta.json', '00.trades.csv.gz'])
    const files = await listTardisFiles(root, {kinds: ['book']})
    expect(files.map((f) => f.path.slice(root.length))).toEqual(['/ETHUSDC/2026-01-01/00.book.csv.gz', '/ETHUSDC/2026-01-01/00-01-05.book.csv.gz'])
  })

  it('ignores .partial files in folders, refuses them by name, and reads a torn one when asked', async () => {
    const root = tmp()
    const dir = join(root, 'ETHUSDC/2026-01-01')
    const w = new TardisWriter({root, symbol: 'ETHUSDC', trades: false})
    w.write({kind: 'snapshot', symbol: 'ETHUSDC', ts: T0, localTs: T0, bids: [['1.00', '1']], asks: [['1.01', '2']]})
    await w.close()
    const whole = gzipSync(Buffer.from('exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n' + `binance-futures,ETHUSDC,${T0 + HOUR},${T0 + HOUR},true,bid,1.00,3\n` + `binance-futures,ETHUSDC,${T0 + HOUR},${T0 + HOUR + 1},false,ask,1.01,4\nbinance-futures,ETH`))
    const torn = join(dir, '01.book.csv.gz.partial')
    writeFileSync(torn, whole.subarray(0, whole.length - 6)) // no gzip trailer
    expect((await all(readTardis(root))).length).toBe(1)
    await expect(all(readTardis(torn))).rejects.toThrow(/\.partial file is still being written/)
    const got = await all(readTardis(torn, {includePartial: true}))
    expect(got).toEqual([
      {kind: 'snapshot', symbol: 'ETHUSDC', ts: T0 + HOUR, localTs: T0 + HOUR, bids: [['1.00', '3']], asks: []},
      {kind: 'depth', symbol: 'ETHUSDC', ts: T0 + HOUR, localTs: T0 + HOUR + 1, bids: [], asks: [['1.01', '4']]},
    ])
    expect(existsSync(join(dir, '00.book.csv.gz'))).toBe(true)
  })

  it('names the file and line of a bad header or row', async () => {
    const dir = tmp()
    const bad = join(dir, 'x.book.csv')
    writeFileSync(bad, 'exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price\n')
    await expect(all(readTardis(bad))).rejects.toThrow(`${bad}:1: header is "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price", expected "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"`)
    writeFileSync(bad, 'exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\nbinance-futures,ETHUSDC,1,2,true,bid,1.00,1\nbinance-futures,ETHUSDC,1,2,true,buy,1.00,1\n')
    await expect(all(readTardis(bad))).rejects.toThrow(`${bad}:3: side "buy" is not bid/ask`)
    const trades = join(dir, 'y.trades.csv')
    writeFileSync(trades, 'exchange,symbol,timestamp,local_timestamp,id,side,price,amount\nbinance-futures,ETHUSDC,1,2,7,sell,1e3,1\n')
    await expect(all(readTardis(trades))).rejects.toThrow(`${trades}:2: price "1e3" is not a decimal`)
    writeFileSync(trades, 'exchange,symbol,timestamp,local_timestamp,id,side,price,amount\nbinance-futures,ETHUSDC,1.5,2,7,sell,1,1\n')
    await expect(all(readTardis(trades))).rejects.toThrow(`${trades}:2: timestamp "1.5" is not an integer of µs`)
  })
})
