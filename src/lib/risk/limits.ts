import type {CoreConfig} from '../config/resolve.js'
import type {Instrument} from '../domain/instrument.js'
import {quoteToUnitsCeil} from '../orders/position.js'
import type {RiskLimits} from './types.js'

/** The shock rule compares against 1-second mid samples, the same grid as §3.1's r_t. */
export const SHOCK_WINDOW_MS = 1000

/** Resolve the risk limits once per run (the only Decimal use; the hot path compares BigInts). */
export function riskLimits(cfg: CoreConfig, inst: Instrument): RiskLimits {
  return {
    naive: cfg.kind === 'naive',
    netMaxSteps: cfg.netMaxSteps,
    reduceOnlyThresholdSteps: cfg.reduceOnlyThresholdSteps,
    stopLossUnits: cfg.stopLoss < 0 ? quoteToUnitsCeil(cfg.stopLoss, inst) : null,
    stopLoss: cfg.stopLoss,
    shockPct: cfg.shockPct,
    shockWindowMs: SHOCK_WINDOW_MS,
    haltMs: cfg.haltMs,
    staleBookMs: cfg.staleBookMs,
    reduceOnlyMaxSlippagePct: cfg.reduceOnlyMaxSlippagePct,
    maxDailyLossUnits: cfg.maxDailyLoss > 0 ? quoteToUnitsCeil(cfg.maxDailyLoss, inst) : null,
    maxDailyLoss: cfg.maxDailyLoss,
    minLiquidationDistancePct: cfg.minLiquidationDistancePct,
    feesToUnits: feesConverter(inst),
  }
}

/** Fees (quote decimal string) → cost units, rounded up (a fee counts at least in full); remembers the last answer. */
function feesConverter(inst: Instrument): (fees: string) => bigint {
  let last = '0'
  let units = 0n
  return (fees) => {
    if (fees !== last) {
      units = quoteToUnitsCeil(fees, inst)
      last = fees
    }
    return units
  }
}
