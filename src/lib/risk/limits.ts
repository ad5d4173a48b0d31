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
  }
}
