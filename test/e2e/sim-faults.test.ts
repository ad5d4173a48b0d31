/**
 * Every `mm sim` fault flag, shown on the wire against the real CLI. Each test starts its
 * own sim with one flag; without it the same calls succeed (the client proofs).
 */
import {createHmac} from 'node:crypto'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt} from '../support/cli.js'
import {farPrices, getJson, type SimProc, signed, startSim, TEST_KEY, TEST_SECRET, until} from '../support/sim-cli.js'
import {openWs} from '../support/ws-client.js'

beforeAll(() => ensureBuilt('sim'))

async function withSim(args: string[], fn: (sim: SimProc) => Promise<void>): Promise<void> {
  const sim = await startSim(args)
  try {
    await fn(sim)
  } finally {
    expect(await sim.stop()).toBe(0)
  }
}

const post = (sim: SimProc, price: string, extra: Record<string, string> = {}) =>
  signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: 'ETHUSDC', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: '0.010', price, ...extra})

const state = async (sim: SimProc) => (await getJson(sim.restUrl, '/__mm/state')).body

/**
 * Wait (bounded) until the sim's fixed rate-limit windows (aligned to the wall clock, as Binance's) have at least
 * `clearMs` left, so that the requests of a test fall in one window whatever the machine's speed.
 */
async function clearOfWindowEnds(clearMs: {minute: number; tenSeconds?: number}): Promise<void> {
  const ok = () => {
    const now = Date.now()
    return 60_000 - (now % 60_000) >= clearMs.minute && (clearMs.tenSeconds === undefined || 10_000 - (now % 10_000) >= clearMs.tenSeconds)
  }
  await until(() => (ok() ? true : undefined), 'a rate-limit window with room', 70_000)
}

async function userStream(sim: SimProc, path = (k: string) => `/private/ws/${k}`) {
  const lk = await fetch(`${sim.restUrl}/fapi/v1/listenKey`, {method: 'POST', headers: {'X-MBX-APIKEY': TEST_KEY}})
  const {listenKey} = (await lk.json()) as {listenKey: string}
  return {listenKey, ws: await openWs(`${sim.wsUrl}${path(listenKey)}`)}
}

