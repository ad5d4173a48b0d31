import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {VirtualClock} from '../../src/lib/clock/clock.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import type {OrderIntent} from '../../src/lib/domain/orders.js'
import {adoptPosition, initLifecycle, type LifecycleConfig, reduceLifecycle, workingOrders} from '../../src/lib/orders/lifecycle.js'
import {BinanceGateway} from '../../src/lib/venue/binance/gateway.js'
import {RateGovernor} from '../../src/lib/venue/binance/rate-governor.js'
import {Credentials} from '../../src/lib/venue/binance/signer.js'
import {parseUserEvent} from '../../src/lib/venue/binance/user-events.js'
import {BinanceVenue} from '../../src/lib/venue/binance/venue.js'
import {type VenueReport} from '../../src/lib/venue/types.js'
import {BinanceStub, type StubRequest} from '../support/binance-stub.js'
import {until} from '../support/wait.js'

const INST = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})
const SECRET = 'stubsecret-0123456789'
const BID: OrderIntent = {slot: 'dyn:BUY:0', side: 'BUY', price: 300000, qty: 10, tif: 'GTX', reduceOnly: false, layer: 'dynamic'}

let stub: BinanceStub
let gw: BinanceGateway
const clock = new VirtualClock(1_700_000_000_000)
let reports: VenueReport[]
/** orders the stub holds, by client id */
let book: Map<string, Record<string, unknown>>
let placeMode: 'ok' | 'hang' | 'gtx' | 'clip'
/** how the stub answers DELETE /fapi/v1/batchOrders */
let batchMode: 'ok' | 'hang' | '429' | 'swap'

function answerOf(r: StubRequest, status = 'NEW'): Record<string, unknown> {
  const p = r.params
  return {symbol: 'ETHUSDC', orderId: 1000 + book.size, clientOrderId: p.get('newClientOrderId'), side: p.get('side'), type: 'LIMIT', timeInForce: p.get('timeInForce'), status, price: p.get('price'), origQty: p.get('quantity'), executedQty: '0', avgPrice: '0', reduceOnly: p.get('reduceOnly') === 'true', updateTime: 5}
}

beforeAll(async () => {
  stub = new BinanceStub(SECRET)
  await stub.start()
})
afterAll(() => stub.stop())
beforeEach(() => {
  stub.reset()
  reports = []
  book = new Map()
  placeMode = 'ok'
  batchMode = 'ok'
  stub.handler = (r) => {
    if (r.path === '/fapi/v1/batchOrders' && r.method === 'DELETE') {
      if (batchMode === 'hang') return {hang: true}
      if (batchMode === '429') return {status: 429, body: {code: -1003, msg: 'Too many requests.'}}
      const ids = JSON.parse(r.params.get('origClientOrderIdList') ?? '[]') as string[]
      const slots = ids.map((cid) => {
        const o = book.get(cid)
        if (!o || o.status !== 'NEW') return {code: -2011, msg: 'Unknown order sent.'}
        o.status = 'CANCELED'
        return o
      })
      return {body: batchMode === 'swap' ? slots.reverse() : slots}
    }
    const id = r.params.get('newClientOrderId') ?? r.params.get('origClientOrderId') ?? ''
    if (r.path === '/fapi/v1/order' && r.method === 'POST') {
      if (placeMode === 'gtx') return {status: 400, body: {code: -5022, msg: 'Due to the order could not be executed as maker, the Post Only order will be rejected.'}}
      const a = answerOf(r)
      if (placeMode === 'clip') a.origQty = '0.004'
      book.set(id, a)
      return placeMode === 'hang' ? {hang: true} : {body: a}
    }
    if (r.path === '/fapi/v1/order' && r.method === 'DELETE') {
      const o = book.get(id)
      if (!o || o.status !== 'NEW') return {status: 400, body: {code: -2011, msg: 'Unknown order sent.'}}
      o.status = 'CANCELED'
      return {body: o}
    }
    if (r.path === '/fapi/v1/order' && r.method === 'GET') {
      const o = book.get(id)
      return o ? {body: o} : {status: 400, body: {code: -2013, msg: 'Order does not exist.'}}
    }
    if (r.path === '/fapi/v1/openOrders') return {body: [...book.values()].filter((o) => o.status === 'NEW')}
    if (r.path === '/fapi/v3/positionRisk') return {body: [{symbol: 'ETHUSDC', positionSide: 'BOTH', positionAmt: '0.010', entryPrice: '3000', markPrice: '3000.00', unRealizedProfit: '0', liquidationPrice: '0', updateTime: 1}]}
    if (r.path === '/fapi/v1/userTrades') return {body: [{id: 55, orderId: 1000, symbol: 'ETHUSDC', side: 'BUY', price: '3000.00', qty: '0.010', commission: '0', commissionAsset: 'USDC', realizedPnl: '-0.00000001', maker: true, time: clock.now() + 9}]}
    return undefined
  }
})

function venue(o: {timeoutMs?: number; governor?: RateGovernor; maxOpenOrders?: number; onProblem?: (m: string) => void; unseenFillDelayMs?: number; marginAsset?: string; onPush?: () => void} = {}) {
  gw = new BinanceGateway({baseUrl: stub.url, credentials: new Credentials('stubkey-0123456789', SECRET), timeoutMs: o.timeoutMs ?? 2000})
  const push = (r: VenueReport) => {
    reports.push(r)
    o.onPush?.()
  }
  return new BinanceVenue({gateway: gw, instrument: INST, clock, sink: {push}, stp: 'EXPIRE_MAKER', governor: o.governor, maxOpenOrders: o.maxOpenOrders ?? 2, percentPrice: {multiplierUp: '1.05', multiplierDown: '0.95'}, isOurs: (id) => id.startsWith('mm-'), onProblem: o.onProblem, unseenFillDelayMs: o.unseenFillDelayMs, marginAsset: o.marginAsset})
}

