/**
 * The routes third-party clients call around trading (src/lib/venue/sim/extras.ts), over
 * HTTP on 127.0.0.1 against an in-process sim whose clock and market are controlled: a
 * known book, four known market trades, the account's own fills and one funding booking.
 * Every answer is checked as exact JSON, every refusal by its code, message and status,
 * and every route's weight by the X-MBX-USED-WEIGHT-1M it adds.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {VirtualClock} from '../../src/lib/clock/clock.js'
import type {MarketEvent} from '../../src/lib/market/events.js'
import {manualTimers} from '../../src/lib/venue/sim/exchange.js'
import {fixedDp, klineOpen} from '../../src/lib/venue/sim/extras.js'
import {SimVenue} from '../../src/lib/venue/sim/server.js'
import {SimTrading} from '../../src/lib/venue/sim/trading.js'
import {settle} from '../support/settle.js'
import {type Answer, signed as signedCall} from '../support/sim-cli.js'

const SYM = 'ETHUSDC'
/** a minute boundary: the klines below open on it */
const T0 = Date.UTC(2026, 10, 30, 12, 0, 0)
const inst = {symbol: SYM, tickSize: '0.01', stepSize: '0.001', minNotional: '20'}

let clock: VirtualClock
let venue: SimVenue
let trading: SimTrading
let base: string

const us = (ms: number) => ms * 1000
function publish(ev: MarketEvent): void {
  clock.set(ev.ts / 1000)
  venue.publish(ev)
}
function trade(id: string, ms: number, price: string, qty: string, side: 'buy' | 'sell'): void {
  publish({kind: 'trade', symbol: SYM, ts: us(ms), localTs: us(ms), id, side, price, qty})
}
const step = (ms: number) => {
  clock.advance(ms)
  trading.exchange.advanceTo(trading.marketClock.now())
}

async function get(path: string): Promise<Answer> {
  const r = await fetch(`${base}${path}`)
  return {status: r.status, headers: r.headers, body: await r.json()}
}
const signed = (method: string, path: string, params: Record<string, string>) => signedCall(base, method, path, params, {timestamp: clock.now()})

/** the weight a call adds to X-MBX-USED-WEIGHT-1M (the clock stays in one minute window) */
async function weightOf(call: () => Promise<Answer>): Promise<number> {
  const before = Number((await get('/fapi/v1/time')).headers.get('x-mbx-used-weight-1m'))
  const a = await call()
  return Number(a.headers.get('x-mbx-used-weight-1m')) - before
}

const refused = (code: number, msg: string) => ({status: 400, body: {code, msg}})
const answer = (a: Answer) => ({status: a.status, body: a.body})

beforeAll(async () => {
  clock = new VirtualClock(T0)
  venue = new SimVenue({instruments: [inst], rebaseTime: false})
  trading = new SimTrading(venue, {instruments: [inst], wall: clock, timers: manualTimers})
  await venue.start()
  base = venue.restUrl
  publish({kind: 'snapshot', symbol: SYM, ts: us(T0), localTs: us(T0), bids: [['3400.00', '10.000']], asks: [['3400.10', '10.000']]} as MarketEvent)
})
afterAll(async () => {
  trading.stop()
  await venue.stop()
})

describe('before any trade', () => {
  it('ticker/price is the mark price (the mid) at server time; klines and trades are empty; the 24 h ticker has no trade', async () => {
    expect(answer(await get(`/fapi/v1/ticker/price?symbol=${SYM}`))).toEqual({status: 200, body: {symbol: SYM, price: '3400.05', time: T0}})
    expect((await get(`/fapi/v1/klines?symbol=${SYM}&interval=1m`)).body).toEqual([])
    expect((await get(`/fapi/v1/trades?symbol=${SYM}`)).body).toEqual([])
    expect((await get(`/fapi/v1/ticker/24hr?symbol=${SYM}`)).body).toEqual({symbol: SYM, priceChange: '0.00', priceChangePercent: '0.000', weightedAvgPrice: '3400.05', lastPrice: '3400.05', lastQty: '0.000', openPrice: '3400.05', highPrice: '3400.05', lowPrice: '3400.05', volume: '0.000', quoteVolume: '0.00000', openTime: T0 - 86_400_000, closeTime: T0, firstId: -1, lastId: -1, count: 0})
  })
})

