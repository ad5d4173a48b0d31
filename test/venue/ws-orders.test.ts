/**
 * The WebSocket API order transport (ws-orders.ts) against an in-process loopback stand-in:
 * signed per request over the sorted params, answers matched by id, Binance error typing
 * (definitive vs unknown), rateLimits to the governor, deadline → unknown, a closed socket
 * → unknown, not connected → definitive; the router falls back to REST and returns.
 */
import {createHmac} from 'node:crypto'
import type {AddressInfo} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'
import WebSocket, {WebSocketServer} from 'ws'
import {BinanceApiError} from '../../src/lib/venue/binance/errors.js'
import type {AnswerInfo} from '../../src/lib/venue/binance/gateway.js'
import type {BinanceOrder, PlaceOrderParams} from '../../src/lib/venue/binance/rest-types.js'
import {Credentials} from '../../src/lib/venue/binance/signer.js'
import {OrderRouter, type OrderTransport, type RouterSwitch, WsOrderApi, wsApiUrl} from '../../src/lib/venue/binance/ws-orders.js'

const KEY = 'testkey0123456789abcdef0123456789abcdef0123456789abcdef01234567'
const SECRET = 'testsecret9876543210fedcba9876543210fedcba9876543210fedcba98765'
const ORDER = {symbol: 'ETHUSDC', orderId: 42, clientOrderId: 'mm-r1-b0-0', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', status: 'NEW', price: '3000.00', origQty: '0.010', executedQty: '0', avgPrice: '0', reduceOnly: false, updateTime: 1}
const PLACE: PlaceOrderParams = {symbol: 'ETHUSDC', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: '0.010', price: '3000.00', newClientOrderId: 'mm-r1-b0-0', selfTradePreventionMode: 'EXPIRE_MAKER'}
const LIMITS = [
  {rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400, count: 17},
  {rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300, count: 3},
  {rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200, count: 9},
]

type Req = {id: number; method: string; params: Record<string, string | number>}
/** how the stand-in answers a request: a message to send, or undefined for no answer */
type Answer = (r: Req) => Record<string, unknown> | undefined

interface Stand {
  url: string
  port: number
  got: Req[]
  socks: Set<WebSocket>
  answer: Answer
  close(): Promise<void>
}

const stands: Stand[] = []
const apis: WsOrderApi[] = []

async function stand(port = 0): Promise<Stand> {
  const wss = new WebSocketServer({host: '127.0.0.1', port, path: '/ws-fapi/v1'})
  await new Promise<void>((r) => wss.once('listening', () => r()))
  const p = (wss.address() as AddressInfo).port
  const s: Stand = {
    url: `ws://127.0.0.1:${p}/ws-fapi/v1`,
    port: p,
    got: [],
    socks: new Set(),
    answer: (r) => ({id: r.id, status: 200, result: {...ORDER, clientOrderId: String(r.params.newClientOrderId ?? r.params.origClientOrderId)}, rateLimits: LIMITS}),
    close: () =>
      new Promise<void>((r) => {
        for (const c of s.socks) c.terminate()
        wss.close(() => r())
      }),
  }
  wss.on('connection', (ws) => {
    s.socks.add(ws)
    ws.on('close', () => s.socks.delete(ws))
    ws.on('message', (raw) => {
      const req = JSON.parse(raw.toString()) as Req
      s.got.push(req)
      const a = s.answer(req)
      if (a) ws.send(JSON.stringify(a))
    })
  })
  stands.push(s)
  return s
}

function api(url: string, o: {timeoutMs?: number; answers?: AnswerInfo[]; now?: () => number; maxAgeMs?: number} = {}): WsOrderApi {
  const a = new WsOrderApi({url, credentials: new Credentials(KEY, SECRET), timeoutMs: o.timeoutMs ?? 2000, offsetMs: () => 250, now: o.now, onAnswer: (x) => o.answers?.push(x), reconnect: {baseMs: 20, maxMs: 100}, maxAgeMs: o.maxAgeMs, drainMs: 50})
  apis.push(a)
  return a
}

async function failure(p: Promise<unknown>): Promise<BinanceApiError> {
  try {
    await p
  } catch (err) {
    if (err instanceof BinanceApiError) return err
    throw err
  }
  throw new Error('resolved')
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}

afterEach(async () => {
  for (const a of apis.splice(0)) await a.stop()
  for (const s of stands.splice(0)) await s.close()
})

describe('WsOrderApi', () => {
  it('order.place: signed over the params sorted by name, key and timestamp (wall + offset) in the params, the answer parsed', async () => {
    const s = await stand()
    const answers: AnswerInfo[] = []
    const a = api(s.url, {answers, now: () => 1_700_000_000_000})
    expect(await a.start()).toBe(true)
    const o = await a.placeOrder(PLACE)
    expect(o).toMatchObject({orderId: 42, clientOrderId: 'mm-r1-b0-0', status: 'NEW', origQty: '0.010'})
    const [req] = s.got
    expect(req.method).toBe('order.place')
    const {signature, ...rest} = req.params
    expect(rest).toEqual({symbol: 'ETHUSDC', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: '0.010', price: '3000.00', newClientOrderId: 'mm-r1-b0-0', selfTradePreventionMode: 'EXPIRE_MAKER', apiKey: KEY, recvWindow: 5000, timestamp: 1_700_000_000_250})
    // decimals are JSON strings, integers JSON numbers (FACTS §3.4)
    expect(typeof rest.price).toBe('string')
    expect(typeof rest.timestamp).toBe('number')
    const payload = Object.keys(rest).sort().map((k) => `${k}=${rest[k as keyof typeof rest]}`).join('&')
    expect(payload.startsWith('apiKey=')).toBe(true)
    expect(signature).toBe(createHmac('sha256', SECRET).update(payload).digest('hex'))
    // rateLimits → the governor's fields
    expect(answers).toEqual([{endpoint: 'order.place', status: 200, at: 1_700_000_000_000, latencyMs: 0, usedWeight1m: 17, orderCount10s: 3, orderCount1m: 9}])
  })

  it('order.cancel and order.status by client id; answers matched by id when they come back out of order', async () => {
    const s = await stand()
    const held: Req[] = []
    s.answer = (r) => {
      held.push(r)
      if (held.length < 2) return undefined
      // answer the second first, then the first
      const ws = [...s.socks][0]
      for (const h of [held[1], held[0]]) ws.send(JSON.stringify({id: h.id, status: 200, result: {...ORDER, clientOrderId: h.params.origClientOrderId, status: h.method === 'order.cancel' ? 'CANCELED' : 'NEW'}}))
      return undefined
    }
    const a = api(s.url)
    await a.start()
    const [c, q] = await Promise.all([a.cancelOrder('ETHUSDC', 'mm-a'), a.queryOrder('ETHUSDC', 'mm-b')])
    expect([c.clientOrderId, c.status, q.clientOrderId, q.status]).toEqual(['mm-a', 'CANCELED', 'mm-b', 'NEW'])
    expect(s.got.map((r) => [r.method, r.params.origClientOrderId])).toEqual([
      ['order.cancel', 'mm-a'],
      ['order.status', 'mm-b'],
    ])
  })

  it('errors are typed as on REST: -5022 and -2013 definitive, -1000 / 503 unknown, 429 rate-limit with retryAfter', async () => {
    const s = await stand()
    const answers: AnswerInfo[] = []
    const now = 1_700_000_000_000
    const a = api(s.url, {answers, now: () => now})
    await a.start()
    s.answer = (r) => ({id: r.id, status: 400, error: {code: -5022, msg: 'Due to the order could not be executed as maker, the Post Only order will be rejected.'}})
    const gtx = await failure(a.placeOrder(PLACE))
    expect([gtx.outcome, gtx.venueCode, gtx.httpStatus, gtx.endpoint]).toEqual(['rejected', -5022, 400, 'order.place'])
    s.answer = (r) => ({id: r.id, status: 400, error: {code: -2013, msg: 'Order does not exist.'}})
    const none = await failure(a.queryOrder('ETHUSDC', 'mm-x'))
    expect([none.outcome, none.noSuchOrder]).toEqual(['rejected', true])
    s.answer = (r) => ({id: r.id, status: 503, error: {code: -1000, msg: 'Unknown error, please check your request or try again later.'}})
    const u = await failure(a.placeOrder(PLACE))
    expect([u.outcome, u.kind]).toEqual(['unknown', 'server'])
    s.answer = (r) => ({id: r.id, status: 429, error: {code: -1015, msg: 'Too many new orders.', data: {retryAfter: now + 250 + 4000}}, rateLimits: LIMITS})
    const rl = await failure(a.placeOrder(PLACE))
    expect([rl.outcome, rl.kind, rl.retryAfterMs]).toEqual(['rejected', 'rate-limit', 4000])
    expect(answers.map((x) => [x.status, x.venueCode, x.retryAfterMs])).toEqual([
      [400, -5022, undefined],
      [400, -2013, undefined],
      [503, -1000, undefined],
      [429, -1015, 4000],
    ])
  })

  it('no answer within the deadline: unknown (timeout), never re-sent; the late answer is dropped', async () => {
    const s = await stand()
    s.answer = () => undefined
    const answers: AnswerInfo[] = []
    const a = api(s.url, {timeoutMs: 200, answers})
    await a.start()
    const e = await failure(a.placeOrder(PLACE))
    expect([e.outcome, e.kind, e.endpoint]).toEqual(['unknown', 'timeout', 'order.place'])
    expect(e.message).toBe('order.place: no answer within 200 ms; outcome unknown')
    expect(s.got).toHaveLength(1)
    expect(answers.map((x) => [x.status, x.failure])).toEqual([[0, 'timeout']])
    const ws = [...s.socks][0]
    ws.send(JSON.stringify({id: s.got[0].id, status: 200, result: ORDER}))
    await until(() => a.counters.late === 1, 'the late answer')
    expect(a.inFlight).toBe(0)
  })

  it('a socket closed with a request pending: unknown (transport); while down a call is definitive, nothing sent; reconnects', async () => {
    const s = await stand()
    s.answer = () => undefined
    const a = api(s.url, {timeoutMs: 5000})
    const downs: string[] = []
    a.on('down', (r) => downs.push(r))
    await a.start()
    const p = failure(a.cancelOrder('ETHUSDC', 'mm-a'))
    await until(() => s.got.length === 1, 'the cancel at the stand-in')
    for (const c of s.socks) c.terminate()
    const e = await p
    expect([e.outcome, e.kind]).toEqual(['unknown', 'transport'])
    expect(e.message).toMatch(/^order\.cancel: connection closed \(1006\) before the answer; outcome unknown$/)
    await until(() => downs.length === 1, 'down')
    // reconnects on its own (backoff 20–100 ms); a call between is refused without sending
    if (!a.connected) {
      const d = await failure(a.placeOrder(PLACE))
      expect([d.outcome, d.kind]).toEqual(['rejected', 'transport'])
    }
    await until(() => a.connected, 'the reconnect')
    expect(a.counters.connections).toBe(2)
    s.answer = (r) => ({id: r.id, status: 200, result: ORDER})
    expect((await a.placeOrder(PLACE)).orderId).toBe(42)
  })

  it('a socket is replaced before the 24 h cut of the venue: no outage, the old one closed after its drain', async () => {
    const s = await stand()
    const a = api(s.url, {maxAgeMs: 300})
    const downs: string[] = []
    a.on('down', (r) => downs.push(r))
    await a.start()
    await until(() => a.counters.connections >= 2 && s.socks.size === 1, 'the replacement and the old socket closed')
    expect(downs).toEqual([])
    expect(a.connected).toBe(true)
  })

  it('neither the secret nor a signature appears in an error message, even when the venue echoes them', async () => {
    const s = await stand()
    s.answer = (r) => ({id: r.id, status: 400, error: {code: -1022, msg: `Signature for this request is not valid. secret=${SECRET} signature=${String(r.params.signature)}`}})
    const a = api(s.url)
    await a.start()
    const e = await failure(a.placeOrder(PLACE))
    const sig = String(s.got[0].params.signature)
    for (const text of [e.message, e.venueMsg ?? '', JSON.stringify(e), String(e.stack)]) {
      expect(text.includes(SECRET)).toBe(false)
      expect(text.includes(sig)).toBe(false)
    }
  })
})

describe('OrderRouter', () => {
  it('WebSocket API unreachable → REST (said once); back → WebSocket API (said once)', async () => {
    // a port that refuses: a stand-in started and closed
    const probe = await stand()
    const port = probe.port
    await probe.close()
    stands.splice(stands.indexOf(probe), 1)
    const a = api(`ws://127.0.0.1:${port}/ws-fapi/v1`, {timeoutMs: 1000})
    const rest: string[] = []
    const restT: OrderTransport = {
      placeOrder: async (p) => (rest.push(`place ${p.newClientOrderId}`), ORDER as BinanceOrder),
      cancelOrder: async (_s, id) => (rest.push(`cancel ${id}`), ORDER as BinanceOrder),
      queryOrder: async (_s, id) => (rest.push(`query ${id}`), ORDER as BinanceOrder),
    }
    const switches: RouterSwitch[] = []
    const r = new OrderRouter(a, restT, (x) => switches.push(x))
    expect(await a.start()).toBe(false)
    expect(r.transport).toBe('rest')
    await r.placeOrder(PLACE)
    await r.cancelOrder('ETHUSDC', 'mm-a')
    await r.queryOrder('ETHUSDC', 'mm-a')
    expect(rest).toEqual(['place mm-r1-b0-0', 'cancel mm-a', 'query mm-a'])
    // several failed reconnects later, still one switch said
    await until(() => a.counters.attempts >= 4, 'three more failed attempts')
    expect(switches).toHaveLength(1)
    expect(switches[0].to).toBe('rest')
    expect(switches[0].reason).toMatch(new RegExp(`^WebSocket API ws://127\\.0\\.0\\.1:${port}/ws-fapi/v1: cannot connect`))
    // the WebSocket API comes up on that port: orders return to it
    const s = await stand(port)
    await until(() => r.transport === 'ws', 'the switch back')
    expect(switches.map((x) => x.to)).toEqual(['rest', 'ws'])
    await r.placeOrder(PLACE)
    expect(s.got.map((x) => x.method)).toEqual(['order.place'])
    expect(r.sent).toEqual({ws: 1, rest: 3})
  })

  it('wsApiUrl: Binance production and testnet, /ws-fapi/v1 on a custom base', () => {
    expect(wsApiUrl({ws: 'wss://fstream.binance.com', name: 'binance'})).toBe('wss://ws-fapi.binance.com/ws-fapi/v1')
    expect(wsApiUrl({ws: 'wss://fstream.binancefuture.com', name: 'testnet'})).toBe('wss://testnet.binancefuture.com/ws-fapi/v1')
    expect(wsApiUrl({ws: 'ws://127.0.0.1:4321/', name: 'custom'})).toBe('ws://127.0.0.1:4321/ws-fapi/v1')
  })
})
