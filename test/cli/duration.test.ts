import {describe, expect, it} from 'vitest'
import {parseDuration} from '../../src/lib/cli/duration.js'

describe('parseDuration: any length, errors name the flag and the value', () => {
  it('reads every unit; past 24.8 days stays exact', () => {
    expect(parseDuration('250ms')).toBe(250)
    expect(parseDuration('30')).toBe(30_000)
    expect(parseDuration('1.5h')).toBe(5_400_000)
    expect(parseDuration('25d')).toBe(2_160_000_000)
    expect(parseDuration('400d')).toBe(34_560_000_000)
  })

  it('refuses bad values naming the flag and the value', () => {
    expect(() => parseDuration('soon', '--duration')).toThrow('--duration: "soon" is not a duration')
    expect(() => parseDuration('0s', '--duration')).toThrow('--duration: "0s" must be greater than zero')
    expect(() => parseDuration('0.1ms', '--duration')).toThrow('--duration: "0.1ms" must be greater than zero')
    expect(() => parseDuration('999999999999d', '--duration')).toThrow('--duration: "999999999999d" is too long')
    expect(() => parseDuration('500ms', '--rotate', {minMs: 1000})).toThrow('--rotate: "500ms" must be at least 1s')
    expect(() => parseDuration('-5s', '--duration')).toThrow(expect.objectContaining({exitCode: 2}))
  })
})
