import {createHash} from 'node:crypto'
import {beforeAll, describe, expect, it} from 'vitest'
import {UsageError} from '../../src/lib/domain/errors.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import type {DepthEvent, MarketEvent, SnapshotEvent, TradeEvent} from '../../src/lib/market/events.js'
import {Rng} from '../../src/lib/domain/rng.js'
import {createSyntheticMarket, SYNTHETIC_DEFAULTS, type SyntheticMarket, syntheticMarket, type SyntheticMarketOptions} from '../../src/lib/venue/sim/synthetic.js'

const START_US = 1_721_347_200_000_000 // 2024-07-19T00:00:00Z
const ETH = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})

function collect(opts: SyntheticMarketOptions): MarketEvent[] {
  return [...syntheticMarket(opts)]
}

// ---------------------------------------------------------------------------------------
describe('rng (xoshiro128**)', () => {
  it('matches the reference implementation for state {1, 2, 3, 4}', () => {
    // published vectors of Vigna's xoshiro128starstar.c (also rand_xoshiro's tests);
    // the first three follow by hand: rotl(2·5, 7)·9 = 11520, then s1 = 0 → 0, then 5145·128·9
    const r = Rng.fromState(1, 2, 3, 4)
    expect(Array.from({length: 10}, () => r.nextU32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804])
  })

  it('is deterministic per seed, differs between seeds, and folds any safe integer', () => {
    const seq = (seed: number) => {
      const r = new Rng(seed)
      return Array.from({length: 8}, () => r.nextU32())
    }
    expect(seq(0)).toEqual(seq(0))
    expect(seq(12345)).toEqual(seq(12345))
    expect(seq(1)).not.toEqual(seq(2))
    expect(seq(2 ** 32 + 5)).not.toEqual(seq(5)) // high bits matter
    expect(seq(-1)).not.toEqual(seq(1))
    expect(Rng.derive(9, 1).nextU32()).not.toBe(Rng.derive(9, 2).nextU32())
    expect(() => new Rng(1.5)).toThrow(UsageError)
    expect(() => Rng.fromState(0, 0, 0, 0)).toThrow(UsageError)
  })

  it('draws have the right ranges and moments (200 000 draws, seed 7)', () => {
    const r = new Rng(7)
    const n = 200_000
    let fMin = 1, fMax = 0, sum = 0, sum2 = 0, eSum = 0, gSum = 0, pSum = 0, open0Min = 1
    const hist = [0, 0, 0, 0, 0, 0, 0]
    for (let i = 0; i < n; i++) {
      const f = r.float()
      fMin = Math.min(fMin, f)
      fMax = Math.max(fMax, f)
      open0Min = Math.min(open0Min, r.floatOpen0())
      hist[r.int(7)]++
      const z = r.normal()
      sum += z
      sum2 += z * z
      eSum += r.exponential(3)
      gSum += r.geometric(4)
      pSum += r.poisson(2.5)
    }
    expect(fMin).toBeGreaterThanOrEqual(0)
    expect(fMax).toBeLessThan(1)
    expect(open0Min).toBeGreaterThan(0)
    for (const h of hist) expect(Math.abs(h - n / 7)).toBeLessThan(0.02 * n / 7)
    expect(Math.abs(sum / n)).toBeLessThan(0.01)
    expect(Math.abs(sum2 / n - 1)).toBeLessThan(0.02)
    expect(Math.abs(eSum / n - 3)).toBeLessThan(0.05)
    expect(Math.abs(gSum / n - 4)).toBeLessThan(0.1)
    expect(Math.abs(pSum / n - 2.5)).toBeLessThan(0.03)
    expect(() => r.int(0)).toThrow(UsageError)
    expect(r.poisson(0)).toBe(0)
    expect(r.geometric(0)).toBe(0)
  })
})

// ---------------------------------------------------------------------------------------

