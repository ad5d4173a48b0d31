/**
 * `mm flatten` on a position that is not on the symbol's LOT_SIZE grid any more (Binance
 * raised the step size after it was opened: 0.015 with a step of 0.01), through the real
 * CLI against a loopback stub of Binance. The reduce-only IOC is rounded toward zero (0.01,
 * never more than the position) and the 0.005 no order can carry is the residual, exit 3.
 * Before, the position was rounded down to the grid before it was compared with zero: the
 * run said "flat" (exit 0) with 0.005 still open, and a second run (and `--dry-run`) said
 * "no position".
 */
import {createServer, type Server} from 'node:http'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {emptyState} from '../../src/lib/state/file.js'
import {ensureBuilt, runCli} from '../support/cli.js'

vi.setConfig({testTimeout: 120_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-flatten-offgrid-'))
const KEY = 'stubkey0123456789'
const ENV = {MM_API_KEY: KEY, MM_API_SECRET: 'stubsecret0123456789'}

// the position in thousandths; the venue's grid is hundredths now
let position = 15
const placed: Array<{side: string; price: string; quantity: string; reduceOnly: string | null}> = []
let server: Server
let url = ''

beforeAll(async () => {
  ensureBuilt('flatten')
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x')
      const q = new URLSearchParams(req.method === 'POST' ? body : u.search)
      const send = (status: number, b: unknown) => {
        res.writeHead(status, {'content-type': 'application/json'})
        res.end(JSON.stringify(b))
      }
      const qx = (m: number) => (m < 0 ? '-' : '') + (Math.abs(m) / 1000).toFixed(3)
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
      if (u.pathname === '/fapi/v1/depth') return send(200, {lastUpdateId: 1, E: 1, T: 1, bids: [['3000.00', '5.00']], asks: [['3000.01', '5.00']]})
      if (req.headers['x-mbx-apikey'] !== KEY || !q.get('signature')) return send(401, {code: -2015, msg: 'Invalid API-key'})
      if (u.pathname === '/fapi/v1/openOrders') return send(200, [])
      if (u.pathname === '/fapi/v3/positionRisk') return send(200, [{symbol: 'ETHUSDC', positionSide: 'BOTH', positionAmt: qx(position), entryPrice: '3050', markPrice: '3000', unRealizedProfit: '-1', liquidationPrice: '0', updateTime: 1}])
      if (u.pathname === '/fapi/v1/order' && req.method === 'POST') {
        const side = q.get('side') as string
        const quantity = q.get('quantity') as string
        // on the grid only, as Binance does (-1111 / -4023 otherwise); reduce-only clipped to the position
        if (!/^\d+(\.\d{1,2})?$/.test(quantity)) return send(400, {code: -1111, msg: 'Precision is over the maximum defined for this asset.'})
        const want = Math.round(Number(quantity) * 1000)
        const filled = Math.min(want, Math.abs(position))
        position += side === 'SELL' ? -filled : filled
        placed.push({side, price: q.get('price') as string, quantity, reduceOnly: q.get('reduceOnly')})
        return send(200, {symbol: 'ETHUSDC', orderId: placed.length, clientOrderId: q.get('newClientOrderId'), side, type: 'LIMIT', timeInForce: 'IOC', status: filled === want ? 'FILLED' : 'EXPIRED', price: q.get('price'), origQty: quantity, executedQty: qx(filled), avgPrice: '3000.00', reduceOnly: true, updateTime: 1})
      }
      send(404, {code: -5000, msg: `no ${req.method} ${u.pathname}`})
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as {port: number}).port}`
})

afterAll(() => new Promise<void>((r) => server.close(() => r())))

describe('mm flatten: a position off the LOT_SIZE grid', () => {
  it('sends the part on the grid (rounded toward zero), keeps the rest as the residual, exit 3; again: still 3, nothing sent', async () => {
    const S = join(tmp, 'state')
    // the last quote ran on the old grid (step 0.001)
    const s = emptyState('ETHUSDC', false, new Date().toISOString())
    s.instrument = {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}
    s.position = {...s.position, net: '0.015'}
    mkdirSync(join(S, 'ETHUSDC'), {recursive: true})
    writeFileSync(join(S, 'ETHUSDC', 'state.json'), JSON.stringify(s))

    // the preview: the venue's amount as it is, the order on the grid, the rest as the residual
    const plan = await runCli(['flatten', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', url, '--max-slip', '0.001', '--dry-run', '--json'], {env: ENV})
    expect(plan.code, plan.stderr).toBe(0)
    expect(JSON.parse(plan.stdout).data).toMatchObject({position: '0.015', positionFrom: 'venue', orders: [{side: 'SELL', price: '3000.00', qty: '0.01'}], residual: '0.005'})

    const r = await runCli(['flatten', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', url, '--max-slip', '0.001', '--json'], {env: ENV})
    expect(r.code, r.stderr).toBe(3)
    const j = JSON.parse(r.stdout).data
    expect(placed).toEqual([{side: 'SELL', price: '3000.00', quantity: '0.01', reduceOnly: 'true'}])
    expect(position).toBe(5)
    expect(j).toMatchObject({via: 'self', positionBefore: '0.015', positionAfter: '0.005', positionAfterFrom: 'venue', residual: '0.005', exitCode: 3})
    expect(j.final).toBe('residual 0.005 after 1 round(s): less than one step 0.01 of ETHUSDC (LOT_SIZE), which no order can carry; close it on the venue')

    const again = await runCli(['flatten', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', url, '--max-slip', '0.001'], {env: ENV})
    expect(again.code, again.stderr).toBe(3)
    expect(again.stdout).toContain('residual 0.005 after 0 round(s): less than one step 0.01 of ETHUSDC (LOT_SIZE), which no order can carry; close it on the venue')
    expect(placed.length).toBe(1)

    // the preview no longer says "no position" for what is left
    const plan2 = await runCli(['flatten', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', url, '--max-slip', '0.001', '--dry-run'], {env: ENV})
    expect(plan2.code, plan2.stderr).toBe(0)
    expect(plan2.stdout).toContain("ETHUSDC: position 0.005 (the venue's)")
    expect(plan2.stdout).toContain('nothing can be closed within the cap now (below_min_qty); residual 0.005')
  })
})
