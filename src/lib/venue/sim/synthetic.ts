/**
 * A seeded synthetic market: a MarketEvent stream (snapshot, 100 ms diff depth with
 * Binance U/u/pu ids, trades, optional book tickers) with clustered volatility, rare
 * price shocks, a mean-reverting spread, an L2 book with refills and cancels, and trade
 * flow that is informed about the next fair-price move (adverse selection).
 *
 * Everything inside is integer ticks and lot steps; the Instrument formats prices and
 * quantities exactly. Floats are used only for the latent model (fair price, volatility,
 * sizes before they are rounded to steps). Same seed + params → identical events.
 *
 * The model is documented in docs/synthetic-market.md.
 */
import {UsageError} from '../../domain/errors.js'
import {Instrument, type Steps, type Ticks} from '../../domain/instrument.js'
import type {DepthEvent, Level, MarketEvent, SnapshotEvent, TickerEvent, TradeEvent} from '../../market/events.js'
import {Rng} from '../../domain/rng.js'

export interface SyntheticParams {
  // ---- feed -----------------------------------------------------------------
  /** diff-depth cadence (Binance `@depth@100ms`) */
  intervalMs: number
  /** model time step; must divide intervalMs */
  stepMs: number
  /** price levels kept on each side of the book */
  levels: number
  /** venue → receiver latency: localTs = ts + latencyMinUs + Exp(latencyMeanUs) (kept non-decreasing) */
  latencyMinUs: number
  latencyMeanUs: number
  /** each book mutation advances the update id by 1 + uniform{0..idJitter} */
  idJitter: number
  /** emit a TickerEvent (bookTicker) whenever the best bid/ask price or qty changes */
  emitTickers: boolean

  // ---- latent fair price and volatility ------------------------------------------
  /** fair-price volatility at the long-run level, ticks per √second */
  sigmaTicks: number
  /** half-life of the log-volatility (Ornstein–Uhlenbeck) process, seconds */
  volHalfLifeSec: number
  /** stationary standard deviation of log-volatility */
  volOfVol: number
  /** clamp of log-volatility */
  logVolMin: number
  logVolMax: number
  /** jump arrivals per minute (Poisson) */
  shockRatePerMin: number
  /** jump size in ticks: shockMinTicks + Exp(shockMeanExtraTicks), random sign */
  shockMinTicks: number
  shockMeanExtraTicks: number
  /** added to log-volatility at a jump (volatility clusters after shocks) */
  shockVolBoost: number

  // ---- spread -------------------------------------------------------------------
  /** rate (per second, at long-run volatility; scales with volatility) of spread-widening episodes */
  spreadWidenPerSec: number
  /** mean extra ticks of one widening episode (1 + geometric) */
  spreadWidenMeanTicks: number
  /** rate per second at which the extra spread decays by one tick */
  spreadRevertPerSec: number
  /** hysteresis: a resting touch is stale once the fair price is this many ticks through it */
  staleMarginTicks: number
  /** rate per second at which makers re-quote an empty/behind touch at the target price */
  touchRefillPerSec: number

  // ---- book shape and churn -------------------------------------------------------------
  /** probability that a tick behind the touch holds a level */
  levelFill: number
  /** median notional (quote asset) of a level at the touch */
  touchNotional: number
  /** a level d ticks behind the touch has median touchNotional × min(depthGrowthMax, 1 + d/depthGrowthTicks) */
  depthGrowthTicks: number
  depthGrowthMax: number
  /** lognormal dispersion of level sizes */
  levelSizeLogSd: number
  /** random level changes (adds, partial cancels, deletes, new levels) per second, both sides */
  bookUpdatesPerSec: number
  /** mean distance (levels / ticks) from the touch of a random change (geometric) */
  updateDepthMean: number

  // ---- trades ----------------------------------------------------------------------
  /** taker order arrivals per second at long-run volatility */
  tradeRatePerSec: number
  /** arrivals scale with (σ/σ̄)^tradeVolElasticity */
  tradeVolElasticity: number
  /** taker order notional: lognormal with this median (quote asset) … */
  tradeMedianNotional: number
  /** … and this log standard deviation (heavy right tail) */
  tradeSizeLogSd: number
  /** a taker order walks at most this many levels; the rest is dropped */
  maxSweepLevels: number
  /** P(buy) = 0.5 + adverseSelection × tanh(next fair move / its typical size) */
  adverseSelection: number
  /** horizon of "the next fair move" that biases taker side */
  informedHorizonMs: number
  /** when the fair price runs through a resting touch, P(an informed taker hits it before makers cancel) */
  staleSweepProb: number
  /** P(the informed taker continues to the next stale level) */
  sweepContinueProb: number
}

