import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {parseConfig, resolveConfig} from '../../src/lib/config/index.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import type {OrderIntent} from '../../src/lib/domain/orders.js'
import {initialStrategyState, onMid, quote, type QuoteInput, type RiskMode, type StrategyState} from '../../src/lib/strategy/index.js'
import {FakeBook, workingOf} from './support.js'

const INSTS = [
  new Instrument({symbol: 'AUSDC', tickSize: '0.1', stepSize: '0.001', minQty: '0.001', minNotional: '5'}),
  new Instrument({symbol: 'BUSDC', tickSize: '0.01', stepSize: '0.01', minQty: '0.02', minNotional: '20'}),
  new Instrument({symbol: 'CUSDT', tickSize: '0.0001', stepSize: '1', minQty: '1', minNotional: '5'}),
]

const arbCase = fc.record({
  inst: fc.integer({min: 0, max: INSTS.length - 1}),
  bid: fc.integer({min: 100, max: 2_000_000}),
  spreadTicks: fc.integer({min: 1, max: 60}),
  bidLevels: fc.array(fc.tuple(fc.integer({min: 0, max: 30}), fc.integer({min: 1, max: 500})), {minLength: 1, maxLength: 5}),
  askLevels: fc.array(fc.tuple(fc.integer({min: 0, max: 30}), fc.integer({min: 1, max: 500})), {minLength: 1, maxLength: 5}),
  netPct: fc.integer({min: -150, max: 150}),
  avgOffBp: fc.integer({min: -500, max: 500}),
  riskMode: fc.constantFrom<RiskMode>('normal', 'normal', 'normal', 'reduce_only', 'halted', 'paused'),
  baseSpreadBp: fc.integer({min: 1, max: 200}),
  baseSizeMul: fc.integer({min: 1, max: 40}),
  netMaxMul: fc.integer({min: 1, max: 10}),
  thresholdPct: fc.integer({min: 50, max: 100}),
  inventoryKPct: fc.integer({min: 0, max: 300}),
  joinEnabled: fc.boolean(),
  joinMinSpreadTicks: fc.integer({min: 2, max: 10}),
  staticPct: fc.constantFrom(0, 0, 25, 50, 100),
  staticTicks: fc.integer({min: 0, max: 10}),
  takeProfitPct: fc.constantFrom(0, 0.0005, 0.002, 0.01),
  triggerPct: fc.constantFrom(0, 0, 0.001, 0.01),
  rejects: fc.tuple(fc.integer({min: 0, max: 6}), fc.integer({min: 0, max: 6})),
  degraded: fc.tuple(fc.boolean(), fc.boolean()),
  moves: fc.array(fc.integer({min: -50, max: 50}), {maxLength: 8}),
  keepWorking: fc.array(fc.boolean(), {minLength: 6, maxLength: 6}),
  drift: fc.integer({min: -20, max: 20}),
  kind: fc.constantFrom('v2', 'v2', 'v2', 'naive'),
})

type Case = typeof arbCase extends fc.Arbitrary<infer T> ? T : never

function build(c: Case) {
  const inst = INSTS[c.inst]
  const bids = c.bidLevels.map(([d, q]) => [c.bid - d, q] as [number, number])
  const asks = c.askLevels.map(([d, q]) => [c.bid + c.spreadTicks + d, q] as [number, number])
  const merge = (lv: Array<[number, number]>) => [...new Map(lv).entries()]
  const book = new FakeBook(merge(bids), merge(asks))
  const base = inst.minQtySteps * c.baseSizeMul
  const netMax = base * c.netMaxMul
  const cfg = resolveConfig(
    parseConfig({
      strategy: {
        kind: c.kind,
        baseSpread: c.baseSpreadBp / 10_000,
        baseSize: inst.stepsToQty(base),
        inventoryK: c.inventoryKPct / 100,
        joinEnabled: c.joinEnabled,
        joinMinSpreadTicks: c.joinMinSpreadTicks,
        staticFraction: c.staticPct / 100,
        staticTicks: c.staticTicks,
        takeProfitPct: c.takeProfitPct,
      },
      risk: {netMax: inst.stepsToQty(netMax), reduceOnlyThreshold: Math.max(0.001, Math.floor(c.thresholdPct * c.netMaxMul * 10) / 1000), reduceOnlyMarketTriggerPct: c.triggerPct},
    }),
    inst,
  )
  const net = Math.round((c.netPct / 100) * netMax)
  const mid = c.bid + c.spreadTicks / 2
  let state: StrategyState = initialStrategyState()
  let t = 0
  let m = mid
  for (const d of c.moves) {
    state = onMid(state, Math.max(1, m), t, cfg).state
    m += d
    t += 1000
  }
  state = {...state, buy: {...state.buy, rejects: c.rejects[0], degradeUntil: c.degraded[0] ? t + 5000 : 0}, sell: {...state.sell, rejects: c.rejects[1], degradeUntil: c.degraded[1] ? t + 5000 : 0}}
  const input: QuoteInput = {book, position: {net, avgCost: net === 0 ? 0 : mid * (1 + c.avgOffBp / 10_000)}, working: [], riskMode: c.riskMode, nowMs: t}
  return {inst, cfg, input, state, book}
}

