/**
 * The pieces of `mm quote`'s status line (src/lib/run/progress.ts) with exact values, and
 * the byte counters a replay's % comes from (compressed bytes of .gz files, Tardis folder
 * or raw captures): read = total once the input is read.
 */
import {readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {EngineStatus} from '../../src/lib/engine/engine.js'
import {openReplay} from '../../src/lib/record/replay-source.js'
import {formatEta, formatPercent, formatPnl, groupThousands, liveLine, ReplayProgress, replayLine} from '../../src/lib/run/progress.js'
import {ETH_JULY, repoRoot, sharedData} from '../support/shared-data.js'

const status = (o: Partial<EngineStatus> = {}): EngineStatus => ({mid: '3000.155', position: '0.012', openOrders: 2, fills: 5, netPnl: '0.01234567', risk: 'normal', marketEvents: 10, ...o})

describe('status line pieces', () => {
  it('formats numbers, times and money exactly', () => {
    expect([0, 7, 999, 1000, 1_834_020, 12_345_678.6].map(groupThousands)).toEqual(['0', '7', '999', '1,000', '1,834,020', '12,345,679'])
    expect([null, -1, 0, 59_400, 65_000, 3_599_000, 3_600_000, 37_230_000].map(formatEta)).toEqual(['--:--', '--:--', '0:00', '0:59', '1:05', '59:59', '1:00:00', '10:20:30'])
    expect(['0', '0.01234567', '-0.18054517', '12', '-0.00004', '0.00005', '0.00015'].map(formatPnl)).toEqual(['0.0000', '0.0123', '-0.1805', '12.0000', '0.0000', '0.0000', '0.0002'])
    expect([0, 0.4237, 0.9999, 1, 1.2, -0.1].map(formatPercent)).toEqual(['0.0', '42.3', '99.9', '100.0', '100.0', '0.0'])
  })

  it('the live line: mid, position, open orders, fills, net PnL; the risk state only when not normal', () => {
    expect(liveLine(status())).toBe('mid 3000.155 · position 0.012 · open orders 2 · fills 5 · net PnL 0.0123')
    expect(liveLine(status({mid: null, position: '-0.005', openOrders: 0, fills: 1, netPnl: '-1.5', risk: 'reduce_only'}))).toBe('mid -- · position -0.005 · open orders 0 · fills 1 · net PnL -1.5000 · risk reduce_only')
  })

  it('the replay line: % of the bytes (or of --duration, whichever is further), events/s over the last second, ETA from the pace so far', () => {
    expect(replayLine({fraction: 0.25, eventsPerSec: 183_402.4, etaMs: 65_000, netPnl: '-0.0123'})).toBe('replay 25.0% · 183,402 events/s · ETA 1:05 · net PnL -0.0123')
    let wall = 1_000_000
    const bytes = {read: 0, total: 4000}
    const p = new ReplayProgress(bytes, undefined, () => wall)
    wall += 1000
    bytes.read = 1000
    expect(p.line({events: 5000, firstMs: 0, nowMs: 60_000, engine: status()})).toBe('replay 25.0% · 5,000 events/s · ETA 0:03 · net PnL 0.0123')
    wall += 2000
    bytes.read = 2000
    expect(p.line({events: 8000, firstMs: 0, nowMs: 90_000, engine: status({netPnl: '-2'})})).toBe('replay 50.0% · 1,500 events/s · ETA 0:03 · net PnL -2.0000')
    // --duration 2 min of market time: 90 s of it replayed is further than the bytes
    const d = new ReplayProgress({read: 100, total: 4000}, 120_000, () => wall)
    expect(d.fraction({firstMs: 10_000, nowMs: 100_000})).toBe(0.75)
    expect(new ReplayProgress({read: 0, total: 0}, undefined, () => wall).fraction({firstMs: null, nowMs: 0})).toBe(0)
  })
})

describe('replay byte counters', () => {
  async function readAll(paths: string[], symbol: string) {
    const src = await openReplay(paths, {symbol})
    const before = src.bytes.read
    let events = 0
    let mid = -1
    for await (const b of src.batches()) {
      events += b.length
      if (mid < 0 && events > 1000) mid = src.bytes.read
    }
    return {before, mid, after: src.bytes.read, total: src.bytes.total, events}
  }

  it('a Tardis folder (gzip): the compressed bytes of its data files; none counted before the replay reads', async () => {
    const dir = `${repoRoot}/recordings/ETHUSDC`
    const r = await readAll([dir], 'ETHUSDC')
    const files = readdirSync(dir, {recursive: true, encoding: 'utf8'}).filter((f) => f.endsWith('.csv.gz'))
    expect(files.length).toBe(2)
    expect(r.before).toBe(0)
    expect(r.total).toBe(files.reduce((s, f) => s + statSync(join(dir, f)).size, 0))
    expect(r.after).toBe(r.total)
    expect(r.events).toBeGreaterThan(1000)
  })

  it('raw captures, a day pair: the sum of both files, counted while they are read', async () => {
    const paths = ETH_JULY.map(sharedData)
    const r = await readAll(paths, 'ETHUSDT')
    expect(r.total).toBe(paths.reduce((s, p) => s + statSync(p).size, 0))
    expect(r.after).toBe(r.total)
    expect(r.mid).toBeGreaterThan(0)
    expect(r.mid).toBeLessThan(r.total)
  })
})
