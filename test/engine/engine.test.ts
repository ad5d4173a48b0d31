/**
 * The engine loop against a scripted venue: what it sends, how each kind of venue report
 * changes its orders, position and log, and the clean stop. Virtual clock only.
 */
import {Decimal} from 'decimal.js'
import {describe, expect, it} from 'vitest'
import {VirtualClock} from '../../src/lib/clock/clock.js'
import {defaultConfig, resolveConfig} from '../../src/lib/config/index.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import type {OrderAction} from '../../src/lib/domain/orders.js'
import {Engine} from '../../src/lib/engine/engine.js'
import type {Level, MarketEvent} from '../../src/lib/market/events.js'
import type {RunEvent} from '../../src/lib/telemetry/run-events.js'
import {PaperVenue} from '../../src/lib/venue/paper/index.js'
import {ReportQueue, type Venue} from '../../src/lib/venue/types.js'

const inst = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5'})
const BIDS: Level[] = [['2000.00', '1.000'], ['1999.99', '2.000']]
const ASKS: Level[] = [['2000.01', '1.000'], ['2000.02', '2.000']]
const snapshot = (ms: number): MarketEvent => ({kind: 'snapshot', symbol: 'ETHUSDC', ts: ms * 1000, localTs: ms * 1000, bids: BIDS, asks: ASKS})

function setup() {
  const clock = new VirtualClock(1000)
  const reports = new ReportQueue()
  const sent: OrderAction[] = []
  const queries: string[] = []
  const venue: Venue = {submit: (a) => void sent.push(a), queryOrder: (id) => void queries.push(id)}
  const log: RunEvent[] = []
  const c = defaultConfig()
  const core = resolveConfig({...c, strategy: {...c.strategy, baseSize: '0.010'}}, inst)
  const engine = new Engine({instrument: inst, core, venue, reports, clock, log: (e) => void log.push(e), runId: 'test', mode: 'replay'})
  const set = (ms: number) => clock.set(ms)
  return {clock, reports, sent, queries, log, engine, set}
}

function workingIds(engine: Engine): string[] {
  return (engine.checkpoint().workingOrders as Array<{clientOrderId: string}>).map((w) => w.clientOrderId)
}

function places(sent: OrderAction[]) {
  return sent.filter((a): a is Extract<OrderAction, {type: 'place'}> => a.type === 'place')
}

