/**
 * Live `mm quote --order-transport ws|rest` (docs/live.md, "Order transport"): with `ws`,
 * place / cancel / query go over the WebSocket API (venue/binance/ws-orders.ts) while it is
 * connected and over the REST gateway otherwise. Each switch is said once on the operator
 * channel and recorded as an `order_transport` risk_event (info: the risk mode is unchanged).
 * Everything else (start-up reads, the audit, cancel-all, the dead-man's switch, the
 * listenKey) stays on REST.
 */
import type {Engine} from '../engine/engine.js'
import type {BinanceGateway} from '../venue/binance/gateway.js'
import type {RateGovernor} from '../venue/binance/rate-governor.js'
import type {Credentials} from '../venue/binance/signer.js'
import {OrderRouter, type OrderTransport, type OrderTransportName, type RouterSwitch, WsOrderApi} from '../venue/binance/ws-orders.js'

export interface OrderTransportSetup {
  kind: OrderTransportName
  /** the WebSocket API URL (ws only) */
  url: string
  /** what the venue adapter calls (undefined: the REST gateway) */
  orders?: OrderTransport
  /** the engine exists: switches said before it are recorded now, later ones as they come */
  attach(engine: Engine): void
  /** where orders go now, and the calls sent each way */
  status(): {transport: OrderTransportName; ws: number; rest: number; switches: number}
  stop(): Promise<void>
}

export async function startOrderTransport(o: {
  kind: OrderTransportName
  url: string
  gateway: BinanceGateway
  credentials: Credentials
  recvWindowMs: number
  timeoutMs: number
  governor: RateGovernor
  say: (m: string) => void
}): Promise<OrderTransportSetup> {
  if (o.kind === 'rest') {
    return {kind: 'rest', url: o.url, attach() {}, status: () => ({transport: 'rest', ws: 0, rest: 0, switches: 0}), stop: async () => {}}
  }
  const gw = o.gateway
  const ws = new WsOrderApi({
    url: o.url,
    credentials: o.credentials,
    recvWindowMs: o.recvWindowMs,
    timeoutMs: o.timeoutMs,
    offsetMs: () => gw.timeOffsetMs,
    resyncTime: () => gw.syncTime('timestamp-error'),
    onAnswer: (a) => o.governor.observe(a),
  })
  let engine: Engine | undefined
  const early: RouterSwitch[] = []
  let switches = 0
  const note = (s: RouterSwitch) => {
    switches++
    o.say(s.to === 'rest' ? `orders over REST: ${s.reason}; back on the WebSocket API once it reconnects` : `orders back on the WebSocket API (${o.url})`)
    if (engine) record(engine, s)
    else early.push(s)
  }
  const router = new OrderRouter(ws, gw, note)
  const up = await ws.start()
  if (up) o.say(`orders over the WebSocket API ${o.url}`)
  return {
    kind: 'ws',
    url: o.url,
    orders: router,
    attach(e) {
      engine = e
      for (const s of early.splice(0)) record(e, s)
    },
    status: () => ({transport: router.transport, ws: router.sent.ws, rest: router.sent.rest, switches}),
    stop: () => ws.stop(),
  }
}

function record(e: Engine, s: RouterSwitch): void {
  e.noteRiskEvent('order_transport', {transport: s.to}, s.reason)
}