export const SYNTHETIC_DEFAULTS: Readonly<SyntheticParams> = Object.freeze({
  intervalMs: 100,
  stepMs: 10,
  levels: 50,
  latencyMinUs: 800,
  latencyMeanUs: 1500,
  idJitter: 3,
  emitTickers: false,

  sigmaTicks: 3,
  volHalfLifeSec: 30,
  volOfVol: 0.5,
  logVolMin: -1.5,
  logVolMax: 2.5,
  shockRatePerMin: 0.5,
  shockMinTicks: 10,
  shockMeanExtraTicks: 20,
  shockVolBoost: 0.8,

  spreadWidenPerSec: 0.1,
  spreadWidenMeanTicks: 2,
  spreadRevertPerSec: 2,
  staleMarginTicks: 0.5,
  touchRefillPerSec: 40,

  levelFill: 0.8,
  touchNotional: 6000,
  depthGrowthTicks: 8,
  depthGrowthMax: 4,
  levelSizeLogSd: 0.9,
  bookUpdatesPerSec: 80,
  updateDepthMean: 6,

  tradeRatePerSec: 4,
  tradeVolElasticity: 1,
  tradeMedianNotional: 100,
  tradeSizeLogSd: 2,
  maxSweepLevels: 3,
  adverseSelection: 0.2,
  informedHorizonMs: 1000,
  staleSweepProb: 0.4,
  sweepContinueProb: 0.8,
})

/** ETHUSDC-like USDⓈ-M perpetual: tick 0.01, step 0.001, min notional 20. */
export const SYNTHETIC_DEFAULT_INSTRUMENT_SPEC = Object.freeze({
  symbol: 'ETHUSDC',
  tickSize: '0.01',
  stepSize: '0.001',
  minQty: '0.001',
  minNotional: '20',
  baseAsset: 'ETH',
  quoteAsset: 'USDC',
  marginAsset: 'USDC',
  contractType: 'PERPETUAL',
  status: 'TRADING',
})

export const SYNTHETIC_DEFAULT_START_PRICE = '3400.00'

export interface SyntheticMarketOptions extends Partial<SyntheticParams> {
  seed: number
  /** defaults to the instrument's symbol */
  symbol?: string
  /** defaults to an ETHUSDC-like instrument (SYNTHETIC_DEFAULT_INSTRUMENT_SPEC) */
  instrument?: Instrument
  /** time of the snapshot, µs since the epoch */
  startUs: number
  /** simulated length; the stream ends with the depth event at startUs + durationMs */
  durationMs: number
  /** best bid at the start (rounded down to the tick); the best ask is one tick above */
  startPrice?: string
}

export interface SyntheticStats {
  /** model steps simulated */
  steps: number
  depthEvents: number
  trades: number
  tickers: number
  /** price jumps that happened inside the simulated span */
  shocks: number
  /** largest jump, ticks */
  maxShockTicks: number
  /** stale levels taken by informed takers */
  staleSweeps: number
}

type Side = 'bid' | 'ask'

/** One side of the book: prices best-first with their quantities. */
class SideBook {
  readonly prices: number[] = []
  readonly qtys: number[] = []
  constructor(readonly isBid: boolean) {}

  get len(): number {
    return this.prices.length
  }

  best(): number {
    return this.prices.length > 0 ? this.prices[0] : -1
  }

  /** index of `price` if present, else −(insertion point) − 1 */
  find(price: number): number {
    const a = this.prices
    let lo = 0
    let hi = a.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const p = a[mid]
      if (p === price) return mid
      // best-first: bids descending, asks ascending
      if (this.isBid ? p > price : p < price) lo = mid + 1
      else hi = mid - 1
    }
    return -lo - 1
  }

  qtyAt(price: number): number {
    const i = this.find(price)
    return i >= 0 ? this.qtys[i] : 0
  }

  set(price: number, qty: number): void {
    const i = this.find(price)
    if (i >= 0) {
      if (qty > 0) this.qtys[i] = qty
      else {
        this.prices.splice(i, 1)
        this.qtys.splice(i, 1)
      }
    } else if (qty > 0) {
      const at = -i - 1
      this.prices.splice(at, 0, price)
      this.qtys.splice(at, 0, qty)
    }
  }
}

function need(cond: boolean, msg: string): void {
  if (!cond) throw new UsageError('E_SYNTHETIC_PARAMS', msg)
}

