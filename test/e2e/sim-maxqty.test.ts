/**
 * `mm sim` enforces the instrument's maxQty as Binance does (-4005 "Quantity greater than
 * max quantity."): LIMIT orders (and modifications) against LOT_SIZE, MARKET orders against
 * MARKET_LOT_SIZE, on REST, batch orders and the WebSocket API's order.place; `--max-qty`
 * makes it small on a synthetic instrument. Also: premiumIndex's nextFundingTime (the next
 * 8-hour boundary, or the --funding-interval booking), and the input checks of
 * --symbol / --max-qty / the instrument flags. All through bin/run.js.
 */
import {createHmac} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {type LiveSim, startLiveSim} from '../support/live-sim.js'
import {getJson, signed, TEST_KEY, TEST_SECRET} from '../support/sim-cli.js'
import {openWs} from '../support/ws-client.js'

vi.setConfig({testTimeout: 120_000, hookTimeout: 120_000})

const DOGE = ['--synthetic', '--seed', '5', '--symbol', 'DOGEUSDT', '--tick-size', '0.00001', '--step-size', '1', '--min-notional', '5', '--start-price', '0.38', '--max-qty', '50', '--funding-interval', '1h']
const TOO_BIG = {code: -4005, msg: 'Quantity greater than max quantity.'}
const HOUR = 3_600_000
let doge: LiveSim
let eth: LiveSim

beforeAll(async () => {
  ensureBuilt('sim')
  ;[doge, eth] = await Promise.all([startLiveSim(DOGE), startLiveSim(['--synthetic', '--seed', '5'])])
})

afterAll(async () => {
  await Promise.all([doge?.stop(), eth?.stop()])
})

/** a DOGEUSDT bid price 1000 ticks (~2.6%) under the best bid: never fills during a test, inside PERCENT_PRICE (5%) */
async function farBid(): Promise<string> {
  const {body} = await getJson(doge.restUrl, '/fapi/v1/depth?symbol=DOGEUSDT&limit=5')
  const ticks = Math.round(Number(body.bids[0][0]) * 1e5) - 1000
  return (ticks / 1e5).toFixed(5)
}

const filters = async (sim: LiveSim, symbol: string) => {
  const {body} = await getJson(sim.restUrl, '/fapi/v1/exchangeInfo')
  const s = body.symbols.find((x: {symbol: string}) => x.symbol === symbol)
  const f = (t: string) => s.filters.find((x: {filterType: string}) => x.filterType === t)
  return [f('LOT_SIZE').maxQty, f('MARKET_LOT_SIZE').maxQty]
}

describe('mm sim --max-qty 50 (a step-1 synthetic instrument)', () => {
  it('exchangeInfo lists maxQty 50 in LOT_SIZE and MARKET_LOT_SIZE', async () => {
    expect(await filters(doge, 'DOGEUSDT')).toEqual(['50', '50'])
  })

  it('REST: LIMIT 51 and MARKET 51 are -4005; LIMIT 50 rests; modifying it to 51 is -4005', async () => {
    const price = await farBid()
    const order = (extra: Record<string, string>) => signed(doge.restUrl, 'POST', '/fapi/v1/order', {symbol: 'DOGEUSDT', side: 'BUY', ...extra})
    expect(await order({type: 'LIMIT', timeInForce: 'GTX', price, quantity: '51'})).toMatchObject({status: 400, body: TOO_BIG})
    expect(await order({type: 'MARKET', quantity: '51'})).toMatchObject({status: 400, body: TOO_BIG})
    const ok = await order({type: 'LIMIT', timeInForce: 'GTX', price, quantity: '50', newClientOrderId: 'maxqty-rest'})
    expect(ok).toMatchObject({status: 200, body: {clientOrderId: 'maxqty-rest', origQty: '50'}})
    const mod = await signed(doge.restUrl, 'PUT', '/fapi/v1/order', {symbol: 'DOGEUSDT', side: 'BUY', origClientOrderId: 'maxqty-rest', price, quantity: '51'})
    expect(mod).toMatchObject({status: 400, body: TOO_BIG})
    const cancel = await signed(doge.restUrl, 'DELETE', '/fapi/v1/order', {symbol: 'DOGEUSDT', origClientOrderId: 'maxqty-rest'})
    expect(cancel.status).toBe(200)
  })

  it('batchOrders: each order above maxQty is -4005 in its own slot, the one at maxQty is placed', async () => {
    const price = await farBid()
    const batch = [
      {symbol: 'DOGEUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', price, quantity: '51'},
      {symbol: 'DOGEUSDT', side: 'SELL', type: 'MARKET', quantity: '51'},
      {symbol: 'DOGEUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', price, quantity: '50', newClientOrderId: 'maxqty-batch'},
    ]
    const r = await signed(doge.restUrl, 'POST', '/fapi/v1/batchOrders', {batchOrders: JSON.stringify(batch)})
    expect(r.status).toBe(200)
    expect(r.body).toHaveLength(3)
    expect(r.body[0]).toEqual(TOO_BIG)
    expect(r.body[1]).toEqual(TOO_BIG)
    expect(r.body[2]).toMatchObject({clientOrderId: 'maxqty-batch', origQty: '50'})
    expect((await signed(doge.restUrl, 'DELETE', '/fapi/v1/order', {symbol: 'DOGEUSDT', origClientOrderId: 'maxqty-batch'})).status).toBe(200)
  })

  it('WebSocket API order.place: LIMIT 51 and MARKET 51 are answered status 400, -4005', async () => {
    const price = await farBid()
    const api = await openWs(`${doge.wsUrl}/ws-fapi/v1`)
    try {
      const call = (id: string, params: Record<string, unknown>) => {
        const all: Record<string, unknown> = {...params, apiKey: TEST_KEY, timestamp: Date.now()}
        const payload = Object.keys(all).sort().map((k) => `${k}=${all[k]}`).join('&')
        all.signature = createHmac('sha256', TEST_SECRET).update(payload).digest('hex')
        api.ws.send(JSON.stringify({id, method: 'order.place', params: all}))
        return api.next((m) => m.id === id, `answer ${id}`)
      }
      expect(await call('l51', {symbol: 'DOGEUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', price, quantity: '51'})).toMatchObject({id: 'l51', status: 400, error: TOO_BIG})
      expect(await call('m51', {symbol: 'DOGEUSDT', side: 'BUY', type: 'MARKET', quantity: '51'})).toMatchObject({id: 'm51', status: 400, error: TOO_BIG})
    } finally {
      api.close()
    }
  })

  it('premiumIndex nextFundingTime is when the --funding-interval 1h timer books funding next', async () => {
    const {body} = await getJson(doge.restUrl, '/fapi/v1/premiumIndex?symbol=DOGEUSDT')
    // booked 1 h after the sim started: within the hour ahead, less what has passed since (minutes at most)
    expect(body.nextFundingTime).toBeGreaterThan(body.time + HOUR - 10 * 60_000)
    expect(body.nextFundingTime).toBeLessThanOrEqual(body.time + HOUR + 5_000)
  })
})