/** A consumer-side book built only from the stream, with Binance's futures sync rules. */
class ReplayBook {
  bids = new Map<number, number>()
  asks = new Map<number, number>()
  lastUpdateId = -1
  prevU = -1
  applied = 0

  snapshot(ev: SnapshotEvent, inst: Instrument): void {
    this.bids.clear()
    this.asks.clear()
    for (const [p, q] of ev.bids) this.bids.set(inst.priceToTicks(p), inst.qtyToSteps(q))
    for (const [p, q] of ev.asks) this.asks.set(inst.priceToTicks(p), inst.qtyToSteps(q))
    this.lastUpdateId = ev.lastUpdateId!
  }

  depth(ev: DepthEvent, inst: Instrument): void {
    if (ev.u! < this.lastUpdateId) throw new Error('stale event before the snapshot')
    if (this.applied === 0) {
      // FACTS §3.2 step 5: U ≤ lastUpdateId ≤ u for the first processed event
      if (!(ev.U! <= this.lastUpdateId && ev.u! >= this.lastUpdateId)) throw new Error(`first event does not straddle the snapshot: U=${ev.U} u=${ev.u} L=${this.lastUpdateId}`)
    } else if (ev.pu !== this.prevU) {
      throw new Error(`pu chain broken: pu=${ev.pu} previous u=${this.prevU}`)
    }
    if (!(ev.U! <= ev.u! && ev.pu! < ev.U!)) throw new Error(`bad ids U=${ev.U} u=${ev.u} pu=${ev.pu}`)
    for (const [p, q] of ev.bids) {
      const t = inst.priceToTicks(p)
      const s = inst.qtyToSteps(q)
      if (s === 0) this.bids.delete(t)
      else this.bids.set(t, s)
    }
    for (const [p, q] of ev.asks) {
      const t = inst.priceToTicks(p)
      const s = inst.qtyToSteps(q)
      if (s === 0) this.asks.delete(t)
      else this.asks.set(t, s)
    }
    this.prevU = ev.u!
    this.applied++
  }

  sorted(side: 'bid' | 'ask'): Array<[number, number]> {
    const m = side === 'bid' ? this.bids : this.asks
    return [...m.entries()].sort((a, b) => (side === 'bid' ? b[0] - a[0] : a[0] - b[0]))
  }
}

interface RunResult {
  events: MarketEvent[]
  market: SyntheticMarket
  depthChecks: number
  tradeChecks: number
  tickerChecks: number
  /** after each depth event: [ts, bestBid, bestAsk] */
  tops: Array<[number, number, number]>
  trades: Array<{ts: number; side: 'buy' | 'sell'; price: number; qty: number}>
}

/**
 * Runs the generator and checks, at every event: the generator's book is not crossed;
 * a trade hits the best level of the maker side as it was just before the trade; a
 * ticker equals the generator's best bid/ask; and after every depth event the book
 * rebuilt from the stream alone equals the generator's book exactly.
 */