function validate(p: SyntheticParams): void {
  const posInt = (k: keyof SyntheticParams) => need(Number.isSafeInteger(p[k]) && (p[k] as number) > 0, `${k} must be a positive integer, got ${String(p[k])}`)
  const nonNeg = (k: keyof SyntheticParams) => need(Number.isFinite(p[k] as number) && (p[k] as number) >= 0, `${k} must be a finite number ≥ 0, got ${String(p[k])}`)
  const prob = (k: keyof SyntheticParams) => need(Number.isFinite(p[k] as number) && (p[k] as number) >= 0 && (p[k] as number) <= 1, `${k} must be within [0, 1], got ${String(p[k])}`)
  posInt('intervalMs')
  posInt('stepMs')
  posInt('levels')
  posInt('maxSweepLevels')
  need(p.intervalMs % p.stepMs === 0, `stepMs (${p.stepMs}) must divide intervalMs (${p.intervalMs})`)
  need(Number.isSafeInteger(p.idJitter) && p.idJitter >= 0, `idJitter must be an integer ≥ 0, got ${p.idJitter}`)
  for (const k of ['latencyMinUs', 'latencyMeanUs', 'sigmaTicks', 'volOfVol', 'shockRatePerMin', 'shockMinTicks', 'shockMeanExtraTicks', 'shockVolBoost',
    'spreadWidenPerSec', 'spreadRevertPerSec', 'staleMarginTicks', 'touchRefillPerSec', 'levelSizeLogSd', 'bookUpdatesPerSec', 'updateDepthMean',
    'tradeRatePerSec', 'tradeVolElasticity', 'tradeSizeLogSd', 'informedHorizonMs'] as const) nonNeg(k)
  for (const k of ['volHalfLifeSec', 'touchNotional', 'depthGrowthTicks', 'tradeMedianNotional'] as const) need(Number.isFinite(p[k]) && p[k] > 0, `${k} must be > 0, got ${p[k]}`)
  need(Number.isFinite(p.spreadWidenMeanTicks) && p.spreadWidenMeanTicks >= 1, `spreadWidenMeanTicks must be ≥ 1, got ${p.spreadWidenMeanTicks}`)
  need(Number.isFinite(p.depthGrowthMax) && p.depthGrowthMax >= 1, `depthGrowthMax must be ≥ 1, got ${p.depthGrowthMax}`)
  need(Number.isFinite(p.logVolMin) && Number.isFinite(p.logVolMax) && p.logVolMin <= 0 && p.logVolMax >= 0, 'logVolMin ≤ 0 ≤ logVolMax required')
  need(p.levelFill > 0 && p.levelFill <= 1, `levelFill must be within (0, 1], got ${p.levelFill}`)
  for (const k of ['adverseSelection'] as const) need(p[k] >= 0 && p[k] <= 0.5, `${k} must be within [0, 0.5], got ${p[k]}`)
  prob('staleSweepProb')
  prob('sweepContinueProb')
}

// RNG stream labels: each concern draws from its own stream, so e.g. switching tickers on
// or changing latency leaves the book, the ids and the trades unchanged (only localTs moves).
const STREAM_LATENT = 1
const STREAM_BOOK = 2
const STREAM_TRADES = 3
const STREAM_FEED = 4
const STREAM_IDS = 5

/**
 * The generator and its authoritative state. `events()` may be iterated once; between
 * yields, `levels()`, `lastUpdateId` etc. describe the book exactly as a consumer that
 * applied every event so far would have it (after a depth event: identical).
 */
export class SyntheticMarket {
  readonly params: Readonly<SyntheticParams>
  readonly instrument: Instrument
  readonly symbol: string
  readonly seed: number
  readonly startUs: number
  readonly durationMs: number
  readonly stats: SyntheticStats = {steps: 0, depthEvents: 0, trades: 0, tickers: 0, shocks: 0, maxShockTicks: 0, staleSweeps: 0}

  private readonly bids = new SideBook(true)
  private readonly asks = new SideBook(false)
  private readonly dirtyBids = new Set<number>()
  private readonly dirtyAsks = new Set<number>()

  private readonly rLatent: Rng
  private readonly rBook: Rng
  private readonly rTrade: Rng
  private readonly rFeed: Rng
  private readonly rIds: Rng

  // update ids
  private updateId: number
  private windowFirstId = -1
  private prevU: number
  private tradeId: number
  private lastLocalTs = 0
  private started = false

