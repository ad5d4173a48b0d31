/**
 * The JSON config file (SPEC.md §6): every key of §3 (strategy) and §4 (risk), fees and
 * the paper venue's knobs, each with a unit, a default and a range.
 *
 * - Every key has a default, so `{}` (or no file at all) is a valid config; sizes and the
 *   stop-loss are symbol-dependent and should be set for the symbol traded.
 * - Unknown keys are errors (typo protection). `"$comment"` (a string) is allowed in every
 *   section so the example file can carry notes; it is ignored.
 * - Sizes are decimal strings in base units; they become integer lot steps in
 *   `resolveConfig` (resolve.ts), which needs the Instrument.
 * - Durations are integer milliseconds when the key ends in `Ms` or is `baseInterval`,
 *   seconds when it ends in `Sec`/`Seconds`. Every `...Pct` and spread is a fraction
 *   (0.002 = 0.2 %).
 *
 * Each leaf carries `.meta({unit, expected, doc})`; `configKeys()` lists them for
 * docs/config.md and for the loader's error messages.
 */
import {z} from 'zod'

export interface KeyMeta {
  /** unit of the value, e.g. 'fraction of mid', 'ms', 'base units' */
  unit: string
  /** human text of the accepted range, used in error messages */
  expected: string
  /** one-line description */
  doc: string
}

const DEC_RE = /^\d+(\.\d+)?$/
const SIGNED_DEC_RE = /^-?\d+(\.\d+)?$/

function num(o: {def: number; min?: number; max?: number; minExclusive?: boolean; int?: boolean; unit: string; doc: string}) {
  let s = o.int ? z.number().int() : z.number()
  if (o.min !== undefined) s = o.minExclusive ? s.gt(o.min) : s.gte(o.min)
  if (o.max !== undefined) s = s.lte(o.max)
  const kind = o.int ? 'an integer' : 'a number'
  const lo = o.min === undefined ? '' : `${o.minExclusive ? '>' : '≥'} ${o.min}`
  const hi = o.max === undefined ? '' : `≤ ${o.max}`
  const range = [lo, hi].filter(Boolean).join(' and ')
  const expected = `${kind}${range ? ' ' + range : ''} (${o.unit})`
  return s.default(o.def).meta({unit: o.unit, expected, doc: o.doc} satisfies KeyMeta)
}

function size(o: {def: string; unit: string; doc: string}) {
  const expected = `a decimal string > 0, e.g. "${o.def}" (${o.unit})`
  return z
    .string()
    .regex(DEC_RE)
    .refine((s) => /[1-9]/.test(s), {message: 'must be > 0'})
    .default(o.def)
    .meta({unit: o.unit, expected, doc: o.doc} satisfies KeyMeta)
}

function rate(o: {def: string; doc: string}) {
  const expected = 'a decimal string between "-0.01" and "0.01", e.g. "0.0002" (fraction of notional; negative = rebate)'
  return z
    .string()
    .regex(SIGNED_DEC_RE)
    .refine((s) => Math.abs(Number(s)) <= 0.01, {message: 'out of range'})
    .default(o.def)
    .meta({unit: 'fraction of notional', expected, doc: o.doc} satisfies KeyMeta)
}

function bool(o: {def: boolean; doc: string}) {
  return z.boolean().default(o.def).meta({unit: 'boolean', expected: 'true or false', doc: o.doc} satisfies KeyMeta)
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T, o: {def: T[number]; doc: string}) {
  return z
    .enum(values)
    .default(o.def as never)
    .meta({unit: 'enum', expected: `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`, doc: o.doc} satisfies KeyMeta)
}

const comment = z.string().optional().meta({unit: 'text', expected: 'a string', doc: 'free text, ignored'} satisfies KeyMeta)

