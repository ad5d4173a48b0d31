/**
 * The venue adapter reads positionRisk's liquidationPrice and markPrice (at each audit)
 * into ticks for the §4.6 liquidation-distance rule, and says which strays it cancelled.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {VirtualClock} from '../../src/lib/clock/clock.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import {BinanceGateway} from '../../src/lib/venue/binance/gateway.js'
import {Credentials} from '../../src/lib/venue/binance/signer.js'
import {BinanceVenue} from '../../src/lib/venue/binance/venue.js'
import {BinanceStub} from '../support/binance-stub.js'

const INST = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})
const SECRET = 'stubsecret-0123456789'
let stub: BinanceStub
let liq = '2912.34567'
const open = [{symbol: 'ETHUSDC', orderId: 7, clientOrderId: 'mm-eth1zzzz-b-0', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', status: 'NEW', price: '2900.00', origQty: '0.010', executedQty: '0', avgPrice: '0', reduceOnly: false, updateTime: 5}]

beforeAll(async () => {
  stub = new BinanceStub(SECRET)
  await stub.start()
  stub.handler = (r) => {
    if (r.path === '/fapi/v1/openOrders') return {body: open.filter((o) => o.status === 'NEW')}
    if (r.path === '/fapi/v3/positionRisk') return {body: [{symbol: 'ETHUSDC', positionSide: 'BOTH', positionAmt: '0.010', entryPrice: '3000', markPrice: '3000.00', unRealizedProfit: '0', liquidationPrice: liq, updateTime: 1}]}
    if (r.path === '/fapi/v1/order' && r.method === 'DELETE') {
      open[0].status = 'CANCELED'
      return {body: open[0]}
    }
    if (r.path === '/fapi/v1/userTrades') return {body: []}
    return undefined
  }
})
afterAll(() => stub.stop())

describe('venue adapter: liquidation price from positionRisk', () => {
  it('audit keeps liquidation and mark in ticks (liquidation rounded down), 0 = none; strays it cancelled are listed', async () => {
    const gw = new BinanceGateway({baseUrl: stub.url, credentials: new Credentials('stubkey-0123456789', SECRET), timeoutMs: 2000})
    const v = new BinanceVenue({gateway: gw, instrument: INST, clock: new VirtualClock(1000), sink: {push: () => {}}, stp: 'EXPIRE_MAKER', isOurs: (id) => id.startsWith('mm-')})
    expect([v.liquidationTicks, v.markTicks]).toEqual([0, 0])
    const res = await v.audit({working: [], position: 10, graceMs: 1000})
    expect([v.liquidationTicks, v.markTicks]).toEqual([291234, 300000])
    expect(res.strayCancelled).toEqual(['mm-eth1zzzz-b-0'])
    liq = '0'
    await v.audit({working: [], position: 10, graceMs: 1000})
    expect([v.liquidationTicks, v.markTicks]).toEqual([0, 300000])
    // unreadable values are no reading (never a throw)
    v.setLiquidation('-5', 'abc')
    expect([v.liquidationTicks, v.markTicks]).toEqual([0, 300000])
    // the mark price stream's (or a re-read's) mark moves the rule's mark between audits; none keeps it
    v.setMark('3100.005')
    expect(v.markTicks).toBe(310000)
    v.setMark('0.00000000')
    expect(v.markTicks).toBe(310000)
    await gw.close()
  })
})
