/**
 * The start-up warm-up's venue step (src/lib/engine/warmup.ts): the signed REST request of
 * an order action built exactly as the Binance venue builds it (the place's parameters
 * from the intent's ticks and steps, `orderParams`, `BinanceGateway.build`: recvWindow,
 * timestamp, HMAC-SHA256, form body or query) and dropped. Nothing is sent, nothing is
 * kept or logged: the signature never leaves this function.
 */
import type {Instrument} from '../../domain/instrument.js'
import type {OrderAction} from '../../domain/orders.js'
import {type BinanceGateway, orderParams} from './gateway.js'
import type {StpMode} from './rest-types.js'

export function gatewayWarmBuild(gw: BinanceGateway, inst: Instrument, stp: StpMode): (a: OrderAction) => void {
  const symbol = inst.symbol
  return (a) => {
    if (a.type === 'place') {
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
    } else {
      gw.build('DELETE', '/fapi/v1/order', [['symbol', symbol], ['origClientOrderId', a.clientOrderId]], 'SIGNED')
    }
  }
}
