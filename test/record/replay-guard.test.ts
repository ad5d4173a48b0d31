import {mkdirSync, mkdtempSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {describe, expect, it} from 'vitest'
import type {MarketEvent} from '../../src/lib/market/events.js'
import {checkReplayPaths, guardedBatches, newGuardStats} from '../../src/lib/record/replay-guard.js'

const T0 = 1_767_225_600_000_000
function trade(localTs: number, symbol = 'ETHUSDT'): MarketEvent {
  return {kind: 'trade', symbol, ts: localTs, localTs, id: String(localTs), side: 'buy', price: '1.00', qty: '1'}
}
function input(path: string, evs: MarketEvent[], chunk = 3) {
  return {
    path,
    batches: async function* () {
      for (let i = 0; i < evs.length; i += chunk) yield evs.slice(i, i + chunk)
    },
  }
}
async function drain(it: AsyncIterable<MarketEvent[]>): Promise<MarketEvent[]> {
  const out: MarketEvent[] = []
  for await (const b of it) out.push(...b)
  return out
}

describe('replay input guard', () => {
  it('passes inversions within the tolerance, counts them, and skips other symbols (counted)', async () => {
    const st = newGuardStats()
    const evs = [trade(T0), trade(T0 + 50_000), trade(T0 + 20_000), trade(T0 + 60_000, 'BTCUSDT'), trade(T0 + 70_000)]
    const out = await drain(guardedBatches([input('a.gz', evs)], {symbol: 'ETHUSDT'}, st))
    expect(out.map((e) => e.localTs)).toEqual([T0, T0 + 50_000, T0 + 20_000, T0 + 70_000])
    expect(st).toEqual({events: 4, otherSymbols: 1, inversions: 1, maxInversionUs: 30_000})
  })

  it('refuses time going back beyond the tolerance, naming the file and the event', async () => {
    const evs = [trade(T0), trade(T0 + 5_000_000), trade(T0 + 1_000_000)]
    await expect(drain(guardedBatches([input('day.gz', evs)], {symbol: 'ETHUSDT'}))).rejects.toMatchObject({
      exitCode: 2,
      message: '--replay day.gz: event 3 at 2026-01-01T00:00:01.000Z is 4000 ms earlier than an event before it (tolerance 1000 ms)',
    })
  })

  it('refuses files in reverse order or overlapping, naming both', async () => {
    const a = [trade(T0 + 86_400_000_000), trade(T0 + 86_400_000_000 + 1000)]
    const b = [trade(T0), trade(T0 + 1000)]
    await expect(drain(guardedBatches([input('d2.gz', a), input('d1.gz', b)], {symbol: 'ETHUSDT'}))).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/^--replay d1\.gz starts at 2026-01-01T00:00:00\.000Z, 24 h before the end of d2\.gz: the files overlap or are in reverse order$/),
    })
  })

  it('refuses a long gap (two captures 20 days apart)', async () => {
    const a = [trade(T0)]
    const b = [trade(T0 + 20 * 86_400_000_000)]
    await expect(drain(guardedBatches([input('a.gz', a), input('b.gz', b)], {symbol: 'ETHUSDT'}))).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/^--replay b\.gz: a gap of 480 h before event 1 /),
    })
    // a configured larger gap lets it through
    expect((await drain(guardedBatches([input('a.gz', a), input('b.gz', b)], {symbol: 'ETHUSDT', maxGapMs: 21 * 86_400_000}))).length).toBe(2)
  })

  it('names the file a read error came from, exit 2', async () => {
    const bad = {
      path: 'broken.gz',
      batches: async function* (): AsyncGenerator<MarketEvent[]> {
        yield [trade(T0)]
        throw new Error('unexpected end of file')
      },
    }
    await expect(drain(guardedBatches([bad], {symbol: 'ETHUSDT'}))).rejects.toMatchObject({exitCode: 2, message: '--replay broken.gz: cannot read: unexpected end of file'})
  })

  it('refuses the same file twice (also through a link), an empty file and a .gz that is not gzip', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-guard-'))
    const a = join(dir, 'a.gz')
    writeFileSync(a, gzipSync('x\n'))
    const link = join(dir, 'link.gz')
    symlinkSync(a, link)
    await expect(checkReplayPaths([a, a])).rejects.toMatchObject({exitCode: 2, message: `--replay ${a}: the same file as ${a} (given twice)`})
    await expect(checkReplayPaths([a, link])).rejects.toMatchObject({exitCode: 2, message: `--replay ${link}: the same file as ${a} (given twice)`})
    const empty = join(dir, 'empty.gz')
    writeFileSync(empty, '')
    await expect(checkReplayPaths([empty])).rejects.toMatchObject({exitCode: 2, message: `--replay ${empty}: the file is empty`})
    const plain = join(dir, 'plain.gz')
    writeFileSync(plain, 'not gzip')
    await expect(checkReplayPaths([plain])).rejects.toMatchObject({exitCode: 2, message: `--replay ${plain}: not a gzip file (bad header)`})
    await expect(checkReplayPaths([a])).resolves.toBeUndefined()
  })

  it('two different files are two files, also when one path goes through a linked folder and `..`', async () => {
    // d/link → e/sub: d/link/../file is e/file (a link is followed before the `..` after it), not d/file
    const root = mkdtempSync(join(tmpdir(), 'mm-guard-real-'))
    mkdirSync(join(root, 'd'))
    mkdirSync(join(root, 'e', 'sub'), {recursive: true})
    writeFileSync(join(root, 'd', 'file'), gzipSync('a\n'))
    writeFileSync(join(root, 'e', 'file'), gzipSync('b\n'))
    symlinkSync(join(root, 'e', 'sub'), join(root, 'd', 'link'))
    await expect(checkReplayPaths([join(root, 'd', 'file'), `${join(root, 'd', 'link')}/../file`])).resolves.toBeUndefined()
    await expect(checkReplayPaths([join(root, 'e', 'file'), `${join(root, 'd', 'link')}/../file`])).rejects.toMatchObject({exitCode: 2, message: `--replay ${join(root, 'd', 'link')}/../file: the same file as ${join(root, 'e', 'file')} (given twice)`})
  })
})
