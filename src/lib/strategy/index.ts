/**
 * The pure strategy. `quote` picks the rules by `cfg.kind`; the handlers update the state
 * on venue events. No I/O, no clock, no randomness: the same input gives the same output.
 */
import type {CoreConfig} from '../config/resolve.js'
import type {Instrument} from '../domain/instrument.js'
import {quoteNaive} from './naive.js'
import type {QuoteInput, QuoteResult, StrategyState} from './types.js'
import {quoteV2} from './v2.js'

export function quote(input: QuoteInput, state: StrategyState, cfg: CoreConfig, inst: Instrument): QuoteResult {
  return cfg.kind === 'naive' ? quoteNaive(input, state, cfg, inst) : quoteV2(input, state, cfg, inst)
}

export * from './types.js'
export {estimateFillPrice, othersBest, readTop, type Top, type TopResult} from './book.js'
export {backoffTicks, isDegraded, onFill, onIocResult, onMid, onOrderAccepted, onPostOnlyReject, volatilityFactor, type RejectedOrder} from './handlers.js'
export {ceilTick, floorTick} from './math.js'
export {asIntent, capPrice, planFlatten, planReduceIoc, reduceSlippagePct, type ReduceArgs, type ReducePlan} from './reduce.js'
export {formulaQuote, quoteV2, type Factors} from './v2.js'
export {quoteNaive} from './naive.js'
