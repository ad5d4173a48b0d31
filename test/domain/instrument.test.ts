import {Decimal} from 'decimal.js'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {divRound, formatScaled, parseScaled} from '../../src/lib/domain/decimal.js'
import {GridError, UsageError} from '../../src/lib/domain/errors.js'
import {Instrument, instrumentFromExchangeInfo} from '../../src/lib/domain/instrument.js'

const ETHUSDC = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})
const BTC = new Instrument({symbol: 'BTCUSDT', tickSize: '0.10', stepSize: '0.001', minQty: '0.001', minNotional: '100'})
// a non-power-of-ten tick, as some symbols have
const ODD = new Instrument({symbol: 'ODDUSDT', tickSize: '0.005', stepSize: '5', minQty: '5', minNotional: '5'})

describe('decimal strings ⇄ scaled integers', () => {
  it('parses and formats exactly', () => {
    expect(parseScaled('3012.34', 2)).toBe(301234)
    expect(parseScaled('3012.3400000', 2)).toBe(301234)
    expect(parseScaled('0.01', 2)).toBe(1)
    expect(parseScaled('7', 3)).toBe(7000)
    expect(parseScaled('.5', 1)).toBe(5)
    expect(formatScaled(301234, 2)).toBe('3012.34')
    expect(formatScaled(1, 3)).toBe('0.001')
    expect(formatScaled(0, 2)).toBe('0.00')
    expect(formatScaled(-5, 2)).toBe('-0.05')
    expect(formatScaled(42, 0)).toBe('42')
  })
  it('rounds explicitly when digits go past the grid', () => {
    expect(() => parseScaled('1.239', 2)).toThrow(GridError)
    expect(parseScaled('1.239', 2, 'down')).toBe(123)
    expect(parseScaled('1.239', 2, 'up')).toBe(124)
    expect(parseScaled('1.2300', 2, 'up')).toBe(123)
  })
  it('rejects what is not a plain non-negative decimal', () => {
    for (const bad of ['', '.', '-1', '1e5', '1,5', ' 1', 'NaN', '0x10', '1.2.3']) expect(() => parseScaled(bad, 2), bad).toThrow(GridError)
  })
  it('divRound rounds in the asked direction and refuses inexact when exact', () => {
    expect(divRound(10, 5, 'exact')).toBe(2)
    expect(divRound(11, 5, 'down')).toBe(2)
    expect(divRound(11, 5, 'up')).toBe(3)
    expect(() => divRound(11, 5, 'exact')).toThrow(GridError)
    expect(divRound(2 ** 53 - 1, 1, 'exact')).toBe(2 ** 53 - 1)
  })
})

