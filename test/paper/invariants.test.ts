import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import type {OrderAction} from '../../src/lib/domain/orders.js'
import type {MarketEvent} from '../../src/lib/market/events.js'
import type {VenueReport} from '../../src/lib/venue/types.js'
import {cancel, depth, inst, place, setup, trade} from './helpers.js'

type Step = {kind: 'send'; action: OrderAction} | {kind: 'market'; ev: MarketEvent}

const priceArb = fc.integer({min: 199_995, max: 200_005}).map((t) => inst.ticksToPrice(t))
const qtyArb = fc.integer({min: 0, max: 12}).map((n) => inst.stepsToQty(n))

const stepArb = (i: number): fc.Arbitrary<Step> =>
  fc.oneof(
    fc.record({side: fc.constantFrom('BUY' as const, 'SELL' as const), price: priceArb, q: fc.integer({min: 3, max: 9}), tif: fc.constantFrom('GTX' as const, 'GTC' as const, 'IOC' as const), ro: fc.boolean(), id: fc.integer({min: 0, max: 5})}).map(
      (o): Step => ({kind: 'send', action: place(`o${o.id}`, o.side, o.price, inst.stepsToQty(o.q), o.tif, o.ro)}),
    ),
    fc.integer({min: 0, max: 5}).map((id): Step => ({kind: 'send', action: cancel(`o${id}`)})),
    fc.record({side: fc.constantFrom('buy' as const, 'sell' as const), price: priceArb, q: fc.integer({min: 1, max: 15})}).map(
      (t): Step => ({kind: 'market', ev: trade(0, t.side, t.price, inst.stepsToQty(t.q), `x${i}`)}),
    ),
    fc.record({side: fc.boolean(), price: priceArb, q: qtyArb}).map((d): Step => ({kind: 'market', ev: d.side ? depth(0, [[d.price, d.q]], []) : depth(0, [], [[d.price, d.q]])})),
  )

function run(steps: Step[]): {reports: VenueReport[]; position: number} {
  const {venue, sendAt, all} = setup()
  let t = 10
  for (const s of steps) {
    t += 3
    if (s.kind === 'send') sendAt(t, s.action)
    else venue.onMarket({...s.ev, ts: t * 1000, localTs: t * 1000})
  }
  venue.advanceTo(t + 1000)
  return {reports: all(), position: venue.position}
}

describe('paper venue invariants (random event sequences)', () => {
  it('deterministic; position = signed sum of fills; fills never exceed the order; report times never go back', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), {maxLength: 60}).chain((xs) => fc.tuple(...xs.map((_, i) => stepArb(i)))), (steps) => {
        const a = run(steps)
        expect(run(steps)).toEqual(a)
        let pos = 0
        let lastTs = Number.NEGATIVE_INFINITY
        const filled = new Map<string, number>()
        for (const r of a.reports) {
          expect(r.ts).toBeGreaterThanOrEqual(lastTs)
          expect(r.ts).toBeGreaterThanOrEqual(r.venueTs)
          lastTs = r.ts
          if (r.type === 'ack') filled.set(r.clientOrderId, 0)
          if (r.type === 'fill') {
            const f = r.fill
            expect(f.qty).toBeGreaterThan(0)
            pos += f.side === 'BUY' ? f.qty : -f.qty
            const cum = (filled.get(r.clientOrderId) ?? 0) + f.qty
            filled.set(r.clientOrderId, cum)
            expect(r.filled).toBe(cum)
            expect(r.leaves).toBeGreaterThanOrEqual(0)
            expect(r.status).toBe(r.leaves === 0 ? 'FILLED' : 'PARTIALLY_FILLED')
          }
        }
        expect(a.position).toBe(pos)
      }),
      {numRuns: 200, seed: 42},
    )
  })
})
