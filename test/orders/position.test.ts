import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import type {Fill} from '../../src/lib/domain/orders.js'
import {applyFill, applyFunding, avgEntryPrice, avgEntryTicks, carryTotals, COST_SCALE, Dec, emptyPosition, parsePositionJSON, pnlSummary, realisedQuote, type Position, positionFromJSON, positionToJSON, quoteToUnitsCeil, TRADE_IDS_MAX, unitsToQuote, unrealisedUnits} from '../../src/lib/orders/position.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import {INST} from '../risk/support.js'

let n = 0
const fill = (side: 'BUY' | 'SELL', price: number, qty: number, fee = '0', maker = true): Fill => ({clientOrderId: 'c', side, price, qty, maker, fee, ts: ++n, tradeId: String(n)})
const run = (...fills: Fill[]): Position => fills.reduce(applyFill, emptyPosition())
const S = COST_SCALE

describe('position ledger (SPEC §8)', () => {
  it("live: the realised PnL is the sum of the venue's per-trade figures; the client's own is the cross-check", () => {
    const rp = (f: Fill, realised: string): Fill => ({...f, realised})
    // entry 3000.00 × 1 + 3000.01 × 2 → avg 3000.00666…; the venue reports 8 decimals
    const p = run(rp(fill('BUY', 300000, 1), '0'), rp(fill('BUY', 300001, 2), '0'), rp(fill('SELL', 300002, 1), '0.00001333'), rp(fill('SELL', 300002, 2), '0.00002667'))
    expect(p.venueRealised).toBe('0.00004')
    const s = pnlSummary(p, INST, 600004)
    expect(s.realised).toBe('0.00004')
    // own: a round trip is exact to the tick·step: 0.00004 too, no difference
    expect(s.realisedCheck).toEqual({own: '0.00004', diff: '0'})
    // a partial close the client rounds at 1e-17: own differs from the venue's figure, which wins
    const q = run(rp(fill('BUY', 300000, 1), '0'), rp(fill('BUY', 300001, 2), '0'), rp(fill('SELL', 300002, 1), '0.00001333'))
    expect(pnlSummary(q, INST, 600004).realised).toBe('0.00001333')
    expect(realisedQuote(q, INST).toString()).toBe('0.00001333')
    expect(pnlSummary(q, INST, 600004).realisedCheck).toEqual({own: '0.00001333333333333', diff: '0.00000000333333333'})
    // survives a checkpoint
    expect(positionFromJSON(positionToJSON(q)).venueRealised).toBe('0.00001333')
  })

  it('a live restart: the venue position with the previous totals carried on; a ledger read back is checked field by field', () => {
    const prev = run({...fill('BUY', 300000, 10, '0.01'), realised: '0'}, {...fill('SELL', 300100, 4, '0.02', false), realised: '0.004'})
    const start = {...emptyPosition(), net: 6, cost: 300000n * 6n * S}
    const c = carryTotals(start, parsePositionJSON(JSON.parse(JSON.stringify(positionToJSON(prev))))!)
    // the totals, not the earlier run's list of counted trade ids (the new run keeps its own)
    const {tradeIds: listed, ...totals} = prev
    expect(listed).toEqual(['8', '9'])
    expect(c).toEqual({...totals, net: 6, cost: 300000n * 6n * S})
    expect(c.venueRealised).toBe('0.004')
    const next = applyFill(c, {...fill('SELL', 300200, 6), realised: '0.012'})
    expect(pnlSummary(next, INST, 600000).realised).toBe('0.016')
    expect(next.fills).toBe(3)
    for (const bad of [null, 'x', {...positionToJSON(prev), realised: '1.5'}, {...positionToJSON(prev), fees: 'NaN'}, {...positionToJSON(prev), net: '6'}, {...positionToJSON(prev), venueRealised: 7}]) {
      expect(parsePositionJSON(bad)).toBeNull()
    }
  })

  it('live: the ledger keeps the highest venue trade id it counted (a restart reads the venue’s trades after it); paper ids leave it alone', () => {
    const f = (tradeId: string): Fill => ({clientOrderId: 'c', side: 'BUY', price: 300_000, qty: 1, maker: true, fee: '0', ts: 1, tradeId})
    const p = [f('900000000000000000001'), f('17'), f('900000000000000000000')].reduce(applyFill, emptyPosition())
    // compared as integers, not strings: '17' < '9…' as text too, so the third fill is the test
    expect(p.lastTradeId).toBe('900000000000000000001')
    expect(applyFill(p, f('paper-3')).lastTradeId).toBe('900000000000000000001')
    expect(run(fill('BUY', 1, 1)).lastTradeId).toMatch(/^\d+$/)
    expect('lastTradeId' in applyFill(emptyPosition(), f('paper-1'))).toBe(false)
    // carried across a restart and read back from state.json, checked
    expect(carryTotals(emptyPosition(), p).lastTradeId).toBe('900000000000000000001')
    const j = positionToJSON(p)
    expect(parsePositionJSON(j)?.lastTradeId).toBe('900000000000000000001')
    expect(parsePositionJSON({...j, lastTradeId: 12})).toBeNull()
    expect(parsePositionJSON({...j, lastTradeId: '1e9'})).toBeNull()
  })

  it('live: the ledger lists the venue trade ids its run counted, ascending, the highest TRADE_IDS_MAX (the rest under a floor); not carried; a bad list is dropped, not the ledger (stop-readback)', () => {
    const f = (tradeId: string): Fill => ({clientOrderId: 'c', side: 'BUY', price: 300_000, qty: 1, maker: true, fee: '0', ts: 1, tradeId})
    // counted out of id order (the stream told 14 before 12 was read back): listed in order, once
    const p = ['10', '14', '12', '900000000000000000001', 'paper-3', '12'].map(f).reduce(applyFill, emptyPosition())
    expect(p.tradeIds).toEqual(['10', '12', '14', '900000000000000000001'])
    expect(p.tradeIdsFloor).toBeUndefined()
    expect('tradeIds' in applyFill(emptyPosition(), f('paper-1'))).toBe(false)
    // past the cap: the lowest go, the highest of them is the floor; an id at or under it is not listed again
    let q = emptyPosition()
    for (let i = 1; i <= TRADE_IDS_MAX + 2; i++) q = applyFill(q, f(String(100 + i)))
    expect(q.tradeIds).toHaveLength(TRADE_IDS_MAX)
    expect([q.tradeIds![0], q.tradeIdsFloor]).toEqual(['103', '102'])
    expect(applyFill(q, f('101')).tradeIds).toBe(q.tradeIds)
    // read back from state.json as written; a new run's ledger starts without them
    const j = JSON.parse(JSON.stringify(positionToJSON(q))) as Record<string, unknown>
    expect(parsePositionJSON(j)).toEqual(q)
    expect(carryTotals(emptyPosition(), q).tradeIds).toBeUndefined()
    expect(carryTotals(emptyPosition(), q).tradeIdsFloor).toBeUndefined()
    for (const bad of [['1', 2], ['2', '1'], ['1e3'], 'x', Array.from({length: TRADE_IDS_MAX + 1}, (_, i) => String(i + 1))]) {
      const r = parsePositionJSON({...j, tradeIds: bad})
      expect(r?.fills).toBe(q.fills)
      expect([r?.tradeIds, r?.tradeIdsFloor]).toEqual([undefined, undefined])
    }
    expect(parsePositionJSON({...j, tradeIdsFloor: 7})?.tradeIds).toBeUndefined()
  })

  it("without the venue's figure (paper, replay) or after fills that lacked it, the client's own realised PnL stands", () => {
    const p = run(fill('BUY', 300000, 10), fill('SELL', 300100, 10))
    expect(p.venueRealised).toBeUndefined()
    expect(pnlSummary(p, INST, 600000)).not.toHaveProperty('realisedCheck')
    // a ledger with history but no venue figures does not start summing the venue's mid-way
    const q = applyFill(p, {...fill('BUY', 300000, 1), realised: '5'})
    expect(q.venueRealised).toBeUndefined()
    expect(pnlSummary(q, INST, 600000).realised).toBe('0.01')
    // a venue-summed ledger that gets a fill without the figure falls back to the own one
    const r = applyFill(run({...fill('BUY', 300000, 1), realised: '0'}), fill('SELL', 300100, 1))
    expect(r.venueRealised).toBeUndefined()
    expect(pnlSummary(r, INST, 600000).realised).toBe('0.001')
  })

  it('opens long, adds at another price: exact average cost', () => {
    const p = run(fill('BUY', 300000, 10), fill('BUY', 300100, 30))
    expect(p.net).toBe(40)
    expect(p.cost).toBe((300000n * 10n + 300100n * 30n) * S)
    expect(avgEntryTicks(p)).toBe(300075)
    expect(avgEntryPrice(p, INST)).toBe('3000.75')
    expect(p.realised).toBe(0n)
  })

  it('a partial reduction realises (exit − avg) × qty and keeps the average', () => {
    const p = run(fill('BUY', 300000, 10), fill('BUY', 300100, 30), fill('SELL', 300200, 8))
    expect(p.net).toBe(32)
    expect(p.realised).toBe(125n * 8n * S) // (300200 − 300075) × 8 tick·steps
    expect(avgEntryTicks(p)).toBe(300075)
    // 1 tick·step = 0.01 × 0.001 = 0.00001 USDC → 1000 × 0.00001 = 0.01
    expect(pnlSummary(p, INST, 600400).realised).toBe('0.01')
  })

  it('a short profits when price falls; closing to zero leaves no basis', () => {
    const p = run(fill('SELL', 300000, 5), fill('BUY', 299000, 5))
    expect(p.net).toBe(0)
    expect(p.cost).toBe(0n)
    expect(p.realised).toBe(1000n * 5n * S)
    expect(avgEntryPrice(p, INST)).toBe('')
    expect(Number.isNaN(avgEntryTicks(p))).toBe(true)
  })

  it('crossing through zero closes at the fill price, then opens the rest at the fill price', () => {
    const p = run(fill('BUY', 300000, 3), fill('SELL', 300010, 5))
    expect(p.net).toBe(-2)
    expect(p.realised).toBe(10n * 3n * S)
    expect(p.cost).toBe(-300010n * 2n * S)
    expect(avgEntryTicks(p)).toBe(300010)
  })

  it('a non-integral average rounds the removed basis half-up at 1e-12 tick·step; realised + unrealised stays exact', () => {
    // avg = (100 + 101 + 101) / 3 = 100.666…
    const p = run(fill('BUY', 100, 1), fill('BUY', 101, 2), fill('SELL', 102, 1))
    // removed = 302e12 / 3 = 100.666…e12 → 100666666666667
    expect(p.cost).toBe(302n * S - 100666666666667n)
    expect(p.realised).toBe(102n * S - 100666666666667n)
    // mid = 102: realised + unrealised = cash + net × mark = −100 − 202 + 102 + 2 × 102 = 4 tick·steps
    expect(p.realised + unrealisedUnits(p, 204)).toBe(4n * S)
  })

  it('fees: maker rebates are negative, taker fees positive, kept exact and separate', () => {
    const p = run(fill('BUY', 300000, 10, '-0.00015', true), fill('SELL', 300010, 10, '0.0012', false))
    expect(p.fees).toBe('0.00105')
    expect(p.makerFees).toBe('-0.00015')
    expect(p.takerFees).toBe('0.0012')
    expect(p.fills).toBe(2)
    expect(p.makerFills).toBe(1)
    expect(p.volume).toBe(20)
    expect(p.notional).toBe(300000n * 10n + 300010n * 10n)
  })

  it('funding payments are a separate signed line; total = realised + unrealised − fees + funding', () => {
    let p = run(fill('BUY', 300000, 10, '0.03', true))
    p = applyFunding(p, '-0.012')
    p = applyFunding(p, '0.002')
    expect(p.funding).toBe('-0.01')
    // mid 3001.00 (bid 300099, ask 300101) → unrealised 100 × 10 tick·steps = 0.01
    expect(pnlSummary(p, INST, 600200)).toEqual({net: '0.010', avgEntry: '3000', mark: '3001', realised: '0', unrealised: '0.01', fees: '0.03', funding: '-0.01', total: '-0.03'})
  })

  it('unrealised is marked at the mid, exact at half ticks', () => {
    const p = run(fill('SELL', 300000, 3))
    expect(unrealisedUnits(p, 600001)).toBe(-3n * S / 2n) // mid 300000.5: short loses 0.5 tick × 3
    expect(unitsToQuote(unrealisedUnits(p, 600001), INST).toFixed()).toBe('-0.000015')
    expect(unrealisedUnits(emptyPosition(), 1)).toBe(0n)
  })

  it('quote ↔ cost units: thresholds convert exactly, rounded up', () => {
    expect(quoteToUnitsCeil(-50, INST)).toBe(-5_000_000n * S)
    expect(quoteToUnitsCeil('0.000000000000000001', INST)).toBe(1n)
    expect(unitsToQuote(-5_000_000n * S, INST).toFixed()).toBe('-50')
  })

  it('cost units → quote: one exact multiplication per call, the same string as dividing and multiplying step by step, on any grid and instrument switch', () => {
    const grids = [['0.01', '0.001'], ['0.1', '0.001'], ['0.0000001', '1'], ['0.5', '0.01'], ['1', '1000'], ['0.00001', '0.1']] as const
    const insts = grids.map(([tickSize, stepSize]) => new Instrument({symbol: 'X', tickSize, stepSize, minQty: stepSize, minNotional: '5'}))
    fc.assert(
      fc.property(fc.bigInt({min: -(10n ** 30n), max: 10n ** 30n}), fc.nat({max: insts.length - 1}), (units, g) => {
        const inst = insts[g]
        const stepwise = new Dec(units.toString()).div(COST_SCALE.toString()).mul(inst.spec.tickSize).mul(inst.spec.stepSize)
        expect(unitsToQuote(units, inst).toString()).toBe(stepwise.toString())
      }),
      {numRuns: 500, seed: 12},
    )
    // an instrument whose grid changes in place is not served the old factor
    const inst = new Instrument({symbol: 'X', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5'})
    expect(unitsToQuote(10n ** 17n, inst).toString()).toBe('1')
    ;(inst.spec as {tickSize: string}).tickSize = '0.1'
    expect(unitsToQuote(10n ** 17n, inst).toString()).toBe('10')
  })

  it('rejects non-positive or fractional quantities', () => {
    expect(() => applyFill(emptyPosition(), fill('BUY', 1, 0))).toThrow(/positive integer/)
    expect(() => applyFill(emptyPosition(), fill('BUY', 1, 1.5))).toThrow(/positive integer/)
  })

  it('JSON round-trip keeps BigInts', () => {
    const p = run(fill('BUY', 100, 1), fill('BUY', 101, 2), fill('SELL', 102, 1, '0.1'))
    const j = JSON.parse(JSON.stringify(positionToJSON(p)))
    expect(positionFromJSON(j)).toEqual(p)
  })

  it('property: realised + unrealised − fees equals the cash-flow mark-to-market, exactly', () => {
    const arbFill = fc.record({
      side: fc.constantFrom('BUY' as const, 'SELL' as const),
      price: fc.integer({min: 1, max: 10_000_000}),
      qty: fc.integer({min: 1, max: 100_000}),
      fee: fc.integer({min: -10_000, max: 10_000}).map((x) => new Dec(x).div(1e8).toFixed()),
      maker: fc.boolean(),
    })
    fc.assert(
      fc.property(fc.array(arbFill, {minLength: 1, maxLength: 60}), fc.integer({min: 2, max: 20_000_000}), (fills, mid2) => {
        let p = emptyPosition()
        let cash = 0n // tick·step, received − paid
        let net = 0
        let fees = new Dec(0)
        for (const [i, f] of fills.entries()) {
          p = applyFill(p, {...f, clientOrderId: 'c', ts: i, tradeId: String(i)})
          cash += (f.side === 'BUY' ? -1n : 1n) * BigInt(f.price) * BigInt(f.qty)
          net += f.side === 'BUY' ? f.qty : -f.qty
          fees = fees.add(f.fee)
        }
        expect(p.net).toBe(net)
        // exact in cost units: 2 × (realised + unrealised) = 2 × cash + net × mid2
        expect(2n * (p.realised + unrealisedUnits(p, mid2))).toBe((2n * cash + BigInt(net) * BigInt(mid2)) * S)
        // and in quote currency, fees included
        const s = pnlSummary(p, INST, mid2)
        const mtm = new Dec((2n * cash + BigInt(net) * BigInt(mid2)).toString()).div(2).mul('0.00001').sub(fees)
        expect(new Dec(s.realised).add(s.unrealised).sub(s.fees).eq(mtm)).toBe(true)
        expect(new Dec(s.total).eq(mtm)).toBe(true)
        // flat ⇒ no basis; the basis always has the sign of net
        if (net === 0) expect(p.cost).toBe(0n)
        else expect(p.cost > 0n).toBe(net > 0)
      }),
      {numRuns: 3000},
    )
  })
})
