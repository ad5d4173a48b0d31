/**
 * End to end through the real CLI: `node bin/run.js record …` against the loopback venue.
 */
import {existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'
import {afterEach, beforeAll, describe, expect, it} from 'vitest'
import type {MarketEvent} from '../../src/lib/market/events.js'
import {readMeta} from '../../src/lib/record/meta.js'
import {readTardis} from '../../src/lib/record/tardis-reader.js'
import {ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {applyBook, BTCUSDT, ETHUSDC, nextEvent, scriptedMarket, startVenue, type TestVenue} from '../support/venue.js'

const cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!()
})
beforeAll(() => ensureBuilt('record'))

const tmp = () => mkdtempSync(join(tmpdir(), 'mm-e2e-rec-'))

async function venue(instruments = [ETHUSDC]): Promise<TestVenue> {
  const v = await startVenue({instruments})
  cleanup.push(() => v.close())
  return v
}

function allFiles(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d, {withFileTypes: true})) {
      if (e.isDirectory()) walk(join(d, e.name))
      else out.push(join(d, e.name))
    }
  }
  walk(dir)
  return out.sort()
}

async function readAll(dir: string): Promise<MarketEvent[]> {
  const out: MarketEvent[] = []
  for await (const ev of readTardis(dir)) out.push(ev)
  return out
}

/** resolve once the venue served `n` depth snapshots */
function snapshotsServed(v: TestVenue, n: number): Promise<unknown> {
  let seen = 0
  return nextEvent(v.venue, 'rest', (info: {path: string; status: number}) => info.path === '/fapi/v1/depth' && info.status === 200 && ++seen >= n, 30_000)
}

