/**
 * CLI flags fuzzed through bin/run.js (fast-check, seeded, few runs: each is a process):
 * one bad value among valid flags → exit 2, one line naming that flag, no stack trace.
 */
import fc from 'fast-check'
import {beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'

beforeAll(() => ensureBuilt('record'))

const badDuration = fc.oneof(fc.constantFrom('soon', '-1s', '0', '1y', '5 minutes', '', '1e9d', '0.0001ms'), fc.string({minLength: 1, maxLength: 6}).filter((s) => !/^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)?\s*$/.test(s)))

describe('fuzz: record flags through the CLI', () => {
  it('a bad --duration/--rotate/--flush/--sync-timeout/--symbol value → exit 2 naming the flag', async () => {
    const cases = fc.sample(
      fc.tuple(fc.constantFrom('--duration', '--rotate', '--flush', '--sync-timeout', '--symbol'), badDuration, fc.constantFrom('ETHUSDC', 'ethusdc,btcusdt')),
      {seed: 13, numRuns: 6},
    )
    for (const [flag, value, symbol] of cases) {
      const v = flag === '--symbol' ? `${value}!` : value
      const args = ['record', '--symbol', symbol, '--rest-url', 'http://127.0.0.1:9', '--ws-url', 'ws://127.0.0.1:9', '--duration', '5s']
      const i = args.indexOf(flag)
      if (i >= 0) args[i + 1] = v
      else args.push(flag, v)
      const r = await runCli(args)
      const what = `${flag} ${JSON.stringify(v)}: ${r.stderr}`
      expect(r.code, what).toBe(2)
      expect(r.stderr.split('\n')[0], what).toMatch(new RegExp(`^mm record: .*${flag === '--symbol' ? '--symbol' : flag}`))
      expect(r.stderr, what).not.toMatch(/\n\s+at /)
    }
  }, 180_000)
})
