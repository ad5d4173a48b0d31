/**
 * The start-up JIT warm-up of the decision path (src/lib/engine/warmup.ts; issue 10,
 * tick-to-order): it runs the decisions, the lifecycle and the signed request build many
 * times and has no effect — nothing submitted, nothing sent by the gateway, nothing logged,
 * the engine's state, book and next client id as before, so a run with it decides and
 * logs exactly what a run without it does. Bounded by its iterations and its wall budget.
 * Virtual clock; the gateway's dispatcher throws on any request.
 */
import {describe, expect, it} from 'vitest'
import {DepthSync} from '../../src/lib/book/sync.js'
import {VirtualClock} from '../../src/lib/clock/clock.js'
import {defaultConfig, resolveConfig} from '../../src/lib/config/index.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import type {OrderAction} from '../../src/lib/domain/orders.js'
import {Engine} from '../../src/lib/engine/engine.js'
import type {WarmUpOptions} from '../../src/lib/engine/warmup.js'
import type {MarketEvent} from '../../src/lib/market/events.js'
import type {RunEvent} from '../../src/lib/telemetry/run-events.js'
import {BinanceGateway, type GatewayDispatcher} from '../../src/lib/venue/binance/gateway.js'
import {Credentials} from '../../src/lib/venue/binance/signer.js'
import {gatewayWarmBuild} from '../../src/lib/venue/binance/warm-build.js'
import {ReportQueue, type Venue} from '../../src/lib/venue/types.js'
import {answeringVenue} from '../support/answering-venue.js'

const inst = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5'})
const px = (ticks: number) => `${Math.floor(ticks / 100)}.${String(ticks % 100).padStart(2, '0')}`
const book = (t: number, bid: number): MarketEvent => ({kind: 'snapshot', symbol: 'ETHUSDC', ts: t * 1000, localTs: t * 1000, bids: [[px(bid), '5.000'], [px(bid - 1), '3.000']], asks: [[px(bid + 1), '5.000'], [px(bid + 2), '3.000']]})
const core = () => {
  const c = defaultConfig()
  return resolveConfig({...c, strategy: {...c.strategy, baseSize: '0.010'}, risk: {...c.risk, netMax: '0.05'}}, inst)
}

/** A gateway whose dispatcher throws on any request, with what was built counted. */
function throwingGateway(batchCancels = true) {
  let requests = 0
  const dispatcher = {
    request: () => {
      requests++
      throw new Error('warm-up must send nothing')
    },
    close: async () => {},
  } as unknown as GatewayDispatcher
  const gw = new BinanceGateway({baseUrl: 'http://127.0.0.1:9', credentials: new Credentials('testkey0123456789', 'testsecret0123456789abcdef'), now: () => 1_721_260_800_000, dispatcher})
  const build = gatewayWarmBuild(gw, inst, 'EXPIRE_MAKER', batchCancels)
  const seen = {places: 0, cancels: 0, cancelRequests: 0}
  return {
    build: (actions: readonly OrderAction[]) => {
      const places = actions.filter((a) => a.type === 'place').length
      const cancels = actions.length - places
      seen.places += places
      seen.cancels += cancels
      seen.cancelRequests += !batchCancels || cancels < 2 ? cancels : Math.ceil(cancels / 10)
      return build(actions)
    },
    seen,
    requests: () => requests,
  }
}

/**
 * 20 s of a market moving a tick up and down, the venue acknowledging every place and
 * cancel 1 ms later; what was submitted and logged, and the warm-up's result.
 */
function run(warmUp: WarmUpOptions | undefined) {
  const clock = new VirtualClock(1000)
  const reports = new ReportQueue()
  const log: RunEvent[] = []
  const sent: OrderAction[] = []
  const venue = answeringVenue(clock, reports, sent, {delayMs: 1, queries: 'throw'})
  const engine = new Engine({instrument: inst, core: core(), venue, reports, clock, log: (e) => void log.push(e), runId: 'warm', mode: 'live', warmUp})
  const set = (ms: number) => clock.set(ms)
  for (let k = 0; k <= 100; k++) {
    const t = 1000 + k * 200
    engine.runUntil(t, set)
    set(t)
    engine.onMarket(book(t, 200_000 + (k % 7) - 3))
  }
  engine.runUntil(21_000, set)
  return {sent, log, checkpoint: engine.checkpoint(), warm: engine.warmUpResult}
}