  // latent process, generated ahead into a ring so takers can "know" the next move
  private readonly horizonSteps: number
  private readonly ringCap: number
  private readonly ringFair: Float64Array
  private readonly ringSigma: Float64Array
  private readonly ringShock: Float64Array
  private generated = 0
  private genFair: number
  private genLogVol = 0
  private readonly volA: number
  private readonly volB: number
  private readonly shockP: number
  private readonly sqrtDt: number
  private readonly minFair: number

  // current state
  private fair: number
  private sigma: number
  private spreadExtra = 0
  private stepIndex = 0
  private tradeHazardLeft: number

  // last emitted ticker
  private tkBid = -1
  private tkBidQ = -1
  private tkAsk = -1
  private tkAskQ = -1

  private readonly out: MarketEvent[] = []
  private readonly valuePerTickStep: number

  constructor(opts: SyntheticMarketOptions) {
    const {seed, symbol, instrument, startUs, durationMs, startPrice, ...rest} = opts
    const params: SyntheticParams = {...SYNTHETIC_DEFAULTS}
    for (const [k, v] of Object.entries(rest)) {
      if (!(k in SYNTHETIC_DEFAULTS)) throw new UsageError('E_SYNTHETIC_PARAMS', `unknown synthetic-market parameter ${k}`)
      if (v !== undefined) (params as unknown as Record<string, unknown>)[k] = v
    }
    validate(params)
    need(Number.isSafeInteger(seed), `seed must be a safe integer, got ${seed}`)
    need(Number.isSafeInteger(startUs) && startUs >= 0, `startUs must be a non-negative integer (µs), got ${startUs}`)
    need(Number.isSafeInteger(durationMs) && durationMs >= 0, `durationMs must be a non-negative integer, got ${durationMs}`)
    this.params = Object.freeze(params)
    this.instrument = instrument ?? new Instrument({...SYNTHETIC_DEFAULT_INSTRUMENT_SPEC, symbol: symbol ?? SYNTHETIC_DEFAULT_INSTRUMENT_SPEC.symbol})
    this.symbol = (symbol ?? this.instrument.symbol).toUpperCase()
    this.seed = seed
    this.startUs = startUs
    this.durationMs = durationMs

    this.rLatent = Rng.derive(seed, STREAM_LATENT)
    this.rBook = Rng.derive(seed, STREAM_BOOK)
    this.rTrade = Rng.derive(seed, STREAM_TRADES)
    this.rFeed = Rng.derive(seed, STREAM_FEED)
    this.rIds = Rng.derive(seed, STREAM_IDS)

    this.valuePerTickStep = Number(this.instrument.spec.tickSize) * Number(this.instrument.spec.stepSize)
    const startTicks = this.instrument.priceToTicks(startPrice ?? SYNTHETIC_DEFAULT_START_PRICE, 'down')
    this.minFair = params.levels * 4 + 10
    need(startTicks >= this.minFair, `startPrice must be at least ${this.minFair} ticks for a ${params.levels}-level book`)

    // latent process constants
    const dt = params.stepMs / 1000
    this.sqrtDt = Math.sqrt(dt)
    const kappa = Math.LN2 / params.volHalfLifeSec
    this.volA = Math.exp(-kappa * dt)
    this.volB = params.volOfVol * Math.sqrt(1 - this.volA * this.volA)
    this.shockP = 1 - Math.exp(-(params.shockRatePerMin / 60) * dt)
    this.horizonSteps = Math.max(1, Math.round(params.informedHorizonMs / params.stepMs))
    this.ringCap = this.horizonSteps + 2
    this.ringFair = new Float64Array(this.ringCap)
    this.ringSigma = new Float64Array(this.ringCap)
    this.ringShock = new Float64Array(this.ringCap)
    this.genFair = startTicks + 0.5
    this.ringFair[0] = this.genFair
    this.ringSigma[0] = params.sigmaTicks
    this.fair = this.genFair
    this.sigma = params.sigmaTicks

    // ids: big like the venue's, different per seed
    this.updateId = 1_000_000_000_000 + this.rIds.int(1 << 30) * 1000
    this.prevU = this.updateId
    this.tradeId = 100_000_000 + this.rIds.int(1 << 28)
    this.tradeHazardLeft = this.rTrade.exponential(1)

    this.buildInitialBook(startTicks)
  }

  // ---- public state ------------------------------------------------------------------

  /** Levels of one side, best first, as [ticks, steps]. */
  levels(side: Side): Array<[Ticks, Steps]> {
    const s = side === 'bid' ? this.bids : this.asks
    const out: Array<[Ticks, Steps]> = new Array(s.len)
    for (let i = 0; i < s.len; i++) out[i] = [s.prices[i], s.qtys[i]]
    return out
  }

