/**
 * What `mm quote --dry-run` does, from parsed flags to a finished run. The command only
 * parses flags, calls this, and prints.
 */
import {UsageError} from '../domain/errors.js'
import {loadConfigFile, type MmConfig, parseConfig} from '../config/index.js'
import type {Endpoints} from '../cli/endpoints.js'
import type {MmLogger} from '../telemetry/log.js'
import type {RunMetrics} from '../telemetry/metrics.js'
import type {RunEvent} from '../telemetry/run-events.js'
import {openReplay} from '../record/replay-source.js'
import {partialFilesIn, partialRecovery} from '../record/tardis-reader.js'
import {checkNoOverlap} from '../record/overlap.js'
import type {StateKeeper} from '../state/keeper.js'
import {instrumentOf, runLive, runReplay, type SessionResult} from './session.js'
import {paperVenue} from './venues.js'
import {liveLine, ReplayProgress} from './progress.js'
import {wallClock} from '../clock/clock.js'
// Live-only modules (the Binance gateway and feed, ws, undici, prom-client, the state
// keeper) are imported where a live or dry-run path, or --metrics-port, needs them: a
// replay, and each `mm calibrate` worker thread (calibrate/point.ts), loads none of them.

export interface QuoteOptions {
  symbol: string
  dryRun: boolean
  replay?: string[]
  speed: 'max' | number
  durationMs?: number
  configPath?: string
  strategy?: 'v2' | 'naive'
  stateDir: string
  tickSize?: string
  stepSize?: string
  minNotional?: string
  endpoints: Endpoints
  wallMs: number
  /** resolves with a reason when the operator asks to stop (SIGINT/SIGTERM) */
  stop: Promise<string>
  isStopping: () => boolean
  onNotice?: (msg: string) => void
  /** the status line about once a wall second (src/lib/run/progress.ts); absent: none is made */
  onProgress?: (line: string) => void
  /** serve Prometheus metrics on http://host:port/metrics for the run (port 0 = any free one; host default 127.0.0.1) */
  metrics?: {port: number; host?: string}
  /** operator log (run events at their levels) */
  logger?: MmLogger
  /**
   * the config as a config file's parsed JSON, handed over in memory (`mm calibrate`'s
   * jobs): the same checks as a file's (parseConfig), its errors and the run naming it
   * `source`; when present, `configPath` is not read
   */
  configJson?: {json: unknown; source: string}
  /** replay only: false writes nothing, no run directory or event log (`mm calibrate`'s jobs; run/session.ts); default true */
  runFiles?: boolean
  /** replay only: each run event, as it is logged (`mm calibrate`'s jobs read the per-minute Sharpe ratio from them) */
  onEvent?: (ev: RunEvent) => void
  /** told the metrics URL once it serves */
  onMetrics?: (url: string) => void
  /** live trading (without --dry-run) */
  live?: {keyFile?: string; env: Record<string, string | undefined>; instance?: string; allowForeignOrders: boolean; confirm?: (lines: string[]) => Promise<boolean>; orderTransport?: 'ws' | 'rest'; wsApiUrl?: string}
}

export interface QuoteResult extends SessionResult {
  instrument: {symbol: string; tickSize: string; stepSize: string; minNotional: string; from: string}
  config: string
  /** the resolved state dir (run directories, and state for live and dry-run) */
  stateDir: string
  /** state.json of this run's symbol; null for a replay (which keeps no state) */
  stateFile: string | null
  /** where /metrics was served (with --metrics-port) */
  metricsUrl?: string
  /** live trading: the venue and what the run did there */
  live?: {url: string; deadman: boolean; cancelledAtStart: number; disarmed: boolean; audits: number; auditsHeld: number; auditFindings: number; orderTransport: {requested: 'ws' | 'rest'; transport: 'ws' | 'rest'; ws: number; rest: number; switches: number}}
}

export function parseSpeed(s: string | undefined, replay: boolean): 'max' | number {
  if (s === undefined) return replay ? 'max' : 1
  if (s === 'max') return 'max'
  const m = /^(\d+(?:\.\d+)?)x?$/.exec(s)
  if (!m || Number(m[1]) <= 0) throw new UsageError('E_USAGE', `--speed ${JSON.stringify(s)} is not 'max' or a positive multiple of real time (e.g. 10)`)
  return Number(m[1])
}

