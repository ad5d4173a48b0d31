/**
 * A Binance spot capture (depth diffs without `pu`, ids chained by U == previous u + 1)
 * replayed through bin/run.js: the book stays in sync and the maker quotes. Before, every
 * event after the first failed the futures `pu` check: one resync, no snapshot to recover
 * from in the capture, and the whole replay paused with nothing said but the summary.
 */
import {beforeAll, describe, expect, it, vi} from 'vitest'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ensureBuilt, runCli} from '../support/cli.js'
import {sharedData} from '../support/shared-data.js'

vi.setConfig({testTimeout: 120_000})

beforeAll(() => {
  ensureBuilt('quote')
})

describe('mm quote --dry-run --replay of a spot capture (CLI)', () => {
  it('keeps the book in sync: no resync, quoting all along', async () => {
    const state = mkdtempSync(join(tmpdir(), 'mm-e2e-spot-'))
    const spot = sharedData('hftbacktest/examples/spot/btcusdt_20240808.gz')
    const r = await runCli(['quote', '--symbol', 'BTCUSDT', '--dry-run', '--replay', spot, '--duration', '60s', '--state-dir', state, '--json'])
    expect(r.code).toBe(0)
    const s = JSON.parse(r.stdout).data.summary
    expect(s).toMatchObject({resyncs: 0, marketEvents: 1981, quotesPlaced: 120, endReason: 'duration'})
    // paused only for the 200 ms before the first quote (was the whole minute)
    expect(s.timeInRiskMs).toMatchObject({normal: 59850, paused: 200})
  })
})