describe('mm sim faults on the wire', () => {
  it('--lose-responses: the order is created, the HTTP answer never arrives', async () => {
    await withSim(['--lose-responses', '1'], async (sim) => {
      const p = await farPrices(sim.restUrl, 300)
      const err = await post(sim, p.bidBelow, {newClientOrderId: 'lost-1'}).then(() => undefined, (e: unknown) => e)
      expect(err).toBeInstanceOf(Error)
      const st = await state(sim)
      expect(st.orders.map((o: any) => [o.clientOrderId, o.status])).toEqual([['lost-1', 'NEW']])
      expect(st.requests.find((r: any) => r.path === '/fapi/v1/order')).toMatchObject({lost: true, status: -1})
      const open = await signed(sim.restUrl, 'GET', '/fapi/v1/openOrders', {symbol: 'ETHUSDC'})
      expect(open.body.map((o: any) => o.clientOrderId)).toEqual(['lost-1'])
      // the blind retry with the same client id is refused (and that refusal is answered)
      const again = await post(sim, p.bidBelow, {newClientOrderId: 'lost-1'})
      expect(again.body).toEqual({code: -4116, msg: 'clientOrderId is duplicated'})
      expect((await state(sim)).orders.length).toBe(1)
    })
  })

  it('--unknown-status-rate: 503 "Unknown error" after the order was carried out; --unavailable-rate: 503 "Service Unavailable." before', async () => {
    await withSim(['--unknown-status-rate', '1'], async (sim) => {
      const p = await farPrices(sim.restUrl, 300)
      const r = await post(sim, p.bidBelow, {newClientOrderId: 'unk-1'})
      expect(r.status).toBe(503)
      expect(r.body).toEqual({code: -1000, msg: 'Unknown error, please check your request or try again later.'})
      const q = await signed(sim.restUrl, 'GET', '/fapi/v1/order', {symbol: 'ETHUSDC', origClientOrderId: 'unk-1'})
      expect(q.status).toBe(200)
      expect(q.body).toMatchObject({clientOrderId: 'unk-1', status: 'NEW'})
    })
    await withSim(['--unavailable-rate', '1'], async (sim) => {
      const r = await post(sim, '3000.00', {newClientOrderId: 'una-1'})
      expect(r.status).toBe(503)
      expect(r.body).toEqual({code: -1001, msg: 'Service Unavailable.'})
      expect((await state(sim)).orders).toEqual([])
    })
  })

  it('--http-error-rate: HTTP 500 before anything is done', async () => {
    await withSim(['--http-error-rate', '1'], async (sim) => {
      const r = await getJson(sim.restUrl, '/fapi/v1/exchangeInfo')
      expect(r.status).toBe(500)
      expect(r.body.code).toBe(-1000)
      const o = await post(sim, '3000.00')
      expect(o.status).toBe(500)
      expect((await state(sim)).orders).toEqual([])
    })
  })

  it('--rate-limit: weight counted per request, 429 -1003 with Retry-After, then 418; order counts and -1015', async () => {
    await withSim(['--rate-limit', 'weight=4,ban-after=2,ban=30s,orders10s=2'], async (sim) => {
      // 8 requests take well under a second here; 15 s of the minute window left for them
      await clearOfWindowEnds({minute: 15_000})
      const seen: Array<[number, string | null]> = []
      for (let i = 0; i < 8; i++) {
        const r = await getJson(sim.restUrl, '/fapi/v1/time')
        seen.push([r.status, r.headers.get('x-mbx-used-weight-1m')])
        if (r.status === 429) {
          expect(r.body.code).toBe(-1003)
          expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0)
        }
        if (r.status === 418) {
          expect(r.body.msg).toMatch(/^Way too many requests; IP banned until \d+/)
          expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(29)
        }
      }
      // all in one minute window: 4 answered, 2 × 429, then banned (418)
      expect(seen.map(([s]) => s), JSON.stringify(seen)).toEqual([200, 200, 200, 200, 429, 429, 418, 418])
      expect(seen.slice(0, 4).map(([, w]) => w)).toEqual(['1', '2', '3', '4'])
    })
    await withSim(['--rate-limit', 'orders10s=2'], async (sim) => {
      // the three orders in one 10 s window (and one minute window): 5 s of it left for them
      await clearOfWindowEnds({minute: 15_000, tenSeconds: 5_000})
      const p = await farPrices(sim.restUrl, 300)
      const a = await post(sim, p.bidBelow)
      const b = await post(sim, p.bidBelow)
      const c = await post(sim, p.bidBelow)
      const counts = [a, b, c].map((r) => r.headers.get('x-mbx-order-count-10s'))
      expect([a.status, b.status]).toEqual([200, 200])
      // one 10 s window: the third is its third order, over the limit of 2
      expect(counts).toEqual(['1', '2', '3'])
      expect(c.status).toBe(429)
      expect(c.body.code).toBe(-1015)
      expect(a.headers.get('x-mbx-order-count-1m')).toBe('1')
      expect(b.headers.get('x-mbx-order-count-1m')).toBe('2')
      expect(a.headers.get('x-mbx-used-weight-1m')).toBe('2')
    })
  }, 150_000) // two sims, and up to 2 × 15 s waiting for room in the windows

  it('--listen-key-ttl: listenKeyExpired on the socket, then keep-alive answers -1125', async () => {
    // 3 s, not less: the socket must open before the key expires (a key already expired is refused with 400),
    // and the listenKey POST + WebSocket upgrade can take a second on a loaded 2-core machine
    await withSim(['--listen-key-ttl', '3s'], async (sim) => {
      const {listenKey, ws} = await userStream(sim)
      const ev = await ws.next((m) => m.e === 'listenKeyExpired', 'listenKeyExpired')
      expect(ev).toMatchObject({e: 'listenKeyExpired', listenKey})
      const put = await fetch(`${sim.restUrl}/fapi/v1/listenKey`, {method: 'PUT', headers: {'X-MBX-APIKEY': TEST_KEY}})
      expect(put.status).toBe(400)
      expect(((await put.json()) as any).code).toBe(-1125)
      ws.close()
    })
  })

  it('--user-stream-silent-after: the socket stays open and sends nothing while the account changes', async () => {
    // 3 s, not less: the first order (depth read, signed place) and its event must come before the silence, which on a
    // loaded 2-core machine can take a second
    await withSim(['--user-stream-silent-after', '3s'], async (sim) => {
      const {ws} = await userStream(sim, (k) => `/private/ws?listenKey=${k}`)
      const p = await farPrices(sim.restUrl, 300)
      const first = await post(sim, p.bidBelow, {newClientOrderId: 'before-silence'})
      expect(first.status).toBe(200)
      await ws.next((m) => m.e === 'ORDER_TRADE_UPDATE' && m.o.c === 'before-silence', 'the first event')
      await until(async () => ((await state(sim)).userStream.silenced === 1 ? true : undefined), 'the silence')
      const n = ws.messages.length
      const second = await post(sim, p.bidBelow, {newClientOrderId: 'after-silence'})
      expect(second.status).toBe(200)
      await ws.roundTrip()
      expect(ws.messages.length).toBe(n)
      expect(ws.ws.readyState).toBe(ws.ws.OPEN)
      expect((await state(sim)).orders.map((o: any) => o.clientOrderId)).toEqual(['before-silence', 'after-silence'])
      ws.close()
    })
  })

  it('--clock-skew: serverTime is offset and a wall-clock timestamp is refused with -1021', async () => {
    await withSim(['--clock-skew', '-10s'], async (sim) => {
      const before = Date.now()
      const {body} = await getJson(sim.restUrl, '/fapi/v1/time')
      expect(body.serverTime).toBeLessThan(before - 9000)
      const r = await signed(sim.restUrl, 'GET', '/fapi/v1/openOrders', {symbol: 'ETHUSDC'})
      expect(r.body).toEqual({code: -1021, msg: "Timestamp for this request was 1000ms ahead of the server's time."})
      const ok = await signed(sim.restUrl, 'GET', '/fapi/v1/openOrders', {symbol: 'ETHUSDC'}, {timestamp: body.serverTime})
      expect(ok.status).toBe(200)
    })
  })

  it('--drop-ws-every: market, user-stream and WebSocket API sockets are closed', async () => {
    await withSim(['--drop-ws-every', '700ms'], async (sim) => {
      const market = await openWs(`${sim.wsUrl}/public/stream?streams=ethusdc@depth`)
      const {ws: user} = await userStream(sim)
      const api = await openWs(`${sim.wsUrl}/ws-fapi/v1`)
      const codes = await Promise.all([market.closed, user.closed, api.closed])
      expect(codes).toEqual([1001, 1001, 1001])
    })
  })

  it('--depth-gap-rate: diffs go missing and the pu chain breaks', async () => {
    await withSim(['--depth-gap-rate', '0.5'], async (sim) => {
      const ws = await openWs(`${sim.wsUrl}/public/stream?streams=ethusdc@depth`)
      let gap: any
      await ws.next((m) => {
        const prev = ws.messages[ws.messages.indexOf(m) - 1]
        if (prev && m.data.pu !== prev.data.u) gap = [prev.data.u, m.data.pu]
        return gap !== undefined
      }, 'a gap in the pu chain')
      expect(gap[1]).toBeGreaterThan(gap[0])
      expect((await state(sim)).venue.depthGaps).toBeGreaterThan(0)
      ws.close()
    })
  })

  it('--latency: every REST answer and user-stream event comes that much later', async () => {
    await withSim(['--latency', '400ms'], async (sim) => {
      const t0 = Date.now()
      const r = await getJson(sim.restUrl, '/fapi/v1/time')
      const t1 = Date.now()
      expect(r.status).toBe(200)
      expect(t1 - t0).toBeGreaterThanOrEqual(390)
      // the answer was produced before it was sent
      expect(r.body.serverTime).toBeLessThanOrEqual(t1 - 390)
    })
  })
})

