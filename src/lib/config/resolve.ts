/**
 * From the validated file (decimal strings, seconds) to the core-ready config: integer
 * lot steps, ms, fractions. Needs the Instrument; checks the sizes against its grid.
 */
import {Decimal} from 'decimal.js'
import type {Instrument, Steps} from '../domain/instrument.js'
import {configError, type ConfigIssue} from './load.js'
import type {MmConfig, StrategyKind} from './schema.js'

export interface CoreConfig {
  kind: StrategyKind
  // ---- 3.1 / 3.2
  /** fraction of mid */
  baseSpread: number
  baseIntervalMs: number
  inventoryK: number
  volWindowSec: number
  volK: number
  volFactorMax: number
  // ---- sizes (steps)
  /** strategy.baseSize in steps: total size per side (dynamic + static) */
  baseSizeSteps: Steps
  /** floor(staticFraction × baseSize) to the step; 0 = no static layer */
  staticSizeSteps: Steps
  /** baseSizeSteps − staticSizeSteps */
  dynamicSizeSteps: Steps
  // ---- 3.3
  joinEnabled: boolean
  joinMinSpreadTicks: number
  joinMaxVolFactor: number
  joinCooldownMs: number
  joinAdverseTicks: number
  joinAdverseMs: number
  postOnlyBackoffTicks: number
  postOnlyMaxBackoffTicks: number
  // ---- 3.4
  takeProfitPct: number
  // ---- 3.5
  staticTicks: number
  degradeMs: number
  instantRetry: boolean
  // ---- calib (issue 12)
  joinMaxNetFraction: number
  joinFillCooldownMs: number
  instantRetryMax: number
  instantRetryWindowMs: number
  fairValue: 'mid' | 'microprice'
  // ---- risk (§4 and the reduce-only pricing of 3.4)
  /** hard cap of |net| in steps */
  netMaxSteps: Steps
  /** reduce-only while |net| ≥ this (ceil(reduceOnlyThreshold × baseSize) in steps) */
  reduceOnlyThresholdSteps: Steps
  /** quote currency, ≤ 0 (0 = off) */
  stopLoss: number
  shockPct: number
  haltMs: number
  staleBookMs: number
  reduceOnlyMaxSlippagePct: number
  reduceOnlyMarketTriggerPct: number
  reduceOnlyReplaceTolerancePct: number
  iocExpiredFallbackCount: number
  fallbackSlippageMultiplier: number
  fallbackSlippageMax: number
  /** §4.6: quote currency, ≥ 0 (0 = off) */
  maxDailyLoss: number
  /** §4.6: fraction of the mark (0 = off) */
  minLiquidationDistancePct: number
  // ---- fees (decimal strings, fractions of notional, negative = rebate)
  makerFeeRate: string
  takerFeeRate: string
  // ---- order lifecycle (orders.*)
  ackTimeoutMs: number
  recvWindowMs: number
  cancelAttempts: number
}

/**
 * Convert sizes to steps with the instrument and check them: baseSize on the step grid
 * and ≥ minQty, netMax on the grid and ≥ baseSize, the reduce-only threshold ≤ netMax.
 * Throws ConfigError listing every problem.
 */