describe('Instrument tick/step grid', () => {
  it('reads the grid from the filter strings', () => {
    expect(ETHUSDC.priceDecimals).toBe(2)
    expect(ETHUSDC.qtyDecimals).toBe(3)
    expect(BTC.priceDecimals).toBe(1)
    expect(BTC.tickUnits).toBe(1)
    expect(ODD.tickUnits).toBe(5)
    expect(ODD.priceDecimals).toBe(3)
    expect(ODD.stepUnits).toBe(5)
  })
  it('converts prices and sizes exactly', () => {
    expect(ETHUSDC.priceToTicks('3456.78')).toBe(345678)
    expect(ETHUSDC.ticksToPrice(345678)).toBe('3456.78')
    expect(BTC.priceToTicks('27981.30000000')).toBe(279813)
    expect(BTC.ticksToPrice(279813)).toBe('27981.3')
    expect(ODD.priceToTicks('1.235')).toBe(247)
    expect(ODD.ticksToPrice(247)).toBe('1.235')
    expect(ETHUSDC.qtyToSteps('1.5')).toBe(1500)
    expect(ETHUSDC.stepsToQty(1500)).toBe('1.500')
    expect(ODD.qtyToSteps('15')).toBe(3)
    expect(ODD.stepsToQty(3)).toBe('15')
    expect(ETHUSDC.signedStepsToQty(-25)).toBe('-0.025')
  })
  it('rounding direction is explicit: bids down, asks up, exact refuses', () => {
    expect(() => ODD.priceToTicks('1.237')).toThrow(GridError)
    expect(ODD.priceToTicks('1.237', 'down')).toBe(247)
    expect(ODD.priceToTicks('1.237', 'up')).toBe(248)
    expect(ETHUSDC.priceToTicks('3456.789', 'down')).toBe(345678)
    expect(ETHUSDC.priceToTicks('3456.781', 'up')).toBe(345679)
    expect(ETHUSDC.qtyToSteps('0.0019', 'down')).toBe(1)
  })
  it('applies min qty and min notional', () => {
    // 20 USDC min notional at 2000.00: 0.010 ETH = 10 steps
    expect(ETHUSDC.minStepsAt(200000)).toBe(10)
    expect(ETHUSDC.meetsMinimums(200000, 10)).toBe(true)
    expect(ETHUSDC.meetsMinimums(200000, 9)).toBe(false)
    expect(ETHUSDC.meetsMinimums(199999, 10)).toBe(false)
    expect(ETHUSDC.notional(200000, 10).toString()).toBe('20')
  })
  it('property: string → ticks → string round-trips for every on-grid price', () => {
    for (const inst of [ETHUSDC, BTC, ODD]) {
      fc.assert(
        fc.property(fc.integer({min: 0, max: 2 ** 40}), fc.integer({min: 0, max: 6}), (ticks, pad) => {
          const s = inst.ticksToPrice(ticks)
          expect(inst.priceToTicks(s)).toBe(ticks)
          // trailing zeros, as Binance pads them, parse to the same ticks
          const padded = s.includes('.') ? s + '0'.repeat(pad) : s
          expect(inst.priceToTicks(padded)).toBe(ticks)
          // and the string is the exact decimal value ticks × tickSize
          expect(new Decimal(s).eq(new Decimal(inst.spec.tickSize).mul(ticks))).toBe(true)
        }),
        {numRuns: 3000},
      )
    }
  })
  it('property: off-grid prices round to the neighbouring ticks in the asked direction', () => {
    fc.assert(
      fc.property(fc.integer({min: 1, max: 2 ** 30}), fc.integer({min: 1, max: 999}), (units, extra) => {
        // a price with 3 more decimals than ETHUSDC's tick, strictly between two ticks when extra ≠ 0
        const s = `${new Decimal(units).div(100).toFixed(2)}${String(extra).padStart(3, '0')}`
        const exact = new Decimal(s).div('0.01')
        expect(ETHUSDC.priceToTicks(s, 'down')).toBe(exact.floor().toNumber())
        expect(ETHUSDC.priceToTicks(s, 'up')).toBe(exact.ceil().toNumber())
      }),
      {numRuns: 3000},
    )
    fc.assert(
      fc.property(fc.integer({min: 0, max: 2 ** 30}), fc.integer({min: 1, max: 4}), (ticks, off) => {
        // ODD tick 0.005: prices 0.001..0.004 past a tick
        const s = new Decimal(ticks).mul('0.005').plus(new Decimal(off).div(1000)).toFixed(3)
        expect(ODD.priceToTicks(s, 'down')).toBe(ticks)
        expect(ODD.priceToTicks(s, 'up')).toBe(ticks + 1)
        expect(() => ODD.priceToTicks(s)).toThrow(GridError)
      }),
      {numRuns: 3000},
    )
  })
  it('property: quantity round-trip', () => {
    fc.assert(
      fc.property(fc.integer({min: 0, max: 2 ** 40}), (steps) => {
        expect(ETHUSDC.qtyToSteps(ETHUSDC.stepsToQty(steps))).toBe(steps)
        expect(ODD.qtyToSteps(ODD.stepsToQty(steps))).toBe(steps)
      }),
      {numRuns: 3000},
    )
  })
  it('refuses a grid it cannot use', () => {
    expect(() => new Instrument({symbol: 'X', tickSize: '0', stepSize: '1', minQty: '1', minNotional: '0'})).toThrow(UsageError)
    expect(() => new Instrument({symbol: 'X', tickSize: 'abc', stepSize: '1', minQty: '1', minNotional: '0'})).toThrow(/tickSize/)
    expect(() => ETHUSDC.ticksToPrice(1.5)).toThrow(GridError)
    expect(() => ETHUSDC.stepsToQty(-1)).toThrow(GridError)
  })
})

describe('exchangeInfo', () => {
  const info = {
    symbols: [
      {
        symbol: 'ETHUSDC', status: 'TRADING', contractType: 'PERPETUAL', baseAsset: 'ETH', quoteAsset: 'USDC', marginAsset: 'USDC', pricePrecision: 2, quantityPrecision: 3,
        filters: [
          {filterType: 'PRICE_FILTER', minPrice: '0.01', maxPrice: '100000', tickSize: '0.01'},
          {filterType: 'LOT_SIZE', minQty: '0.001', maxQty: '10000', stepSize: '0.001'},
          {filterType: 'MIN_NOTIONAL', notional: '20'},
        ],
      },
    ],
  }
  it('builds the instrument from the filters', () => {
    const inst = instrumentFromExchangeInfo(info, 'ethusdc')
    expect(inst.symbol).toBe('ETHUSDC')
    expect(inst.spec.tickSize).toBe('0.01')
    expect(inst.minQtySteps).toBe(1)
    expect(inst.maxQtySteps).toBe(10_000_000)
    expect(inst.minNotionalTickSteps).toBe(2_000_000)
    expect(inst.spec.marginAsset).toBe('USDC')
  })
  it('names an unknown symbol', () => {
    expect(() => instrumentFromExchangeInfo(info, 'ETHUSDX')).toThrow(/unknown symbol ETHUSDX/)
    expect(() => instrumentFromExchangeInfo({}, 'ETHUSDC')).toThrow(/symbols/)
  })
})
