/**
 * BinanceVenue.readBackAtStop (stop-readback): at a clean stop, the fills an answer showed
 * and the user stream did not tell are read back at once, before the run ends, instead of
 * being dropped with the delayed read-back (they then reached only the next start's
 * kill-fills read: this run's summary, run log and state.json missed them). Not during a
 * 418 ban or a 429 back-off; bounded in time. The e2e through bin/run.js:
 * test/e2e/live-stop-readback.test.ts.
 */
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {VirtualClock} from '../../src/lib/clock/clock.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import type {OrderIntent} from '../../src/lib/domain/orders.js'
import {BinanceGateway} from '../../src/lib/venue/binance/gateway.js'
import {RateGovernor} from '../../src/lib/venue/binance/rate-governor.js'
import {Credentials} from '../../src/lib/venue/binance/signer.js'
import {BinanceVenue} from '../../src/lib/venue/binance/venue.js'
import type {VenueReport} from '../../src/lib/venue/types.js'
import {BinanceStub, type StubRequest} from '../support/binance-stub.js'
import {until} from '../support/wait.js'

const INST = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})
const SECRET = 'stubsecret-0123456789'
const BID: OrderIntent = {slot: 'dyn:BUY:0', side: 'BUY', price: 300000, qty: 10, tif: 'GTX', reduceOnly: false, layer: 'dynamic'}
const ID = 'mm-eth10000-b-8'

let stub: BinanceStub
let gw: BinanceGateway
const clock = new VirtualClock(1_700_000_000_000)
let reports: VenueReport[]
let book: Map<string, Record<string, unknown>>
let tradesMode: 'ok' | 'hang'

beforeAll(async () => {
  stub = new BinanceStub(SECRET)
  await stub.start()
})
afterAll(() => stub.stop())
beforeEach(() => {
  stub.reset()
  reports = []
  book = new Map()
  tradesMode = 'ok'
  stub.handler = (r: StubRequest) => {
    const id = r.params.get('newClientOrderId') ?? r.params.get('origClientOrderId') ?? ''
    if (r.path === '/fapi/v1/order' && r.method === 'POST') {
      const p = r.params
      const a = {symbol: 'ETHUSDC', orderId: 1000, clientOrderId: id, side: p.get('side'), type: 'LIMIT', timeInForce: p.get('timeInForce'), status: 'NEW', price: p.get('price'), origQty: p.get('quantity'), executedQty: '0', avgPrice: '0', reduceOnly: false, updateTime: 5}
      book.set(id, a)
      return {body: a}
    }
    if (r.path === '/fapi/v1/order' && r.method === 'DELETE') {
      const o = book.get(id)
      if (!o || o.status !== 'NEW') return {status: 400, body: {code: -2011, msg: 'Unknown order sent.'}}
      o.status = 'CANCELED'
      return {body: o}
    }
    if (r.path === '/fapi/v1/userTrades') {
      if (tradesMode === 'hang') return {hang: true}
      return {body: [{id: 55, orderId: 1000, symbol: 'ETHUSDC', side: 'BUY', price: '3000.00', qty: '0.005', commission: '0.003', commissionAsset: 'USDC', realizedPnl: '0', maker: true, time: clock.now() + 9}]}
    }
    return undefined
  }
})

function venue(governor?: RateGovernor): BinanceVenue {
  gw = new BinanceGateway({baseUrl: stub.url, credentials: new Credentials('stubkey-0123456789', SECRET), timeoutMs: 2000})
  return new BinanceVenue({gateway: gw, instrument: INST, clock, sink: {push: (r) => reports.push(r)}, stp: 'EXPIRE_MAKER', governor, maxOpenOrders: 2, isOurs: (id) => id.startsWith('mm-'), unseenFillDelayMs: 60_000})
}

/** an order placed, then cancelled with an answer showing 0.005 executed that the stream never told: a read-back waits 60 s */
async function unseenAtCancel(v: BinanceVenue): Promise<void> {
  v.submit({type: 'place', clientOrderId: ID, order: BID})
  await until(() => reports.length === 1, 'ack')
  book.get(ID)!.executedQty = '0.005'
  v.submit({type: 'cancel', clientOrderId: ID, slot: 'dyn:BUY:0', reason: 'stop'})
  await until(() => reports.length === 2, 'canceled')
  expect(reports[1]).toMatchObject({type: 'canceled', filled: 5})
  expect(v.readBackPending).toBe(true)
}

const userTrades = () => stub.requests.filter((r) => r.path === '/fapi/v1/userTrades')

describe('BinanceVenue.readBackAtStop (stop-readback)', () => {
  it('reads the unseen fills back at once, not after the 60 s delay the stop used to drop', async () => {
    const v = venue()
    await unseenAtCancel(v)
    const r = await v.readBackAtStop(5000)
    expect(r).toEqual({pending: [ID], read: 1, left: []})
    expect(reports[2]).toMatchObject({type: 'fill', clientOrderId: ID, fill: {tradeId: '55', qty: 5, price: 300000, fee: '0.003'}})
    expect([v.readBackPending, v.unseenFillReadBacks, userTrades().length]).toEqual([false, 1, 1])
    // a second call has nothing left to read
    expect(await v.readBackAtStop(5000)).toEqual({pending: [], read: 0, left: []})
    expect(userTrades().length).toBe(1)
    await gw.close()
  })

  it('nothing unseen: nothing asked', async () => {
    const v = venue()
    v.submit({type: 'place', clientOrderId: ID, order: BID})
    await until(() => reports.length === 1, 'ack')
    expect(await v.readBackAtStop(5000)).toEqual({pending: [], read: 0, left: []})
    expect(userTrades()).toEqual([])
    await gw.close()
  })

  it('in a 429 back-off nothing is asked (a call would turn it into a ban): the ids are left, with the hold', async () => {
    const governor = new RateGovernor()
    const v = venue(governor)
    await unseenAtCancel(v)
    governor.observe({endpoint: 'GET /fapi/v3/positionRisk', status: 429, at: clock.now(), latencyMs: 1, venueCode: -1003, retryAfterMs: 20_000})
    const r = await v.readBackAtStop(5000)
    expect(r.pending).toEqual([ID])
    expect(r.left).toEqual([ID])
    expect(r.read).toBe(0)
    expect(r.held).toMatchObject({ban: false, until: clock.now() + 20_000})
    expect(userTrades()).toEqual([])
    expect(v.readBackPending).toBe(false)
    await gw.close()
  })

  it('bounded: a userTrades that never answers is left after boundMs', async () => {
    const v = venue()
    await unseenAtCancel(v)
    tradesMode = 'hang'
    const t0 = performance.now()
    const r = await v.readBackAtStop(300)
    const took = performance.now() - t0
    expect(r).toEqual({pending: [ID], read: 0, left: [ID], timedOut: true})
    expect(took).toBeGreaterThanOrEqual(250)
    expect(took).toBeLessThan(1500)
    await gw.close()
  })
})
