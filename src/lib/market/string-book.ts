/**
 * The one book kept in the venue's own price and quantity strings, for the places that
 * must re-emit levels exactly as they arrived without knowing the instrument's grid: the
 * recorder (a snapshot at each file rotation) and `mm sim` (the depth snapshot it serves
 * and the diffs it publishes). The trading path never uses it: it reads the integer book.
 */
import type {Level} from './events.js'

/** True for "0", "0.000", "00.0": a level deletion. */
export function isZeroAmount(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c !== 48 && c !== 46) return false
  }
  return true
}

function setLevels(m: Map<string, string>, levels: readonly Level[]): void {
  for (const [p, q] of levels) {
    if (isZeroAmount(q)) m.delete(p)
    else m.set(p, q)
  }
}

/** Levels best first (ordering only: a float comparison is fine, the strings stay untouched). */
function sorted(m: Map<string, string>, desc: boolean, limit: number): Level[] {
  const arr = [...m]
  arr.sort((a, b) => (desc ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0])))
  return arr.length > limit ? arr.slice(0, limit) : arr
}

/** Levels that turn `cur` into `target`: zeros for removed levels, then changed/new ones. */
function diffSide(cur: Map<string, string>, target: readonly Level[], out: Level[]): void {
  const want = new Map<string, string>()
  for (const [p, q] of target) if (!isZeroAmount(q)) want.set(p, q)
  for (const [p] of cur) if (!want.has(p)) out.push([p, '0'])
  for (const [p, q] of want) if (cur.get(p) !== q) out.push([p, q])
}

export class StringBook {
  readonly bids = new Map<string, string>()
  readonly asks = new Map<string, string>()
  /** false until the first snapshot, and again when the caller says continuity was lost */
  valid = false

  /** Replace the book with a snapshot's levels. */
  reset(bids: readonly Level[], asks: readonly Level[]): void {
    this.bids.clear()
    this.asks.clear()
    setLevels(this.bids, bids)
    setLevels(this.asks, asks)
    this.valid = true
  }

  /** Apply diff levels (a zero quantity removes the level). */
  apply(bids: readonly Level[], asks: readonly Level[]): void {
    setLevels(this.bids, bids)
    setLevels(this.asks, asks)
  }

  /** Both sides best first, at most `limit` levels each. */
  levels(limit = Number.MAX_SAFE_INTEGER): {bids: Level[]; asks: Level[]} {
    return {bids: sorted(this.bids, true, limit), asks: sorted(this.asks, false, limit)}
  }

  /** The diff levels that would turn this book into the given snapshot (nothing applied). */
  diffTo(bids: readonly Level[], asks: readonly Level[]): {bids: Level[]; asks: Level[]} {
    const b: Level[] = []
    const a: Level[] = []
    diffSide(this.bids, bids, b)
    diffSide(this.asks, asks, a)
    return {bids: b, asks: a}
  }
}
