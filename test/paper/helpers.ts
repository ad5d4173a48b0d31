/** Shared fixtures for the paper-venue tests: a small ETHUSDC-like instrument, event builders, a venue on a virtual clock. */
import {VirtualClock} from '../../src/lib/clock/clock.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import type {OrderAction, OrderSide, TimeInForce} from '../../src/lib/domain/orders.js'
import type {Level, MarketEvent} from '../../src/lib/market/events.js'
import {type PaperVenueConfig, PaperVenue} from '../../src/lib/venue/paper/index.js'
import {ReportQueue, type VenueReport} from '../../src/lib/venue/types.js'

export const inst = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5'})

export const px = (p: string) => inst.priceToTicks(p)
export const qty = (q: string) => inst.qtyToSteps(q)

/** timestamps in the tests are ms; MarketEvents carry µs */
export const snap = (ms: number, bids: Level[], asks: Level[]): MarketEvent => ({kind: 'snapshot', symbol: 'ETHUSDC', ts: ms * 1000, localTs: ms * 1000, bids, asks})
export const depth = (ms: number, bids: Level[], asks: Level[]): MarketEvent => ({kind: 'depth', symbol: 'ETHUSDC', ts: ms * 1000, localTs: ms * 1000, bids, asks})
export const trade = (ms: number, side: 'buy' | 'sell', price: string, q: string, id = `t${ms}`): MarketEvent => ({kind: 'trade', symbol: 'ETHUSDC', ts: ms * 1000, localTs: ms * 1000, id, side, price, qty: q})

export function place(id: string, side: OrderSide, price: string, q: string, tif: TimeInForce = 'GTX', reduceOnly = false): OrderAction {
  return {type: 'place', clientOrderId: id, order: {slot: `test:${id}`, side, price: px(price), qty: qty(q), tif, reduceOnly, layer: reduceOnly ? 'reduce' : 'dynamic'}}
}

export const cancel = (id: string): OrderAction => ({type: 'cancel', clientOrderId: id, slot: `test:${id}`, reason: 'test'})

/**
 * Book used by most tests:
 *   asks 2000.02 × 0.050 | 2000.01 × 0.007 | 2000.00 × 0.005
 *   bids 1999.99 × 0.010 | 1999.98 × 0.020
 */
export const BIDS: Level[] = [['1999.99', '0.010'], ['1999.98', '0.020']]
export const ASKS: Level[] = [['2000.00', '0.005'], ['2000.01', '0.007'], ['2000.02', '0.050']]

export const TEST_CONFIG: Partial<PaperVenueConfig> = {entryLatencyMs: 10, responseLatencyMs: 5, makerFeeRate: '0.0002', takerFeeRate: '0.0005', queueModel: 'conservative'}

export function setup(opts: {config?: Partial<PaperVenueConfig>; position?: number; book?: boolean} = {}) {
  const clock = new VirtualClock(0)
  const reports = new ReportQueue()
  const venue = new PaperVenue({instrument: inst, clock, sink: reports, config: {...TEST_CONFIG, ...opts.config}, position: opts.position})
  if (opts.book !== false) venue.onMarket(snap(1, BIDS, ASKS))
  /** send an action at virtual time `ms` */
  const sendAt = (ms: number, a: OrderAction) => {
    clock.set(ms)
    venue.submit(a)
  }
  /** everything the strategy would ever learn, in delivery order */
  const all = (): VenueReport[] => reports.drain(Number.POSITIVE_INFINITY)
  const types = (rs: VenueReport[]) => rs.map((r) => r.type)
  return {clock, reports, venue, sendAt, all, types}
}
