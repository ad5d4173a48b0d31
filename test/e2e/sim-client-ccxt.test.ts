/**
 * ccxt's `binanceusdm` (REST and ccxt.pro user stream) against `mm sim` (the real CLI).
 */
import ccxt from 'ccxt'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt} from '../support/cli.js'
import {farPrices, getJson, type SimProc, startSim, TEST_KEY, TEST_SECRET, until} from '../support/sim-cli.js'

let sim: SimProc
beforeAll(async () => {
  ensureBuilt('sim')
  sim = await startSim()
})
afterAll(async () => {
  expect(await sim.stop()).toBe(0)
})

const MARKET = 'ETH/USDC:USDC'

function pointAtSim(ex: any, restUrl: string, wsUrl: string): void {
  for (const k of Object.keys(ex.urls.api)) {
    const m = /^fapi(Public|Private|Data)?(V(\d))?$/.exec(k)
    if (m) ex.urls.api[k] = `${restUrl}/fapi/v${m[3] ?? '1'}`
  }
  ex.urls.api.ws.future = `${wsUrl}/ws`
  ex.urls.api.ws['ws-api'].future = `${wsUrl}/ws-fapi/v1`
}

describe('ccxt binanceusdm against mm sim', () => {
  it('markets, book, post-only place/query/cancel, -5022, IOC open, reduce-only close, position, ORDER_TRADE_UPDATE via watchOrders', async () => {
    const ex: any = new (ccxt as any).pro.binanceusdm({apiKey: TEST_KEY, secret: TEST_SECRET, options: {fetchCurrencies: false, fetchMarkets: {types: ['linear']}, warnOnFetchOpenOrdersWithoutSymbol: false}})
    pointAtSim(ex, sim.restUrl, sim.wsUrl)
    await ex.loadHttpProxyAgent()
    try {
      const markets = await ex.loadMarkets()
      expect(markets[MARKET]).toMatchObject({id: 'ETHUSDC', linear: true, settle: 'USDC'})
      const ob = await ex.fetchOrderBook(MARKET, 5)
      expect(ob.bids.length).toBe(5)
      expect(ob.bids[0][0]).toBeLessThan(ob.asks[0][0])

      // the user stream: watchOrders opens it (POST listenKey, /private/ws?listenKey=…)
      const seen: any[] = []
      let watching = true
      const watcher = (async () => {
        while (watching) {
          try {
            const orders = await ex.watchOrders(MARKET)
            seen.push(...orders.map((o: any) => ({...o})))
          } catch {
            if (!watching) return
          }
        }
      })()
      await until(async () => ((await getJson(sim.restUrl, '/__mm/state')).body.userStream.sockets === 1 ? true : undefined), 'the user stream socket')

      const p = await farPrices(sim.restUrl, 300)
      const placed = await ex.createOrder(MARKET, 'limit', 'buy', 0.01, Number(p.bidBelow), {postOnly: true, clientOrderId: 'ccxt-post-1'})
      expect(placed).toMatchObject({status: 'open', clientOrderId: 'ccxt-post-1', postOnly: true, timeInForce: 'PO', price: Number(p.bidBelow), amount: 0.01})
      const q = await ex.fetchOrder(placed.id, MARKET)
      expect(q).toMatchObject({id: placed.id, status: 'open', filled: 0})
      const c = await ex.cancelOrder(placed.id, MARKET)
      expect(c).toMatchObject({id: placed.id, status: 'canceled'})

      const cross = await farPrices(sim.restUrl, 200)
      const err: any = await ex.createOrder(MARKET, 'limit', 'buy', 0.01, Number(cross.bidAboveAsk), {postOnly: true}).then(() => undefined, (e: unknown) => e)
      expect(err).toBeInstanceOf((ccxt as any).InvalidOrder)
      expect(String(err.message)).toContain('-5022')

      const open = await ex.createOrder(MARKET, 'limit', 'buy', 0.02, Number(cross.bidAboveAsk), {timeInForce: 'IOC', clientOrderId: 'ccxt-ioc-open', newOrderRespType: 'RESULT'})
      expect(open).toMatchObject({status: 'closed', filled: 0.02})
      const positions = await ex.fetchPositions([MARKET])
      const pos = positions.find((x: any) => x.symbol === MARKET)
      expect(pos).toMatchObject({side: 'long', contracts: 0.02})

      const close = await ex.createOrder(MARKET, 'limit', 'sell', 0.02, Number(cross.askBelowBid), {timeInForce: 'IOC', reduceOnly: true, clientOrderId: 'ccxt-ioc-close', newOrderRespType: 'RESULT'})
      expect(close).toMatchObject({status: 'closed', filled: 0.02, reduceOnly: true})
      const after = (await ex.fetchPositions([MARKET])).find((x: any) => x.symbol === MARKET)
      expect(after === undefined || after.contracts === 0).toBe(true)

      // the ORDER_TRADE_UPDATE events as ccxt parsed them
      const fill = await until(() => seen.find((o) => o.id === open.id && o.status === 'closed'), 'the IOC fill on the user stream')
      expect(fill).toMatchObject({clientOrderId: 'ccxt-ioc-open', filled: 0.02, side: 'buy'})
      await until(() => seen.find((o) => o.id === close.id && o.status === 'closed'), 'the reduce-only fill on the user stream')
      await until(() => seen.find((o) => o.id === placed.id && o.status === 'canceled'), 'the cancel on the user stream')
      watching = false
      await ex.close()
      await watcher
    } finally {
      await ex.close()
    }
  })
})