describe('engine loop', () => {
  it('quotes both sides post-only once the book is whole', () => {
    const {engine, sent, log} = setup()
    engine.onMarket(snapshot(1000))
    const p = places(sent)
    expect(p.map((a) => [a.order.side, a.order.tif, a.order.qty, a.order.reduceOnly])).toEqual([
      ['BUY', 'GTX', 10, false],
      ['SELL', 'GTX', 10, false],
    ])
    expect(p[0].order.price).toBeLessThan(200_001)
    expect(p[1].order.price).toBeGreaterThan(200_000)
    expect(log[0].type).toBe('run_start')
    expect(log.filter((e) => e.type === 'order').length).toBe(2)
  })

  it('a -5022 reject: counted, the dynamic order retried once at the same price without post-only', () => {
    const {engine, sent, reports, log, set} = setup()
    engine.onMarket(snapshot(1000))
    const buy = places(sent)[0]
    reports.push({type: 'reject', request: 'place', clientOrderId: buy.clientOrderId, code: -5022, msg: 'post only', ts: 1030, venueTs: 1020})
    engine.runUntil(1030, set)
    const retry = places(sent)[2]
    expect(retry.order).toEqual({...buy.order, tif: 'GTC'})
    expect(retry.clientOrderId).not.toBe(buy.clientOrderId)
    expect(sent.length).toBe(3) // the retry stands until the next refresh: nothing cancelled
    expect(log.some((e) => e.type === 'strategy_adjust' && (e as {reason?: string}).reason === 'post_only_reject')).toBe(true)
    expect(log.find((e) => e.type === 'reject')).toEqual({type: 'reject', t: 1030, clientOrderId: buy.clientOrderId, code: -5022, msg: 'post only'})
  })

  it.each([
    // position reached before the -5022 (steps), the retry's size (null: refused, re-quoted at once)
    [80, 10],
    [95, 5],
    [100, null],
  ])('the instant retry goes through decide: at %i steps long (netMax 100) the retry is %s', (net, qty) => {
    const c = defaultConfig()
    const core = resolveConfig({...c, strategy: {...c.strategy, baseSize: '0.010'}, risk: {...c.risk, reduceOnlyThreshold: 10}}, inst)
    const clock = new VirtualClock(1000)
    const reports = new ReportQueue()
    const sent: OrderAction[] = []
    const log: RunEvent[] = []
    const engine = new Engine({instrument: inst, core, venue: {submit: (a) => void sent.push(a), queryOrder: () => {}}, reports, clock, log: (e) => void log.push(e), runId: 'test', mode: 'replay'})
    engine.onMarket(snapshot(1000))
    const buy = places(sent)[0]
    // a fill of another (manual) order lands just before the BUY comes back -5022
    reports.push({type: 'fill', clientOrderId: 'manual', fill: {clientOrderId: 'manual', side: 'BUY', price: 199_000, qty: net, maker: true, fee: '0', ts: 1020, tradeId: 'm1'}, filled: net, leaves: 0, status: 'FILLED', ts: 1030, venueTs: 1020})
    reports.push({type: 'reject', request: 'place', clientOrderId: buy.clientOrderId, code: -5022, msg: 'post only', ts: 1030, venueTs: 1020})
    const before = sent.length
    engine.runUntil(1030, (ms) => clock.set(ms))
    // the first thing sent is the retry (or, refused, the full decision's orders)
    const first = sent[before]
    const retry = first?.type === 'place' && first.order.tif === 'GTC' && first.order.price === buy.order.price ? [first.order.side, first.order.qty] : null
    expect(retry).toEqual(qty === null ? null : ['BUY', qty])
    expect(engine.positionSteps).toBe(net)
    if (qty === 5) expect(log.some((e) => e.type === 'risk_event' && (e as {kind?: string}).kind === 'net_max')).toBe(true)
  })

  it('a fill moves the position, is logged with it, and is marked out after 1 s and 10 s', () => {
    const {engine, sent, reports, log, set} = setup()
    engine.onMarket(snapshot(1000))
    const buy = places(sent)[0]
    reports.push({type: 'ack', clientOrderId: buy.clientOrderId, side: 'BUY', price: buy.order.price, qty: 10, tif: 'GTX', reduceOnly: false, ts: 1030, venueTs: 1020})
    reports.push({type: 'fill', clientOrderId: buy.clientOrderId, fill: {clientOrderId: buy.clientOrderId, side: 'BUY', price: buy.order.price, qty: 4, maker: true, fee: '0.0016', ts: 1100, tradeId: 'x1'}, filled: 4, leaves: 6, status: 'PARTIALLY_FILLED', ts: 1110, venueTs: 1100})
    engine.runUntil(1110, set)
    expect(engine.positionSteps).toBe(4)
    const fill = log.find((e) => e.type === 'fill') as Extract<RunEvent, {type: 'fill'}>
    expect(fill).toMatchObject({t: 1110, side: 'BUY', price: inst.ticksToPrice(buy.order.price), qty: '0.004', maker: true, fee: '0.0016', position: '0.004', realised: '0', mid: '2000.005'})
    engine.runUntil(11_110, set)
    const m = log.filter((e) => e.type === 'markout') as Extract<RunEvent, {type: 'markout'}>[]
    expect(m.map((x) => [x.t, x.horizonMs, x.mid])).toEqual([[2110, 1000, '2000.005'], [11_110, 10_000, '2000.005']])
    // a buy: adverse = fill − mid (exact decimals); below an unchanged mid it is negative
    expect(m[0].adverse).toBe(new Decimal(inst.ticksToPrice(buy.order.price)).minus('2000.005').toString())
    expect(Number(m[0].adverse)).toBeLessThan(0)
  })

  it('a cancel answered -2011 keeps the order until a query ackTimeoutMs later says it is gone', () => {
    const {engine, sent, queries, reports, set, log} = setup()
    engine.onMarket(snapshot(1000))
    expect(engine.openOrders).toBe(2)
    for (const p of places(sent)) reports.push({type: 'ack', clientOrderId: p.clientOrderId, side: p.order.side, price: p.order.price, qty: 10, tif: 'GTX', reduceOnly: false, ts: 1030, venueTs: 1020})
    engine.runUntil(1030, set)
    engine.cancelAll('test')
    const c = sent.filter((a) => a.type === 'cancel')
    expect(c.length).toBe(2)
    reports.push({type: 'reject', request: 'cancel', clientOrderId: c[0].clientOrderId, code: -2011, msg: 'Unknown order sent.', ts: 1050, venueTs: 1040})
    reports.push({type: 'canceled', clientOrderId: c[1].clientOrderId, filled: 0, ts: 1050, venueTs: 1040})
    engine.beginStop()
    engine.runUntil(1050, set)
    expect(engine.openOrders).toBe(1)
    engine.runUntil(3049, set)
    expect(queries).toEqual([])
    engine.runUntil(3050, set)
    expect(queries).toEqual([c[0].clientOrderId])
    reports.push({type: 'query', clientOrderId: c[0].clientOrderId, found: false, ts: 3100, venueTs: 3090})
    engine.runUntil(3100, set)
    expect(engine.openOrders).toBe(0)
    expect(log.filter((e) => e.type === 'order_lifecycle').map((e) => [e.t, (e as {kind: string}).kind])).toEqual([[3050, 'in_doubt'], [3050, 'query'], [3100, 'settled']])
  })

  it('stopping: a cancel that beat its place to the venue (-2011), then a query finding the order live, is cancelled again', () => {
    const {engine, sent, queries, reports, set} = setup()
    engine.onMarket(snapshot(1000))
    const [buy, sell] = places(sent)
    // the stop comes while both places are still unanswered
    engine.beginStop()
    const stopCancels = sent.filter((a) => a.type === 'cancel').map((a) => a.clientOrderId)
    expect(stopCancels).toEqual([buy.clientOrderId, sell.clientOrderId])
    reports.push({type: 'reject', request: 'cancel', clientOrderId: buy.clientOrderId, code: -2011, msg: 'Unknown order sent.', ts: 1040, venueTs: 1030})
    reports.push({type: 'canceled', clientOrderId: sell.clientOrderId, filled: 0, ts: 1040, venueTs: 1030})
    reports.push({type: 'ack', clientOrderId: buy.clientOrderId, side: 'BUY', price: buy.order.price, qty: 10, tif: 'GTX', reduceOnly: false, ts: 1060, venueTs: 1050})
    engine.runUntil(1060, set)
    // refused and unsettled: no second cancel yet (no spin)
    expect(sent.filter((a) => a.type === 'cancel').length).toBe(2)
    engine.runUntil(3040, set)
    expect(queries).toEqual([buy.clientOrderId])
    reports.push({type: 'query', clientOrderId: buy.clientOrderId, found: true, status: 'NEW', filled: 0, venueOrderId: '1', ts: 3060, venueTs: 3050})
    engine.runUntil(3060, set)
    expect(sent.filter((a) => a.type === 'cancel').map((a) => a.clientOrderId)).toEqual([buy.clientOrderId, sell.clientOrderId, buy.clientOrderId])
    expect(places(sent).length).toBe(2) // nothing placed while stopping
    reports.push({type: 'canceled', clientOrderId: buy.clientOrderId, filled: 0, ts: 3080, venueTs: 3070})
    engine.runUntil(3080, set)
    expect(engine.openOrders).toBe(0)
  })

  it('-2011 then the racing fill: the fill still counts and ends the order', () => {
    const {engine, sent, reports, set, log} = setup()
    engine.onMarket(snapshot(1000))
    const buy = places(sent)[0]
    reports.push({type: 'ack', clientOrderId: buy.clientOrderId, side: 'BUY', price: buy.order.price, qty: 10, tif: 'GTX', reduceOnly: false, ts: 1030, venueTs: 1020})
    engine.runUntil(1030, set)
    engine.cancelAll('test')
    reports.push({type: 'reject', request: 'cancel', clientOrderId: buy.clientOrderId, code: -2011, msg: 'Unknown order sent.', ts: 1080, venueTs: 1070})
    reports.push({type: 'fill', clientOrderId: buy.clientOrderId, fill: {clientOrderId: buy.clientOrderId, side: 'BUY', price: buy.order.price, qty: 10, maker: true, fee: '0.004', ts: 1060, tradeId: 'r1'}, filled: 10, leaves: 0, status: 'FILLED', ts: 1090, venueTs: 1060})
    engine.beginStop()
    engine.runUntil(1085, set)
    expect(engine.openOrders).toBe(2) // the BUY is kept (pending cancel) beside the SELL
    engine.runUntil(1090, set)
    expect(engine.positionSteps).toBe(10)
    expect(log.filter((e) => e.type === 'fill').length).toBe(1)
    expect(engine.openOrders).toBe(1) // only the SELL is left
  })

  it('a duplicate fill report (stream and REST) is counted once', () => {
    const {engine, sent, reports, set, log} = setup()
    engine.onMarket(snapshot(1000))
    const buy = places(sent)[0]
    const f = {type: 'fill' as const, clientOrderId: buy.clientOrderId, fill: {clientOrderId: buy.clientOrderId, side: 'BUY' as const, price: buy.order.price, qty: 4, maker: true, fee: '0.0016', ts: 1100, tradeId: 'x1'}, filled: 4, leaves: 6, status: 'PARTIALLY_FILLED' as const, venueTs: 1100}
    reports.push({...f, ts: 1110})
    reports.push({...f, ts: 1130})
    engine.runUntil(1130, set)
    expect(engine.positionSteps).toBe(4)
    expect(log.filter((e) => e.type === 'fill').length).toBe(1)
    expect(log.filter((e) => e.type === 'order_lifecycle').map((e) => [e.t, (e as {kind: string}).kind])).toEqual([[1130, 'duplicate_fill']])
    expect(engine.lifecycleCounters.duplicateFills).toBe(1)
  })

  it('a lost cancel answer: the cancel is sent again after orders.ackTimeoutMs, then the order is queried, never placed twice', () => {
    const {engine, sent, queries, reports, set, log} = setup()
    engine.onMarket(snapshot(1000))
    const buy = places(sent)[0]
    reports.push({type: 'ack', clientOrderId: buy.clientOrderId, side: 'BUY', price: buy.order.price, qty: 10, tif: 'GTX', reduceOnly: false, ts: 1030, venueTs: 1020})
    engine.runUntil(1030, set)
    engine.beginStop()
    const before = sent.length
    // the SELL's ack and every cancel answer are lost
    engine.runUntil(3029, set)
    expect(sent.length).toBe(before)
    engine.runUntil(3030, set)
    const again = sent.slice(before)
    expect(again.map((a) => [a.type, a.clientOrderId, a.type === 'cancel' && a.reason])).toEqual([['cancel', buy.clientOrderId, 'recancel']])
    // the SELL was never acknowledged: its place is in doubt and queried, not re-sent
    expect(queries).toEqual([places(sent)[1].clientOrderId])
    engine.runUntil(7030, set)
    expect(sent.slice(before).filter((a) => a.type === 'cancel' && a.clientOrderId === buy.clientOrderId).length).toBe(2) // 3 cancels in all
    expect(queries.filter((q) => q === buy.clientOrderId).length).toBe(1)
    expect(places(sent).length).toBe(2)
    expect(log.filter((e) => e.type === 'order' && e.action === 'cancel' && e.reason === 'recancel').length).toBe(2)
    // the venue answers the query: CANCELED; the order is gone
    reports.push({type: 'query', clientOrderId: buy.clientOrderId, found: true, status: 'CANCELED', filled: 0, ts: 7040, venueTs: 7035})
    engine.runUntil(7040, set)
    expect(workingIds(engine)).not.toContain(buy.clientOrderId)
  })

  it('a lost book pauses and cancels at once; the whole book again is quoted at once, not at the next refresh', () => {
    const {engine, sent, reports, log, set} = setup()
    engine.onMarket(snapshot(1000))
    set(1100)
    engine.invalidateBook('feed gap')
    engine.runUntil(1100, set)
    expect(engine.riskState).toBe('paused')
    const cancels = sent.filter((a) => a.type === 'cancel')
    expect(cancels.length).toBe(2)
    for (const c of cancels) reports.push({type: 'canceled', clientOrderId: c.clientOrderId, filled: 0, ts: 1150, venueTs: 1140})
    engine.runUntil(1200, set)
    set(1200)
    engine.onMarket(snapshot(1200))
    expect(engine.riskState).toBe('normal')
    const placedAt = log.filter((e) => e.type === 'order' && e.action === 'place').map((e) => e.t)
    expect(placedAt).toEqual([1000, 1000, 1200, 1200])
  })

  it('finish: no decision after the stop, every order cancelled, run_end last', () => {
    const {engine, sent, reports, log, set} = setup()
    engine.onMarket(snapshot(1000))
    const ids = places(sent).map((p) => p.clientOrderId)
    engine.beginStop()
    // the venue answers each cancel 40 ms later
    for (const a of sent.filter((x) => x.type === 'cancel')) reports.push({type: 'canceled', clientOrderId: a.clientOrderId, filled: 0, ts: 1040, venueTs: 1020})
    const before = sent.length
    const s = engine.finish('test stop', (ms) => set(ms))
    expect(sent.length).toBe(before)
    expect(sent.filter((a) => a.type === 'cancel').map((a) => a.clientOrderId)).toEqual(ids)
    expect(engine.openOrders).toBe(0)
    expect(log[log.length - 1]).toEqual({type: 'run_end', t: 1040, reason: 'test stop', marketEvents: 1, resyncs: 0})
    expect(s.quotesPlaced).toBe(2)
    expect(s.quotesCancelled).toBe(2)
  })
})

