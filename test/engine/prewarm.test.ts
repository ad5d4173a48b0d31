/**
 * The decision path run ahead of a due re-price (`Engine.preWarm`, live: the driver calls
 * it on a later turn once a re-price is due within `live.preWarmMs`): it changes nothing —
 * a run with it sends, logs and checkpoints exactly what a run without it does — and it
 * runs at most once per due time. Virtual clock.
 */
import {describe, expect, it} from 'vitest'
import {VirtualClock} from '../../src/lib/clock/clock.js'
import {defaultConfig, resolveConfig} from '../../src/lib/config/index.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import type {OrderAction} from '../../src/lib/domain/orders.js'
import {Engine} from '../../src/lib/engine/engine.js'
import type {MarketEvent} from '../../src/lib/market/events.js'
import type {RunEvent} from '../../src/lib/telemetry/run-events.js'
import {ReportQueue, type Venue} from '../../src/lib/venue/types.js'
import {answeringVenue} from '../support/answering-venue.js'

const inst = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5'})
const px = (ticks: number) => `${Math.floor(ticks / 100)}.${String(ticks % 100).padStart(2, '0')}`
const book = (t: number, bid: number): MarketEvent => ({kind: 'snapshot', symbol: 'ETHUSDC', ts: t * 1000, localTs: t * 1000, bids: [[px(bid), '5.000'], [px(bid - 1), '3.000']], asks: [[px(bid + 1), '5.000'], [px(bid + 2), '3.000']]})

/** 20 s of a market moving a tick up and down every 50 ms, the venue answering 1 ms later; with `preWarmMs`, the path run ahead after each book message whenever it is due */
function run(preWarmMs: number) {
  const clock = new VirtualClock(1000)
  const reports = new ReportQueue()
  const log: RunEvent[] = []
  const sent: OrderAction[] = []
  const venue = answeringVenue(clock, reports, sent, {delayMs: 1, queries: 'throw'})
  const c = defaultConfig()
  const core = resolveConfig({...c, strategy: {...c.strategy, baseSize: '0.010'}, risk: {...c.risk, netMax: '0.05'}}, inst)
  // the venue's input (the governor's verdict): read once a decision, never by the run ahead (reading it logs a mode change)
  let reads = 0
  const venueRisk = {
    read: () => {
      reads++
      return {liquidationTicks: 0, markTicks: 0, pace: {mode: 'normal' as const, factor: 1, reason: 'ok'}}
    },
  }
  const engine = new Engine({instrument: inst, core, venue, reports, clock, log: (e) => void log.push(e), runId: 'pre', mode: 'live', venueRisk})
  const set = (ms: number) => clock.set(ms)
  let preWarms = 0
  const dueTimes = new Set<number>()
  for (let k = 0; k <= 400; k++) {
    const t = 1000 + k * 50
    engine.runUntil(t, set)
    set(t)
    engine.onMarket(book(t, 200_000 + (k % 7) - 3))
    // twice after the same message: the second finds it done for this due time
    for (let j = 0; j < 2; j++) {
      if (preWarmMs > 0 && engine.preWarmDue(preWarmMs)) {
        dueTimes.add(engine.nextDecisionMs)
        engine.preWarm()
        preWarms++
      }
    }
  }
  engine.runUntil(21_000, set)
  return {sent, log, checkpoint: engine.checkpoint(), preWarms, dueTimes: dueTimes.size, reads}
}

describe('the decision path run ahead of a due re-price (live.preWarmMs)', () => {
  it('changes nothing: the run sends, logs and checkpoints exactly what a run without it does; once per due time', () => {
    const cold = run(0)
    const warm = run(150)
    expect(cold.preWarms).toBe(0)
    expect(cold.sent.length).toBeGreaterThan(20)
    expect(warm.sent).toEqual(cold.sent)
    expect(warm.log).toEqual(cold.log)
    expect(warm.checkpoint).toEqual(cold.checkpoint)
    expect(warm.reads).toBe(cold.reads)
    // it ran, once for each due time it saw coming (never twice after one message)
    expect(warm.preWarms).toBeGreaterThan(10)
    expect(warm.preWarms).toBe(warm.dueTimes)
  })

  it('not when nothing is due within the window, nor before the book is whole', () => {
    const clock = new VirtualClock(1000)
    const venue: Venue = {submit: () => {}, queryOrder: () => {}}
    const engine = new Engine({instrument: inst, core: resolveConfig(defaultConfig(), inst), venue, reports: new ReportQueue(), clock, log: () => {}, runId: 'pre', mode: 'live'})
    expect(engine.preWarmDue(150)).toBe(false) // no book yet
    engine.onMarket(book(1000, 200_000)) // the first decision (now), the next one a refresh later
    const next = engine.nextDecisionMs
    expect(next).toBeGreaterThan(1150)
    expect(engine.preWarmDue(150)).toBe(false)
    clock.set(next - 150)
    expect(engine.preWarmDue(150)).toBe(true)
    expect(engine.preWarmDue(100)).toBe(false)
    engine.preWarm()
    expect(engine.preWarmDue(150)).toBe(false) // done for this due time
    clock.set(next)
    expect(engine.preWarmDue(150)).toBe(false) // due now: the decision itself runs
  })
})
