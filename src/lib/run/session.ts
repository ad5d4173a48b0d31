/**
 * Wiring of one `mm quote --dry-run` run: config → instrument → paper venue → engine →
 * event log, driven either by a recording (virtual clock, as fast as the machine goes or
 * at a multiple of real time) or by the live market (system clock, public streams only:
 * no signed request is ever sent in dry-run).
 */
import {renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {setImmediate as yieldIo} from 'node:timers/promises'
import {type Clock, SystemClock, VirtualClock, wallClock} from '../clock/clock.js'
import {type MmConfig, resolveConfig} from '../config/index.js'
import {UsageError} from '../domain/errors.js'
import {Instrument} from '../domain/instrument.js'
import type {MarketEvent} from '../market/events.js'
import type {RunSummary} from '../report/summary.js'
import {createRunDir, EventLog} from '../state/runs.js'
import type {RunMetrics} from '../telemetry/metrics.js'
import type {RunEvent} from '../telemetry/run-events.js'
import {Engine} from '../engine/engine.js'
import type {VenueFactory} from './venues.js'

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
  mode: 'replay' | 'dry-run'
  stateDir: string
  /** wall clock of the start (run directory name only; never written into the log) */
  wallMs: number
  source: string
  /** client-order-id run tag; replays use a fixed one so their logs are identical */
  runId: string
  /** told the run directory once it exists */
  onStart?: (runDir: string) => void
  /** told when live market data is in sync (live only) */
  onSynced?: () => void
  /** Prometheus metrics fed from the run events (off when absent) */
  metrics?: RunMetrics
  /** the venue the run trades on, chosen by the command (paper, or a real one) */
  venue: VenueFactory
}

export interface SessionResult {
  runId: string
  runDir: string
  eventLog: string
  events: number
  summary: RunSummary
}

export class Session {
  readonly engine: Engine
  readonly runDir: string
  readonly runName: string
  readonly clock: Clock
  private readonly log: EventLog
  private readonly o: SessionOptions
  private readonly metrics?: RunMetrics

  constructor(o: SessionOptions, clock: Clock) {
    this.o = o
    this.clock = clock
    const core = resolveConfig(o.config, o.instrument, o.configSource)
    const run = createRunDir(o.stateDir, o.instrument.symbol, o.mode, o.wallMs)
    this.runDir = run.dir
    this.runName = run.id
    this.log = new EventLog(join(run.dir, 'events.jsonl'))
    const m = o.metrics
    this.metrics = m
    const {venue, reports} = o.venue({instrument: o.instrument, clock, config: o.config})
    this.engine = new Engine({
      instrument: o.instrument, core, venue, reports, clock, runId: o.runId, mode: o.mode, source: o.source,
      bookTime: o.mode === 'replay' ? 'venue' : 'local',
      onDecide: m ? (phase) => (phase === 'begin' ? m.decideBegin() : m.decideEnd()) : undefined,
      log: m
        ? (ev: RunEvent) => {
            this.log.write(ev)
            m.observe(ev)
          }
        : (ev: RunEvent) => this.log.write(ev),
    })
    if (m) {
      const e = this.engine
      m.setProbes({
        openOrders: () => e.openOrders,
        bookStalenessMs: () => (e.sync.lastRecvUs > 0 ? clock.now() - e.sync.lastRecvUs / 1000 : null),
        resyncs: () => e.sync.resyncs,
        netMaxCuts: () => e.riskCounters.netMaxCuts,
      })
    }
    writeFileSync(join(run.dir, 'config.json'), JSON.stringify({config: o.config, instrument: o.instrument.spec, source: o.source}, null, 2) + '\n')
    o.onStart?.(run.dir)
  }

  /** Hand one market event to the engine; `tickMs` = its (receive) time on the run clock, for the metrics. */
  onMarket(ev: MarketEvent, tickMs: number): void {
    this.metrics?.onTick(tickMs)
    this.engine.onMarket(ev)
  }

