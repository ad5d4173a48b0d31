/**
 * Order vocabulary shared by the decision core, the venues and the engine.
 * Prices in integer ticks, quantities in integer steps.
 */
import type {Steps, Ticks} from './instrument.js'

export type OrderSide = 'BUY' | 'SELL'
/** GTX = post-only (Binance "Good Till Crossing"); the gateway sends exactly what is chosen. */
export type TimeInForce = 'GTX' | 'GTC' | 'IOC'
export type Layer = 'dynamic' | 'static' | 'reduce' | 'flatten'

/** An order the core wants working. `slot` names its role (e.g. `dyn:BUY:0`) so intents can be matched to working orders. */
export interface OrderIntent {
  slot: string
  side: OrderSide
  price: Ticks
  qty: Steps
  tif: TimeInForce
  reduceOnly: boolean
  layer: Layer
  /**
   * `mm sim` only: a MARKET order sent as an IOC at the far end of the price range. Binance checks
   * a MARKET order's notional at the mark, which the sim has done, not at that far price.
   */
  market?: true
}

export type OrderStatus = 'PENDING_NEW' | 'NEW' | 'PARTIALLY_FILLED' | 'PENDING_CANCEL'

/** An order the venue holds (or that is in flight to it). */
export interface WorkingOrder extends OrderIntent {
  clientOrderId: string
  /** steps already filled */
  filled: Steps
  status: OrderStatus
  /** ms, when it was sent */
  sentAt: number
}

export type OrderAction =
  | {type: 'cancel'; clientOrderId: string; slot: string; reason: string}
  | {type: 'place'; clientOrderId: string; order: OrderIntent}

export interface Fill {
  clientOrderId: string
  side: OrderSide
  price: Ticks
  qty: Steps
  /** true when our order was the resting (maker) side */
  maker: boolean
  /** fee in quote currency as an exact decimal string; negative = rebate */
  fee: string
  /** ms */
  ts: number
  tradeId: string
  /**
   * The venue's realised profit of this trade before fees, quote currency decimal string
   * (Binance `rp` of ORDER_TRADE_UPDATE, `realizedPnl` of userTrades). Live only: the
   * ledger's realised PnL is the sum of these; absent off the venue (paper, replay).
   */
  realised?: string
}
