/**
 * The sim's own account ledger: per-symbol position, average entry price, realised PnL and
 * fees, and the wallet balance per margin asset. Written independently of the client's
 * position code (src/lib/orders/position.ts) so that it is a check on it, not a copy.
 *
 * Exact decimals (decimal.js, 60 significant digits). The position's cost is kept as the
 * exact sum of price × qty of the open part; a reduction takes its pro-rata share of that
 * cost (the only division), which is how Binance's average entry price works:
 *
 *   open or add:  cost += price × qty; amt += qty (signed)
 *   reduce by q:  realised = (price − entry) × q × sign(amt); cost −= entry × q
 *   flip:         reduce to zero, then open the remainder at the trade price
 *
 * A trade's realised PnL is booked as the venue reports it: rounded to 8 decimals
 * (half-even, `fmt`), the `rp` / `realizedPnl` the client receives. The symbol's realised
 * total and the wallet are sums of those reported figures, so a client that adds up what it
 * was told equals this ledger to the last digit; the cost basis itself stays exact.
 *
 * The wallet balance moves by realised PnL − fee on each fill and by funding fees.
 */
import {PlainDecimal as D} from '../../domain/decimal.js'

export interface LedgerPosition {
  symbol: string
  /** signed position amount */
  amt: D
  /** |amt| × entry price, exact */
  cost: D
  /** cumulative realised PnL of the symbol (before fees) */
  realised: D
  /** cumulative fees paid on the symbol (negative = rebates) */
  fees: D
  /** cumulative funding fees booked (positive = paid) */
  funding: D
  updateTime: number
}

export interface LedgerFill {
  symbol: string
  asset: string
  side: 'BUY' | 'SELL'
  price: string
  qty: string
  fee: string
  time: number
}

const ZERO = new D(0)

export class SimLedger {
  private readonly positions = new Map<string, LedgerPosition>()
  private readonly wallet = new Map<string, D>()

  constructor(balances: Record<string, string> = {}) {
    for (const [a, v] of Object.entries(balances)) this.wallet.set(a, new D(v))
  }

  position(symbol: string): LedgerPosition {
    let p = this.positions.get(symbol)
    if (!p) {
      p = {symbol, amt: ZERO, cost: ZERO, realised: ZERO, fees: ZERO, funding: ZERO, updateTime: 0}
      this.positions.set(symbol, p)
    }
    return p
  }

  allPositions(): LedgerPosition[] {
    return [...this.positions.values()]
  }

  balance(asset: string): D {
    return this.wallet.get(asset) ?? ZERO
  }

  assets(): string[] {
    return [...this.wallet.keys()]
  }

  /** average entry price of the open position (0 when flat) */
  entryPrice(symbol: string): D {
    const p = this.position(symbol)
    return p.amt.isZero() ? ZERO : p.cost.div(p.amt.abs())
  }

  /** Book one fill; returns the realised PnL of this trade (before its fee). */
  apply(f: LedgerFill): D {
    const p = this.position(f.symbol)
    const price = new D(f.price)
    let q = new D(f.qty)
    const dir = f.side === 'BUY' ? 1 : -1
    let realised = ZERO
    const reducing = !p.amt.isZero() && p.amt.isNeg() === (dir > 0)
    if (reducing) {
      const open = p.amt.abs()
      const closeQty = D.min(open, q)
      const entry = p.cost.div(open)
      realised = reported(price.sub(entry).mul(closeQty).mul(p.amt.isNeg() ? -1 : 1))
      const left = open.sub(closeQty)
      p.cost = left.isZero() ? ZERO : p.cost.sub(entry.mul(closeQty))
      p.amt = p.amt.isNeg() ? left.neg() : left
      q = q.sub(closeQty)
    }
    if (q.gt(0)) {
      p.cost = p.cost.add(price.mul(q))
      p.amt = p.amt.add(q.mul(dir))
    }
    const fee = new D(f.fee)
    p.realised = p.realised.add(realised)
    p.fees = p.fees.add(fee)
    p.updateTime = f.time
    this.wallet.set(f.asset, this.balance(f.asset).add(realised).sub(fee))
    return realised
  }

  /** Book a funding payment at `mark` and `rate`: longs pay a positive rate. Returns the wallet change. */
  funding(symbol: string, asset: string, mark: string, rate: string, time: number): D {
    const p = this.position(symbol)
    if (p.amt.isZero()) return ZERO
    const paid = p.amt.mul(mark).mul(rate)
    p.funding = p.funding.add(paid)
    p.updateTime = time
    this.wallet.set(asset, this.balance(asset).sub(paid))
    return paid.neg()
  }

  unrealised(symbol: string, mark: string): D {
    const p = this.position(symbol)
    if (p.amt.isZero()) return ZERO
    return new D(mark).mul(p.amt).sub(p.amt.isNeg() ? p.cost.neg() : p.cost)
  }
}

/** A trade's realised PnL as the venue reports and books it: 8 decimals, half-even. */
function reported(d: D): D {
  return d.toDecimalPlaces(RP_DECIMALS, D.ROUND_HALF_EVEN)
}

/** decimals of a trade's realised PnL (`rp`, `realizedPnl`) */
export const RP_DECIMALS = 8

/** A decimal as Binance prints it: plain, no exponent, at most `dp` decimals (rounded half-even), trailing zeros kept off. */
export function fmt(d: D, dp = 8): string {
  const r = d.toDecimalPlaces(dp, D.ROUND_HALF_EVEN)
  return r.isZero() ? '0' : r.toString()
}
