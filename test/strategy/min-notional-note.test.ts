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