describe('mm record (CLI)', () => {
  it('records two symbols; the files re-read give back exactly the venue book; cron mode prints one line', async () => {
    const v = await venue([ETHUSDC, BTCUSDT])
    const eth = scriptedMarket({n: 300, seed: 21})
    // BTCUSDT's tick is 0.10: put the scripted prices on that grid
    const btc = scriptedMarket({n: 300, seed: 22, symbol: 'BTCUSDT'})
    const btcOnGrid = btc.map((ev) => (ev.kind === 'depth' || ev.kind === 'snapshot' ? {...ev, bids: ev.bids.map(([p, q]) => [p.slice(0, -1) + '0', q] as [string, string]), asks: ev.asks.map(([p, q]) => [p.slice(0, -1) + '0', q] as [string, string])} : ev))
    v.venue.publish(eth[0])
    v.venue.publish(btcOnGrid[0])
    const out = tmp()
    const run = spawnCli(['record', '--symbol', 'ETHUSDC', '--symbol', 'btcusdt', '--out', out, '--duration', '4s', '--ticker', '--rest-url', v.restUrl, '--ws-url', v.wsUrl])
    await snapshotsServed(v, 2)
    for (let i = 1; i < eth.length; i++) {
      v.venue.publish(eth[i])
      v.venue.publish(btcOnGrid[i])
    }
    const {code} = await run.exited
    expect(run.stderr()).toBe('')
    expect(code).toBe(0)
    const lines = run.stdout().split('\n').filter(Boolean)
    expect(lines.length).toBe(1)
    expect(lines[0]).toMatch(/^recorded ETHUSDC,BTCUSDT for 4\.\ds: \d+ messages, \d+ rows, 6 files, [\d.]+ KiB, 0 resyncs, 0 gaps, 0 reconnects, 0 bad frames, 0 dropped, \d+\.\ds unsynced → .* \(stopped by duration\)$/)
    const files = allFiles(out)
    expect(files.filter((f) => f.endsWith('.partial'))).toEqual([])
    const events = await readAll(out)
    for (const sym of ['ETHUSDC', 'BTCUSDT']) {
      const b = v.venue.book(sym)
      expect(applyBook(events, sym)).toEqual({bids: b.bids, asks: b.asks})
    }
    const trades = events.filter((e) => e.kind === 'trade' && e.symbol === 'ETHUSDC').map((e) => (e as {id: string}).id)
    expect(trades).toEqual(eth.filter((e) => e.kind === 'trade').map((e) => (e as {id: string}).id))
    const meta = await readMeta(files.find((f) => f.includes('/ETHUSDC/') && f.endsWith('.meta.json'))!)
    expect(meta).toMatchObject({symbol: 'ETHUSDC', closed: true, gaps: 0, resyncs: 0, instrument: {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}, source: {rest: v.restUrl}})
    expect(meta.files.book!.rows).toBeGreaterThan(40)
  })

  it('SIGTERM mid-run leaves whole gzip files and meta closed=true, exit 0 within 2 s', async () => {
    const v = await venue()
    const eth = scriptedMarket({n: 200, seed: 5})
    v.venue.publish(eth[0])
    const out = tmp()
    const run = spawnCli(['record', '--symbol', 'ETHUSDC', '--out', out, '--json', '--rest-url', v.restUrl, '--ws-url', v.wsUrl])
    await snapshotsServed(v, 1)
    for (const ev of eth.slice(1)) v.venue.publish(ev)
    // the recorder has synced once it opened its files
    const day = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no files')), 30_000) // under a second here; only matters on failure
      const check = () => {
        const f = existsSync(join(out, 'ETHUSDC')) ? allFiles(join(out, 'ETHUSDC')) : []
        if (f.some((x) => x.endsWith('.meta.json'))) {
          clearTimeout(t)
          resolve(f[0])
        } else setImmediate(check)
      }
      check()
    })
    expect(day).toMatch(/\.partial$|meta\.json$/)
    const t0 = Date.now()
    run.child.kill('SIGTERM')
    const {code} = await run.exited
    const took = Date.now() - t0
    expect(code).toBe(0)
    expect(took).toBeLessThan(2000)
    const env = JSON.parse(run.stdout())
    expect(env).toMatchObject({ok: true, command: 'record', data: {symbols: ['ETHUSDC'], stoppedBy: 'signal'}})
    const files = allFiles(out)
    expect(files.filter((f) => f.endsWith('.partial'))).toEqual([])
    for (const f of files.filter((x) => x.endsWith('.gz'))) expect(() => gunzipSync(readFileSync(f))).not.toThrow()
    for (const f of files.filter((x) => x.endsWith('.meta.json'))) expect((await readMeta(f)).closed).toBe(true)
    expect(env.data.files.sort()).toEqual(files.filter((x) => x.endsWith('.gz')).sort())
  })

  it('unknown symbol → exit 2 with a one-line message naming it', async () => {
    const v = await venue()
    const r = await runCli(['record', '--symbol', 'ETHUSDC,FOOUSDT', '--out', tmp(), '--duration', '5s', '--rest-url', v.restUrl, '--ws-url', v.wsUrl])
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n')[0]).toBe("mm record: unknown symbol FOOUSDT: not listed in the venue's exchangeInfo")
    expect(r.stdout).toBe('')
  })

  it('bad input → exit 2: bad duration, unwritable --out', async () => {
    const v = await venue()
    const r1 = await runCli(['record', '--symbol', 'ETHUSDC', '--duration', 'soon', '--rest-url', v.restUrl, '--ws-url', v.wsUrl])
    expect(r1.code).toBe(2)
    expect(r1.stderr.split('\n')[0]).toBe('mm record: --duration: "soon" is not a duration')
    const file = join(tmp(), 'a-file')
    writeFileSync(file, 'x')
    const r2 = await runCli(['record', '--symbol', 'ETHUSDC', '--out', join(file, 'sub'), '--duration', '5s', '--rest-url', v.restUrl, '--ws-url', v.wsUrl])
    expect(r2.code).toBe(2)
    expect(r2.stderr.split('\n')[0]).toBe(`mm record: --out ${join(file, 'sub')} is not a writable folder (ENOTDIR)`)
  })

  it('unreachable venue → exit 1 after the retry budget', async () => {
    const v = await venue()
    const rest = v.restUrl
    await v.close()
    const r = await runCli(['record', '--symbol', 'ETHUSDC', '--out', tmp(), '--duration', '5s', '--rest-url', rest, '--ws-url', rest.replace('http', 'ws')])
    expect(r.code).toBe(1)
    expect(r.stderr.split('\n')[0]).toMatch(/^mm record: cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED .*gave up after the retry budget: 5 attempts/)
  })
})
