import {describe, expect, it} from 'vitest'
import {Instrument} from '../../src/lib/domain/instrument.js'
import {minNotionalNote} from '../../src/lib/run/min-notional.js'

const doge = new Instrument({symbol: 'DOGEUSDT', tickSize: '0.00001', stepSize: '1', minQty: '1', minNotional: '5'})
const eth = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})

describe('the start-up note: strategy.baseSize × mid below MIN_NOTIONAL', () => {
  it('names baseSize, the price, the product, the min notional and the size that would do', () => {
    expect(minNotionalNote('10', '0.38', doge)).toBe("strategy.baseSize 10 × 0.38 = 3.8 is below DOGEUSDT's min notional 5: no quote can be placed (raise baseSize to ≥ 14)")
    expect(minNotionalNote('0.005', '3400.045', eth)).toBe("strategy.baseSize 0.005 × 3400.045 = 17.000225 is below ETHUSDC's min notional 20: no quote can be placed (raise baseSize to ≥ 0.006)")
  })

  it('at or above the min notional: no note', () => {
    expect(minNotionalNote('14', '0.38', doge)).toBeNull()
    expect(minNotionalNote('0.01', '2000', eth)).toBeNull()
    expect(minNotionalNote('50', '0.1', doge)).toBeNull()
  })
})

describe('minNotionalNote: the layers strategy.staticFraction splits baseSize into (explrisk)', () => {
  it('both layers below: no quote; one below: that layer; the smallest baseSize that clears both; fine layers and no static layer say nothing', () => {
    expect(minNotionalNote('0.01', '3400', eth, 0.5)).toBe("strategy.staticFraction 0.5 splits baseSize 0.01 into layers below ETHUSDC's min notional 20 at 3400 (dynamic 0.005, static 0.005; each needs ≥ 0.006): no quote can be placed (raise baseSize to ≥ 0.012, or set staticFraction to 0)")
    expect(minNotionalNote('0.01', '3400', eth, 0.3)).toBe("strategy.staticFraction 0.3 splits baseSize 0.01 into layers below ETHUSDC's min notional 20 at 3400 (static 0.003; each needs ≥ 0.006): that layer is never placed (raise baseSize to ≥ 0.020, or set staticFraction to 0)")
    expect(minNotionalNote('0.012', '3400', eth, 0.5)).toBeNull()
    expect(minNotionalNote('0.01', '3400', eth, 0)).toBeNull()
    expect(minNotionalNote('0.01', '3400', eth, 0.05)).toBeNull() // floor(0.5 step) = 0: no static layer
  })
})

describe('minNotionalNote: the bid at strategy.baseSpread (opslive)', () => {
  const eth102 = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '102'})
  it('clears the minimum at the mid, not at the bid: says the bid is dropped and the size that would do', () => {
    // 0.030 × 3400.265 = 102.00795 ≥ 102; the bid 3400.265 × (1 − 0.0005) = 3398.56486… → 3398.56; 0.030 × 3398.56 = 101.9568
    expect(minNotionalNote('0.030', '3400.265', eth102, 0, 0.001)).toBe("strategy.baseSize 0.030 × the bid 3398.56 (mid 3400.265 less half of strategy.baseSpread 0.001) = 101.9568 is below ETHUSDC's min notional 102: the bid is dropped, only the ask is quoted (raise baseSize to ≥ 0.031)")
    expect(minNotionalNote('0.031', '3400.265', eth102, 0, 0.001)).toBeNull()
    // without the spread (as before): no note
    expect(minNotionalNote('0.030', '3400.265', eth102)).toBeNull()
  })
})

describe('minNotionalNote: the size suggested below the minimum clears it at the bid too (opsfee)', () => {
  // before: the size came from the mid alone (2000, 0.002), which the bid at baseSpread left
  // below the minimum: the next start said the bid was dropped and asked for more
  const pepe = new Instrument({symbol: 'PEPEUSDT', tickSize: '0.00001', stepSize: '1000', minQty: '1000', minNotional: '5'})
  const btc = new Instrument({symbol: 'BTCUSDT', tickSize: '10', stepSize: '0.001', minQty: '0.001', minNotional: '100'})
  it('tick 0.00001, step 1000, min notional 5: bid 0.002505 × 0.95 → 0.00237; 2000 × 0.00237 = 4.74 < 5, 3000 × 0.00237 = 7.11', () => {
    expect(minNotionalNote('1000', '0.002505', pepe, 0, 0.1)).toBe("strategy.baseSize 1000 × 0.002505 = 2.505 is below PEPEUSDT's min notional 5: no quote can be placed (raise baseSize to ≥ 3000, which clears it at the bid 0.00237 too)")
    expect(minNotionalNote('3000', '0.002505', pepe, 0, 0.1)).toBeNull()
    expect(minNotionalNote('2000', '0.002505', pepe, 0, 0.1)).toBe("strategy.baseSize 2000 × the bid 0.00237 (mid 0.002505 less half of strategy.baseSpread 0.1) = 4.74 is below PEPEUSDT's min notional 5: the bid is dropped, only the ask is quoted (raise baseSize to ≥ 3000)")
  })
  it('tick 10, step 0.001, min notional 100: bid 50345 × 0.99 → 49840; 0.002 × 49840 = 99.68 < 100, 0.003 × 49840 = 149.52', () => {
    expect(minNotionalNote('0.001', '50345', btc, 0, 0.02)).toBe("strategy.baseSize 0.001 × 50345 = 50.345 is below BTCUSDT's min notional 100: no quote can be placed (raise baseSize to ≥ 0.003, which clears it at the bid 49840 too)")
    expect(minNotionalNote('0.003', '50345', btc, 0, 0.02)).toBeNull()
  })
  it('the layers staticFraction splits baseSize into are checked at the bid too (both are quoted there)', () => {
    // 0.004 at the mid 50345 makes layers of 0.002 (≥ 100 at the mid: 100.69), below it at the bid 49840 (99.68)
    expect(minNotionalNote('0.004', '50345', btc, 0.5, 0.02)).toBe("strategy.staticFraction 0.5 splits baseSize 0.004 into layers below BTCUSDT's min notional 100 at the bid 49840 of the mid 50345 (dynamic 0.002, static 0.002; each needs ≥ 0.003): no quote can be placed (raise baseSize to ≥ 0.006, or set staticFraction to 0)")
    expect(minNotionalNote('0.006', '50345', btc, 0.5, 0.02)).toBeNull()
  })
})
