/**
 * `mm sim --clock-skew` moves the venue's one clock: serverTime (the -1021 check) and the
 * E/T of its market and user-stream events alike, as on Binance. Before, only serverTime
 * moved: a live quote that corrects the book's age by the venue's clock offset (§4.5 stale
 * book) saw every message 6 s old and never quoted (found by review, 2026-12-01).
 */
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {LIVE_ENV, quoteArgs, startLiveSim, writeConfig} from '../support/live-sim.js'

const tmp = mkdtempSync(join(tmpdir(), 'mm-sim-skew-'))

beforeAll(() => {
  ensureBuilt('quote')
  ensureBuilt('sim')
})

describe('mm sim --clock-skew 6s and a live v2 quote', () => {
  it('quotes: the events carry the skewed clock, so the book is not stale', async () => {
    const sim = await startLiveSim(['--synthetic', '--seed', '21', '--clock-skew', '6s'])
    try {
      const cfg = writeConfig(tmp, 'q.json', {strategy: {baseSize: '0.01'}, risk: {netMax: '0.05', staleBookMs: 2500}})
      const r = await runCli([...quoteArgs(sim, join(tmp, 'st'), ['--config', cfg, '--instance', 'sk1', '--duration', '12s', '--json'])], {env: LIVE_ENV})
      expect(r.code, r.stderr).toBe(0)
      const log = JSON.parse(r.stdout).data.eventLog as string
      const events = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as {type: string; action?: string; reason?: string})
      expect(events.filter((e) => e.type === 'risk_event' && e.reason === 'stale_book')).toEqual([])
      expect(events.filter((e) => e.type === 'order' && e.action === 'place').length).toBeGreaterThan(0)
    } finally {
      await sim.stop()
    }
  }, 120_000)
})
