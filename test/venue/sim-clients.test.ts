/**
 * What third-party Binance clients need from `mm sim` beyond mm's own use, found by pointing
 * them at it (docs/sim.md "Third-party clients"), checked here on an in-process sim with a
 * controlled clock and book:
 *  - Binance's official connector opens `/private/stream?streams=` with no key and sends
 *    SUBSCRIBE <listenKey> on it (the sim refused the upgrade: the connector crashed);
 *  - GET /fapi/v1/symbolConfig and /accountConfig (ccxt fetchLeverages / fetchMarginMode);
 *  - POST /fapi/v1/order/test (the official connector's testOrder got a 404);
 *  - TRADE_LITE before each execution's ORDER_TRADE_UPDATE, as Binance pushes it;
 *  - the WebSocket API methods its connector and ccxt call: depth, ticker.price, ticker.book,
 *    account.status, account.balance (and their v2/ forms) answer as REST does;
 *  - a synthetic source has no ticker events, so `<symbol>@bookTicker` and `!bookTicker`
 *    (ccxt watchBidsAsks, node-binance-api) follow the book's top; `<symbol>@trade` is sent
 *    on /public as well (ccxt asks for it there); `<symbol>@ticker` / `@miniTicker` and the
 *    partial depth `<symbol>@depth<5|10|20>` (binance-api-node, the official connector) exist.
 */
import {createHmac} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {VirtualClock} from '../../src/lib/clock/clock.js'
import type {MarketEvent} from '../../src/lib/market/events.js'
import {manualTimers} from '../../src/lib/venue/sim/exchange.js'
import {parseFaults, SimVenue} from '../../src/lib/venue/sim/server.js'
import {SIM_TEST_API_KEY, SIM_TEST_API_SECRET, wsApiPayload} from '../../src/lib/venue/sim/signing.js'
import {SimTrading} from '../../src/lib/venue/sim/trading.js'
import {settle} from '../support/settle.js'
import {signed as signedCall} from '../support/sim-cli.js'
import {openWs, type TestWs} from '../support/ws-client.js'

const SYM = 'ETHUSDC'
const T0 = Date.UTC(2026, 10, 30, 12, 0, 0)
const inst = {symbol: SYM, tickSize: '0.01', stepSize: '0.001', minNotional: '20'}

let clock: VirtualClock
let venue: SimVenue
let trading: SimTrading
let base: string
let wsBase: string

const us = (ms: number) => ms * 1000
function publish(ev: MarketEvent): void {
  clock.set(ev.ts / 1000)
  venue.publish(ev)
}
const depth = (ms: number, bids: Array<[string, string]>, asks: Array<[string, string]>) => publish({kind: 'depth', symbol: SYM, ts: us(ms), localTs: us(ms), bids, asks} as MarketEvent)
const signed = (method: string, path: string, params: Record<string, string>) => signedCall(base, method, path, params, {timestamp: clock.now()})
async function get(path: string): Promise<any> {
  return (await fetch(`${base}${path}`)).json()
}

beforeAll(async () => {
  clock = new VirtualClock(T0)
  venue = new SimVenue({instruments: [inst], rebaseTime: false})
  trading = new SimTrading(venue, {instruments: [inst], wall: clock, timers: manualTimers})
  const urls = await venue.start()
  base = urls.restUrl
  wsBase = urls.wsUrl
  publish({kind: 'snapshot', symbol: SYM, ts: us(T0), localTs: us(T0), bids: [['3400.00', '10.000']], asks: [['3400.10', '10.000']]} as MarketEvent)
})
afterAll(async () => {
  trading.stop()
  await venue.stop()
})

