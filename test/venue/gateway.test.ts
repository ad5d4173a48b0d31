import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {BinanceApiError, classifyHttp, classifyTransport} from '../../src/lib/venue/binance/errors.js'
import {type AnswerInfo, BinanceGateway} from '../../src/lib/venue/binance/gateway.js'
import type {PlaceOrderParams} from '../../src/lib/venue/binance/rest-types.js'
import {Credentials} from '../../src/lib/venue/binance/signer.js'
import {BinanceStub} from '../support/binance-stub.js'

const KEY = 'testkey0123456789abcdef0123456789abcdef0123456789abcdef01234567'
const SECRET = 'testsecret9876543210fedcba9876543210fedcba9876543210fedcba98765'

let stub: BinanceStub
let wall = 1_700_000_000_000
const answers: AnswerInfo[] = []
const syncs: Array<{offsetMs: number; reason: string}> = []

function gw(opts: {timeoutMs?: number; url?: string} = {}) {
  return new BinanceGateway({
    baseUrl: opts.url ?? stub.url,
    credentials: new Credentials(KEY, SECRET),
    now: () => wall,
    timeoutMs: opts.timeoutMs ?? 2000,
    onAnswer: (a) => answers.push(a),
    onTimeSync: (s) => syncs.push(s),
  })
}