  bestBid(): Ticks {
    return this.bids.best()
  }

  bestAsk(): Ticks {
    return this.asks.best()
  }

  qtyAt(side: Side, price: Ticks): Steps {
    return (side === 'bid' ? this.bids : this.asks).qtyAt(price)
  }

  /** id of the last book mutation (what a REST snapshot taken now would report) */
  get lastUpdateId(): number {
    return this.updateId
  }

  /** latent fair price, ticks (float) */
  get fairTicks(): number {
    return this.fair
  }

  /** current fair-price volatility, ticks per √s */
  get sigmaTicks(): number {
    return this.sigma
  }

  /** The book as a SnapshotEvent (formatted exactly); bids descending, asks ascending. */
  snapshot(ts: number, localTs: number = ts): SnapshotEvent {
    return {kind: 'snapshot', symbol: this.symbol, ts, localTs, lastUpdateId: this.updateId, bids: this.fmtSide(this.bids), asks: this.fmtSide(this.asks)}
  }

  // ---- the stream ---------------------------------------------------------------------

  *events(): Generator<MarketEvent> {
    if (this.started) throw new UsageError('E_SYNTHETIC_REUSED', 'a SyntheticMarket stream can be iterated once; create a new one with the same seed to replay it')
    this.started = true
    const p = this.params
    const stepUs = p.stepMs * 1000
    const stepsPerWindow = p.intervalMs / p.stepMs
    const totalSteps = Math.ceil(this.durationMs / p.stepMs)
    const endUs = this.startUs + this.durationMs * 1000

    // One touch-queue change lands before the snapshot, so the first diff straddles the
    // snapshot id: U ≤ lastUpdateId ≤ u (Binance's rule for the first event to apply).
    this.modifyLevel(this.rBook.bernoulli(0.5) ? this.bids : this.asks, 0)
    const snap = this.snapshot(this.startUs, this.stamp(this.startUs))
    this.rememberTicker()
    yield snap

    for (let i = 1; i <= totalSteps; i++) {
      const t0 = this.startUs + (i - 1) * stepUs
      this.advanceLatent(i)
      this.stats.steps++
      yield* this.reprice(t0)
      this.maintain()
      this.tickerIfChanged(t0)
      yield* this.drain()
      // the last step may be partial when durationMs is not a multiple of stepMs
      const len = Math.min(stepUs, endUs - t0)
      yield* this.takerFlow(t0, len)
      if (i % stepsPerWindow === 0 || i === totalSteps) {
        const ev = this.depthEvent(t0 + len)
        if (ev) {
          this.stats.depthEvents++
          yield ev
        }
      }
    }
  }

  // ---- latent process ---------------------------------------------------------------------

  private generateLatent(): void {
    const p = this.params
    const r = this.rLatent
    const k = ++this.generated
    this.genLogVol = this.genLogVol * this.volA + this.volB * r.normal()
    let jump = 0
    if (r.float() < this.shockP) {
      const mag = p.shockMinTicks + r.exponential(p.shockMeanExtraTicks)
      jump = r.bernoulli(0.5) ? mag : -mag
      this.genLogVol += p.shockVolBoost
    }
    if (this.genLogVol < p.logVolMin) this.genLogVol = p.logVolMin
    else if (this.genLogVol > p.logVolMax) this.genLogVol = p.logVolMax
    const sigma = p.sigmaTicks * Math.exp(this.genLogVol)
    let f = this.genFair + sigma * this.sqrtDt * r.normal() + jump
    if (f < this.minFair) f = this.minFair
    this.genFair = f
    const slot = k % this.ringCap
    this.ringFair[slot] = f
    this.ringSigma[slot] = sigma
    this.ringShock[slot] = jump
  }

  private advanceLatent(i: number): void {
    while (this.generated < i + this.horizonSteps) this.generateLatent()
    const slot = i % this.ringCap
    this.stepIndex = i
    this.fair = this.ringFair[slot]
    this.sigma = this.ringSigma[slot]
    const jump = this.ringShock[slot]
    if (jump !== 0) {
      this.stats.shocks++
      const a = Math.abs(jump)
      if (a > this.stats.maxShockTicks) this.stats.maxShockTicks = a
    }
  }

  /** fair move over the informed horizon, in units of its typical size */
  private nextMoveZ(): number {
    const ahead = this.ringFair[(this.stepIndex + this.horizonSteps) % this.ringCap]
    const scale = Math.max(0.5, this.sigma * Math.sqrt((this.horizonSteps * this.params.stepMs) / 1000))
    return (ahead - this.fair) / scale
  }

