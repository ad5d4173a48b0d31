/**
 * Order-book throughput on the real ETHUSDT 2024-07-18/19 capture (8,929 depth messages
 * + one 1000/1000-level REST snapshot, ~357k level updates), held in memory as JSON text.
 *
 *  (a) JSON.parse of each message alone: the baseline
 *  (b) ours, JSON path: JSON.parse + Instrument string→tick/step conversion + DepthSync
 *      (id checks, buffering, apply) + top-of-book read after every message
 *  (b') ours, scanner path: DepthScanner (text → ticks/steps, no objects) + DepthSync +
 *      top-of-book read after every message
 *  (b'') ours, the product's feed path: the capture lines (time column included) through
 *      the calls the replay driver and Engine.onScanned make for a book message — the raw
 *      reader's line decoder (receive time), DepthScanner.scan, DepthSync.onDepthLevels /
 *      onSnapshotLevels — + top-of-book read (the paper venue's hooks and decisions are
 *      the full loop's, bench/replay.bench.ts). The live feed makes the same scan + sync calls.
 *  (c) ccxt's OrderBook, fed as ccxt's binance handler does (JSON.parse, parseFloat of
 *      each price/amount, bookside.store) + top-of-book read after every message
 *
 * Rates are level updates per second (snapshot levels included), median of the reps.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {gunzipSync} from 'node:zlib'
import {DepthScanner, SCAN_DEPTH, SCAN_SNAPSHOT} from '../src/lib/book/scan.js'
import {rawLineDecoder} from '../src/lib/record/raw-reader.js'
import {DepthSync} from '../src/lib/book/sync.js'
import {Instrument} from '../src/lib/domain/instrument.js'
import type {DepthEvent, SnapshotEvent} from '../src/lib/market/events.js'
import {compare, repoRoot, round, sharedData} from './lib.js'

export const name = 'book'

const FILES = ['hftbacktest/examples/usdm/ethusdt_20240718.gz', 'hftbacktest/examples/usdm/ethusdt_20240719.gz']
const REPS = 11
const WARMUP = 3

// ETHUSDT grid: tickSize 0.01, stepSize 0.001
const inst = new Instrument({symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5'})

/** the book messages of the stream, JSON text only (the capture's time column cut off) */
function loadMessages(): string[] {
  return loadLines().map((line) => (' ' + line.slice(line.indexOf(' ') + 1)).slice(1))
}

/** the same messages as capture lines, time column included */
function loadLines(): string[] {
  const lines: string[] = []
  for (const f of FILES) {
    const text = gunzipSync(readFileSync(sharedData(f))).toString('utf8')
    for (const line of text.split('\n')) {
      if (!line.includes('"depthUpdate"') && !line.includes('"lastUpdateId"')) continue
      // flatten the slice so every variant reads the same plain string
      lines.push((' ' + line).slice(1))
    }
  }
  return lines
}

function oursFeed(lines: string[]): number {
  const sync = new DepthSync(inst)
  const sc = new DepthScanner(inst)
  const d = rawLineDecoder('bench', {symbol: 'ETHUSDT'})
  const book = sync.book
  let acc = 0
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (!d.head(line)) continue
    const code = sc.scan(line, d.start)
    const ts = sc.ts
    if (code === SCAN_DEPTH) sync.onDepthLevels(sc.U, sc.u, sc.pu, ts, sc.batch, ts)
    else if (code === SCAN_SNAPSHOT) sync.onSnapshotLevels(sc.lastUpdateId, ts, sc.batch, ts)
    else throw new Error(`feed path: unexpected scan ${code} ${sc.error}`)
    acc += book.bestBid() + book.bestAsk() + book.bestBidQty() + book.bestAskQty()
  }
  if (sync.gaps !== 0) throw new Error('ours (feed): unexpected gap')
  return acc
}

type Raw = {data?: Raw; e?: string; E: number; T?: number; U: number; u: number; pu: number; b: [string, string][]; a: [string, string][]; lastUpdateId?: number; bids: [string, string][]; asks: [string, string][]}

function oursJson(msgs: string[]): number {
  const sync = new DepthSync(inst)
  const book = sync.book
  let acc = 0
  for (let i = 0; i < msgs.length; i++) {
    const o = JSON.parse(msgs[i]) as Raw
    const d = o.data ?? o
    const ts = (d.T ?? d.E) * 1000
    if (d.lastUpdateId !== undefined) {
      const ev: SnapshotEvent = {kind: 'snapshot', symbol: 'ETHUSDT', ts, localTs: ts, lastUpdateId: d.lastUpdateId, bids: d.bids, asks: d.asks}
      sync.onSnapshot(ev)
    } else {
      const ev: DepthEvent = {kind: 'depth', symbol: 'ETHUSDT', ts, localTs: ts, U: d.U, u: d.u, pu: d.pu, bids: d.b, asks: d.a}
      sync.onDepth(ev)
    }
    acc += book.bestBid() + book.bestAsk() + book.bestBidQty() + book.bestAskQty()
  }
  if (sync.gaps !== 0) throw new Error('ours (json): unexpected gap')
  return acc
}

