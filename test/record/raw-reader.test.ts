import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {describe, expect, it} from 'vitest'
import {MmError} from '../../src/lib/domain/errors.js'
import {detectRawSymbol, newRawStats, RawFormatError, readRaw, readRawAll, readRawBatches, symbolFromFileName} from '../../src/lib/record/raw-reader.js'
import {ETH_JULY, sharedData} from '../support/shared-data.js'

const dir = mkdtempSync(join(tmpdir(), 'mm-raw-'))
function file(name: string, lines: string[], gzip: boolean): string {
  const p = join(dir, name)
  const text = lines.join('\n') + '\n'
  writeFileSync(p, gzip ? gzipSync(text) : text)
  return p
}

const DEPTH = '{"stream":"ethusdt@depth@0ms","data":{"e":"depthUpdate","E":1721347022530,"T":1721347022526,"s":"ETHUSDT","U":10,"u":20,"pu":5,"b":[["3422.51","0.000"]],"a":[["3424.99","5.051"]]}}'
const SNAP = '{"lastUpdateId":15,"E":1721347022796,"T":1721347022785,"bids":[["3424.98","207.725"]],"asks":[["3424.99","1.000"]]}'
const TRADE = '{"stream":"ethusdt@trade","data":{"e":"trade","E":1721347022600,"T":1721347022598,"s":"ETHUSDT","t":4417,"p":"3424.98","q":"0.500","X":"MARKET","m":true}}'
const AGG = '{"e":"aggTrade","E":1721347022700,"a":99,"s":"ETHUSDT","p":"3424.99","q":"1.000","f":1,"l":2,"T":1721347022699,"m":false}'
const TICKER = '{"stream":"ethusdt@bookTicker","data":{"e":"bookTicker","u":21,"s":"ETHUSDT","b":"3424.98","B":"197.907","a":"3424.99","A":"5.051","T":1721347022561,"E":1721347022562}}'
const MARK = '{"stream":"ethusdt@markPrice@1s","data":{"e":"markPriceUpdate","E":1721347023000,"s":"ETHUSDT","p":"3424.9"}}'