  // ---- book mutations ----------------------------------------------------------------------

  private setLevel(side: SideBook, price: number, qty: number): void {
    side.set(price, qty)
    ;(side.isBid ? this.dirtyBids : this.dirtyAsks).add(price)
    this.updateId += 1 + (this.params.idJitter > 0 ? this.rIds.int(this.params.idJitter + 1) : 0)
    if (this.windowFirstId < 0) this.windowFirstId = this.updateId
  }

  /** size of a fresh level d ticks behind the touch, in steps */
  private profileSteps(price: number, d: number): number {
    const p = this.params
    const growth = Math.min(p.depthGrowthMax, 1 + d / p.depthGrowthTicks)
    const notional = this.rBook.lognormal(p.touchNotional * growth, p.levelSizeLogSd)
    return this.clampSteps(Math.round(notional / (price * this.valuePerTickStep)), price)
  }

  private clampSteps(n: number, price: number): number {
    const lo = this.instrument.minStepsAt(price)
    if (!(n >= lo)) return lo
    return n > this.instrument.maxQtySteps ? this.instrument.maxQtySteps : n
  }

  private buildInitialBook(startTicks: number): void {
    const p = this.params
    const fill = (side: SideBook, top: number, dir: number) => {
      let price = top
      while (side.len < p.levels && price > 0) {
        if (price === top || this.rBook.bernoulli(p.levelFill)) side.set(price, this.profileSteps(price, Math.abs(price - top)))
        price += dir
      }
    }
    fill(this.bids, startTicks, -1)
    fill(this.asks, startTicks + 1, 1)
  }

  private modifyLevel(side: SideBook, idx: number): void {
    const price = side.prices[idx]
    const q = side.qtys[idx]
    const r = this.rBook
    let nq: number
    if (r.bernoulli(0.2)) nq = this.profileSteps(price, Math.abs(price - side.prices[0]))
    else nq = Math.max(1, Math.round(q * Math.exp(0.5 * r.normal())))
    if (nq === q) nq = q + 1
    this.setLevel(side, price, nq)
  }

  /** Remove levels the fair price has run through; informed takers hit some of them first. */
  private *reprice(ts: number): Generator<MarketEvent> {
    const s = 1 + this.spreadExtra
    const f = this.fair
    const h = this.params.staleMarginTicks
    // a bid is stale above f − s/2 + 1/2 + h; "informed" stale (fair ran through it) above f + h
    yield* this.clearStale(this.bids, ts, f - s / 2 + 0.5 + h, f + h)
    yield* this.clearStale(this.asks, ts, f + s / 2 - 0.5 - h, f - h)
    this.ensureNotEmpty(this.bids)
    this.ensureNotEmpty(this.asks)
  }

  private *clearStale(side: SideBook, ts: number, staleAt: number, informedAt: number): Generator<MarketEvent> {
    const isBid = side.isBid
    let sweeping: boolean | undefined
    for (;;) {
      if (side.len === 0) return
      const price = side.prices[0]
      if (isBid ? !(price > staleAt) : !(price < staleAt)) return
      const informed = isBid ? price > informedAt : price < informedAt
      if (informed) sweeping = sweeping === undefined ? this.rTrade.bernoulli(this.params.staleSweepProb) : sweeping && this.rTrade.bernoulli(this.params.sweepContinueProb)
      if (informed && sweeping) {
        const q = side.qtys[0]
        const take = Math.max(1, Math.round(q * (0.3 + 0.7 * this.rTrade.float())))
        this.stats.staleSweeps++
        this.fill(side, take, ts, true)
        yield* this.drain()
      } else {
        this.setLevel(side, price, 0)
      }
    }
  }

  /** target touch prices from fair and the current target spread */
  private targetBid(): number {
    return Math.floor(this.fair - (1 + this.spreadExtra) / 2 + 0.5)
  }

  private ensureNotEmpty(side: SideBook): void {
    if (side.len > 0) return
    const tb = this.targetBid()
    let price: number
    if (side.isBid) price = this.asks.len > 0 ? Math.min(tb, this.asks.best() - 1) : tb
    else {
      const ta = tb + 1 + this.spreadExtra
      price = this.bids.len > 0 ? Math.max(ta, this.bids.best() + 1) : ta
    }
    this.setLevel(side, price, this.profileSteps(price, 0))
  }