describe('engine onDecide hook', () => {
  it('brackets every decision; the decision’s order actions are submitted inside it, the stop’s cancels outside', () => {
    const clock = new VirtualClock(1000)
    const reports = new ReportQueue()
    const trace: string[] = []
    const venue: Venue = {submit: (a) => void trace.push(a.type), queryOrder: () => void trace.push('query')}
    const c = defaultConfig()
    const core = resolveConfig({...c, strategy: {...c.strategy, baseSize: '0.010'}}, inst)
    const engine = new Engine({instrument: inst, core, venue, reports, clock, log: () => {}, runId: 'test', mode: 'replay', onDecide: (p) => void trace.push(p)})
    engine.onMarket(snapshot(1000))
    expect(trace).toEqual(['begin', 'place', 'place', 'end'])
    trace.length = 0
    engine.beginStop()
    expect(trace).toEqual(['cancel', 'cancel'])
  })
})

describe('engine hands a decision over at once to a venue that takes it so (submitAll)', () => {
  it("a decision's orders in one submitAll call, each recorded and logged as sent; the stop's cancels in one call too", () => {
    const clock = new VirtualClock(1000)
    const reports = new ReportQueue()
    const calls: string[][] = []
    const venue: Venue = {
      submit: () => void calls.push(['single']),
      submitAll: (as) => void calls.push(as.map((a) => `${a.type} ${a.clientOrderId}`)),
      queryOrder: () => {},
    }
    const c = defaultConfig()
    const core = resolveConfig({...c, strategy: {...c.strategy, baseSize: '0.010'}}, inst)
    const log: RunEvent[] = []
    const engine = new Engine({instrument: inst, core, venue, reports, clock, log: (e) => void log.push(e), runId: 'test', mode: 'replay'})
    engine.onMarket(snapshot(1000))
    expect(calls).toHaveLength(1)
    expect(calls[0].map((x) => x.split(' ')[0])).toEqual(['place', 'place'])
    const ids = calls[0].map((x) => x.split(' ')[1])
    expect(log.filter((e) => e.type === 'order').map((e) => (e as {clientOrderId: string}).clientOrderId)).toEqual(ids)
    expect(workingIds(engine)).toEqual(ids)
    calls.length = 0
    engine.beginStop()
    expect(calls).toEqual([ids.map((id) => `cancel ${id}`)])
    expect(log.filter((e) => e.type === 'order' && (e as {action: string}).action === 'cancel').map((e) => (e as {clientOrderId: string}).clientOrderId)).toEqual(ids)
  })
})