export const strategySchema = z.strictObject({
  $comment: comment,
  kind: oneOf(['v2', 'naive'] as const, {def: 'v2', doc: "'v2': the rules of SPEC §3; 'naive': fixed symmetric spread around mid (baseline)"}),
  // 3.1 dynamic spread
  baseSpread: num({def: 0.001, min: 0, minExclusive: true, max: 0.1, unit: 'fraction of mid', doc: 'total quoted spread when quiet and flat (half on each side of the centre)'}),
  baseSize: size({def: '0.01', unit: 'base units', doc: 'size per side and cycle (dynamic + static layer together); must be on the lot step and ≥ minQty'}),
  baseInterval: num({def: 1000, min: 50, max: 600_000, int: true, unit: 'ms', doc: 'quote refresh interval when quiet; quoteInterval = baseInterval × (1 + volatilityFactor)'}),
  inventoryK: num({def: 1, min: 0, max: 10, unit: 'factor', doc: 'inventoryFactor = clamp(inventoryK × net / netMax, −1, 1)'}),
  volWindowSec: num({def: 60, min: 1, max: 3600, int: true, unit: 's', doc: 'window of 1-second mid samples for the volatility factor'}),
  volK: num({def: 1, min: 0, max: 100, unit: 'factor', doc: 'volatilityFactor = min(volFactorMax, volK × mean |Δmid/mid| / baseSpread)'}),
  volFactorMax: num({def: 3, min: 0, max: 100, unit: 'factor', doc: 'cap of volatilityFactor'}),
  // 3.3 join inside the spread
  joinEnabled: bool({def: true, doc: 'quote one tick inside the best price when the book spread allows it (3.3)'}),
  joinMinSpreadTicks: num({def: 3, min: 2, max: 1_000_000, int: true, unit: 'ticks', doc: 'minimum book spread (best ask − best bid) for joining'}),
  joinMaxVolFactor: num({def: 1, min: 0, max: 100, unit: 'factor', doc: 'no joining while volatilityFactor ≥ this'}),
  joinCooldownMs: num({def: 30_000, min: 0, max: 86_400_000, int: true, unit: 'ms', doc: 'no joining on a side for this long after a join failed there (adverse fill or post-only reject)'}),
  joinAdverseTicks: num({def: 2, min: 0, max: 1_000_000, int: true, unit: 'ticks', doc: 'a joined fill is adverse when the mid moves through its price by more than this'}),
  joinAdverseMs: num({def: 1000, min: 0, max: 3_600_000, int: true, unit: 'ms', doc: '… within this long after the fill'}),
  // 3.3 post-only reject back-off
  postOnlyBackoffTicks: num({def: 1, min: 0, max: 10_000, int: true, unit: 'ticks', doc: 'widen a side by this per consecutive post-only reject (-5022)'}),
  postOnlyMaxBackoffTicks: num({def: 10, min: 0, max: 100_000, int: true, unit: 'ticks', doc: 'cap of the post-only back-off of a side'}),
  // 3.4 take profit
  takeProfitPct: num({def: 0.002, min: 0, max: 1, unit: 'fraction of avgCost', doc: 'move the reducing quote to the mid when the position is this far in profit (0 = off)'}),
  // 3.5 layers, degrade, instant retry
  staticFraction: num({def: 0, min: 0, max: 1, unit: 'fraction of baseSize', doc: 'share of baseSize quoted as the static post-only layer (0 = no static layer)'}),
  staticTicks: num({def: 5, min: 0, max: 1_000_000, int: true, unit: 'ticks', doc: 'replace a static order only when its price is off by more than this'}),
  degradeMs: num({def: 2000, min: 0, max: 3_600_000, int: true, unit: 'ms', doc: 'after a -5022 on a side, quote that side as a plain GTC limit (at the backed-off price) for this long (0 = off)'}),
  instantRetry: bool({def: true, doc: 'retry a post-only-rejected dynamic order once at the same price without post-only'}),
  // ---- calib (issue 12): joining never overrides the skew (3.3), fair value
  joinMaxNetFraction: num({def: 0.5, min: 0, max: 1, unit: 'fraction of the reduce-only threshold', doc: 'a side does not join when its fill would take |net| past this × the reduce-only threshold (joining never adds to inventory against the skew)'}),
  joinFillCooldownMs: num({def: 1000, min: 0, max: 3_600_000, int: true, unit: 'ms', doc: 'no joining on a side for this long after any fill on that side (0 = off)'}),
  instantRetryMax: num({def: 2, min: 0, max: 1000, int: true, unit: 'retries per side', doc: 'at most this many instant retries on a side within instantRetryWindowMs (0 = none); further -5022s on that side wait for the next quote'}),
  instantRetryWindowMs: num({def: 10_000, min: 0, max: 3_600_000, int: true, unit: 'ms', doc: 'sliding window of instantRetryMax'}),
  fairValue: oneOf(['mid', 'microprice'] as const, {def: 'mid', doc: "centre the spread and skew are applied to: 'mid' = (bestBid + bestAsk)/2, 'microprice' = (bestBid × askQty + bestAsk × bidQty)/(bidQty + askQty), own orders excluded"}),
})

