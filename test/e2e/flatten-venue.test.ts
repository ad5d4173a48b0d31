/**
 * `mm flatten` closing a live position itself (no quote running) through the signed
 * gateway, against a loopback stub of Binance (depth, positionRisk, order endpoints; IOCs
 * matched against a thin stub book). Proves: the hard cap (no order beyond
 * mid × (1 − max-slip)), the round takes the depth within the cap, the rest is the
 * residual (exit 3), safe twice, a deep book closes it (exit 0), then "no position".
 */
import {createServer, type Server} from 'node:http'
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {emptyState, type StateFile} from '../../src/lib/state/file.js'
import {ensureBuilt, runCli} from '../support/cli.js'

vi.setConfig({testTimeout: 240_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-flatten-venue-'))
const KEY = 'stubkey0123456789'
const ENV = {MM_API_KEY: KEY, MM_API_SECRET: 'stubsecret0123456789'}

// quantities in thousandths (the step), prices in cents (the tick): integers only
let bids: Array<[number, number]> = []
let asks: Array<[number, number]> = []
let position = 0
// the next IOCs refused -4024 as Binance does when the mark moved below the SELL's floor (nothing done)
let refuseNext = 0
const placed: Array<{side: string; price: number; qty: number; reduceOnly: boolean; tif: string; filled: number}> = []
let server: Server
let url = ''

const px = (c: number) => (c / 100).toFixed(2)
const qx = (m: number) => (m / 1000).toFixed(3)

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
      if (u.pathname === '/fapi/v1/time') return send(200, {serverTime: Date.now()})
      // the symbol's filters: flatten takes them (max order size included) from the venue
      if (u.pathname === '/fapi/v1/exchangeInfo') {
        const filters = [
          {filterType: 'PRICE_FILTER', minPrice: '0.01', maxPrice: '1000000', tickSize: '0.01'},
          {filterType: 'LOT_SIZE', minQty: '0.001', maxQty: '10000', stepSize: '0.001'},
          {filterType: 'MARKET_LOT_SIZE', minQty: '0.001', maxQty: '1000', stepSize: '0.001'},
          {filterType: 'MIN_NOTIONAL', notional: '20'},
          // a band wide enough never to limit these tests' rounds (the refusals below are forced)
          {filterType: 'PERCENT_PRICE', multiplierUp: '1.0500', multiplierDown: '0.9500', multiplierDecimal: '4'},
        ]
        return send(200, {timezone: 'UTC', serverTime: Date.now(), rateLimits: [], symbols: [{symbol: 'ETHUSDC', pair: 'ETHUSDC', contractType: 'PERPETUAL', status: 'TRADING', baseAsset: 'ETH', quoteAsset: 'USDC', marginAsset: 'USDC', timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'], orderTypes: ['LIMIT', 'MARKET'], filters}]})
      }
      if (u.pathname === '/fapi/v1/premiumIndex') return send(200, {symbol: 'ETHUSDC', markPrice: '3000.00000000', indexPrice: '3000.00000000', lastFundingRate: '0.0001', nextFundingTime: 0, time: Date.now()})
      if (u.pathname === '/fapi/v1/depth') return send(200, {lastUpdateId: 1, E: 1, T: 1, bids: bids.map(([p, n]) => [px(p), qx(n)]), asks: asks.map(([p, n]) => [px(p), qx(n)])})
      if (req.headers['x-mbx-apikey'] !== KEY || !q.get('signature')) return send(401, {code: -2015, msg: 'Invalid API-key'})
      if (u.pathname === '/fapi/v1/openOrders') return send(200, [])
      if (u.pathname === '/fapi/v3/positionRisk') return send(200, [{symbol: 'ETHUSDC', positionSide: 'BOTH', positionAmt: (position < 0 ? '-' : '') + qx(Math.abs(position)), entryPrice: '3050', markPrice: '3000', unRealizedProfit: '-1', liquidationPrice: '0', updateTime: 1}])
      if (u.pathname === '/fapi/v1/order' && req.method === 'POST') {
        if (refuseNext > 0) {
          refuseNext--
          return send(400, {code: -4024, msg: 'Price is lower than mark price multiplier floor.'})
        }
        const side = q.get('side') as string
        const price = Math.round(Number(q.get('price')) * 100)
        const qty = Math.round(Number(q.get('quantity')) * 1000)
        const book = side === 'SELL' ? bids : asks
        let filled = 0
        let value = 0
        for (const lvl of book) {
          if (filled >= qty || (side === 'SELL' ? lvl[0] < price : lvl[0] > price)) break
          const take = Math.min(lvl[1], qty - filled)
          lvl[1] -= take
          filled += take
          value += take * lvl[0]
        }
        if (side === 'SELL') bids = bids.filter(([, n]) => n > 0)
        else asks = asks.filter(([, n]) => n > 0)
        position += side === 'SELL' ? -filled : filled
        placed.push({side, price, qty, reduceOnly: q.get('reduceOnly') === 'true', tif: q.get('timeInForce') as string, filled})
        return send(200, {symbol: 'ETHUSDC', orderId: placed.length, clientOrderId: q.get('newClientOrderId'), side, type: 'LIMIT', timeInForce: 'IOC', status: filled === qty ? 'FILLED' : 'EXPIRED', price: q.get('price'), origQty: q.get('quantity'), executedQty: qx(filled), avgPrice: filled > 0 ? (value / filled / 100).toFixed(4) : '0', reduceOnly: true, updateTime: 1})
      }
      send(404, {code: -5000, msg: `no ${req.method} ${u.pathname}`})
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as {port: number}).port}`
})

afterAll(() => new Promise<void>((r) => server.close(() => r())))

const S = join(tmp, 'state')
const statePath = join(S, 'ETHUSDC', 'state.json')
const read = () => JSON.parse(readFileSync(statePath, 'utf8')) as StateFile

describe('mm flatten with no quote running, on the venue itself', () => {
  it('thin book: takes the depth within the hard cap, exits 3 with the residual; twice is safe; a deep book closes it', async () => {
    // long 0.020; thin bids: 0.004 @ 3000.00, 0.003 @ 2999.00, then 1.000 @ 2990.00 (beyond the cap)
    position = 20
    bids = [[300000, 4], [299900, 3], [299000, 1000]]
    asks = [[300100, 1000]]
    const s = emptyState('ETHUSDC', false, new Date().toISOString())
    s.instrument = {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}
    s.position = {...s.position, net: '0.020'}
    mkdirSync(join(S, 'ETHUSDC'), {recursive: true})
    writeFileSync(statePath, JSON.stringify(s))

    // mid 3000.50; cap 0.001 → a SELL never below ceil(3000.50 × 0.999) = 2997.50
    const r = await runCli(['flatten', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', url, '--max-slip', '0.001', '--json'], {env: ENV})
    expect(r.code, r.stderr).toBe(3)
    const j = JSON.parse(r.stdout).data
    expect(j).toMatchObject({via: 'self', positionBefore: '0.020', positionAfter: '0.013', residual: '0.013', exitCode: 3})
    expect(j.rounds).toEqual([{round: 1, clientOrderId: expect.stringMatching(/^mm-f[0-9a-z]+-flat-1$/), side: 'SELL', price: '2999.00', qty: '0.007', filled: '0.007', status: 'filled', mid: '3000.5', slippage: expect.any(String)}])
    expect(j.final).toBe('residual 0.013 after 1 round(s) within max slippage 0.001 (nothing in the book within the cap)')
    expect(placed).toEqual([{side: 'SELL', price: 299900, qty: 7, reduceOnly: true, tif: 'IOC', filled: 7}])
    expect(read().position.net).toBe('0.013')
    expect(read().halt).toMatchObject({kind: 'manual', reason: 'mm flatten', flatten: true})

    // twice: nothing more within the cap, nothing sent, same residual
    const again = await runCli(['flatten', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', url, '--max-slip', '0.001'], {env: ENV})
    expect(again.code, again.stderr).toBe(3)
    expect(again.stdout).toMatch(/residual 0\.013 after 0 round\(s\) within max slippage 0\.001 \(nothing in the book within the cap\)/)
    expect(placed.length).toBe(1)

    // a cap wide enough for the deep level closes it, the order split at no price beyond the cap
    const wide = await runCli(['flatten', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', url, '--max-slip', '0.005'], {env: ENV})
    expect(wide.code, wide.stderr).toBe(0)
    expect(wide.stdout).toMatch(/round 1: SELL 0\.013 @ 2990\.00 \(mid 2995\.5\) → filled 0\.013, slippage 0\.00183609 \(filled\)/)
    expect(wide.stdout).toMatch(/flat after 1 order\(s\) in 1 round\(s\)/)
    expect(position).toBe(0)
    expect(read().position.net).toBe('0.000')
    expect(read().halt).toMatchObject({flattened: true})

    const none = await runCli(['flatten', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', url], {env: ENV})
    expect(none.code, none.stderr).toBe(0)
    expect(none.stdout).toMatch(/ETHUSDC: no position/)
    expect(placed.length).toBe(2)
  })
})

describe('mm flatten: an IOC refused by PERCENT_PRICE (-4024: the mark moved after the round read it)', () => {
  const fresh = (net: number) => {
    position = net
    bids = [[300000, 1000]]
    asks = [[300100, 1000]]
    placed.length = 0
    const s = emptyState('ETHUSDC', false, new Date().toISOString())
    s.instrument = {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}
    s.position = {...s.position, net: qx(net)}
    mkdirSync(join(S, 'ETHUSDC'), {recursive: true})
    writeFileSync(statePath, JSON.stringify(s))
  }

  it('the refused round is said with its code and the next round closes: exit 0 (before: venue error, exit 1, nothing closed)', async () => {
    fresh(20)
    refuseNext = 1
    const r = await runCli(['flatten', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', url, '--max-slip', '0.001'], {env: ENV})
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines).toContain('round 1: SELL 0.020 @ 3000.00 (mid 3000.5) → filled 0 (rejected -4024: Price is lower than mark price multiplier floor.)')
    expect(lines).toContain('round 2: SELL 0.020 @ 3000.00 (mid 3000.5) → filled 0.020, slippage 0.000166639 (filled)')
    expect(lines.at(-1)).toBe('flat after 2 order(s) in 2 round(s) (1 order(s) refused by the PERCENT_PRICE band: the mark moved)')
    expect(placed.map((p) => [p.side, p.price, p.qty, p.filled])).toEqual([['SELL', 300000, 20, 20]])
    expect(position).toBe(0)
    expect(read().position.net).toBe('0.000')
    expect(read().flatten?.rounds.map((x) => [x.round, x.status, x.code, x.filled])).toEqual([[1, 'rejected', -4024, '0'], [2, 'filled', undefined, '0.020']])
  })

  it('refused in every round up to --rounds: bounded, exit 3 with the residual and the refusals in the final line and --json', async () => {
    fresh(20)
    refuseNext = 5
    const r = await runCli(['flatten', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', url, '--max-slip', '0.001', '--rounds', '2', '--json'], {env: ENV})
    expect(r.code, r.stdout + r.stderr).toBe(3)
    const j = JSON.parse(r.stdout).data
    expect(j).toMatchObject({positionBefore: '0.020', positionAfter: '0.020', residual: '0.020', exitCode: 3})
    expect(j.rounds.map((x: {round: number; status: string; code?: number; reason?: string}) => [x.round, x.status, x.code, x.reason])).toEqual([
      [1, 'rejected', -4024, 'Price is lower than mark price multiplier floor.'],
      [2, 'rejected', -4024, 'Price is lower than mark price multiplier floor.'],
    ])
    expect(j.final).toBe('residual 0.020 after 2 round(s) within max slippage 0.001 and the PERCENT_PRICE band of the mark (2 order(s) refused by the band: the mark moved)')
    expect(refuseNext).toBe(3)
    expect(placed).toEqual([])
    refuseNext = 0
  })
})