describe('engine loop with the paper venue (review regressions)', () => {
  function paperSetup() {
    const clock = new VirtualClock(1000)
    const reports = new ReportQueue()
    const venue = new PaperVenue({instrument: inst, clock, sink: reports})
    const c = defaultConfig()
    const core = resolveConfig({...c, strategy: {...c.strategy, baseSize: '0.010'}}, inst)
    const log: RunEvent[] = []
    const engine = new Engine({instrument: inst, core, venue, reports, clock, log: (e) => void log.push(e), runId: 'test', mode: 'replay', bookTime: 'venue'})
    const set = (ms: number) => clock.set(ms)
    const at = (ms: number, e: {kind: 'snapshot' | 'depth'; bids: Level[]; asks: Level[]}) => {
      engine.runUntil(ms, set)
      set(ms)
      engine.onMarket({symbol: 'ETHUSDC', ts: ms * 1000, localTs: ms * 1000, ...e} as MarketEvent)
    }
    return {engine, log, set, at}
  }

  it('no instant retry once a shock has halted quoting: the -5022 that arrives after the halt places nothing', () => {
    const {engine, log, set, at} = paperSetup()
    at(1000, {kind: 'snapshot', bids: [['2000.00', '5.000']], asks: [['2000.01', '5.000']]})
    // the market drops 1 % in 10 ms: the resting bid would now cross, and the engine halts
    at(1010, {kind: 'snapshot', bids: [['1979.99', '5.000']], asks: [['1980.00', '5.000']]})
    engine.runUntil(1200, set)
    expect(engine.riskState).toBe('halted')
    const gtc = log.filter((e) => e.type === 'order' && e.action === 'place' && e.tif === 'GTC')
    expect(gtc).toEqual([])
    expect(engine.positionSteps).toBe(0)
  })

  it('an off-grid level is refused by the sync (counted, resync) and never reaches the paper venue', () => {
    const {engine, at} = paperSetup()
    at(1000, {kind: 'snapshot', bids: [['2000.00', '1.000']], asks: [['2000.01', '1.000']]})
    expect(() => at(1001, {kind: 'depth', bids: [['2000.005', '1.000']], asks: []})).not.toThrow()
    expect(engine.badEvents).toBe(1)
    expect(engine.sync.counters.gridErrors).toBe(1)
  })
})