export async function quote(o: QuoteOptions): Promise<QuoteResult> {
  if (!o.metrics) return quoteRun(o)
  const [{createMetrics}, {startMetricsServer}] = await Promise.all([import('../telemetry/metrics.js'), import('../telemetry/metrics-server.js')])
  const mode = !o.dryRun ? 'live' : o.replay && o.replay.length > 0 ? 'replay' : 'dry-run'
  const metrics = createMetrics({labels: {symbol: o.symbol.toUpperCase(), mode}})
  const server = await startMetricsServer(metrics.registry, o.metrics)
  try {
    o.onMetrics?.(server.url)
    const res = await quoteRun(o, metrics)
    return {...res, metricsUrl: server.url}
  } finally {
    await server.close()
  }
}

async function quoteRun(o: QuoteOptions, metrics?: RunMetrics): Promise<QuoteResult> {
  if (!o.dryRun && o.replay && o.replay.length > 0) {
    throw new UsageError('E_USAGE', '--replay needs --dry-run (a recording cannot be traded live)', {suggestion: 'add --dry-run'})
  }
  if (o.replay && o.speed !== 'max' && o.speed > 1000) throw new UsageError('E_USAGE', '--speed above 1000 is not pacing anything: use --speed max')
  const loaded = o.configJson === undefined ? loadConfigFile(o.configPath) : {config: parseConfig(o.configJson.json, o.configJson.source), path: o.configJson.source}
  const config: MmConfig = o.strategy ? {...loaded.config, strategy: {...loaded.config.strategy, kind: o.strategy}} : loaded.config
  const configSource = loaded.path ?? '(defaults)'
  metrics?.setNetMax(Number(config.risk.netMax))
  const symbol = o.symbol.toUpperCase()
  if ((o.tickSize === undefined) !== (o.stepSize === undefined)) throw new UsageError('E_USAGE', '--tick-size and --step-size go together')

  if (o.replay && o.replay.length > 0) {
    // two recorders' overlapping files in one folder: said as such (the replay would fail on order)
    await checkNoOverlap(o.replay)
    const src = await openReplay(o.replay, {symbol, tickSize: o.tickSize, stepSize: o.stepSize, minNotional: o.minNotional, guard: {toleranceMs: config.replay.timeToleranceMs, maxGapMs: config.replay.maxGapMs}})
    const inst = instrumentOf({...src.instrument, minNotional: o.minNotional ?? src.instrument.minNotional})
    if (src.instrumentFrom === 'inferred') {
      o.onNotice?.(`instrument inferred from the decimals in the data: tick ${inst.spec.tickSize}, step ${inst.spec.stepSize}, min notional ${inst.spec.minNotional} (assumed); pass --tick-size/--step-size/--min-notional to set them`)
    }
    // a folder's .partial files are skipped: said, with how to recover a killed recorder's rows
    if (o.onNotice) {
      const torn = await partialFilesIn(o.replay)
      if (torn.length > 0) {
        o.onNotice(`skipped ${torn.length} .partial file${torn.length === 1 ? '' : 's'} (still being written, or torn by a killed recorder: its rows up to the last flush are recoverable with ${partialRecovery()}): ${torn.join(', ')}`)
      }
    }
    const progress = o.onProgress ? new ReplayProgress(src.bytes, o.durationMs, () => wallClock.now()) : undefined
    const res = await runReplay(
      {instrument: inst, config, configSource, mode: 'replay', stateDir: o.stateDir, wallMs: o.wallMs, source: o.replay.join(','), runId: 'replay', metrics, logger: o.logger, venue: paperVenue, runFiles: o.runFiles, onEvent: o.onEvent, onNotice: o.onNotice, onStart: (dir) => o.onNotice?.(`replaying ${o.replay?.join(', ')} as ${symbol} (strategy ${config.strategy.kind}); ${dir === null ? 'nothing written (no run directory)' : `events → ${dir}/events.jsonl`}`)},
      src.input(),
      {speed: o.speed, durationMs: o.durationMs, shouldStop: o.isStopping, onStatus: progress ? (st) => o.onProgress?.(progress.line(st)) : undefined},
    )
    // the documented rule (docs/RELIABILITY.md): other symbols' lines are skipped, counted and said
    if (src.guard.otherSymbols > 0) o.onNotice?.(`skipped ${src.guard.otherSymbols} events of other symbols than ${symbol} in the replay input`)
    return {...res, instrument: {symbol, tickSize: inst.spec.tickSize, stepSize: inst.spec.stepSize, minNotional: inst.spec.minNotional, from: src.instrumentFrom}, config: configSource, stateDir: o.stateDir, stateFile: null}
  }

  if (!o.dryRun) {
    const l = o.live ?? {env: {}, allowForeignOrders: false}
    const {quoteLive} = await import('./live.js')
    const res = await quoteLive({
      symbol, config, configSource, stateDir: o.stateDir, endpoints: o.endpoints, wallMs: o.wallMs, durationMs: o.durationMs, stop: o.stop,
      keyFile: l.keyFile, env: l.env, instance: l.instance, allowForeignOrders: l.allowForeignOrders, confirm: l.confirm, orderTransport: l.orderTransport, wsApiUrl: l.wsApiUrl, onNotice: o.onNotice, metrics, logger: o.logger,
      onProgress: o.onProgress ? (st) => o.onProgress?.(liveLine(st)) : undefined,
    })
    const inst = res.instrument
    return {runId: res.runId, runDir: res.runDir, eventLog: res.eventLog, events: res.events, summary: res.summary, instrument: {symbol, tickSize: inst.spec.tickSize, stepSize: inst.spec.stepSize, minNotional: inst.spec.minNotional, from: 'exchangeInfo'}, config: configSource, stateDir: o.stateDir, stateFile: res.stateFile, live: res.venue}
  }

  // live market data, paper orders: public endpoints only, no keys, no signed request.
  // One quote per symbol and state dir: the lock first, before any connection.
  const {StateKeeper} = await import('../state/keeper.js')
  const keeper = StateKeeper.open({stateDir: o.stateDir, symbol, dryRun: true, stopLoss: config.strategy.kind === 'naive' ? 0 : config.risk.stopLoss, maxDailyLoss: config.strategy.kind === 'naive' ? 0 : config.risk.maxDailyLoss, onNotice: o.onNotice})
  try {
    return await liveDryRun(o, config, configSource, symbol, keeper, metrics)
  } finally {
    keeper.close('error')
  }
}

