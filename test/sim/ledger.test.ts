/**
 * The sim's own ledger (independent of src/lib/orders/position.ts): average entry, realised
 * PnL on reduce and flip, fees and funding in the wallet, exact decimals.
 */
import {describe, expect, it} from 'vitest'
import {fmt, SimLedger} from '../../src/lib/venue/sim/ledger.js'

const fill = (side: 'BUY' | 'SELL', price: string, qty: string, fee = '0') => ({symbol: 'ETHUSDC', asset: 'USDC', side, price, qty, fee, time: 1})

describe('sim ledger', () => {
  it('averages the entry on adds, realises on reduce, keeps the entry of the rest', () => {
    const l = new SimLedger({USDC: '1000'})
    l.apply(fill('BUY', '100.10', '0.3', '0.006'))
    l.apply(fill('BUY', '100.40', '0.1', '0.002'))
    expect(l.position('ETHUSDC').amt.toString()).toBe('0.4')
    expect(l.entryPrice('ETHUSDC').toString()).toBe('100.175')
    const r = l.apply(fill('SELL', '101.00', '0.2', '0.004'))
    expect(r.toString()).toBe('0.165')
    expect(l.entryPrice('ETHUSDC').toString()).toBe('100.175')
    expect(l.balance('USDC').toString()).toBe('1000.153')
  })

  it('a flip closes the whole position at its entry and opens the rest at the trade price', () => {
    const l = new SimLedger({USDC: '0'})
    l.apply(fill('SELL', '200', '1'))
    const r = l.apply(fill('BUY', '190', '3'))
    expect(r.toString()).toBe('10')
    expect(l.position('ETHUSDC').amt.toString()).toBe('2')
    expect(l.entryPrice('ETHUSDC').toString()).toBe('190')
    expect(fmt(l.unrealised('ETHUSDC', '191.5'))).toBe('3')
  })

  it("a trade's realised PnL is booked as reported: 8 decimals half-even; the totals are sums of the reported figures", () => {
    const l = new SimLedger({USDC: '0'})
    // entry = (100.00 × 0.001 + 100.01 × 0.002) / 0.003 = 100.00666…
    l.apply(fill('BUY', '100.00', '0.001'))
    l.apply(fill('BUY', '100.01', '0.002'))
    // close 0.001 at 100.02: exact (100.02 − 100.006666…) × 0.001 = 0.0000133333… → 0.00001333
    expect(l.apply(fill('SELL', '100.02', '0.001')).toString()).toBe('0.00001333')
    // close the rest at 100.02: 0.002 × 0.0133333… = 0.0000266666… → 0.00002667
    expect(l.apply(fill('SELL', '100.02', '0.002')).toString()).toBe('0.00002667')
    const p = l.position('ETHUSDC')
    expect([p.amt.toString(), p.cost.toString(), p.realised.toString(), l.balance('USDC').toString()]).toEqual(['0', '0', '0.00004', '0.00004'])
  })

  it('funding: a long pays a positive rate at the mark', () => {
    const l = new SimLedger({USDC: '100'})
    l.apply(fill('BUY', '2000', '0.5'))
    expect(l.funding('ETHUSDC', 'USDC', '2010', '0.0001', 2).toString()).toBe('-0.1005')
    expect(l.balance('USDC').toString()).toBe('99.8995')
  })

  it('prints plain decimals, never exponents', () => {
    const l = new SimLedger({USDC: '0'})
    l.apply(fill('BUY', '0.00001', '1', '0.00000001'))
    expect(fmt(l.balance('USDC'))).toBe('-0.00000001')
  })
})