describe('Binance venue adapter', () => {
  it('places the intent exactly (GTX, stp, grid strings) and reports the ack; cancels; queries', async () => {
    const v = venue()
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-b-0', order: BID})
    await until(() => reports.length === 1, 'ack')
    expect(stub.requests[0].body).toMatch(/^symbol=ETHUSDC&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.010&price=3000.00&newClientOrderId=mm-eth10000-b-0&selfTradePreventionMode=EXPIRE_MAKER&recvWindow=5000&timestamp=\d+&signature=/)
    expect(reports[0]).toEqual({type: 'ack', clientOrderId: 'mm-eth10000-b-0', venueOrderId: '1000', side: 'BUY', price: 300000, qty: 10, tif: 'GTX', reduceOnly: false, ts: clock.now(), venueTs: 5})
    v.submit({type: 'cancel', clientOrderId: 'mm-eth10000-b-0', slot: 'dyn:BUY:0', reason: 'reprice'})
    await until(() => reports.length === 2, 'canceled')
    expect(reports[1]).toMatchObject({type: 'canceled', clientOrderId: 'mm-eth10000-b-0', filled: 0})
    v.submit({type: 'cancel', clientOrderId: 'mm-eth10000-b-0', slot: 'dyn:BUY:0', reason: 'again'})
    await until(() => reports.length === 3, 'cancel reject')
    expect(reports[2]).toMatchObject({type: 'reject', request: 'cancel', code: -2011, msg: 'Unknown order sent.'})
    v.queryOrder('mm-eth10000-b-0')
    v.queryOrder('mm-nope-b-0')
    await until(() => reports.length === 5, 'queries')
    const q = reports.slice(3).sort((a, b) => a.clientOrderId.localeCompare(b.clientOrderId))
    expect(q[0]).toMatchObject({type: 'query', clientOrderId: 'mm-eth10000-b-0', found: true, status: 'CANCELED', filled: 0, venueOrderId: '1000'})
    expect(q[1]).toMatchObject({type: 'query', clientOrderId: 'mm-nope-b-0', found: false})
    await gw.close()
  })

  it("a decision's cancels go as one DELETE /fapi/v1/batchOrders; each id gets its own report (canceled / -2011); places stay single", async () => {
    const v = venue({maxOpenOrders: 10})
    for (const [i, id] of ['mm-eth10000-b-10', 'mm-eth10000-b-11', 'mm-eth10000-b-12'].entries()) v.submit({type: 'place', clientOrderId: id, order: {...BID, price: 300000 - i}})
    await until(() => reports.length === 3, 'acks')
    stub.requests.length = 0
    reports = []
    v.submitAll([
      {type: 'cancel', clientOrderId: 'mm-eth10000-b-10', slot: 'dyn:BUY:0', reason: 'reprice'},
      {type: 'place', clientOrderId: 'mm-eth10000-b-13', order: {...BID, price: 299990}},
      {type: 'cancel', clientOrderId: 'mm-eth10000-b-nope', slot: 'dyn:BUY:1', reason: 'reprice'},
      {type: 'cancel', clientOrderId: 'mm-eth10000-b-12', slot: 'dyn:BUY:2', reason: 'reprice'},
    ])
    await until(() => reports.length === 4, 'reports')
    // the batch leaves at the first cancel's place, then the place
    expect(stub.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['DELETE /fapi/v1/batchOrders', 'POST /fapi/v1/order'])
    expect(stub.requests[0].params.get('origClientOrderIdList')).toBe('["mm-eth10000-b-10","mm-eth10000-b-nope","mm-eth10000-b-12"]')
    expect(stub.requests[0].query).toMatch(/^symbol=ETHUSDC&origClientOrderIdList=%5B%22mm-eth10000-b-10%22%2C%22mm-eth10000-b-nope%22%2C%22mm-eth10000-b-12%22%5D&recvWindow=5000&timestamp=\d+&signature=[0-9a-f]{64}$/)
    expect(stub.requests[0].signatureOk).toBe(true)
    const byId = new Map(reports.map((r) => [r.clientOrderId, r]))
    expect(byId.get('mm-eth10000-b-10')).toMatchObject({type: 'canceled', filled: 0})
    expect(byId.get('mm-eth10000-b-nope')).toMatchObject({type: 'reject', request: 'cancel', code: -2011, msg: 'Unknown order sent.'})
    expect(byId.get('mm-eth10000-b-12')).toMatchObject({type: 'canceled', filled: 0})
    expect(byId.get('mm-eth10000-b-13')).toMatchObject({type: 'ack'})
    // one cancel alone: the single endpoint
    stub.requests.length = 0
    reports = []
    v.submitAll([{type: 'cancel', clientOrderId: 'mm-eth10000-b-11', slot: 'dyn:BUY:1', reason: 'reprice'}])
    await until(() => reports.length === 1, 'single cancel')
    expect(stub.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['DELETE /fapi/v1/order'])
    expect(reports[0]).toMatchObject({type: 'canceled', clientOrderId: 'mm-eth10000-b-11'})
    await gw.close()
  })

  it('more than 10 cancels: batches of at most 10 (a last single one on the single endpoint)', async () => {
    const v = venue()
    const ids = Array.from({length: 21}, (_, i) => `mm-eth10000-b-${100 + i}`)
    v.submitAll(ids.map((id, i) => ({type: 'cancel' as const, clientOrderId: id, slot: `dyn:BUY:${i}`, reason: 'stop'})))
    await until(() => reports.length === 21, 'reports')
    expect(stub.requests.map((r) => `${r.method} ${r.path} ${r.params.get('origClientOrderIdList') ? (JSON.parse(r.params.get('origClientOrderIdList') as string) as string[]).length : 1}`)).toEqual([
      'DELETE /fapi/v1/batchOrders 10',
      'DELETE /fapi/v1/batchOrders 10',
      'DELETE /fapi/v1/order 1',
    ])
    expect(reports.every((r) => r.type === 'reject' && r.request === 'cancel' && r.code === -2011)).toBe(true)
    await gw.close()
  })

  it('a batch whose answer is lost leaves every cancel in doubt (no report); one refused whole rejects each; a slot for another id is not taken as its cancel', async () => {
    const problems: string[] = []
    gw = new BinanceGateway({baseUrl: stub.url, credentials: new Credentials('stubkey-0123456789', SECRET), timeoutMs: 300})
    const v = new BinanceVenue({gateway: gw, instrument: INST, clock, sink: {push: (r) => reports.push(r)}, stp: 'EXPIRE_MAKER', isOurs: () => true, onProblem: (m) => problems.push(m)})
    const two = [
      {type: 'cancel' as const, clientOrderId: 'mm-eth10000-b-20', slot: 'dyn:BUY:0', reason: 'reprice'},
      {type: 'cancel' as const, clientOrderId: 'mm-eth10000-b-21', slot: 'dyn:BUY:1', reason: 'reprice'},
    ]
    batchMode = 'hang'
    v.submitAll(two)
    await until(() => v.inFlight === 0 && stub.requests.length === 1, 'the batch timed out', 20_000)
    expect(reports).toEqual([])
    expect(problems).toHaveLength(2)
    expect(problems[0]).toMatch(/^cancel mm-eth10000-b-20: .*\(in doubt, settled by a query\)$/)
    batchMode = '429'
    v.submitAll(two)
    await until(() => reports.length === 2, 'rejects')
    expect(reports.map((r) => [r.type, r.clientOrderId, r.type === 'reject' ? r.code : 0])).toEqual([
      ['reject', 'mm-eth10000-b-20', -1003],
      ['reject', 'mm-eth10000-b-21', -1003],
    ])
    reports = []
    problems.length = 0
    book.set('mm-eth10000-b-20', {symbol: 'ETHUSDC', orderId: 7, clientOrderId: 'mm-eth10000-b-20', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', status: 'NEW', price: '3000.00', origQty: '0.010', executedQty: '0', avgPrice: '0', reduceOnly: false, updateTime: 5})
    book.set('mm-eth10000-b-21', {...book.get('mm-eth10000-b-20'), orderId: 8, clientOrderId: 'mm-eth10000-b-21'})
    batchMode = 'swap'
    v.submitAll(two)
    await until(() => problems.length === 2, 'swapped slots')
    expect(reports).toEqual([])
    expect(problems[0]).toBe('cancel mm-eth10000-b-20: the batch answered for mm-eth10000-b-21 in its place (in doubt, settled by a query)')
    await gw.close()
  })

  it('with another order transport (the WebSocket API) cancels go one by one', async () => {
    gw = new BinanceGateway({baseUrl: stub.url, credentials: new Credentials('stubkey-0123456789', SECRET), timeoutMs: 2000})
    const v = new BinanceVenue({gateway: gw, orders: gw, instrument: INST, clock, sink: {push: (r) => reports.push(r)}, stp: 'EXPIRE_MAKER', isOurs: () => true})
    v.submitAll([
      {type: 'cancel', clientOrderId: 'mm-eth10000-b-30', slot: 'dyn:BUY:0', reason: 'reprice'},
      {type: 'cancel', clientOrderId: 'mm-eth10000-b-31', slot: 'dyn:BUY:1', reason: 'reprice'},
    ])
    await until(() => reports.length === 2, 'rejects')
    expect(stub.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['DELETE /fapi/v1/order', 'DELETE /fapi/v1/order'])
    await gw.close()
  })

  describe('batch cancels signed ahead (afterBook)', () => {
    const ASK: OrderIntent = {...BID, slot: 'dyn:SELL:0', side: 'SELL', price: 300100}
    const STATIC_BID: OrderIntent = {...BID, slot: 'static:BUY:0', price: 299900, layer: 'static'}
    const STATIC_ASK: OrderIntent = {...BID, slot: 'static:SELL:0', side: 'SELL', price: 300200, layer: 'static'}
    const turn = () => new Promise<void>((resolve) => setImmediate(resolve))
    /** a book message reaches the adapter, and the later turn where it signs ahead runs */
    const bookMessage = async (v: BinanceVenue) => {
      v.afterBook()
      await turn()
    }
    const cancels = (ids: string[]) => ids.map((id) => ({type: 'cancel' as const, clientOrderId: id, slot: id, reason: 'reprice'}))
    const ts = (r: StubRequest) => Number(r.params.get('timestamp'))
    const idList = (r: StubRequest) => JSON.parse(r.params.get('origClientOrderIdList') ?? '[]') as string[]

    /** a venue whose gateway reads the virtual clock, holding dyn bid/ask and static bid/ask, acked */
    async function four(o: {statics?: boolean; timeoutMs?: number} = {}) {
      gw = new BinanceGateway({baseUrl: stub.url, credentials: new Credentials('stubkey-0123456789', SECRET), timeoutMs: o.timeoutMs ?? 2000, now: () => clock.now()})
      const v = new BinanceVenue({gateway: gw, instrument: INST, clock, sink: {push: (r) => reports.push(r)}, stp: 'EXPIRE_MAKER', isOurs: () => true, maxOpenOrders: 10})
      const orders: Array<[string, OrderIntent]> = [['mm-eth10000-d-1', BID], ['mm-eth10000-d-2', ASK]]
      if (o.statics !== false) orders.push(['mm-eth10000-s-3', STATIC_BID], ['mm-eth10000-s-4', STATIC_ASK])
      v.submitAll(orders.map(([id, order]) => ({type: 'place' as const, clientOrderId: id, order})))
      await until(() => reports.length === orders.length, 'acks')
      stub.requests.length = 0
      reports = []
      return v
    }

    it('a tick that cancels every open order, or one layer, hands over the request signed before; the venue gets the same request but for its timestamp', async () => {
      const v = await four()
      const t0 = clock.now()
      await bookMessage(v)
      expect(stub.requests).toEqual([]) // signed, not sent
      clock.advance(1000)
      // the dynamic layer (in the decision's order, not the open orders')
      v.submitAll(cancels(['mm-eth10000-d-2', 'mm-eth10000-d-1']))
      await until(() => reports.length === 2, 'layer cancels')
      expect(stub.requests).toHaveLength(1)
      const a = stub.requests[0]
      expect(`${a.method} ${a.path}`).toBe('DELETE /fapi/v1/batchOrders')
      expect(a.query).toBe(`symbol=ETHUSDC&origClientOrderIdList=%5B%22mm-eth10000-d-1%22%2C%22mm-eth10000-d-2%22%5D&recvWindow=5000&timestamp=${t0}&signature=${a.signature}`)
      expect(a.signatureOk).toBe(true)
      expect(reports.map((r) => `${r.type} ${r.clientOrderId}`).sort()).toEqual(['canceled mm-eth10000-d-1', 'canceled mm-eth10000-d-2'])
      expect(v.presignedCancels).toBe(1)
      // the open orders changed: signed again on the next book message's later turn
      await bookMessage(v)
      const t1 = clock.now()
      clock.advance(500)
      v.submitAll(cancels(['mm-eth10000-s-3', 'mm-eth10000-s-4']))
      await until(() => reports.length === 4, 'static cancels')
      expect(ts(stub.requests[1])).toBe(t1)
      expect(idList(stub.requests[1])).toEqual(['mm-eth10000-s-3', 'mm-eth10000-s-4'])
      expect(stub.requests[1].signatureOk).toBe(true)
      expect(v.presignedCancels).toBe(2)
      await gw.close()
    })

    it('every open order at once; a set it was not signed for, an old one, or a moved server-time offset: signed on the spot', async () => {
      let v = await four()
      const t0 = clock.now()
      await bookMessage(v)
      // not a pre-signed set (one dynamic and one static order): signed now
      clock.advance(100)
      v.submitAll(cancels(['mm-eth10000-d-1', 'mm-eth10000-s-3']))
      await until(() => reports.length === 2, 'mixed cancels')
      expect(ts(stub.requests[0])).toBe(t0 + 100)
      expect(v.presignedCancels).toBe(0)
      await gw.close()

      // all four, within a quarter of the recvWindow: the one signed ahead
      reports = []
      v = await four()
      const t2 = clock.now()
      await bookMessage(v)
      clock.advance(1249)
      await bookMessage(v) // still fresh: not signed again
      v.submitAll(cancels(['mm-eth10000-s-4', 'mm-eth10000-d-1', 'mm-eth10000-s-3', 'mm-eth10000-d-2']))
      await until(() => reports.length === 4, 'all cancels')
      expect(ts(stub.requests[0])).toBe(t2)
      expect(idList(stub.requests[0])).toEqual(['mm-eth10000-d-1', 'mm-eth10000-d-2', 'mm-eth10000-s-3', 'mm-eth10000-s-4'])
      expect(reports.every((r) => r.type === 'canceled')).toBe(true)
      expect(v.presignedCancels).toBe(1)
      await gw.close()

      // a quarter of the recvWindow later it is signed again; half the recvWindow old it is not used
      reports = []
      v = await four({statics: false})
      await bookMessage(v)
      clock.advance(1250)
      const t3 = clock.now()
      await bookMessage(v)
      clock.advance(2499)
      v.submitAll(cancels(['mm-eth10000-d-1', 'mm-eth10000-d-2']))
      await until(() => reports.length === 2, 'cancels after a re-sign')
      expect(ts(stub.requests[0])).toBe(t3)
      await gw.close()

      reports = []
      v = await four({statics: false})
      await bookMessage(v)
      clock.advance(2500)
      v.submitAll(cancels(['mm-eth10000-d-1', 'mm-eth10000-d-2']))
      await until(() => reports.length === 2, 'cancels too old to use')
      expect(ts(stub.requests[0])).toBe(clock.now())
      expect(v.presignedCancels).toBe(0)
      await gw.close()

      // the server-time offset moved since: signed now, with the new offset
      reports = []
      v = await four({statics: false})
      await bookMessage(v)
      gw.timeOffsetMs = 40
      v.submitAll(cancels(['mm-eth10000-d-1', 'mm-eth10000-d-2']))
      await until(() => reports.length === 2, 'cancels after an offset change')
      expect(ts(stub.requests[0])).toBe(clock.now() + 40)
      expect(v.presignedCancels).toBe(0)
      await gw.close()
    })

    it('a decision naming one order twice does not take the batch of two orders; too short a recvWindow signs nothing ahead', async () => {
      let v = await four({statics: false})
      const t0 = clock.now()
      await bookMessage(v)
      clock.advance(100)
      v.submitAll(cancels(['mm-eth10000-d-1', 'mm-eth10000-d-1']))
      await until(() => reports.length === 2, 'the doubled cancel')
      expect(v.presignedCancels).toBe(0)
      expect(stub.requests).toHaveLength(1)
      expect(idList(stub.requests[0])).toEqual(['mm-eth10000-d-1', 'mm-eth10000-d-1'])
      expect(ts(stub.requests[0])).toBe(t0 + 100)
      expect(book.get('mm-eth10000-d-2')?.status).toBe('NEW') // the other order was not cancelled
      await gw.close()

      // recvWindow 1500 ms: less than 1 s would be left after half of it, so nothing is signed ahead
      reports = []
      gw = new BinanceGateway({baseUrl: stub.url, credentials: new Credentials('stubkey-0123456789', SECRET), timeoutMs: 2000, recvWindowMs: 1500, now: () => clock.now()})
      expect(gw.preparedMaxAgeMs).toBe(500)
      const short = new BinanceGateway({baseUrl: stub.url, credentials: new Credentials('stubkey-0123456789', SECRET), recvWindowMs: 1000, now: () => clock.now()})
      expect(short.preparedMaxAgeMs).toBe(0)
      v = new BinanceVenue({gateway: short, instrument: INST, clock, sink: {push: (r) => reports.push(r)}, stp: 'EXPIRE_MAKER', isOurs: () => true, maxOpenOrders: 10})
      v.submitAll([{type: 'place', clientOrderId: 'mm-eth10000-d-7', order: BID}, {type: 'place', clientOrderId: 'mm-eth10000-d-8', order: ASK}])
      await until(() => reports.length === 2, 'acks')
      stub.requests.length = 0
      await bookMessage(v)
      clock.advance(10)
      v.submitAll(cancels(['mm-eth10000-d-7', 'mm-eth10000-d-8']))
      await until(() => reports.length === 4, 'cancels')
      expect(ts(stub.requests[0])).toBe(clock.now())
      expect(v.presignedCancels).toBe(0)
      await short.close()
      await gw.close()
    })

    it('sent at most once; none signed while a request is in flight; a -1021 answer to one is retried signed anew', async () => {
      let v = await four({statics: false})
      const t0 = clock.now()
      await bookMessage(v)
      clock.advance(100)
      v.submitAll(cancels(['mm-eth10000-d-1', 'mm-eth10000-d-2']))
      v.submitAll(cancels(['mm-eth10000-d-1', 'mm-eth10000-d-2'])) // the same ids again in the same turn
      await until(() => reports.length === 4, 'both batches answered')
      expect(v.presignedCancels).toBe(1)
      // (two connections: either may reach the venue first)
      expect(stub.requests.map(ts).sort()).toEqual([t0, t0 + 100])
      expect(reports.map((r) => r.type).sort()).toEqual(['canceled', 'canceled', 'reject', 'reject'])
      await gw.close()

      // a place in flight: nothing is signed ahead until it is answered
      reports = []
      v = await four({statics: false})
      placeMode = 'hang'
      v.submit({type: 'place', clientOrderId: 'mm-eth10000-d-5', order: {...BID, price: 299000}})
      await until(() => stub.requests.length === 1, 'place sent')
      await bookMessage(v)
      clock.advance(10)
      v.submitAll(cancels(['mm-eth10000-d-1', 'mm-eth10000-d-2']))
      await until(() => reports.length === 2, 'cancels while a place hangs')
      expect(ts(stub.requests[1])).toBe(clock.now())
      expect(v.presignedCancels).toBe(0)
      await until(() => v.inFlight === 0, 'the hung place timed out')
      await gw.close()

      // -1021: the clock is re-synced and the batch sent again, signed anew
      reports = []
      placeMode = 'ok'
      v = await four({statics: false})
      const t1 = clock.now()
      await bookMessage(v)
      clock.advance(100)
      let refused = 0
      const h = stub.handler
      stub.handler = (r) => (r.path === '/fapi/v1/batchOrders' && refused++ === 0 ? {status: 400, body: {code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.'}} : h(r))
      v.submitAll(cancels(['mm-eth10000-d-1', 'mm-eth10000-d-2']))
      await until(() => reports.length === 2, 'cancels after -1021')
      const batches = stub.requests.filter((r) => r.path === '/fapi/v1/batchOrders')
      expect(batches).toHaveLength(2)
      expect(batches[0].signatureOk && batches[1].signatureOk).toBe(true)
      expect(ts(batches[0])).toBe(t1) // the one signed ahead, refused
      expect(v.presignedCancels).toBe(1)
      expect(ts(batches[1])).toBe(clock.now() + gw.timeOffsetMs)
      expect(batches[1].signature).not.toBe(batches[0].signature)
      expect(reports.every((r) => r.type === 'canceled')).toBe(true)
      await gw.close()
    })
  })

  it('-5022 is a reject report carrying the code (nothing else sent)', async () => {
    placeMode = 'gtx'
    const v = venue()
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-b-1', order: BID})
    await until(() => reports.length === 1, 'reject')
    expect(reports[0]).toMatchObject({type: 'reject', request: 'place', code: -5022})
    expect(stub.requests).toHaveLength(1)
    await gw.close()
  })

  it('a reduce-only order the venue clips is acked at the clipped quantity', async () => {
    placeMode = 'clip'
    const v = venue()
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-r-0', order: {...BID, side: 'SELL', price: 300010, reduceOnly: true, tif: 'GTC', layer: 'reduce'}})
    await until(() => reports.length === 1, 'ack')
    expect(stub.requests[0].body).toContain('&reduceOnly=true&')
    expect(reports[0]).toMatchObject({type: 'ack', qty: 4, reduceOnly: true})
    await gw.close()
  })

  it('a lost answer leaves the place in doubt; the lifecycle queries the client id and finds the one order (never a second place)', async () => {
    placeMode = 'hang'
    // a timeout long enough that the query's answer arrives in time on a loaded machine
    const v = venue({timeoutMs: 1500})
    const cfg: LifecycleConfig = {ackTimeoutMs: 200, recvWindowMs: 5000, cancelAttempts: 3}
    let lc = initLifecycle()
    const t0 = clock.now()
    lc = reduceLifecycle(lc, {type: 'place_sent', t: t0, clientOrderId: 'mm-eth10000-b-2', order: BID}, cfg).state
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-b-2', order: BID})
    await until(() => v.inFlight === 0 && stub.requests.length === 1, 'the place timed out', 20_000)
    expect(reports).toEqual([])
    const tick = reduceLifecycle(lc, {type: 'tick', t: t0 + 200}, cfg)
    lc = tick.state
    expect(tick.actions).toEqual([{type: 'query', clientOrderId: 'mm-eth10000-b-2'}])
    v.queryOrder('mm-eth10000-b-2')
    await until(() => reports.length === 1, 'query answer', 20_000)
    lc = reduceLifecycle(lc, {type: 'report', t: t0 + 250, report: reports[0]}, cfg).state
    expect(workingOrders(lc)).toMatchObject([{clientOrderId: 'mm-eth10000-b-2', status: 'NEW'}])
    expect(stub.requests.filter((r) => r.method === 'POST' && r.path === '/fapi/v1/order')).toHaveLength(1)
    await gw.close()
  })

  it('local safety nets: governor pause, PERCENT_PRICE, MAX_NUM_ORDERS (nothing sent)', async () => {
    const gov = new RateGovernor()
    const v = venue({governor: gov})
    gov.observe({endpoint: 'POST /fapi/v1/order', status: 429, retryAfterMs: 60_000, at: clock.now(), latencyMs: 1})
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-b-3', order: BID})
    expect(reports[0]).toMatchObject({type: 'reject', code: -1015, ts: clock.now() + 250, venueTs: clock.now()})
    expect(reports[0].type === 'reject' && reports[0].msg).toBe('not sent: rate governor paused (HTTP 429: request rate limit)')
    gov.observe({endpoint: 'x', status: 200, at: clock.now() + 60_000, latencyMs: 1})
    clock.advance(60_000)
    v.setMark('3000.00')
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-b-4', order: {...BID, price: 315001}})
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-a-4', order: {...BID, side: 'SELL', price: 284999}})
    expect(reports.slice(1).map((r) => (r.type === 'reject' ? r.code : r.type))).toEqual([-4016, -4024])
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-b-5', order: {...BID, price: 315000}})
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-a-5', order: {...BID, side: 'SELL', price: 285000}})
    await until(() => reports.length === 5, 'two acks')
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-b-6', order: BID})
    expect(reports.at(-1)).toMatchObject({type: 'reject', code: -2025})
    expect(v.localRejects).toEqual({[-1015]: 1, [-4016]: 1, [-4024]: 1, [-2025]: 1})
    expect(stub.requests.filter((r) => r.method === 'POST')).toHaveLength(2)
    await gw.close()
  })

  it("an order the stream reported ended before the place's answer (NEW, newOrderRespType ACK) is not counted open: MAX_NUM_ORDERS is not reached by orders long gone (review-live)", async () => {
    const v = venue()
    const base = stub.handler!
    let orderId = 500
    // the venue fills each IOC at once and its user-stream events arrive before the HTTP answer (status NEW, as ACK answers)
    stub.handler = (r) => {
      if (r.path === '/fapi/v1/order' && r.method === 'POST') {
        const c = r.params.get('newClientOrderId')!
        const i = ++orderId
        const o = {s: 'ETHUSDC', c, S: 'SELL', o: 'LIMIT', f: 'IOC', q: '0.010', p: '2999.00', i, n: '0.015', N: 'USDC', T: 3, m: false, R: true}
        v.onUserEvent(parseUserEvent({e: 'ORDER_TRADE_UPDATE', E: 3, T: 3, o: {...o, x: 'NEW', X: 'NEW', l: '0', z: '0', L: '0', t: 0}}), clock.now())
        v.onUserEvent(parseUserEvent({e: 'ORDER_TRADE_UPDATE', E: 3, T: 3, o: {...o, x: 'TRADE', X: 'FILLED', l: '0.010', z: '0.010', L: '3000.00', t: 900 + i, rp: '0'}}), clock.now())
        return {body: {...answerOf(r), orderId: i, status: 'NEW'}}
      }
      return base(r)
    }
    const IOC: OrderIntent = {slot: 'flatten', side: 'SELL', price: 299900, qty: 10, tif: 'IOC', reduceOnly: true, layer: 'flatten'}
    for (const id of ['mm-eth10000-f-0', 'mm-eth10000-f-1']) {
      v.submit({type: 'place', clientOrderId: id, order: IOC})
      await until(() => reports.some((x) => x.type === 'ack' && x.clientOrderId === id), `the answer of ${id}`)
    }
    // both filled and gone at the venue: a third order is sent (MAX_NUM_ORDERS is 2 here), not refused locally with -2025
    stub.handler = base
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-b-20', order: BID})
    await until(() => reports.some((x) => x.clientOrderId === 'mm-eth10000-b-20'), 'the third answer')
    expect(reports.filter((x) => x.clientOrderId === 'mm-eth10000-b-20').map((x) => x.type)).toEqual(['ack'])
    expect(v.localRejects).toEqual({})
    expect(stub.requests.filter((x) => x.method === 'POST')).toHaveLength(3)
    await gw.close()
  })

  it('user-stream order updates become reports; ACCOUNT_UPDATE gives the venue position; foreign updates are ignored', () => {
    const v = venue()
    const otu = (o: Record<string, unknown>) => parseUserEvent({e: 'ORDER_TRADE_UPDATE', E: 2, T: 2, o: {s: 'ETHUSDC', c: 'mm-eth10000-b-7', S: 'BUY', o: 'LIMIT', f: 'GTX', q: '0.010', p: '3000.00', x: 'TRADE', X: 'FILLED', i: 1, l: '0.010', z: '0.010', L: '3000.00', n: '0', N: 'USDC', T: 3, t: 77, m: true, ...o}})
    v.onUserEvent(otu({rp: '0.5'}), 123)
    v.onUserEvent(otu({c: 'web_1'}), 124)
    v.onUserEvent(parseUserEvent({e: 'ACCOUNT_UPDATE', E: 3, T: 3, a: {m: 'ORDER', B: [], P: [{s: 'ETHUSDC', pa: '-0.020', ep: '3000', ps: 'BOTH'}]}}), 125)
    expect(reports).toEqual([{clientOrderId: 'mm-eth10000-b-7', ts: 123, venueTs: 2, type: 'fill', filled: 10, leaves: 0, status: 'FILLED', fill: {clientOrderId: 'mm-eth10000-b-7', side: 'BUY', price: 300000, qty: 10, maker: true, fee: '0', ts: 3, tradeId: '77', realised: '0.5'}}])
    expect(v.venuePosition).toBe(-20)
    expect(v.venueEntryPrice).toBe('3000')
  })

  it('a fill whose fee is charged in another asset than the margin asset (BNB) is said once per asset; the fill is still reported', () => {
    const problems: string[] = []
    const v = venue({marginAsset: 'USDC', onProblem: (m) => problems.push(m)})
    const otu = (o: Record<string, unknown>) => parseUserEvent({e: 'ORDER_TRADE_UPDATE', E: 2, T: 2, o: {s: 'ETHUSDC', c: 'mm-eth10000-b-7', S: 'BUY', o: 'LIMIT', f: 'GTX', q: '0.030', p: '3000.00', x: 'TRADE', X: 'PARTIALLY_FILLED', i: 1, l: '0.010', z: '0.010', L: '3000.00', n: '0.00001', N: 'USDC', T: 3, t: 77, m: true, rp: '0', ...o}})
    v.onUserEvent(otu({}), 1)
    expect(problems).toEqual([])
    v.onUserEvent(otu({N: 'BNB', t: 78, z: '0.020'}), 2)
    v.onUserEvent(otu({N: 'BNB', t: 79, z: '0.030', X: 'FILLED'}), 3)
    expect(problems).toEqual(["a fill's fee was charged in BNB, not USDC (the BNB fee discount turned on?): mm books every fee as USDC, so its fees, PnL and loss limit are off from here; stop, turn the discount off, start again"])
    expect(reports.map((r) => (r.type === 'fill' ? r.fill.tradeId : r.type))).toEqual(['77', '78', '79'])
  })

  it('the venue-id map for userTrades stays bounded: past 20,000 orders the oldest closed ones go, open ones stay', async () => {
    const v = venue()
    const otu = (c: string, i: number, X: string) => parseUserEvent({e: 'ORDER_TRADE_UPDATE', E: 2, T: 2, o: {s: 'ETHUSDC', c, S: 'BUY', o: 'LIMIT', f: 'GTX', q: '0.010', p: '3000.00', x: X === 'NEW' ? 'NEW' : 'CANCELED', X, i, l: '0', z: '0', L: '0', n: '0', N: 'USDC', T: 3, t: 0, m: true}})
    // the first order stays open all along; 19,999 more open and end after it
    v.onUserEvent(otu('mm-eth10000-b-open', 1, 'NEW'), 1)
    for (let i = 2; i <= 20_000; i++) v.onUserEvent(otu(`mm-eth10000-b-${i}`, i, 'CANCELED'), i)
    expect(v.knownOrderIds).toBe(20_000)
    v.onUserEvent(otu('mm-eth10000-b-20001', 20_001, 'CANCELED'), 20_001)
    // pruned to 15,000: the open order and the newest closed ones (orders 5,003 … 20,001)
    expect(v.knownOrderIds).toBe(15_000)
    const trade = (id: number, orderId: number) => ({id, orderId, symbol: 'ETHUSDC', side: 'BUY', price: '3000.00', qty: '0.010', commission: '0', commissionAsset: 'USDC', realizedPnl: '0', maker: true, time: clock.now() + 9})
    // an order id the map no longer holds is looked up (here the venue no longer knows it either: not booked)
    stub.handler = (r) => (r.path === '/fapi/v1/userTrades' ? {body: [trade(1, 1), trade(2, 5_002), trade(3, 5_003), trade(4, 20_001)]} : r.path === '/fapi/v1/order' ? {status: 400, body: {code: -2013, msg: 'Order does not exist.'}} : undefined)
    reports = []
    expect(await v.recoverFills()).toBe(3)
    expect(reports.map((r) => r.clientOrderId)).toEqual(['mm-eth10000-b-open', 'mm-eth10000-b-5003', 'mm-eth10000-b-20001'])
    expect(stub.requests.filter((r) => r.path === '/fapi/v1/order').map((r) => r.params.get('orderId'))).toEqual(['5002'])
    await gw.close()
  })

  it("an earlier run's order updates are dropped (their fills are in the start position, read after the cancel); this run's count (issue 10 restart drift)", () => {
    gw = new BinanceGateway({baseUrl: stub.url, credentials: new Credentials('stubkey-0123456789', SECRET), timeoutMs: 2000})
    const v = new BinanceVenue({gateway: gw, instrument: INST, clock, sink: {push: (r) => reports.push(r)}, stp: 'EXPIRE_MAKER', isOurs: (id) => id.startsWith('mm-eth1'), isThisRun: (id) => id.startsWith('mm-eth1abcd-')})
    const otu = (c: string, t: number) => parseUserEvent({e: 'ORDER_TRADE_UPDATE', E: 2, T: 2, o: {s: 'ETHUSDC', c, S: 'SELL', o: 'LIMIT', f: 'GTX', q: '0.010', p: '3000.00', x: 'TRADE', X: 'FILLED', i: t, l: '0.010', z: '0.010', L: '3000.00', n: '0', N: 'USDC', T: 3, t, m: true}})
    v.onUserEvent(otu('mm-eth10000-s-0', 70), 10)
    v.onUserEvent(otu('mm-eth1abcd-s-1', 71), 11)
    expect(reports.map((r) => [r.clientOrderId, r.type])).toEqual([['mm-eth1abcd-s-1', 'fill']])
    expect(v.earlierRunUpdates).toBe(1)
    // through the reducer (which counts a fill of an order it does not know): only this run's sell moves the position, 14 → 4, not → -6
    let lc = initLifecycle({position: {...initLifecycle().position, net: 14, cost: 0n}})
    for (const r of reports) lc = reduceLifecycle(lc, {type: 'report', t: 20, report: r}, {ackTimeoutMs: 200, recvWindowMs: 5000, cancelAttempts: 3}).state
    expect(lc.position.net).toBe(4)
  })

  it('adoptPosition: the venue net and cost replace ours; fees, realised PnL and orders stay', () => {
    const start = initLifecycle({position: {...initLifecycle().position, net: 24, cost: 7n, realised: 5n, fees: '0.1', fills: 3}})
    const next = adoptPosition(start, {net: 14, cost: 9n})
    expect(next.position).toEqual({...start.position, net: 14, cost: 9n})
    expect(start.position.net).toBe(24)
    expect(next.open).toBe(start.open)
  })

  it('audit: strays cancelled, missing queried, a position drift fetches the missed fills', async () => {
    const v = venue()
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-b-8', order: BID})
    await until(() => reports.length === 1, 'ack')
    book.set('mm-eth1zzzz-b-0', {...book.get('mm-eth10000-b-8'), clientOrderId: 'mm-eth1zzzz-b-0', orderId: 999})
    book.set('web_9', {...book.get('mm-eth10000-b-8'), clientOrderId: 'web_9', orderId: 998})
    const res = await v.audit({working: [{clientOrderId: 'mm-eth10000-b-8', status: 'NEW', sentAt: 0}, {clientOrderId: 'mm-eth10000-b-9', status: 'NEW', sentAt: 0}], position: 0, graceMs: 1000})
    expect(res.findings).toEqual([
      {kind: 'stray', clientOrderId: 'mm-eth1zzzz-b-0'},
      {kind: 'missing', clientOrderId: 'mm-eth10000-b-9'},
      {kind: 'position_drift', venue: 10, own: 0},
    ])
    expect(res.foreign).toEqual(['web_9'])
    expect(res.streamSuspect).toBe(true)
    expect(res.fillsRecovered).toBe(1)
    expect(book.get('mm-eth1zzzz-b-0')!.status).toBe('CANCELED')
    expect(book.get('web_9')!.status).toBe('NEW')
    await until(() => reports.some((r) => r.type === 'query'), 'the missing order queried')
    expect(reports.find((r) => r.type === 'fill')).toMatchObject({clientOrderId: 'mm-eth10000-b-8', fill: {tradeId: '55', qty: 10, maker: true, realised: '-0.00000001'}})
    await gw.close()
  })

  it('the missed fills are read from after the last trade the stream reported (fromId): a fill already counted is never reported again, so an order the lifecycle has forgotten is not booked twice (review-live)', async () => {
    const v = venue()
    // order 1 filled 0.010 at 3000.00, trade 77, reported by the stream (counted)
    v.onUserEvent(parseUserEvent({e: 'ORDER_TRADE_UPDATE', E: 2, T: 2, o: {s: 'ETHUSDC', c: 'mm-eth10000-b-7', S: 'BUY', o: 'LIMIT', f: 'GTX', q: '0.010', p: '3000.00', x: 'TRADE', X: 'FILLED', i: 1, l: '0.010', z: '0.010', L: '3000.00', n: '0.006', N: 'USDC', T: 3, t: 77, m: true, rp: '0'}}), 10)
    // order 2 is placed and acked (its venue id is known); its fill (trade 78) never reaches the stream
    v.onUserEvent(parseUserEvent({e: 'ORDER_TRADE_UPDATE', E: 4, T: 4, o: {s: 'ETHUSDC', c: 'mm-eth10000-b-8', S: 'BUY', o: 'LIMIT', f: 'GTX', q: '0.010', p: '2999.00', x: 'NEW', X: 'NEW', i: 2, l: '0', z: '0', L: '0', n: '0', N: 'USDC', T: 4, t: 0, m: false}}), 11)
    const trade = (id: number, orderId: number, price: string, time: number) => ({id, orderId, symbol: 'ETHUSDC', side: 'BUY', price, qty: '0.010', commission: '0.006', commissionAsset: 'USDC', realizedPnl: '0', maker: true, time})
    const tape = [trade(77, 1, '3000.00', 3), trade(78, 2, '2999.00', 700_000)]
    // userTrades as Binance filters it: fromId and startTime inclusive
    stub.handler = (r) => {
      if (r.path !== '/fapi/v1/userTrades') return undefined
      const fromId = r.params.get('fromId')
      const startTime = r.params.get('startTime')
      return {body: tape.filter((t) => (fromId === null || t.id >= Number(fromId)) && (startTime === null || t.time >= Number(startTime)))}
    }
    reports = []
    expect(await v.recoverFills()).toBe(1)
    expect(stub.requests.find((r) => r.path === '/fapi/v1/userTrades')!.params.get('fromId')).toBe('78')
    expect(reports.map((r) => (r.type === 'fill' ? [r.clientOrderId, r.fill.tradeId] : r.type))).toEqual([['mm-eth10000-b-8', '78']])
    // the lifecycle 10 min later, past 64 other closed orders, no longer holds order 1: had trade 77 come back it was booked again
    // (position 0.030 and fees 0.018 against the venue's 0.020 and 0.012); now the ledger is exactly the venue's
    let lc = initLifecycle({position: {...initLifecycle().position, net: 10, cost: 300000n * 10n * 10n ** 12n, fees: '0.006', fills: 1, lastTradeId: '77'}})
    for (const r of reports) lc = reduceLifecycle(lc, {type: 'report', t: 700_100, report: r}, {ackTimeoutMs: 200, recvWindowMs: 5000, cancelAttempts: 3}).state
    expect(lc.position).toMatchObject({net: 20, cost: (300000n + 299900n) * 10n * 10n ** 12n, fees: '0.012', fills: 2, lastTradeId: '78'})
    // a second recovery reads from after the recovered trade: nothing again
    reports = []
    expect(await v.recoverFills()).toBe(0)
    expect(stub.requests.filter((r) => r.path === '/fapi/v1/userTrades').map((r) => r.params.get('fromId'))).toEqual(['78', '79'])
    await gw.close()
  })

  it("a missed fill of an order whose place answer was lost (its venue id not known yet) is looked up by order id and booked, not skipped and then passed by the next fill's read; a foreign one is looked up once and skipped (review-live)", async () => {
    const v = venue()
    // the stream reported trade 11 of order 1; order 2's place answer was lost (venue id unknown), order 3 is known; the stream missed trades 12 and 13
    v.onUserEvent(parseUserEvent({e: 'ORDER_TRADE_UPDATE', E: 2, T: 2, o: {s: 'ETHUSDC', c: 'mm-eth10000-b-1', S: 'BUY', o: 'LIMIT', f: 'GTX', q: '0.010', p: '3000.00', x: 'TRADE', X: 'FILLED', i: 1, l: '0.010', z: '0.010', L: '3000.00', n: '0.006', N: 'USDC', T: 3, t: 11, m: true, rp: '0'}}), 10)
    v.onUserEvent(parseUserEvent({e: 'ORDER_TRADE_UPDATE', E: 4, T: 4, o: {s: 'ETHUSDC', c: 'mm-eth10000-s-3', S: 'SELL', o: 'LIMIT', f: 'GTX', q: '0.010', p: '3001.00', x: 'NEW', X: 'NEW', i: 3, l: '0', z: '0', L: '0', n: '0', N: 'USDC', T: 4, t: 0, m: false}}), 11)
    const trade = (id: number, orderId: number, side: string, price: string) => ({id, orderId, symbol: 'ETHUSDC', side, price, qty: '0.010', commission: '0.006', commissionAsset: 'USDC', realizedPnl: '0', maker: true, time: clock.now() + 100 + id})
    const tape = [trade(11, 1, 'BUY', '3000.00'), trade(12, 2, 'BUY', '2999.00'), trade(13, 9, 'SELL', '3005.00'), trade(14, 3, 'SELL', '3001.00')]
    const orders: Record<string, string> = {2: 'mm-eth10000-b-2', 9: 'web_9'}
    stub.handler = (r) => {
      if (r.path === '/fapi/v1/userTrades') return {body: tape.filter((t) => t.id >= Number(r.params.get('fromId') ?? 0))}
      if (r.path === '/fapi/v1/order' && r.method === 'GET') {
        const c = orders[r.params.get('orderId') ?? '']
        return c ? {body: {symbol: 'ETHUSDC', orderId: Number(r.params.get('orderId')), clientOrderId: c, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', status: 'FILLED', price: '2999.00', origQty: '0.010', executedQty: '0.010', avgPrice: '2999.00', reduceOnly: false, updateTime: 112}} : {status: 400, body: {code: -2013, msg: 'Order does not exist.'}}
      }
      return undefined
    }
    reports = []
    // before: trade 12 was skipped (order 2 unknown) and trade 14 moved the read past it: never booked
    expect(await v.recoverFills()).toBe(2)
    expect(reports.map((r) => (r.type === 'fill' ? [r.clientOrderId, r.fill.tradeId, r.fill.price] : r.type))).toEqual([['mm-eth10000-b-2', '12', 299900], ['mm-eth10000-s-3', '14', 300100]])
    expect(stub.requests.filter((r) => r.path === '/fapi/v1/order').map((r) => r.params.get('orderId'))).toEqual(['2', '9'])
    // the next read starts after 14; the foreign order is not looked up again
    tape.push(trade(15, 9, 'SELL', '3005.00'))
    reports = []
    expect(await v.recoverFills()).toBe(0)
    expect(stub.requests.filter((r) => r.path === '/fapi/v1/userTrades').map((r) => r.params.get('fromId'))).toEqual(['12', '15'])
    expect(stub.requests.filter((r) => r.path === '/fapi/v1/order')).toHaveLength(2)
    await gw.close()
  })

  it('a lookup that fails stops the read there: the next read starts at that trade (review-live)', async () => {
    const problems: string[] = []
    const v = venue({onProblem: (m) => problems.push(m)})
    v.onUserEvent(parseUserEvent({e: 'ORDER_TRADE_UPDATE', E: 2, T: 2, o: {s: 'ETHUSDC', c: 'mm-eth10000-b-1', S: 'BUY', o: 'LIMIT', f: 'GTX', q: '0.010', p: '3000.00', x: 'TRADE', X: 'FILLED', i: 1, l: '0.010', z: '0.010', L: '3000.00', n: '0.006', N: 'USDC', T: 3, t: 11, m: true, rp: '0'}}), 10)
    const trade = (id: number, orderId: number) => ({id, orderId, symbol: 'ETHUSDC', side: 'BUY', price: '2999.00', qty: '0.010', commission: '0.006', commissionAsset: 'USDC', realizedPnl: '0', maker: true, time: clock.now() + 100 + id})
    let down = true
    stub.handler = (r) => {
      if (r.path === '/fapi/v1/userTrades') return {body: [trade(12, 2), trade(13, 1)].filter((t) => t.id >= Number(r.params.get('fromId') ?? 0))}
      if (r.path === '/fapi/v1/order' && r.method === 'GET') return down ? {status: 400, body: {code: -1121, msg: 'Invalid symbol.'}} : {body: {symbol: 'ETHUSDC', orderId: 2, clientOrderId: 'mm-eth10000-b-2', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', status: 'FILLED', price: '2999.00', origQty: '0.010', executedQty: '0.010', avgPrice: '2999.00', reduceOnly: false, updateTime: 112}}
      return undefined
    }
    reports = []
    expect(await v.recoverFills()).toBe(0)
    expect(problems).toEqual([expect.stringMatching(/^reading back fills: the order of trade 12 could not be looked up \(.*Invalid symbol.*\); read again from it at the next read-back \(the next audit at the latest\)$/)])
    down = false
    expect(await v.recoverFills()).toBe(2)
    expect(reports.map((r) => (r.type === 'fill' ? r.fill.tradeId : r.type))).toEqual(['12', '13'])
    expect(stub.requests.filter((r) => r.path === '/fapi/v1/userTrades').map((r) => r.params.get('fromId'))).toEqual(['12', '12'])
    await gw.close()
  })

  it('review3: a read-back with no trade id yet starts at this run (start − 60 s), and an earlier run\'s trades are skipped without lookups: this run\'s fill is booked at once (it stalled on 10 lookups a read)', async () => {
    const v = venue()
    const t0 = clock.now()
    const old = (id: number) => ({id, orderId: 500 + id, symbol: 'ETHUSDC', side: 'SELL', price: '2990.00', qty: '0.010', commission: '0.006', commissionAsset: 'USDC', realizedPnl: '0', maker: true, time: t0 - 3_600_000 + id})
    // this run's order 2 (acked: its venue id known), filled; the stream silent
    v.onUserEvent(parseUserEvent({e: 'ORDER_TRADE_UPDATE', E: 4, T: 4, o: {s: 'ETHUSDC', c: 'mm-eth10000-b-8', S: 'BUY', o: 'LIMIT', f: 'GTX', q: '0.010', p: '2999.00', x: 'NEW', X: 'NEW', i: 2, l: '0', z: '0', L: '0', n: '0', N: 'USDC', T: 4, t: 0, m: false}}), 11)
    const mine = {id: 100, orderId: 2, symbol: 'ETHUSDC', side: 'BUY', price: '2999.00', qty: '0.010', commission: '0.006', commissionAsset: 'USDC', realizedPnl: '0', maker: true, time: t0 + 5}
    stub.handler = (r) => (r.path === '/fapi/v1/userTrades' ? {body: [...Array.from({length: 40}, (_, i) => old(i + 1)), mine].filter((t) => t.time >= Number(r.params.get('startTime') ?? 0))} : undefined)
    reports = []
    expect(await v.recoverFills()).toBe(1)
    expect(reports.map((r) => (r.type === 'fill' ? r.fill.tradeId : r.type))).toEqual(['100'])
    const reads = stub.requests.filter((r) => r.path === '/fapi/v1/userTrades')
    expect(reads.map((r) => [r.params.get('startTime'), r.params.get('fromId')])).toEqual([[String(t0 - 60_000), null]])
    expect(stub.requests.filter((r) => r.path === '/fapi/v1/order')).toEqual([])
    await gw.close()
  })

  it('review3: the audit\'s and the unseen fills\' read-backs run one at a time, and a trade already reported is never reported again', async () => {
    const v = venue()
    v.onUserEvent(parseUserEvent({e: 'ORDER_TRADE_UPDATE', E: 4, T: 4, o: {s: 'ETHUSDC', c: 'mm-eth10000-b-8', S: 'BUY', o: 'LIMIT', f: 'GTX', q: '0.020', p: '2999.00', x: 'NEW', X: 'NEW', i: 2, l: '0', z: '0', L: '0', n: '0', N: 'USDC', T: 4, t: 0, m: false}}), 11)
    const tr = (id: number) => ({id, orderId: 2, symbol: 'ETHUSDC', side: 'BUY', price: '2999.00', qty: '0.010', commission: '0.006', commissionAsset: 'USDC', realizedPnl: '0', maker: true, time: clock.now() + id})
    stub.handler = (r) => (r.path === '/fapi/v1/userTrades' ? {body: [tr(12)].filter((t) => t.id >= Number(r.params.get('fromId') ?? 0))} : undefined)
    reports = []
    // both asked at once: the second waits for the first, and starts after the trade it read
    const [a, b] = await Promise.all([v.recoverFills(), v.recoverFills()])
    expect([a, b]).toEqual([1, 0])
    expect(stub.requests.filter((r) => r.path === '/fapi/v1/userTrades').map((r) => r.params.get('fromId'))).toEqual([null, '13'])
    expect(reports.map((r) => (r.type === 'fill' ? r.fill.tradeId : r.type))).toEqual(['12'])
    await gw.close()
  })

  it('review3: a read that stopped at a failed lookup starts there next time, even after the stream told a later trade', async () => {
    const problems: string[] = []
    const v = venue({onProblem: (m) => problems.push(m)})
    const otu = (c: string, i: number, t: number) => parseUserEvent({e: 'ORDER_TRADE_UPDATE', E: 2, T: 2, o: {s: 'ETHUSDC', c, S: 'BUY', o: 'LIMIT', f: 'GTX', q: '0.010', p: '3000.00', x: 'TRADE', X: 'FILLED', i, l: '0.010', z: '0.010', L: '3000.00', n: '0.006', N: 'USDC', T: 3, t, m: true, rp: '0'}})
    v.onUserEvent(otu('mm-eth10000-b-1', 1, 11), 10)
    const trade = (id: number, orderId: number) => ({id, orderId, symbol: 'ETHUSDC', side: 'BUY', price: '2999.00', qty: '0.010', commission: '0.006', commissionAsset: 'USDC', realizedPnl: '0', maker: true, time: clock.now() + id})
    let down = true
    stub.handler = (r) => {
      if (r.path === '/fapi/v1/userTrades') return {body: [trade(12, 2), trade(13, 3), trade(14, 4)].filter((t) => t.id >= Number(r.params.get('fromId') ?? 0))}
      if (r.path === '/fapi/v1/order' && r.method === 'GET') {
        const id = Number(r.params.get('orderId'))
        return down ? {status: 503, body: {code: -1008, msg: 'Server is currently overloaded with other requests.'}} : {body: {symbol: 'ETHUSDC', orderId: id, clientOrderId: `mm-eth10000-b-${id}`, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', status: 'FILLED', price: '2999.00', origQty: '0.010', executedQty: '0.010', avgPrice: '2999.00', reduceOnly: false, updateTime: 112}}
      }
      return undefined
    }
    reports = []
    expect(await v.recoverFills()).toBe(0)
    // the stream then tells trade 14 (its order known from the event): the cursor moves past 12 and 13
    v.onUserEvent(otu('mm-eth10000-b-4', 4, 14), 20)
    down = false
    reports = []
    expect(await v.recoverFills()).toBe(2)
    expect(reports.map((r) => (r.type === 'fill' ? r.fill.tradeId : r.type))).toEqual(['12', '13'])
    expect(stub.requests.filter((r) => r.path === '/fapi/v1/userTrades').map((r) => r.params.get('fromId'))).toEqual(['12', '12'])
    await gw.close()
  })

  it('review3: a query answer showing unseen fills reads them back at once, not after the delay; a read-back fill\'s fee in BNB is said', async () => {
    const problems: string[] = []
    const v = venue({unseenFillDelayMs: 60_000, marginAsset: 'USDC', onProblem: (m) => problems.push(m)})
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-b-8', order: BID})
    await until(() => reports.length === 1, 'ack')
    book.get('mm-eth10000-b-8')!.status = 'FILLED'
    book.get('mm-eth10000-b-8')!.executedQty = '0.010'
    const acked = book.get('mm-eth10000-b-8')!
    const plain = stub.handler
    stub.handler = (r) => (r.path === '/fapi/v1/userTrades' ? {body: [{id: 55, orderId: acked.orderId, symbol: 'ETHUSDC', side: 'BUY', price: '3000.00', qty: '0.010', commission: '0.00001', commissionAsset: 'BNB', realizedPnl: '0', maker: true, time: clock.now() + 9}]} : plain?.(r))
    v.queryOrder('mm-eth10000-b-8')
    await until(() => reports.some((r) => r.type === 'fill'), 'the fill read back (a 60 s delay would time this out)')
    await until(() => !v.readBackPending, 'the read-back done')
    expect(problems[0]).toBe("a fill's fee was charged in BNB, not USDC (the BNB fee discount turned on?): mm books every fee as USDC, so its fees, PnL and loss limit are off from here; stop, turn the discount off, start again")
    await gw.close()
  })

  it('a query answer showing an order filled that the stream never told reads the fills back at once, not at the next audit (review-live)', async () => {
    const problems: string[] = []
    const v = venue({unseenFillDelayMs: 0, onProblem: (m) => problems.push(m)})
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-b-8', order: BID})
    await until(() => reports.length === 1, 'ack')
    // the venue fills it (trade 55 in the stub's userTrades); the stream is silent. A cancel is refused -2011, the query says FILLED
    book.get('mm-eth10000-b-8')!.status = 'FILLED'
    book.get('mm-eth10000-b-8')!.executedQty = '0.010'
    v.queryOrder('mm-eth10000-b-8')
    await until(() => reports.some((r) => r.type === 'fill'), 'the fill read back')
    expect(reports.map((r) => r.type)).toEqual(['ack', 'query', 'fill'])
    expect(reports[2]).toMatchObject({clientOrderId: 'mm-eth10000-b-8', fill: {tradeId: '55', qty: 10, price: 300000, maker: true, realised: '-0.00000001'}})
    expect(stub.requests.filter((r) => r.path === '/fapi/v1/userTrades')).toHaveLength(1)
    await until(() => !v.readBackPending, 'the read-back done')
    expect(v.unseenFillReadBacks).toBe(1)
    expect(problems).toEqual(['the venue shows fills of mm-eth10000-b-8 the user stream did not tell: 1 fill(s) read back from userTrades'])
    // through the reducer: the position is the venue's 0.010 now, not at the next audit
    const cfg: LifecycleConfig = {ackTimeoutMs: 200, recvWindowMs: 5000, cancelAttempts: 3}
    let lc = reduceLifecycle(initLifecycle(), {type: 'place_sent', t: 0, clientOrderId: 'mm-eth10000-b-8', order: BID}, cfg).state
    for (const r of reports) lc = reduceLifecycle(lc, {type: 'report', t: 1, report: r}, cfg).state
    expect(lc.position.net).toBe(10)
    // the same answer again: the read-back told it, nothing read again
    v.queryOrder('mm-eth10000-b-8')
    await until(() => reports.length === 4, 'the second answer')
    expect(v.readBackPending).toBe(false)
    expect(stub.requests.filter((r) => r.path === '/fapi/v1/userTrades')).toHaveLength(1)
    await gw.close()
  })

  it('fills an answer showed and the stream did not tell are unbooked steps of their side until told or read back, kept while the read-back runs (netMax, netmax-unseen)', async () => {
    const problems: string[] = []
    // the unbooked steps are there when an answer's report is (the decision after it sees them)
    const seen: Array<{BUY: number; SELL: number} | undefined> = []
    const v: BinanceVenue = venue({unseenFillDelayMs: 60_000, timeoutMs: 300, onProblem: (m) => problems.push(m), onPush: () => seen.push(v.unbookedSteps())})
    const ASK: OrderIntent = {...BID, slot: 'dyn:SELL:0', side: 'SELL', price: 300100}
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-b-8', order: BID})
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-s-9', order: ASK})
    await until(() => reports.length === 2, 'acks')
    expect(v.unbookedSteps()).toBeUndefined()
    const plain = stub.handler
    stub.handler = (r) => (r.path === '/fapi/v1/userTrades' ? {body: []} : plain?.(r))
    // a query shows the bid live with 0.005 executed the stream did not tell: not counted,
    // its working remaining (10 steps less 0 booked) already holds them
    book.get('mm-eth10000-b-8')!.executedQty = '0.005'
    book.get('mm-eth10000-b-8')!.status = 'PARTIALLY_FILLED'
    v.queryOrder('mm-eth10000-b-8')
    await until(() => reports.length === 3, 'the query answer')
    expect(seen[2]).toBeUndefined()
    await until(() => !v.readBackPending || stub.requests.some((r) => r.path === '/fapi/v1/userTrades'), 'the read-back asked')
    // the bid's cancel answers 0.005 executed, the ask's 0.003: none of it told by the stream
    book.get('mm-eth10000-b-8')!.status = 'NEW'
    book.get('mm-eth10000-s-9')!.executedQty = '0.003'
    reports = []
    seen.length = 0
    v.submit({type: 'cancel', clientOrderId: 'mm-eth10000-b-8', slot: 'dyn:BUY:0', reason: 'reprice'})
    await until(() => reports.length === 1, 'canceled')
    v.submit({type: 'cancel', clientOrderId: 'mm-eth10000-s-9', slot: 'dyn:SELL:0', reason: 'reprice'})
    await until(() => reports.length === 2, 'canceled')
    expect(seen).toEqual([{BUY: 5, SELL: 0}, {BUY: 5, SELL: 3}])
    // the stream tells 0.002 of the bid: 3 steps still unbooked
    const otu = (c: string, side: string, z: string, t: number) => parseUserEvent({e: 'ORDER_TRADE_UPDATE', E: 2, T: 2, o: {s: 'ETHUSDC', c, S: side, o: 'LIMIT', f: 'GTX', q: '0.010', p: '3000.00', x: 'TRADE', X: 'PARTIALLY_FILLED', i: 1000, l: '0.002', z, L: '3000.00', n: '0', N: 'USDC', T: 3, t, m: true, rp: '0'}})
    v.onUserEvent(otu('mm-eth10000-b-8', 'BUY', '0.002', 56), 10)
    expect(v.unbookedSteps()).toEqual({BUY: 3, SELL: 3})
    // a query of the ask shows it; its read-back (at once) hangs: the steps stay counted while it runs
    stub.handler = (r) => (r.path === '/fapi/v1/userTrades' ? {hang: true} : r.path === '/fapi/v1/order' && r.method === 'GET' ? {body: book.get('mm-eth10000-s-9')} : undefined)
    v.queryOrder('mm-eth10000-s-9')
    await until(() => stub.requests.some((r) => r.path === '/fapi/v1/userTrades'), 'the read-back asked')
    expect(v.unbookedSteps()).toEqual({BUY: 3, SELL: 3})
    const failed = /^reading back the fills of mm-eth10000-b-8, mm-eth10000-s-9 the user stream did not tell failed: /
    await until(() => problems.some((m) => failed.test(m)), 'the read-back failed')
    expect(v.unbookedSteps()).toEqual({BUY: 3, SELL: 3})
    // told in full (the stream, or a read-back): nothing unbooked
    v.onUserEvent(otu('mm-eth10000-b-8', 'BUY', '0.005', 57), 11)
    v.onUserEvent(otu('mm-eth10000-s-9', 'SELL', '0.003', 58), 12)
    expect(v.unbookedSteps()).toBeUndefined()
    v.stop()
    await gw.close()
  })

  it('an audit that finds our position equal to the venue\'s drops the unbooked steps it knew of (an adopted position holds them); a drift keeps them', async () => {
    const v = venue({unseenFillDelayMs: 60_000})
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-b-8', order: BID})
    await until(() => reports.length === 1, 'ack')
    book.get('mm-eth10000-b-8')!.executedQty = '0.010'
    v.submit({type: 'cancel', clientOrderId: 'mm-eth10000-b-8', slot: 'dyn:BUY:0', reason: 'reprice'})
    await until(() => reports.length === 2, 'canceled')
    expect(v.unbookedSteps()).toEqual({BUY: 10, SELL: 0})
    // the venue holds 0.010 (the stub's positionRisk), ours 0: a drift, the read-back finds no trade of ours
    const plain = stub.handler
    stub.handler = (r) => (r.path === '/fapi/v1/userTrades' ? {body: []} : plain?.(r))
    const drift = await v.audit({working: [], position: 0, graceMs: 1000})
    expect(drift.findings).toEqual([{kind: 'position_drift', venue: 10, own: 0}])
    expect(v.unbookedSteps()).toEqual({BUY: 10, SELL: 0})
    // ours is the venue's now (adopted): the 10 steps are in it
    const same = await v.audit({working: [], position: 10, graceMs: 1000})
    expect(same.findings).toEqual([])
    expect(v.unbookedSteps()).toBeUndefined()
    v.stop()
    await gw.close()
  })

  it('an audit keeps the unbooked steps when the venue equals the position it began with but not ours now (a fill of the other side told during its reads) (review4)', async () => {
    const v = venue({unseenFillDelayMs: 60_000})
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-b-8', order: BID})
    await until(() => reports.length === 1, 'ack')
    book.get('mm-eth10000-b-8')!.executedQty = '0.010'
    v.submit({type: 'cancel', clientOrderId: 'mm-eth10000-b-8', slot: 'dyn:BUY:0', reason: 'reprice'})
    await until(() => reports.length === 2, 'canceled')
    expect(v.unbookedSteps()).toEqual({BUY: 10, SELL: 0})
    // the venue holds 0 (the unbooked bid's +10 and an ask's -10); ours was 0 when the audit began and is -10 now
    const plain = stub.handler
    stub.handler = (r) => (r.path === '/fapi/v3/positionRisk' ? {body: [{symbol: 'ETHUSDC', positionSide: 'BOTH', positionAmt: '0', entryPrice: '0', markPrice: '3000.00', unRealizedProfit: '0', liquidationPrice: '0', updateTime: 1}]} : plain?.(r))
    const res = await v.audit({working: [], position: 0, graceMs: 1000, positionNow: () => -10})
    expect(res.findings).toEqual([])
    expect(v.unbookedSteps()).toEqual({BUY: 10, SELL: 0})
    v.stop()
    await gw.close()
  })

  it('stop() drops a read-back waiting for its delay and starts none after (the gateway closes with the run)', async () => {
    const problems: string[] = []
    const v = venue({unseenFillDelayMs: 200, onProblem: (m) => problems.push(m)})
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-b-8', order: BID})
    await until(() => reports.length === 1, 'ack')
    // a cancel answered with 0.005 executed that the stream never told: a read-back waits for its delay
    book.get('mm-eth10000-b-8')!.executedQty = '0.005'
    v.submit({type: 'cancel', clientOrderId: 'mm-eth10000-b-8', slot: 'dyn:BUY:0', reason: 'reprice'})
    await until(() => reports.length === 2, 'canceled')
    expect(v.readBackPending).toBe(true)
    v.stop()
    expect(v.readBackPending).toBe(false)
    // a later answer showing the fill schedules nothing either, at once or later
    v.queryOrder('mm-eth10000-b-8')
    await until(() => reports.length === 3, 'the query answer')
    expect(v.readBackPending).toBe(false)
    await gw.close()
    expect([v.unseenFillReadBacks, problems, stub.requests.filter((r) => r.path === '/fapi/v1/userTrades').length]).toEqual([0, [], 0])
  })

  it('no read-back when the stream tells the fills within the delay (a cancel answered before the stream event; review-live)', async () => {
    const v = venue({unseenFillDelayMs: 300})
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-b-8', order: BID})
    await until(() => reports.length === 1, 'ack')
    book.get('mm-eth10000-b-8')!.executedQty = '0.005'
    v.submit({type: 'cancel', clientOrderId: 'mm-eth10000-b-8', slot: 'dyn:BUY:0', reason: 'reprice'})
    await until(() => reports.length === 2, 'canceled')
    expect(reports[1]).toMatchObject({type: 'canceled', filled: 5})
    expect(v.readBackPending).toBe(true)
    v.onUserEvent(parseUserEvent({e: 'ORDER_TRADE_UPDATE', E: 2, T: 2, o: {s: 'ETHUSDC', c: 'mm-eth10000-b-8', S: 'BUY', o: 'LIMIT', f: 'GTX', q: '0.010', p: '3000.00', x: 'TRADE', X: 'PARTIALLY_FILLED', i: 1000, l: '0.005', z: '0.005', L: '3000.00', n: '0', N: 'USDC', T: 3, t: 56, m: true, rp: '0'}}), 10)
    await until(() => !v.readBackPending, 'the delay over')
    expect(v.unseenFillReadBacks).toBe(0)
    expect(stub.requests.filter((r) => r.path === '/fapi/v1/userTrades')).toHaveLength(0)
    await gw.close()
  })

  it('audit: a fill whose event came in while the venue was read (ours then equals the venue) is no position drift: nothing read back (explrisk)', async () => {
    const v = venue()
    // ours was 0 when the audit began; the venue answers 0.010 (10 steps); by then the fill's event has made ours 10
    const res = await v.audit({working: [], position: 0, graceMs: 1000, positionNow: () => 10})
    expect(res.findings).toEqual([])
    expect(res.fillsRecovered).toBe(0)
    expect(stub.requests.filter((r) => r.path === '/fapi/v1/userTrades')).toEqual([])
    // ours still differs after the reads: a drift, as before
    const again = await v.audit({working: [], position: 0, graceMs: 1000, positionNow: () => 0})
    expect(again.findings).toEqual([{kind: 'position_drift', venue: 10, own: 0}])
    await gw.close()
  })

  it('cancels wait out a 418 ban and a 429 back-off: nothing sent, nothing reported (the lifecycle re-sends after its timeout); sent again once it ends (explrisk)', async () => {
    const governor = new RateGovernor()
    const v = venue({governor})
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-b-0', order: BID})
    await until(() => reports.length === 1, 'ack')
    const sent = stub.requests.length
    governor.observe({endpoint: 'GET /fapi/v1/openOrders', status: 418, at: clock.now(), latencyMs: 1, venueCode: -1003, retryAfterMs: 30_000})
    v.submit({type: 'cancel', clientOrderId: 'mm-eth10000-b-0', slot: 'dyn:BUY:0', reason: 'halt'})
    v.submitAll([{type: 'cancel', clientOrderId: 'mm-eth10000-b-0', slot: 'dyn:BUY:0', reason: 'halt'}, {type: 'cancel', clientOrderId: 'mm-eth10000-b-1', slot: 'dyn:SELL:0', reason: 'halt'}])
    await new Promise((r) => setImmediate(r))
    expect(stub.requests.length).toBe(sent)
    expect(reports.length).toBe(1)
    expect(v.cancelsHeld).toBe(3)
    clock.advance(30_000)
    v.submit({type: 'cancel', clientOrderId: 'mm-eth10000-b-0', slot: 'dyn:BUY:0', reason: 'halt'})
    await until(() => reports.length === 2, 'canceled after the ban')
    expect(reports[1]).toMatchObject({type: 'canceled', clientOrderId: 'mm-eth10000-b-0'})
    await gw.close()
  })

  it("in a 429 back-off an order's first cancel goes out, its retries wait; in a 418 ban a query waits too (review)", async () => {
    const governor = new RateGovernor()
    const v = venue({governor})
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-b-0', order: BID})
    await until(() => reports.length === 1, 'ack')
    governor.observe({endpoint: 'GET /fapi/v3/positionRisk', status: 429, at: clock.now(), latencyMs: 1, venueCode: -1003, retryAfterMs: 20_000})
    const sent = stub.requests.length
    v.submit({type: 'cancel', clientOrderId: 'mm-eth10000-b-0', slot: 'dyn:BUY:0', reason: 'halt'})
    await until(() => reports.length === 2, 'the first cancel answered')
    expect(stub.requests.length).toBe(sent + 1)
    expect(reports[1]).toMatchObject({type: 'canceled', clientOrderId: 'mm-eth10000-b-0'})
    // its retry (the lifecycle re-cancels after a timeout) waits for the back-off's end
    v.submit({type: 'cancel', clientOrderId: 'mm-eth10000-b-0', slot: 'dyn:BUY:0', reason: 'halt'})
    await new Promise((r) => setImmediate(r))
    expect(stub.requests.length).toBe(sent + 1)
    expect(v.cancelsHeld).toBe(1)
    // a ban: a query is not sent either (nothing reported: the lifecycle asks again when it is next due)
    governor.observe({endpoint: 'GET /fapi/v3/positionRisk', status: 418, at: clock.now(), latencyMs: 1, venueCode: -1003, retryAfterMs: 60_000})
    v.queryOrder('mm-eth10000-b-0')
    await new Promise((r) => setImmediate(r))
    expect(stub.requests.length).toBe(sent + 1)
    expect(reports.length).toBe(2)
    clock.advance(60_000)
    v.queryOrder('mm-eth10000-b-0')
    await until(() => reports.length === 3, 'the query after the ban')
    expect(reports[2]).toMatchObject({type: 'query', clientOrderId: 'mm-eth10000-b-0', found: true, status: 'CANCELED'})
    await gw.close()
  })

  describe('a user-stream gap: a fill of ours the stream never told, below a later one the new stream told (fills-gap)', () => {
    const LC = {ackTimeoutMs: 200, recvWindowMs: 5000, cancelAttempts: 3}
    type Trade = {id: number; orderId: number; symbol: string; side: string; price: string; qty: string; commission: string; commissionAsset: string; realizedPnl: string; maker: boolean; time: number}
    const trade = (id: number, orderId: number, side: string, price: string, fee: string, rp: string, time = clock.now() + id): Trade => ({id, orderId, symbol: 'ETHUSDC', side, price, qty: '0.010', commission: fee, commissionAsset: 'USDC', realizedPnl: rp, maker: true, time})
    /** an ORDER_TRADE_UPDATE of a fill (TRADE, FILLED) as the stream tells it */
    const told = (c: string, t: Trade) => parseUserEvent({e: 'ORDER_TRADE_UPDATE', E: t.time, T: t.time, o: {s: 'ETHUSDC', c, S: t.side, o: 'LIMIT', f: 'GTX', q: t.qty, p: t.price, x: 'TRADE', X: 'FILLED', i: t.orderId, l: t.qty, z: t.qty, L: t.price, n: t.commission, N: 'USDC', T: t.time, t: t.id, m: true, rp: t.realizedPnl}})
    const placed = (c: string, side: string, orderId: number) => parseUserEvent({e: 'ORDER_TRADE_UPDATE', E: 4, T: 4, o: {s: 'ETHUSDC', c, S: side, o: 'LIMIT', f: 'GTX', q: '0.010', p: '3000.00', x: 'NEW', X: 'NEW', i: orderId, l: '0', z: '0', L: '0', n: '0', N: 'USDC', T: 4, t: 0, m: false}})
    /** userTrades as Binance filters it: fromId and startTime inclusive, the oldest `limit` */
    const userTrades = (tape: readonly Trade[], r: StubRequest) => {
      const fromId = r.params.get('fromId')
      const startTime = r.params.get('startTime')
      const list = tape.filter((t) => (fromId === null || t.id >= Number(fromId)) && (startTime === null || t.time >= Number(startTime))).sort((a, b) => a.id - b.id)
      return {body: list.slice(0, Number(r.params.get('limit') ?? 500))}
    }
    const reads = () => stub.requests.filter((r) => r.path === '/fapi/v1/userTrades').map((r) => r.params.get('fromId') ?? `t${r.params.get('startTime')}`)

    it("the reconnect's audit failed (5xx): the next audit's drift read starts at the gap, books the untold fill's fee and realised PnL exactly, then reads from the cursor again", async () => {
      // the adapter's own read of the gap waits a minute here (the reads below are the test's)
      const v = venue({unseenFillDelayMs: 60_000})
      const t11 = trade(11, 1, 'BUY', '3000.00', '0.006', '0')
      const t12 = trade(12, 2, 'SELL', '3010.00', '0.00602', '0.10000000')
      const t13 = trade(13, 3, 'SELL', '3012.00', '0.006024', '0.12000000')
      const tape = [t11, t12, t13]
      let venuePos = '0.010'
      let riskDown = false
      stub.handler = (r) => {
        if (r.path === '/fapi/v1/userTrades') return userTrades(tape, r)
        if (r.path === '/fapi/v1/openOrders') return {body: []}
        if (r.path === '/fapi/v3/positionRisk') return riskDown ? {status: 500, body: {code: -1000, msg: 'An unknown error occured while processing the request.'}} : {body: [{symbol: 'ETHUSDC', positionSide: 'BOTH', positionAmt: venuePos, entryPrice: '3000', markPrice: '3000.00', unRealizedProfit: '0', liquidationPrice: '0', updateTime: 1}]}
        return undefined
      }
      // the stream tells b-1's fill (trade 11) and the two asks resting
      v.onUserEvent(told('mm-eth10000-b-1', t11), 10)
      v.onUserEvent(placed('mm-eth10000-s-2', 'SELL', 2), 11)
      v.onUserEvent(placed('mm-eth10000-s-3', 'SELL', 3), 12)
      // the stream drops; s-2 fills in the gap (trade 12: no event ever); the stream comes back
      venuePos = '0.000'
      v.noteStreamResync()
      // the reconnect's audit fails (HTTP 500 on positionRisk): nothing read back
      riskDown = true
      await expect(v.audit({working: [], position: 10, graceMs: 1000})).rejects.toThrow()
      riskDown = false
      // the held events applied: the new stream tells s-3's fill (trade 13), past the untold 12
      venuePos = '-0.010'
      v.onUserEvent(told('mm-eth10000-s-3', t13), 20)
      // the next audit: ours 0 (10 − 10), the venue's −10: the drift's read-back starts at the gap
      const res = await v.audit({working: [], position: 0, graceMs: 1000})
      expect(res.findings).toEqual([{kind: 'position_drift', venue: -10, own: 0}])
      expect(res.fillsRecovered).toBe(1)
      expect(reads()).toEqual(['12'])
      // the run's ledger (every report through the lifecycle) equals the venue's trades exactly (before: 2 fills, fees 0.012024, realised 0.12)
      let lc = initLifecycle()
      for (const r of reports) lc = reduceLifecycle(lc, {type: 'report', t: 30, report: r}, LC).state
      expect(lc.position).toMatchObject({net: -10, fills: 3, fees: '0.018044', venueRealised: '0.22', lastTradeId: '13'})
      // the gap is read: the next read starts after the cursor again
      expect(await v.recoverFills()).toBe(0)
      expect(reads()).toEqual(['12', '14'])
      v.stop()
      await gw.close()
    })

    it('no trade reported before the gap: the read starts at this run (by time), not after the trade the new stream told', async () => {
      // the adapter's own read of the gap waits a minute here (the reads below are the test's)
      const v = venue({unseenFillDelayMs: 60_000})
      const t0 = clock.now()
      const t12 = trade(12, 2, 'SELL', '3010.00', '0.00602', '0.1')
      const t13 = trade(13, 3, 'SELL', '3012.00', '0.006024', '0.12')
      stub.handler = (r) => (r.path === '/fapi/v1/userTrades' ? userTrades([t12, t13], r) : undefined)
      v.onUserEvent(placed('mm-eth10000-s-2', 'SELL', 2), 11)
      v.onUserEvent(placed('mm-eth10000-s-3', 'SELL', 3), 12)
      v.noteStreamResync()
      v.onUserEvent(told('mm-eth10000-s-3', t13), 20)
      reports = []
      expect(await v.recoverFills()).toBe(1)
      expect(reports.map((r) => (r.type === 'fill' ? [r.clientOrderId, r.fill.tradeId, r.fill.fee, r.fill.realised] : r.type))).toEqual([['mm-eth10000-s-2', '12', '0.00602', '0.1']])
      expect(await v.recoverFills()).toBe(0)
      expect(reads()).toEqual([`t${t0 - 60_000}`, '14'])
      v.stop()
      await gw.close()
    })

    it('a read begun before the stream came back does not clear the gap: the next read still starts there', async () => {
      // the adapter's own read of the gap waits a minute here (the reads below are the test's)
      const v = venue({unseenFillDelayMs: 60_000})
      const t11 = trade(11, 1, 'BUY', '3000.00', '0.006', '0')
      const t12 = trade(12, 2, 'SELL', '3010.00', '0.00602', '0.1')
      const t13 = trade(13, 3, 'SELL', '3012.00', '0.006024', '0.12')
      const tape = [t11]
      v.onUserEvent(told('mm-eth10000-b-1', t11), 10)
      v.onUserEvent(placed('mm-eth10000-s-2', 'SELL', 2), 11)
      v.onUserEvent(placed('mm-eth10000-s-3', 'SELL', 3), 12)
      let first = true
      stub.handler = (r) => {
        if (r.path !== '/fapi/v1/userTrades') return undefined
        const a = userTrades(tape, r)
        // the venue answered this read before trade 12; the stream comes back before the answer arrives
        if (first) {
          first = false
          tape.push(t12, t13)
          v.noteStreamResync()
        }
        return a
      }
      reports = []
      expect(await v.recoverFills()).toBe(0)
      v.onUserEvent(told('mm-eth10000-s-3', t13), 20)
      expect(await v.recoverFills()).toBe(1)
      expect(reports.map((r) => (r.type === 'fill' ? r.fill.tradeId : r.type))).toEqual(['13', '12'])
      expect(reads()).toEqual(['12', '12'])
      v.stop()
      await gw.close()
    })

    it('a gap of more than one page: 1000 trades a page, at most 5 pages a read; the next read goes on where it stopped, then from the cursor', async () => {
      // the adapter's own read of the gap waits a minute here (the reads below are the test's)
      const v = venue({unseenFillDelayMs: 60_000})
      const t11 = trade(11, 1, 'BUY', '3000.00', '0.006', '0')
      // 5500 fills of order 2 in the gap (trades 12…5511), untold; the new stream tells trade 5512 of order 3
      const tape: Trade[] = [t11]
      for (let id = 12; id <= 5511; id++) tape.push({...trade(id, 2, 'SELL', '3010.00', '0.00001', '0.00000001'), qty: '0.001'})
      const last = trade(5512, 3, 'SELL', '3012.00', '0.006024', '0.12')
      tape.push(last)
      stub.handler = (r) => (r.path === '/fapi/v1/userTrades' ? userTrades(tape, r) : undefined)
      v.onUserEvent(told('mm-eth10000-b-1', t11), 10)
      v.onUserEvent(placed('mm-eth10000-s-2', 'SELL', 2), 11)
      v.noteStreamResync()
      v.onUserEvent(told('mm-eth10000-s-3', last), 20)
      reports = []
      expect(await v.recoverFills()).toBe(5000)
      expect(reads()).toEqual(['12', '1012', '2012', '3012', '4012'])
      expect(await v.recoverFills()).toBe(500)
      expect(reads().slice(5)).toEqual(['5012'])
      expect(await v.recoverFills()).toBe(0)
      expect(reads().slice(6)).toEqual(['5513'])
      const ids = reports.map((r) => (r.type === 'fill' ? Number(r.fill.tradeId) : -1))
      expect(ids).toEqual(Array.from({length: 5500}, (_, i) => 12 + i))
      v.stop()
      await gw.close()
    })

    // review6: reads held (a 429 back-off of 20 s) when the stream came back. Before, the gap
    // read spent its tries at 1 s while held and gave up; the next audit read trades only on a
    // position difference, and a bid's and an ask's fills lost in the gap net out: both stayed
    // unbooked for the run (0 of 2)
    it('reads held when the stream comes back: the next audit reads the gap, though the position shows nothing', async () => {
      const problems: string[] = []
      const governor = new RateGovernor()
      // the adapter's own gap read a minute off: this is the audit's read alone
      const v = venue({governor, unseenFillDelayMs: 60_000, onProblem: (m) => problems.push(m)})
      const t11 = trade(11, 1, 'BUY', '3000.00', '0.006', '0')
      const t12 = trade(12, 2, 'SELL', '3010.00', '0.00602', '0.1')
      const t13 = trade(13, 3, 'BUY', '3001.00', '0.006002', '0.09')
      const pos = {symbol: 'ETHUSDC', positionSide: 'BOTH', positionAmt: '0.010', entryPrice: '3000', markPrice: '3000.00', unRealizedProfit: '0', liquidationPrice: '0', updateTime: 1}
      stub.handler = (r) => (r.path === '/fapi/v1/userTrades' ? userTrades([t11, t12, t13], r) : r.path === '/fapi/v1/openOrders' ? {body: []} : r.path === '/fapi/v3/positionRisk' ? {body: [pos]} : undefined)
      v.onUserEvent(told('mm-eth10000-b-1', t11), 10)
      for (const [c, side, id] of [['mm-eth10000-s-2', 'SELL', 2], ['mm-eth10000-b-3', 'BUY', 3]] as const) v.onUserEvent(placed(c, side, id), 11)
      reports = []
      governor.observe({endpoint: 'GET /fapi/v3/positionRisk', status: 429, at: clock.now(), latencyMs: 1, venueCode: -1003, retryAfterMs: 20_000})
      v.noteStreamResync()
      expect(v.gapReadPending).toBe(true)
      clock.advance(30_000)
      const res = await v.audit({working: [], position: 10, graceMs: 1000})
      expect(res.findings).toEqual([])
      expect(res.fillsRecovered).toBe(2)
      expect(reports.map((r) => (r.type === 'fill' ? [r.clientOrderId, r.fill.tradeId, r.fill.fee, r.fill.realised] : r.type))).toEqual([
        ['mm-eth10000-s-2', '12', '0.00602', '0.1'],
        ['mm-eth10000-b-3', '13', '0.006002', '0.09'],
      ])
      // read past the gap: the next audit reads nothing
      const again = await v.audit({working: [], position: 10, graceMs: 1000})
      expect(again.fillsRecovered).toBe(0)
      expect(stub.requests.filter((r) => r.path === '/fapi/v1/userTrades').length).toBe(1)
      v.stop()
    })

    // review6: the gap's read stopped at an order lookup that failed (a 5xx). Before, it
    // counted as read: nothing read on from there, and the fills past it (netting) stayed
    // unbooked for the run, while the message said "tried again at the next audit"
    it('a gap read that stops at a failed order lookup reads on from it a second later', async () => {
      const problems: string[] = []
      const v = venue({unseenFillDelayMs: 20, onProblem: (m) => problems.push(m)})
      const t11 = trade(11, 1, 'BUY', '3000.00', '0.006', '0')
      const t12 = trade(12, 50, 'SELL', '3010.00', '0.00602', '0.1')
      const t13 = trade(13, 2, 'SELL', '3010.00', '0.00602', '0.1')
      const t14 = trade(14, 3, 'BUY', '3001.00', '0.006002', '0.09')
      let lookups = 0
      stub.handler = (r) => {
        if (r.path === '/fapi/v1/userTrades') return userTrades([t11, t12, t13, t14], r)
        if (r.path === '/fapi/v1/order' && r.method === 'GET') {
          lookups++
          return lookups === 1 ? {status: 500, body: {code: -1000, msg: 'An unknown error occured while processing the request.'}} : {body: {symbol: 'ETHUSDC', orderId: 50, clientOrderId: 'web_abc', price: '3010.00', origQty: '0.010', executedQty: '0.010', avgPrice: '3010', status: 'FILLED', timeInForce: 'GTC', type: 'LIMIT', side: 'SELL', reduceOnly: false, updateTime: 1}}
        }
        return undefined
      }
      v.onUserEvent(told('mm-eth10000-b-1', t11), 10)
      for (const [c, side, id] of [['mm-eth10000-s-2', 'SELL', 2], ['mm-eth10000-b-3', 'BUY', 3]] as const) v.onUserEvent(placed(c, side, id), 11)
      reports = []
      v.noteStreamResync()
      await until(() => reports.length === 2 && !v.gapReadPending && !v.readBackPending, 'the gap read on past the failed lookup', 5000)
      expect(reports.map((r) => (r.type === 'fill' ? [r.clientOrderId, r.fill.tradeId] : r.type))).toEqual([
        ['mm-eth10000-s-2', '13'],
        ['mm-eth10000-b-3', '14'],
      ])
      expect([v.gapReads, lookups]).toEqual([2, 2])
      expect(problems[0]).toMatch(/^reading back fills: the order of trade 12 could not be looked up \(.*HTTP 500.*\); read again from it at the next read-back \(the next audit at the latest\)$/)
      v.stop()
    })

    it('the adapter reads the gap itself once the stream is back (no audit, no answer, no position difference needed), tried again after a failure, then no more', async () => {
      const problems: string[] = []
      const v = venue({unseenFillDelayMs: 20, onProblem: (m) => problems.push(m)})
      const t11 = trade(11, 1, 'BUY', '3000.00', '0.006', '0')
      const t12 = trade(12, 2, 'SELL', '3010.00', '0.00602', '0.1')
      const t13 = trade(13, 3, 'BUY', '3001.00', '0.006002', '0.09')
      const t14 = trade(14, 4, 'SELL', '3012.00', '0.006024', '0.11')
      let fail = 1
      stub.handler = (r) => {
        if (r.path !== '/fapi/v1/userTrades') return undefined
        if (fail-- > 0) return {status: 500, body: {code: -1000, msg: 'An unknown error occured while processing the request.'}}
        return userTrades([t11, t12, t13, t14], r)
      }
      v.onUserEvent(told('mm-eth10000-b-1', t11), 10)
      for (const [c, side, id] of [['mm-eth10000-s-2', 'SELL', 2], ['mm-eth10000-b-3', 'BUY', 3], ['mm-eth10000-s-4', 'SELL', 4]] as const) v.onUserEvent(placed(c, side, id), 11)
      reports = []
      // trades 12 and 13 in the gap (never told: the position shows nothing), 14 told by the new stream
      v.noteStreamResync()
      v.onUserEvent(told('mm-eth10000-s-4', t14), 20)
      await until(() => v.gapReads === 2 && !v.readBackPending && reports.length === 3, 'the gap read twice', 5000)
      expect(reports.map((r) => (r.type === 'fill' ? [r.clientOrderId, r.fill.tradeId, r.fill.fee, r.fill.realised] : r.type))).toEqual([
        ['mm-eth10000-s-4', '14', '0.006024', '0.11'],
        ['mm-eth10000-s-2', '12', '0.00602', '0.1'],
        ['mm-eth10000-b-3', '13', '0.006002', '0.09'],
      ])
      expect(reads()).toEqual(['12', '12'])
      expect(problems).toEqual([expect.stringMatching(/^reading back the fills of a user-stream gap failed: .* \(tried again\)$/), 'the user stream came back after a gap: 2 fill(s) it did not tell read back from userTrades'])
      // the gap is read: no read waits
      await until(() => !v.gapReadPending, 'no gap read pending', 1000)
      expect(v.gapReads).toBe(2)
      v.stop()
      await gw.close()
    })

    it('a gap not read before 20,000 later fills were reported is left (a read from there could report a forgotten trade twice); said once', async () => {
      const problems: string[] = []
      const v = venue({unseenFillDelayMs: 60_000, onProblem: (m) => problems.push(m)})
      const t11 = trade(11, 1, 'BUY', '3000.00', '0.006', '0')
      stub.handler = (r) => (r.path === '/fapi/v1/userTrades' ? userTrades([], r) : undefined)
      v.onUserEvent(told('mm-eth10000-b-1', t11), 10)
      v.noteStreamResync()
      for (let id = 13; id < 13 + 20_000; id++) v.onUserEvent(told(`mm-eth10000-b-${id}`, trade(id, id, 'BUY', '3000.00', '0.006', '0')), 20)
      expect(await v.recoverFills()).toBe(0)
      expect(reads()).toEqual(['20013'])
      expect(problems).toEqual(['a user-stream gap was not read back before 20000 later fills: a fill it lost is booked by the next start'])
      v.stop()
      await gw.close()
    })
  })
})
