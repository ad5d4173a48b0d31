/**
 * The `binance` npm package's USD-M client and its WebSocket client against `mm sim`
 * (the real CLI): the calls a maker makes, the refusals it must see, and the user stream.
 */
import {USDMClient, WebsocketClient} from 'binance'
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

const SYMBOL = 'ETHUSDC'

function findUpdate(events: any[], pred: (o: any) => boolean): any {
  for (const e of events) {
    const d = e?.data ?? e
    if (d?.e === 'ORDER_TRADE_UPDATE' && pred(d.o)) return d
  }
  return undefined
}

describe('binance USDMClient against mm sim', () => {
  it('markets, book, post-only place/query/cancel, -5022, IOC open, reduce-only close, position, ORDER_TRADE_UPDATE', async () => {
    const client = new USDMClient({api_key: TEST_KEY, api_secret: TEST_SECRET, baseUrl: sim.restUrl, disableTimeSync: true})
    const ws = new WebsocketClient({api_key: TEST_KEY, api_secret: TEST_SECRET, wsUrl: sim.wsUrl, restOptions: {baseUrl: sim.restUrl, disableTimeSync: true}} as any, {trace() {}, info() {}, error() {}} as any)
    const events: any[] = []
    ws.on('message', (m: any) => events.push(m))
    try {
      const info = await client.getExchangeInfo()
      const s = info.symbols.find((x) => x.symbol === SYMBOL)!
      expect(s.status).toBe('TRADING')
      expect(s.filters.find((f: any) => f.filterType === 'PRICE_FILTER')).toMatchObject({tickSize: '0.01'})
      const book = await client.getOrderBook({symbol: SYMBOL, limit: 5})
      expect(book.bids.length).toBe(5)
      expect(Number(book.bids[0][0])).toBeLessThan(Number(book.asks[0][0]))

      await ws.subscribeUsdFuturesUserDataStream()
      await until(async () => ((await getJson(sim.restUrl, '/__mm/state')).body.userStream.sockets === 1 ? true : undefined), 'the user stream socket')

      const p = await farPrices(sim.restUrl, 300)
      const placed = await client.submitNewOrder({symbol: SYMBOL, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: 0.01, price: Number(p.bidBelow), newClientOrderId: 'x-15PC4ZJy-post1'})
      expect(placed).toMatchObject({symbol: SYMBOL, status: 'NEW', clientOrderId: 'x-15PC4ZJy-post1', side: 'BUY', timeInForce: 'GTX', origQty: '0.010', price: p.bidBelow})
      const q = await client.getOrder({symbol: SYMBOL, orderId: placed.orderId})
      expect(q).toMatchObject({orderId: placed.orderId, status: 'NEW', executedQty: '0.000'})
      const c = await client.cancelOrder({symbol: SYMBOL, orderId: placed.orderId})
      expect(c).toMatchObject({orderId: placed.orderId, status: 'CANCELED'})
      const canceledEv = await until(() => findUpdate(events, (o) => o.i === placed.orderId && o.X === 'CANCELED'), 'ORDER_TRADE_UPDATE CANCELED')
      expect(canceledEv.o).toMatchObject({s: SYMBOL, c: 'x-15PC4ZJy-post1', x: 'CANCELED', X: 'CANCELED', S: 'BUY', f: 'GTX', q: '0.010'})

      const cross = await farPrices(sim.restUrl, 200)
      const err: any = await client.submitNewOrder({symbol: SYMBOL, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: 0.01, price: Number(cross.bidAboveAsk)}).then(() => undefined, (e) => e)
      expect(err?.code).toBe(-5022)
      expect(err?.message).toBe('Due to the order could not be executed as maker, the Post Only order will be rejected.')

      const open = await client.submitNewOrder({symbol: SYMBOL, side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', quantity: 0.02, price: Number(cross.bidAboveAsk), newOrderRespType: 'RESULT', newClientOrderId: 'x-15PC4ZJy-open'})
      expect(open).toMatchObject({status: 'FILLED', executedQty: '0.020'})
      const fillEv = await until(() => findUpdate(events, (o) => o.i === open.orderId && o.x === 'TRADE' && o.X === 'FILLED'), 'ORDER_TRADE_UPDATE TRADE')
      expect(fillEv.o).toMatchObject({c: 'x-15PC4ZJy-open', m: false, N: 'USDC', z: '0.020'})
      expect(Number(fillEv.o.t)).toBeGreaterThan(0)
      let pos = await client.getPositionsV3({symbol: SYMBOL})
      expect(pos[0]).toMatchObject({symbol: SYMBOL, positionAmt: '0.02', positionSide: 'BOTH'})

      const close = await client.submitNewOrder({symbol: SYMBOL, side: 'SELL', type: 'LIMIT', timeInForce: 'IOC', quantity: 0.02, price: Number(cross.askBelowBid), reduceOnly: 'true', newOrderRespType: 'RESULT', newClientOrderId: 'x-15PC4ZJy-close'})
      expect(close).toMatchObject({status: 'FILLED', executedQty: '0.020', reduceOnly: true})
      const closeEv = await until(() => findUpdate(events, (o) => o.i === close.orderId && o.X === 'FILLED'), 'ORDER_TRADE_UPDATE close')
      expect(closeEv.o).toMatchObject({R: true, x: 'TRADE'})
      pos = await client.getPositionsV3({symbol: SYMBOL})
      expect(pos.length === 0 || pos[0].positionAmt === '0').toBe(true)
      const trades = await client.getAccountTrades({symbol: SYMBOL})
      expect(trades.map((t: any) => [t.orderId, t.side, t.maker])).toEqual([[open.orderId, 'BUY', false], [close.orderId, 'SELL', false]])
    } finally {
      ws.closeAll(true)
    }
  })
})