describe('start-up warm-up', () => {
  it('runs once before the first decision; the run decides, sends and logs exactly what a run without it does', () => {
    const gw = throwingGateway()
    const cold = run(undefined)
    const warm = run({iterations: 600, budgetMs: Number.POSITIVE_INFINITY, build: gw.build})
    expect(cold.warm).toBeNull()
    expect(cold.sent.length).toBeGreaterThan(20)
    expect(warm.sent).toEqual(cold.sent)
    expect(warm.log).toEqual(cold.log)
    expect(warm.checkpoint).toEqual(cold.checkpoint)
    // the first order's client id is the allocator's first: the warm-up minted none of the real ones
    expect(warm.sent[0].clientOrderId).toMatch(/^mm-warm-[^-]+-0$/)
    // it did the work: every iteration, places and cancels built, fills both ways (long and short)
    const w = warm.warm!
    expect(w.iterations).toBe(600)
    expect(w.stoppedBy).toBe('iterations')
    expect(w.places).toBeGreaterThan(100)
    expect(w.cancels).toBeGreaterThan(100)
    expect(w.fills).toBeGreaterThan(10)
    expect(w.maxNet).toBeGreaterThan(0)
    expect(w.minNet).toBeLessThan(0)
    // every action built as the venue sends it: a place each, a decision's cancels in one batch
    expect(gw.seen.places).toBe(w.places)
    expect(gw.seen.cancels).toBe(w.cancels)
    expect(w.builds).toBe(w.places + gw.seen.cancelRequests)
    expect(gw.seen.cancelRequests).toBeLessThan(w.cancels)
    expect(gw.requests()).toBe(0)
  })

  it('leaves the engine as it was: no submit, no log, state, book, ids and counters unchanged', () => {
    const clock = new VirtualClock(5000)
    const sync = new DepthSync(inst)
    expect(sync.feed(book(5000, 200_000))).toBe('applied')
    const dumpBefore = sync.orderBook.dump()
    const log: RunEvent[] = []
    const venue: Venue = {
      submit: () => {
        throw new Error('warm-up must submit nothing')
      },
      queryOrder: () => {
        throw new Error('warm-up must query nothing')
      },
    }
    const engine = new Engine({instrument: inst, core: core(), venue, reports: new ReportQueue(), clock, sync, log: (e) => void log.push(e), runId: 'warm', mode: 'live'})
    const before = structuredClone(engine.checkpoint())
    const status = engine.status()
    const counters = {...engine.lifecycleCounters}
    const risk = {...engine.riskCounters}
    const syncCounters = {...sync.counters}
    // the WebSocket API's case: no batch, one cancel request each
    const gw = throwingGateway(false)
    const r = engine.warmUp({iterations: 300, budgetMs: Number.POSITIVE_INFINITY, build: gw.build})
    expect(r.iterations).toBe(300)
    expect(r.places).toBeGreaterThan(0)
    expect(r.builds).toBe(r.places + r.cancels)
    expect(log).toEqual([])
    expect(gw.requests()).toBe(0)
    expect(engine.checkpoint()).toEqual(before)
    expect(engine.status()).toEqual(status)
    expect(engine.lifecycleCounters).toEqual(counters)
    expect(engine.riskCounters).toEqual(risk)
    expect(engine.openOrders).toBe(0)
    expect(engine.warmUpResult).toBeNull()
    expect(sync.orderBook.dump()).toEqual(dumpBefore)
    expect(sync.counters).toEqual(syncCounters)
    expect(sync.book.bestBid()).toBe(200_000)
    expect(sync.book.bestAsk()).toBe(200_001)
    expect(engine.marketEvents).toBe(0)
  })

  it('is bounded by its iterations, its wall budget, and off at 0', () => {
    const sync = new DepthSync(inst)
    sync.feed(book(5000, 200_000))
    const venue: Venue = {submit: () => {}, queryOrder: () => {}}
    const engine = new Engine({instrument: inst, core: core(), venue, reports: new ReportQueue(), clock: new VirtualClock(5000), sync, log: () => {}, runId: 'warm', mode: 'live'})
    expect(engine.warmUp({iterations: 0, budgetMs: 300})).toMatchObject({iterations: 0, places: 0, builds: 0, stoppedBy: 'iterations'})
    expect(engine.warmUp({iterations: 37, budgetMs: Number.POSITIVE_INFINITY})).toMatchObject({iterations: 37, stoppedBy: 'iterations'})
    // live's decision input carries the venue's verdict: the same bound
    expect(engine.warmUp({iterations: 37, budgetMs: Number.POSITIVE_INFINITY, venueRisk: true})).toMatchObject({iterations: 37, stoppedBy: 'iterations'})
    // a wall clock that moves 1 ms per reading (the start reads 0, decision i's check reads
    // i + 1): the check before the 25th decision finds 25 ms gone and stops it
    let ms = 0
    const r = engine.warmUp({iterations: 10_000, budgetMs: 25, elapsedMs: () => ms++})
    expect(r.stoppedBy).toBe('budget')
    expect(r.iterations).toBe(24)
    expect(r.ms).toBe(26)
    // no usable book yet: nothing runs
    const empty = new Engine({instrument: inst, core: core(), venue, reports: new ReportQueue(), clock: new VirtualClock(5000), log: () => {}, runId: 'warm', mode: 'live'})
    expect(empty.warmUp({iterations: 100, budgetMs: 300})).toMatchObject({iterations: 0, stoppedBy: 'no-book'})
  })

  it('an error inside the warm-up ends it and nothing else: the run goes on as without it', () => {
    const cold = run(undefined)
    let calls = 0
    const warm = run({
      iterations: 500,
      budgetMs: Number.POSITIVE_INFINITY,
      build: () => {
        if (++calls === 5) throw new Error('build failed')
        return 1
      },
    })
    expect(warm.warm).toMatchObject({stoppedBy: 'error', error: 'build failed'})
    expect(warm.warm!.iterations).toBeGreaterThan(0)
    expect(warm.sent).toEqual(cold.sent)
    expect(warm.log).toEqual(cold.log)
    expect(warm.checkpoint).toEqual(cold.checkpoint)
  })

  it('an engine told 0 iterations runs none before its first decision', () => {
    const r = run({iterations: 0, budgetMs: 300})
    expect(r.warm).toMatchObject({iterations: 0, places: 0})
  })
})
