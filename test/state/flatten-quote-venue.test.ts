/**
 * mm flatten through a running quote, then the venue's position (venueSaysFlat). Seen in a
 * CI run of test/e2e/flatten-quote-unseen-position.test.ts: the quote's books were long
 * 3000 (a fill of its own) while the venue held -597000 (a position opened by hand); every
 * reduce-only SELL IOC was refused by the short venue, the last still open in state.json,
 * and an open round skipped the venue check: `residual 3000`, the books' long, exit 1. A
 * reduce-only round on the books' side cannot move a venue position of the other sign:
 * that position is now the residual, said.
 */
import {describe, expect, it} from 'vitest'
import type {FlattenResult} from '../../src/lib/state/actions.js'
import type {FlattenRound} from '../../src/lib/state/file.js'
import {venueSaysFlat} from '../../src/lib/state/flatten-run.js'
import {target} from '../../src/lib/state/ops.js'

const t = target('/nonexistent-state-dir', 'PEPEUSDT')

function round(n: number, status: string): FlattenRound {
  return {round: n, clientOrderId: `mm-x-flatten:SELL:0-${n - 1}`, side: 'SELL', price: '0.00243', qty: '3000', filled: '0', status, slippage: null, mid: '0.002435'}
}

function quoteResult(positionAfter: string, rounds: FlattenRound[], exitCode: 0 | 1 | 3, final: string): FlattenResult {
  return {stateDir: '/nonexistent-state-dir', symbol: 'PEPEUSDT', stateFile: '/nonexistent-state-dir/PEPEUSDT/state.json', quote: {kind: 'alive', pid: 1, heartbeatAgeMs: 10}, notes: [], via: 'quote', maxSlippagePct: 0.005, ack: null, positionBefore: '3000', positionAfter, residual: positionAfter.replace(/^-/, ''), rounds, exitCode, final} as unknown as FlattenResult
}

/** a venue whose position is `amt`; counts its reads */
function venueAt(amt: string) {
  const v = {reads: 0, closed: 0}
  const open = async () => ({
    venue: {
      position: async () => {
        v.reads++
        return amt
      },
    } as never,
    close: async () => {
      v.closed++
    },
  })
  return {v, open}
}

describe('flatten via a running quote: the venue position after, with a round still open', () => {
  const final = 'residual 3000 after 5 round(s) within max slippage 0.005'
  const rounds = [round(1, 'rejected'), round(2, 'rejected'), round(3, 'open')]

  it('the books long, the venue short: the venue position is the residual (the open reduce-only SELL cannot reduce a short)', async () => {
    const {v, open} = venueAt('-597000')
    const r = await venueSaysFlat({t, venue: open}, quoteResult('3000', rounds, 1, final))
    expect([v.reads, v.closed]).toEqual([1, 1])
    expect(r.positionAfter).toBe('-597000')
    expect(r.positionAfterFrom).toBe('venue')
    expect(r.residual).toBe('597000')
    expect(r.exitCode).toBe(1)
    expect(r.final).toBe(`residual 597000: the venue holds -597000 PEPEUSDT while the running quote's books say 3000 (a position it does not count yet: opened by hand or by another tool); the quote's flatten: ${final}`)
  })

  it('the venue of the books\' sign, or flat: the open round may still fill, the quote\'s answer stands', async () => {
    for (const amt of ['5000', '0']) {
      const {v, open} = venueAt(amt)
      const r = await venueSaysFlat({t, venue: open}, quoteResult('3000', rounds, 1, final))
      expect(v.reads).toBe(1)
      expect([r.positionAfter, r.residual, r.exitCode, r.final, r.positionAfterFrom]).toEqual(['3000', '3000', 1, final, undefined])
    }
  })

  it('no round open: a venue position the books do not have is the residual, exit 3 after a flat by the books', async () => {
    const {open} = venueAt('-600000')
    const r = await venueSaysFlat({t, venue: open}, quoteResult('0', [], 0, 'flat'))
    expect([r.positionAfter, r.residual, r.exitCode]).toEqual(['-600000', '600000', 3])
  })
})