export const riskSchema = z.strictObject({
  $comment: comment,
  netMax: size({def: '0.1', unit: 'base units', doc: 'hard cap of |net| counting working orders as filled; also scales inventoryFactor'}),
  reduceOnlyThreshold: num({def: 3, min: 0, minExclusive: true, max: 1_000_000, unit: 'multiples of baseSize', doc: 'reduce-only state while |net| ≥ reduceOnlyThreshold × baseSize'}),
  stopLoss: num({def: -50, max: 0, unit: 'quote currency', doc: 'halt and flatten when unrealised PnL < this (negative; 0 = off)'}),
  shockPct: num({def: 0.01, min: 0, minExclusive: true, max: 1, unit: 'fraction of mid', doc: 'a single mid move larger than this halts quoting'}),
  haltSeconds: num({def: 300, min: 0, max: 30 * 86_400, int: true, unit: 's', doc: 'duration of a shock or stop-loss halt'}),
  staleBookMs: num({def: 5000, min: 100, max: 3_600_000, int: true, unit: 'ms', doc: 'no book update for this long → cancel all and pause'}),
  reduceOnlyMaxSlippagePct: num({def: 0.002, min: 0, minExclusive: true, max: 0.5, unit: 'fraction of mid', doc: 'reduce-only IOC limit never beyond mid × (1 ± this)'}),
  reduceOnlyMarketTriggerPct: num({def: 0, min: 0, max: 1, unit: 'fraction of avgCost', doc: 'close at once with IOC through the book when the unrealised profit rate ≥ this (0 = off)'}),
  reduceOnlyReplaceTolerancePct: num({def: 0.0005, min: 0, max: 0.5, unit: 'fraction of price', doc: 'keep a resting reduce-only order in profit unless its price is off by more than this'}),
  iocExpiredFallbackCount: num({def: 2, min: 1, max: 1000, int: true, unit: 'orders', doc: 'after this many reduce-only IOCs in a row came back EXPIRED, price at mid ± slippage cap (fallback ladder)'}),
  fallbackSlippageMultiplier: num({def: 2, min: 1, max: 100, unit: 'factor', doc: 'multiply the fallback slippage pct by this on each further round'}),
  fallbackSlippageMax: num({def: 0.02, min: 0, minExclusive: true, max: 0.5, unit: 'fraction of mid', doc: 'cap of the fallback slippage pct'}),
  // ---- liveb (issue 10): SPEC §4.6 loss and liquidation
  maxDailyLoss: num({def: 0, min: 0, max: 1e12, unit: 'quote currency', doc: 'flatten and halt until mm resume when realised + unrealised − fees since 00:00 UTC reaches −maxDailyLoss (positive amount; 0 = off)'}),
  minLiquidationDistancePct: num({def: 0.03, min: 0, max: 1, unit: 'fraction of mark', doc: "live: reduce-only while the venue's liquidation price is closer than this to the mark price (0 = off)"}),
})

export const feesSchema = z.strictObject({
  $comment: comment,
  maker: rate({def: '0.0002', doc: 'maker fee rate (negative = rebate); paper venue and reports'}),
  taker: rate({def: '0.0005', doc: 'taker fee rate (negative = rebate); paper venue and reports'}),
})

export const paperSchema = z.strictObject({
  $comment: comment,
  entryLatencyMs: num({def: 25, min: 0, max: 60_000, int: true, unit: 'ms', doc: 'paper venue: order/cancel reaches the matching engine this long after it was sent'}),
  responseLatencyMs: num({def: 25, min: 0, max: 60_000, int: true, unit: 'ms', doc: 'paper venue: ack/reject/fill reaches the strategy this long after the engine produced it'}),
  queueModel: oneOf(['conservative', 'prob-power', 'prob-log'] as const, {def: 'conservative', doc: "paper venue queue-position model: 'conservative' (risk averse: only trades and shrinking levels advance), 'prob-power' (f(x)=x^queuePower), 'prob-log' (f(x)=log(1+x))"}),
  queuePower: num({def: 2, min: 0, minExclusive: true, max: 10, unit: 'exponent', doc: "exponent of the 'prob-power' queue model"}),
})

