/**
 * `mm sim --synthetic` and `mm record` both as child processes: the CLI venue serves a
 * market the recorder can capture whole.
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it, vi} from 'vitest'
import type {MarketEvent} from '../../src/lib/market/events.js'
import {listTardisFiles, readTardis} from '../../src/lib/record/tardis-reader.js'
import {readMeta} from '../../src/lib/record/meta.js'
import {ensureBuilt, runCli, spawnCli} from '../support/cli.js'

// each test runs the CLI for several wall seconds (up to 11 s under a load of 9 on 2 cores): twice the default limit
vi.setConfig({testTimeout: 120_000})

beforeAll(() => {
  ensureBuilt('record')
  ensureBuilt('sim')
})

describe('mm sim + mm record (CLI)', () => {
  it('records the synthetic market served by mm sim; sim prints its URLs as JSON and stops cleanly', async () => {
    const sim = spawnCli(['sim', '--synthetic', '--seed', '5', '--json', '--duration', '60s'])
    try {
      const [line] = await sim.waitFor(/^\{.*"status":"listening".*\}$/m)
      const start = JSON.parse(line)
      expect(start).toMatchObject({ok: true, command: 'sim', data: {status: 'listening', symbol: 'ETHUSDC'}})
      expect(start.data.restUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(start.data.wsUrl).toBe(start.data.restUrl.replace('http', 'ws'))
      const out = mkdtempSync(join(tmpdir(), 'mm-e2e-sim-'))
      // 6 s: the duration includes the first sync (seconds on a loaded machine) and a trade must come after it
      const r = await runCli(['record', '--symbol', 'ETHUSDC', '--out', out, '--duration', '6s', '--json'], {env: {MM_REST_URL: start.data.restUrl, MM_WS_URL: start.data.wsUrl}})
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      const env = JSON.parse(r.stdout)
      expect(env).toMatchObject({ok: true, command: 'record', data: {symbols: ['ETHUSDC'], stoppedBy: 'duration', gaps: 0, resyncs: 0}})
      expect(env.data.messages).toBeGreaterThan(10)
      const files = await listTardisFiles(out)
      expect(files.map((f) => f.kind).sort()).toEqual(['book', 'trades'])
      const events: MarketEvent[] = []
      for await (const ev of readTardis(out)) events.push(ev)
      // trades received before the first depth snapshot come first (merged by receive time); the book starts with a snapshot
      expect(events.find((e) => e.kind === 'snapshot' || e.kind === 'depth')?.kind).toBe('snapshot')
      expect(events.filter((e) => e.kind === 'trade').length).toBeGreaterThan(0)
      expect(events.filter((e) => e.kind === 'depth').length).toBeGreaterThan(10)
      const meta = await readMeta(files[0].path.replace(/\.book\.csv\.gz$/, '.meta.json'))
      expect(meta).toMatchObject({closed: true, instrument: {tickSize: '0.01', stepSize: '0.001'}})
    } finally {
      sim.child.kill('SIGTERM')
    }
    const {code} = await sim.exited
    expect(code).toBe(0)
    const last = JSON.parse(sim.stdout().trim().split('\n').at(-1)!)
    expect(last).toMatchObject({ok: true, command: 'sim', data: {stoppedBy: 'signal', symbol: 'ETHUSDC', instrumentFrom: 'synthetic'}})
    expect(last.data.stats.connections).toBe(2)
  })

  it('mm sim refuses bad input with exit 2', async () => {
    const r1 = await runCli(['sim'])
    expect(r1.code).toBe(2)
    expect(r1.stderr.split('\n')[0]).toBe('mm sim: give --replay PATH or --synthetic')
    const r2 = await runCli(['sim', '--synthetic', '--faults', 'drop=2'])
    expect(r2.code).toBe(2)
    expect(r2.stderr.split('\n')[0]).toBe('mm sim: --faults drop=2: expected a probability between 0 and 1')
  })
})
