import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {Instrument} from '../../src/lib/domain/instrument.js'
import {BinanceGateway} from '../../src/lib/venue/binance/gateway.js'
import {Credentials} from '../../src/lib/venue/binance/signer.js'
import {type OrderUpdate, orderUpdateReports, parseUserEvent, type UserEvent} from '../../src/lib/venue/binance/user-events.js'
import {UserStream, type UserStreamReason} from '../../src/lib/venue/binance/user-stream.js'
import {BinanceStub} from '../support/binance-stub.js'
import {until} from '../support/wait.js'

const INST = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})

// FACTS.md §7 (verbatim fixture)
const OTU_FIXTURE = {
  e: 'ORDER_TRADE_UPDATE', E: 1568879465651, T: 1568879465650,
  o: {s: 'BTCUSDT', c: 'TEST', S: 'SELL', o: 'TRAILING_STOP_MARKET', f: 'GTC', q: '0.001', p: '0', ap: '0', sp: '7103.04', x: 'NEW', X: 'NEW', i: 8886774, l: '0', z: '0', L: '0', N: 'USDT', n: '0', T: 1568879465650, t: 0, b: '0', a: '9.91', m: false, R: false, wt: 'CONTRACT_PRICE', ot: 'TRAILING_STOP_MARKET', ps: 'LONG', cp: false, AP: '7476.89', cr: '5.0', pP: false, si: 0, ss: 0, rp: '0', V: 'EXPIRE_TAKER', pm: 'OPPONENT', gtd: 0, er: '0'},
}

function otu(o: Record<string, unknown>): Record<string, unknown> {
  return {e: 'ORDER_TRADE_UPDATE', E: 1700000000100, T: 1700000000099, o: {s: 'ETHUSDC', c: 'mm-r1-b0-0', S: 'BUY', o: 'LIMIT', f: 'GTX', q: '0.030', p: '3000.00', ap: '0', x: 'NEW', X: 'NEW', i: 77, l: '0', z: '0', L: '0', T: 1700000000099, t: 0, m: false, R: false, ps: 'BOTH', rp: '0', V: 'EXPIRE_MAKER', er: '0', ...o}}
}

describe('user events: parsing', () => {
  it('parses the published ORDER_TRADE_UPDATE fixture', () => {
    const u = parseUserEvent(OTU_FIXTURE) as OrderUpdate
    expect(u).toMatchObject({e: 'ORDER_TRADE_UPDATE', E: 1568879465651, T: 1568879465650, symbol: 'BTCUSDT', clientOrderId: 'TEST', side: 'SELL', execType: 'NEW', status: 'NEW', orderId: 8886774, commission: '0', commissionAsset: 'USDT', positionSide: 'LONG', stpMode: 'EXPIRE_TAKER', expiryReason: '0'})
  })

  it('parses ACCOUNT_UPDATE (FUNDING_FEE with balances only, ORDER with a position) and listenKeyExpired, unwraps a combined envelope', () => {
    expect(parseUserEvent({e: 'ACCOUNT_UPDATE', E: 5, T: 4, a: {m: 'FUNDING_FEE', B: [{a: 'USDC', wb: '1000.5', cw: '1000.5', bc: '-0.12'}]}})).toEqual({
      e: 'ACCOUNT_UPDATE', E: 5, T: 4, reason: 'FUNDING_FEE', balances: [{asset: 'USDC', walletBalance: '1000.5', crossWalletBalance: '1000.5', balanceChange: '-0.12'}], positions: [],
    })
    const a = parseUserEvent({stream: 'LK', data: {e: 'ACCOUNT_UPDATE', E: 6, T: 6, a: {m: 'ORDER', B: [], P: [{s: 'ETHUSDC', pa: '-0.030', ep: '3001.10', bep: '3001.4', cr: '12.3', up: '0.5', mt: 'cross', iw: '0', ps: 'BOTH'}]}}})
    expect(a).toMatchObject({reason: 'ORDER', positions: [{symbol: 'ETHUSDC', amount: '-0.030', entryPrice: '3001.10', breakEvenPrice: '3001.4', accumulatedRealized: '12.3', positionSide: 'BOTH'}]})
    expect(parseUserEvent({e: 'listenKeyExpired', E: 1736996475556, listenKey: 'WsCMN0a4'})).toEqual({e: 'listenKeyExpired', E: 1736996475556, listenKey: 'WsCMN0a4'})
    expect(parseUserEvent({e: 'TRADE_LITE', E: 1})).toEqual({e: 'other', type: 'TRADE_LITE'})
  })

  it('a malformed event names the field', () => {
    expect(() => parseUserEvent(otu({i: 'x'}))).toThrow('ORDER_TRADE_UPDATE: field i missing or not an integer')
    expect(() => parseUserEvent(otu({S: 'UP'}))).toThrow('ORDER_TRADE_UPDATE: side S "UP" is not BUY or SELL')
    expect(() => parseUserEvent({e: 'ACCOUNT_UPDATE', E: 1, a: {B: []}})).toThrow('ACCOUNT_UPDATE: field m missing or not a string')
    expect(() => parseUserEvent([1])).toThrow('user stream: a message that is not a JSON object')
  })
})

