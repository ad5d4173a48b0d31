/**
 * A typical third-party bot start-up against `mm sim` (the real CLI), with the two
 * installed clients: the `binance` package's USDMClient and ccxt's binanceusdm. Each sets
 * the position mode and the margin type (seeing Binance's "no need to change" refusals),
 * reads the last price, candles, trades and the 24 h ticker, trades in and out, reads its
 * income, then places and cancels an order. Values are checked against the sim's own books
 * (GET /__mm/state), so nothing depends on which synthetic trades happen when.
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import ccxt from 'ccxt'
import {USDMClient} from 'binance'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {farPrices, getJson, signed, type SimProc, startSim, TEST_KEY, TEST_SECRET, until} from '../support/sim-cli.js'

let sim: SimProc
beforeAll(async () => {
  ensureBuilt('sim')
  sim = await startSim()
})
afterAll(async () => {
  expect(await sim.stop()).toBe(0)
})

const SYMBOL = 'ETHUSDC'
const MARKET = 'ETH/USDC:USDC'
const PRICE = /^\d+\.\d{2}$/

/** the income rows the sim's own trades must give (REALIZED_PNL when not 0, COMMISSION), as exact strings */
function incomeOf(trades: any[]): Array<[string, string, string]> {
  const eight = (s: string) => {
    const neg = s.startsWith('-')
    const [i, f = ''] = (neg ? s.slice(1) : s).split('.')
    return `${neg ? '-' : ''}${i}.${f.padEnd(8, '0')}`
  }
  const rows: Array<[string, string, string]> = []
  for (const t of trades) {
    if (t.realizedPnl !== '0') rows.push(['REALIZED_PNL', eight(t.realizedPnl), String(t.id)])
    rows.push(['COMMISSION', eight(t.commission.startsWith('-') ? t.commission.slice(1) : `-${t.commission}`), String(t.id)])
  }
  return rows
}

async function simTrades(): Promise<any[]> {
  return (await getJson(sim.restUrl, '/__mm/state?requests=0')).body.trades
}

