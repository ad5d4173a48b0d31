/**
 * The market streams and WebSocket API methods third-party clients call, through the clients
 * themselves against `mm sim` (the real CLI, synthetic market): ccxt.pro's watchBidsAsks
 * (`!bookTicker`), watchTicker (`@ticker`), watchTrades (`@trade` on /public) and
 * fetchBalanceWs (`account.status`); the `binance` package's WebsocketAPIClient (depth,
 * ticker.book, account.status, account.balance) and WebsocketClient partial depth. Each of
 * these waited forever or was refused before (docs/sim.md).
 */
import ccxt from 'ccxt'
import {WebsocketAPIClient, WebsocketClient} from 'binance'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt} from '../support/cli.js'
import {type SimProc, startSim, TEST_KEY, TEST_SECRET, until} from '../support/sim-cli.js'

let sim: SimProc
beforeAll(async () => {
  ensureBuilt('sim')
  sim = await startSim()
})
afterAll(async () => {
  expect(await sim.stop()).toBe(0)
})

const MARKET = 'ETH/USDC:USDC'
const quiet = {trace() {}, info() {}, error() {}} as any

/** a promise that fails after `ms` (bounded waits on a client's own promise) */
function within(p: Promise<any>, ms: number, what: string): Promise<any> {
  let t: NodeJS.Timeout | undefined
  return Promise.race([p, new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)
  })]).finally(() => clearTimeout(t))
}

describe('ccxt.pro binanceusdm streams against mm sim', () => {
  it('watchBidsAsks, watchTicker, watchTrades resolve with the sim\'s book and trades; fetchBalanceWs reads the wallet', async () => {
    const ex: any = new (ccxt as any).pro.binanceusdm({apiKey: TEST_KEY, secret: TEST_SECRET, options: {fetchCurrencies: false, fetchMarkets: {types: ['linear']}}})
    for (const k of Object.keys(ex.urls.api)) {
      const m = /^fapi(Public|Private|Data)?(V(\d))?$/.exec(k)
      if (m) ex.urls.api[k] = `${sim.restUrl}/fapi/v${m[3] ?? '1'}`
    }
    ex.urls.api.ws.future = `${sim.wsUrl}/ws`
    ex.urls.api.ws['ws-api'].future = `${sim.wsUrl}/ws-fapi/v1`
    await ex.loadHttpProxyAgent()
    try {
      await ex.loadMarkets()
      // 60 s each: the sim sends these within seconds (!bookTicker every 5 s, @ticker every 2 s)
      const ba = await within(ex.watchBidsAsks([MARKET]), 60_000, 'watchBidsAsks')
      expect(ba[MARKET].bid).toBeLessThan(ba[MARKET].ask)
      expect(ba[MARKET].info).toMatchObject({e: 'bookTicker', s: 'ETHUSDC'})
      const t = await within(ex.watchTicker(MARKET), 60_000, 'watchTicker')
      expect(t).toMatchObject({symbol: MARKET})
      // ccxt versions differ in the stream watchTicker asks for (@ticker or @miniTicker): the sim serves both
      expect(['24hrTicker', '24hrMiniTicker']).toContain(t.info.e)
      expect(t.last).toBeGreaterThan(0)
      const trades = await within(ex.watchTrades(MARKET), 60_000, 'watchTrades')
      expect(trades.length).toBeGreaterThan(0)
      expect(trades[0]).toMatchObject({symbol: MARKET})
      expect(trades[0].info.e).toBe('trade')
      const bal = await within(ex.fetchBalanceWs(), 60_000, 'fetchBalanceWs')
      expect(bal.USDC).toMatchObject({total: 10000, free: 10000})
    } finally {
      await ex.close()
    }
  })
})

describe('binance WebsocketAPIClient / WebsocketClient against mm sim', () => {
  it('depth, ticker.book, account.status and account.balance over the WebSocket API; partial depth on the stream client', async () => {
    const api = new WebsocketAPIClient({api_key: TEST_KEY, api_secret: TEST_SECRET, wsUrl: sim.wsUrl, disableTimeSync: true} as any, quiet)
    const ws = new WebsocketClient({wsUrl: `${sim.wsUrl}/public/ws`} as any, quiet)
    const partial: any[] = []
    ws.on('message', (m: any) => partial.push(m))
    try {
      const book: any = await within(api.getFuturesOrderBook({symbol: 'ETHUSDC', limit: 5}), 60_000, 'depth')
      expect(book.status).toBe(200)
      expect(book.result.bids).toHaveLength(5)
      expect(Number(book.result.bids[0][0])).toBeLessThan(Number(book.result.asks[0][0]))
      const bt: any = await within(api.getFuturesSymbolOrderBookTicker({symbol: 'ETHUSDC'}), 60_000, 'ticker.book')
      expect(bt.result).toMatchObject({symbol: 'ETHUSDC'})
      // HMAC-signed requests carry their own timestamp (the package leaves it to the caller)
      const acc: any = await within(api.getFuturesAccountStatus('usdm', {timestamp: Date.now()} as any), 60_000, 'account.status')
      expect(acc.result).toMatchObject({totalWalletBalance: '10000', canTrade: true})
      const bal: any = await within(api.getFuturesAccountBalance('usdm', {timestamp: Date.now()} as any), 60_000, 'account.balance')
      expect(bal.result).toEqual([expect.objectContaining({asset: 'USDC', balance: '10000'})])

      ws.subscribe(['ethusdc@depth5@100ms'], 'usdm' as any)
      const first = await until(() => partial.find((m) => m?.e === 'depthUpdate'), 'a partial depth message', 60_000)
      expect(first.b).toHaveLength(5)
      expect(first.a).toHaveLength(5)
      expect(first.pu).toBeLessThan(first.u)
    } finally {
      ws.closeAll(true)
      api.getWSClient().closeAll(true)
    }
  })
})
