/**
 * The per-thread cache of decoded raw captures (`mm calibrate`'s workers): a second replay
 * of the same files yields exactly the events of a read from disk, with the same input-check
 * figures; a changed file is read again; the event bound keeps big inputs out and lets the
 * least recently replayed file go for a new one.
 */
import {mkdtempSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {afterEach, describe, expect, it} from 'vitest'
import type {MarketEvent} from '../../src/lib/market/events.js'
import {cacheReplayInputs, openReplay, replayCacheStats, replayDecodeMs, replayGridChecks} from '../../src/lib/record/replay-source.js'
import {ETH_JULY, sharedData} from '../support/shared-data.js'

async function drain(paths: string[]): Promise<{events: MarketEvent[]; guard: unknown; bytes: unknown; packed: number}> {
  const src = await openReplay(paths, {symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.001'})
  const events: MarketEvent[] = []
  let packed = 0
  for await (const b of src.batches()) {
    for (const ev of b) {
      // a cached book event keeps its levels packed (no own bids/asks): read them as a consumer does
      if ((ev.kind === 'depth' || ev.kind === 'snapshot') && !Object.hasOwn(ev, 'bids')) {
        packed++
        events.push({...ev, bids: ev.bids, asks: ev.asks})
      } else events.push(ev)
    }
  }
  return {events, guard: {...src.guard}, bytes: {...src.bytes}, packed}
}

afterEach(() => cacheReplayInputs(false))

describe('replay input cache', () => {
  it('a cached second read of the real ETHUSDT pair equals the read from disk, event for event', async () => {
    const paths = ETH_JULY.map(sharedData)
    const d0 = replayDecodeMs()
    const disk = await drain(paths)
    expect(disk.events.length).toBe(22_585)
    expect(replayCacheStats()).toEqual({files: 0, events: 0})
    cacheReplayInputs(true)
    const d1 = replayDecodeMs()
    const first = await drain(paths)
    expect(replayCacheStats()).toEqual({files: 2, events: 22_585})
    const d2 = replayDecodeMs()
    const second = await drain(paths)
    // the decode time (what a calibrate worker reports of a job) grows only as files are read into the cache
    expect([d1 === d0, d2 > d1, replayDecodeMs() === d2]).toEqual([true, true, true])
    expect(second.events).toEqual(disk.events)
    expect(first.events).toEqual(disk.events)
    // every book event of the cached reads is packed (one string per side), none of the read from disk
    const book = disk.events.filter((e) => e.kind === 'depth' || e.kind === 'snapshot').length
    expect([disk.packed, first.packed, second.packed]).toEqual([0, book, book])
    expect(book).toBe(8_930)
    expect(second.guard).toEqual(disk.guard)
    expect(first.guard).toEqual(disk.guard)
    // the progress counts a cached file as read: all of it, as from disk
    expect(second.bytes).toEqual(disk.bytes)
    expect(disk.bytes).toEqual({read: 675_222 + 2_529_120, total: 675_222 + 2_529_120})
  }, 120_000)

  it('a replay left before a file ends closes it; with the cache on, the part read is kept: a replay that stops there reads no file, one that goes further reads on from disk, the same events as a read from disk', async () => {
    const fds = () => readdirSync('/proc/self/fd').length
    /** the first `k` batches of the pair, then left (as a replay's duration ends it); all with k = 0 */
    const cut = async (k: number) => {
      const src = await openReplay(ETH_JULY.map(sharedData), {symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.001'})
      const got: MarketEvent[][] = []
      for await (const b of src.batches()) {
        got.push(b)
        if (got.length === k) break
      }
      return got
    }
    // as a consumer reads them (a cached book event keeps its levels packed)
    const plain = (bs: MarketEvent[][]) => bs.flat().map((ev) => ((ev.kind === 'depth' || ev.kind === 'snapshot') && !Object.hasOwn(ev, 'bids') ? {...ev, bids: ev.bids, asks: ev.asks} : ev))
    // the closes finish on the thread pool: wait (bounded) until the count is back
    const settled = async (want: number) => {
      for (let i = 0; i < 200 && fds() > want; i++) await new Promise((r) => setTimeout(r, 10))
      return fds()
    }
    const f0 = fds()
    const disk2 = await cut(2)
    const disk5 = await cut(5)
    const disk = await cut(0)
    for (let i = 0; i < 5; i++) await cut(2)
    expect(await settled(f0)).toBe(f0)
    cacheReplayInputs(true)
    const d0 = replayDecodeMs()
    const first = await cut(2)
    expect(await settled(f0)).toBe(f0)
    const n2 = disk2.flat().length
    expect(replayCacheStats()).toEqual({files: 1, events: n2})
    const d1 = replayDecodeMs()
    expect(d1).toBeGreaterThan(d0)
    // stopping at the same point: from memory, the same events
    const again = await cut(2)
    expect(replayDecodeMs()).toBe(d1)
    expect(plain(again)).toEqual(plain(first))
    expect(plain(first)).toEqual(disk2.flat())
    // further: the kept part, then the file from disk past it (and the kept part grows)
    const further = await cut(5)
    expect(await settled(f0)).toBe(f0)
    expect(plain(further)).toEqual(disk5.flat())
    expect(replayCacheStats()).toEqual({files: 1, events: disk5.flat().length})
    expect(replayDecodeMs()).toBeGreaterThan(d1)
    // to the end: both files whole, then from memory
    expect(plain(await cut(0))).toEqual(disk.flat())
    expect(replayCacheStats()).toEqual({files: 2, events: 22_585})
    const d3 = replayDecodeMs()
    expect(plain(await cut(0))).toEqual(disk.flat())
    expect(replayDecodeMs()).toBe(d3)
  }, 120_000)

  it("a reader's decode time is its own: a slow consumer's time between batches is not in it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-replay-cache-'))
    const p = join(dir, 'ethusdt_20260101.gz')
    const T0 = 1_767_225_600_000_000
    let text = ''
    // about 1 MB of text: four of the reader's 256 KB batches
    for (let i = 0; i < 6000; i++) text += `${T0 + i * 1000} {"stream":"ethusdt@trade","data":{"e":"trade","E":${Math.floor((T0 + i * 1000) / 1000)},"T":${Math.floor((T0 + i * 1000) / 1000)},"s":"ETHUSDT","t":${i},"p":"3000.00","q":"0.010","X":"MARKET","m":true}}\n`
    writeFileSync(p, gzipSync(text))
    cacheReplayInputs(true)
    const d0 = replayDecodeMs()
    const src = await openReplay([p], {symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.001'})
    let batches = 0
    let spent = 0
    for await (const _ of src.batches()) {
      batches++
      // the consumer works 200 ms on each batch
      const t = performance.now()
      while (performance.now() - t < 200) {
        // busy: the replay's own work on the events
      }
      spent += performance.now() - t
    }
    const decode = replayDecodeMs() - d0
    expect(batches).toBeGreaterThanOrEqual(4)
    expect(spent).toBeGreaterThanOrEqual(800)
    // decoding 6,000 short lines takes 30–50 ms here; counting the consumer's time would add ≥ 800
    expect(decode).toBeGreaterThan(0)
    expect(decode).toBeLessThan(400)
  })

  it('a file changed since it was cached is read again; over the bound nothing is kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-replay-cache-'))
    const p = join(dir, 'ethusdt_20260101.gz')
    const line = (us: number, price: string) => `${us} {"stream":"ethusdt@trade","data":{"e":"trade","E":${Math.floor(us / 1000)},"T":${Math.floor(us / 1000)},"s":"ETHUSDT","t":${us},"p":"${price}","q":"0.010","X":"MARKET","m":true}}\n`
    const T0 = 1_767_225_600_000_000
    writeFileSync(p, gzipSync(line(T0, '3000.00') + line(T0 + 1000, '3000.01')))
    cacheReplayInputs(true)
    expect((await drain([p])).events.map((e) => (e.kind === 'trade' ? e.price : e.kind))).toEqual(['3000.00', '3000.01'])
    expect(replayCacheStats()).toEqual({files: 1, events: 2})
    writeFileSync(p, gzipSync(line(T0, '3000.00') + line(T0 + 1000, '3000.02') + line(T0 + 2000, '3000.03')))
    expect((await drain([p])).events.map((e) => (e.kind === 'trade' ? e.price : e.kind))).toEqual(['3000.00', '3000.02', '3000.03'])
    cacheReplayInputs(false)
    cacheReplayInputs(true, 2)
    expect((await drain([p])).events).toHaveLength(3)
    expect(replayCacheStats()).toEqual({files: 0, events: 0})
  })

  it('over the bound the least recently replayed file goes: a new window is kept, not refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-replay-cache-'))
    const line = (us: number, price: string) => `${us} {"stream":"ethusdt@trade","data":{"e":"trade","E":${Math.floor(us / 1000)},"T":${Math.floor(us / 1000)},"s":"ETHUSDT","t":${us},"p":"${price}","q":"0.010","X":"MARKET","m":true}}\n`
    const T0 = 1_767_225_600_000_000
    const file = (name: string, n: number) => {
      const p = join(dir, name)
      let text = ''
      for (let i = 0; i < n; i++) text += line(T0 + i * 1000, '3000.00')
      writeFileSync(p, gzipSync(text))
      return p
    }
    const a = file('ethusdt_20260101.gz', 2)
    const b = file('ethusdt_20260102.gz', 2)
    const c = file('ethusdt_20260103.gz', 3)
    cacheReplayInputs(true, 4)
    await drain([a])
    await drain([b])
    expect(replayCacheStats()).toEqual({files: 2, events: 4})
    // a replayed again (a hit): b is now the least recently used
    expect((await drain([a])).events).toHaveLength(2)
    expect(replayCacheStats()).toEqual({files: 2, events: 4})
    // c (3 events) needs room: b goes, then a (2 + 3 > 4 still)
    expect((await drain([c])).events).toHaveLength(3)
    expect(replayCacheStats()).toEqual({files: 1, events: 3})
    // a lower bound lets it go; a file over the bound alone is never kept, and pushes the others out on its way
    cacheReplayInputs(true, 2)
    expect(replayCacheStats()).toEqual({files: 0, events: 0})
    await drain([a])
    expect(replayCacheStats()).toEqual({files: 1, events: 2})
    expect((await drain([c])).events).toHaveLength(3)
    expect(replayCacheStats()).toEqual({files: 0, events: 0})
  })

  it('the symbol check of a file is skipped only while the file is unchanged: rewritten as another symbol, it is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-replay-cache-'))
    const p = join(dir, 'capture_20260105.gz')
    const line = (sym: string, us: number) => `${us} {"stream":"${sym.toLowerCase()}@trade","data":{"e":"trade","E":${Math.floor(us / 1000)},"T":${Math.floor(us / 1000)},"s":"${sym}","t":${us},"p":"3000.00","q":"0.010","X":"MARKET","m":true}}\n`
    const T0 = 1_767_225_600_000_000
    writeFileSync(p, gzipSync(line('ETHUSDT', T0) + line('ETHUSDT', T0 + 1000)))
    cacheReplayInputs(true)
    expect((await drain([p])).events).toHaveLength(2)
    expect((await drain([p])).events).toHaveLength(2)
    writeFileSync(p, gzipSync(line('BTCUSDT', T0) + line('BTCUSDT', T0 + 1000) + line('BTCUSDT', T0 + 2000)))
    await expect(drain([p])).rejects.toThrow(`--replay ${p} is a recording of BTCUSDT, not of --symbol ETHUSDT`)
  })

  it('the grid check of a file is skipped only while the file and the flags are unchanged: rewritten off the grid, or another tick, it is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-replay-cache-'))
    const p = join(dir, 'capture_20260106.gz')
    const line = (price: string, us: number) => `${us} {"stream":"ethusdt@trade","data":{"e":"trade","E":${Math.floor(us / 1000)},"T":${Math.floor(us / 1000)},"s":"ETHUSDT","t":${us},"p":"${price}","q":"0.010","X":"MARKET","m":true}}\n`
    const T0 = 1_767_225_600_000_000
    writeFileSync(p, gzipSync(line('3000.00', T0) + line('3000.01', T0 + 1000)))
    const checks0 = replayGridChecks()
    await drain([p])
    expect(replayGridChecks() - checks0).toBe(1)
    cacheReplayInputs(true)
    expect((await drain([p])).events).toHaveLength(2)
    expect((await drain([p])).events).toHaveLength(2)
    expect((await drain([p])).events).toHaveLength(2)
    // with the cache on, checked once for the three reads
    expect(replayGridChecks() - checks0).toBe(2)
    // the same file against a coarser tick: checked again, refused
    await expect(openReplay([p], {symbol: 'ETHUSDT', tickSize: '0.1', stepSize: '0.001'})).rejects.toThrow(`--replay ${p}: price 3000.01 is not a multiple of --tick-size 0.1`)
    expect(replayGridChecks() - checks0).toBe(3)
    // rewritten (another size) with a price off the 0.01 grid: checked again, refused
    writeFileSync(p, gzipSync(line('3000.005', T0) + line('3000.01', T0 + 1000) + line('3000.02', T0 + 2000)))
    await expect(drain([p])).rejects.toThrow(`--replay ${p}: price 3000.005 is not a multiple of --tick-size 0.01`)
    expect(replayGridChecks() - checks0).toBe(4)
  })

  it('a book event whose levels are not two strings free of the separator is kept as it was, and reads the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-replay-cache-'))
    const p = join(dir, 'ethusdt_20260104.gz')
    const depth = (us: number, bids: unknown, asks: unknown) =>
      `${us} ${JSON.stringify({stream: 'ethusdt@depth@100ms', data: {e: 'depthUpdate', E: Math.floor(us / 1000), T: Math.floor(us / 1000), s: 'ETHUSDT', U: us, u: us, pu: us - 1, b: bids, a: asks}})}\n`
    const T0 = 1_767_225_600_000_000
    writeFileSync(p, gzipSync(depth(T0, [['3000.00', '1.000']], []) + depth(T0 + 1000, [['3000 .00', '1.000']], [['3000.01', '']]) + depth(T0 + 2000, [], [['3000.02', '2.000'], ['', '']])))
    const disk = await drain([p])
    cacheReplayInputs(true)
    const first = await drain([p])
    const second = await drain([p])
    expect(first.events).toEqual(disk.events)
    expect(second.events).toEqual(disk.events)
    // the second event (a space in a price) stays as it was
    expect([disk.packed, first.packed, second.packed]).toEqual([0, 2, 2])
    expect(second.events.map((e) => (e.kind === 'depth' ? [e.bids, e.asks] : e.kind))).toEqual([
      [[['3000.00', '1.000']], []],
      [[['3000 .00', '1.000']], [['3000.01', '']]],
      [[], [['3000.02', '2.000'], ['', '']]],
    ])
  })
})