describe('readRaw (hftbacktest `<local_ts> <json>` lines)', () => {
  it('maps every message kind, unwraps envelopes, converts ns to µs, ts = T else E', async () => {
    const p = file('ethusdt_20240718.gz', [
      `1721347021080838061 ${DEPTH}`,
      `1721347021324133210 ${SNAP}`,
      '',
      `1721347021400000999 ${TRADE}`,
      `1721347021500000000 ${AGG}`,
      `1721347021600000000 ${TICKER}`,
      `1721347021700000000 ${MARK}`,
    ], true)
    const stats = newRawStats()
    const evs = await readRawAll([p], {stats})
    expect(evs).toEqual([
      {kind: 'depth', symbol: 'ETHUSDT', ts: 1721347022526000, localTs: 1721347021080838, U: 10, u: 20, pu: 5, eventTs: 1721347022530000, bids: [['3422.51', '0.000']], asks: [['3424.99', '5.051']]},
      {kind: 'snapshot', symbol: 'ETHUSDT', ts: 1721347022785000, localTs: 1721347021324133, lastUpdateId: 15, bids: [['3424.98', '207.725']], asks: [['3424.99', '1.000']]},
      {kind: 'trade', symbol: 'ETHUSDT', ts: 1721347022598000, localTs: 1721347021400000, id: '4417', side: 'sell', price: '3424.98', qty: '0.500'},
      {kind: 'trade', symbol: 'ETHUSDT', ts: 1721347022699000, localTs: 1721347021500000, id: '99', side: 'buy', price: '3424.99', qty: '1.000'},
      {kind: 'ticker', symbol: 'ETHUSDT', ts: 1721347022561000, localTs: 1721347021600000, u: 21, bidPrice: '3424.98', bidQty: '197.907', askPrice: '3424.99', askQty: '5.051'},
    ])
    expect(stats).toEqual({files: 1, lines: 6, events: 5, ignored: {markPriceUpdate: 1}})
  })

  it('detects gzip by magic bytes whatever the name, reads plain text, and µs timestamps', async () => {
    const gz = file('capture.dat', [`1680652700423575 ${TICKER}`], true)
    const plain = file('capture.txt', [`1680652700441533 ${TRADE}`], false)
    const evs = await readRawAll([gz, plain])
    expect(evs.map((e) => [e.kind, e.localTs])).toEqual([['ticker', 1680652700423575], ['trade', 1680652700441533]])
  })

  it('a snapshot line before any symbol-bearing message takes the symbol from the file name', async () => {
    const p = file('btcusdt_20230404.dat', [`1680652700423575 ${SNAP}`], false)
    const [ev] = await readRawAll([p])
    expect(ev.symbol).toBe('BTCUSDT')
    expect(symbolFromFileName('/x/ethusdt_20240719.gz')).toBe('ETHUSDT')
    expect(symbolFromFileName('/x/capture.gz')).toBeUndefined()
  })

  it('a bad line throws a RawFormatError naming the file and the line number', async () => {
    const p = file('bad.txt', [`1721347021080838061 ${DEPTH}`, '', `1721347021080838062 {"stream":"x","data":{"e":"depthUpdate"`], false)
    const err = await readRawAll([p]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RawFormatError)
    expect(err).toBeInstanceOf(MmError)
    expect((err as RawFormatError).message).toMatch(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: invalid JSON`))
    expect((err as RawFormatError).line).toBe(3)
    expect((err as RawFormatError).code).toBe('E_RAW_FORMAT')
  })

  it('rejects a line without a timestamp, a depth update without ids, and levels that are not string pairs', async () => {
    const cases: [string, RegExp][] = [
      [`${DEPTH}`, /:1: expected "<timestamp> <json>"/],
      [`17213470210808380xx ${DEPTH}`, /:1: bad timestamp/],
      [`1721347021080838061 ${DEPTH.replace('"u":20,', '')}`, /:1: field u is not a number/],
      [`1721347021080838061 ${DEPTH.replace('["3422.51","0.000"]', '[3422.51,0]')}`, /:1: b\[0\] is not a \[price, qty\] pair of strings/],
      [`1721347021080838061 [1,2]`, /:1: message is not a JSON object/],
    ]
    for (const [i, [line, re]] of cases.entries()) {
      const p = file(`bad${i}.txt`, [line], false)
      await expect(readRawAll([p])).rejects.toThrow(re)
    }
  })

  it('reads the cryptofeed capture syntax (URL header, `<epoch_s>: json`, `<url> -> <epoch_s>: json`)', async () => {
    const ws = sharedData('cryptofeed/sample_data/BINANCE_FUTURES.ws.1.0')
    const http = sharedData('cryptofeed/sample_data/BINANCE_FUTURES.http.0.0')
    const stats = newRawStats()
    const evs = await readRawAll([ws], {stats})
    expect(evs[0]).toEqual({kind: 'ticker', symbol: 'SUSHIUSDT', ts: 1626992741012000, localTs: 1626992741062170, u: 600859600576, bidPrice: '7.6110', bidQty: '2', askPrice: '7.6120', askQty: '297'})
    const c: Record<string, number> = {}
    for (const e of evs) c[e.kind] = (c[e.kind] ?? 0) + 1
    expect(c).toEqual({depth: 255 + 189 + 135 + 185, ticker: 613, trade: 91})
    expect(stats).toEqual({files: 1, lines: 1536, events: 1468, ignored: {kline: 67}})
    const snaps = await readRawAll([http])
    expect(snaps.map((s) => [s.kind, s.symbol, s.localTs, s.kind === 'snapshot' ? s.lastUpdateId : 0])).toEqual([
      ['snapshot', 'SUSHIUSDT', 1626992741301402, 600859605926],
      ['snapshot', 'AKROUSDT', 1626992741475372, 600859605486],
      ['snapshot', 'KEEPUSDT', 1626992742110451, 600859619434],
      ['snapshot', 'CTKUSDT', 1626992742283408, 600859618836],
    ])
  })
})

describe('readRaw on the real captures', () => {
  it('streams the ETH July pair as one stream: 2024 ns stamps become µs', async () => {
    const paths = ETH_JULY.map((f) => sharedData(f))
    expect(await detectRawSymbol(paths)).toBe('ETHUSDT')
    let n = 0
    let first: unknown
    let lastLocal = 0
    for await (const ev of readRaw(paths)) {
      if (n++ === 0) first = ev
      lastLocal = ev.localTs
    }
    expect(n).toBe(69_913)
    expect(first).toMatchObject({kind: 'depth', symbol: 'ETHUSDT', ts: 1721347022526000, localTs: 1721347021080838, U: 4984028369251, u: 4984028372029, pu: 4984028369165})
    expect(String(lastLocal).length).toBe(16)
  })

  it('tickers: false leaves the bookTicker messages out unparsed, and only them', async () => {
    const paths = ETH_JULY.map((f) => sharedData(f))
    const stats = newRawStats()
    const kinds: Record<string, number> = {}
    let batches = 0
    for await (const b of readRawBatches(paths, {tickers: false, onlySymbol: 'ETHUSDT', stats})) {
      batches++
      for (const ev of b) kinds[ev.kind] = (kinds[ev.kind] ?? 0) + 1
    }
    expect(kinds).toEqual({depth: 8929, snapshot: 1, trade: 13_655})
    expect(stats.ignored.bookTicker).toBe(47_328)
    expect(stats.lines).toBe(69_913)
    expect(batches).toBeGreaterThan(1)
  })

  it('reads the 2023 pair (µs stamps) and counts its markPrice messages as ignored', async () => {
    const stats = newRawStats()
    const paths = ['hftbacktest/examples/usdm/btcusdt_20230404.dat.gz', 'hftbacktest/examples/usdm/btcusdt_20230405.dat.gz'].map((f) => sharedData(f))
    const evs = await readRawAll(paths, {stats})
    expect(evs[0]).toMatchObject({kind: 'ticker', symbol: 'BTCUSDT', localTs: 1680652700423575, ts: 1680652700430000})
    const c: Record<string, number> = {}
    for (const e of evs) c[e.kind] = (c[e.kind] ?? 0) + 1
    expect(c).toEqual({ticker: 6765 + 37_440, trade: 2197 + 10_738, depth: 16_110, snapshot: 1})
    expect(stats.ignored).toEqual({markPriceUpdate: 514})
    const snap = evs.find((e) => e.kind === 'snapshot')
    expect(snap).toMatchObject({symbol: 'BTCUSDT', lastUpdateId: 2710246765483})
  })
})