describe('a bot start-up against mm sim', () => {
  it('binance USDMClient: position mode, margin type, ticker price, klines, trades, 24 h, income; place and cancel', async () => {
    const client = new USDMClient({api_key: TEST_KEY, api_secret: TEST_SECRET, baseUrl: sim.restUrl, disableTimeSync: true})
    expect(await client.testConnectivity()).toEqual({})

    // one-way is the default: asking for it again is -4059, which a bot treats as done
    expect(await client.getCurrentPositionMode()).toEqual({dualSidePosition: false})
    const again: any = await client.setPositionMode({dualSidePosition: 'false'}).then(() => undefined, (e) => e)
    expect([again?.code, again?.message]).toEqual([-4059, 'No need to change position side.'])
    expect(await client.setPositionMode({dualSidePosition: 'true'})).toEqual({code: 200, msg: 'success'})
    expect(await client.getCurrentPositionMode()).toEqual({dualSidePosition: true})
    expect(await client.setPositionMode({dualSidePosition: 'false'})).toEqual({code: 200, msg: 'success'})
    expect(await client.setMarginType({symbol: SYMBOL, marginType: 'ISOLATED'})).toEqual({code: 200, msg: 'success'})
    expect(await client.setMarginType({symbol: SYMBOL, marginType: 'CROSSED'})).toEqual({code: 200, msg: 'success'})
    const same: any = await client.setMarginType({symbol: SYMBOL, marginType: 'CROSSED'}).then(() => undefined, (e) => e)
    expect([same?.code, same?.message]).toEqual([-4046, 'No need to change margin type.'])

    // market data: wait (bounded) for the synthetic market's first trade
    await until(async () => ((await client.getRecentTrades({symbol: SYMBOL, limit: 1})).length > 0 ? true : undefined), 'a first market trade')
    const ticker: any = await client.getSymbolPriceTicker({symbol: SYMBOL})
    expect(ticker.symbol).toBe(SYMBOL)
    expect(ticker.price).toMatch(PRICE)
    const v2: any = await client.getSymbolPriceTickerV2({symbol: SYMBOL})
    expect(v2.price).toMatch(PRICE)
    // the ticker's price is a trade the sim published: it is among the recent trades read after it
    const recent: any[] = await client.getRecentTrades({symbol: SYMBOL, limit: 1000})
    expect(recent.some((t) => t.time === ticker.time && t.price === ticker.price)).toBe(true)
    const klines: any[] = await client.getKlines({symbol: SYMBOL, interval: '1m', limit: 5})
    expect(klines.length).toBeGreaterThan(0)
    for (const k of klines) {
      expect(k).toHaveLength(12)
      expect(k[0] % 60_000).toBe(0)
      expect(k[6]).toBe(k[0] + 59_999)
      for (const i of [1, 2, 3, 4]) expect(k[i]).toMatch(PRICE)
    }
    const day: any = await client.get24hrChangeStatistics({symbol: SYMBOL})
    expect(day).toMatchObject({symbol: SYMBOL})
    expect(day.count).toBeGreaterThan(0)
    expect(Number(day.lowPrice)).toBeLessThanOrEqual(Number(day.highPrice))
    expect(await client.getOpenInterest({symbol: SYMBOL})).toMatchObject({symbol: SYMBOL, openInterest: '0.000'})

    // trade in and out with two IOCs across the book
    const cross = await farPrices(sim.restUrl, 200)
    await client.submitNewOrder({symbol: SYMBOL, side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', quantity: 0.02, price: Number(cross.bidAboveAsk), newOrderRespType: 'RESULT'})
    await client.submitNewOrder({symbol: SYMBOL, side: 'SELL', type: 'LIMIT', timeInForce: 'IOC', quantity: 0.02, price: Number(cross.askBelowBid), reduceOnly: 'true', newOrderRespType: 'RESULT'})
    const trades = await simTrades()
    // one trade per order, or more when an IOC takes more than one level of a thin touch
    expect(new Set(trades.map((t) => t.orderId)).size).toBe(2)
    const income: any[] = await client.getIncomeHistory({symbol: SYMBOL})
    expect(income.map((r) => [r.incomeType, r.income, r.tradeId])).toEqual(incomeOf(trades))
    expect(income.every((r) => r.asset === 'USDC' && r.symbol === SYMBOL && typeof r.tranId === 'number' && typeof r.time === 'number')).toBe(true)
    expect((await client.getIncomeHistory({symbol: SYMBOL, incomeType: 'FUNDING_FEE'})).length).toBe(0)

    // then it quotes: place a post-only order away from the touch and cancel it
    const far = await farPrices(sim.restUrl, 300)
    const placed = await client.submitNewOrder({symbol: SYMBOL, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: 0.01, price: Number(far.bidBelow), newClientOrderId: 'x-15PC4ZJy-startup1'})
    expect(placed).toMatchObject({status: 'NEW', clientOrderId: 'x-15PC4ZJy-startup1'})
    // an open order: the position mode cannot change now
    const busy: any = await client.setPositionMode({dualSidePosition: 'true'}).then(() => undefined, (e) => e)
    expect(busy?.code).toBe(-4067)
    expect(await client.cancelOrder({symbol: SYMBOL, orderId: placed.orderId})).toMatchObject({orderId: placed.orderId, status: 'CANCELED'})
  })

  it('ccxt binanceusdm: setPositionMode, setMarginMode, fetchTicker, fetchOHLCV, fetchTrades, fetchLedger; place and cancel', async () => {
    const ex: any = new (ccxt as any).binanceusdm({apiKey: TEST_KEY, secret: TEST_SECRET, options: {fetchCurrencies: false, fetchMarkets: {types: ['linear']}}})
    for (const k of Object.keys(ex.urls.api)) {
      const m = /^fapi(Public|Private|Data)?(V(\d))?$/.exec(k)
      if (m) ex.urls.api[k] = `${sim.restUrl}/fapi/v${m[3] ?? '1'}`
    }
    await ex.loadMarkets()
    const before = (await simTrades()).length

    const again: any = await ex.setPositionMode(false, MARKET).then(() => undefined, (e: unknown) => e)
    expect(String(again?.message)).toContain('-4059')
    expect(await ex.setPositionMode(true, MARKET)).toEqual({code: 200, msg: 'success'})
    expect(await ex.setPositionMode(false, MARKET)).toEqual({code: 200, msg: 'success'})
    expect(await ex.setMarginMode('isolated', MARKET)).toEqual({code: 200, msg: 'success'})
    expect(await ex.setMarginMode('cross', MARKET)).toEqual({code: 200, msg: 'success'})

    const ticker = await ex.fetchTicker(MARKET)
    expect(ticker.symbol).toBe(MARKET)
    expect(ticker.last).toBeGreaterThan(0)
    const ohlcv: number[][] = await ex.fetchOHLCV(MARKET, '1m', undefined, 5)
    expect(ohlcv.length).toBeGreaterThan(0)
    for (const c of ohlcv) {
      expect(c[0] % 60_000).toBe(0)
      expect(c[2]).toBeGreaterThanOrEqual(c[3])
    }
    const trades = await ex.fetchTrades(MARKET, undefined, 10)
    expect(trades.length).toBeGreaterThan(0)
    expect(trades[0]).toMatchObject({symbol: MARKET})
    const oi = await ex.fetchOpenInterest(MARKET)
    expect(oi).toMatchObject({symbol: MARKET, openInterestAmount: 0})
    expect(await ex.fetchFundingRateHistory(MARKET)).toEqual([])

    const cross = await farPrices(sim.restUrl, 200)
    await ex.createOrder(MARKET, 'limit', 'buy', 0.02, Number(cross.bidAboveAsk), {timeInForce: 'IOC', newOrderRespType: 'RESULT'})
    await ex.createOrder(MARKET, 'limit', 'sell', 0.02, Number(cross.askBelowBid), {timeInForce: 'IOC', reduceOnly: true, newOrderRespType: 'RESULT'})
    const mine = (await simTrades()).slice(before)
    expect(mine.length).toBe(2)
    const ledger: any[] = await ex.fetchLedger('USDC', undefined, 1000)
    const fromMine = ledger.filter((e) => mine.some((t) => String(t.id) === String(e.info.tradeId)))
    expect(fromMine.map((e) => [e.info.incomeType, e.info.income, e.info.tradeId])).toEqual(incomeOf(mine))

    const far = await farPrices(sim.restUrl, 300)
    const placed = await ex.createOrder(MARKET, 'limit', 'buy', 0.01, Number(far.bidBelow), {postOnly: true, clientOrderId: 'startup-ccxt-1'})
    expect(placed).toMatchObject({status: 'open', clientOrderId: 'startup-ccxt-1'})
    expect(await ex.cancelOrder(placed.id, MARKET)).toMatchObject({id: placed.id, status: 'canceled'})
  })

  const env = {MM_API_KEY: TEST_KEY, MM_API_SECRET: TEST_SECRET}
  const quote = (dir: string, more: string[] = []) => runCli(['quote', '--symbol', SYMBOL, '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', dir, '--json', ...more], {env})
  /** a live `mm quote` that must be refused at start: its exit, its error, how often it read `readPath`, and how many order-path requests it sent (none, asserted) */
  const refusedQuote = async (readPath: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-startup-'))
    const orderPaths = new Set(['/fapi/v1/order', '/fapi/v1/batchOrders', '/fapi/v1/allOpenOrders', '/fapi/v1/countdownCancelAll'])
    const seen = async () => {
      const requests: any[] = (await getJson(sim.restUrl, '/__mm/state')).body.requests
      return {orders: requests.filter((r) => r.method !== 'GET' && orderPaths.has(r.path)).length, reads: requests.filter((r) => r.method === 'GET' && r.path === readPath).length}
    }
    const before = await seen()
    const q = await quote(dir)
    const after = await seen()
    // mm sent nothing that places or cancels
    expect(after.orders).toBe(before.orders)
    return {dir, code: q.code, error: JSON.parse(q.stdout).error as {code: string; message: string}, reads: after.reads - before.reads}
  }

  it('mm itself still refuses hedge mode: after a client switches the sim to hedge, mm quote exits 1 E_HEDGE_MODE having sent no order', async () => {
    expect((await signed(sim.restUrl, 'POST', '/fapi/v1/positionSide/dual', {dualSidePosition: 'true'})).body).toEqual({code: 200, msg: 'success'})
    const r = await refusedQuote('/fapi/v1/positionSide/dual')
    expect([r.code, r.error.code]).toEqual([1, 'E_HEDGE_MODE'])
    // mm asked the sim for the mode
    expect(r.reads).toBeGreaterThan(0)
    expect((await signed(sim.restUrl, 'POST', '/fapi/v1/positionSide/dual', {dualSidePosition: 'false'})).body).toEqual({code: 200, msg: 'success'})
  })

  it('mm refuses an account that pays its fees in BNB: after the BNB fee discount is turned on, mm quote exits 1 E_BNB_FEES having sent no order; off again, it starts', async () => {
    expect((await signed(sim.restUrl, 'POST', '/fapi/v1/feeBurn', {feeBurn: 'true'})).body).toEqual({code: 200, msg: 'success'})
    const r = await refusedQuote('/fapi/v1/feeBurn')
    expect([r.code, r.error.code, r.reads]).toEqual([1, 'E_BNB_FEES', 1])
    expect(r.error.message).toBe('the BNB fee discount is on (GET /fapi/v1/feeBurn): Binance charges the fees in BNB while the futures wallet holds any; mm books fees in USDC, so its PnL, loss limit and state would leave them out')
    expect((await signed(sim.restUrl, 'POST', '/fapi/v1/feeBurn', {feeBurn: 'false'})).body).toEqual({code: 200, msg: 'success'})
    expect((await quote(r.dir, ['--duration', '2s'])).code).toBe(0)
  })
})