async function liveDryRun(o: QuoteOptions, config: MmConfig, configSource: string, symbol: string, keeper: StateKeeper, metrics?: RunMetrics): Promise<QuoteResult> {
  const [{BinancePublicRest}, {marketFeed}] = await Promise.all([import('../venue/binance/rest-public.js'), import('./market-feed.js')])
  const rest = new BinancePublicRest({baseUrl: o.endpoints.rest})
  let inst
  try {
    ;[inst] = await rest.instruments([symbol])
  } finally {
    await rest.close()
  }
  // a live run refuses such a symbol (E_SYMBOL_NOT_TRADING); the paper orders here would be refused too (-4140)
  const status = inst.spec.status
  if (status !== undefined && status !== 'TRADING') {
    o.onNotice?.(`${symbol} is not trading on ${o.endpoints.rest} (status ${status}): the venue refuses its orders (-4140) and a live run would not start; these paper orders and fills could not happen`)
  }
  // the sync budget: a book that cannot sync for feed.syncBudgetMs ends the run (exit 1, the reason);
  // the feed keeps the symbol's one book (scanned once per message); the engine and the paper venue read it
  const feed = marketFeed(o.endpoints, inst, config)
  metrics?.setProbes({usedWeight: () => feed.rest.http.usedWeight})
  const runId = 'd' + Math.floor(o.wallMs / 1000).toString(36).slice(-7)
  const res = await runLive(
    {
      instrument: inst, config, configSource, mode: 'dry-run', stateDir: o.stateDir, wallMs: o.wallMs, source: o.endpoints.ws, runId, metrics, logger: o.logger, venue: paperVenue, keeper, riskDay: keeper.carriedDay(inst), sync: feed.depthSync(symbol), onNotice: o.onNotice,
      onStart: (dir) => o.onNotice?.(`dry-run ${symbol} on ${o.endpoints.ws} (strategy ${config.strategy.kind}, paper orders, no signed requests); events → ${dir}/events.jsonl`),
      onSynced: () => o.onNotice?.(`${symbol} market data in sync; quoting (Ctrl-C stops: cancel all, summary)`),
    },
    feed,
    {durationMs: o.durationMs, stop: o.stop, onProgress: o.onProgress ? (st) => o.onProgress?.(liveLine(st)) : undefined},
  )
  return {...res, instrument: {symbol, tickSize: inst.spec.tickSize, stepSize: inst.spec.stepSize, minNotional: inst.spec.minNotional, from: 'exchangeInfo'}, config: configSource, stateDir: o.stateDir, stateFile: keeper.path}
}
