/**
 * The ledger mm flatten begins from the venue's position when there is none to carry (no
 * earlier state.json): net on the step grid, cost at the venue's entry price; a position
 * with no single entry price is refused, never costed at 0 (it would book the close as profit).
 */
import {describe, expect, it} from 'vitest'
import {Instrument} from '../../src/lib/domain/instrument.js'
import {ledgerFromVenue} from '../../src/lib/state/flatten-run.js'
import type {FlattenVenue} from '../../src/lib/state/flatten-venue.js'

const inst = new Instrument({symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5'})
const venueWith = (amount: string, entryPrice: string) => ({entry: async () => ({amount, entryPrice})}) as unknown as FlattenVenue

describe('flatten: a ledger begun from the venue', () => {
  it('a short of 0.5 at 3000.5: net -500 steps, cost at 300050 ticks per step', async () => {
    const p = await ledgerFromVenue(venueWith('-0.5', '3000.5'), inst)
    expect(p?.net).toBe(-500)
    // cost in COST_SCALE units per tick × step: 300050 ticks × 10^12 per step, × -500 steps
    expect(p?.cost).toBe(-500n * 300050n * 10n ** 12n)
  })

  it('a flat venue: an empty ledger', async () => {
    expect((await ledgerFromVenue(venueWith('0', '0'), inst))?.net).toBe(0)
  })

  it('a position with no single entry price (hedge mode\'s two sides summed): refused, not costed at 0', async () => {
    await expect(ledgerFromVenue(venueWith('0.2', '0'), inst)).rejects.toThrow('no entry price for the position 0.2 (entryPrice 0)')
  })

  it('a venue that cannot say: no ledger', async () => {
    expect(await ledgerFromVenue({} as FlattenVenue, inst)).toBeNull()
  })
})
