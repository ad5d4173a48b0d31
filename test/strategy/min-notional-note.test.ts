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