describe('user data stream: a socket opened without a key, then SUBSCRIBE <listenKey> (the official connector)', () => {
  it('opens /private/stream?streams=, subscribes the active key, gets its events combined; refuses another key; UNSUBSCRIBE stops them', async () => {
    const {listenKey} = (await (await fetch(`${base}/fapi/v1/listenKey`, {method: 'POST', headers: {'X-MBX-APIKEY': SIM_TEST_API_KEY}})).json()) as {listenKey: string}
    const ws = await openWs(`${wsBase}/private/stream?streams=`)
    try {
      ws.ws.send(JSON.stringify({method: 'SUBSCRIBE', params: ['x'.repeat(64)], id: 7}))
      expect(await ws.next((m) => m.id === 7, 'the refusal')).toEqual({error: {code: -1125, msg: 'This listenKey does not exist. Please use `POST /fapi/v1/listenKey` to recreate `listenKey`'}, id: 7})
      ws.ws.send(JSON.stringify({method: 'SUBSCRIBE', params: [listenKey], id: 8}))
      expect(await ws.next((m) => m.id === 8, 'the SUBSCRIBE answer')).toEqual({result: null, id: 8})
      ws.ws.send(JSON.stringify({method: 'LIST_SUBSCRIPTIONS', id: 9}))
      expect(await ws.next((m) => m.id === 9, 'the list')).toEqual({result: [listenKey], id: 9})
      trading.users.publish({e: 'ACCOUNT_UPDATE', E: 1})
      expect(await ws.next((m) => m.stream !== undefined, 'the event')).toEqual({stream: listenKey, data: {e: 'ACCOUNT_UPDATE', E: 1}})
      ws.ws.send(JSON.stringify({method: 'UNSUBSCRIBE', params: [listenKey], id: 10}))
      expect(await ws.next((m) => m.id === 10, 'the UNSUBSCRIBE answer')).toEqual({result: null, id: 10})
      trading.users.publish({e: 'ACCOUNT_UPDATE', E: 2})
      await ws.roundTrip()
      expect(ws.messages.filter((m) => m.stream !== undefined)).toHaveLength(1)
      // the key given in the URL: ?streams=<key> as on a market route, and raw /private/ws with none
      const byUrl = await openWs(`${wsBase}/private/stream?streams=${listenKey}`)
      const bare = await openWs(`${wsBase}/private/ws`)
      trading.users.publish({e: 'ORDER_TRADE_UPDATE', E: 3})
      expect(await byUrl.next((m) => m.stream !== undefined, 'the event')).toEqual({stream: listenKey, data: {e: 'ORDER_TRADE_UPDATE', E: 3}})
      await bare.roundTrip()
      expect(bare.messages).toEqual([])
      byUrl.close()
      bare.close()
      const refused = await openWs(`${wsBase}/private/stream?streams=${'y'.repeat(64)}`).then(() => 'open', (e: Error) => e.message)
      expect(refused).toMatch(/400/)
    } finally {
      ws.close()
    }
  })
})

