/**
 * Replay throughput of the full dry-run loop on the real ETHUSDT 2024-07-18/19 capture
 * (69,913 messages: depth@0ms, bookTicker, trade, one REST snapshot), the lines held in
 * memory so that the file I/O is out of every figure, the product as compiled in dist/
 * (what `bin/run.js` runs; `npm run build` first):
 *
 *  (a) baseline: JSON.parse alone of each message (the same in-memory lines)
 *  (b) ours: `mm quote --dry-run --replay` minus the CLI and the file read — the same
 *      functions the command runs: the replay input built as from files (guardedLineInput)
 *      → the raw reader's line decoder → byte scanner → replay guard → the one synced
 *      book → paper venue (reading that book) → decide/reconcile → event log on disk. Book tickers (68 % of the lines)
 *      are skipped after their event type, as `mm quote` does: the loop does not use
 *      them. Messages/s counts every line.
 *
 * Two ways, both against JSON.parse in the same run:
 *  - fresh runs: each repetition a new run (new engine, book, venue, event log), as one
 *    `mm quote --replay` is; after two untimed runs, the median over five of (b) / (a) in
 *    the same repetition. A new run's objects have new hidden classes, so V8 recompiles
 *    (and first runs unoptimised) part of the loop in every run: this figure includes
 *    that warm-up, paid once per run;
 *  - steady state: one run over seven passes of the stream (times shifted per pass, the
 *    copies made outside the timing); before each pass JSON.parse alone over that pass's
 *    lines; the median over passes 3–7 of (pass) / (its JSON.parse). This is the loop's
 *    throughput once compiled: a long replay or a live run spends its time here.
 * Each also in process CPU time (user + system, every thread: the GC's and the compiler's
 * background threads included), which waiting for a core does not stretch.
 *
 * and memory over a replay of ten times the stream in one run (times shifted per pass;
 * the join resyncs like a reconnect): RSS after each pass, after a GC.
 */
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'
import type {LineBatch} from '../src/lib/market/lines.js'
import {distModule, median, round, sharedData} from './lib.js'

export const name = 'replay'

const FILES = ['hftbacktest/examples/usdm/ethusdt_20240718.gz', 'hftbacktest/examples/usdm/ethusdt_20240719.gz']
const REPS = 5
/** steady state: passes in one run, the first two not counted */
const STEADY_PASSES = 7

async function loadProduct() {
  return {
    ...(await distModule<typeof import('../src/lib/config/index.js')>('config/index.js')),
    ...(await distModule<typeof import('../src/lib/domain/instrument.js')>('domain/instrument.js')),
    ...(await distModule<typeof import('../src/lib/record/raw-reader.js')>('record/raw-reader.js')),
    ...(await distModule<typeof import('../src/lib/record/replay-source.js')>('record/replay-source.js')),
    ...(await distModule<typeof import('../src/lib/run/session.js')>('run/session.js')),
    ...(await distModule<typeof import('../src/lib/run/venues.js')>('run/venues.js')),
  }
}
type Product = Awaited<ReturnType<typeof loadProduct>>

function jsonOnly(lines: string[]): number {
  let n = 0
  for (const l of lines) if (JSON.parse(l)) n++
  return n
}

function config(P: Product) {
  const c = P.defaultConfig()
  // quote near the touch so orders, fills and cancels happen: the loop does its real work
  return {...c, strategy: {...c.strategy, baseSpread: 0.0002}, risk: {...c.risk, netMax: '0.05'}}
}

/** ms → the same time `shift` ms later, in a line's `"E":…`, `"T":…` and ns time column */
function shiftLine(line: string, shiftMs: number): string {
  const sp = line.indexOf(' ')
  const us = Number(line.slice(0, sp - 3)) + shiftMs * 1000
  const body = line.slice(sp).replace(/"([ET])":(\d{13})/g, (_m, k: string, v: string) => `"${k}":${Number(v) + shiftMs}`)
  return `${us}${line.slice(sp - 3, sp)}${body}`
}

/**
 * Replay the in-memory lines through the whole loop `passes` times; returns the lines read
 * per pass. The input is built as `mm quote --replay` builds it from files
 * (record/replay-source.ts guardedLineInput: the lines per file and the replay guard the
 * driver runs on them), then session.runReplay, the command's own call.
 */