const ORDER = {symbol: 'ETHUSDC', orderId: 42, clientOrderId: 'mm-r1-b0-0', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', status: 'NEW', price: '3000.00', origQty: '0.010', executedQty: '0', avgPrice: '0', reduceOnly: false, updateTime: 1}
const PLACE: PlaceOrderParams = {symbol: 'ETHUSDC', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: '0.010', price: '3000.00', newClientOrderId: 'mm-r1-b0-0', selfTradePreventionMode: 'EXPIRE_MAKER'}

async function failure(p: Promise<unknown>): Promise<BinanceApiError> {
  try {
    await p
  } catch (err) {
    if (err instanceof BinanceApiError) return err
    throw err
  }
  throw new Error('resolved')
}

/**
 * The venue's clock `skew` ms from ours (the stub's serverTime follows it): a signed request
 * whose timestamp is outside its recvWindow is refused -1021; others are answered `body(r)`.
 */
function skewedVenue(body: (r: {path: string}) => unknown): {skew: number} {
  const clock = {skew: 0}
  stub.serverTime = () => wall + clock.skew
  stub.handler = (r) => {
    if (r.path === '/fapi/v1/time') return undefined
    const ts = Number(r.params.get('timestamp'))
    if (ts > wall + clock.skew + 1000 || wall + clock.skew - ts > 5000) return {status: 400, body: {code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.'}}
    return {body: body(r)}
  }
  return clock
}

beforeAll(async () => {
  stub = new BinanceStub(SECRET)
  await stub.start()
})
afterAll(() => stub.stop())
beforeEach(() => {
  stub.reset()
  answers.length = 0
  syncs.length = 0
  wall = 1_700_000_000_000
  stub.serverTime = () => wall
})

describe('classification (definitive vs in doubt)', () => {
  it.each([
    [400, -5022, 'rejected', 'venue'],
    [400, -2011, 'rejected', 'venue'],
    [400, -1021, 'rejected', 'timestamp'],
    [400, -5028, 'rejected', 'timestamp'],
    [429, -1003, 'rejected', 'rate-limit'],
    [400, -1015, 'rejected', 'rate-limit'],
    [418, -1003, 'rejected', 'banned'],
    [503, -1008, 'rejected', 'throttled'],
    [400, -1006, 'unknown', 'server'],
    [408, undefined, 'unknown', 'server'],
    [500, undefined, 'unknown', 'server'],
    [503, -1007, 'unknown', 'server'],
    [502, undefined, 'unknown', 'server'],
    [403, undefined, 'rejected', 'venue'],
  ] as const)('HTTP %i code %s → %s / %s', (status, code, outcome, kind) => {
    expect(classifyHttp(status, code)).toEqual({outcome, kind})
  })
  it.each([
    ['ECONNREFUSED', 'rejected', 'transport'],
    ['UND_ERR_CONNECT_TIMEOUT', 'rejected', 'transport'],
    ['ECONNRESET', 'unknown', 'transport'],
    ['UND_ERR_SOCKET', 'unknown', 'transport'],
    ['UND_ERR_HEADERS_TIMEOUT', 'unknown', 'timeout'],
    ['ABORT_ERR', 'unknown', 'timeout'],
    [undefined, 'unknown', 'transport'],
  ] as const)('transport %s → %s / %s', (code, outcome, kind) => {
    expect(classifyTransport(code)).toEqual({outcome, kind})
  })
})

describe('signed requests on the wire', () => {
  it('places a GTX order exactly as chosen: form body, key header, stp explicit, timestamp + offset, signature last and valid', async () => {
    const g = gw()
    stub.serverTime = () => wall + 1234
    await g.syncTime()
    expect(g.timeOffsetMs).toBe(1234)
    stub.handler = (r) => (r.path === '/fapi/v1/order' ? {body: ORDER, headers: {'X-MBX-ORDER-COUNT-10S': '3', 'X-MBX-ORDER-COUNT-1M': '17', 'X-MBX-USED-WEIGHT-1M': '40'}} : undefined)
    const o = await g.placeOrder(PLACE)
    expect(o).toMatchObject({orderId: 42, clientOrderId: 'mm-r1-b0-0', status: 'NEW', timeInForce: 'GTX'})
    const r = stub.requests.at(-1)!
    expect([r.method, r.path, r.query]).toEqual(['POST', '/fapi/v1/order', ''])
    expect(r.headers['x-mbx-apikey']).toBe(KEY)
    expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(r.body).toBe(
      `symbol=ETHUSDC&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.010&price=3000.00&newClientOrderId=mm-r1-b0-0&selfTradePreventionMode=EXPIRE_MAKER&recvWindow=5000&timestamp=${wall + 1234}&signature=${r.signature}`,
    )
    expect(r.signatureOk).toBe(true)
    expect(answers.at(-1)).toMatchObject({endpoint: 'POST /fapi/v1/order', status: 200, orderCount10s: 3, orderCount1m: 17, usedWeight1m: 40})
    await g.close()
  })

  it('reduce-only IOC and MARKET orders; MARKET takes no price or time in force', async () => {
    const g = gw()
    stub.handler = () => ({body: {...ORDER, type: 'MARKET', status: 'FILLED'}})
    await g.placeOrder({symbol: 'ETHUSDC', side: 'SELL', type: 'LIMIT', timeInForce: 'IOC', quantity: '0.5', price: '2999.9', reduceOnly: true, newClientOrderId: 'x1', selfTradePreventionMode: 'EXPIRE_TAKER'})
    expect(stub.requests.at(-1)!.body).toMatch(/^symbol=ETHUSDC&side=SELL&type=LIMIT&timeInForce=IOC&quantity=0.5&price=2999.9&reduceOnly=true&newClientOrderId=x1&selfTradePreventionMode=EXPIRE_TAKER&recvWindow=5000&timestamp=\d+&signature=[0-9a-f]{64}$/)
    await g.placeOrder({symbol: 'ETHUSDC', side: 'SELL', type: 'MARKET', quantity: '0.5', reduceOnly: true, newClientOrderId: 'x2', selfTradePreventionMode: 'NONE', newOrderRespType: 'RESULT'})
    expect(stub.requests.at(-1)!.body).toMatch(/^symbol=ETHUSDC&side=SELL&type=MARKET&quantity=0.5&reduceOnly=true&newClientOrderId=x2&selfTradePreventionMode=NONE&newOrderRespType=RESULT&recvWindow/)
    await expect(g.placeOrder({...PLACE, type: 'MARKET'})).rejects.toThrow('MARKET order mm-r1-b0-0 takes no price or time in force')
    await expect(g.placeOrder({...PLACE, timeInForce: undefined})).rejects.toThrow('LIMIT order mm-r1-b0-0 needs a price and a time in force')
    expect(stub.requests).toHaveLength(2)
    await g.close()
  })

  it('GET and DELETE sign the query string; cancel, query, open orders, cancel-all, countdown', async () => {
    const g = gw()
    stub.handler = (r) => {
      if (r.path === '/fapi/v1/openOrders') return {body: [ORDER]}
      if (r.path === '/fapi/v1/allOpenOrders') return {body: {code: 200, msg: 'The operation of cancel all open order is done.'}}
      if (r.path === '/fapi/v1/countdownCancelAll') return {body: {symbol: 'ETHUSDC', countdownTime: '120000'}}
      return {body: {...ORDER, status: r.method === 'DELETE' ? 'CANCELED' : 'NEW'}}
    }
    expect((await g.cancelOrder('ETHUSDC', 'mm-r1-b0-0')).status).toBe('CANCELED')
    expect((await g.queryOrder('ETHUSDC', 'mm-r1-b0-0')).status).toBe('NEW')
    expect(await g.openOrders('ETHUSDC')).toHaveLength(1)
    await g.cancelAll('ETHUSDC')
    await g.countdownCancelAll('ETHUSDC', 120_000)
    const [c, q, oo, ca, cd] = stub.requests
    expect([c.method, c.path, c.body]).toEqual(['DELETE', '/fapi/v1/order', ''])
    expect(c.query).toMatch(/^symbol=ETHUSDC&origClientOrderId=mm-r1-b0-0&recvWindow=5000&timestamp=\d+&signature=[0-9a-f]{64}$/)
    expect([q.method, q.path]).toEqual(['GET', '/fapi/v1/order'])
    expect([oo.path, ca.method, ca.path, cd.method, cd.path]).toEqual(['/fapi/v1/openOrders', 'DELETE', '/fapi/v1/allOpenOrders', 'POST', '/fapi/v1/countdownCancelAll'])
    expect(cd.body).toMatch(/^symbol=ETHUSDC&countdownTime=120000&recvWindow/)
    expect(stub.requests.every((r) => r.signatureOk === true)).toBe(true)
    await g.close()
  })

  it('reuses one keep-alive connection for sequential requests', async () => {
    const g = gw()
    const before = stub.connections
    stub.handler = () => ({body: [ORDER]})
    for (let i = 0; i < 10; i++) await g.openOrders('ETHUSDC')
    // undici may open a second socket while the first is being returned to the pool; never one per request
    expect(stub.connections - before).toBeLessThanOrEqual(2)
    expect(stub.requests).toHaveLength(10)
    await g.close()
  })

  it('listenKey calls carry the key but no signature', async () => {
    const g = gw()
    stub.handler = (r) => (r.path === '/fapi/v1/listenKey' ? {body: r.method === 'DELETE' ? {} : {listenKey: 'LK1'}} : undefined)
    expect(await g.createListenKey()).toBe('LK1')
    await g.keepAliveListenKey()
    await g.closeListenKey()
    expect(stub.requests.map((r) => [r.method, r.path, r.query + r.body, r.headers['x-mbx-apikey']])).toEqual([
      ['POST', '/fapi/v1/listenKey', '', KEY],
      ['PUT', '/fapi/v1/listenKey', '', KEY],
      ['DELETE', '/fapi/v1/listenKey', '', KEY],
    ])
    await g.close()
  })

  it('batch orders: JSON list in the body, answers per slot (order or definitive error)', async () => {
    const g = gw()
    stub.handler = () => ({body: [ORDER, {code: -5022, msg: 'Due to the order could not be executed as maker, the Post Only order will be rejected.'}]})
    const res = await g.placeBatch([PLACE, {...PLACE, side: 'SELL', price: '3000.01', newClientOrderId: 'mm-r1-a0-0'}])
    expect((res[0] as {orderId: number}).orderId).toBe(42)
    const e = res[1] as BinanceApiError
    expect([e instanceof BinanceApiError, e.outcome, e.venueCode]).toEqual([true, 'rejected', -5022])
    const r = stub.requests[0]
    const list = JSON.parse(r.params.get('batchOrders')!)
    expect(list[1]).toEqual({symbol: 'ETHUSDC', side: 'SELL', type: 'LIMIT', timeInForce: 'GTX', quantity: '0.010', price: '3000.01', newClientOrderId: 'mm-r1-a0-0', selfTradePreventionMode: 'EXPIRE_MAKER'})
    expect(r.signatureOk).toBe(true)
    await expect(g.placeBatch([PLACE, PLACE, PLACE, PLACE, PLACE, PLACE])).rejects.toThrow('batch orders take 1 to 5 orders, got 6')
    await g.close()
  })

  it('account calls: positionRisk, userTrades, commission, dual side, leverage, rules', async () => {
    const g = gw()
    stub.handler = (r) => {
      switch (r.path) {
        case '/fapi/v3/positionRisk':
          return {body: [{symbol: 'ETHUSDC', positionSide: 'BOTH', positionAmt: '-0.020', entryPrice: '3001.5', markPrice: '3000', unRealizedProfit: '0.03', liquidationPrice: '0', updateTime: 5}]}
        case '/fapi/v1/userTrades':
          return {body: [{id: 7, orderId: 42, symbol: 'ETHUSDC', side: 'SELL', price: '3001.50', qty: '0.020', quoteQty: '60.03', commission: '0.0060', commissionAsset: 'USDC', realizedPnl: '0', maker: true, time: 9}]}
        case '/fapi/v1/commissionRate':
          return {body: {symbol: 'ETHUSDC', makerCommissionRate: '0.0000', takerCommissionRate: '0.0004'}}
        case '/fapi/v1/positionSide/dual':
          return {body: {dualSidePosition: false}}
        case '/fapi/v1/leverage':
          return {body: {leverage: 3, maxNotionalValue: '1000000', symbol: 'ETHUSDC'}}
        case '/fapi/v1/exchangeInfo':
          return {
            body: {
              rateLimits: [{rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300}],
              symbols: [
                {
                  symbol: 'ETHUSDC',
                  status: 'TRADING',
                  contractType: 'PERPETUAL',
                  marginAsset: 'USDC',
                  timeInForce: ['GTC', 'IOC', 'GTX'],
                  orderTypes: ['LIMIT', 'MARKET'],
                  filters: [
                    {filterType: 'PRICE_FILTER', minPrice: '0.01', maxPrice: '100000', tickSize: '0.01'},
                    {filterType: 'LOT_SIZE', minQty: '0.001', maxQty: '10000', stepSize: '0.001'},
                    {filterType: 'MARKET_LOT_SIZE', minQty: '0.001', maxQty: '2000', stepSize: '0.001'},
                    {filterType: 'MAX_NUM_ORDERS', limit: 200},
                    {filterType: 'MIN_NOTIONAL', notional: '20'},
                    {filterType: 'PERCENT_PRICE', multiplierUp: '1.0500', multiplierDown: '0.9500', multiplierDecimal: '4'},
                  ],
                },
              ],
            },
          }
      }
      return undefined
    }
    expect(await g.positionRisk('ETHUSDC')).toEqual([{symbol: 'ETHUSDC', positionSide: 'BOTH', positionAmt: '-0.020', entryPrice: '3001.5', breakEvenPrice: undefined, markPrice: '3000', unRealizedProfit: '0.03', liquidationPrice: '0', leverage: undefined, marginAsset: undefined, updateTime: 5}])
    const t = await g.userTrades({symbol: 'ETHUSDC', fromId: 7, limit: 100})
    expect(t[0]).toMatchObject({id: 7, maker: true, commission: '0.0060', side: 'SELL'})
    expect(stub.requests.at(-1)!.query).toMatch(/^symbol=ETHUSDC&fromId=7&limit=100&recvWindow/)
    expect(await g.commissionRate('ETHUSDC')).toEqual({symbol: 'ETHUSDC', makerCommissionRate: '0.0000', takerCommissionRate: '0.0004'})
    expect(await g.dualSidePosition()).toBe(false)
    expect(await g.setLeverage('ETHUSDC', 3)).toEqual({leverage: 3, maxNotionalValue: '1000000'})
    const {rules, rateLimits} = await g.symbolRules('ethusdc')
    expect(rules).toMatchObject({status: 'TRADING', tickSize: '0.01', stepSize: '0.001', minNotional: '20', maxNumOrders: 200, marketMaxQty: '2000', percentPrice: {multiplierUp: '1.0500', multiplierDown: '0.9500', multiplierDecimal: '4'}})
    expect(rateLimits).toEqual([{rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300}])
    await expect(g.symbolRules('BTCUSDT')).rejects.toThrow('BTCUSDT is not listed by')
    expect(stub.requests.find((r) => r.path === '/fapi/v1/exchangeInfo')!.headers['x-mbx-apikey']).toBeUndefined()
    await g.close()
  })
})

describe('failures', () => {
  it('-5022 is a definitive rejection carrying the code; the message has no query, signature or secret', async () => {
    const g = gw()
    stub.handler = () => ({status: 400, body: {code: -5022, msg: 'Due to the order could not be executed as maker, the Post Only order will be rejected.'}})
    const e = await failure(g.placeOrder(PLACE))
    expect([e.outcome, e.kind, e.venueCode, e.httpStatus, e.code, e.definitive]).toEqual(['rejected', 'venue', -5022, 400, 'E_VENUE_REJECTED', true])
    expect(e.message).toBe('POST /fapi/v1/order: HTTP 400: Due to the order could not be executed as maker, the Post Only order will be rejected. (code -5022)')
    const sig = stub.requests.at(-1)!.signature!
    for (const s of [e.message, JSON.stringify(e), String(e.stack), e.suggestion ?? '']) {
      expect(s).not.toContain(sig)
      expect(s).not.toContain(SECRET)
      expect(s).not.toContain('timestamp=')
    }
    await g.close()
  })

  it('an echoed signature in a venue message is redacted', async () => {
    const g = gw()
    stub.handler = (r) => ({status: 400, body: {code: -1022, msg: `Signature for this request is not valid. got ${r.body}`}})
    const e = await failure(g.placeOrder(PLACE))
    expect(e.message).toContain('signature=<redacted>')
    expect(e.message).not.toContain(stub.requests.at(-1)!.signature!)
    await g.close()
  })

  it('a periodic re-sync adopts the new offset; one measured over a round trip above 500 ms is dropped', async () => {
    const g = gw()
    stub.serverTime = () => wall + 100
    await g.syncTime()
    expect(g.timeOffsetMs).toBe(100)
    // the local clock stepped back 600 ms (NTP)
    stub.serverTime = () => wall + 700
    await g.syncTime('periodic')
    expect(g.timeOffsetMs).toBe(700)
    // a slow answer: 2 s pass during the round trip
    stub.handler = (r) => {
      if (r.path === '/fapi/v1/time') wall += 2000
      return undefined
    }
    await g.syncTime('periodic')
    expect(g.timeOffsetMs).toBe(700)
    // at start (or after a -1021) the measure is taken whatever the round trip
    await g.syncTime('timestamp-error')
    expect(g.timeOffsetMs).toBe(700 + 1000)
    await g.close()
  })

  it('-1021: re-syncs the clock and re-sends an idempotent call once, never an order placement', async () => {
    const g = gw()
    const clock = skewedVenue((r) => (r.path === '/fapi/v1/openOrders' ? [] : ORDER))
    clock.skew = 9000
    expect(await g.openOrders('ETHUSDC')).toEqual([])
    expect(stub.requests.map((r) => r.path)).toEqual(['/fapi/v1/openOrders', '/fapi/v1/time', '/fapi/v1/openOrders'])
    expect(syncs).toEqual([{offsetMs: 9000, rttMs: 0, reason: 'timestamp-error'}])
    clock.skew = -7000
    stub.requests.length = 0
    const e = await failure(g.placeOrder(PLACE))
    expect([e.kind, e.outcome, e.venueCode]).toEqual(['timestamp', 'rejected', -1021])
    expect(stub.requests.map((r) => r.path)).toEqual(['/fapi/v1/order', '/fapi/v1/time'])
    expect(g.timeOffsetMs).toBe(-7000)
    expect(await g.placeOrder(PLACE)).toMatchObject({orderId: 42})
    await g.close()
  })

  it('a batch cancel signed ahead and refused -1021: the clock is re-synced and the cancel signed anew, once', async () => {
    const g = gw()
    const clock = skewedVenue(() => [{...ORDER, clientOrderId: 'a', status: 'CANCELED'}, {code: -2011, msg: 'Unknown order sent.'}])
    const prepared = g.prepareCancelBatch('ETHUSDC', ['a', 'b'])
    clock.skew = 9000
    const slots = await g.cancelBatch('ETHUSDC', prepared.ids, prepared)
    expect(stub.requests.map((r) => `${r.method} ${r.path} ${r.params.get('timestamp') ?? ''}`)).toEqual([`DELETE /fapi/v1/batchOrders ${wall}`, 'GET /fapi/v1/time ', `DELETE /fapi/v1/batchOrders ${wall + 9000}`])
    expect(stub.requests[2].params.get('origClientOrderIdList')).toBe('["a","b"]')
    expect(syncs).toEqual([{offsetMs: 9000, rttMs: 0, reason: 'timestamp-error'}])
    expect((slots[0] as {clientOrderId: string}).clientOrderId).toBe('a')
    expect((slots[1] as BinanceApiError).venueCode).toBe(-2011)
    // a second -1021 after the re-sync is the caller's (never a loop)
    clock.skew = 0
    const again = g.prepareCancelBatch('ETHUSDC', ['a', 'b'])
    stub.requests.length = 0
    stub.handler = (r) => (r.path === '/fapi/v1/time' ? undefined : {status: 400, body: {code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.'}})
    const e = await failure(g.cancelBatch('ETHUSDC', again.ids, again))
    expect([e.kind, e.venueCode]).toEqual(['timestamp', -1021])
    expect(stub.requests.map((r) => r.path)).toEqual(['/fapi/v1/batchOrders', '/fapi/v1/time', '/fapi/v1/batchOrders'])
    await g.close()
  })

  it('bad arguments and a failing connection pool are the promise\'s failure, never a throw', async () => {
    const g = gw()
    const calls: Array<() => Promise<unknown>> = [
      () => g.cancelBatch('ETHUSDC', []),
      () => g.cancelBatch('ETHUSDC', ['a', 'b'], g.prepareCancelBatch('ETHUSDC', ['a', 'b'])),
      () => g.placeOrder({...PLACE, price: undefined}),
    ]
    for (const f of calls) {
      let p: Promise<unknown> | undefined
      expect(() => (p = f())).not.toThrow()
      await expect(p).rejects.toThrow()
    }
    // refused before anything was built or sent (review7: a quantity of '' was sent and refused by the venue)
    expect(stub.requests).toEqual([])
    await g.close()
    const dead = new BinanceGateway({
      baseUrl: stub.url,
      credentials: new Credentials(KEY, SECRET),
      now: () => wall,
      dispatcher: {
        request: () => {
          throw new Error('pool closed')
        },
        close: async () => {},
      } as never,
    })
    let p: Promise<unknown> | undefined
    expect(() => (p = dead.cancelOrder('ETHUSDC', 'x'))).not.toThrow()
    const e = await failure(p as Promise<unknown>)
    // an error without a transport code is in doubt (settled by a query), as a failed request always was
    expect([e.outcome, e.kind]).toEqual(['unknown', 'transport'])
  })

  it('a timeout is an unknown outcome (in doubt), not a rejection', async () => {
    const g = gw({timeoutMs: 150})
    stub.handler = () => ({hang: true})
    const e = await failure(g.placeOrder(PLACE))
    expect([e.outcome, e.kind, e.code, e.definitive]).toEqual(['unknown', 'timeout', 'E_VENUE_TIMEOUT', false])
    expect(e.message).toBe('POST /fapi/v1/order: no answer within 150 ms; outcome unknown')
    await g.close()
  })

  it('a reset after sending, 5xx and -1007 are unknown outcomes; -1008 and 429 are definitive with Retry-After', async () => {
    const g = gw()
    stub.handler = () => ({reset: true})
    expect((await failure(g.placeOrder(PLACE))).outcome).toBe('unknown')
    stub.handler = () => ({status: 503, body: {code: -1007, msg: 'Timeout waiting for response from backend server. Send status unknown; execution status unknown.'}})
    const e2 = await failure(g.placeOrder(PLACE))
    expect([e2.outcome, e2.venueCode, e2.httpStatus]).toEqual(['unknown', -1007, 503])
    stub.handler = () => ({status: 502, body: 'Bad Gateway'})
    const e3 = await failure(g.cancelOrder('ETHUSDC', 'x'))
    expect([e3.outcome, e3.message]).toEqual(['unknown', 'DELETE /fapi/v1/order: HTTP 502: a body that is not a Binance error; outcome unknown'])
    stub.handler = () => ({status: 503, body: {code: -1008, msg: 'Server is currently overloaded with other requests. Please try again in a few minutes.'}})
    const e4 = await failure(g.placeOrder(PLACE))
    expect([e4.outcome, e4.kind]).toEqual(['rejected', 'throttled'])
    stub.handler = () => ({status: 429, body: {code: -1003, msg: 'Too many requests'}, headers: {'Retry-After': '7'}})
    const e5 = await failure(g.placeOrder(PLACE))
    expect([e5.outcome, e5.kind, e5.retryAfterMs]).toEqual(['rejected', 'rate-limit', 7000])
    expect(answers.at(-1)).toMatchObject({status: 429, retryAfterMs: 7000, venueCode: -1003})
    stub.handler = () => ({status: 418, body: {code: -1003, msg: 'Way too many requests; IP banned until 1700000120000.'}, headers: {'retry-after': '120'}})
    const e6 = await failure(g.openOrders('ETHUSDC'))
    expect([e6.kind, e6.code, e6.retryAfterMs]).toEqual(['banned', 'E_VENUE_BANNED', 120_000])
    stub.handler = () => ({status: 400, body: {code: -2011, msg: 'Unknown order sent.'}})
    expect((await failure(g.cancelOrder('ETHUSDC', 'x'))).noSuchOrder).toBe(true)
    stub.handler = () => ({status: 400, body: {code: -2013, msg: 'Order does not exist.'}})
    expect((await failure(g.queryOrder('ETHUSDC', 'x'))).noSuchOrder).toBe(true)
    await g.close()
  })

  it('a refused connection is definitive (nothing was sent)', async () => {
    const g = gw({url: 'http://127.0.0.1:1'})
    const e = await failure(g.placeOrder(PLACE))
    expect([e.outcome, e.kind, e.code]).toEqual(['rejected', 'transport', 'E_VENUE_UNREACHABLE'])
    await g.close()
  })

  it('an answer that is not an order is a bad response of unknown outcome', async () => {
    const g = gw()
    stub.handler = () => ({body: {hello: 1}})
    const e = await failure(g.placeOrder(PLACE))
    expect([e.outcome, e.kind, e.message]).toEqual(['unknown', 'bad-response', 'POST /fapi/v1/order: unexpected answer (no valid status)'])
    await g.close()
  })
})
