import {readFileSync} from 'node:fs'
import {gunzipSync} from 'node:zlib'
import {describe, expect, it} from 'vitest'
import {DepthScanner, SCAN_BAD, SCAN_DEPTH, SCAN_FALLBACK, SCAN_OTHER, SCAN_SNAPSHOT, SCAN_TRADE} from '../../src/lib/book/scan.js'
import {DepthSync} from '../../src/lib/book/sync.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import {readRawAll} from '../../src/lib/record/raw-reader.js'
import {ETH_JULY, sharedData} from '../support/shared-data.js'

const eth = new Instrument({symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5'})

function levelsOf(sc: DepthScanner) {
  const b = sc.batch
  return {
    bids: Array.from({length: b.nb}, (_, i) => [b.bidPx[i], b.bidQty[i]]),
    asks: Array.from({length: b.na}, (_, i) => [b.askPx[i], b.askQty[i]]),
  }
}

describe('DepthScanner', () => {
  it('reads a combined-stream depthUpdate into ids, times and integer levels', () => {
    const sc = new DepthScanner(eth)
    const msg = '{"stream":"ethusdt@depth@0ms","data":{"e":"depthUpdate","E":1721347022530,"T":1721347022526,"s":"ETHUSDT","U":10,"u":20,"pu":5,"b":[["3422.51","0.000"],["500.00","11.588"]],"a":[["3424.99","5.051"]]}}'
    expect(sc.scan(msg)).toBe(SCAN_DEPTH)
    expect([sc.U, sc.u, sc.pu, sc.E, sc.T, sc.ts]).toEqual([10, 20, 5, 1721347022530, 1721347022526, 1721347022526000])
    expect(levelsOf(sc)).toEqual({bids: [[342251, 0], [50000, 11588]], asks: [[342499, 5051]]})
  })

  it('reads a bare payload in another key order, with whitespace and unknown nested values', () => {
    const sc = new DepthScanner(eth)
    const msg = ' { "a" : [ [ "1.5" , "2" ] ] , "x": {"y": [1, "]}", {"z": null}]}, "b": [], "pu":1, "u": 9, "U" :3, "e":"depthUpdate", "E": 7, "f": -1.5e3, "g": true }'
    expect(sc.scan(msg)).toBe(SCAN_DEPTH)
    expect([sc.U, sc.u, sc.pu, sc.ts]).toEqual([3, 9, 1, 7000])
    expect(levelsOf(sc)).toEqual({bids: [], asks: [[150, 2000]]})
  })

  it('reads the REST snapshot; stops early on other messages', () => {
    const sc = new DepthScanner(eth)
    expect(sc.scan('{"lastUpdateId":15,"E":1,"T":2,"bids":[["3424.98","207.725"]],"asks":[["3424.99","1"]]}')).toBe(SCAN_SNAPSHOT)
    expect(sc.lastUpdateId).toBe(15)
    expect(levelsOf(sc)).toEqual({bids: [[342498, 207725]], asks: [[342499, 1000]]})
    expect(sc.scan('{"stream":"ethusdt@bookTicker","data":{"e":"bookTicker","u":21,"s":"ETHUSDT","b":"3424.98","B":"197.907","a":"3424.99","A":"5.051"}}')).toBe(SCAN_OTHER)
    expect(sc.scan('{"e":"markPriceUpdate","p":"1.00"}')).toBe(SCAN_OTHER)
    // a trade without its quantity or side: JSON.parse decides
    expect(sc.scan('{"e":"trade","p":"1.00"}')).toBe(SCAN_FALLBACK)
  })

  it('reads trades and aggTrades: price in ticks, quantity in steps, aggressor side, symbol', () => {
    const sc = new DepthScanner(eth)
    expect(sc.scan('{"stream":"ethusdt@trade","data":{"e":"trade","E":1721347022708,"T":1721347022707,"s":"ETHUSDT","t":4217896584,"p":"3424.98","q":"0.007","X":"MARKET","m":true}}')).toBe(SCAN_TRADE)
    expect([sc.price, sc.qty, sc.side, sc.ts, sc.symbolIs('ETHUSDT'), sc.symbolIs('BTCUSDT'), sc.symbolIs('ETHUSD')]).toEqual([342498, 7, 'sell', 1721347022707000, true, false, false])
    expect(sc.scan('{"e":"aggTrade","E":5,"a":26129,"s":"ETHUSDT","p":"3424.99","q":"1.5","f":1,"l":2,"T":4,"m":false}')).toBe(SCAN_TRADE)
    expect([sc.price, sc.qty, sc.side, sc.ts]).toEqual([342499, 1500, 'buy', 4000])
    expect(sc.scan('{"e":"trade","E":1,"s":"ETHUSDT","t":1,"p":"3424.985","q":"1","m":true}')).toBe(SCAN_BAD)
    expect(sc.isTrade).toBe(true)
  })

  it('off-grid or malformed levels are BAD; unexpected syntax falls back to JSON.parse', () => {
    const sc = new DepthScanner(eth)
    const d = (b: string) => `{"e":"depthUpdate","E":1,"U":1,"u":2,"pu":0,"b":[${b}],"a":[]}`
    expect(sc.scan(d('["3424.985","1.000"]'))).toBe(SCAN_BAD)
    expect(sc.error).toBe('price 3424.985 has more than 2 decimals')
    expect(sc.scan(d('["3424.98","1.0001"]'))).toBe(SCAN_BAD)
    expect(sc.scan(d('["-1.00","1.000"]'))).toBe(SCAN_BAD)
    expect(sc.scan(d('["","1.000"]'))).toBe(SCAN_BAD)
    expect(sc.scan(d('["3424.98000","1.000"]'))).toBe(SCAN_DEPTH) // trailing zeros are on the grid
    expect(sc.scan(d('[3424.98,"1.000"]'))).toBe(SCAN_FALLBACK)
    expect(sc.scan(d('["34\\u0032.98","1.000"]'))).toBe(SCAN_FALLBACK)
    expect(sc.scan('{"e":"depthUpdate","U":1.5,"u":2}')).toBe(SCAN_FALLBACK)
    expect(sc.scan('{"e":"depthUpdate","U":1,"u":2')).toBe(SCAN_FALLBACK)
    expect(sc.scan('{"e":"depthUpdate","U":1,"b":[]}')).toBe(SCAN_BAD) // no u
    const coarse = new DepthScanner(new Instrument({symbol: 'X', tickSize: '0.05', stepSize: '0.5', minQty: '0.5', minNotional: '1'}))
    expect(coarse.scan(d('["1.10","1.5"]'))).toBe(SCAN_DEPTH)
    expect(levelsOf(coarse).bids).toEqual([[22, 3]])
    expect(coarse.scan(d('["1.12","1.5"]'))).toBe(SCAN_BAD)
    expect(coarse.error).toBe('price 1.12 is off the grid')
  })

  it('feed: a BAD message is a counted resync in the sync machine', () => {
    const sc = new DepthScanner(eth)
    const sync = new DepthSync(eth)
    expect(sc.feed(sync, '{"e":"depthUpdate","E":1,"U":5,"u":10,"pu":4,"b":[["1.00","1"]],"a":[["1.01","1"]]}')).toBe('buffered')
    expect(sc.feed(sync, '{"lastUpdateId":7,"E":1,"bids":[],"asks":[]}')).toBe('applied')
    expect(sync.book.ready).toBe(true)
    expect(sc.feed(sync, '{"e":"depthUpdate","E":2,"U":11,"u":12,"pu":10,"b":[["1.001","1"]],"a":[]}')).toBe('gap')
    expect(sync.counters).toMatchObject({gridErrors: 1, resyncs: 1})
    expect(sc.feed(sync, '{"e":"bookTicker"}')).toBe('ignored')
    expect(sc.feed(sync, '{"e":"depthUpdate","U":1e3}')).toBe('fallback')
  })

  it('gives exactly the JSON.parse path’s book after every message of the real ETH July stream', async () => {
    const paths = ETH_JULY.map((f) => sharedData(f))
    const events = await readRawAll(paths)
    const lines = paths.flatMap((p) => gunzipSync(readFileSync(p)).toString('utf8').split('\n').filter((l) => l.length > 0))
    expect(lines.length).toBe(events.length)
    const a = new DepthSync(eth)
    const b = new DepthSync(eth)
    const sc = new DepthScanner(eth)
    let compared = 0
    for (let k = 0; k < lines.length; k++) {
      const ra = a.feed(events[k])
      const line = lines[k]
      const rb = sc.feed(b, line, line.indexOf(' ') + 1)
      expect(rb).toBe(ra)
      if (events[k].kind === 'depth' || events[k].kind === 'snapshot') {
        const ba = a.book
        const bb = b.book
        expect([bb.bestBid(), bb.bestBidQty(), bb.bestAsk(), bb.bestAskQty(), bb.ready, bb.lastUpdateTs]).toEqual([ba.bestBid(), ba.bestBidQty(), ba.bestAsk(), ba.bestAskQty(), ba.ready, ba.lastUpdateTs])
        if (k % 50 === 0) expect(b.orderBook.equals(a.orderBook)).toBe(true)
        compared++
      }
    }
    expect(compared).toBe(8930)
    expect(b.orderBook.dump()).toEqual(a.orderBook.dump())
    expect(b.counters).toEqual(a.counters)
  })
})
