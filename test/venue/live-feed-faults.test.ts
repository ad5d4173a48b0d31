/**
 * The live feed against the hostile venue (in process): bad frames counted, the sync budget,
 * a snapshot ahead of the stream dropped, gap resyncs paced by the shared backoff.
 */
import {afterEach, describe, expect, it} from 'vitest'
import {Instrument} from '../../src/lib/domain/instrument.js'
import {seededRandom} from '../../src/lib/venue/binance/http.js'
import {LiveFeed} from '../../src/lib/venue/binance/live-feed.js'
import {type HostileOptions, HostileVenue} from '../support/hostile-venue.js'

const inst = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})
const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!()
})

async function feedOn(o: HostileOptions, extra: Partial<ConstructorParameters<typeof LiveFeed>[0]> = {}) {
  const v = new HostileVenue({seed: 3, rateHz: 50, ...o})
  await v.start()
  const feed = new LiveFeed({endpoints: {rest: v.restUrl, ws: v.wsUrl, routed: true, name: 'custom'}, instruments: [inst], random: seededRandom(5), ...extra})
  cleanup.push(async () => {
    await feed.stop()
    await v.stop()
  })
  return {v, feed}
}

async function until(cond: () => boolean, what: string, maxMs = 10_000): Promise<void> {
  for (let t = 0; t < maxMs; t += 20) {
    if (cond()) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`timed out: ${what}`)
}

describe('live feed under faults', () => {
  it('counts frames with a price sent as a JSON number, and truncated frames, as bad', async () => {
    for (const frames of ['number-price', 'truncated'] as const) {
      const {feed} = await feedOn({frames})
      const bad: {symbol?: string}[] = []
      feed.on('bad', (b) => bad.push(b))
      feed.start().catch(() => {})
      await until(() => feed.stats().badFrames >= 10, `${frames}: bad frames counted`)
      expect(bad.slice(0, 10).every((b) => b.symbol === 'ETHUSDC')).toBe(true)
    }
  })

  it('a book that cannot sync within the budget ends the feed with E_NO_SYNC and the reason', async () => {
    const {feed} = await feedOn({depth: 'negative'}, {syncBudgetMs: 800})
    const t0 = Date.now()
    await expect(feed.start()).rejects.toMatchObject({code: 'E_NO_SYNC', exitCode: 1, message: expect.stringMatching(/^ETHUSDC: the book could not sync for 1s \(last: snapshot did not bridge/)})
    // the budget ended it (without one the feed keeps trying for ever): ~1 s here; 20 s leaves room for a loaded
    // machine without letting a feed that ignores its budget pass
    expect(Date.now() - t0).toBeLessThan(20_000)
  })

  it('a snapshot ahead of the stream is dropped after the bridge timeout (a gap) and fetched again, paced', async () => {
    const {v, feed} = await feedOn({depth: 'ahead'}, {bridgeTimeoutMs: 300})
    const gaps: string[] = []
    feed.on('gap', (g) => gaps.push(g.reason))
    feed.start().catch(() => {})
    await until(() => gaps.length >= 2, 'two bridge timeouts')
    expect(gaps[0]).toBe('snapshot lastUpdateId is ahead of the stream (not bridged after 300 ms)')
    expect(v.stats.depth).toBeLessThanOrEqual(gaps.length + 1)
  })

  it('a stream whose every diff breaks the chain gets paced resyncs, not a storm', async () => {
    const {v, feed} = await feedOn({frames: 'gaps'}, {snapshotRetryBaseMs: 100, snapshotRetryMaxMs: 1600})
    feed.start().catch(() => {})
    await until(() => v.stats.depth >= 1, 'first snapshot')
    const t0 = Date.now()
    await new Promise((r) => setTimeout(r, 3000)) // the window the pace is measured over
    const calls = v.stats.depth
    // 100, 200, 400, 800, 1600 ms (jittered down to half): at most 8 calls in 3 s, not ~30 (one per diff)
    expect(calls).toBeLessThanOrEqual(8)
    expect(calls).toBeGreaterThanOrEqual(3) // it does keep trying
    expect(feed.stats().gaps).toBeGreaterThanOrEqual(calls - 1)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3000)
  })
})
