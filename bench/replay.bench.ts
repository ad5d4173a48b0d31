/**
 * Replay throughput of the full dry-run loop on the real ETHUSDT 2024-07-18/19 capture
 * (69,913 messages: depth@0ms, bookTicker, trade, one REST snapshot):
 *
 *  (a) baseline: the cheapest streaming read of the same files (gunzip chunks, split
 *      lines) and JSON.parse of each message
 *  (a') JSON.parse alone of each message held in memory
 *  (b) ours: `mm quote --dry-run --replay` minus the CLI — raw reader → MarketEvents →
 *      book sync → paper venue → decide/reconcile → event log on disk. The reader leaves
 *      the bookTicker messages (55 % of the lines) out unparsed, as `mm quote` does: the
 *      loop does not use them. Messages/s counts every line read.
 *
 * and memory over a replay of ten times the stream (timestamps shifted per pass, the loop
 * join resynced like a reconnect): RSS after each pass, after a GC.
 */
import {createReadStream, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createGunzip, gunzipSync} from 'node:zlib'
import {defaultConfig} from '../src/lib/config/index.js'
import {Instrument} from '../src/lib/domain/instrument.js'
import {runReplay} from '../src/lib/run/session.js'
import {paperVenue} from '../src/lib/run/venues.js'
import type {MarketEvent} from '../src/lib/market/events.js'
import {newRawStats, readRawBatches} from '../src/lib/record/raw-reader.js'
import {median, round, sharedData} from './lib.js'

export const name = 'replay'

const FILES = ['hftbacktest/examples/usdm/ethusdt_20240718.gz', 'hftbacktest/examples/usdm/ethusdt_20240719.gz']
const REPS = 5
const inst = new Instrument({symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})

async function baselineIo(paths: string[]): Promise<number> {
  let n = 0
  // the cheapest streaming read: gunzip chunks, split lines, JSON.parse each message
  for (const p of paths) {
    let rest = ''
    for await (const chunk of createReadStream(p, {highWaterMark: 1 << 18}).pipe(createGunzip({chunkSize: 1 << 18}))) {
      const lines = (rest + (chunk as Buffer).toString('utf8')).split('\n')
      rest = lines.pop() as string
      for (const line of lines) {
        const i = line.indexOf(' ')
        if (i > 0 && JSON.parse(line.slice(i + 1))) n++
      }
    }
  }
  return n
}

function jsonOnly(lines: string[]): number {
  let n = 0
  for (const l of lines) if (JSON.parse(l)) n++
  return n
}

function config() {
  const c = defaultConfig()
  // quote near the touch so orders, fills and cancels happen: the loop does its real work
  return {...c, strategy: {...c.strategy, baseSpread: 0.0002}, risk: {...c.risk, netMax: '0.05'}}
}

/** Replay through the whole loop; returns the messages read (every line, tickers included). */
async function ours(paths: string[], stateDir: string, passes = 1, onPass?: (k: number) => void): Promise<number> {
  const stats = newRawStats()
  const events = async function* (): AsyncGenerator<MarketEvent[]> {
    let span = 0
    for (let k = 0; k < passes; k++) {
      let first = -1
      let last = 0
      for await (const batch of readRawBatches(paths, {symbol: 'ETHUSDT', onlySymbol: 'ETHUSDT', tickers: false, stats})) {
        if (first < 0) first = batch[0].ts
        last = batch[batch.length - 1].ts
        const shift = span
        yield k === 0 ? batch : batch.map((ev) => ({...ev, ts: ev.ts + shift, localTs: ev.localTs + shift}))
      }
      if (k === 0) span = last - first + 1_000_000
      else span += last - first + 1_000_000
      onPass?.(k)
    }
  }
  await runReplay({instrument: inst, config: config(), configSource: 'bench', mode: 'replay', stateDir, wallMs: 0, source: 'bench', runId: 'bench', venue: paperVenue}, events(), {speed: 'max'})
  return stats.lines / passes
}

function gc(): void {
  const g = (globalThis as {gc?: () => void}).gc
  if (g) {
    g()
    g()
  }
}

export async function run(): Promise<Record<string, number | string>> {
  const paths = FILES.map((f) => sharedData(f))
  const lines: string[] = []
  for (const p of paths) for (const l of gunzipSync(readFileSync(p)).toString('utf8').split('\n')) if (l) lines.push(l.slice(l.indexOf(' ') + 1))
  const tmp = mkdtempSync(join(tmpdir(), 'mm-bench-'))
  try {
    const tIo: number[] = []
    const tJson: number[] = []
    const tOurs: number[] = []
    const ratioIo: number[] = []
    const ratioJson: number[] = []
    let msgs = 0
    await ours(paths, join(tmp, 'warm'))
    for (let r = 0; r < REPS; r++) {
      let t0 = performance.now()
      await baselineIo(paths)
      const io = performance.now() - t0
      t0 = performance.now()
      jsonOnly(lines)
      const js = performance.now() - t0
      t0 = performance.now()
      msgs = await ours(paths, join(tmp, `r${r}`))
      const o = performance.now() - t0
      tIo.push(io)
      tJson.push(js)
      tOurs.push(o)
      ratioIo.push(o / io)
      ratioJson.push(o / js)
    }
    // memory: ten passes over the stream in one run
    const rss: number[] = []
    gc()
    const rss0 = process.memoryUsage().rss
    await ours(paths, join(tmp, 'mem'), 10, () => {
      gc()
      rss.push(process.memoryUsage().rss)
    })
    const mb = (b: number) => round(b / 2 ** 20, 1)
    const after = rss.slice(1)
    const growth = (Math.max(...after) - Math.min(...after)) / Math.min(...after)
    return {
      messages: msgs,
      baseline_io_json_per_s: Math.round(msgs / (median(tIo) / 1000)),
      json_parse_only_per_s: Math.round(lines.length / (median(tJson) / 1000)),
      ours_full_loop_per_s: Math.round(msgs / (median(tOurs) / 1000)),
      ours_vs_io_json_ratio: round(median(ratioIo), 2),
      ours_vs_json_parse_ratio: round(median(ratioJson), 2),
      target: '≤ 2× JSON.parse (same I/O)',
      rss_before_mb: mb(rss0),
      rss_per_pass_mb: rss.map(mb).join(' '),
      rss_spread_passes_2_to_10_pct: round(growth * 100, 1),
    }
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }
}