export function resolveConfig(cfg: MmConfig, inst: Instrument, source = 'config'): CoreConfig {
  const issues: ConfigIssue[] = []
  const step = inst.spec.stepSize
  const toSteps = (path: string, value: string): Steps | undefined => {
    const d = new Decimal(value).div(step)
    if (!d.isInteger()) {
      issues.push({path, value, expected: `a multiple of the lot step ${step} of ${inst.symbol}`})
      return undefined
    }
    if (!d.lte(Number.MAX_SAFE_INTEGER)) {
      issues.push({path, value, expected: 'a size that fits in exact integer steps'})
      return undefined
    }
    return d.toNumber()
  }
  const base = toSteps('strategy.baseSize', cfg.strategy.baseSize)
  if (base !== undefined && base < inst.minQtySteps) {
    issues.push({path: 'strategy.baseSize', value: cfg.strategy.baseSize, expected: `≥ minQty ${inst.spec.minQty} of ${inst.symbol}`})
  }
  if (base !== undefined && base > inst.maxQtySteps) {
    issues.push({path: 'strategy.baseSize', value: cfg.strategy.baseSize, expected: `≤ maxQty ${inst.spec.maxQty} of ${inst.symbol}`})
  }
  const netMax = toSteps('risk.netMax', cfg.risk.netMax)
  if (base !== undefined && netMax !== undefined && netMax < base) {
    issues.push({path: 'risk.netMax', value: cfg.risk.netMax, expected: `≥ strategy.baseSize (${cfg.strategy.baseSize})`})
  }
  let threshold = 0
  if (base !== undefined) {
    threshold = new Decimal(cfg.risk.reduceOnlyThreshold).mul(base).ceil().toNumber()
    if (netMax !== undefined && threshold > netMax) {
      issues.push({
        path: 'risk.reduceOnlyThreshold',
        value: cfg.risk.reduceOnlyThreshold,
        expected: `≤ risk.netMax / strategy.baseSize (${new Decimal(netMax).div(base).toString()}), else reduce-only never engages before the hard cap`,
      })
    }
  }
  if (issues.length > 0 || base === undefined || netMax === undefined) throw configError(issues, source)
  const staticSteps = new Decimal(cfg.strategy.staticFraction).mul(base).floor().toNumber()
  const s = cfg.strategy
  const r = cfg.risk
  return {
    kind: s.kind,
    baseSpread: s.baseSpread,
    baseIntervalMs: s.baseInterval,
    inventoryK: s.inventoryK,
    volWindowSec: s.volWindowSec,
    volK: s.volK,
    volFactorMax: s.volFactorMax,
    baseSizeSteps: base,
    staticSizeSteps: staticSteps,
    dynamicSizeSteps: base - staticSteps,
    joinEnabled: s.joinEnabled,
    joinMinSpreadTicks: s.joinMinSpreadTicks,
    joinMaxVolFactor: s.joinMaxVolFactor,
    joinCooldownMs: s.joinCooldownMs,
    joinAdverseTicks: s.joinAdverseTicks,
    joinAdverseMs: s.joinAdverseMs,
    postOnlyBackoffTicks: s.postOnlyBackoffTicks,
    postOnlyMaxBackoffTicks: s.postOnlyMaxBackoffTicks,
    takeProfitPct: s.takeProfitPct,
    staticTicks: s.staticTicks,
    degradeMs: s.degradeMs,
    instantRetry: s.instantRetry,
    joinMaxNetFraction: s.joinMaxNetFraction,
    joinFillCooldownMs: s.joinFillCooldownMs,
    instantRetryMax: s.instantRetryMax,
    instantRetryWindowMs: s.instantRetryWindowMs,
    fairValue: s.fairValue,
    netMaxSteps: netMax,
    reduceOnlyThresholdSteps: threshold,
    stopLoss: r.stopLoss,
    shockPct: r.shockPct,
    haltMs: r.haltSeconds * 1000,
    staleBookMs: r.staleBookMs,
    reduceOnlyMaxSlippagePct: r.reduceOnlyMaxSlippagePct,
    reduceOnlyMarketTriggerPct: r.reduceOnlyMarketTriggerPct,
    reduceOnlyReplaceTolerancePct: r.reduceOnlyReplaceTolerancePct,
    iocExpiredFallbackCount: r.iocExpiredFallbackCount,
    fallbackSlippageMultiplier: r.fallbackSlippageMultiplier,
    fallbackSlippageMax: r.fallbackSlippageMax,
    maxDailyLoss: r.maxDailyLoss,
    minLiquidationDistancePct: r.minLiquidationDistancePct,
    makerFeeRate: cfg.fees.maker,
    takerFeeRate: cfg.fees.taker,
    ackTimeoutMs: cfg.orders.ackTimeoutMs,
    recvWindowMs: cfg.orders.recvWindowMs,
    cancelAttempts: cfg.orders.cancelAttempts,
  }
}
