/**
 * The sim's order semantics on a controlled clock (no timers, no sockets): the contract
 * the live client is proven against. Latency 25 ms in, 25 ms out (paper defaults).
 */
import {describe, expect, it} from 'vitest'
import {VirtualClock} from '../../src/lib/clock/clock.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import type {MarketEvent} from '../../src/lib/market/events.js'
import {manualTimers, SimExchange} from '../../src/lib/venue/sim/exchange.js'
import {ApiError} from '../../src/lib/venue/sim/signing.js'
import {settle} from '../support/settle.js'

const inst = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5', quoteAsset: 'USDC', marginAsset: 'USDC'})

function setup(balance?: string) {
  const clock = new VirtualClock(1_000_000)
  const events: any[] = []
  const ex = new SimExchange({instruments: [inst], clock, wall: clock, timers: manualTimers, onUserEvent: (e) => events.push(e), ...(balance ? {balance} : {})})
  const feed = (ev: Partial<MarketEvent> & {kind: MarketEvent['kind']}) => {
    const ms = clock.now()
    ex.onMarket({symbol: 'ETHUSDC', ts: ms * 1000, localTs: ms * 1000, ...ev} as MarketEvent)
  }
  const step = (ms: number) => {
    clock.advance(ms)
    ex.advanceTo(clock.now())
  }
  feed({kind: 'snapshot', bids: [['3000.00', '1.000'], ['2999.99', '2.000']], asks: [['3000.10', '0.005'], ['3000.11', '2.000']]})
  const p = (o: Record<string, string>) => new Map(Object.entries({symbol: 'ETHUSDC', ...o}))
  const updates = (id: number) => events.filter((e) => e.e === 'ORDER_TRADE_UPDATE' && e.o.i === id).map((e) => [e.o.x, e.o.X, e.o.l, e.o.z, e.o.er])
  return {clock, ex, feed, step, p, events, updates}
}


