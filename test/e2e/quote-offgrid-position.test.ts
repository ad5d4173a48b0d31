/**
 * `mm quote` (live) against a venue whose position is off the symbol's LOT_SIZE grid
 * (1.555 with a step of 0.01: Binance raised the step after it was opened), through the real
 * CLI against a loopback stub of Binance. Refusing is right (the ledger counts in steps),
 * but the run ended with the bare `mm quote: 1555 is not a multiple of 10`. Now one line
 * names the symbol, the venue position, the step and the remainder, a hint says to close
 * it on the venue or run `mm flatten`, exit 1, and no order (nor cancel) was sent.
 */
import {createServer, type Server} from 'node:http'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'

vi.setConfig({testTimeout: 120_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-quote-offgrid-'))
const KEY = 'stubkey0123456789'
const ENV = {MM_API_KEY: KEY, MM_API_SECRET: 'stubsecret0123456789'}
let positionAmt = '1.555'
const seen: string[] = []
let server: Server
let url = ''

beforeAll(async () => {
  ensureBuilt('quote')
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x')
      seen.push(`${req.method} ${u.pathname}`)
      const send = (status: number, b: unknown) => {
        res.writeHead(status, {'content-type': 'application/json'})
        res.end(JSON.stringify(b))
      }
      if (u.pathname === '/fapi/v1/time') return send(200, {serverTime: Date.now()})
      if (u.pathname === '/fapi/v1/exchangeInfo') {
        const filters = [
          {filterType: 'PRICE_FILTER', minPrice: '0.01', maxPrice: '1000000', tickSize: '0.01'},
          {filterType: 'LOT_SIZE', minQty: '0.01', maxQty: '10000', stepSize: '0.01'},
          {filterType: 'MARKET_LOT_SIZE', minQty: '0.01', maxQty: '1000', stepSize: '0.01'},
          {filterType: 'MIN_NOTIONAL', notional: '20'},
        ]
        return send(200, {timezone: 'UTC', serverTime: Date.now(), rateLimits: [], symbols: [{symbol: 'ETHUSDC', pair: 'ETHUSDC', contractType: 'PERPETUAL', status: 'TRADING', baseAsset: 'ETH', quoteAsset: 'USDC', marginAsset: 'USDC', timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'], orderTypes: ['LIMIT', 'MARKET'], filters}]})
      }
      if (u.pathname === '/fapi/v1/premiumIndex') return send(200, {symbol: 'ETHUSDC', markPrice: '3000.00', indexPrice: '3000.00', lastFundingRate: '0.0001', nextFundingTime: Date.now() + 3_600_000, time: Date.now()})
      if (req.headers['x-mbx-apikey'] !== KEY) return send(401, {code: -2015, msg: 'Invalid API-key'})
      if (u.pathname === '/fapi/v1/positionSide/dual') return send(200, {dualSidePosition: false})
      if (u.pathname === '/fapi/v1/feeBurn') return send(200, {feeBurn: false})
      if (u.pathname === '/fapi/v1/commissionRate') return send(200, {symbol: 'ETHUSDC', makerCommissionRate: '0.0002', takerCommissionRate: '0.0005'})
      if (u.pathname === '/fapi/v1/openOrders') return send(200, [])
      if (u.pathname === '/fapi/v3/positionRisk' || u.pathname === '/fapi/v2/positionRisk') return send(200, [{symbol: 'ETHUSDC', positionSide: 'BOTH', positionAmt, entryPrice: '3050', breakEvenPrice: '3050', markPrice: '3000', unRealizedProfit: '-1', liquidationPrice: '0', leverage: '5', marginType: 'cross', updateTime: 1}])
      send(404, {code: -5000, msg: `no ${req.method} ${u.pathname} ${body.length}`})
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as {port: number}).port}`
})

afterAll(() => new Promise<void>((r) => server.close(() => r())))

const quote = (name: string, json = false) => runCli(['quote', '--symbol', 'ETHUSDC', '--rest-url', url, '--ws-url', url.replace('http', 'ws'), '--duration', '5s', '--state-dir', join(tmp, name), '--instance', 'offg', ...(json ? ['--json'] : [])], {env: ENV})

describe('mm quote: a venue position off the LOT_SIZE grid', () => {
  it('refused at start-up with one line naming the symbol, position, step and remainder, a hint, exit 1; nothing sent', async () => {
    for (const [amt, off] of [['1.555', '0.005'], ['-0.017', '0.007']]) {
      positionAmt = amt
      seen.length = 0
      const r = await quote(`s${off}`)
      expect(r.code, r.stderr).toBe(1)
      const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('note: '))
      expect(lines).toEqual([
        `mm quote: ETHUSDC: the venue position ${amt} is not a multiple of the LOT_SIZE step 0.01 (${off} off the grid); mm cannot trade it`,
        `  hint: close the ${off} off the grid on the venue, or run \`mm flatten --symbol ETHUSDC\` (it closes the part on the grid and names what is left), then start again`,
      ])
      expect(r.stderr).not.toMatch(/is not a multiple of 10|at .*\.js/)
      // nothing changed at the venue: no order, no cancel, no listenKey
      expect(seen.filter((s) => !s.startsWith('GET '))).toEqual([])
    }
    const j = await quote('json', true)
    expect(j.code).toBe(1)
    expect(JSON.parse(j.stdout).error).toMatchObject({code: 'E_POSITION_OFF_GRID', details: {symbol: 'ETHUSDC', positionAmt: '-0.017', stepSize: '0.01', offGrid: '0.007'}})
  })
})