function runChecked(opts: SyntheticMarketOptions): RunResult {
  const m = createSyntheticMarket(opts)
  const inst = m.instrument
  const replay = new ReplayBook()
  const events: MarketEvent[] = []
  const tops: RunResult['tops'] = []
  const trades: RunResult['trades'] = []
  let depthChecks = 0, tradeChecks = 0, tickerChecks = 0
  let prevBid = -1, prevBidQ = 0, prevAsk = -1, prevAskQ = 0
  let lastTs = -1, lastLocal = -1
  for (const ev of m.events()) {
    events.push(ev)
    const bb = m.bestBid()
    const ba = m.bestAsk()
    if (!(bb > 0 && ba > bb)) throw new Error(`crossed or empty book at ${ev.ts}: ${bb} / ${ba}`)
    if (ev.ts < lastTs || ev.localTs < lastLocal || ev.localTs < ev.ts) throw new Error(`time goes backwards at event ${events.length}`)
    if ((ev.ts - opts.startUs) % 1000 !== 0) throw new Error('venue time must be on the millisecond grid')
    lastTs = ev.ts
    lastLocal = ev.localTs
    if (ev.kind === 'snapshot') {
      if (events.length !== 1) throw new Error('snapshot must come first, once')
      replay.snapshot(ev, inst)
    } else if (ev.kind === 'depth') {
      replay.depth(ev, inst)
      const seen = new Set<string>()
      for (const [p] of ev.bids) if (seen.has('b' + p)) throw new Error('duplicate bid level in one diff'); else seen.add('b' + p)
      for (const [p] of ev.asks) if (seen.has('a' + p)) throw new Error('duplicate ask level in one diff'); else seen.add('a' + p)
      expect(replay.sorted('bid')).toEqual(m.levels('bid'))
      expect(replay.sorted('ask')).toEqual(m.levels('ask'))
      depthChecks++
      tops.push([ev.ts, bb, ba])
    } else if (ev.kind === 'trade') {
      const price = inst.priceToTicks(ev.price)
      const qty = inst.qtyToSteps(ev.qty)
      if (qty <= 0) throw new Error('empty trade')
      if (ev.side === 'buy') {
        if (price !== prevAsk || qty > prevAskQ) throw new Error(`buy ${qty}@${price} did not hit the best ask ${prevAskQ}@${prevAsk}`)
      } else if (price !== prevBid || qty > prevBidQ) {
        throw new Error(`sell ${qty}@${price} did not hit the best bid ${prevBidQ}@${prevBid}`)
      }
      trades.push({ts: ev.ts, side: ev.side, price, qty})
      tradeChecks++
    } else {
      expect([inst.priceToTicks(ev.bidPrice), inst.qtyToSteps(ev.bidQty), inst.priceToTicks(ev.askPrice), inst.qtyToSteps(ev.askQty)]).toEqual([bb, m.qtyAt('bid', bb), ba, m.qtyAt('ask', ba)])
      expect(ev.u).toBe(m.lastUpdateId)
      tickerChecks++
    }
    prevBid = bb
    prevBidQ = m.qtyAt('bid', bb)
    prevAsk = ba
    prevAskQ = m.qtyAt('ask', ba)
  }
  return {events, market: m, depthChecks, tradeChecks, tickerChecks, tops, trades}
}

// pinned by running the generator; a model change must update these on purpose
const EXPECTED_SEED1_STATS = {steps: 60000, depthEvents: 5999, trades: 4129, tickers: 17037, shocks: 4, maxShockTicks: 42.007167470531996, staleSweeps: 1445}

const stripLocal = (evs: MarketEvent[]) => evs.map((e) => ({...e, localTs: 0}))