  close(summary: RunSummary): SessionResult {
    this.log.close()
    writeAtomic(join(this.runDir, 'checkpoint.json'), JSON.stringify(this.engine.checkpoint(), null, 2) + '\n')
    writeAtomic(join(this.runDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n')
    return {runId: this.runName, runDir: this.runDir, eventLog: this.log.path, events: this.log.lines, summary}
  }
}

export interface ReplayOptions {
  /** stop after this much replayed (venue) time */
  durationMs?: number
  /** 'max' or a multiple of real time */
  speed: 'max' | number
  /** polled between events: true → stop cleanly */
  shouldStop?: () => boolean
  onProgress?: (p: {events: number; t: number}) => void
}

/** Replay a recording through the session on a virtual clock driven by the venue timestamps. */
export async function runReplay(o: SessionOptions, batches: AsyncIterable<MarketEvent[]> | Iterable<MarketEvent[]>, r: ReplayOptions): Promise<SessionResult> {
  const clock = new VirtualClock(0)
  const s = new Session(o, clock)
  const e = s.engine
  const set = (ms: number) => clock.set(ms)
  let first: number | null = null
  let reason = 'end of data'
  let n = 0
  let wallStart = 0
  loop: for await (const batch of batches) {
    for (let i = 0; i < batch.length; i++) {
      const ev = batch[i]
      const t = Math.floor(ev.ts / 1000)
      if (first === null) {
        first = t
        clock.set(t)
        wallStart = wallClock.now()
        e.start()
      }
      if (r.durationMs !== undefined && t - first >= r.durationMs) {
        e.runUntil(first + r.durationMs, set)
        set(first + r.durationMs)
        reason = 'duration'
        break loop
      }
      if (r.speed !== 'max') {
        const wait = wallStart + (t - first) / r.speed - wallClock.now()
        if (wait > 0) await new Promise((res) => setTimeout(res, wait))
      }
      e.runUntil(t, set)
      set(t)
      s.onMarket(ev, clock.now())
      if ((++n & 0x3fff) === 0) {
        r.onProgress?.({events: n, t})
        await yieldIo()
      }
    }
    if (r.shouldStop?.()) {
      reason = 'signal'
      break
    }
  }
  if (first === null) throw new UsageError('E_REPLAY', `${o.source}: no market events for ${o.instrument.symbol}`, {suggestion: 'check the file and --symbol'})
  // the run ends with the data: markouts not yet due are not written (nothing moves after the last event)
  const summary = e.finish(reason, set)
  return s.close(summary)
}

export interface LiveFeedLike {
  on(ev: 'event', fn: (e: MarketEvent) => void): unknown
  on(ev: 'fatal', fn: (err: Error) => void): unknown
  on(ev: 'gap' | 'resync', fn: (info: {symbol: string; reason: string}) => void): unknown
  start(): Promise<void>
  stop(): Promise<void>
  stats(): {resyncs: number; reconnects: number}
}

/** Dry-run on the live market: real public data, paper orders, system clock. */
export async function runLive(o: SessionOptions, feed: LiveFeedLike, r: {durationMs?: number; stop: Promise<string>; onProgress?: (p: {events: number; risk: string; position: number; orders: number}) => void}): Promise<SessionResult> {
  const clock = new SystemClock()
  const s = new Session(o, clock)
  const e = s.engine
  const noop = () => {}
  let timer: NodeJS.Timeout | undefined
  const arm = () => {
    clearTimeout(timer)
    const wake = e.nextWakeMs()
    if (!Number.isFinite(wake)) return
    timer = setTimeout(() => {
      e.runUntil(wallClock.now(), noop)
      arm()
    }, Math.max(0, Math.min(wake - wallClock.now(), 1000)))
  }
  let fatal: Error | null = null
  let fatalResolve: (why: string) => void = noop
  const fatalP = new Promise<string>((res) => (fatalResolve = res))
  // live, the run clock is the system clock: latency from the event's receive time (µs)
  o.metrics?.setProbes({
    nowMs: () => (performance.timeOrigin + performance.now()),
    resyncs: () => e.sync.resyncs,
    reconnects: () => feed.stats().reconnects,
  })
  feed.on('event', (ev) => {
    e.runUntil(wallClock.now(), noop)
    s.onMarket(ev, ev.localTs / 1000)
    arm()
  })
  // the feed resyncs on its own; until its next snapshot our book is not to be trusted
  const lost = (info: {reason: string}) => {
    e.runUntil(wallClock.now(), noop)
    e.invalidateBook(info.reason)
    e.runUntil(wallClock.now(), noop)
    arm()
  }
  feed.on('gap', lost)
  feed.on('resync', lost)
  feed.on('fatal', (err) => {
    fatal = err
    fatalResolve('venue unreachable')
  })
  e.start()
  const progress = r.onProgress ? setInterval(() => r.onProgress?.({events: e.marketEvents, risk: e.riskState, position: e.positionSteps, orders: e.openOrders}), 1000) : undefined
  const started = feed.start().then(() => o.onSynced?.(), (err: Error) => {
    fatal = err
    fatalResolve('venue unreachable')
  })
  const timeout = r.durationMs ? new Promise<string>((res) => setTimeout(() => res('duration'), r.durationMs).unref()) : new Promise<string>(noop)
  const reason = await Promise.race([r.stop, timeout, fatalP])
  clearTimeout(timer)
  clearInterval(progress)
  await started
  await feed.stop()
  // cancel everything, then let the paper venue's simulated latencies run out in real time
  e.beginStop()
  const p = o.config.paper
  await new Promise((res) => setTimeout(res, 2 * (p.entryLatencyMs + p.responseLatencyMs) + 50))
  e.runUntil(wallClock.now(), noop)
  const summary = e.finish(reason, noop)
  const res = s.close(summary)
  if (fatal) throw fatal
  return res
}

/** Build the instrument of a replay from what the source says. */
export function instrumentOf(spec: {symbol: string; tickSize: string; stepSize: string; minQty?: string; minNotional?: string}): Instrument {
  return new Instrument({symbol: spec.symbol, tickSize: spec.tickSize, stepSize: spec.stepSize, minQty: spec.minQty ?? spec.stepSize, minNotional: spec.minNotional ?? '5'})
}