  /** spread process, touch refills, random churn, keep `levels` levels per side */
  private maintain(): void {
    const p = this.params
    const r = this.rBook
    const dt = p.stepMs / 1000
    const volRatio = this.sigma / p.sigmaTicks

    // mean-reverting extra spread (widening episodes are more frequent when volatile)
    if (r.float() < 1 - Math.exp(-p.spreadWidenPerSec * volRatio * dt)) {
      this.spreadExtra = Math.min(20, this.spreadExtra + 1 + r.geometric(p.spreadWidenMeanTicks - 1))
    }
    if (this.spreadExtra > 0 && r.float() < 1 - Math.exp(-p.spreadRevertPerSec * dt)) this.spreadExtra--

    // makers re-quote an empty/behind touch at the target
    const refillP = 1 - Math.exp(-p.touchRefillPerSec * dt)
    const tb = this.targetBid()
    const ta = tb + 1 + this.spreadExtra
    if (this.bids.best() < tb && r.float() < refillP) {
      const price = Math.min(tb, this.asks.best() - 1)
      if (price > this.bids.best()) this.setLevel(this.bids, price, this.freshTouchSteps(price))
    }
    if (this.asks.best() > ta && r.float() < refillP) {
      const price = Math.max(ta, this.bids.best() + 1)
      if (price < this.asks.best()) this.setLevel(this.asks, price, this.freshTouchSteps(price))
    }

    // random churn at a tick d ≥ 0 behind the touch (geometric, mean updateDepthMean):
    // the touch queue only changes size; behind it an occupied tick is cancelled with
    // probability 1 − levelFill (else resized) and an empty tick gets a new level with
    // probability levelFill, so each tick's occupancy stays near levelFill.
    const n = r.poisson(p.bookUpdatesPerSec * dt)
    for (let j = 0; j < n; j++) {
      const side = r.bernoulli(0.5) ? this.bids : this.asks
      const d = r.geometric(p.updateDepthMean)
      const price = side.isBid ? side.best() - d : side.best() + d
      if (price <= 0) continue
      const idx = side.find(price)
      const u = r.float()
      if (idx >= 0) {
        if (d > 0 && u >= p.levelFill) this.setLevel(side, price, 0)
        else this.modifyLevel(side, idx)
      } else if (u < p.levelFill) {
        this.setLevel(side, price, this.profileSteps(price, d))
      }
    }

    this.keepDepth(this.bids)
    this.keepDepth(this.asks)
  }

  private freshTouchSteps(price: number): number {
    // a new touch starts thinner than an established queue
    const q = this.profileSteps(price, 0)
    return this.clampSteps(Math.round(q * (0.2 + 0.8 * this.rBook.float())), price)
  }

  private keepDepth(side: SideBook): void {
    const p = this.params
    const gapMean = (1 - p.levelFill) / p.levelFill
    while (side.len < p.levels) {
      const far = side.prices[side.len - 1]
      const price = side.isBid ? far - 1 - this.rBook.geometric(gapMean) : far + 1 + this.rBook.geometric(gapMean)
      if (price <= 0) break
      this.setLevel(side, price, this.profileSteps(price, Math.abs(price - side.prices[0])))
    }
    while (side.len > p.levels) this.setLevel(side, side.prices[side.len - 1], 0)
  }

  // ---- takers -------------------------------------------------------------------------

  /** Poisson taker arrivals inside (t0, t0 + stepUs), intensity clustered with volatility. */
  private *takerFlow(t0: number, stepUs: number): Generator<MarketEvent> {
    const p = this.params
    const r = this.rTrade
    const rate = p.tradeRatePerSec * Math.pow(this.sigma / p.sigmaTicks, p.tradeVolElasticity) / 1e6 // per µs
    if (!(rate > 0)) return
    let elapsed = 0
    for (;;) {
      const wait = this.tradeHazardLeft / rate
      if (elapsed + wait >= stepUs) {
        this.tradeHazardLeft -= rate * (stepUs - elapsed)
        return
      }
      elapsed += wait
      this.tradeHazardLeft = r.exponential(1)
      const ts = t0 + Math.floor(elapsed / 1000) * 1000
      const pBuy = 0.5 + p.adverseSelection * Math.tanh(this.nextMoveZ())
      const buy = r.float() < pBuy
      const side = buy ? this.asks : this.bids
      const price0 = side.best()
      let remaining = this.clampSteps(Math.round(r.lognormal(p.tradeMedianNotional, p.tradeSizeLogSd) / (price0 * this.valuePerTickStep)), price0)
      for (let lv = 0; lv < p.maxSweepLevels && remaining > 0 && side.len > 1; lv++) {
        const take = Math.min(remaining, side.qtys[0])
        this.fill(side, take, ts)
        remaining -= take
        yield* this.drain()
      }
    }
  }

