/**
 * The fault suite, one round each (docs/RELIABILITY.md; `npm run reliability` runs more
 * rounds and regenerates the figures): a hostile market-data venue on loopback, the real
 * CLI against it, the invariant checked.
 */
import {beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt} from '../support/cli.js'
import {runScenario, SCENARIOS} from '../support/faults.js'

beforeAll(() => {
  ensureBuilt('record')
  ensureBuilt('quote')
})

describe('fault suite: hostile venue, bin/run.js', () => {
  for (const s of SCENARIOS) {
    it(`${s.id}: ${s.invariant}`, async () => {
      const r = await runScenario(s, 1)
      expect(s.check(r), `${s.fault}\nstdout: ${r.stdout.slice(0, 500)}\nstderr: ${r.stderr.slice(0, 500)}`).toBeUndefined()
    }, s.limitMs + 30_000)
  }
})
