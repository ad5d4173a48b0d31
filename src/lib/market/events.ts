/**
 * The one market-event stream every source produces: the live WebSocket + REST snapshot,
 * the Tardis CSV reader and the raw capture reader (hftbacktest `<ts> <json>` lines).
 * Prices and quantities stay the venue's decimal strings here; the book converts them to
 * integer ticks/steps with the Instrument.
 *
 * Timestamps are integer microseconds since the epoch:
 *  - `ts`: the venue's time (depth/trade/ticker: `T` where present else `E`; snapshot: `T`/`E`);
 *    a depth message's `E` is kept apart too (`eventTs`, what a recording's `timestamp` holds)
 *  - `localTs`: when the message arrived at the receiver (recordings keep it)
 */
export type Level = [price: string, qty: string]

export interface SnapshotEvent {
  kind: 'snapshot'
  symbol: string
  ts: number
  localTs: number
  /** REST snapshot id; absent for Tardis snapshot rows (already in sync) */
  lastUpdateId?: number
  bids: Level[]
  asks: Level[]
}

export interface DepthEvent {
  kind: 'depth'
  symbol: string
  ts: number
  localTs: number
  /** Binance diff-depth ids; absent for Tardis update rows (already in sync) */
  U?: number
  u?: number
  pu?: number
  /**
   * the message's event time `E` (µs) when it had one: what Tardis writes as a book row's
   * `timestamp`, and so what `mm record` writes (`ts` stays `T` where present: the loop's clock)
   */
  eventTs?: number
  bids: Level[]
  asks: Level[]
}

export interface TradeEvent {
  kind: 'trade'
  symbol: string
  ts: number
  localTs: number
  id: string
  /** aggressor (taker) side; Binance `m` = true → the buyer was maker → 'sell' */
  side: 'buy' | 'sell'
  price: string
  qty: string
}

export interface TickerEvent {
  kind: 'ticker'
  symbol: string
  ts: number
  localTs: number
  /** book update id (shares the depth id space on USDⓈ-M) */
  u?: number
  bidPrice: string
  bidQty: string
  askPrice: string
  askQty: string
}

export type MarketEvent = SnapshotEvent | DepthEvent | TradeEvent | TickerEvent
