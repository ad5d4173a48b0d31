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

/** DELETE /fapi/v1/batchOrders takes at most 10 ids (as the venue adapter sends them) */
const BATCH_CANCEL_MAX = 10

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
    const one = (id: string) => gw.build('DELETE', '/fapi/v1/order', [['symbol', symbol], ['origClientOrderId', id]], 'SIGNED')
    if (!batchCancels || cancels.length < 2) {
      for (const id of cancels) one(id)
      return built + cancels.length
    }
    for (let k = 0; k < cancels.length; k += BATCH_CANCEL_MAX) {
      const chunk = cancels.slice(k, k + BATCH_CANCEL_MAX)
      if (chunk.length === 1) one(chunk[0])
      else gw.build('DELETE', '/fapi/v1/batchOrders', [['symbol', symbol], ['origClientOrderIdList', JSON.stringify(chunk)]], 'SIGNED')
      built++
    }
    return built
  }
}