describe('user events → lifecycle reports', () => {
  const rep = (o: Record<string, unknown>) => orderUpdateReports(parseUserEvent(otu(o)) as OrderUpdate, INST, 42)

  it('NEW → ack on the grid with the venue order id', () => {
    expect(rep({})).toEqual([{clientOrderId: 'mm-r1-b0-0', ts: 42, venueTs: 1700000000099, type: 'ack', venueOrderId: '77', side: 'BUY', price: 300000, qty: 30, tif: 'GTX', reduceOnly: false}])
  })

  it('TRADE → fill with trade id, maker flag, the fee and the realised profit as sent; totals after the fill', () => {
    expect(rep({x: 'TRADE', X: 'PARTIALLY_FILLED', l: '0.010', z: '0.010', L: '3000.00', n: '-0.00030000', N: 'USDC', t: 901, m: true, T: 1700000000200, rp: '-0.12345678'})).toEqual([
      {
        clientOrderId: 'mm-r1-b0-0', ts: 42, venueTs: 1700000000099, type: 'fill', filled: 10, leaves: 20, status: 'PARTIALLY_FILLED',
        fill: {clientOrderId: 'mm-r1-b0-0', side: 'BUY', price: 300000, qty: 10, maker: true, fee: '-0.00030000', ts: 1700000000200, tradeId: '901', realised: '-0.12345678'},
      },
    ])
    // no rp: the trade realised nothing (as Binance sends "0" on an opening trade)
    expect(rep({x: 'TRADE', X: 'FILLED', l: '0.020', z: '0.030', L: '2999.99', n: '0.012', t: 902})[0]).toMatchObject({filled: 30, leaves: 0, status: 'FILLED', fill: {price: 299999, qty: 20, fee: '0.012', maker: false, realised: '0'}})
    expect(() => rep({x: 'TRADE', X: 'FILLED', l: '0.020', z: '0.030', L: '2999.99', n: '0.012', t: 903, rp: '1e-8'})).toThrow('ORDER_TRADE_UPDATE: field rp "1e-8" is not a decimal')
  })

  it('CANCELED, EXPIRED (IOC rest, reduce-only knocked out, STP), AMENDMENT ignored', () => {
    expect(rep({x: 'CANCELED', X: 'CANCELED', z: '0.010'})).toEqual([{clientOrderId: 'mm-r1-b0-0', ts: 42, venueTs: 1700000000099, type: 'canceled', filled: 10}])
    expect(rep({x: 'EXPIRED', X: 'EXPIRED', f: 'IOC', er: '2'})[0]).toMatchObject({type: 'expired', reason: 'IOC', filled: 0})
    expect(rep({x: 'EXPIRED', X: 'EXPIRED', er: '4', R: true})[0]).toMatchObject({type: 'expired', reason: 'REDUCE_ONLY'})
    expect(rep({x: 'EXPIRED', X: 'EXPIRED_IN_MATCH', er: '1'})[0]).toMatchObject({type: 'expired', reason: 'STP', status: 'EXPIRED_IN_MATCH'})
    expect(rep({x: 'AMENDMENT', X: 'NEW'})).toEqual([])
  })
})

