import {mkdtempSync, readdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import type {MarketEvent} from '../../src/lib/market/events.js'
import {readMeta} from '../../src/lib/record/meta.js'
import {parseSymbols, record} from '../../src/lib/record/recorder.js'
import {readTardis, readTardisFile} from '../../src/lib/record/tardis-reader.js'
import {applyBook, scriptedMarket, startVenue, type TestVenue} from '../support/venue.js'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!()
})

describe('recorder', () => {
  it('parses repeated and comma-listed symbols', () => {
    expect(parseSymbols(['ethusdc,BTCUSDT', ' ETHUSDC ', 'solusdt'])).toEqual(['ETHUSDC', 'BTCUSDT', 'SOLUSDT'])
    expect(() => parseSymbols(['ETH-USDC'])).toThrow('--symbol "ETH-USDC" is not a symbol')
  })

  it('rotates files while recording; every period starts with a snapshot; the folder rebuilds the venue book', async () => {
    const v: TestVenue = await startVenue()
    cleanup.push(() => v.close())
    const script = scriptedMarket({n: 1600, seed: 9})
    script.push({kind: 'depth', symbol: 'ETHUSDC', ts: 0, localTs: 0, bids: [['1.00', '7.777']], asks: []})
    v.venue.publish(script[0])
    const out = mkdtempSync(join(tmpdir(), 'mm-rec-'))
    const ac = new AbortController()
    let i = 1
    let sawMarker!: () => void
    const marker = new Promise<void>((r) => (sawMarker = r))
    let sawSnapshot!: () => void
    const synced = new Promise<void>((r) => (sawSnapshot = r))
    const onEvent = (ev: MarketEvent) => {
      if (ev.kind === 'snapshot') sawSnapshot()
      if (ev.kind === 'depth' && ev.bids.some(([p]) => p === '1.00')) sawMarker()
    }
    const run = record({onEvent, symbols: ['ETHUSDC'], out, rotateMs: 1000, trades: true, ticker: false, endpoints: v.endpoints, mmVersion: 'test', signal: ac.signal})
    // the market moves once the recorder wrote its first snapshot (a trade received before
    // the REST snapshot would open a period whose book file has no rows)
    const first = await Promise.race([synced.then(() => 'synced'), run.then(() => 'ended', () => 'ended')])
    expect(first).toBe('synced')
    // drive the market: 5 events every 10 ms (≈ 3.3 s, several 1 s periods), the marker last
    const drive = (async () => {
      while (i < script.length) {
        for (let k = 0; k < 5 && i < script.length; k++) v.venue.publish(script[i++])
        await new Promise((r) => setTimeout(r, 10)) // market pace, not a synchronisation
      }
    })()
    await drive
    await marker
    ac.abort()
    const summary = await run
    expect(summary).toMatchObject({symbols: ['ETHUSDC'], stoppedBy: 'signal', resyncs: 0, gaps: 0})
    const day = readdirSync(join(out, 'ETHUSDC'))[0]
    const dir = join(out, 'ETHUSDC', day)
    const books = readdirSync(dir).filter((f) => f.endsWith('.book.csv.gz')).sort()
    expect(books.length).toBeGreaterThanOrEqual(3)
    expect(books.every((b) => /^\d{2}-\d{2}-\d{2}\.book\.csv\.gz$/.test(b))).toBe(true)
    for (const b of books) {
      const first = await readTardisFile(join(dir, b)).next()
      expect(first.value?.kind).toBe('snapshot')
      const meta = await readMeta(join(dir, b.replace('.book.csv.gz', '.meta.json')))
      expect(meta).toMatchObject({closed: true, rotateMs: 1000, mmVersion: 'test', bookTimestamp: 'E'})
    }
    const events: MarketEvent[] = []
    for await (const ev of readTardis(out)) events.push(ev)
    const vb = v.venue.book('ETHUSDC')
    expect(applyBook(events)).toEqual({bids: vb.bids, asks: vb.asks})
    expect(summary.files.length).toBe(books.length * 2)
  })
})
