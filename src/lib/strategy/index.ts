/**
 * The pure strategy. `quote` picks the rules by `cfg.kind`; the handlers update the state
 * on venue events. No I/O, no clock, no randomness: the same input gives the same output.
 */
import type {CoreConfig} from '../config/resolve.js'
import type {Instrument} from '../domain/instrument.js'
import {quoteNaive} from './naive.js'
import type {QuoteInput, QuoteResult, StrategyState} from './types.js'
import {finishQuote, type QuotePlan, quoteV2Plan} from './v2.js'

export function quote(input: QuoteInput, state: StrategyState, cfg: CoreConfig, inst: Instrument): QuoteResult {
  return finishQuote(quotePlan(input, state, cfg, inst))
}

/** The quote up to its intents; `finishQuote` does the rest (v2's change key and strategy_adjust) once the orders have left. */
export function quotePlan(input: QuoteInput, state: StrategyState, cfg: CoreConfig, inst: Instrument): QuotePlan {
  return cfg.kind === 'naive' ? quoteNaive(input, state, cfg, inst) : quoteV2Plan(input, state, cfg, inst)
}

export * from './types.js'
export {estimateFillPrice, othersBest, readTop, type Top, type TopResult} from './book.js'
export {backoffTicks, isDegraded, onFill, onIocResult, onMid, onOrderAccepted, onPostOnlyReject, volatilityFactor, type RejectedOrder} from './handlers.js'
export {ceilTick, floorTick} from './math.js'
export {asIntent, capPrice, planFlatten, planReduceIoc, reduceSlippagePct, type ReduceArgs, type ReducePlan} from './reduce.js'
export {finishQuote, formulaQuote, quoteV2, quoteV2Plan, type Factors, type QuotePlan, type QuoteReport} from './v2.js'
export {quoteNaive} from './naive.js'
