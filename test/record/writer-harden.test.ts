import {mkdtempSync, openSync, readdirSync, readFileSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {constants, gunzipSync} from 'node:zlib'
import {describe, expect, it} from 'vitest'
import type {MarketEvent} from '../../src/lib/market/events.js'
import {readMeta} from '../../src/lib/record/meta.js'
import {BATCH_CHARS, KindFile, TardisWriter} from '../../src/lib/record/tardis-writer.js'

const T0 = 1_767_225_600_000_000
const snap = (t: number): MarketEvent => ({kind: 'snapshot', symbol: 'ETHUSDC', ts: t, localTs: t, bids: [['3000.00', '1.000']], asks: [['3000.10', '2.000']]})
const depth = (t: number): MarketEvent => ({kind: 'depth', symbol: 'ETHUSDC', ts: t, localTs: t, bids: [['3000.00', '1.500']], asks: []})
const trade = (t: number): MarketEvent => ({kind: 'trade', symbol: 'ETHUSDC', ts: t, localTs: t, id: String(t), side: 'buy', price: '3000.10', qty: '0.100'})

async function until(cond: () => boolean, what: string, max = 2000): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (cond()) return
    await new Promise((r) => setTimeout(r, 5))
  }
  throw new Error(`timed out: ${what}`)
}

describe('TardisWriter: flush and bounded memory', () => {
  it('flush() puts every row written so far on disk (readable without the trailer) and rewrites meta.json', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mm-wflush-'))
    const w = new TardisWriter({root, symbol: 'ETHUSDC', rotateMs: 3_600_000, trades: true})
    w.write(snap(T0))
    for (let i = 1; i <= 50; i++) w.write(depth(T0 + i))
    w.flush()
    const dir = join(root, 'ETHUSDC', '2026-01-01')
    const partial = join(dir, '00.book.csv.gz.partial')
    const rows = () => {
      try {
        return gunzipSync(readFileSync(partial), {finishFlush: constants.Z_SYNC_FLUSH}).toString('utf8').trim().split('\n').length - 1
      } catch {
        return -1
      }
    }
    await until(() => rows() === 52, 'flushed rows on disk')
    await until(() => {
      try {
        return JSON.parse(readFileSync(join(dir, '00.meta.json'), 'utf8')).files.book.rows === 52
      } catch {
        return false
      }
    }, 'meta rows')
    await w.close()
    expect((await readMeta(join(dir, '00.meta.json'))).closed).toBe(true)
  })

  it('drops (and counts) instead of buffering without bound; depth stays dropped until a snapshot', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mm-wdrop-'))
    const drops: string[] = []
    const w = new TardisWriter({root, symbol: 'ETHUSDC', rotateMs: 3_600_000, trades: true, maxBufferBytes: 1, onDrop: (s) => drops.push(s)})
    w.write(snap(T0))
    w.write(depth(T0 + 1)) // queue holds the header and the snapshot: dropped
    await until(() => w.queuedBytes === 0, 'queue drained')
    w.write(depth(T0 + 2)) // dropping until a snapshot
    w.write(trade(T0 + 3)) // trades flow again
    await until(() => w.queuedBytes === 0, 'queue drained')
    w.write(snap(T0 + 4))
    await until(() => w.queuedBytes === 0, 'queue drained')
    w.write(depth(T0 + 5))
    const st = await w.close()
    expect(drops).toEqual(['ETHUSDC'])
    expect(st.dropped).toBe(2)
    const dir = join(root, 'ETHUSDC', '2026-01-01')
    const book = gunzipSync(readFileSync(join(dir, '00.book.csv.gz'))).toString('utf8').trim().split('\n')
    // the snapshot, the hole marker (an empty book from the drop on: one level at 0), the next snapshot, a diff
    expect(book.slice(1).map((l) => l.split(',').slice(2, 5).join(' '))).toEqual([`${T0} ${T0} true`, `${T0} ${T0} true`, `${T0} ${T0 + 1} true`, `${T0 + 4} ${T0 + 4} true`, `${T0 + 4} ${T0 + 4} true`, `${T0 + 5} ${T0 + 5} false`])
    expect(book[3].split(',')[7]).toBe('0')
    const meta = await readMeta(join(dir, '00.meta.json'))
    expect(meta).toMatchObject({dropped: 2, closed: true})
    expect(readdirSync(dir).sort()).toEqual(['00.book.csv.gz', '00.meta.json', '00.trades.csv.gz'])
  })
})

