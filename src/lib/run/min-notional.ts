/**
 * The start-up check of strategy.baseSize against the symbol's MIN_NOTIONAL: an order of
 * baseSize at the mid below it is dropped by the strategy (a strategy_adjust
 * `order_dropped` event) and nothing is ever placed. Said once, on stderr, when the first
 * mid is known — a note, not an exit: the price may move (docs/config.md, strategy.baseSize).
 */
import {PlainDecimal} from '../domain/decimal.js'
import type {Instrument} from '../domain/instrument.js'

/** The note when baseSize × mid < minNotional, else null. Prices and sizes as decimal strings. */
export function minNotionalNote(baseSize: string, mid: string, inst: Instrument): string | null {
  const size = new PlainDecimal(baseSize)
  const price = new PlainDecimal(mid)
  const min = new PlainDecimal(inst.spec.minNotional)
  if (!price.gt(0) || !size.gt(0)) return null
  const notional = size.mul(price)
  if (notional.gte(min)) return null
  // the smallest size on the lot step whose notional at this mid reaches the minimum
  const steps = min.div(price).div(new PlainDecimal(inst.spec.stepSize)).ceil().toNumber()
  const need = inst.stepsToQty(Math.max(steps, inst.minQtySteps))
  return `strategy.baseSize ${baseSize} × ${mid} = ${notional.toString()} is below ${inst.symbol}'s min notional ${inst.spec.minNotional}: no quote can be placed (raise baseSize to ≥ ${need})`
}
