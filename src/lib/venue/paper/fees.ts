/**
 * Fees as exact decimal strings: fee = price × qty × rate, in the quote (margin) asset.
 * A negative rate is a rebate and gives a negative fee. No floats, no rounding.
 */
import {PlainDecimal} from '../../domain/decimal.js'
import type {Instrument, Steps, Ticks} from '../../domain/instrument.js'
import {ConfigError} from '../../domain/errors.js'

export interface FeeModel {
  /** fee for executing `qty` at `price`; `maker` = our order was resting */
  fee(price: Ticks, qty: Steps, maker: boolean): string
}

const RATE_RE = /^-?\d+(\.\d+)?$/
/** 60 significant digits (price × qty × rate is never rounded), never exponent notation */
const D = PlainDecimal

export class RateFees implements FeeModel {
  private readonly maker: PlainDecimal
  private readonly taker: PlainDecimal

  constructor(private readonly inst: Instrument, makerRate: string, takerRate: string) {
    for (const [k, v] of [['makerFeeRate', makerRate], ['takerFeeRate', takerRate]] as const) {
      if (typeof v !== 'string' || !RATE_RE.test(v)) throw new ConfigError('E_CONFIG', `paper.${k} must be a decimal string such as "0.0002", got ${JSON.stringify(v)}`)
    }
    this.maker = new D(makerRate)
    this.taker = new D(takerRate)
  }

  fee(price: Ticks, qty: Steps, maker: boolean): string {
    const notional = new D(this.inst.ticksToPrice(price)).mul(this.inst.stepsToQty(qty))
    const f = notional.mul(maker ? this.maker : this.taker)
    return f.isZero() ? '0' : f.toString()
  }
}
