/**
 * The start-up warm-up's venue step (src/lib/engine/warmup.ts): the signed REST requests of
 * a decision's actions built exactly as the Binance venue builds them (`submitAll`: a place
 * each, from the intent's ticks and steps through `orderParams`; two or more cancels as
 * one DELETE /fapi/v1/batchOrders of ≤ 10 ids when the venue batches, else one DELETE
 * /fapi/v1/order each) by `BinanceGateway.build` (recvWindow, timestamp, HMAC-SHA256, form
 * body or query), and dropped. Nothing is sent, kept or logged: the signature never leaves
 * this function. Returns the number of requests built.
 */
import type {Instrument} from '../../domain/instrument.js'
import type {OrderAction} from '../../domain/orders.js'
import {type BinanceGateway, orderParams} from './gateway.js'
import type {StpMode} from './rest-types.js'
import {cancelGroups} from './venue.js'

export function gatewayWarmBuild(gw: BinanceGateway, inst: Instrument, stp: StpMode, batchCancels: boolean): (actions: readonly OrderAction[]) => number {
  const symbol = inst.symbol
  return (actions) => {
    let built = 0
    const cancels: string[] = []
    for (const a of actions) {
      if (a.type === 'cancel') {
        cancels.push(a.clientOrderId)
        continue
      }
      const o = a.order
      gw.build('POST', '/fapi/v1/order', orderParams({
        symbol,
        side: o.side,
        type: 'LIMIT',
        timeInForce: o.tif,
        quantity: inst.stepsToQty(o.qty),
        price: inst.ticksToPrice(o.price),
        reduceOnly: o.reduceOnly || undefined,
        newClientOrderId: a.clientOrderId,
        selfTradePreventionMode: stp,
      }), 'SIGNED')
      built++
    }
    for (const g of cancelGroups(cancels, batchCancels)) {
      if (g.length === 1) gw.build('DELETE', '/fapi/v1/order', [['symbol', symbol], ['origClientOrderId', g[0]]], 'SIGNED')
      else gw.build('DELETE', '/fapi/v1/batchOrders', [['symbol', symbol], ['origClientOrderIdList', JSON.stringify(g)]], 'SIGNED')
      built++
    }
    return built
  }
}