describe('TardisWriter: memory bounded when gzip cannot keep up', () => {
  it('a burst of 20,000 diffs written with no chance for gzip to run holds at most the bound + one batch, drops and counts the rest', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mm-wburst-'))
    const drops: string[] = []
    const bound = 256 * 1024
    const w = new TardisWriter({root, symbol: 'ETHUSDC', rotateMs: 3_600_000, trades: true, maxBufferBytes: bound, onDrop: (s) => drops.push(s)})
    w.write(snap(T0))
    // synchronous: zlib works on its thread only between turns of the event loop, so
    // nothing written here is compressed yet — the worst case of a disk that cannot keep up
    let most = 0
    for (let i = 1; i <= 20_000; i++) {
      w.write({kind: 'depth', symbol: 'ETHUSDC', ts: T0 + i, localTs: T0 + i, bids: [['3000.00', `${i}.000`]], asks: [['3000.10', '2.000']]})
      most = Math.max(most, w.queuedBytes)
    }
    expect(most).toBeGreaterThan(bound)
    expect(most).toBeLessThanOrEqual(bound + BATCH_CHARS + 1024)
    expect(drops).toEqual(['ETHUSDC'])
    const st = await w.close()
    const dir = join(root, 'ETHUSDC', '2026-01-01')
    const book = gunzipSync(readFileSync(join(dir, '00.book.csv.gz'))).toString('utf8').trim().split('\n')
    // what was taken is on disk, row for row; the rest is counted, never silently lost
    expect(book.length - 1).toBe(st.rows)
    expect((st.rows - 3) / 2 + st.dropped).toBe(20_000) // two rows a diff, two in the snapshot, one hole marker
    expect(st.dropped).toBeGreaterThan(10_000)
    expect((await readMeta(join(dir, '00.meta.json'))).dropped).toBe(st.dropped)
  })
})

describe('TardisWriter: periods never go backwards', () => {
  it('a snapshot dated before the open period (by the buffered diff it bridges) is written into the open period; no file is reopened', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mm-wback-'))
    const errors: Error[] = []
    const w = new TardisWriter({root, symbol: 'ETHUSDC', rotateMs: 1000, trades: true, onError: (e) => errors.push(e)})
    // a trade arrives (second 1) before the REST snapshot, which is dated by the first
    // buffered diff (second 0); then the stream goes on in second 1 and second 2
    w.write(trade(T0 + 1_100_000))
    w.write(snap(T0 + 900_000))
    w.write(depth(T0 + 1_200_000))
    w.write(depth(T0 + 2_100_000))
    const st = await w.close()
    expect(errors).toEqual([])
    const dir = join(root, 'ETHUSDC', '2026-01-01')
    expect(readdirSync(dir).sort()).toEqual([
      '00-00-01.book.csv.gz', '00-00-01.meta.json', '00-00-01.trades.csv.gz',
      '00-00-02.book.csv.gz', '00-00-02.meta.json', '00-00-02.trades.csv.gz',
    ])
    const rows = (f: string) => gunzipSync(readFileSync(join(dir, f))).toString('utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(3, 5).join(','))
    // second 1: the snapshot (its own stamp kept), then the diff; second 2 starts with the rebuilt book
    expect(rows('00-00-01.book.csv.gz')).toEqual([`${T0 + 900_000},true`, `${T0 + 900_000},true`, `${T0 + 1_200_000},false`])
    expect(rows('00-00-02.book.csv.gz')).toEqual([`${T0 + 2_100_000},true`, `${T0 + 2_100_000},true`, `${T0 + 2_100_000},false`])
    expect(rows('00-00-01.trades.csv.gz')).toEqual([`${T0 + 1_100_000},${T0 + 1_100_000}`])
    expect(st).toMatchObject({rows: 7, periods: 2, dropped: 0})
  })
})

describe('TardisWriter: a write error names its file', () => {
  it('a full disk (/dev/full: ENOSPC, an fd-backed stream whose error names no path) is reported with the .partial path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-wfull-'))
    const errors: Error[] = []
    const f = new KindFile(join(dir, '00.book.csv.gz'), '00.book.csv.gz', 'h', (e) => errors.push(e), openSync('/dev/full', 'w'))
    f.write('x\n'.repeat(1000), 1000)
    f.flush()
    await until(() => errors.length > 0, 'the write error', 15_000)
    expect(errors.map((e) => e.message)).toEqual([`${join(dir, '00.book.csv.gz')}.partial: ENOSPC: no space left on device, write`])
    await f.close().catch(() => undefined)
  })
})

describe("TardisWriter: a period's folder that cannot be made", () => {
  it('is a write error (not thrown out of write()); the period before it is closed whole; nothing more is written', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mm-wdir-'))
    const errors: Error[] = []
    const w = new TardisWriter({root, symbol: 'ETHUSDC', rotateMs: 3_600_000, trades: true, onError: (e) => errors.push(e)})
    w.write(snap(T0))
    w.write(depth(T0 + 1))
    // the next day's folder cannot be made: a dangling link in its place (as a full or read-only disk fails the mkdir)
    symlinkSync(join(root, 'gone', 'away'), join(root, 'ETHUSDC', '2026-01-02'))
    const day2 = T0 + 86_400_000_000
    expect(() => w.write(depth(day2))).not.toThrow()
    expect(() => w.write(trade(day2 + 1))).not.toThrow()
    expect(errors.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(['ENOENT'])
    await expect(w.close()).rejects.toThrow(/ENOENT/)
    const day1 = join(root, 'ETHUSDC', '2026-01-01')
    expect(readdirSync(day1).sort()).toEqual(['00.book.csv.gz', '00.meta.json', '00.trades.csv.gz'])
    expect((await readMeta(join(day1, '00.meta.json'))).closed).toBe(true)
    expect(gunzipSync(readFileSync(join(day1, '00.book.csv.gz'))).toString('utf8').trim().split('\n').length).toBe(1 + 2 + 1)
  })
})
