/**
 * Replay throughput of the full dry-run loop on the real ETHUSDT 2024-07-18/19 capture
 * (69,913 messages: depth@0ms, bookTicker, trade, one REST snapshot), the lines held in
 * memory so that the file I/O is out of every figure:
 *
 *  (a) baseline: JSON.parse alone of each message (the same in-memory lines)
 *  (b) ours: `mm quote --dry-run --replay` minus the CLI and the file read — the same
 *      functions the command runs: the replay input built as from files (guardedLineInput)
 *      → the raw reader's line decoder → byte scanner → replay guard → the one synced
 *      book → paper venue (reading that book) → decide/reconcile → event log on disk. Book tickers (68 % of the lines)
 *      are skipped after their event type, as `mm quote` does: the loop does not use
 *      them. Messages/s counts every line.
 *
 * The ratio is the median over five repetitions (each: (b) / (a) in the same repetition),
 * after two untimed passes of each; also given in process CPU time.
 *
 * and memory over a replay of ten times the stream in one run (times shifted per pass;
 * the join resyncs like a reconnect): RSS after each pass, after a GC.
 */
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'
import {defaultConfig} from '../src/lib/config/index.js'
import {Instrument} from '../src/lib/domain/instrument.js'
import type {LineBatch} from '../src/lib/market/lines.js'
import {newRawStats, rawLineBatches, rawLineDecoder} from '../src/lib/record/raw-reader.js'
import {guardedLineInput} from '../src/lib/record/replay-source.js'
import {runReplay} from '../src/lib/run/session.js'
import {paperVenue} from '../src/lib/run/venues.js'
import {median, round, sharedData} from './lib.js'

export const name = 'replay'

const FILES = ['hftbacktest/examples/usdm/ethusdt_20240718.gz', 'hftbacktest/examples/usdm/ethusdt_20240719.gz']
const REPS = 5
const inst = new Instrument({symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})

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
async function ours(files: {path: string; lines: string[]}[], stateDir: string, passes = 1, onPass?: (k: number) => void): Promise<number> {
  const stats = newRawStats()
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
  const input = guardedLineInput(inputs, {symbol: 'ETHUSDT', maxGapMs: passes > 1 ? 2 * spanMs : undefined})
  await runReplay({instrument: inst, config: config(), configSource: 'bench', mode: 'replay', stateDir, wallMs: 0, source: 'bench', runId: 'bench', venue: paperVenue}, input, {speed: 'max'})
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
      await ours(files, join(tmp, `warm${w}`))
      jsonOnly(msgs)
    }
    // process CPU time (user + system) beside wall time: less moved by other processes on a loaded machine
    const cpuMs = () => {
      const c = process.cpuUsage()
      return (c.user + c.system) / 1000
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
      n = await ours(files, join(tmp, `r${r}`))
      const o = performance.now() - t0
      const oCpu = cpuMs() - c0
      tJson.push(js)
      tOurs.push(o)
      ratioJson.push(o / js)
      ratioCpu.push(oCpu / jsCpu)
    }
    // memory: ten passes over the stream in one run
    const rss: number[] = []
    gc()
    const rss0 = process.memoryUsage().rss
    await ours(files, join(tmp, 'mem'), 10, () => {
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
      target: '≤ 1.5× JSON.parse alone (same in-memory lines)',
      path: "mm quote --replay's own: guardedLineInput → ReplayDriver (line decoder → byte scanner → replay guard) → Engine.onScanned → one book → paper venue → decide → event log",
      rss_before_mb: mb(rss0),
      rss_per_pass_mb: rss.map(mb).join(' '),
      rss_spread_passes_2_to_10_pct: round(growth * 100, 1),
    }
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }
}
