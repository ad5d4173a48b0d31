/**
 * The start-up check of strategy.baseSize against the symbol's MIN_NOTIONAL: an order of
 * baseSize at the mid below it is dropped by the strategy (a strategy_adjust
 * `order_dropped` event) and nothing is ever placed. Said once, on stderr, when the first
 * mid is known — a note, not an exit: the price may move (docs/config.md, strategy.baseSize).
 * The same for the layers strategy.staticFraction splits baseSize into (static
 * floor(staticFraction × baseSize) to the step, dynamic the rest): baseSize may clear the
 * minimum while a layer does not, and that layer is never placed.
 */
import {PlainDecimal} from '../domain/decimal.js'
import type {Instrument} from '../domain/instrument.js'

/**
 * The note when baseSize × mid (or one of its layers) < minNotional, else null. Prices and sizes as decimal strings.
 * With `baseSpread` (strategy.baseSpread): also when baseSize clears the minimum at the mid but not at the
 * bid the strategy quotes at that spread (the mid less half of it, down to the tick): the bid is then
 * dropped at every decision and only the ask rests (seen against `mm sim --min-notional 102` with the
 * baseSize 0.030 the note at the mid asked for: 10 asks, 1 bid in 12 s, without a word).
 */
export function minNotionalNote(baseSize: string, mid: string, inst: Instrument, staticFraction = 0, baseSpread = 0): string | null {
  const size = new PlainDecimal(baseSize)
  const price = new PlainDecimal(mid)
  const min = new PlainDecimal(inst.spec.minNotional)
  if (!price.gt(0) || !size.gt(0)) return null
  const step = new PlainDecimal(inst.spec.stepSize)
  // the bid the strategy quotes at this mid (the mid less half of baseSpread, down to the
  // tick): the lowest price an order of baseSize (or of a layer) goes out at, so the size
  // suggested is the one that clears the minimum there — at the mid alone, the size the note
  // asked for could still leave the bid below it (a second note at the next start)
  const tick = new PlainDecimal(inst.spec.tickSize)
  const bid = baseSpread > 0 ? price.mul(new PlainDecimal(1).sub(new PlainDecimal(baseSpread).div(2))).div(tick).floor().mul(tick) : price
  const lowest = bid.gt(0) ? bid : price
  // the fewest steps whose notional at that price reaches the minimum
  const minSteps = Math.max(min.div(lowest).div(step).ceil().toNumber(), inst.minQtySteps)
  const notional = size.mul(price)
  if (notional.lt(min)) {
    const need = inst.stepsToQty(minSteps)
    return `strategy.baseSize ${baseSize} × ${mid} = ${notional.toString()} is below ${inst.symbol}'s min notional ${inst.spec.minNotional}: no quote can be placed (raise baseSize to ≥ ${need}${lowest === price ? '' : `, which clears it at the bid ${bid.toString()} too`})`
  }
  if (lowest !== price) {
    const atBid = size.mul(bid)
    if (atBid.lt(min)) {
      return `strategy.baseSize ${baseSize} × the bid ${bid.toString()} (mid ${mid} less half of strategy.baseSpread ${baseSpread}) = ${atBid.toString()} is below ${inst.symbol}'s min notional ${inst.spec.minNotional}: the bid is dropped, only the ask is quoted (raise baseSize to ≥ ${inst.stepsToQty(minSteps)})`
    }
  }
  if (!(staticFraction > 0)) return null
  const layers = (steps: number) => {
    const st = new PlainDecimal(staticFraction).mul(steps).floor().toNumber()
    return {static: st, dynamic: steps - st}
  }
  const fits = (n: number) => n === 0 || n >= minSteps
  const base = size.div(step).floor().toNumber()
  const l = layers(base)
  if (fits(l.static) && fits(l.dynamic)) return null
  const short = [l.dynamic > 0 && !fits(l.dynamic) ? `dynamic ${inst.stepsToQty(l.dynamic)}` : '', l.static > 0 && !fits(l.static) ? `static ${inst.stepsToQty(l.static)}` : ''].filter((x) => x !== '')
  // the smallest baseSize whose layers both clear the minimum (bounded search)
  let need: string | null = null
  for (let s = base + 1, i = 0; i < 1_000_000; s++, i++) {
    const n = layers(s)
    if (fits(n.static) && fits(n.dynamic)) {
      need = inst.stepsToQty(s)
      break
    }
  }
  return `strategy.staticFraction ${staticFraction} splits baseSize ${baseSize} into layers below ${inst.symbol}'s min notional ${inst.spec.minNotional} at ${lowest === price ? mid : `the bid ${bid.toString()} of the mid ${mid}`} (${short.join(', ')}; each needs ≥ ${inst.stepsToQty(minSteps)}): ${short.length === 2 || l.static === 0 || l.dynamic === 0 ? 'no quote can be placed' : 'that layer is never placed'} (raise baseSize${need ? ` to ≥ ${need}` : ''}, or set staticFraction to 0)`
}
