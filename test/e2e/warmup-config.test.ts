/**
 * The warm-up's config keys through the real CLI (`node bin/run.js`): a bad value of
 * `live.warmupIterations`, `live.warmupBudgetMs` or `live.preWarmMs` is refused before anything runs — exit 2,
 * one line naming the key, the value and what is accepted, no stack trace.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {ETH_JULY, sharedData} from '../support/shared-data.js'

vi.setConfig({testTimeout: 120_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-warmup-'))

async function quoteWith(name: string, live: Record<string, unknown>) {
  const cfg = join(tmp, `${name}.json`)
  writeFileSync(cfg, JSON.stringify({live}))
  return runCli(['quote', '--symbol', 'ETHUSDT', '--dry-run', '--replay', sharedData(ETH_JULY[0]), '--tick-size', '0.01', '--step-size', '0.001', '--min-notional', '20', '--state-dir', join(tmp, name), '--config', cfg])
}

describe('live.warmupIterations / live.warmupBudgetMs in a config file', () => {
  beforeAll(() => ensureBuilt('quote'))

  it.each([
    ['negative', {warmupIterations: -1}, 'live.warmupIterations: got -1, expected an integer ≥ 0 and ≤ 100000 (decisions)'],
    ['fraction', {warmupBudgetMs: 1.5}, 'live.warmupBudgetMs: got 1.5, expected an integer ≥ 0 and ≤ 10000 (ms)'],
    ['text', {warmupIterations: 'many'}, 'live.warmupIterations: got "many", expected an integer ≥ 0 and ≤ 100000 (decisions)'],
    ['pre-warm window too long', {preWarmMs: 10_001}, 'live.preWarmMs: got 10001, expected an integer ≥ 0 and ≤ 10000 (ms)'],
  ])('%s: exit 2 naming the key', async (name, live, line) => {
    const r = await quoteWith(name, live)
    expect(r.code, r.stderr).toBe(2)
    expect(`${r.stdout}\n${r.stderr}`).toContain(line)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})