describe('mm sim defaults: maxQty 1000000, funding every 8 hours', () => {
  it('exchangeInfo lists 1000000; a LIMIT of 2000000 and a MARKET of 1000000.001 are -4005', async () => {
    expect(await filters(eth, 'ETHUSDC')).toEqual(['1000000', '1000000'])
    const order = (extra: Record<string, string>) => signed(eth.restUrl, 'POST', '/fapi/v1/order', {symbol: 'ETHUSDC', side: 'BUY', ...extra})
    expect(await order({type: 'LIMIT', timeInForce: 'GTC', price: '3000.00', quantity: '2000000'})).toMatchObject({status: 400, body: TOO_BIG})
    expect(await order({type: 'MARKET', quantity: '1000000.001'})).toMatchObject({status: 400, body: TOO_BIG})
  })

  it('premiumIndex nextFundingTime is the next 00/08/16 UTC boundary', async () => {
    const {body} = await getJson(eth.restUrl, '/fapi/v1/premiumIndex?symbol=ETHUSDC')
    expect(body.nextFundingTime % (8 * HOUR)).toBe(0)
    // market time runs with the wall clock here: the boundary after it (a minute's slack either side)
    expect(body.nextFundingTime).toBeGreaterThan(body.time - 60_000)
    expect(body.nextFundingTime).toBeLessThanOrEqual(body.time + 8 * HOUR + 60_000)
  })
})

describe('mm sim input checks (exit 2, one line naming the flag)', () => {
  const bad = async (args: string[]) => {
    const r = await runCli(['sim', '--port', '0', '--duration', '1s', '--json', ...args])
    return [r.code, (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {error: {message: string}}).error.message]
  }

  it('refuses an empty symbol, a --max-qty off the step grid or not > 0, negative instrument flags', async () => {
    expect(await bad(['--synthetic', '--symbol', ''])).toEqual([2, '--symbol "": expected a symbol such as ETHUSDC'])
    expect(await bad(['--synthetic', '--max-qty', '50.5', '--step-size', '1'])).toEqual([2, '--max-qty 50.5: not on the step grid (a multiple of the step size 1)'])
    expect(await bad(['--synthetic', '--max-qty', '0.0005'])).toEqual([2, '--max-qty 0.0005: not on the step grid (a multiple of the step size 0.001)'])
    expect(await bad(['--synthetic', '--max-qty', '0'])).toEqual([2, '--max-qty 0: must be > 0'])
    expect(await bad(['--synthetic', '--max-qty', 'lots'])).toEqual([2, '--max-qty lots: expected a decimal number'])
    expect(await bad(['--synthetic', '--tick-size', '-0.01'])).toEqual([2, '--tick-size -0.01: must be > 0'])
    expect(await bad(['--synthetic', '--start-price', '-5'])).toEqual([2, '--start-price -5: must be > 0'])
    expect(await bad(['--synthetic', '--min-notional', '-1'])).toEqual([2, '--min-notional -1: must be >= 0'])
    // the grid flags of a recording without meta.json are checked before the recording is read
    expect(await bad(['--replay', 'no-such-recording', '--step-size', '-1'])).toEqual([2, '--step-size -1: must be > 0'])
    const r = await runCli(['sim', '--replay', 'no-such-recording', '--max-qty', '5', '--port', '0'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--max-qty')
  })
})