describe('sim exchange order semantics', () => {
  it('an IOC takes what the book shows up to its price: ACK answers NEW, the stream says NEW, TRADE (partial), EXPIRED er 2', async () => {
    const {ex, step, p, updates} = setup()
    const ack = await settle(ex.newOrder(p({side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', price: '3000.10', quantity: '0.010'})), step)
    expect(ack).toMatchObject({status: 'NEW', executedQty: '0.000'})
    expect(updates(ack.orderId as number)).toEqual([['NEW', 'NEW', '0', '0.000', '0'], ['TRADE', 'PARTIALLY_FILLED', '0.005', '0.005', '0'], ['EXPIRED', 'EXPIRED', '0', '0.005', '2']])
    const res = await settle(ex.newOrder(p({side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', price: '3000.10', quantity: '0.010', newOrderRespType: 'RESULT'})), step)
    // no market impact (the paper venue's rule): the level is still shown
    expect(res).toMatchObject({status: 'EXPIRED', executedQty: '0.005', avgPrice: '3000.1', cumQuote: '15.0005'})
    expect(ex.positionRisk(3)[0]).toMatchObject({positionAmt: '0.01', entryPrice: '3000.1'})
  })

  it('a MARKET order is checked for notional at the mark, not at the far price it takes the book with: a SELL fills, a too-small one is -4164', async () => {
    const {ex, step, p} = setup()
    // 0.005 × ~3000 = 15 ≥ 5: fills at the bid (before, the paper check saw 0.005 × 0.01 and refused it)
    const sell = await settle(ex.newOrder(p({side: 'SELL', type: 'MARKET', quantity: '0.005', newOrderRespType: 'RESULT'})), step)
    expect(sell).toMatchObject({status: 'FILLED', executedQty: '0.005', avgPrice: '3000', cumQuote: '15'})
    const buy = await settle(ex.newOrder(p({side: 'BUY', type: 'MARKET', quantity: '0.005', newOrderRespType: 'RESULT'})), step)
    expect(buy).toMatchObject({status: 'FILLED', executedQty: '0.005', avgPrice: '3000.1'})
    // 0.001 × ~3000 = 3 < 5 at the mark
    const small = await settle(ex.newOrder(p({side: 'SELL', type: 'MARKET', quantity: '0.001'})), step).then(() => 0, (e: ApiError) => e.code)
    expect(small).toBe(-4164)
  })

  it('positionRisk gives a cross-margin liquidation estimate: (E·q − W) / (q·0.995) long, (E·|q| + W) / (|q|·1.005) short, 0 when none', async () => {
    const {ex, step, p} = setup('10')
    expect(ex.positionRisk(2)[0]).toMatchObject({positionAmt: '0', liquidationPrice: '0'})
    await settle(ex.newOrder(p({side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', price: '3000.10', quantity: '0.005'})), step)
    // long 0.005 at 3000.1; taker fee 0.0005 × 15.0005 = 0.00750025 → wallet 9.99249975
    // (15.0005 − 9.99249975) / (0.005 × 0.995) = 5.00800025 / 0.004975 = 1006.6332160804…
    expect(ex.positionRisk(3)[0]).toMatchObject({positionAmt: '0.005', entryPrice: '3000.1', liquidationPrice: '1006.63321608'})
    // the sim's default wallet (10000) covers any fall: no liquidation price for a long
    const big = setup()
    await settle(big.ex.newOrder(big.p({side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', price: '3000.10', quantity: '0.005'})), big.step)
    expect(big.ex.positionRisk(3)[0]).toMatchObject({liquidationPrice: '0'})
    // a short 0.005 at 3000.00 with wallet 10: fee 0.0075 → 9.9925; (15 + 9.9925) / (0.005 × 1.005) = 24.9925 / 0.005025 = 4973.6318407960… (8 decimals, rounded down)
    const s = setup('10')
    await settle(s.ex.newOrder(s.p({side: 'SELL', type: 'LIMIT', timeInForce: 'IOC', price: '3000.00', quantity: '0.005'})), s.step)
    expect(s.ex.positionRisk(3)[0]).toMatchObject({positionAmt: '-0.005', liquidationPrice: '4973.63184079'})
  })

  it('a resting order fills as maker on a trade through; a cancel that arrives after the fill is -2011 and the order stays FILLED', async () => {
    const {ex, feed, step, p, updates, clock} = setup()
    const o = await settle(ex.newOrder(p({side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', price: '2999.99', quantity: '0.010', newClientOrderId: 'rest-1'})), step)
    expect(o).toMatchObject({status: 'NEW', clientOrderId: 'rest-1'})
    const cancel = ex.cancelOrder(p({origClientOrderId: 'rest-1'})).then(() => 'canceled', (e: ApiError) => e.code)
    clock.advance(5)
    feed({kind: 'trade', id: '1', side: 'sell', price: '2999.98', qty: '1.000'})
    step(100)
    expect(await cancel).toBe(-2011)
    expect(ex.queryOrder(p({origClientOrderId: 'rest-1'}))).toMatchObject({status: 'FILLED', executedQty: '0.010', avgPrice: '2999.99'})
    expect(updates(o.orderId as number)).toEqual([['NEW', 'NEW', '0', '0.000', '0'], ['TRADE', 'FILLED', '0.010', '0.010', '0']])
    expect(ex.userTrades(p({}))[0]).toMatchObject({maker: true, price: '2999.99', qty: '0.010', commission: '0.00599998', realizedPnl: '0'})
  })

  it('modify keeps the id and filled part and re-queues; a new quantity at or below the filled part cancels; GTX modified to cross is cancelled with -5022', async () => {
    const {ex, feed, step, p, updates, clock} = setup()
    const o = await settle(ex.newOrder(p({side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '2999.99', quantity: '0.010'})), step)
    // 2.000 ahead of us; a sell trade of 2.004 at our price fills 0.004
    clock.advance(5)
    feed({kind: 'trade', id: '1', side: 'sell', price: '2999.99', qty: '2.004'})
    expect(ex.queryOrder(p({orderId: String(o.orderId)}))).toMatchObject({status: 'PARTIALLY_FILLED', executedQty: '0.004'})
    const m = await settle(ex.modifyOrder(p({orderId: String(o.orderId), side: 'BUY', price: '2999.98', quantity: '0.008'})), step)
    expect(m).toMatchObject({orderId: o.orderId, price: '2999.98', origQty: '0.008', executedQty: '0.004', status: 'PARTIALLY_FILLED'})
    const same = await ex.modifyOrder(p({orderId: String(o.orderId), side: 'BUY', price: '2999.98', quantity: '0.008'})).then(() => 0, (e: ApiError) => e.code)
    expect(same).toBe(-5027)
    const cut = await settle(ex.modifyOrder(p({orderId: String(o.orderId), side: 'BUY', price: '2999.98', quantity: '0.004'})), step)
    expect(cut).toMatchObject({status: 'CANCELED', executedQty: '0.004'})
    expect(updates(o.orderId as number).map((u) => u[0])).toEqual(['NEW', 'TRADE', 'AMENDMENT', 'CANCELED'])

    const g = await settle(ex.newOrder(p({side: 'SELL', type: 'LIMIT', timeInForce: 'GTX', price: '3000.20', quantity: '0.010'})), step)
    const crossed = await settle(ex.modifyOrder(p({orderId: String(g.orderId), side: 'SELL', price: '3000.00', quantity: '0.010'})), step).then(() => 0, (e: ApiError) => e.code)
    expect(crossed).toBe(-5022)
    expect(ex.queryOrder(p({orderId: String(g.orderId)}))).toMatchObject({status: 'CANCELED'})
  })

  it('refusals before the engine: -4116 while open, -4164, -1102, -1111; a -5022 is not recorded', async () => {
    const {ex, step, p} = setup()
    const code = (x: Promise<unknown>) => settle(x, step).then(() => 0, (e: ApiError) => e.code)
    await settle(ex.newOrder(p({side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', price: '2999.00', quantity: '0.010', newClientOrderId: 'dup'})), step)
    expect(await code(ex.newOrder(p({side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', price: '2999.00', quantity: '0.010', newClientOrderId: 'dup'})))).toBe(-4116)
    expect(await code(ex.newOrder(p({side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', price: '2999.00', quantity: '0.001'})))).toBe(-4164)
    expect(await code(ex.newOrder(p({side: 'BUY', type: 'LIMIT', price: '2999.00', quantity: '0.010'})))).toBe(-1102)
    expect(await code(ex.newOrder(p({side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', price: '2999.005', quantity: '0.010'})))).toBe(-1111)
    expect(await code(ex.newOrder(p({side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', price: '2999.00', quantity: '0.0105'})))).toBe(-1111)
    expect(await code(ex.newOrder(p({side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', price: '3000.10', quantity: '0.010', newClientOrderId: 'cross'})))).toBe(-5022)
    expect(() => ex.queryOrder(p({origClientOrderId: 'cross'}))).toThrow(ApiError)
    expect(ex.openOrders('ETHUSDC').length).toBe(1)
  })

  it('allOrders pages as Binance documents (FACTS §2.3): limit default 500, at most 1000, from an orderId or startTime the oldest, else the most recent; 0 or malformed is -1130', async () => {
    const {ex, step, p, clock} = setup()
    const ids: number[] = []
    // 503 orders, one a millisecond, each cancelled at once (MAX_NUM_ORDERS counts open ones only)
    for (let i = 0; i < 503; i++) {
      const o = await settle(ex.newOrder(p({side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', price: '2000.00', quantity: '0.010', newClientOrderId: `ao-${i}`})), step)
      await settle(ex.cancelOrder(p({orderId: String(o.orderId)})), step)
      ids.push(o.orderId as number)
      clock.advance(1)
    }
    const got = (q: Record<string, string>) => ex.allOrders(p(q)).map((o) => o.orderId)
    // before: every order ever, however many
    expect(got({})).toEqual(ids.slice(-500))
    expect(got({limit: '3'})).toEqual(ids.slice(-3))
    expect(got({limit: '5000'})).toEqual(ids)
    expect(got({orderId: String(ids[10]), limit: '2'})).toEqual([ids[10], ids[11]])
    expect(got({orderId: String(ids[500])})).toEqual(ids.slice(500))
    const t5 = ex.allOrders(p({orderId: String(ids[5]), limit: '1'}))[0].time as number
    expect(got({startTime: String(t5), limit: '2'})).toEqual([ids[5], ids[6]])
    expect(got({endTime: String(t5), limit: '2'})).toEqual([ids[4], ids[5]])
    for (const bad of [{limit: '0'}, {limit: 'x'}, {orderId: '-1'}, {startTime: '1.5'}] as Array<Record<string, string>>) expect(() => ex.allOrders(p(bad))).toThrow(expect.objectContaining({code: -1130}))
  })

  it("parameter and modify refusals carry Binance's codes ([ERR]): -5039 STP mode, -1136 newOrderRespType, -1115 timeInForce, -4060 positionSide, -5025 modify of a MARKET, -5029 modify under MIN_NOTIONAL, -5043 a modify pending", async () => {
    const {ex, step, p} = setup()
    const code = (x: Promise<unknown>) => settle(x, step).then(() => 0, (e: ApiError) => [e.code, e.message])
    const gtx = {side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', price: '2999.00', quantity: '0.010'}
    expect(await code(ex.newOrder(p({...gtx, selfTradePreventionMode: 'EXPIRE_SOMETHING'})))).toEqual([-5039, 'Invalid self trade prevention mode'])
    expect(await code(ex.newOrder(p({...gtx, newOrderRespType: 'FULL'})))).toEqual([-1136, 'Invalid newOrderRespType.'])
    expect(await code(ex.newOrder(p({...gtx, timeInForce: 'GTD2'})))).toEqual([-1115, 'Invalid timeInForce.'])
    expect(await code(ex.newOrder(p({...gtx, positionSide: 'MIDDLE'})))).toEqual([-4060, 'Invalid position side.'])
    // what mm sends on every order passes: each STP mode
    for (const m of ['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH']) expect(await settle(ex.newOrder(p({...gtx, selfTradePreventionMode: m})), step)).toMatchObject({status: 'NEW'})
    const mkt = await settle(ex.newOrder(p({side: 'SELL', type: 'MARKET', quantity: '0.005', newOrderRespType: 'RESULT'})), step)
    expect(await code(ex.modifyOrder(p({orderId: String(mkt.orderId), side: 'SELL', price: '3000.00', quantity: '0.005'})))).toEqual([-5025, 'Only limit order is supported.'])
    const o = await settle(ex.newOrder(p({...gtx, newClientOrderId: 'mod-1'})), step)
    // 0.001 × 2999.00 = 2.999 < 5: refused, the order stays as it was
    expect(await code(ex.modifyOrder(p({origClientOrderId: 'mod-1', side: 'BUY', price: '2999.00', quantity: '0.001'})))).toEqual([-5029, "Order's notional must be no smaller than 5"])
    expect(ex.queryOrder(p({orderId: String(o.orderId)}))).toMatchObject({status: 'NEW', origQty: '0.010'})
    // a second modify while the first is on its way: -5043
    const first = ex.modifyOrder(p({origClientOrderId: 'mod-1', side: 'BUY', price: '2998.00', quantity: '0.010'}))
    expect(await code(ex.modifyOrder(p({origClientOrderId: 'mod-1', side: 'BUY', price: '2997.00', quantity: '0.010'})))).toEqual([-5043, 'A pending modification already exists for this order.'])
    expect(await settle(first, step)).toMatchObject({price: '2998.00', status: 'NEW'})
  })
})
