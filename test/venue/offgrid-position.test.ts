/** refuseOffGridPosition: the start-up refusal of a venue position off the LOT_SIZE grid (one line, code, remainder). */
import {describe, expect, it} from 'vitest'
import {MmError} from '../../src/lib/domain/errors.js'
import {refuseOffGridPosition} from '../../src/lib/venue/binance/startup.js'

describe('refuseOffGridPosition', () => {
  it('on the grid, flat or none: no refusal', () => {
    for (const amt of [undefined, '0', '0.000', '-0.000', '1.55', '-1.550', '12', '0.01']) expect(() => refuseOffGridPosition('ETHUSDC', amt, '0.01'), String(amt)).not.toThrow()
    expect(() => refuseOffGridPosition('BTCUSDT', '-3', '1')).not.toThrow()
  })

  it('off the grid: E_POSITION_OFF_GRID naming the symbol, position, step and the remainder (exit 1)', () => {
    const table: Array<[string, string, string]> = [
      ['1.555', '0.01', '0.005'],
      ['-0.017', '0.01', '0.007'],
      ['2.5', '1', '0.5'],
      ['0.0015', '0.001', '0.0005'],
    ]
    for (const [amt, step, off] of table) {
      let err: unknown
      try {
        refuseOffGridPosition('ETHUSDC', amt, step)
      } catch (error) {
        err = error
      }
      expect(err).toBeInstanceOf(MmError)
      const e = err as MmError
      expect([e.code, e.exitCode, e.message]).toEqual(['E_POSITION_OFF_GRID', 1, `ETHUSDC: the venue position ${amt} is not a multiple of the LOT_SIZE step ${step} (${off} off the grid); mm cannot trade it`])
      expect(e.suggestion).toBe(`close the ${off} off the grid on the venue, or run \`mm flatten --symbol ETHUSDC\` (it closes the part on the grid and names what is left), then start again`)
    }
  })
})
