/**
 * Explicit rounding of float prices (in ticks) to the tick grid. A relative tolerance of
 * 1e-9 absorbs float noise so that a value that is exactly on the grid in exact
 * arithmetic (e.g. 2999.9999999997) is not moved a whole tick by floor/ceil.
 */
import type {Ticks} from '../domain/instrument.js'
import type {OrderSide} from '../domain/orders.js'

const REL_EPS = 1e-9

function snap(x: number): number | undefined {
  const r = Math.round(x)
  return Math.abs(x - r) <= REL_EPS * Math.max(1, Math.abs(x)) ? r : undefined
}

/** Largest tick ≤ x (bids). */
export function floorTick(x: number): Ticks {
  return snap(x) ?? Math.floor(x)
}

/** Smallest tick ≥ x (asks). */
export function ceilTick(x: number): Ticks {
  return snap(x) ?? Math.ceil(x)
}

/** Round a price away from the market for `side`: bids down, asks up. */
export function roundPassive(side: OrderSide, x: number): Ticks {
  return side === 'BUY' ? floorTick(x) : ceilTick(x)
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x
}

export function opposite(side: OrderSide): OrderSide {
  return side === 'BUY' ? 'SELL' : 'BUY'
}

/** Side of the order that reduces a signed position; null when flat. */
export function reducingSide(net: number): OrderSide | null {
  return net > 0 ? 'SELL' : net < 0 ? 'BUY' : null
}

/** a ≥ b with the same relative tolerance as the tick rounding (thresholds at exact values). */
export function geq(a: number, b: number): boolean {
  return a >= b - REL_EPS * Math.max(1, Math.abs(a), Math.abs(b))
}