// ---- order lifecycle (src/lib/orders/lifecycle.ts): in-doubt places and cancels
export const ordersSchema = z.strictObject({
  $comment: comment,
  ackTimeoutMs: num({def: 2000, min: 10, max: 600_000, int: true, unit: 'ms', doc: 'a place or cancel with no answer after this long is in doubt: a cancel is sent again, a place is queried by client id (never sent twice)'}),
  recvWindowMs: num({def: 5000, min: 100, max: 60_000, int: true, unit: 'ms', doc: "a place the venue does not know once this long has passed since it was sent was never created (Binance's recvWindow)"}),
  cancelAttempts: num({def: 3, min: 1, max: 100, int: true, unit: 'cancels', doc: 'cancels sent for one order without an answer before it is queried instead'}),
})

// live trading on Binance (venue/binance: gateway, rate governor, user stream, dead-man's switch, audit)
export const liveSchema = z.strictObject({
  $comment: comment,
  selfTradePrevention: oneOf(['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'] as const, {def: 'EXPIRE_MAKER', doc: 'selfTradePreventionMode sent with every order (always sent: the venue documents two different defaults)'}),
  requestTimeoutMs: num({def: 5000, min: 100, max: 60_000, int: true, unit: 'ms', doc: 'per-request timeout of the signed REST gateway; a timeout leaves the request in doubt (settled by a query)'}),
  deadmanCountdownMs: num({def: 120_000, min: 1000, max: 3_600_000, int: true, unit: 'ms', doc: "dead-man's switch (countdownCancelAll): the venue cancels every order of the symbol if not refreshed within this long"}),
  deadmanRefreshMs: num({def: 30_000, min: 200, max: 3_600_000, int: true, unit: 'ms', doc: "refresh period of the dead-man's switch; must be below deadmanCountdownMs"}),
  auditIntervalMs: num({def: 30_000, min: 1000, max: 3_600_000, int: true, unit: 'ms', doc: 'period of the REST audit (open orders ⊆ intended orders, position equal)'}),
  listenKeyKeepAliveMs: num({def: 1_800_000, min: 1000, max: 3_000_000, int: true, unit: 'ms', doc: 'user data stream keep-alive period (a listenKey lives 60 min)'}),
  rateSlowAt: num({def: 0.5, min: 0, minExclusive: true, max: 1, unit: 'fraction of a limit', doc: 'rate governor: slow quoting from this share of a request-weight or order-count limit'}),
  ratePauseAt: num({def: 0.85, min: 0, minExclusive: true, max: 1, unit: 'fraction of a limit', doc: 'rate governor: no new orders from this share of a limit until its window ends; must be above rateSlowAt'}),
  stormWindowMs: num({def: 60_000, min: 1000, max: 3_600_000, int: true, unit: 'ms', doc: 'window in which rejects, 5xx, -1008 and unknown outcomes are counted'}),
  stormSlowAt: num({def: 5, min: 1, max: 10_000, int: true, unit: 'count', doc: 'that many in the window slow quoting'}),
  stormHaltAt: num({def: 20, min: 1, max: 10_000, int: true, unit: 'count', doc: 'that many in the window halt quoting (risk_event); must be above stormSlowAt'}),
  // ---- order transport (issue 10 item 6, helper "wsorders"): orders over the WebSocket API
  orderTransport: oneOf(['rest', 'ws'] as const, {def: 'rest', doc: "where place / cancel / query go: 'rest', or 'ws' (the WebSocket API, falling back to REST while it cannot be reached); --order-transport overrides"}),
  // ---- start-up JIT warm-up (issue 10 tick-to-order, helper "warmup"): src/lib/engine/warmup.ts
  warmupIterations: num({def: 2000, min: 0, max: 100_000, int: true, unit: 'decisions', doc: 'before the first order: run the decision path (risk, strategy, reconcile, lifecycle, signed request build) this many times on synthetic books, nothing sent or logged, within live.warmupBudgetMs (0 = off)'}),
  warmupBudgetMs: num({def: 300, min: 0, max: 10_000, int: true, unit: 'ms', doc: 'wall-time bound of that warm-up (it ends at whichever bound comes first); the first order waits for it'}),
  preWarmMs: num({def: 150, min: 0, max: 10_000, int: true, unit: 'ms', doc: 'once a re-price is due within this long, run the decision on the current state once ahead, its result dropped (nothing sent or logged), so its code and data are in the CPU caches when it comes due (0 = off)'}),
})

