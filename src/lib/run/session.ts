/**
 * Wiring of one `mm quote` run: config → instrument → the command's venue (a factory:
 * paper today) → engine → event log, driven either by a recording (the replay driver:
 * virtual clock, as fast as the machine goes or at a multiple of real time) or by the live
 * market (the live driver: system clock; public streams only in dry-run, where no signed
 * request is ever sent).
 */
import {tuneJitForLive} from './jit.js'
import {renameSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {DepthSync} from '../book/sync.js'
import {type Clock, SystemClock, wallClock} from '../clock/clock.js'
import {type MmConfig, resolveConfig} from '../config/index.js'
import {UsageError} from '../domain/errors.js'
import {Instrument} from '../domain/instrument.js'
import type {MarketEvent} from '../market/events.js'
import type {RunSummary} from '../report/summary.js'
import {createRunDir, EventLog, runBaseId} from '../state/runs.js'
import type {StateKeeper} from '../state/keeper.js'
import {logRunEvent, type MmLogger} from '../telemetry/log.js'
import type {RunMetrics} from '../telemetry/metrics.js'
import type {RunEvent} from '../telemetry/run-events.js'
import {Engine, type EngineOptions, type EngineStatus} from '../engine/engine.js'
import {LiveDriver, type LiveMarketSource} from '../engine/live-driver.js'
import {ReplayDriver, type ReplayInput, type ReplayOptions} from '../engine/replay-driver.js'
import type {ReportQueue} from '../venue/types.js'
import type {Position} from '../orders/position.js'
import type {VenueFactory} from './venues.js'
import {minNotionalNote} from './min-notional.js'

/** Write a file whole or not at all: a temp file beside it, then rename. */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp`
  writeFileSync(tmp, text)
  renameSync(tmp, path)
}

export interface SessionOptions {
  instrument: Instrument
  config: MmConfig
  configSource: string
  mode: 'replay' | 'dry-run' | 'live'
  /** told the engine once it exists (live trading: the audit and the governor act on it) */
  onEngine?: (engine: Engine) => void
  /** live: the venue's position at start */
  startPosition?: Position
  /** §4.6: the day's PnL carried from an earlier run of the same UTC day (state.json) */
  riskDay?: {startMs: number; pnl: string; base?: string} | null
  /** live: what the venue tells the risk rules (liquidation, rate governor) */
  venueRisk?: EngineOptions['venueRisk']
  /** live: the venue clock's offset from ours (the stale-book rule counts a lagging feed; engine.ts) */
  venueClockOffsetMs?: EngineOptions['venueClockOffsetMs']
  stateDir: string
  /** wall clock of the start (run directory name only; never written into the log) */
  wallMs: number
  source: string
  /** client-order-id run tag; replays use a fixed one so their logs are identical */
  runId: string
  /** told the run directory once it exists */
  onStart?: (runDir: string | null) => void
  /** told once, when the first mid is known, that strategy.baseSize is below the min notional there (min-notional.ts) */
  onNotice?: (message: string) => void
  /** told when live market data is in sync (live only) */
  onSynced?: () => void
  /** Prometheus metrics fed from the run events (off when absent) */
  metrics?: RunMetrics
  /** operator log: each run event at its level (src/lib/telemetry/log.ts), with the run id */
  logger?: MmLogger
  /** the venue the run trades on, chosen by the command (paper, or a real one) */
  venue: VenueFactory
  /** state.json keeper (live and live dry-run; a replay keeps no state) */
  keeper?: StateKeeper
  /** the symbol's one synced book when the feed keeps it (live); default: a new one */
  sync?: DepthSync
  /**
   * replay only: false writes nothing, no run directory (so no events.jsonl, config.json or
   * summary.json): `mm calibrate`'s jobs read their objectives from the events as they
   * happen (`onEvent`) and the summary returned, and a run directory made only to be
   * removed cost each job its waits on the file system (docs/calibrate.md); default true
   */
  runFiles?: boolean
  /** each run event, as it is logged */
  onEvent?: (ev: RunEvent) => void
}

export interface SessionResult {
  runId: string
  /** null when the run wrote nothing (`runFiles: false`) */
  runDir: string | null
  /** the run's events.jsonl; null when none was written (`runFiles: false`) */
  eventLog: string | null
  /** run events logged */
  events: number
  summary: RunSummary
}

export class Session {
  readonly engine: Engine
  readonly runDir: string | null
  readonly runName: string
  readonly clock: Clock
  readonly reports: ReportQueue
  private readonly log: EventLog | CountingLog
  private readonly o: SessionOptions
  private readonly metrics?: RunMetrics

  constructor(o: SessionOptions, clock: Clock) {
    this.o = o
    this.clock = clock
    const core = resolveConfig(o.config, o.instrument, o.configSource)
    // a live or dry-run run always writes its run directory and log
    const files = o.runFiles !== false || o.mode !== 'replay'
    const run = files ? createRunDir(o.stateDir, o.instrument.symbol, o.mode, o.wallMs) : {id: runBaseId(o.instrument.symbol, o.mode, o.wallMs), dir: null}
    this.runDir = run.dir
    this.runName = run.id
    // live and dry-run: on disk within a second (a killed process loses at most that); replay: in 64 KB blocks
    this.log = run.dir === null ? new CountingLog() : new EventLog(join(run.dir, 'events.jsonl'), o.mode === 'replay' ? undefined : EVENT_LOG_FLUSH_MS)
    const tap = o.onEvent
    const m = o.metrics
    this.metrics = m
    const lg = o.logger?.child({run: run.id})
    const sync = o.sync ?? new DepthSync(o.instrument)
    // the first sample with a mid: is baseSize × mid below the min notional? (once per run)
    let sizeChecked = o.onNotice === undefined
    const checkSize = (ev: RunEvent) => {
      if (ev.type !== 'sample' || ev.mid === null) return
      sizeChecked = true
      const note = minNotionalNote(o.config.strategy.baseSize, ev.mid, o.instrument, o.config.strategy.kind === 'naive' ? 0 : o.config.strategy.staticFraction, o.config.strategy.baseSpread)
      if (note) o.onNotice?.(note)
    }
    const {venue, reports, warmBuild} = o.venue({instrument: o.instrument, clock, config: o.config, book: sync.book})
    this.reports = reports
    this.engine = new Engine({
      instrument: o.instrument, core, venue, reports, clock, sync, runId: o.runId, mode: o.mode, source: o.source, startPosition: o.startPosition, riskDay: o.riskDay ?? undefined, venueRisk: o.venueRisk, venueClockOffsetMs: o.venueClockOffsetMs,
      bookTime: o.mode === 'replay' ? 'venue' : 'local',
      // live only: the decision path warmed before the first order (replay and calibrate stay as they were)
      warmUp: o.mode === 'live' && o.config.live.warmupIterations > 0 ? {iterations: o.config.live.warmupIterations, budgetMs: o.config.live.warmupBudgetMs, elapsedMs: () => performance.now(), build: warmBuild, venueRisk: o.venueRisk !== undefined} : undefined,
      onDecide: m ? (phase) => (phase === 'begin' ? m.decideBegin() : m.decideEnd()) : undefined,
      log: (ev: RunEvent) => {
        this.log.write(ev)
        tap?.(ev)
        if (!sizeChecked) checkSize(ev)
        m?.observe(ev)
        if (lg) logRunEvent(lg, ev)
        o.keeper?.onEvent(ev)
      },
    })
    if (m) {
      const e = this.engine
      m.setProbes({
        openOrders: () => e.openOrders,
        bookStalenessMs: () => (e.sync.lastRecvUs > 0 ? clock.now() - e.bookUpdatedMs() : null),
        resyncs: () => e.sync.resyncs,
        netMaxCuts: () => e.riskCounters.netMaxCuts,
        marketEvents: () => e.marketEvents,
      })
    }
    o.onEngine?.(this.engine)
    if (run.dir !== null) writeFileSync(join(run.dir, 'config.json'), JSON.stringify({config: o.config, instrument: o.instrument.spec, source: o.source}, null, 2) + '\n')
    o.onStart?.(run.dir)
  }

  /** A run refused (bad input): close the log and remove the run directory, so no empty run is left behind. */
  discard(): void {
    this.log.close()
    if (this.runDir !== null) rmSync(this.runDir, {recursive: true, force: true})
  }

  close(summary: RunSummary): SessionResult {
    this.log.close()
    if (this.runDir !== null) writeAtomic(join(this.runDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n')
    return {runId: this.runName, runDir: this.runDir, eventLog: this.log.path, events: this.log.lines, summary}
  }
}

/** The event log of a run that keeps none on disk: counts the events only. */
class CountingLog {
  readonly path = null
  lines = 0
  write(_ev: RunEvent): void {
    this.lines++
  }
  close(): void {}
}

export type {ReplayOptions}

/** the longest an event of a live or dry-run run waits in memory before it is written */
const EVENT_LOG_FLUSH_MS = 1000

/** Replay a recording through the session on a virtual clock driven by the venue timestamps. */
export async function runReplay(o: SessionOptions, input: ReplayInput, r: ReplayOptions): Promise<SessionResult> {
  const metrics = o.metrics
  const driver = new ReplayDriver(wallClock, metrics ? (_ev, tickMs) => metrics.onTick(tickMs) : undefined, metrics ? (tickMs) => metrics.onTick(tickMs) : undefined)
  const s = new Session(o, driver.clock)
  let end: Awaited<ReturnType<ReplayDriver['run']>>
  // the status line: a wall-clock timer reads the driver's counters and the engine (off the loop)
  const onStatus = r.onStatus
  const status = onStatus ? setInterval(() => onStatus({events: driver.events, firstMs: driver.firstMs, nowMs: driver.clock.now(), engine: s.engine.status()}), r.statusEveryMs ?? 1000) : undefined
  try {
    end = await driver.run(s.engine, input, r)
  } catch (error) {
    // refused input (exit 2: out of order, overlapping files, a corrupt file …): nothing is left behind
    if ((error as {exitCode?: number}).exitCode === 2) s.discard()
    throw error
  } finally {
    clearInterval(status)
  }
  if (end.first === null) {
    s.discard()
    throw new UsageError('E_REPLAY', `${o.source}: no market events for ${o.instrument.symbol}`, {suggestion: 'check the file and --symbol'})
  }
  // the run ends with the data: markouts not yet due are not written (nothing moves after the last event)
  return s.close(driver.finish(s.engine, end.reason))
}

export type {LiveMarketSource as LiveFeedLike}

/** A run on the live market: real public data, the command's venue, system clock. */
export async function runLive(o: SessionOptions, feed: LiveMarketSource, r: {durationMs?: number; stop: Promise<string>; stopBoundMs?: number; beforeEnd?: () => Promise<void>; onProgress?: (s: EngineStatus) => void; clock?: Clock}): Promise<SessionResult> {
  // live: the order path is optimised after fewer decisions (run/jit.ts)
  if (o.mode === 'live') tuneJitForLive()
  // the system clock; the tick-to-order bench hands one moved by the recording's times
  const clock = r.clock ?? new SystemClock()
  const s = new Session(o, clock)
  const e = s.engine
  const metrics = o.metrics
  // live, the run clock is the system clock: latency from the event's receive time (µs)
  metrics?.setProbes({
    nowMs: () => (performance.timeOrigin + performance.now()),
    resyncs: () => e.sync.resyncs,
    reconnects: () => feed.stats().reconnects,
  })
  const driver = new LiveDriver(e, {
    clock, reports: s.reports, durationMs: r.durationMs, stop: r.stop, stopBoundMs: r.stopBoundMs, beforeEnd: r.beforeEnd, onSynced: o.onSynced, onProgress: r.onProgress,
    onEvent: metrics ? (tickMs) => metrics.onTick(tickMs) : undefined,
    preWarmMs: o.mode === 'live' ? o.config.live.preWarmMs : 0,
  })
  // state.json: kept from here (lock taken by the caller); control requests reach the engine and wake the loop at once
  // (a live or dry-run session always has its run directory: runFiles applies to replays only)
  o.keeper?.attach(e, o.instrument, {runId: s.runName, runDir: s.runDir ?? ''}, () => driver.wakeNow())
  const end = await driver.run(feed)
  const res = s.close(e.finish(end.reason, () => {}))
  // the keeper's timed write on its way (off the event loop) ends before the last one
  await o.keeper?.settle()
  o.keeper?.close(end.reason)
  if (end.fatal) throw end.fatal
  return res
}

/** Build the instrument of a replay from what the source says. */
export function instrumentOf(spec: {symbol: string; tickSize: string; stepSize: string; minQty?: string; minNotional?: string}): Instrument {
  return new Instrument({symbol: spec.symbol, tickSize: spec.tickSize, stepSize: spec.stepSize, minQty: spec.minQty ?? spec.stepSize, minNotional: spec.minNotional ?? '5'})
}