function oursScan(msgs: string[]): number {
  const sync = new DepthSync(inst)
  const sc = new DepthScanner(inst)
  const book = sync.book
  let acc = 0
  for (let i = 0; i < msgs.length; i++) {
    if (sc.feed(sync, msgs[i]) === 'fallback') throw new Error(`scanner fell back: ${sc.error}`)
    acc += book.bestBid() + book.bestAsk() + book.bestBidQty() + book.bestAskQty()
  }
  if (sync.gaps !== 0) throw new Error('ours (scan): unexpected gap')
  return acc
}

function parseOnly(msgs: string[]): number {
  let acc = 0
  for (let i = 0; i < msgs.length; i++) {
    const o = JSON.parse(msgs[i]) as Raw
    acc += (o.data ?? o).E
  }
  return acc
}

// ccxt's order book: a plain JS module inside the package (its exports map hides it)
interface CcxtSide {
  store(price: number, size: number): void
  [i: number]: [number, number] | undefined
}
interface CcxtBook {
  bids: CcxtSide
  asks: CcxtSide
  nonce: number | undefined
  reset(snapshot: {bids: [number, number][]; asks: [number, number][]; nonce?: number}): CcxtBook
}
type CcxtBookCtor = new (snapshot?: object, depth?: number) => CcxtBook

function ccxtRun(OrderBook: CcxtBookCtor, msgs: string[]): number {
  const ob = new OrderBook({})
  let acc = 0
  const toFloats = (lv: [string, string][]) => lv.map((l) => [Number.parseFloat(l[0]), Number.parseFloat(l[1])] as [number, number])
  for (let i = 0; i < msgs.length; i++) {
    const o = JSON.parse(msgs[i]) as Raw
    const d = o.data ?? o
    if (d.lastUpdateId !== undefined) {
      ob.reset({bids: toFloats(d.bids), asks: toFloats(d.asks), nonce: d.lastUpdateId})
    } else {
      const a = d.a
      for (let j = 0; j < a.length; j++) ob.asks.store(Number.parseFloat(a[j][0]), Number.parseFloat(a[j][1]))
      const b = d.b
      for (let j = 0; j < b.length; j++) ob.bids.store(Number.parseFloat(b[j][0]), Number.parseFloat(b[j][1]))
      ob.nonce = d.u
    }
    const bb = ob.bids[0]
    const ba = ob.asks[0]
    if (bb && ba) acc += bb[0] + ba[0] + bb[1] + ba[1]
  }
  return acc
}

export async function run(): Promise<Record<string, number | string>> {
  const msgs = loadMessages()
  const lines = loadLines()
  let levels = 0
  for (const m of msgs) {
    const d = (JSON.parse(m) as Raw).data ?? (JSON.parse(m) as Raw)
    levels += d.lastUpdateId !== undefined ? d.bids.length + d.asks.length : d.b.length + d.a.length
  }
  const {OrderBook} = (await import(pathToFileURL(join(repoRoot, 'node_modules/ccxt/js/src/base/ws/OrderBook.js')).href)) as {OrderBook: CcxtBookCtor}

  // the three books must agree before their speed means anything
  const final = (f: (m: string[]) => number) => f(msgs)
  if (final(oursJson) !== final(oursScan)) throw new Error('scanner and JSON paths disagree')
  if (oursFeed(lines) !== final(oursScan)) throw new Error('feed path and scanner disagree')

  const {timings: t, ratioToBaseline: r} = compare(
    {
      parse: () => parseOnly(msgs),
      json: () => oursJson(msgs),
      scan: () => oursScan(msgs),
      feed: () => oursFeed(lines),
      ccxt: () => ccxtRun(OrderBook, msgs),
    },
    'parse',
    REPS,
    WARMUP,
  )
  const rate = (ms: number) => Math.round(levels / (ms / 1000))
  return {
    messages: msgs.length,
    level_updates: levels,
    reps: REPS,
    json_parse_ms: round(t.parse.medianMs, 2),
    ours_json_ms: round(t.json.medianMs, 2),
    ours_scan_ms: round(t.scan.medianMs, 2),
    ours_feed_path_ms: round(t.feed.medianMs, 2),
    ccxt_ms: round(t.ccxt.medianMs, 2),
    json_parse_levels_per_s: rate(t.parse.medianMs),
    ours_json_levels_per_s: rate(t.json.medianMs),
    ours_scan_levels_per_s: rate(t.scan.medianMs),
    ccxt_levels_per_s: rate(t.ccxt.medianMs),
    ours_json_vs_parse_time_ratio: round(r.json),
    ours_scan_vs_parse_time_ratio: round(r.scan),
    ours_feed_path_vs_parse_time_ratio: round(r.feed),
    feed_path_target: '≤ 0.6× JSON.parse',
    ccxt_vs_parse_time_ratio: round(r.ccxt),
    ours_scan_speedup_vs_ccxt_x: round(t.ccxt.medianMs / t.scan.medianMs, 2),
  }
}