// ---- reliability (issue 13, helper "harden"): the live feed's sync budget, replay input checks
export const feedSchema = z.strictObject({
  $comment: comment,
  syncBudgetMs: num({def: 60_000, min: 1000, max: 86_400_000, int: true, unit: 'ms', doc: 'live market data: a book that cannot sync (or re-sync) for this long ends the run with exit 1 and the reason (record: --sync-timeout)'}),
})

export const replaySchema = z.strictObject({
  $comment: comment,
  timeToleranceMs: num({def: 1000, min: 0, max: 3_600_000, int: true, unit: 'ms', doc: 'replay: local time may go back this much (venue-time inversions of real captures); more is refused (exit 2)'}),
  maxGapMs: num({def: 21_600_000, min: 1000, max: 31_536_000_000, int: true, unit: 'ms', doc: 'replay: a quiet stretch longer than this between consecutive events (two captures days apart) is refused (exit 2)'}),
})

export const configSchema = z.strictObject({
  $comment: comment,
  strategy: strategySchema.prefault({}),
  risk: riskSchema.prefault({}),
  fees: feesSchema.prefault({}),
  paper: paperSchema.prefault({}),
  orders: ordersSchema.prefault({}),
  live: liveSchema.prefault({}),
  feed: feedSchema.prefault({}),
  replay: replaySchema.prefault({}),
})

/** The validated file, every default filled in. */
export type MmConfig = z.output<typeof configSchema>
/** What a config file may contain (every key optional). */
export type MmConfigInput = z.input<typeof configSchema>
export type StrategyConfig = MmConfig['strategy']
export type RiskConfig = MmConfig['risk']
export type FeesConfig = MmConfig['fees']
export type PaperConfig = MmConfig['paper']
export type OrdersConfig = MmConfig['orders']
export type LiveConfig = MmConfig['live']
export type StrategyKind = StrategyConfig['kind']

export const SECTIONS = {strategy: strategySchema, risk: riskSchema, fees: feesSchema, paper: paperSchema, orders: ordersSchema, live: liveSchema, feed: feedSchema, replay: replaySchema} as const

export interface KeyInfo extends KeyMeta {
  /** dotted path, e.g. 'strategy.baseSpread' */
  path: string
  default: unknown
}

/** Every documented leaf key (without `$comment`), in schema order. */
export function configKeys(): KeyInfo[] {
  const out: KeyInfo[] = []
  for (const [section, schema] of Object.entries(SECTIONS)) {
    for (const [key, leaf] of Object.entries(schema.shape)) {
      if (key === '$comment') continue
      const meta = (leaf as z.ZodType).meta() as KeyMeta | undefined
      if (!meta) continue
      const def = (schema.parse({}) as Record<string, unknown>)[key]
      out.push({path: `${section}.${key}`, default: def, ...meta})
    }
  }
  return out
}

/** The defaults of every key: `configSchema.parse({})`. */
export function defaultConfig(): MmConfig {
  return configSchema.parse({})
}

export {DEC_RE, SIGNED_DEC_RE}

/** The paper venue's knobs in the shape of venue/paper's `PaperVenueConfig` (fees from `fees.*`). */
export function paperVenueOptions(cfg: MmConfig): {entryLatencyMs: number; responseLatencyMs: number; queueModel: PaperConfig['queueModel']; queuePower: number; makerFeeRate: string; takerFeeRate: string} {
  return {
    entryLatencyMs: cfg.paper.entryLatencyMs,
    responseLatencyMs: cfg.paper.responseLatencyMs,
    queueModel: cfg.paper.queueModel,
    queuePower: cfg.paper.queuePower,
    makerFeeRate: cfg.fees.maker,
    takerFeeRate: cfg.fees.taker,
  }
}
