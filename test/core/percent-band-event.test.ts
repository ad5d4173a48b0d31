/**
 * SPEC §5 telemetry with PERCENT_PRICE (live): the `strategy_adjust` line shows the prices
 * sent. The core clamps the strategy's intents into the band of the mark (a BUY no higher
 * than `maxBuyTicks`, a SELL no lower than `minSellTicks`). Before, it clamped them after
 * the strategy had made its change key and its event: the line showed the price before the
 * clamp, one never sent (ask 300004 while the SELL left at the floor 300008), and a band
 * that moved alone (a new mark, a new clamped price) wrote no line. Now the quote is
 * clamped before the key and the event: bid/ask (and bidPrice/askPrice) are the sent
 * prices, `clampedFrom` names the side's price before the clamp, and a band move that
 * re-prices an order is a changed quote. No band (dry-run, replay): no change.
 */
import {describe, expect, it} from 'vitest'
import {type Decision, decide, type DecideInput, prepareCore} from '../../src/lib/core/decide.js'
import type {OrderAction, WorkingOrder} from '../../src/lib/domain/orders.js'
import type {VenueRisk} from '../../src/lib/risk/types.js'
import type {StrategyAdjustEvent} from '../../src/lib/strategy/types.js'
import {book, coreCfg, INST, pos, running} from '../risk/support.js'

const B = book(299995, 300005, {tsMs: 1000})
const band = (maxBuyTicks: number | null, minSellTicks: number | null): VenueRisk => ({maxBuyTicks, minSellTicks})
const adjusts = (d: Decision): StrategyAdjustEvent[] => d.events.filter((e): e is StrategyAdjustEvent => e.type === 'strategy_adjust' && e.bid !== undefined)
/** the logged figures of a quote line */
const shown = (e: StrategyAdjustEvent) => ({reason: e.reason, bid: e.bid, ask: e.ask, bidPrice: e.bidPrice, askPrice: e.askPrice, clampedFrom: e.clampedFrom})
const places = (d: Decision) => d.actions.flatMap((a) => (a.type === 'place' ? [[a.order.slot, a.order.side, a.order.price]] : []))
function rest(acts: OrderAction[]): WorkingOrder[] {
  return acts.flatMap((a) => (a.type === 'place' ? [{...a.order, clientOrderId: a.clientOrderId, filled: 0, status: 'NEW' as const, sentAt: 0}] : []))
}

describe('§5 strategy_adjust shows the prices sent inside the PERCENT_PRICE band', () => {
  const table: Array<{name: string; cfg?: Parameters<typeof coreCfg>[0]; input: Partial<DecideInput>; venue: VenueRisk; sent: Array<[string, string, number]>; line: ReturnType<typeof shown>}> = [
    {
      name: 'v2 reduce_only, long 31: the reducing SELL (304 → floor 308) is logged at the floor',
      input: {position: pos(31)},
      venue: band(300020, 300008),
      sent: [['reduce:SELL:0', 'SELL', 300008]],
      line: {reason: 'quote', bid: null, ask: 300008, bidPrice: null, askPrice: '3000.08', clampedFrom: {ask: 300004}},
    },
    {
      name: 'v2 reduce_only market close (IOC through the book): the IOC at the best bid 299995 is logged at the floor 300000',
      cfg: {risk: {reduceOnlyMarketTriggerPct: 0.01}},
      input: {position: pos(31, 290000)},
      venue: band(300020, 300000),
      sent: [['ioc:SELL:0', 'SELL', 300000]],
      line: {reason: 'reduce_ioc', bid: null, ask: 300000, bidPrice: null, askPrice: '3000.00', clampedFrom: {ask: 299995}},
    },
    {
      name: 'naive, flat: the bid (299850) above the cap 299800 is logged at the cap, the ask inside the band as it is',
      cfg: {strategy: {kind: 'naive'}},
      input: {position: pos(0)},
      venue: band(299800, 1),
      sent: [['dyn:BUY:0', 'BUY', 299800], ['dyn:SELL:0', 'SELL', 300150]],
      line: {reason: 'quote', bid: 299800, ask: 300150, bidPrice: '2998.00', askPrice: '3001.50', clampedFrom: {bid: 299850}},
    },
    {
      name: 'a band the quote sits inside: no clampedFrom, the prices as quoted',
      input: {position: pos(31)},
      venue: band(300020, 299990),
      sent: [['reduce:SELL:0', 'SELL', 300004]],
      line: {reason: 'quote', bid: null, ask: 300004, bidPrice: null, askPrice: '3000.04', clampedFrom: undefined},
    },
  ]

  it.each(table)('$name', ({cfg, input, venue, sent, line}) => {
    const {ctx, state} = prepareCore(coreCfg(cfg), INST, 'b')
    const d = decide({...state, risk: running()}, {nowMs: 1000, book: B, position: pos(0), working: [], ...input, venue}, ctx)
    expect(places(d)).toEqual(sent)
    expect(adjusts(d).map(shown)).toEqual([line])
  })

  it('without a band (dry-run, replay) the line has no clampedFrom key', () => {
    const {ctx, state} = prepareCore(coreCfg(), INST, 'b')
    const d = decide({...state, risk: running()}, {nowMs: 1000, book: B, position: pos(31), working: []}, ctx)
    expect(adjusts(d).map((e) => [e.ask, 'clampedFrom' in e])).toEqual([[300004, false]])
  })

  it('a band that moves alone (the mark rose: floor 308 → 310) re-prices the SELL and writes a line with the new price', () => {
    const {ctx, state} = prepareCore(coreCfg(), INST, 'b')
    const d1 = decide({...state, risk: running()}, {nowMs: 1000, book: B, position: pos(31), working: [], venue: band(300020, 300008)}, ctx)
    const w = rest(d1.actions)
    // the same floor: nothing changes, no line
    const same = decide(d1.state, {nowMs: 1100, book: B, position: pos(31), working: w, venue: band(300020, 300008)}, ctx)
    expect([same.actions, adjusts(same)]).toEqual([[], []])
    const d2 = decide(d1.state, {nowMs: 1100, book: B, position: pos(31), working: w, venue: band(300020, 300010)}, ctx)
    expect(d2.actions.map((a) => (a.type === 'cancel' ? ['cancel', a.slot] : ['place', a.order.slot, a.order.price]))).toEqual([['cancel', 'reduce:SELL:0']])
    expect(adjusts(d2).map(shown)).toEqual([{reason: 'quote', bid: null, ask: 300010, bidPrice: null, askPrice: '3000.10', clampedFrom: {ask: 300004}}])
  })
})