describe('mm sim account states and refusals', () => {
  it('hedge mode, a symbol not TRADING, MAX_NUM_ORDERS, PERCENT_PRICE, reduce-only, duplicate id, bad key, bad signature, missing parameter', async () => {
    await withSim(['--hedge-mode', '--symbol-status', 'BREAK'], async (sim) => {
      expect((await signed(sim.restUrl, 'GET', '/fapi/v1/positionSide/dual', {})).body).toEqual({dualSidePosition: true})
      const info = (await getJson(sim.restUrl, '/fapi/v1/exchangeInfo')).body
      expect(info.symbols[0].status).toBe('BREAK')
      expect((await post(sim, '3000.00')).body.code).toBe(-4061)
      expect((await post(sim, '3000.00', {positionSide: 'LONG'})).body.code).toBe(-4140)
    })
    await withSim(['--max-num-orders', '2'], async (sim) => {
      const p = await farPrices(sim.restUrl, 300)
      const info = (await getJson(sim.restUrl, '/fapi/v1/exchangeInfo')).body
      expect(info.symbols[0].filters).toContainEqual({filterType: 'MAX_NUM_ORDERS', limit: 2})
      const mark = Number((await getJson(sim.restUrl, '/fapi/v1/premiumIndex?symbol=ETHUSDC')).body.markPrice)
      expect((await post(sim, String(Math.round(mark * 1.2)))).body.code).toBe(-4016)
      const sell = await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: 'ETHUSDC', side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price: String(Math.round(mark * 0.8))})
      expect(sell.body.code).toBe(-4024)
      const ro = await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: 'ETHUSDC', side: 'SELL', type: 'LIMIT', timeInForce: 'IOC', quantity: '0.010', price: p.askBelowBid, reduceOnly: 'true'})
      expect(ro.body).toEqual({code: -2022, msg: 'ReduceOnly Order is rejected.'})
      expect((await post(sim, p.bidBelow, {quantity: '0.001'})).body.code).toBe(-4164)
      expect((await signed(sim.restUrl, 'GET', '/fapi/v1/openOrders', {symbol: 'ETHUSDC'}, {key: 'nope'})).body).toEqual({code: -2015, msg: 'Invalid API-key, IP, or permissions for action.'})
      expect((await signed(sim.restUrl, 'GET', '/fapi/v1/openOrders', {symbol: 'ETHUSDC'}, {secret: 'wrong'})).body).toEqual({code: -1022, msg: 'Signature for this request is not valid.'})
      expect((await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: 'ETHUSDC', side: 'BUY', type: 'LIMIT', quantity: '0.010', price: p.bidBelow})).body.code).toBe(-1102)
      expect((await signed(sim.restUrl, 'DELETE', '/fapi/v1/order', {symbol: 'ETHUSDC', orderId: '1'})).body).toEqual({code: -2011, msg: 'Unknown order sent.'})
      expect((await post(sim, p.bidBelow, {newClientOrderId: 'd1'})).status).toBe(200)
      expect((await post(sim, p.bidBelow, {newClientOrderId: 'd1'})).body).toEqual({code: -4116, msg: 'clientOrderId is duplicated'})
      expect((await post(sim, p.bidBelow)).status).toBe(200)
      expect((await post(sim, p.bidBelow)).body).toEqual({code: -2025, msg: 'Reach max open order limit.'})
      // the introspection lists the signatures received, never the secret
      const st = JSON.stringify(await state(sim))
      expect(st).not.toContain(TEST_SECRET)
      expect((await state(sim)).requests.filter((r: any) => r.signature).length).toBeGreaterThan(5)
    })
  })

  it('reduce-only clipped to the position, modify re-queues (AMENDMENT), batch, cancel-all, countdown fires, funding fee booked', async () => {
    await withSim(['--funding-interval', '1500ms', '--funding-rate', '0.001'], async (sim) => {
      // the minute order count asserted below (6) is of one fixed window: start with 20 s of it left (the steps take
      // ~3 s under load; a window that rolled over in the middle once gave 3)
      await clearOfWindowEnds({minute: 20_000})
      const {ws} = await userStream(sim)
      const p = await farPrices(sim.restUrl, 200)
      const open = await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: 'ETHUSDC', side: 'BUY', type: 'MARKET', quantity: '0.020', newOrderRespType: 'RESULT'})
      expect(open.body).toMatchObject({status: 'FILLED', executedQty: '0.020', type: 'MARKET'})
      const clip = await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: 'ETHUSDC', side: 'SELL', type: 'LIMIT', timeInForce: 'IOC', quantity: '0.050', price: p.askBelowBid, reduceOnly: 'true', newOrderRespType: 'RESULT'})
      expect(clip.body).toMatchObject({status: 'EXPIRED', executedQty: '0.020', origQty: '0.050'})
      const reopen = await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: 'ETHUSDC', side: 'BUY', type: 'MARKET', quantity: '0.010', newOrderRespType: 'RESULT'})
      expect(reopen.body.status).toBe('FILLED')
      const funding = await ws.next((m) => m.e === 'ACCOUNT_UPDATE' && m.a.m === 'FUNDING_FEE', 'FUNDING_FEE')
      expect(funding.a.B[0].a).toBe('USDC')

      const far = await farPrices(sim.restUrl, 400)
      const placed = await post(sim, far.bidBelow, {newClientOrderId: 'm1'})
      const lower = (Number(far.bidBelow) - 1).toFixed(2)
      const mod = await signed(sim.restUrl, 'PUT', '/fapi/v1/order', {symbol: 'ETHUSDC', side: 'BUY', orderId: String(placed.body.orderId), quantity: '0.020', price: lower})
      expect(mod.body).toMatchObject({orderId: placed.body.orderId, price: lower, origQty: '0.020', status: 'NEW'})
      await ws.next((m) => m.e === 'ORDER_TRADE_UPDATE' && m.o.x === 'AMENDMENT' && m.o.i === placed.body.orderId, 'AMENDMENT')
      const batch = await signed(sim.restUrl, 'POST', '/fapi/v1/batchOrders', {batchOrders: JSON.stringify([
        {symbol: 'ETHUSDC', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: '0.010', price: far.bidBelow, newClientOrderId: 'b1'},
        {symbol: 'ETHUSDC', side: 'SELL', type: 'LIMIT', timeInForce: 'GTX', quantity: '0.010', price: far.askAbove, reduceOnly: 'true', newClientOrderId: 'b2'},
        {symbol: 'ETHUSDC', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: '0.010', price: far.bidAboveAsk},
      ])})
      expect(batch.body[0]).toMatchObject({clientOrderId: 'b1', status: 'NEW'})
      expect(batch.body[1]).toMatchObject({clientOrderId: 'b2', status: 'NEW', reduceOnly: true})
      expect(batch.body[2]).toEqual({code: -5022, msg: 'Due to the order could not be executed as maker, the Post Only order will be rejected.'})
      // a batch counts 5 on the 10 s order limit and 1 on the minute limit
      expect(Number(batch.headers.get('x-mbx-order-count-10s'))).toBeGreaterThanOrEqual(5)
      expect(batch.headers.get('x-mbx-order-count-1m')).toBe('6')
      const all = await signed(sim.restUrl, 'DELETE', '/fapi/v1/allOpenOrders', {symbol: 'ETHUSDC'})
      expect(all.body).toEqual({code: 200, msg: 'The operation of cancel all open order is done.'})
      expect((await signed(sim.restUrl, 'GET', '/fapi/v1/openOrders', {symbol: 'ETHUSDC'})).body).toEqual([])
      const dms = await post(sim, far.bidBelow, {newClientOrderId: 'dms'})
      expect((await signed(sim.restUrl, 'POST', '/fapi/v1/countdownCancelAll', {symbol: 'ETHUSDC', countdownTime: '300'})).body).toEqual({symbol: 'ETHUSDC', countdownTime: '300'})
      await ws.next((m) => m.e === 'ORDER_TRADE_UPDATE' && m.o.i === dms.body.orderId && m.o.X === 'CANCELED', 'the countdown cancel')
      ws.close()
    })
  }, 120_000) // up to 20 s waiting for room in the minute window

  it('listen key keep-alive semantics; --config fees reach commissionRate; --request-log lists signatures, never the secret; --api-key/--api-secret from the env', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-sim-'))
    const cfg = join(dir, 'mm.config.json')
    writeFileSync(cfg, JSON.stringify({fees: {maker: '-0.0001', taker: '0.0004'}}))
    const log = join(dir, 'requests.ndjson')
    const key = 'k'.repeat(64)
    const secret = 's3cr3t-of-this-test'
    const sim = await startSim(['--config', cfg, '--request-log', log], {MM_API_KEY: key, MM_API_SECRET: secret})
    let sig = ''
    try {
      const lk = (m: string) => fetch(`${sim.restUrl}/fapi/v1/listenKey`, {method: m, headers: {'X-MBX-APIKEY': key}}).then(async (r) => ({status: r.status, body: (await r.json()) as any}))
      const a = await lk('POST')
      expect(a.body.listenKey).toMatch(/^[A-Za-z0-9]{64}$/)
      expect((await lk('PUT')).body).toEqual({listenKey: a.body.listenKey})
      expect((await lk('POST')).body).toEqual({listenKey: a.body.listenKey})
      expect((await lk('DELETE')).body).toEqual({})
      expect((await lk('PUT')).body.code).toBe(-1125)
      expect((await signed(sim.restUrl, 'GET', '/fapi/v1/commissionRate', {symbol: 'ETHUSDC'})).body.code).toBe(-2015)
      const cr = await signed(sim.restUrl, 'GET', '/fapi/v1/commissionRate', {symbol: 'ETHUSDC'}, {key, secret})
      expect(cr.body).toEqual({symbol: 'ETHUSDC', makerCommissionRate: '-0.0001', takerCommissionRate: '0.0004', rpiCommissionRate: '0'})
      sig = (await state(sim)).requests.find((r: any) => r.path === '/fapi/v1/commissionRate' && r.status === 200).signature
      expect(sig).toMatch(/^[0-9a-f]{64}$/)
    } finally {
      expect(await sim.stop()).toBe(0)
    }
    const text = readFileSync(log, 'utf8')
    expect(text).toContain(sig)
    expect(text).not.toContain(secret)
    expect(sim.run.stdout() + sim.run.stderr()).not.toContain(secret)
    expect(text.trim().split('\n').map((l) => JSON.parse(l).path)).toEqual(['/fapi/v1/listenKey', '/fapi/v1/listenKey', '/fapi/v1/listenKey', '/fapi/v1/listenKey', '/fapi/v1/listenKey', '/fapi/v1/commissionRate', '/fapi/v1/commissionRate', '/__mm/state'])
  })

  it('WebSocket API: order.place, order.status, order.modify, order.cancel signed per request; a bad signature is -1022', async () => {
    await withSim([], async (sim) => {
      const api = await openWs(`${sim.wsUrl}/ws-fapi/v1`)
      const far = await farPrices(sim.restUrl, 400)
      const call = (id: string, method: string, params: Record<string, unknown>, secret = TEST_SECRET) => {
        const all: Record<string, unknown> = {...params, apiKey: TEST_KEY, timestamp: Date.now()}
        const payload = Object.keys(all).sort().map((k) => `${k}=${all[k]}`).join('&')
        all.signature = createHmac('sha256', secret).update(payload).digest('hex')
        api.ws.send(JSON.stringify({id, method, params: all}))
        return api.next((m) => m.id === id, `answer ${id}`)
      }
      const placed = await call('1', 'order.place', {symbol: 'ETHUSDC', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: '0.010', price: far.bidBelow, newClientOrderId: 'wsapi-1'})
      expect(placed).toMatchObject({id: '1', status: 200, result: {clientOrderId: 'wsapi-1', status: 'NEW'}})
      expect(placed.rateLimits.map((r: any) => r.rateLimitType)).toEqual(['REQUEST_WEIGHT', 'ORDERS', 'ORDERS'])
      const st = await call('2', 'order.status', {symbol: 'ETHUSDC', orderId: placed.result.orderId})
      expect(st.result).toMatchObject({orderId: placed.result.orderId, status: 'NEW'})
      const lower = (Number(far.bidBelow) - 1).toFixed(2)
      const mod = await call('3', 'order.modify', {symbol: 'ETHUSDC', side: 'BUY', orderId: placed.result.orderId, quantity: '0.020', price: lower})
      expect(mod.result).toMatchObject({price: lower, origQty: '0.020'})
      const cancel = await call('4', 'order.cancel', {symbol: 'ETHUSDC', origClientOrderId: 'wsapi-1'})
      expect(cancel.result).toMatchObject({status: 'CANCELED'})
      const bad = await call('5', 'order.status', {symbol: 'ETHUSDC', orderId: placed.result.orderId}, 'wrong')
      expect(bad).toMatchObject({id: '5', status: 400, error: {code: -1022}})
      api.close()
      // the mark price stream the trading side publishes (route /market)
      const mark = await openWs(`${sim.wsUrl}/market/ws/ethusdc@markPrice@1s`)
      const m = await mark.next((x) => x.e === 'markPriceUpdate', 'markPriceUpdate')
      expect(m).toMatchObject({s: 'ETHUSDC', r: '0.0001'})
      expect(Number(m.p)).toBeGreaterThan(0)
      mark.close()
    })
  })
})
