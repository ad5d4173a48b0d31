/**
 * The cost of telemetry on the replay loop: the full dry-run loop on the real ETHUSDT
 * 2024-07-18/19 capture (as bench/replay.bench.ts), run four ways in the same process,
 * interleaved rep by rep so machine noise falls on all alike:
 *   plain    no metrics, no operator log (what `mm quote --replay` does without flags)
 *   metrics  the Prometheus registry fed from every run event + latency brackets
 *   logs     the operator log at info into a file (every strategy_adjust, risk_event, fill)
 *   both     metrics and logs
 * Figures: median wall time per variant and its ratio to plain.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {defaultConfig} from '../src/lib/config/index.js'
import {Instrument} from '../src/lib/domain/instrument.js'
import type {MarketEvent} from '../src/lib/market/events.js'
import {newRawStats, readRawBatches} from '../src/lib/record/raw-reader.js'
import {runReplay} from '../src/lib/run/session.js'
import {paperVenue} from '../src/lib/run/venues.js'
import {createLogger} from '../src/lib/telemetry/log.js'
import {createMetrics} from '../src/lib/telemetry/metrics.js'
import {median, round, sharedData} from './lib.js'

export const name = 'telemetry'

const FILES = ['hftbacktest/examples/usdm/ethusdt_20240718.gz', 'hftbacktest/examples/usdm/ethusdt_20240719.gz']
const REPS = 5
const inst = new Instrument({symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})
type Variant = 'plain' | 'metrics' | 'logs' | 'both'

function config() {
  const c = defaultConfig()
  return {...c, strategy: {...c.strategy, baseSpread: 0.0002}, risk: {...c.risk, netMax: '0.05'}}
}

async function once(paths: string[], dir: string, v: Variant): Promise<{ms: number; logLines: number}> {
  const stats = newRawStats()
  const events = async function* (): AsyncGenerator<MarketEvent[]> {
    yield* readRawBatches(paths, {symbol: 'ETHUSDT', onlySymbol: 'ETHUSDT', tickers: false, stats})
  }
  const metrics = v === 'metrics' || v === 'both' ? createMetrics({labels: {symbol: 'ETHUSDT', mode: 'replay'}}) : undefined
  let logLines = 0
  const logger = v === 'logs' || v === 'both' ? createLogger({file: join(dir, `${v}.log`), level: 'info', base: {command: 'quote', symbol: 'ETHUSDT'}}) : undefined
  const counting = logger ? {...logger, child: (f: Record<string, string>) => {
    const c = logger.child(f)
    return {...c, log: (...a: Parameters<typeof c.log>) => {
      logLines++
      c.log(...a)
    }}
  }} : undefined
  const t0 = performance.now()
  await runReplay({instrument: inst, config: config(), configSource: 'bench', mode: 'replay', stateDir: join(dir, v), wallMs: 0, source: 'bench', runId: 'bench', venue: paperVenue, metrics, logger: counting}, events(), {speed: 'max'})
  if (metrics) await metrics.registry.metrics()
  return {ms: performance.now() - t0, logLines}
}

export async function run(): Promise<Record<string, number | string>> {
  const paths = FILES.map((f) => sharedData(f))
  const tmp = mkdtempSync(join(tmpdir(), 'mm-bench-tel-'))
  try {
    const t: Record<Variant, number[]> = {plain: [], metrics: [], logs: [], both: []}
    const ratio: Record<Exclude<Variant, 'plain'>, number[]> = {metrics: [], logs: [], both: []}
    let lines = 0
    await once(paths, join(tmp, 'warm'), 'both')
    for (let r = 0; r < REPS; r++) {
      const d = join(tmp, `r${r}`)
      // rotate the order each rep so no variant always runs first
      const order: Variant[] = (['plain', 'metrics', 'logs', 'both'] as Variant[]).map((_, i, a) => a[(i + r) % a.length])
      const got = {} as Record<Variant, number>
      for (const v of order) {
        const res = await once(paths, d, v)
        got[v] = res.ms
        if (v === 'logs') lines = res.logLines
      }
      for (const v of Object.keys(t) as Variant[]) t[v].push(got[v])
      for (const v of Object.keys(ratio) as Exclude<Variant, 'plain'>[]) ratio[v].push(got[v] / got.plain)
    }
    return {
      plain_ms: round(median(t.plain), 1),
      metrics_ms: round(median(t.metrics), 1),
      logs_ms: round(median(t.logs), 1),
      both_ms: round(median(t.both), 1),
      metrics_vs_plain_ratio: round(median(ratio.metrics), 3),
      logs_vs_plain_ratio: round(median(ratio.logs), 3),
      both_vs_plain_ratio: round(median(ratio.both), 3),
      log_lines_per_run: lines,
      reps: REPS,
    }
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }
}
