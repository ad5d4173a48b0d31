/**
 * Issue 7 §2 end to end: the naive baseline is plain. On the held-out ETHUSDT 2024-08-08
 * stream with the tight config, v2's instant GTC retry made 27 of its 170 fills taker
 * fills (before the rework); the baseline now only ever posts post-only quotes, so every
 * fill is a maker fill, although post-only rejects still happen.
 */
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {repoRoot, sharedData} from '../support/shared-data.js'

describe('mm quote --strategy naive: post-only quotes only', () => {
  it('ETHUSDT 2024-08-08, tight config: no GTC or IOC order, no taker fill, -5022s answered by re-quoting', async () => {
    ensureBuilt('quote')
    const tmp = mkdtempSync(join(tmpdir(), 'mm-naive-'))
    const r = await runCli(['quote', '--symbol', 'ETHUSDT', '--dry-run', '--replay', sharedData('hftbacktest/examples/usdm/ethusdt_20240808.gz'), '--tick-size', '0.01', '--step-size', '0.001', '--min-notional', '20', '--strategy', 'naive', '--config', join(repoRoot, 'test/fixtures/golden/tight.config.json'), '--state-dir', tmp, '--json'])
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as {data: {eventLog: string}}
    const events = readFileSync(out.data.eventLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as {type: string; action?: string; tif?: string; maker?: boolean; code?: number})
    const places = events.filter((e) => e.type === 'order' && e.action === 'place')
    const fills = events.filter((e) => e.type === 'fill')
    expect(places.length).toBeGreaterThan(500)
    expect(places.filter((e) => e.tif !== 'GTX')).toEqual([])
    expect(events.filter((e) => e.type === 'reject' && e.code === -5022).length).toBeGreaterThan(0)
    expect(fills.length).toBeGreaterThan(100)
    expect(fills.filter((e) => !e.maker)).toEqual([])
  })
})