describe('market data from the trades the sim published', () => {
  beforeAll(() => {
    trade('100', T0 + 1_000, '3400.00', '0.500', 'sell')
    trade('101', T0 + 30_000, '3400.10', '0.250', 'buy')
    trade('102', T0 + 61_000, '3401.00', '1.000', 'buy')
    trade('103', T0 + 185_000, '3399.50', '0.100', 'sell')
    clock.set(T0 + 200_000)
  })

  it('GET /fapi/v1/ping: {} (weight 1)', async () => {
    expect(answer(await get('/fapi/v1/ping'))).toEqual({status: 200, body: {}})
    expect(await weightOf(() => get('/fapi/v1/ping'))).toBe(1)
    // the spot ping and time a client built for both markets calls on start (python-binance's Client)
    expect(answer(await get('/api/v3/ping'))).toEqual({status: 200, body: {}})
    const t = answer(await get('/api/v3/time'))
    expect(t.status).toBe(200)
    expect(t.body).toEqual((answer(await get('/fapi/v1/time'))).body)
  })

  it('ticker/price v1 and v2: the last trade, its time; a list without symbol; weights 1 / 2', async () => {
    const one = {symbol: SYM, price: '3399.50', time: T0 + 185_000}
    expect(answer(await get(`/fapi/v1/ticker/price?symbol=${SYM}`))).toEqual({status: 200, body: one})
    expect(answer(await get(`/fapi/v2/ticker/price?symbol=ethusdc`))).toEqual({status: 200, body: one})
    expect((await get('/fapi/v1/ticker/price')).body).toEqual([one])
    expect((await get('/fapi/v2/ticker/price')).body).toEqual([one])
    expect(answer(await get('/fapi/v1/ticker/price?symbol=BTCUSDT'))).toEqual(refused(-1121, 'Invalid symbol.'))
    expect(await weightOf(() => get(`/fapi/v1/ticker/price?symbol=${SYM}`))).toBe(1)
    expect(await weightOf(() => get('/fapi/v2/ticker/price'))).toBe(2)
  })

  it('ticker/24hr: the rolling 24 h of trades; a list without symbol; weights 1 / 40', async () => {
    const now = T0 + 200_000
    const want = {
      symbol: SYM,
      priceChange: '-0.50',
      // −0.50 / 3400.00 × 100 = −0.0147…
      priceChangePercent: '-0.015',
      // (3400.00·0.5 + 3400.10·0.25 + 3401.00·1 + 3399.50·0.1) / 1.85 = 6290.975 / 1.85 = 3400.527…
      weightedAvgPrice: '3400.53',
      lastPrice: '3399.50',
      lastQty: '0.100',
      openPrice: '3400.00',
      highPrice: '3401.00',
      lowPrice: '3399.50',
      volume: '1.850',
      quoteVolume: '6290.97500',
      openTime: now - 86_400_000,
      closeTime: now,
      firstId: 100,
      lastId: 103,
      count: 4,
    }
    expect(answer(await get(`/fapi/v1/ticker/24hr?symbol=${SYM}`))).toEqual({status: 200, body: want})
    expect((await get('/fapi/v1/ticker/24hr')).body).toEqual([want])
    expect(await weightOf(() => get(`/fapi/v1/ticker/24hr?symbol=${SYM}`))).toBe(1)
    expect(await weightOf(() => get('/fapi/v1/ticker/24hr'))).toBe(40)
  })

  it('klines: Binance arrays, quiet minutes filled with the previous close, startTime / endTime / limit; weights by limit', async () => {
    const k0 = [T0, '3400.00', '3400.10', '3400.00', '3400.10', '0.750', T0 + 59_999, '2550.02500', 2, '0.250', '850.02500', '0']
    const k1 = [T0 + 60_000, '3401.00', '3401.00', '3401.00', '3401.00', '1.000', T0 + 119_999, '3401.00000', 1, '1.000', '3401.00000', '0']
    const k2 = [T0 + 120_000, '3401.00', '3401.00', '3401.00', '3401.00', '0.000', T0 + 179_999, '0.00000', 0, '0.000', '0.00000', '0']
    const k3 = [T0 + 180_000, '3399.50', '3399.50', '3399.50', '3399.50', '0.100', T0 + 239_999, '339.95000', 1, '0.000', '0.00000', '0']
    expect(answer(await get(`/fapi/v1/klines?symbol=${SYM}&interval=1m`))).toEqual({status: 200, body: [k0, k1, k2, k3]})
    expect((await get(`/fapi/v1/klines?symbol=${SYM}&interval=1m&limit=2`)).body).toEqual([k2, k3])
    expect((await get(`/fapi/v1/klines?symbol=${SYM}&interval=1m&startTime=${T0 + 1}&limit=2`)).body).toEqual([k1, k2])
    expect((await get(`/fapi/v1/klines?symbol=${SYM}&interval=1m&startTime=${T0}&endTime=${T0 + 60_000}`)).body).toEqual([k0, k1])
    expect((await get(`/fapi/v1/klines?symbol=${SYM}&interval=5m`)).body).toEqual([[T0, '3400.00', '3401.00', '3399.50', '3399.50', '1.850', T0 + 299_999, '6290.97500', 4, '1.250', '4251.02500', '0']])
    expect((await get(`/fapi/v1/klines?symbol=${SYM}&interval=1M`)).body).toEqual([[Date.UTC(2026, 10, 1), '3400.00', '3401.00', '3399.50', '3399.50', '1.850', Date.UTC(2026, 11, 1) - 1, '6290.97500', 4, '1.250', '4251.02500', '0']])
    expect(answer(await get(`/fapi/v1/klines?symbol=${SYM}&interval=2m`))).toEqual(refused(-1120, 'Invalid interval.'))
    expect(answer(await get(`/fapi/v1/klines?symbol=${SYM}`))).toEqual(refused(-1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed."))
    expect(answer(await get('/fapi/v1/klines?interval=1m'))).toEqual(refused(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."))
    expect(answer(await get(`/fapi/v1/klines?symbol=${SYM}&interval=1m&limit=x`))).toEqual(refused(-1130, "Data sent for parameter 'limit' is not valid."))
    expect(await weightOf(() => get(`/fapi/v1/klines?symbol=${SYM}&interval=1m&limit=99`))).toBe(1)
    expect(await weightOf(() => get(`/fapi/v1/klines?symbol=${SYM}&interval=1m&limit=100`))).toBe(2)
    expect(await weightOf(() => get(`/fapi/v1/klines?symbol=${SYM}&interval=1m`))).toBe(5)
    expect(await weightOf(() => get(`/fapi/v1/klines?symbol=${SYM}&interval=1m&limit=1500`))).toBe(10)
  })

  it('kline open times: 1w opens on Monday 00:00 UTC, 1M on the 1st, 3d on the epoch grid', () => {
    // 2026-11-30 is a Monday
    expect(klineOpen(Date.UTC(2026, 11, 3, 5), '1w')).toBe(Date.UTC(2026, 10, 30))
    expect(klineOpen(Date.UTC(2026, 10, 29, 23, 59), '1w')).toBe(Date.UTC(2026, 10, 23))
    expect(klineOpen(Date.UTC(2026, 1, 28, 23), '1M')).toBe(Date.UTC(2026, 1, 1))
    expect(klineOpen(Date.UTC(2026, 10, 30, 12, 34, 56), '4h')).toBe(Date.UTC(2026, 10, 30, 12))
    expect(klineOpen(3 * 86_400_000 + 5, '3d')).toBe(3 * 86_400_000)
  })

  it('trades: the most recent `limit`, oldest first; weight 5', async () => {
    expect(answer(await get(`/fapi/v1/trades?symbol=${SYM}&limit=2`))).toEqual({status: 200, body: [
      {id: 102, price: '3401.00', qty: '1.000', quoteQty: '3401.00000', time: T0 + 61_000, isBuyerMaker: false},
      {id: 103, price: '3399.50', qty: '0.100', quoteQty: '339.95000', time: T0 + 185_000, isBuyerMaker: true},
    ]})
    expect(((await get(`/fapi/v1/trades?symbol=${SYM}`)).body as Array<{id: number}>).map((t) => t.id)).toEqual([100, 101, 102, 103])
    expect(answer(await get('/fapi/v1/trades'))).toEqual(refused(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."))
    expect(answer(await get(`/fapi/v1/trades?symbol=${SYM}&limit=0`))).toEqual(refused(-1130, "Data sent for parameter 'limit' is not valid."))
    expect(await weightOf(() => get(`/fapi/v1/trades?symbol=${SYM}`))).toBe(5)
  })

  it('aggTrades: one trade per aggregate (a = f = l = the trade id), fromId / startTime / endTime; more than 1 h is -1127; weight 20', async () => {
    expect(answer(await get(`/fapi/v1/aggTrades?symbol=${SYM}&fromId=101&limit=2`))).toEqual({status: 200, body: [
      {a: 101, p: '3400.10', q: '0.250', f: 101, l: 101, T: T0 + 30_000, m: false},
      {a: 102, p: '3401.00', q: '1.000', f: 102, l: 102, T: T0 + 61_000, m: false},
    ]})
    expect(((await get(`/fapi/v1/aggTrades?symbol=${SYM}&startTime=${T0 + 30_000}&endTime=${T0 + 61_000}`)).body as Array<{a: number}>).map((t) => t.a)).toEqual([101, 102])
    expect(((await get(`/fapi/v1/aggTrades?symbol=${SYM}&limit=1`)).body as Array<{a: number}>).map((t) => t.a)).toEqual([103])
    expect(answer(await get(`/fapi/v1/aggTrades?symbol=${SYM}&startTime=${T0}&endTime=${T0 + 3_600_001}`))).toEqual(refused(-1127, 'More than 1 hours between startTime and endTime.'))
    expect(await weightOf(() => get(`/fapi/v1/aggTrades?symbol=${SYM}`))).toBe(20)
  })

  it('premiumIndex and bookTicker without symbol are lists; weights 10 / 5', async () => {
    const pi = await get('/fapi/v1/premiumIndex')
    expect(pi.status).toBe(200)
    expect(pi.body).toEqual([{symbol: SYM, markPrice: '3400.05', indexPrice: '3400.05', estimatedSettlePrice: '3400.05', lastFundingRate: '0.0001', interestRate: '0.00010000', nextFundingTime: Date.UTC(2026, 10, 30, 16), time: T0 + 200_000}])
    const bt = await get('/fapi/v1/ticker/bookTicker')
    expect(bt.body).toEqual([{symbol: SYM, bidPrice: '3400.00', bidQty: '10.000', askPrice: '3400.10', askQty: '10.000', time: T0 + 200_000, lastUpdateId: (bt.body as Array<{lastUpdateId: number}>)[0].lastUpdateId}])
    expect((await get(`/fapi/v1/ticker/bookTicker?symbol=${SYM}`)).body).toEqual((bt.body as unknown[])[0])
    expect(await weightOf(() => get('/fapi/v1/premiumIndex'))).toBe(10)
    expect(await weightOf(() => get('/fapi/v1/ticker/bookTicker'))).toBe(5)
    expect(await weightOf(() => get(`/fapi/v1/ticker/bookTicker?symbol=${SYM}`))).toBe(2)
  })
})

describe('position mode and margin type', () => {
  const dual = (v?: string) => signed('POST', '/fapi/v1/positionSide/dual', v === undefined ? {} : {dualSidePosition: v})
  const margin = (params: Record<string, string>) => signed('POST', '/fapi/v1/marginType', params)
  const ok = {status: 200, body: {code: 200, msg: 'success'}}

  it('positionSide/dual: -4059 when already so; hedge on and off when flat with no order; -1102 / -1130; weight 1', async () => {
    expect(answer(await dual('false'))).toEqual(refused(-4059, 'No need to change position side.'))
    expect(answer(await dual())).toEqual(refused(-1102, "Mandatory parameter 'dualSidePosition' was not sent, was empty/null, or malformed."))
    expect(answer(await dual('yes'))).toEqual(refused(-1130, "Data sent for parameter 'dualSidePosition' is not valid."))
    expect(answer(await dual('true'))).toEqual(ok)
    expect((await signed('GET', '/fapi/v1/positionSide/dual', {})).body).toEqual({dualSidePosition: true})
    // hedge mode is a state for refusals: a one-way order is now -4061
    await expect(trading.exchange.newOrder(new Map(Object.entries({symbol: SYM, side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '3300.00', quantity: '0.010'})))).rejects.toMatchObject({code: -4061})
    expect(answer(await dual('TRUE'))).toEqual(refused(-4059, 'No need to change position side.'))
    expect(answer(await dual('false'))).toEqual(ok)
    expect((await signed('GET', '/fapi/v1/positionSide/dual', {})).body).toEqual({dualSidePosition: false})
    expect(await weightOf(() => dual('false'))).toBe(1)
    // unsigned: -1102 signature; wrong key: -2015
    expect(answer(await get('/fapi/v1/positionSide/dual?dualSidePosition=true'))).toMatchObject({status: 401, body: {code: -2015}})
  })

  it('feeBurn: off by default; POST turns the BNB fee discount on and off (GET answers it, weight 30); -1102 / -1130', async () => {
    const burn = (v?: string) => signed('POST', '/fapi/v1/feeBurn', v === undefined ? {} : {feeBurn: v})
    expect((await signed('GET', '/fapi/v1/feeBurn', {})).body).toEqual({feeBurn: false})
    expect(answer(await burn('true'))).toEqual(ok)
    expect((await signed('GET', '/fapi/v1/feeBurn', {})).body).toEqual({feeBurn: true})
    expect(answer(await burn('FALSE'))).toEqual(ok)
    expect((await signed('GET', '/fapi/v1/feeBurn', {})).body).toEqual({feeBurn: false})
    expect(answer(await burn())).toEqual(refused(-1102, "Mandatory parameter 'feeBurn' was not sent, was empty/null, or malformed."))
    expect(answer(await burn('yes'))).toEqual(refused(-1130, "Data sent for parameter 'feeBurn' is not valid."))
    expect(await weightOf(() => signed('GET', '/fapi/v1/feeBurn', {}))).toBe(30)
    expect(await weightOf(() => burn('false'))).toBe(1)
  })

  it('marginType: ISOLATED and back to CROSSED when flat (positionRisk v2 follows); -4046; -1102 / -1130 / -1121; weight 1', async () => {
    expect(answer(await margin({symbol: SYM, marginType: 'CROSSED'}))).toEqual(refused(-4046, 'No need to change margin type.'))
    expect(answer(await margin({symbol: SYM, marginType: 'ISOLATED'}))).toEqual(ok)
    expect((await signed('GET', '/fapi/v2/positionRisk', {symbol: SYM})).body[0]).toMatchObject({symbol: SYM, marginType: 'isolated'})
    expect((await signed('GET', '/fapi/v2/account', {})).body.positions[0]).toMatchObject({symbol: SYM, isolated: true})
    expect(answer(await margin({symbol: SYM, marginType: 'ISOLATED'}))).toEqual(refused(-4046, 'No need to change margin type.'))
    expect(answer(await margin({symbol: SYM, marginType: 'CROSSED'}))).toEqual(ok)
    expect((await signed('GET', '/fapi/v2/positionRisk', {symbol: SYM})).body[0]).toMatchObject({symbol: SYM, marginType: 'cross'})
    expect(answer(await margin({symbol: SYM}))).toEqual(refused(-1102, "Mandatory parameter 'marginType' was not sent, was empty/null, or malformed."))
    expect(answer(await margin({marginType: 'ISOLATED'}))).toEqual(refused(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."))
    expect(answer(await margin({symbol: SYM, marginType: 'CROSS'}))).toEqual(refused(-1130, "Data sent for parameter 'marginType' is not valid."))
    expect(answer(await margin({symbol: 'BTCUSDT', marginType: 'ISOLATED'}))).toEqual(refused(-1121, 'Invalid symbol.'))
    expect(await weightOf(() => margin({symbol: SYM, marginType: 'CROSSED'}))).toBe(1)
  })

  it('an open order refuses both (-4067, -4047); a position refuses both (-4068, -4048)', async () => {
    const ex = trading.exchange
    const p = (o: Record<string, string>) => new Map(Object.entries({symbol: SYM, ...o}))
    const resting = await settle(ex.newOrder(p({side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '3300.00', quantity: '0.010'})), step)
    expect(answer(await dual('true'))).toEqual(refused(-4067, 'Position side cannot be changed if there exists open orders.'))
    expect(answer(await margin({symbol: SYM, marginType: 'ISOLATED'}))).toEqual(refused(-4047, 'Margin type cannot be changed if there exists open orders.'))
    await settle(ex.cancelOrder(p({orderId: String(resting.orderId)})), step)
    // a taker buy at the ask opens a long of 0.010
    expect(await settle(ex.newOrder(p({side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', price: '3400.10', quantity: '0.010', newOrderRespType: 'RESULT'})), step)).toMatchObject({status: 'FILLED', avgPrice: '3400.1'})
    expect(answer(await dual('true'))).toEqual(refused(-4068, 'Position side cannot be changed if there exists position.'))
    expect(answer(await margin({symbol: SYM, marginType: 'ISOLATED'}))).toEqual(refused(-4048, 'Margin type cannot be changed if there exists position.'))
  })
})

describe('open interest, funding and income from the account ledger', () => {
  it('openInterest: the account position; fundingRate: the bookings; income: REALIZED_PNL, COMMISSION, FUNDING_FEE with filters', async () => {
    const ex = trading.exchange
    expect(answer(await get(`/fapi/v1/openInterest?symbol=${SYM}`))).toEqual({status: 200, body: {openInterest: '0.010', symbol: SYM, time: clock.now()}})
    expect(answer(await get('/fapi/v1/openInterest'))).toEqual(refused(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."))
    expect((await get('/fapi/v1/fundingRate')).body).toEqual([])
    // one funding booking on the open long: 0.010 × mark 3400.05 × 0.0001 = 0.00340005 paid
    clock.advance(1000)
    const fundingTime = clock.now()
    ex.bookFunding()
    expect(answer(await get(`/fapi/v1/fundingRate?symbol=${SYM}`))).toEqual({status: 200, body: [{symbol: SYM, fundingRate: '0.00010000', fundingTime, markPrice: '3400.05000000'}]})
    expect((await get(`/fapi/v1/fundingRate?startTime=${fundingTime + 1}`)).body).toEqual([])
    // a taker sell at the bid closes it: realised (3400.00 − 3400.10) × 0.010 = −0.001
    const p = (o: Record<string, string>) => new Map(Object.entries({symbol: SYM, ...o}))
    await settle(ex.newOrder(p({side: 'SELL', type: 'LIMIT', timeInForce: 'IOC', price: '3400.00', quantity: '0.010', reduceOnly: 'true', newOrderRespType: 'RESULT'})), step)
    const [open, close] = ex.tradeLog
    expect(open).toMatchObject({price: '3400.10', qty: '0.010', commission: '0.0170005', realizedPnl: '0'})
    expect(close).toMatchObject({price: '3400.00', qty: '0.010', commission: '0.017', realizedPnl: '-0.001'})
    const all = [
      {symbol: SYM, incomeType: 'COMMISSION', income: '-0.01700050', asset: 'USDC', info: 'COMMISSION', time: open.time, tranId: 9_000_000_000 + open.id, tradeId: String(open.id)},
      {symbol: SYM, incomeType: 'FUNDING_FEE', income: '-0.00340005', asset: 'USDC', info: 'FUNDING_FEE', time: fundingTime, tranId: 8_000_000_001, tradeId: ''},
      {symbol: SYM, incomeType: 'REALIZED_PNL', income: '-0.00100000', asset: 'USDC', info: 'REALIZED_PNL', time: close.time, tranId: 9_000_000_000 + close.id, tradeId: String(close.id)},
      {symbol: SYM, incomeType: 'COMMISSION', income: '-0.01700000', asset: 'USDC', info: 'COMMISSION', time: close.time, tranId: 9_000_000_000 + close.id, tradeId: String(close.id)},
    ]
    expect(open.time).toBeLessThan(fundingTime)
    expect(close.time).toBeGreaterThan(fundingTime)
    const income = (q: Record<string, string>) => signed('GET', '/fapi/v1/income', q)
    expect(answer(await income({}))).toEqual({status: 200, body: all})
    expect((await income({symbol: SYM, incomeType: 'COMMISSION'})).body).toEqual([all[0], all[3]])
    expect((await income({incomeType: 'FUNDING_FEE'})).body).toEqual([all[1]])
    expect((await income({incomeType: 'TRANSFER'})).body).toEqual([])
    expect((await income({startTime: String(fundingTime)})).body).toEqual(all.slice(1))
    expect((await income({endTime: String(fundingTime)})).body).toEqual(all.slice(0, 2))
    expect((await income({limit: '2'})).body).toEqual(all.slice(0, 2))
    expect((await income({limit: '2', page: '2'})).body).toEqual(all.slice(2))
    // the wallet moved by exactly the rows' sum
    // 10000 − 0.0170005 − 0.00340005 − 0.001 − 0.017
    expect((await signed('GET', '/fapi/v2/balance', {})).body[0].balance).toBe('9999.96159945')
    expect(answer(await income({incomeType: 'PNL'}))).toEqual(refused(-1130, "Data sent for parameter 'incomeType' is not valid."))
    expect(answer(await income({symbol: 'BTCUSDT'}))).toEqual(refused(-1121, 'Invalid symbol.'))
    expect(answer(await get('/fapi/v1/income'))).toMatchObject({status: 401, body: {code: -2015}})
    expect(await weightOf(() => income({}))).toBe(30)
    expect(await weightOf(() => get('/fapi/v1/fundingRate'))).toBe(1)
    expect(await weightOf(() => get(`/fapi/v1/openInterest?symbol=${SYM}`))).toBe(1)
    expect((await get(`/fapi/v1/openInterest?symbol=${SYM}`)).body.openInterest).toBe('0.000')
  })

  it('fixedDp: exact places, half-even, no float', () => {
    expect(fixedDp('-0.001', 8)).toBe('-0.00100000')
    expect(fixedDp('0.000000005', 8)).toBe('0.00000000')
    expect(fixedDp('0.000000015', 8)).toBe('0.00000002')
    expect(fixedDp('-0.0000000001', 8)).toBe('0.00000000')
    expect(fixedDp('12', 3)).toBe('12.000')
  })
})