describe('synthetic market: stream shape', () => {
  it('starts with a snapshot whose id the first diff straddles, then chains pu = previous u', () => {
    const evs = collect({seed: 3, startUs: START_US, durationMs: 2_000})
    const snap = evs[0] as SnapshotEvent
    expect(snap.kind).toBe('snapshot')
    expect(snap.symbol).toBe('ETHUSDC')
    expect(snap.ts).toBe(START_US)
    expect(snap.bids.length).toBe(50)
    expect(snap.asks.length).toBe(50)
    expect(snap.bids[0]).toEqual(['3400.00', snap.bids[0][1]])
    expect(snap.asks[0][0]).toBe('3400.01')
    const depth = evs.filter((e): e is DepthEvent => e.kind === 'depth')
    expect(depth.length).toBe(20) // one per 100 ms
    expect(depth.map((d) => d.ts - START_US)).toEqual(Array.from({length: 20}, (_, i) => (i + 1) * 100_000))
    expect(depth[0].U).toBeLessThanOrEqual(snap.lastUpdateId!)
    expect(depth[0].u).toBeGreaterThanOrEqual(snap.lastUpdateId!)
    for (let i = 1; i < depth.length; i++) {
      expect(depth[i].pu).toBe(depth[i - 1].u)
      expect(depth[i].U).toBeGreaterThan(depth[i].pu!)
    }
    // levels of one diff are ascending by price, as the venue sends them
    for (const d of depth) {
      for (const side of [d.bids, d.asks]) for (let i = 1; i < side.length; i++) expect(ETH.priceToTicks(side[i][0])).toBeGreaterThan(ETH.priceToTicks(side[i - 1][0]))
    }
  })

  it('is byte-for-byte deterministic for a seed and differs between seeds', () => {
    const a = JSON.stringify(collect({seed: 11, startUs: START_US, durationMs: 30_000}))
    const b = JSON.stringify(collect({seed: 11, startUs: START_US, durationMs: 30_000}))
    const c = JSON.stringify(collect({seed: 12, startUs: START_US, durationMs: 30_000}))
    expect(a).toBe(b)
    expect(a.length).toBeGreaterThan(100_000)
    expect(c).not.toBe(a)
  })

  it('reproduces the pinned stream for seed 1 (first minute, SHA-256 of its JSON)', () => {
    const evs = collect({seed: 1, startUs: START_US, durationMs: 60_000})
    expect(evs.length).toBe(969)
    expect((evs[0] as SnapshotEvent).lastUpdateId).toBe(1543782043003)
    expect(evs.find((e) => e.kind === 'trade')).toEqual({kind: 'trade', symbol: 'ETHUSDC', ts: 1721347200030000, localTs: 1721347200031887, id: '220696843', side: 'buy', price: '3400.01', qty: '4.106'})
    expect(createHash('sha256').update(JSON.stringify(evs)).digest('hex')).toBe('ce058e17207f8cfbccbee346ca5ca1732d9694df1a9afc018aa5b9f914ab6801')
  })

  it('a longer run extends a shorter one with the same seed (the prefix is identical)', () => {
    const short = collect({seed: 5, startUs: START_US, durationMs: 5_000})
    const long = collect({seed: 5, startUs: START_US, durationMs: 10_000})
    expect(JSON.stringify(long.slice(0, short.length))).toBe(JSON.stringify(short))
  })

  it('tickers and latency draw from their own streams: book, ids and trades are unchanged', () => {
    const off = collect({seed: 21, startUs: START_US, durationMs: 20_000})
    const on = collect({seed: 21, startUs: START_US, durationMs: 20_000, emitTickers: true})
    const tickers = on.filter((e) => e.kind === 'ticker')
    expect(tickers.length).toBeGreaterThan(100)
    expect(stripLocal(on.filter((e) => e.kind !== 'ticker'))).toEqual(stripLocal(off))
    const slow = collect({seed: 21, startUs: START_US, durationMs: 20_000, latencyMinUs: 50_000})
    expect(stripLocal(slow)).toEqual(stripLocal(off))
    expect(slow[0].localTs - slow[0].ts).toBeGreaterThanOrEqual(50_000)
  })

  it('ends at startUs + durationMs, also when the duration is not a multiple of the interval', () => {
    const evs = collect({seed: 1, startUs: START_US, durationMs: 250})
    const depth = evs.filter((e) => e.kind === 'depth')
    expect(depth.map((d) => d.ts - START_US)).toEqual([100_000, 200_000, 250_000])
    const odd = collect({seed: 4, startUs: START_US, durationMs: 1_234, stepMs: 20, intervalMs: 100})
    expect(odd.at(-1)!.kind).toBe('depth')
    expect(odd.at(-1)!.ts).toBe(START_US + 1_234_000)
    expect(Math.max(...odd.map((e) => e.ts))).toBe(START_US + 1_234_000)
    expect(collect({seed: 1, startUs: START_US, durationMs: 0}).map((e) => e.kind)).toEqual(['snapshot'])
  })

  it('takes the instrument as a parameter and formats exactly on its grid', () => {
    const btc = new Instrument({symbol: 'BTCUSDC', tickSize: '0.1', stepSize: '0.001', minQty: '0.001', minNotional: '100'})
    const r = runChecked({seed: 2, instrument: btc, startPrice: '60000.05', startUs: START_US, durationMs: 20_000, emitTickers: true})
    const snap = r.events[0] as SnapshotEvent
    expect(snap.symbol).toBe('BTCUSDC')
    expect(snap.bids[0][0]).toBe('60000.0') // rounded down to the tick
    expect(snap.asks[0][0]).toBe('60000.1')
    for (const e of r.events) {
      if (e.kind === 'trade') {
        expect(e.price).toMatch(/^\d+\.\d$/)
        expect(e.qty).toMatch(/^\d+\.\d{3}$/)
      }
    }
    expect(r.depthChecks).toBe(200)
    expect(r.tradeChecks).toBeGreaterThan(20)
    expect(r.tickerChecks).toBeGreaterThan(20)
  })

  it('rejects bad options with a UsageError, and a model streams once', () => {
    expect(() => createSyntheticMarket({seed: 1, startUs: 0, durationMs: 1000, stepMs: 30})).toThrow(/stepMs/)
    expect(() => createSyntheticMarket({seed: 1, startUs: 0, durationMs: 1000, ...({bogus: 1} as object)})).toThrow(/unknown synthetic-market parameter bogus/)
    expect(() => createSyntheticMarket({seed: 0.5, startUs: 0, durationMs: 1000})).toThrow(UsageError)
    expect(() => createSyntheticMarket({seed: 1, startUs: -1, durationMs: 1000})).toThrow(UsageError)
    expect(() => createSyntheticMarket({seed: 1, startUs: 0, durationMs: 1000, staleSweepProb: 1.5})).toThrow(UsageError)
    expect(() => createSyntheticMarket({seed: 1, startUs: 0, durationMs: 1000, startPrice: '1.00'})).toThrow(/startPrice/)
    const m = createSyntheticMarket({seed: 1, startUs: 0, durationMs: 100})
    expect([...m.events()].length).toBeGreaterThan(1)
    expect(() => [...m.events()]).toThrow(UsageError)
  })

  it('exports its defaults', () => {
    expect(SYNTHETIC_DEFAULTS.intervalMs).toBe(100)
    expect(SYNTHETIC_DEFAULTS.levels).toBe(50)
    expect(Object.isFrozen(SYNTHETIC_DEFAULTS)).toBe(true)
  })
})