  /**
   * A taker takes `qty` from the touch of `side` (the maker side); with `cancelRest` the
   * makers pull what is left of that level at once (the stale-quote case).
   */
  private fill(side: SideBook, qty: number, ts: number, cancelRest = false): void {
    const price = side.prices[0]
    const q = side.qtys[0]
    this.setLevel(side, price, q - qty)
    if (cancelRest && q > qty) this.setLevel(side, price, 0)
    this.stats.trades++
    const ev: TradeEvent = {
      kind: 'trade',
      symbol: this.symbol,
      ts,
      localTs: this.stamp(ts),
      id: String(++this.tradeId),
      side: side.isBid ? 'sell' : 'buy',
      price: this.instrument.ticksToPrice(price),
      qty: this.instrument.stepsToQty(qty),
    }
    this.out.push(ev)
    this.tickerIfChanged(ts)
  }

  // ---- output -----------------------------------------------------------------------------

  private *drain(): Generator<MarketEvent> {
    if (this.out.length === 0) return
    for (let i = 0; i < this.out.length; i++) yield this.out[i]
    this.out.length = 0
  }

  private stamp(ts: number): number {
    const p = this.params
    let l = ts + p.latencyMinUs + Math.round(this.rFeed.exponential(p.latencyMeanUs))
    if (l < this.lastLocalTs) l = this.lastLocalTs
    this.lastLocalTs = l
    return l
  }

  private rememberTicker(): void {
    this.tkBid = this.bids.best()
    this.tkBidQ = this.bids.qtys[0]
    this.tkAsk = this.asks.best()
    this.tkAskQ = this.asks.qtys[0]
  }

  private tickerIfChanged(ts: number): void {
    if (!this.params.emitTickers) return
    const b = this.bids.best()
    const bq = this.bids.qtys[0]
    const a = this.asks.best()
    const aq = this.asks.qtys[0]
    if (b === this.tkBid && bq === this.tkBidQ && a === this.tkAsk && aq === this.tkAskQ) return
    this.rememberTicker()
    const ev: TickerEvent = {
      kind: 'ticker',
      symbol: this.symbol,
      ts,
      localTs: this.stamp(ts),
      u: this.updateId,
      bidPrice: this.instrument.ticksToPrice(b),
      bidQty: this.instrument.stepsToQty(bq),
      askPrice: this.instrument.ticksToPrice(a),
      askQty: this.instrument.stepsToQty(aq),
    }
    this.stats.tickers++
    this.out.push(ev)
  }

  private depthEvent(ts: number): DepthEvent | undefined {
    if (this.windowFirstId < 0) return undefined
    const ev: DepthEvent = {
      kind: 'depth',
      symbol: this.symbol,
      ts,
      localTs: this.stamp(ts),
      U: this.windowFirstId,
      u: this.updateId,
      pu: this.prevU,
      bids: this.fmtDirty(this.bids, this.dirtyBids),
      asks: this.fmtDirty(this.asks, this.dirtyAsks),
    }
    this.prevU = this.updateId
    this.windowFirstId = -1
    return ev
  }

  /** changed levels, ascending by price (as the venue sends them), absolute qty, 0 = deleted */
  private fmtDirty(side: SideBook, dirty: Set<number>): Level[] {
    const prices = Array.from(dirty).sort((a, b) => a - b)
    dirty.clear()
    const out: Level[] = new Array(prices.length)
    for (let i = 0; i < prices.length; i++) out[i] = [this.instrument.ticksToPrice(prices[i]), this.instrument.stepsToQty(side.qtyAt(prices[i]))]
    return out
  }

  private fmtSide(side: SideBook): Level[] {
    const out: Level[] = new Array(side.len)
    for (let i = 0; i < side.len; i++) out[i] = [this.instrument.ticksToPrice(side.prices[i]), this.instrument.stepsToQty(side.qtys[i])]
    return out
  }
}

/** Create the model (for its state accessors) without starting the stream. */
export function createSyntheticMarket(opts: SyntheticMarketOptions): SyntheticMarket {
  return new SyntheticMarket(opts)
}

/** The synthetic MarketEvent stream: a snapshot, then trades/tickers and 100 ms diffs. */
export function* syntheticMarket(opts: SyntheticMarketOptions): Generator<MarketEvent> {
  yield* new SyntheticMarket(opts).events()
}