describe('user data stream client against a loopback stub', () => {
  const SECRET = 'stubsecret-0123456789'
  let stub: BinanceStub
  let gw: BinanceGateway
  let keyN = 0
  /** keep-alives to refuse with -1125 */
  let keepAliveFails = 0
  const live: UserStream[] = []

  beforeAll(async () => {
    stub = new BinanceStub(SECRET)
    await stub.start()
  })
  afterAll(() => stub.stop())
  afterEach(async () => {
    for (const s of live.splice(0)) await s.stop()
  })
  beforeEach(() => {
    stub.reset()
    stub.answerPings = true
    keyN = 0
    keepAliveFails = 0
    stub.handler = (r) => {
      if (r.path !== '/fapi/v1/listenKey') return undefined
      if (r.method === 'POST') return {body: {listenKey: `LK${++keyN}`}}
      if (r.method === 'PUT') return keepAliveFails-- > 0 ? {status: 400, body: {code: -1125, msg: 'This listenKey does not exist.'}} : {body: {listenKey: `LK${keyN}`}}
      return {body: {}}
    }
    gw = new BinanceGateway({baseUrl: stub.url, credentials: new Credentials('stubkey-0123456789', SECRET)})
  })

  function stream(o: Partial<ConstructorParameters<typeof UserStream>[0]> = {}) {
    const s = new UserStream({keys: gw, wsBase: stub.url.replace('http', 'ws'), routed: true, backoffBaseMs: 10, backoffMaxMs: 50, random: () => 0.5, ...o})
    live.push(s)
    const events: UserEvent[] = []
    const resyncs: UserStreamReason[] = []
    const downs: UserStreamReason[] = []
    s.on('event', (e) => events.push(e))
    s.on('resync', (r) => resyncs.push(r.reason))
    s.on('down', (d) => downs.push(d.reason))
    return {s, events, resyncs, downs}
  }

  const orderIds = (evs: UserEvent[]) => evs.map((e) => (e.e === 'ORDER_TRADE_UPDATE' ? e.orderId : e.e))

  it('connects on the routed private path with a new key; buffers until flush, then passes events through in order', async () => {
    const {s, events, resyncs} = stream()
    await s.start()
    expect(stub.streamLog).toEqual(['LK1'])
    expect(resyncs).toEqual(['start'])
    expect(s.isBuffering).toBe(true)
    stub.push(otu({i: 1}))
    stub.push(otu({i: 2}))
    stub.push({e: 'TRADE_LITE', E: 1})
    await until(() => stub.streams.size > 0 && (s as unknown as {buffer: unknown[]}).buffer.length === 2, 'two buffered events')
    expect(events).toEqual([])
    s.flush()
    expect(orderIds(events)).toEqual([1, 2])
    stub.push(otu({i: 3}))
    await until(() => events.length === 3, 'a live event')
    expect(orderIds(events)).toEqual([1, 2, 3])
    await s.stop()
    expect(stub.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /fapi/v1/listenKey', 'DELETE /fapi/v1/listenKey'])
  })

  it('keeps the key alive on its period; a failed keep-alive takes a new key and reconnects with it (buffering again)', async () => {
    const {s, resyncs} = stream({keepAliveMs: 60})
    await s.start()
    s.flush()
    await until(() => s.keepAlives >= 2, 'two keep-alives')
    expect(stub.requests.filter((r) => r.method === 'PUT')).toHaveLength(s.keepAlives)
    keepAliveFails = 1
    await until(() => resyncs.length === 2, 'a resync on the new key')
    expect(resyncs).toEqual(['start', 'keepalive-failed'])
    expect(stub.streamLog).toEqual(['LK1', 'LK2'])
    expect(s.isBuffering).toBe(true)
    await s.stop()
  })

  it('listenKeyExpired → new key and a new connection', async () => {
    const {s, resyncs, events} = stream()
    await s.start()
    s.flush()
    stub.push({e: 'listenKeyExpired', E: 1736996475556, listenKey: 'LK1'})
    await until(() => resyncs.length === 2, 'resync after expiry')
    expect(resyncs).toEqual(['start', 'key-expired'])
    expect(stub.streamLog).toEqual(['LK1', 'LK2'])
    stub.push(otu({i: 9}), 'LK2')
    await until(() => (s as unknown as {buffer: unknown[]}).buffer.length === 1, 'buffered on the new connection')
    s.flush()
    expect(orderIds(events)).toEqual([9])
    await s.stop()
  })

  it('no pong → the connection is dropped and made again', async () => {
    // a pong answered late on a loaded machine must not count as missing: a wide timeout, the test waits on the event
    const {s, resyncs, downs} = stream({pingIntervalMs: 50, pongTimeoutMs: 1000})
    await s.start()
    await until(() => stub.pings >= 2, 'pings answered')
    expect(resyncs).toEqual(['start'])
    stub.answerPings = false
    await until(() => resyncs.length === 2, 'reconnect after a missing pong')
    expect(downs[0]).toBe('no-pong')
    expect(resyncs[1]).toBe('no-pong')
    expect(stub.streamLog).toEqual(['LK1', 'LK1'])
    await s.stop()
  })

  it('a closed socket reconnects with backoff; the lifetime cut recycles; the audit marks it dead (new key)', async () => {
    const {s, resyncs, downs} = stream({maxLifetimeMs: 150})
    await s.start()
    stub.streams.get('LK1')!.close()
    await until(() => resyncs.length === 2, 'reconnect after close')
    expect(downs[0]).toBe('closed')
    await until(() => resyncs.includes('lifetime'), 'lifetime recycle')
    s.markDead('position differs from the venue')
    await until(() => resyncs.includes('audit'), 'audit reconnect')
    expect(stub.streamLog.at(-1)).toBe('LK2')
    await s.stop()
  })

  it('start fails cleanly when the key cannot be created', async () => {
    stub.handler = () => ({status: 401, body: {code: -2015, msg: 'Invalid API-key, IP, or permissions for action.'}})
    const {s} = stream()
    await expect(s.start()).rejects.toThrow('POST /fapi/v1/listenKey: HTTP 401: Invalid API-key, IP, or permissions for action. (code -2015)')
    await s.stop()
  })
})