// ---------------------------------------------------------------------------------------
describe('synthetic market: book integrity and microstructure over 10 simulated minutes (seed 1)', () => {
  // one run shared by the statistical checks; every invariant is checked per event inside
  let run: RunResult
  let m: SyntheticMarket
  beforeAll(() => {
    run = runChecked({seed: 1, startUs: START_US, durationMs: 600_000, emitTickers: true})
    m = run.market
  })

  it('rebuilds exactly from snapshot + diffs after every depth event, never crossed', () => {
    // a 100 ms window without any book change sends no diff (as the venue does)
    expect(run.depthChecks).toBe(m.stats.depthEvents)
    expect(run.depthChecks).toBeGreaterThan(5990)
    expect(m.levels('bid').length).toBe(50)
    expect(m.levels('ask').length).toBe(50)
  })

  it('produces the pinned counts for seed 1 (regression anchor)', () => {
    expect(m.stats).toEqual(EXPECTED_SEED1_STATS)
    expect(run.tradeChecks).toBe(EXPECTED_SEED1_STATS.trades)
    expect(run.tickerChecks).toBe(EXPECTED_SEED1_STATS.tickers)
  })

  it('has a 1-tick median spread that is sometimes wider and reverts', () => {
    const spreads = run.tops.map(([, b, a]) => a - b)
    const sorted = [...spreads].sort((x, y) => x - y)
    const median = sorted[sorted.length >> 1]
    expect(median).toBeGreaterThanOrEqual(1)
    expect(median).toBeLessThanOrEqual(2)
    expect(median).toBe(1)
    const oneTick = spreads.filter((s) => s === 1).length / spreads.length
    expect(oneTick).toBeGreaterThan(0.6)
    expect(oneTick).toBeLessThan(0.95)
    // wide spreads are the exception and do not persist: no run of ≥ 3 ticks lasts 30 s
    expect(spreads.filter((s) => s >= 3).length / spreads.length).toBeLessThan(0.15)
    let longest = 0, cur = 0
    for (const s of spreads) {
      cur = s >= 3 ? cur + 1 : 0
      longest = Math.max(longest, cur)
    }
    expect(longest).toBeLessThan(300)
  })

  it('has fat-tailed, volatility-clustered 1 s returns and at least one shock', () => {
    const mids: number[] = [] // in half ticks: the book after the last diff at or before each whole second
    let j = 0
    for (let sec = 1; sec <= 600; sec++) {
      while (j + 1 < run.tops.length && run.tops[j + 1][0] <= START_US + sec * 1_000_000) j++
      mids.push(run.tops[j][1] + run.tops[j][2])
    }
    const r = mids.slice(1).map((v, i) => (v - mids[i]) / 2)
    const mean = r.reduce((s, x) => s + x, 0) / r.length
    const v = r.reduce((s, x) => s + (x - mean) ** 2, 0) / r.length
    const k = r.reduce((s, x) => s + (x - mean) ** 4, 0) / r.length / (v * v) - 3
    expect(Math.sqrt(v)).toBeGreaterThan(1) // ticks per second
    expect(Math.sqrt(v)).toBeLessThan(20)
    expect(k).toBeGreaterThan(0) // excess kurtosis
    // clustering: |r_t| and |r_t+1| are positively correlated
    const ab = r.map(Math.abs)
    const am = ab.reduce((s, x) => s + x, 0) / ab.length
    let cov = 0, va = 0
    for (let i = 0; i < ab.length; i++) {
      va += (ab[i] - am) ** 2
      if (i > 0) cov += (ab[i] - am) * (ab[i - 1] - am)
    }
    expect(cov / va).toBeGreaterThan(0.05)
    expect(m.stats.shocks).toBeGreaterThanOrEqual(1)
    expect(m.stats.maxShockTicks).toBeGreaterThanOrEqual(SYNTHETIC_DEFAULTS.shockMinTicks)
  })

  it('has Poisson-ish, heavy-tailed trade flow that makers lose to (adverse selection)', () => {
    const rate = run.trades.length / 600
    expect(rate).toBeGreaterThan(2)
    expect(rate).toBeLessThan(20)
    const qty = run.trades.map((t) => t.qty).sort((a, b) => a - b)
    const q = (p: number) => qty[Math.floor(p * (qty.length - 1))]
    expect(q(0.99) / q(0.5)).toBeGreaterThan(20) // heavy right tail
    expect(run.trades.filter((t) => t.side === 'buy').length / run.trades.length).toBeGreaterThan(0.4)
    expect(run.trades.filter((t) => t.side === 'buy').length / run.trades.length).toBeLessThan(0.6)
    // 1 s markout from the taker's side: mid(t + 1 s) − price for buys, price − mid for sells
    let j = 0, markout = 0, n = 0
    for (const t of run.trades) {
      while (j < run.tops.length && run.tops[j][0] < t.ts + 1_000_000) j++
      if (j >= run.tops.length) break
      const mid = (run.tops[j][1] + run.tops[j][2]) / 2
      markout += t.side === 'buy' ? mid - t.price : t.price - mid
      n++
    }
    expect(markout / n).toBeGreaterThan(0) // ticks per trade won by takers
  })

  // how fast it generates is a question for a bench, not a test (no timed tests): here the
  // count of a seeded 10-minute stream, exact
  it('generates 10 simulated minutes: 11,902 events from seed 99', () => {
    let n = 0
    for (const _ of syntheticMarket({seed: 99, startUs: START_US, durationMs: 600_000})) n++
    expect(n).toBe(11_902)
  })
})

