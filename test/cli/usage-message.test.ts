import {Flags, Parser} from '@oclif/core'
import {describe, expect, it} from 'vitest'
import {errorBody, usageMessage} from '../../src/lib/cli/base.js'

async function parseError(argv: string[], flags: Parameters<typeof Parser.parse>[1]['flags']): Promise<unknown> {
  try {
    await Parser.parse(argv, {flags})
  } catch (error) {
    return error
  }
  throw new Error('parsed')
}

describe('usage errors name the flag and the value', () => {
  it('missing required flag', async () => {
    const e = await parseError([], {symbol: Flags.string({required: true})})
    expect(errorBody(e)).toMatchObject({code: 'E_USAGE', exitCode: 2, message: 'missing required flag --symbol'})
  })

  it('an integer out of range', async () => {
    const e = await parseError(['--metrics-port', '70000'], {'metrics-port': Flags.integer({min: 0, max: 65_535})})
    expect(errorBody(e).message).toBe('--metrics-port 70000: expected an integer less than or equal to 65535')
    const e2 = await parseError(['--metrics-port', 'abc'], {'metrics-port': Flags.integer({min: 0, max: 65_535})})
    expect(errorBody(e2)).toMatchObject({exitCode: 2, message: '--metrics-port abc: expected an integer'})
  })

  it('flag without value, unknown flag, bad option', async () => {
    expect(errorBody(await parseError(['--out'], {out: Flags.string()})).message).toBe('Flag --out expects a value')
    expect(errorBody(await parseError(['--nope'], {})).message).toBe('Nonexistent flag: --nope')
    expect(errorBody(await parseError(['--s', 'z'], {s: Flags.string({options: ['a', 'b']})})).message).toBe('Expected --s=z to be one of: a, b')
  })

  it('keeps several messages on one line', () => {
    expect(usageMessage('The following errors occurred:\n  Missing required flag symbol\n  Missing required flag out\nSee more help with --help')).toBe('missing required flag --symbol; missing required flag --out')
  })
})
