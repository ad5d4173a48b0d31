/**
 * The one reader of Binance USDⓈ-M market-data JSON (a parsed payload → MarketEvent), used
 * by the live stream client and by the raw-capture reader, so a message means the same
 * thing live and in replay:
 *
 *  - `depthUpdate` → DepthEvent; the bare REST depth snapshot (`lastUpdateId`, not from a
 *    stream) → SnapshotEvent; `trade`/`aggTrade` → TradeEvent; `bookTicker` (or a payload
 *    with string `b`/`a` and no `e`) → TickerEvent;
 *  - any other message → the string key it is counted under (its `e`, else its stream);
 *  - a message of a known kind with a missing or mistyped field throws MarketParseError,
 *    whose message names the field (the caller adds where it came from).
 *
 * Event times (`ts`) are the venue's `T` where present, else `E`, in µs; prices and
 * quantities stay the venue's strings (the book turns them into ticks and steps).
 */
import type {DepthEvent, Level, MarketEvent, SnapshotEvent, TickerEvent, TradeEvent} from '../../market/events.js'

export class MarketParseError extends Error {}

function fail(msg: string): never {
  throw new MarketParseError(msg)
}

function num(o: Record<string, unknown>, k: string): number {
  const v = o[k]
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`field ${k} is not a number`)
  return v
}

function optNum(o: Record<string, unknown>, k: string): number | undefined {
  const v = o[k]
  return typeof v === 'number' ? v : undefined
}

function str(o: Record<string, unknown>, k: string): string {
  const v = o[k]
  if (typeof v !== 'string') fail(`field ${k} is not a string`)
  return v
}

function levels(o: Record<string, unknown>, k: string): Level[] {
  const v = o[k]
  if (!Array.isArray(v)) fail(`field ${k} is not an array of levels`)
  for (let i = 0; i < v.length; i++) {
    const l = v[i]
    if (!Array.isArray(l) || typeof l[0] !== 'string' || typeof l[1] !== 'string') fail(`${k}[${i}] is not a [price, qty] pair of strings`)
  }
  return v as Level[]
}

/** venue time in µs: T where present, else E, else `fallback` */
function venueTs(o: Record<string, unknown>, fallback: number): number {
  const t = optNum(o, 'T') ?? optNum(o, 'E')
  return t === undefined ? fallback : t * 1000
}

/**
 * One payload (unwrapped from its combined-stream envelope; `stream` its name when it had
 * one) → a MarketEvent, or the key it is skipped under. `symbol` names a bare snapshot,
 * which carries no symbol of its own.
 */
export function parseMarketPayload(o: Record<string, unknown>, stream: string | undefined, localTs: number, symbol?: string): MarketEvent | string {
  if (stream === undefined && 'lastUpdateId' in o) {
    const ev: SnapshotEvent = {
      kind: 'snapshot',
      symbol: typeof o.symbol === 'string' ? o.symbol : symbol ?? '',
      ts: venueTs(o, localTs),
      localTs,
      lastUpdateId: num(o, 'lastUpdateId'),
      bids: levels(o, 'bids'),
      asks: levels(o, 'asks'),
    }
    return ev
  }
  const e = o.e
  switch (e) {
    case 'depthUpdate': {
      const ev: DepthEvent = {
        kind: 'depth', symbol: str(o, 's'), ts: venueTs(o, localTs), localTs,
        U: num(o, 'U'), u: num(o, 'u'), pu: optNum(o, 'pu'), bids: levels(o, 'b'), asks: levels(o, 'a'),
      }
      // Tardis dates a book row by the event time E (the recorder writes it; the loop runs on T)
      const E = optNum(o, 'E')
      if (E !== undefined) ev.eventTs = E * 1000
      return ev
    }
    case 'trade':
    case 'aggTrade': {
      const id = e === 'trade' ? o.t : o.a
      if (typeof id !== 'number' && typeof id !== 'string') fail(`${e} without an id`)
      const m = o.m
      if (typeof m !== 'boolean') fail('field m is not a boolean')
      const ev: TradeEvent = {kind: 'trade', symbol: str(o, 's'), ts: venueTs(o, localTs), localTs, id: String(id), side: m ? 'sell' : 'buy', price: str(o, 'p'), qty: str(o, 'q')}
      return ev
    }
    case 'bookTicker':
      return ticker(o, localTs)
    case undefined:
      if (typeof o.b === 'string' && typeof o.a === 'string' && typeof o.s === 'string') return ticker(o, localTs)
  }
  return typeof e === 'string' ? e : stream ?? 'unknown'
}

function ticker(o: Record<string, unknown>, localTs: number): TickerEvent {
  return {
    kind: 'ticker', symbol: str(o, 's'), ts: venueTs(o, localTs), localTs, u: optNum(o, 'u'),
    bidPrice: str(o, 'b'), bidQty: str(o, 'B'), askPrice: str(o, 'a'), askQty: str(o, 'A'),
  }
}

/** A `markPriceUpdate` (`<symbol>@markPrice[@1s]`, FACTS.md §3.1): the venue's mark, as its string. */
export interface MarkPriceUpdate {
  symbol: string
  /** the event time E, µs (`localTs` when absent) */
  ts: number
  /** `p`: a plain positive decimal (checked here) */
  markPrice: string
}

/**
 * The mark price stream's payload → its symbol, time and mark; kept apart from
 * parseMarketPayload (a mark is no MarketEvent: the book, the recorder and replay never
 * see one). A payload that is not a markPriceUpdate, or whose `s` is not a string or whose
 * `p` is not a plain decimal above zero (missing, a number, "", "0.00000000", "-1", "1e3"),
 * throws MarketParseError naming the field: a mark that cannot be right moves no band.
 */
export function parseMarkPriceUpdate(o: Record<string, unknown>, localTs: number): MarkPriceUpdate {
  if (o.e !== 'markPriceUpdate') fail('not a markPriceUpdate')
  const symbol = str(o, 's')
  const p = o.p
  if (typeof p !== 'string' || !/^\d+(\.\d+)?$/.test(p) || /^0+(\.0*)?$/.test(p)) fail(`field p is not a positive decimal (${String(JSON.stringify(p)).slice(0, 40)})`)
  const E = optNum(o, 'E')
  return {symbol, ts: E !== undefined && Number.isFinite(E) ? E * 1000 : localTs, markPrice: p}
}