async function ours(P: Product, files: {path: string; lines: string[]}[], stateDir: string, passes = 1, onPass?: (k: number) => void): Promise<number> {
  const {rawLineBatches, rawLineDecoder} = P
  const stats = P.newRawStats()
  const spanMs = 3 * 24 * 3600_000
  const inputs: {path: string; lines: () => Iterable<LineBatch>}[] = []
  for (let k = 0; k < passes; k++) {
    files.forEach((f, i) => {
      const last = i === files.length - 1
      inputs.push({
        path: f.path,
        lines: function* () {
          if (k === 0) yield* rawLineBatches(f.path, f.lines, {symbol: 'ETHUSDT', tickers: false, stats})
          else {
            // later passes: shifted copies made a batch at a time (nothing kept)
            const decoder = rawLineDecoder(f.path, {symbol: 'ETHUSDT', tickers: false, stats})
            for (let j = 0; j < f.lines.length; j += 4096) yield {lines: f.lines.slice(j, j + 4096).map((l) => shiftLine(l, k * spanMs)), decoder}
          }
          if (last) onPass?.(k)
        },
      })
    })
  }
  // the passes are days apart: the guard's gap rule is widened for them (its default for one pass)
  const input = P.guardedLineInput(inputs, {symbol: 'ETHUSDT', maxGapMs: passes > 1 ? 2 * spanMs : undefined})
  await P.runReplay({instrument: instrument(P), config: config(P), configSource: 'bench', mode: 'replay', stateDir, wallMs: 0, source: 'bench', runId: 'bench', venue: P.paperVenue}, input, {speed: 'max'})
  return stats.lines / passes
}

const instrument = (P: Product) => new P.Instrument({symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})

/** process CPU time (user + system, all threads), ms */
const cpuMs = () => {
  const c = process.cpuUsage()
  return (c.user + c.system) / 1000
}

interface PassTimes {
  json: number
  jsonCpu: number
  ours: number
  oursCpu: number
}

/**
 * Steady state: one run over `passes` copies of the stream, each shifted to follow the one
 * before (5 s later; the copy made outside the timing). Before each pass, JSON.parse alone
 * of that pass's messages is timed; then the pass, until the next pass begins (or the run ends).
 */
async function steady(P: Product, files: {path: string; lines: string[]}[], stateDir: string, passes: number): Promise<PassTimes[]> {
  const stats = P.newRawStats()
  const timeOf = (l: string) => Number(l.slice(0, l.indexOf(' ') - 3)) / 1000
  const all = files.flatMap((f) => f.lines)
  const spanMs = Math.ceil(timeOf(all[all.length - 1]) - timeOf(all[0])) + 5000
  const out: PassTimes[] = []
  let open: {c: number; t: number; json: number; jsonCpu: number} | null = null
  const close = (): void => {
    if (open) out.push({json: open.json, jsonCpu: open.jsonCpu, ours: performance.now() - open.t, oursCpu: cpuMs() - open.c})
    open = null
  }
  let current: string[][] = []
  const inputs: {path: string; lines: () => Iterable<LineBatch>}[] = []
  for (let k = 0; k < passes; k++) {
    files.forEach((f, i) => {
      inputs.push({
        path: f.path,
        lines: function* () {
          if (i === 0) {
            close()
            current = files.map((g) => (k === 0 ? g.lines : g.lines.map((l) => shiftLine(l, k * spanMs))))
            const msgs = current.flatMap((ls) => ls.map((l) => l.slice(l.indexOf(' ') + 1)))
            gc()
            const c0 = cpuMs()
            const t0 = performance.now()
            jsonOnly(msgs)
            const json = performance.now() - t0
            const jsonCpu = cpuMs() - c0
            gc()
            open = {c: cpuMs(), t: performance.now(), json, jsonCpu}
          }
          const decoder = P.rawLineDecoder(f.path, {symbol: 'ETHUSDT', tickers: false, stats})
          const lines = current[i]
          for (let j = 0; j < lines.length; j += 4096) yield {lines: lines.slice(j, j + 4096), decoder}
        },
      })
    })
  }
  const input = P.guardedLineInput(inputs, {symbol: 'ETHUSDT'})
  await P.runReplay({instrument: instrument(P), config: config(P), configSource: 'bench', mode: 'replay', stateDir, wallMs: 0, source: 'bench', runId: 'bench', venue: P.paperVenue}, input, {speed: 'max'})
  close()
  return out
}