function checkInvariants(intents: OrderIntent[], input: QuoteInput, inst: Instrument) {
  const slots = new Set<string>()
  for (const i of intents) {
    expect(Number.isSafeInteger(i.price) && i.price >= 1).toBe(true)
    expect(Number.isSafeInteger(i.qty) && i.qty >= inst.minQtySteps).toBe(true)
    if (!i.reduceOnly) expect(inst.meetsMinimums(i.price, i.qty)).toBe(true)
    expect(slots.has(i.slot)).toBe(false)
    slots.add(i.slot)
    if (i.tif !== 'IOC') {
      if (i.side === 'BUY') expect(i.price).toBeLessThan(input.book.bestAsk())
      else expect(i.price).toBeGreaterThan(input.book.bestBid())
    }
    if (input.riskMode === 'reduce_only') {
      expect(i.reduceOnly).toBe(true)
      expect(i.side).toBe(input.position.net > 0 ? 'SELL' : 'BUY')
    }
    if (i.reduceOnly) expect(i.side).toBe(input.position.net > 0 ? 'SELL' : 'BUY')
  }
  const bids = intents.filter((i) => i.side === 'BUY').map((i) => i.price)
  const asks = intents.filter((i) => i.side === 'SELL').map((i) => i.price)
  if (bids.length > 0 && asks.length > 0) expect(Math.max(...bids)).toBeLessThan(Math.min(...asks))
  if (input.riskMode === 'halted' || input.riskMode === 'paused') expect(intents).toEqual([])
}

describe('strategy properties (random books, positions, configs)', () => {
  it('prices on the tick grid, sizes on the step grid and ≥ minimums, own bid < own ask, no resting order crosses', () => {
    const seen = {runs: 0, quoted: 0, joined: 0, statics: 0, iocs: 0, gtc: 0, reduce: 0}
    fc.assert(
      fc.property(arbCase, (c) => {
        const {inst, cfg, input, state} = build(c)
        const r = quote(input, state, cfg, inst)
        checkInvariants(r.intents, input, inst)
        expect(r.nextRefreshMs).toBeGreaterThan(input.nowMs)
        seen.runs++
        if (r.intents.length > 0) seen.quoted++
        if (r.events.some((e) => e.mode === 'join')) seen.joined++
        if (r.intents.some((i) => i.layer === 'static')) seen.statics++
        if (r.intents.some((i) => i.tif === 'IOC')) seen.iocs++
        if (r.intents.some((i) => i.tif === 'GTC')) seen.gtc++
        if (r.intents.some((i) => i.layer === 'reduce' && i.tif !== 'IOC')) seen.reduce++
      }),
      {numRuns: 3000, seed: 20240601},
    )
    // the generator reaches every branch often enough for the invariants to mean something
    expect(seen.quoted).toBeGreaterThan(seen.runs * 0.4)
    for (const k of ['joined', 'statics', 'iocs', 'gtc', 'reduce'] as const) expect(seen[k]).toBeGreaterThan(seen.runs * 0.02)
  })

  it('second cycle with the first cycle’s orders working (some kept) on a moved book keeps the invariants', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const {inst, cfg, input, state, book} = build(c)
        const r1 = quote(input, state, cfg, inst)
        const working = r1.intents.filter((i, k) => c.keepWorking[k % 6] && i.tif !== 'IOC').map((i) => workingOf(i))
        // the book now shows our resting orders too, and has drifted
        const shift = (lv: Array<[number, number]>) => lv.map(([p, q]) => [p + c.drift, q] as [number, number])
        const ownB = working.filter((w) => w.side === 'BUY').map((w) => [w.price, w.qty] as [number, number])
        const ownA = working.filter((w) => w.side === 'SELL').map((w) => [w.price, w.qty] as [number, number])
        const bids = [...shift(book.bids)]
        const asks = [...shift(book.asks)]
        const merged = (lv: Array<[number, number]>) => {
          const m = new Map<number, number>()
          for (const [p, q] of lv) m.set(p, (m.get(p) ?? 0) + q)
          return [...m.entries()]
        }
        const b2 = new FakeBook(merged([...bids, ...ownB]), merged([...asks, ...ownA]))
        if (b2.bestBid() >= b2.bestAsk()) return // our resting orders would have traded: not a reachable book
        const input2 = {...input, book: b2, working, nowMs: input.nowMs + 250}
        const r2 = quote(input2, r1.state, cfg, inst)
        checkInvariants(r2.intents, input2, inst)
      }),
      {numRuns: 2000, seed: 7},
    )
  })

  it('deterministic and pure: same input → same output; the input state is not mutated', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const {inst, cfg, input, state} = build(c)
        const before = JSON.stringify(state)
        const a = quote(input, state, cfg, inst)
        const b = quote(input, state, cfg, inst)
        expect(JSON.stringify(state)).toBe(before)
        expect(b).toEqual(a)
      }),
      {numRuns: 1000, seed: 42},
    )
  })
})