describe('TRADE_LITE', () => {
  it('each execution sends TRADE_LITE just before its ORDER_TRADE_UPDATE TRADE, with the same order and trade', async () => {
    const {listenKey} = (await (await fetch(`${base}/fapi/v1/listenKey`, {method: 'POST', headers: {'X-MBX-APIKEY': SIM_TEST_API_KEY}})).json()) as {listenKey: string}
    const ws = await openWs(`${wsBase}/private/ws/${listenKey}`)
    try {
      const step = (ms: number) => {
        clock.advance(ms)
        trading.exchange.advanceTo(trading.marketClock.now())
      }
      const p = new Map(Object.entries({symbol: SYM, side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', price: '3400.10', quantity: '0.010', newClientOrderId: 'lite-1', newOrderRespType: 'RESULT'}))
      const filled = (await settle(trading.exchange.newOrder(p), step)) as Record<string, unknown>
      expect(filled).toMatchObject({status: 'FILLED', clientOrderId: 'lite-1'})
      const otu = await ws.next((m) => m.e === 'ORDER_TRADE_UPDATE' && m.o.x === 'TRADE', 'the TRADE update')
      const seq = ws.messages.map((m) => (m.e === 'ORDER_TRADE_UPDATE' ? `${m.e}:${m.o.x}` : m.e))
      expect(seq.slice(0, 3)).toEqual(['ORDER_TRADE_UPDATE:NEW', 'TRADE_LITE', 'ORDER_TRADE_UPDATE:TRADE'])
      const lite = ws.messages[1]
      expect(lite).toEqual({e: 'TRADE_LITE', E: otu.E, T: otu.T, s: SYM, q: '0.010', p: '3400.10', m: false, c: 'lite-1', S: 'BUY', L: '3400.10', l: '0.010', t: otu.o.t, i: filled.orderId})
      // flat again, so the tests below see the account as it started
      const close = new Map(Object.entries({symbol: SYM, side: 'SELL', type: 'LIMIT', timeInForce: 'IOC', price: '3400.00', quantity: '0.010', reduceOnly: 'true', newOrderRespType: 'RESULT'}))
      expect(await settle(trading.exchange.newOrder(close), step)).toMatchObject({status: 'FILLED'})
    } finally {
      ws.close()
    }
  })
})

describe('POST /fapi/v1/order/test (the official connector\'s testOrder)', () => {
  it('runs the checks of a new order and places nothing: {} or the refusal; no order count', async () => {
    const before = (await signed('GET', '/fapi/v1/allOrders', {symbol: SYM})).body.length
    const ok = await signed('POST', '/fapi/v1/order/test', {symbol: SYM, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: '0.010', price: '3300.00', newClientOrderId: 'test-1'})
    expect({status: ok.status, body: ok.body}).toEqual({status: 200, body: {}})
    expect(ok.headers.get('x-mbx-order-count-10s')).toBeNull()
    const small = await signed('POST', '/fapi/v1/order/test', {symbol: SYM, side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.001', price: '3300.00'})
    expect({status: small.status, body: small.body}).toEqual({status: 400, body: {code: -4164, msg: "Order's notional must be no smaller than 20 (unless you choose reduce only)"}})
    const tick = await signed('POST', '/fapi/v1/order/test', {symbol: SYM, side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price: '3300.001'})
    expect(tick.body).toEqual({code: -1111, msg: 'Precision is over the maximum defined for this asset.'})
    expect((await signed('GET', '/fapi/v1/allOrders', {symbol: SYM})).body).toHaveLength(before)
    expect((await signed('GET', '/fapi/v1/openOrders', {symbol: SYM})).body).toEqual([])
    expect((await signed('GET', '/fapi/v1/order', {symbol: SYM, origClientOrderId: 'test-1'})).body).toEqual({code: -2013, msg: 'Order does not exist.'})
  })
})

describe('GET /fapi/v1/symbolConfig and /fapi/v1/accountConfig (ccxt fetchLeverages / fetchMarginMode)', () => {
  it('list the leverage and margin type the account set, and the position mode; weight 5 each', async () => {
    const before = Number((await fetch(`${base}/fapi/v1/time`)).headers.get('x-mbx-used-weight-1m'))
    const c0 = await signed('GET', '/fapi/v1/symbolConfig', {symbol: SYM})
    expect({status: c0.status, body: c0.body}).toEqual({status: 200, body: [{symbol: SYM, marginType: 'CROSSED', isAutoAddMargin: false, leverage: 20, maxNotionalValue: '1000000'}]})
    expect(Number(c0.headers.get('x-mbx-used-weight-1m')) - before).toBe(5)
    expect((await signed('POST', '/fapi/v1/leverage', {symbol: SYM, leverage: '7'})).body).toEqual({leverage: 7, maxNotionalValue: '1000000', symbol: SYM})
    expect((await signed('POST', '/fapi/v1/marginType', {symbol: SYM, marginType: 'ISOLATED'})).body).toEqual({code: 200, msg: 'success'})
    expect((await signed('GET', '/fapi/v1/symbolConfig', {})).body).toEqual([{symbol: SYM, marginType: 'ISOLATED', isAutoAddMargin: false, leverage: 7, maxNotionalValue: '1000000'}])
    expect((await signed('GET', '/fapi/v1/symbolConfig', {symbol: 'NOPE'})).body).toEqual({code: -1121, msg: 'Invalid symbol.'})
    const a = await signed('GET', '/fapi/v1/accountConfig', {})
    expect({status: a.status, body: a.body}).toEqual({status: 200, body: {feeTier: 0, canTrade: true, canDeposit: true, canWithdraw: true, dualSidePosition: false, updateTime: 0, multiAssetsMargin: false, tradeGroupId: -1}})
    expect(Number(a.headers.get('x-mbx-used-weight-1m')) - Number(c0.headers.get('x-mbx-used-weight-1m'))).toBe(1 + 1 + 5 + 5 + 5) // leverage, marginType, symbolConfig, the refused one, accountConfig
    // back to the defaults for the tests below
    await signed('POST', '/fapi/v1/marginType', {symbol: SYM, marginType: 'CROSSED'})
    await signed('POST', '/fapi/v1/leverage', {symbol: SYM, leverage: '20'})
  })
})

describe('WebSocket API: the market-data and account methods clients call', () => {
  let api: TestWs
  let nextId = 0
  async function call(method: string, params: Record<string, unknown>, sign: boolean): Promise<any> {
    const id = `r${++nextId}`
    const p: Record<string, unknown> = {...params}
    if (sign) {
      p.apiKey = SIM_TEST_API_KEY
      p.timestamp = clock.now()
      p.signature = createHmac('sha256', SIM_TEST_API_SECRET).update(wsApiPayload(p)).digest('hex')
    }
    api.ws.send(JSON.stringify({id, method, params: p}))
    return api.next((m) => m.id === id, method)
  }
  const weight = (a: any) => a.rateLimits.find((r: any) => r.rateLimitType === 'REQUEST_WEIGHT').count as number
  beforeAll(async () => {
    api = await openWs(`${wsBase}/ws-fapi/v1`)
  })
  afterAll(() => api.close())

  it('depth, ticker.price and ticker.book answer as REST, unsigned, with REST weights', async () => {
    const rest = await get(`/fapi/v1/depth?symbol=${SYM}&limit=5`)
    const bookRest = await get(`/fapi/v1/ticker/bookTicker?symbol=${SYM}`)
    const before = weight(await call('ticker.price', {symbol: SYM}, false))
    const d = await call('depth', {symbol: SYM, limit: 5}, false)
    expect(d.status).toBe(200)
    // E and T are the wall clock's when it is sent; the rest is REST's snapshot
    expect(Object.keys(d.result)).toEqual(Object.keys(rest))
    expect(d.result).toMatchObject({lastUpdateId: rest.lastUpdateId, bids: [['3400.00', '10.000']], asks: [['3400.10', '10.000']]})
    expect(typeof d.result.E).toBe('number')
    expect(weight(d) - before).toBe(2)
    const big = await call('depth', {symbol: SYM, limit: 1000}, false)
    expect(weight(big) - weight(d)).toBe(20)
    const tp = await call('ticker.price', {symbol: SYM}, false)
    expect(tp.result).toEqual({symbol: SYM, price: '3400.05', time: clock.now()})
    const tb = await call('ticker.book', {symbol: SYM}, false)
    expect(tb.result).toEqual({...bookRest, time: tb.result.time})
    expect(tb.result).toMatchObject({symbol: SYM, bidPrice: '3400.00', bidQty: '10.000', askPrice: '3400.10', askQty: '10.000'})
    expect(weight(tb) - weight(tp)).toBe(2)
    expect(await call('depth', {limit: 5}, false)).toMatchObject({status: 400, error: {code: -1102}})
    expect(await call('depth', {symbol: 'NOPE', limit: 5}, false)).toMatchObject({status: 400, error: {code: -1121, msg: 'Invalid symbol.'}})
  })

  it('account.status / v2/account.status / account.balance / v2/account.balance are REST account v2 / v3 and balance; signed', async () => {
    const a2 = await call('account.status', {}, true)
    expect(a2.status).toBe(200)
    expect(a2.result).toMatchObject({multiAssetsMargin: false, canTrade: true})
    expect(Object.keys(a2.result)).toEqual(Object.keys((await signed('GET', '/fapi/v2/account', {})).body))
    const a3 = await call('v2/account.status', {}, true)
    expect(Object.keys(a3.result)).toEqual(Object.keys((await signed('GET', '/fapi/v3/account', {})).body))
    expect(a3.result).not.toHaveProperty('canTrade')
    const b2 = await call('account.balance', {}, true)
    const b3 = await call('v2/account.balance', {}, true)
    for (const b of [b2, b3]) expect(b.result).toMatchObject([{accountAlias: 'sim', asset: 'USDC'}])
    expect(b2.result).toEqual((await signed('GET', '/fapi/v2/balance', {})).body)
    expect(weight(b3) - weight(b2)).toBe(5)
    expect(await call('account.status', {apiKey: SIM_TEST_API_KEY}, false)).toMatchObject({status: 400, error: {code: -1102}})
  })
})

describe('market streams a synthetic source does not carry by itself', () => {
  it('<symbol>@bookTicker follows the top of the book (only when it changes); !bookTicker at most every 5 s; @trade reaches /public too', async () => {
    const one = await openWs(`${wsBase}/public/ws/ethusdc@bookTicker`)
    const all = await openWs(`${wsBase}/public/stream?streams=!bookTicker`)
    const trades = await openWs(`${wsBase}/public/ws/ethusdc@trade`)
    try {
      depth(T0 + 1000, [['3400.01', '2.000']], [])
      const first = await one.next((m) => m.e === 'bookTicker', 'the first bookTicker')
      const u = first.u
      expect(first).toEqual({e: 'bookTicker', u, s: SYM, b: '3400.01', B: '2.000', a: '3400.10', A: '10.000', T: T0 + 1000, E: T0 + 1000})
      expect(await all.next((m) => m.stream === '!bookTicker', '!bookTicker')).toEqual({stream: '!bookTicker', data: first})
      depth(T0 + 1100, [['3399.00', '1.000']], []) // below the top: no bookTicker
      depth(T0 + 1200, [], [['3400.09', '3.000']])
      const second = await one.next((m) => m.e === 'bookTicker' && m.a === '3400.09', 'the second bookTicker')
      expect(second).toEqual({e: 'bookTicker', u: u + 2, s: SYM, b: '3400.01', B: '2.000', a: '3400.09', A: '3.000', T: T0 + 1200, E: T0 + 1200})
      publish({kind: 'trade', symbol: SYM, ts: us(T0 + 1300), localTs: us(T0 + 1300), id: '77', side: 'buy', price: '3400.09', qty: '0.500'})
      expect(await trades.next((m) => m.e === 'trade', 'the trade')).toEqual({e: 'trade', E: T0 + 1300, T: T0 + 1300, s: SYM, t: 77, p: '3400.09', q: '0.500', X: 'MARKET', m: false})
      await one.roundTrip()
      await all.roundTrip()
      expect(one.messages).toHaveLength(2)
      // the second change came well within 5 s (of the wall clock) of the first
      expect(all.messages).toHaveLength(1)
    } finally {
      one.close()
      all.close()
      trades.close()
    }
  })

  it('--faults silent=bookTicker keeps a subscribed bookTicker stream quiet (a recorder\'s empty-stream warning) while depth flows; a bad spec is a usage error', async () => {
    expect(parseFaults('silent=bookTicker/trade', () => 0).silent).toEqual(new Set(['bookTicker', 'trade']))
    expect(() => parseFaults('silent=', () => 0)).toThrow('--faults silent=: expected stream types such as bookTicker or bookTicker/trade')
    venue.setFaults({silent: new Set(['bookTicker'])})
    const ws = await openWs(`${wsBase}/public/stream?streams=ethusdc@bookTicker/ethusdc@depth`)
    try {
      depth(T0 + 1350, [['3400.05', '1.000']], [])
      await ws.next((m) => m.stream === 'ethusdc@depth', 'the diff')
      await ws.roundTrip()
      expect(ws.messages.map((m) => m.stream)).toEqual(['ethusdc@depth'])
    } finally {
      venue.setFaults({})
      ws.close()
    }
  })

  it('partial depth <symbol>@depth5@100ms: the top 5 levels of each side after each update, with the diff\'s U / u / pu', async () => {
    const ws = await openWs(`${wsBase}/public/stream?streams=ethusdc@depth5@100ms/ethusdc@depth`)
    try {
      depth(T0 + 1400, [['3399.50', '4.000'], ['3398.00', '1.000'], ['3397.00', '1.000'], ['3396.00', '1.000']], [['3400.20', '5.000']])
      const diff = await ws.next((m) => m.stream === 'ethusdc@depth', 'the diff')
      const part = await ws.next((m) => m.stream === 'ethusdc@depth5@100ms', 'the partial depth')
      const rest = await get(`/fapi/v1/depth?symbol=${SYM}&limit=5`)
      expect(part.data).toEqual({e: 'depthUpdate', E: T0 + 1400, T: T0 + 1400, s: SYM, U: diff.data.U, u: diff.data.u, pu: diff.data.pu, b: rest.bids, a: rest.asks})
      expect(part.data.b).toEqual([['3400.05', '1.000'], ['3400.01', '2.000'], ['3400.00', '10.000'], ['3399.50', '4.000'], ['3399.00', '1.000']])
      expect(part.data.a).toEqual([['3400.09', '3.000'], ['3400.10', '10.000'], ['3400.20', '5.000']])
    } finally {
      ws.close()
    }
  })

  it('<symbol>@ticker and @miniTicker (every 2 s) carry the 24 h ticker under the stream letters', async () => {
    const t = await openWs(`${wsBase}/market/stream?streams=ethusdc@ticker/ethusdc@miniTicker`)
    try {
      const full = await t.next((m) => m.stream === 'ethusdc@ticker', '24hrTicker', 30_000)
      const mini = await t.next((m) => m.stream === 'ethusdc@miniTicker', '24hrMiniTicker', 30_000)
      const r = await get(`/fapi/v1/ticker/24hr?symbol=${SYM}`)
      expect(full.data).toEqual({e: '24hrTicker', E: r.closeTime, s: SYM, p: r.priceChange, P: r.priceChangePercent, w: r.weightedAvgPrice, c: r.lastPrice, Q: r.lastQty, o: r.openPrice, h: r.highPrice, l: r.lowPrice, v: r.volume, q: r.quoteVolume, O: r.openTime, C: r.closeTime, F: r.firstId, L: r.lastId, n: r.count})
      expect(full.data).toMatchObject({c: '3400.09', Q: '0.500', v: '0.500', n: 1, F: 77, L: 77})
      expect(mini.data).toEqual({e: '24hrMiniTicker', E: r.closeTime, s: SYM, c: '3400.09', o: '3400.09', h: '3400.09', l: '3400.09', v: '0.500', q: r.quoteVolume})
    } finally {
      t.close()
    }
  })
})

describe("refusals with the codes of Binance's error page (FACTS.md §2.1, §4 [ERR])", () => {
  it('PRICE_FILTER maxPrice as exchangeInfo lists it (-4002); more than 5 batch orders -4082; quantity 0 -4003; userTrades fromId with a time bound -1128', async () => {
    const info = await get('/fapi/v1/exchangeInfo')
    expect(info.symbols[0].filters[0]).toEqual({filterType: 'PRICE_FILTER', minPrice: '0.01', maxPrice: '1000000', tickSize: '0.01'})
    // a SELL far above the mark passes PERCENT_PRICE; above maxPrice Binance refuses it (the sim placed it)
    const high = await signed('POST', '/fapi/v1/order/test', {symbol: SYM, side: 'SELL', type: 'LIMIT', timeInForce: 'GTX', quantity: '0.010', price: '1000000.01'})
    expect({status: high.status, body: high.body}).toEqual({status: 400, body: {code: -4002, msg: 'Price greater than max price.'}})
    expect((await signed('POST', '/fapi/v1/order/test', {symbol: SYM, side: 'SELL', type: 'LIMIT', timeInForce: 'GTX', quantity: '0.010', price: '1000000.00'})).body).toEqual({})
    const zero = await signed('POST', '/fapi/v1/order/test', {symbol: SYM, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: '0.000', price: '3300.00'})
    expect(zero.body).toEqual({code: -4003, msg: 'Quantity less than zero.'})
    const six = Array.from({length: 6}, (_, i) => ({symbol: SYM, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: '0.010', price: '3300.00', newClientOrderId: `six-${i}`}))
    const batch = await signed('POST', '/fapi/v1/batchOrders', {batchOrders: JSON.stringify(six)})
    expect({status: batch.status, body: batch.body}).toEqual({status: 400, body: {code: -4082, msg: 'Invalid number of batch place orders.'}})
    expect((await signed('GET', '/fapi/v1/openOrders', {symbol: SYM})).body).toEqual([])
    for (const bound of [{startTime: String(T0)}, {endTime: String(T0 + 60_000)}] as Array<Record<string, string>>) {
      const r = await signed('GET', '/fapi/v1/userTrades', {symbol: SYM, fromId: '1', ...bound})
      expect({status: r.status, body: r.body}).toEqual({status: 400, body: {code: -1128, msg: 'Combination of optional parameters invalid.'}})
    }
    expect((await signed('GET', '/fapi/v1/userTrades', {symbol: SYM, fromId: '1'})).status).toBe(200)
  })
})