function gc(): void {
  const g = (globalThis as {gc?: () => void}).gc
  if (g) {
    g()
    g()
  }
}

export async function run(): Promise<Record<string, number | string>> {
  const P = await loadProduct()
  const files = FILES.map((f) => {
    const path = sharedData(f)
    return {path, lines: gunzipSync(readFileSync(path)).toString('utf8').split('\n').filter((l) => l.length > 0)}
  })
  const msgs: string[] = []
  for (const f of files) for (const l of f.lines) msgs.push(l.slice(l.indexOf(' ') + 1))
  const tmp = mkdtempSync(join(tmpdir(), 'mm-bench-'))
  try {
    const tJson: number[] = []
    const tOurs: number[] = []
    const ratioJson: number[] = []
    const ratioCpu: number[] = []
    let n = 0
    // two untimed passes of each: the figures are of the steady state (the JIT has tiered up)
    for (let w = 0; w < 2; w++) {
      await ours(P, files, join(tmp, `warm${w}`))
      jsonOnly(msgs)
    }
    for (let r = 0; r < REPS; r++) {
      gc()
      let c0 = cpuMs()
      let t0 = performance.now()
      jsonOnly(msgs)
      const js = performance.now() - t0
      const jsCpu = cpuMs() - c0
      gc()
      c0 = cpuMs()
      t0 = performance.now()
      n = await ours(P, files, join(tmp, `r${r}`))
      const o = performance.now() - t0
      const oCpu = cpuMs() - c0
      tJson.push(js)
      tOurs.push(o)
      ratioJson.push(o / js)
      ratioCpu.push(oCpu / jsCpu)
    }
    // steady state: passes in one run
    const st = (await steady(P, files, join(tmp, 'steady'), STEADY_PASSES)).slice(2)
    // memory: ten passes over the stream in one run
    const rss: number[] = []
    gc()
    const rss0 = process.memoryUsage().rss
    await ours(P, files, join(tmp, 'mem'), 10, () => {
      gc()
      rss.push(process.memoryUsage().rss)
    })
    const mb = (b: number) => round(b / 2 ** 20, 1)
    const after = rss.slice(1)
    const growth = (Math.max(...after) - Math.min(...after)) / Math.min(...after)
    return {
      messages: n,
      json_parse_only_per_s: Math.round(msgs.length / (median(tJson) / 1000)),
      ours_full_loop_per_s: Math.round(n / (median(tOurs) / 1000)),
      json_parse_ms: round(median(tJson), 1),
      ours_full_loop_ms: round(median(tOurs), 1),
      ours_vs_json_parse_ratio: round(median(ratioJson), 2),
      ours_vs_json_parse_cpu_ratio: round(median(ratioCpu), 2),
      steady_passes: st.length,
      steady_json_parse_ms: round(median(st.map((p) => p.json)), 1),
      steady_ours_ms: round(median(st.map((p) => p.ours)), 1),
      steady_ours_per_s: Math.round(n / (median(st.map((p) => p.ours)) / 1000)),
      steady_vs_json_parse_ratio: round(median(st.map((p) => p.ours / p.json)), 2),
      steady_vs_json_parse_cpu_ratio: round(median(st.map((p) => p.oursCpu / p.jsonCpu)), 2),
      steady_vs_json_parse_ratio_each: st.map((p) => round(p.ours / p.json, 2)).join(' '),
      steady_vs_json_parse_cpu_ratio_each: st.map((p) => round(p.oursCpu / p.jsonCpu, 2)).join(' '),
      target: '≤ 1.5× JSON.parse alone (same in-memory lines)',
      path: "dist/, mm quote --replay's own: guardedLineInput → ReplayDriver (line decoder → byte scanner → replay guard) → Engine.onScanned → one book → paper venue → decide → event log",
      rss_before_mb: mb(rss0),
      rss_per_pass_mb: rss.map(mb).join(' '),
      rss_spread_passes_2_to_10_pct: round(growth * 100, 1),
    }
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }
}
