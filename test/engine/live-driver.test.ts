/**
 * The live driver acts on a venue report at once: a stub venue pushes a fill and, with
 * every timer frozen (vitest fake timers), the engine has applied it and decided again
 * before any timer fires. Stopping waits until no order is working, or a bound passes.
 */
import {EventEmitter} from 'node:events'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {SystemClock} from '../../src/lib/clock/clock.js'
import {defaultConfig, resolveConfig} from '../../src/lib/config/index.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import type {OrderAction} from '../../src/lib/domain/orders.js'
import {Engine} from '../../src/lib/engine/engine.js'
import {LiveDriver, type LiveMarketSource} from '../../src/lib/engine/live-driver.js'
import type {Level, MarketEvent} from '../../src/lib/market/events.js'
import type {RunEvent} from '../../src/lib/telemetry/run-events.js'
import {ReportQueue, type Venue} from '../../src/lib/venue/types.js'
import {answeringVenue} from '../support/answering-venue.js'

const inst = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5'})
const BIDS: Level[] = [['2000.00', '1.000'], ['1999.99', '2.000']]
const ASKS: Level[] = [['2000.01', '1.000'], ['2000.02', '2.000']]
const T0 = 1_800_000_000_000

class StubFeed extends EventEmitter implements LiveMarketSource {
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  stats() {
    return {resyncs: 0, reconnects: 0}
  }
}

type Place = Extract<OrderAction, {type: 'place'}>

function setup(venue: (sent: OrderAction[], reports: ReportQueue, clock: SystemClock) => Omit<Venue, 'queryOrder'>, driverOpts: {preWarmMs?: number} = {}) {
  const clock = new SystemClock()
  const reports = new ReportQueue()
  const sent: OrderAction[] = []
  const log: RunEvent[] = []
  const c = defaultConfig()
  const core = resolveConfig({...c, strategy: {...c.strategy, baseSize: '0.010'}}, inst)
  let decisions = 0
  const engine = new Engine({
    instrument: inst, core, venue: {queryOrder() {}, ...venue(sent, reports, clock)}, reports, clock, log: (e) => void log.push(e), runId: 'live', mode: 'dry-run', bookTime: 'local',
    onDecide: (p) => void (p === 'begin' && decisions++),
  })
  let stopWith: (why: string) => void = () => {}
  const stop = new Promise<string>((res) => (stopWith = res))
  const driver = new LiveDriver(engine, {clock, reports, stop, stopBoundMs: 2000, ...driverOpts})
  const feed = new StubFeed()
  const snapshot = (): MarketEvent => ({kind: 'snapshot', symbol: 'ETHUSDC', ts: clock.now() * 1000, localTs: clock.now() * 1000, bids: BIDS, asks: ASKS})
  return {clock, reports, sent, log, engine, driver, feed, snapshot, stopWith, decisions: () => decisions}
}

/** let pending promise callbacks and microtasks run (no timer moves) */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve()
}

describe('live driver', () => {
  beforeEach(() => {
    vi.useFakeTimers({toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date']})
    vi.setSystemTime(T0)
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('a fill pushed by the venue is applied and decided on at once, before any timer fires', async () => {
    const s = setup((sent) => ({submit: (a) => void sent.push(a), queryOrder: () => {}}))
    const done = s.driver.run(s.feed)
    await flush()
    s.feed.emit('event', s.snapshot())
    const buy = s.sent.filter((a): a is Place => a.type === 'place')[0]
    expect(buy.order.side).toBe('BUY')
    const before = s.decisions()
    const placesBefore = s.sent.length
    // no time passes: the venue reports a whole fill of the bid
    s.reports.push({type: 'fill', clientOrderId: buy.clientOrderId, fill: {clientOrderId: buy.clientOrderId, side: 'BUY', price: buy.order.price, qty: 10, maker: true, fee: '0', ts: T0, tradeId: 't1'}, filled: 10, leaves: 0, status: 'FILLED', ts: T0, venueTs: T0})
    expect(vi.getTimerCount()).toBeGreaterThan(0) // the driver's timers are armed, and frozen
    await flush()
    expect(s.driver.reportWakes).toBe(1)
    expect(s.engine.positionSteps).toBe(10)
    expect(s.log.filter((e) => e.type === 'fill').map((e) => e.t)).toEqual([T0])
    expect(s.decisions()).toBe(before + 1)
    // the decision on the push replaced the filled bid at once
    const after = s.sent.slice(placesBefore).filter((a): a is Place => a.type === 'place')
    expect(after.map((a) => a.order.side)).toEqual(['BUY'])
    expect(Date.now()).toBe(T0)
    s.stopWith('test')
    await vi.advanceTimersByTimeAsync(0)
    const end = await Promise.race([done, vi.advanceTimersByTimeAsync(3000).then(() => done)])
    expect(end.reason).toBe('test')
  })

  it('market messages and report wake-ups keep the pending timer (no timer churn); the refresh still fires on time', async () => {
    const s = setup((sent, reports, clock) => answeringVenue(clock, reports, sent, {cancels: false}))
    const done = s.driver.run(s.feed)
    await flush()
    s.feed.emit('event', s.snapshot())
    await flush()
    // the first decisions (both sides placed) settle within the first 50 ms
    await vi.advanceTimersByTimeAsync(50)
    const first = s.decisions()
    expect([first, s.sent.map((a) => a.type)]).toEqual([2, ['place', 'place']])
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout')
    // more messages (and the acks' wake-ups) with nothing newly due: the driver's timer stands
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(100)
      s.feed.emit('event', s.snapshot())
      await flush()
    }
    expect(setTimeoutSpy).not.toHaveBeenCalled()
    expect(s.decisions()).toBe(first)
    // the refresh interval (1 s from the first decision) passes: the kept timer wakes the loop
    await vi.advanceTimersByTimeAsync(500)
    expect(s.decisions()).toBe(first + 1)
    setTimeoutSpy.mockRestore()
    s.stopWith('test')
    const end = await Promise.race([done, vi.advanceTimersByTimeAsync(3000).then(() => done)])
    expect(end.reason).toBe('test')
  })

  it("a frame's arrival runs what is due first, before the frame is read ('arrive'), as the timer would have", async () => {
    const s = setup((sent, reports, clock) => answeringVenue(clock, reports, sent, {cancels: false}))
    const done = s.driver.run(s.feed)
    await flush()
    s.feed.emit('event', s.snapshot())
    await vi.advanceTimersByTimeAsync(50)
    const first = s.decisions()
    expect(first).toBe(2)
    // the refresh (1 s after the first decision) is due, its timer not fired yet (timers frozen)
    vi.setSystemTime(T0 + 1200)
    s.feed.emit('arrive', (T0 + 1200) * 1000)
    expect(s.decisions()).toBe(first + 1)
    // nothing more is due: another arrival decides nothing
    s.feed.emit('arrive', (T0 + 1201) * 1000)
    expect(s.decisions()).toBe(first + 1)
    s.stopWith('test')
    const end = await Promise.race([done, vi.advanceTimersByTimeAsync(3000).then(() => done)])
    expect(end.reason).toBe('test')
  })

  it('live.preWarmMs: a book message within that long of a due re-price runs the path ahead once, on a later turn, changing nothing', async () => {
    const s = setup(
      (sent, reports, clock) => answeringVenue(clock, reports, sent, {cancels: false}),
      {preWarmMs: 150},
    )
    let preWarms = 0
    const real = s.engine.preWarm.bind(s.engine)
    s.engine.preWarm = () => {
      preWarms++
      real()
    }
    const book = (r: 'applied') => (s.feed as EventEmitter).emit('book', r, Date.now() * 1000, Date.now() * 1000)
    const done = s.driver.run(s.feed)
    await flush()
    s.feed.emit('event', s.snapshot())
    await vi.advanceTimersByTimeAsync(50)
    const due = s.engine.nextDecisionMs
    const decisions = s.decisions()
    // outside the window: nothing
    vi.setSystemTime(due - 400)
    book('applied')
    await new Promise<void>((r) => setImmediate(r))
    expect(preWarms).toBe(0)
    // within it: once, on the next turn (not in the message's own), and not again for the same due time
    vi.setSystemTime(due - 100)
    book('applied')
    expect(preWarms).toBe(0)
    await new Promise<void>((r) => setImmediate(r))
    expect(preWarms).toBe(1)
    vi.setSystemTime(due - 50)
    book('applied')
    await new Promise<void>((r) => setImmediate(r))
    expect(preWarms).toBe(1)
    expect(s.decisions()).toBe(decisions)
    s.stopWith('test')
    const end = await Promise.race([done, vi.advanceTimersByTimeAsync(3000).then(() => done)])
    expect(end.reason).toBe('test')
  })

  it('stopping waits until no order is working: the cancels answered 300 ms later end it then', async () => {
    const s = setup((sent, reports, clock) => ({
      submit: (a) => {
        sent.push(a)
        if (a.type === 'cancel') setTimeout(() => reports.push({type: 'canceled', clientOrderId: a.clientOrderId, filled: 0, ts: clock.now(), venueTs: clock.now()}), 300)
      },
      queryOrder: () => {},
    }))
    const done = s.driver.run(s.feed)
    await flush()
    s.feed.emit('event', s.snapshot())
    expect(s.engine.openOrders).toBe(2)
    s.stopWith('test')
    await vi.advanceTimersByTimeAsync(299)
    expect(s.engine.openOrders).toBe(2)
    let ended = false
    void done.then(() => (ended = true))
    await flush()
    expect(ended).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await flush()
    expect(s.engine.openOrders).toBe(0)
    const end = await done
    expect(ended).toBe(true)
    expect(end).toMatchObject({reason: 'test', stopTimedOut: false})
    expect(Date.now()).toBe(T0 + 300)
  })

  it('stopping gives up after the bound when a cancel is never answered', async () => {
    const s = setup((sent) => ({submit: (a) => void sent.push(a), queryOrder: () => {}}))
    const done = s.driver.run(s.feed)
    await flush()
    s.feed.emit('event', s.snapshot())
    s.stopWith('test')
    await vi.advanceTimersByTimeAsync(1999)
    let ended = false
    void done.then(() => (ended = true))
    await flush()
    expect(ended).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    const end = await done
    expect(end).toMatchObject({reason: 'test', stopTimedOut: true})
    expect(s.engine.openOrders).toBe(2)
  })
})
