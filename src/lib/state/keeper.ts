/**
 * The adapter between a running `mm quote` (live or live dry-run; never replay) and its
 * state.json: it holds the symbol's lock for the run, writes the state atomically at
 * every change worth keeping (orders, fills, risk events, control) and at least once a
 * second (the heartbeat), and feeds control requests from `halt` / `resume` / `flatten`
 * into the engine's control path, acknowledging each in state.json.
 *
 * The drivers call: `StateKeeper.open` before connecting, `attach` once the engine exists,
 * `onEvent` for every run event, `close` at the end.
 */
import {watch, type FSWatcher} from 'node:fs'
import {hostname, userInfo} from 'node:os'
import {PlainDecimal} from '../domain/decimal.js'
import type {Instrument} from '../domain/instrument.js'
import type {WorkingOrder} from '../domain/orders.js'
import {parsePositionJSON, pnlSummary, type Position, positionFromJSON, type PositionJSON, unitsToQuote} from '../orders/position.js'
import {DAY_MS} from '../risk/types.js'
import {resumeBlocker} from '../risk/resume.js'
import type {ControlRequest, HaltInfo, RiskState} from '../risk/types.js'
import type {RunEvent} from '../telemetry/run-events.js'
import {type ControlFileRequest, controlDir, readControlRequests, removeControlRequest} from './control.js'
import {stateFilePath, symbolDir} from './dir.js'
import {ACK_NOT_HALTED, emptyState, type FlattenRound, readStateFile, removeStaleTemps, type StateAck, type StateFile, type StateHalt, writeStateFile, writeStateFileAsync} from './file.js'
import {acquireLock, type HeldLock, pidAlive} from './lock.js'
import {makeDirs} from '../fs/mkdirs.js'
import type {MmError} from '../domain/errors.js'

/** failed state writes in a row that halt quoting (`writeFailed`): two heartbeats, about 2 s */
const WRITE_FAILURES_HALT = 2

/** What the keeper needs of the engine. */
export interface KeeperEngine {
  checkpoint(): Record<string, unknown>
  request(req: ControlRequest): void
}

export interface StateKeeperOptions {
  stateDir: string
  symbol: string
  dryRun: boolean
  /** risk.stopLoss (0 = off; pass 0 for the naive strategy) */
  stopLoss: number
  /** risk.maxDailyLoss (0 = off; pass 0 for the naive strategy) */
  maxDailyLoss?: number
  onNotice?: (msg: string) => void
  /** wall clock (ms) */
  now?: () => number
  /** poll of the control folder, ms (fallback for fs.watch) */
  pollMs?: number
  heartbeatMs?: number
  /** live: the instance name in our client ids (state.process.instance; `mm status --live` tells ours from foreign by it) */
  instance?: string
  /** live: the run id in this run's client ids (`mm-<clientRunId>-…`: the instance and a per-run nonce), state.process.clientRunId */
  clientRunId?: string
}

const KEEP = new Set(['order', 'ack', 'reject', 'canceled', 'expired', 'fill', 'risk_event', 'run_start', 'run_end'])
const MAX_ACKS = 20
const MIN_WRITE_GAP_MS = 50

export function iso(ms: number): string {
  return new Date(ms).toISOString()
}

export function whoAmI(): string {
  let user = 'unknown'
  try {
    user = userInfo().username
  } catch {
    // no passwd entry
  }
  return `${user}@${hostname()}`
}

const HALT_WHY: Record<HaltInfo['reason'], string> = {
  stop_loss: 'unrealised PnL below risk.stopLoss',
  shock: 'mid moved more than risk.shockPct',
  manual: 'manual',
  daily_loss: 'PnL since 00:00 UTC reached −risk.maxDailyLoss',
  storm: 'a storm of venue rejects / errors / unknown outcomes (rate governor stopped)',
}

export function haltToState(h: HaltInfo | null): StateHalt | null {
  if (!h) return null
  const reason = h.why ?? HALT_WHY[h.reason]
  return {kind: h.reason, reason, by: h.by ?? 'mm quote', at: iso(h.since), until: h.until === null ? null : iso(h.until), flatten: h.flatten, ...(h.flattened ? {flattened: true} : {})}
}

export class StateKeeper {
  readonly dir: string
  readonly path: string
  private readonly o: StateKeeperOptions
  private readonly lock: HeldLock
  private readonly now: () => number
  private state: StateFile
  private readonly startedMs: number
  private engine: KeeperEngine | null = null
  private inst: Instrument | null = null
  private kick: () => void = () => {}
  private watcher: FSWatcher | null = null
  private poll: NodeJS.Timeout | undefined
  private heartbeat: NodeJS.Timeout | undefined
  private pending: NodeJS.Timeout | undefined
  private lastWrite = 0
  private lastError = ''
  /** state writes failed in a row (a full or read-only disk); WRITE_FAILURES_HALT of them halt quoting (again after a write that landed) */
  private writeFailures = 0
  private haltedForWrites = false
  private batching = false
  private closed = false
  private readonly prevDay: {startMs: number; pnl: string} | null
  /** the live runs' day found in the previous state (cost units on its grid): a dry-run writes it on as `risk.liveDay` */
  private readonly prevLiveDay: {startMs: number; pnl: string} | null
  private readonly prev: StateFile | null
  private readonly rounds = new Map<string, FlattenRound & {mid: string | null; value: PlainDecimal}>()
  /** live: the venue's last reported position (steps) and entry price, for `avgCost` */
  private venueView: (() => {net: number; entryPrice: string} | undefined) | null = null
  /** the carried halt until the engine has taken it (its first decision): state.json and resume keep it meanwhile */
  private carriedPending: StateHalt | null = null

  private constructor(o: StateKeeperOptions, lock: HeldLock, prev: StateFile | null) {
    this.o = o
    this.lock = lock
    this.prev = prev
    this.now = o.now ?? Date.now
    this.startedMs = this.now()
    this.dir = symbolDir(o.stateDir, o.symbol)
    this.path = stateFilePath(o.stateDir, o.symbol)
    const base = emptyState(o.symbol.toUpperCase(), o.dryRun, iso(this.startedMs))
    // §4.6: the day a run carries on. A dry-run's paper PnL is not the account's: a live run
    // carries the live runs' day, which a dry-run in between kept apart (`risk.liveDay`); a
    // dry-run carries the day the file holds, whichever wrote it (a rehearsal after a live
    // run starts from the real day). Before, a live run carried a dry-run's paper day: a
    // paper profit of 50 let the live day lose 60 against a limit of 10.
    const today = (d: {startMs?: unknown; pnlUnits?: unknown} | null | undefined) => (d && typeof d.startMs === 'number' && typeof d.pnlUnits === 'string' && /^-?\d+$/.test(d.pnlUnits) && this.startedMs - d.startMs >= 0 && this.startedMs - d.startMs < DAY_MS ? {startMs: d.startMs, pnl: d.pnlUnits} : null)
    // a dry-run file from an older mm (no `liveDay`): its day is the live day it carried plus
    // paper; the live day is not known apart, so its loss is carried (never a profit)
    const older = prev?.dryRun === true && prev.risk != null && !('liveDay' in prev.risk)
    const lossOnly = (d: {startMs: number; pnl: string} | null) => (d && BigInt(d.pnl) < 0n ? d : null)
    this.prevLiveDay = prev ? (older ? lossOnly(today(prev.risk?.day)) : today(prev.dryRun ? prev.risk?.liveDay : prev.risk?.day)) : null
    this.prevDay = o.dryRun ? today(prev?.risk?.day) : this.prevLiveDay
    // a daily-loss or stop-loss halt the dry-run tripped itself (since its start; a carried
    // halt keeps its own start) was on paper: the live run does not carry it, its live day and
    // position decide anew. Before, a paper loss over the limit halted the live run at once,
    // closing the real position.
    const startedMs = Date.parse(prev?.process?.startedAt ?? '')
    const paperHalt = !o.dryRun && prev?.dryRun === true && (prev.halt?.kind === 'daily_loss' || prev.halt?.kind === 'stop_loss') && Number.isFinite(startedMs) && Date.parse(prev.halt.at) >= startedMs
    this.state = prev ? {...base, halt: paperHalt ? null : prev.halt, counters: {...base.counters, ...prev.counters}, control: {acks: prev.control?.acks ?? []}} : base
  }

  /** Take the symbol's lock and read the previous state (an unreadable one is an error, and the lock is let go). */
  static open(o: StateKeeperOptions): StateKeeper {
    const now = (o.now ?? Date.now)()
    const dir = symbolDir(o.stateDir, o.symbol)
    const lock = acquireLock(dir, 'quote', iso(now))
    try {
      if (lock.tookOver) o.onNotice?.(`took over the stale lock of pid ${lock.tookOver.pid} (${lock.tookOver.command}, ${pidAlive(lock.tookOver.pid) ? 'its pid now runs another process' : 'no longer running'}) in ${dir}`)
      const prev = readStateFile(stateFilePath(o.stateDir, o.symbol), o.symbol)
      removeStaleTemps(dir)
      return new StateKeeper(o, lock, prev)
    } catch (error) {
      lock.release()
      throw error
    }
  }

  /**
   * §4.6: the day's PnL (cost units) an earlier run of this UTC day wrote, carried on by this
   * run on `inst`'s grid; null for another day or none. A cost unit is tick × step ÷ 10^12:
   * written on another tick or step (the venue changed the symbol's filters), the units are
   * converted to this grid, rounded down (a loss is never made smaller). Before, they were
   * taken as they were: a 20 USDT loss on tick 0.1 × step 0.01 carried on as 0.2 USDT on
   * tick 0.01 × step 0.001, so the daily loss limit let the day lose again.
   */
  carriedDay(inst: Instrument): {startMs: number; pnl: string; base?: string} | null {
    const d = this.onGrid(this.prevDay, inst)
    // Live after live, with the ledger carried on (same grid): the day's base — the equity at
    // its start, realised − fees + unrealised in cost units — carries on too, so the PnL made
    // while no quote ran (the position marked down, fills read back) is the day's. Carrying
    // the PnL alone re-based the day at the restart's first mid: a position held through a
    // fall while the process was down lost that fall outside the daily loss limit.
    const base = this.prev?.risk?.day?.baseUnits
    if (!d || this.o.dryRun || this.prev?.dryRun || typeof base !== 'string' || !/^-?\d+$/.test(base) || this.carriedLedger(inst.spec) === null) return d
    return {...d, base}
  }

  /** A day of the previous state (cost units on its grid) on `inst`'s grid (rounded down: a loss is never made smaller). */
  private onGrid(d: {startMs: number; pnl: string} | null, inst: Instrument): {startMs: number; pnl: string} | null {
    const was = this.prev?.instrument
    if (!d || !was || (was.tickSize === inst.spec.tickSize && was.stepSize === inst.spec.stepSize)) return d
    try {
      const units = new PlainDecimal(d.pnl).mul(was.tickSize).mul(was.stepSize).div(inst.spec.tickSize).div(inst.spec.stepSize).floor()
      return {startMs: d.startMs, pnl: units.toString()}
    } catch {
      return d
    }
  }

  /**
   * Live: the previous live run's ledger (state.json `position.ledger`) on the same tick and
   * step, whose running totals (realised PnL, fees, funding, fills) the new run carries on;
   * null for none, a dry-run's, another grid's or one that does not parse.
   */
  carriedLedger(spec: {tickSize: string; stepSize: string}): Position | null {
    const p = this.prev
    if (!p || p.dryRun || !p.instrument || p.instrument.tickSize !== spec.tickSize || p.instrument.stepSize !== spec.stepSize) return null
    return parsePositionJSON(p.position?.ledger)
  }

  /**
   * Live: what `carriedLedger` leaves behind because the previous live run's ledger is on
   * another tick or step (the venue changed the symbol's filters): the grid it was on and its
   * running totals, for the start-up to say so (they were dropped without a word); null otherwise.
   */
  ledgerOnOtherGrid(spec: {tickSize: string; stepSize: string}): {tickSize: string; stepSize: string; realised: string; fees: string; fills: number} | null {
    const p = this.prev
    if (!p || p.dryRun || !p.instrument || !p.position?.ledger) return null
    if (p.instrument.tickSize === spec.tickSize && p.instrument.stepSize === spec.stepSize) return null
    return {tickSize: p.instrument.tickSize, stepSize: p.instrument.stepSize, realised: p.position.realised, fees: p.position.fees, fills: p.position.fills}
  }

  /**
   * Live: the run that wrote the previous live state (its client ids carry `runId`, its
   * `process.clientRunId`) and when
   * it started (ms), for reading back the fills it did not record before it stopped; null
   * for none, a dry-run's or one without a run.
   */
  get carriedRun(): {runId: string; startedMs: number} | null {
    const p = this.prev
    const runId = p?.process?.clientRunId
    if (!p || p.dryRun || typeof runId !== 'string' || runId === '') return null
    const startedMs = Date.parse(p.process?.startedAt ?? '')
    return {runId, startedMs: Number.isFinite(startedMs) ? startedMs : 0}
  }

  /** Live start: fills of the earlier run read back from the venue (kill-fills.ts) join the carried fill counter. */
  noteRecoveredFills(n: number): void {
    this.state.counters.fills += n
  }

  /**
   * Live: where the venue's own position and entry price are read (the last ACCOUNT_UPDATE
   * or positionRisk). While the venue's position equals the ledger's, `avgCost` is the
   * venue's entry price (the venue is the truth) and `avgCostOwn` the client's figure.
   */
  useVenuePosition(view: () => {net: number; entryPrice: string} | undefined): void {
    this.venueView = view
  }

  /** The halt carried over from the previous state (still in force), or null. */
  get carriedHalt(): StateHalt | null {
    const h = this.state.halt
    if (!h) return null
    if (h.until !== null && Date.parse(h.until) <= this.startedMs) return null
    return h
  }

  /** Start keeping: the engine exists (not started yet), the run has an id and a directory. */
  attach(engine: KeeperEngine, inst: Instrument, run: {runId: string; runDir: string}, kick: () => void): void {
    this.engine = engine
    this.inst = inst
    this.kick = kick
    const s = inst.spec
    this.state.instrument = {tickSize: s.tickSize, stepSize: s.stepSize, minQty: s.minQty, minNotional: s.minNotional}
    const nowIso = iso(this.startedMs)
    this.state.process = {pid: process.pid, host: hostname(), startedAt: nowIso, heartbeat: nowIso, running: true, runId: run.runId, runDir: run.runDir, ...(this.o.instance ? {instance: this.o.instance} : {}), ...(this.o.clientRunId ? {clientRunId: this.o.clientRunId} : {})}
    const carried = this.carriedHalt
    this.carriedPending = carried
    if (carried) {
      const untilMs = carried.until === null ? null : Date.parse(carried.until)
      // a halt comes back as its own kind (same reason, same start), so `mm resume` still applies
      // its rule; a manual one keeps its start too (it was re-dated to each restart) and does
      // not flatten again (a flatten cut short by a kill is `mm flatten`'s to run again)
      const sinceMs = Date.parse(carried.at)
      engine.request({kind: 'halt', by: carried.by, why: carried.reason, untilMs, carried: {reason: carried.kind, sinceMs: Number.isFinite(sinceMs) ? sinceMs : this.startedMs, flatten: carried.kind === 'manual' ? false : carried.flatten}})
      this.o.onNotice?.(`halt carried over from ${this.path}: ${carried.kind}, ${carried.reason}, by ${carried.by}${carried.until ? ` until ${carried.until}` : ''} — mm resume clears it`)
    }
    this.state.halt = null
    // requests left for a quote that is gone: a halt still applies (the safe direction), others are refused
    for (const {file, req} of readControlRequests(this.dir)) {
      removeControlRequest(file)
      if (req === null) continue
      if (req.kind === 'halt') {
        this.apply(req)
        // the engine takes it at its first decision: state.json shows it from this first write (the halt command reads it with its acknowledgement)
        this.carriedPending ??= {kind: 'manual', reason: req.reason ?? 'manual', by: req.by, at: iso(this.now()), until: req.until ?? null, flatten: false}
      } else this.ack(req, 'refused', 'arrived before this mm quote started; run the command again')
    }
    this.flush()
    this.startWatching()
    this.heartbeat = setInterval(() => this.flushSoon(), this.o.heartbeatMs ?? 1000)
  }

  /** Every run event: counts, flatten rounds, and a write soon when it is worth keeping. */
  onEvent(ev: RunEvent): void {
    const c = this.state.counters
    if (ev.type === 'order') {
      if (ev.action === 'place') {
        c.orders++
        if (ev.layer === 'flatten' && this.state.flatten) {
          const mid = this.midNow()
          const r = {round: this.rounds.size + 1, clientOrderId: ev.clientOrderId, side: ev.side ?? 'SELL', price: ev.price ?? '', qty: ev.qty ?? '', filled: '0', status: 'open', slippage: null, mid, value: new PlainDecimal(0)}
          this.rounds.set(ev.clientOrderId, r)
        }
      } else c.cancels++
    } else if (ev.type === 'fill') {
      c.fills++
      const r = this.rounds.get(ev.clientOrderId)
      if (r) {
        r.value = r.value.add(new PlainDecimal(ev.price).mul(ev.qty))
        const filled = new PlainDecimal(r.filled).add(ev.qty)
        r.filled = filled.toString()
        if (filled.gte(r.qty)) r.status = 'filled'
        if (r.mid !== null) {
          const vwap = r.value.div(filled)
          const mid = new PlainDecimal(r.mid)
          r.slippage = (r.side === 'SELL' ? mid.sub(vwap) : vwap.sub(mid)).div(mid).toSignificantDigits(6).toString()
        }
      }
    } else if (ev.type === 'reject') {
      c.rejects++
      const r = this.rounds.get(ev.clientOrderId)
      if (r && r.status === 'open') r.status = 'rejected'
    } else if (ev.type === 'expired' || ev.type === 'canceled') {
      const r = this.rounds.get(ev.clientOrderId)
      if (r && r.status === 'open') r.status = ev.type
    }
    if (KEEP.has(ev.type)) this.soon()
  }

  /** Last write; the lock is let go. */
  close(endReason: string): void {
    if (this.closed) return
    if (!this.engine) return this.abandon()
    this.stopWatching()
    clearInterval(this.heartbeat)
    clearTimeout(this.pending)
    // requests that came in while stopping are still applied (halt) or refused
    if (this.engine) this.processControl()
    if (this.state.process) {
      this.state.process.running = false
      this.state.process.endedAt = iso(this.now())
      this.state.process.endReason = endReason
    }
    try {
      this.flush()
    } finally {
      this.closed = true
      this.lock.release()
    }
  }

  /** Release the lock without writing (the run failed before it started). */
  abandon(): void {
    if (this.closed) return
    this.closed = true
    this.stopWatching()
    clearInterval(this.heartbeat)
    clearTimeout(this.pending)
    this.lock.release()
  }

  /** The state as last built (for tests and the final result). */
  snapshot(): StateFile {
    return this.state
  }

  // ---- internals ------------------------------------------------------------------

  private midNow(): string | null {
    const cp = this.engine?.checkpoint()
    const mid2 = (cp?.risk as RiskState | undefined)?.lastMid2 ?? null
    if (mid2 === null || !this.inst) return null
    return new PlainDecimal(mid2).div(2).mul(this.inst.spec.tickSize).toString()
  }

  private soon(): void {
    if (this.pending || this.closed) return
    const wait = Math.max(0, this.lastWrite + MIN_WRITE_GAP_MS - this.now())
    this.pending = setTimeout(() => {
      this.pending = undefined
      this.flushSoon()
    }, wait)
  }

  private startWatching(): void {
    const dir = controlDir(this.dir)
    try {
      makeDirs(dir)
      this.watcher = watch(dir, () => this.safe(() => this.processControl()))
      this.watcher.on('error', () => this.watcher?.close())
    } catch {
      this.watcher = null // the poll below still sees every request
    }
    this.poll = setInterval(() => this.safe(() => this.processControl()), this.o.pollMs ?? 250)
  }

  private stopWatching(): void {
    this.watcher?.close()
    this.watcher = null
    clearInterval(this.poll)
  }

  private processControl(): void {
    if (this.closed || !this.engine) return
    const reqs = readControlRequests(this.dir)
    if (reqs.length === 0) return
    this.batching = true
    try {
      for (const {file, req} of reqs) {
        removeControlRequest(file)
        if (req === null) {
          this.o.onNotice?.(`ignored an unreadable control request ${file}`)
          continue
        }
        this.apply(req)
      }
    } finally {
      this.batching = false
    }
    // the engine decides now; the acknowledgements are dated after that decision
    this.kick()
    const at = iso(this.now())
    this.state.control.acks = this.state.control.acks.map((a) => (a.at === '' ? {...a, at} : a))
    this.flush()
  }

  private apply(req: ControlFileRequest): void {
    const e = this.engine as KeeperEngine
    this.state.counters.controlRequests++
    if (req.kind === 'halt') {
      const untilMs = req.until ? Date.parse(req.until) : null
      e.request({kind: 'halt', by: req.by, why: req.reason ?? 'manual', untilMs})
      this.ack(req, 'applied', `halted${req.until ? ` until ${req.until}` : ''}: cancelling our orders, quoting stopped`)
      this.o.onNotice?.(`halt from ${req.by}: ${req.reason ?? 'manual'}`)
    } else if (req.kind === 'resume') {
      const cp = e.checkpoint()
      const risk = cp.risk as RiskState
      const pending = this.carriedPending
      const halt = risk.halt ?? (pending ? {reason: pending.kind, until: pending.until === null ? null : Date.parse(pending.until)} : null)
      if (!halt) {
        this.ack(req, 'applied', ACK_NOT_HALTED)
        return
      }
      const pos = positionFromJSON(cp.position as PositionJSON)
      const unrealised = risk.lastMid2 === null || !this.inst ? '0' : pnlSummary(pos, this.inst, risk.lastMid2).unrealised
      const day = risk.day
      const now = this.now()
      const dayPnl = day && this.inst && now - day.startMs < DAY_MS ? unitsToQuote(BigInt(day.pnl), this.inst).toString() : undefined
      const block = resumeBlocker({haltKind: halt.reason, haltUntilMs: halt.until, nowMs: now, unrealised, stopLoss: this.o.stopLoss, flat: pos.net === 0, dayPnl, maxDailyLoss: this.o.maxDailyLoss ?? 0})
      if (block && !req.force) {
        this.ack(req, 'refused', `${block.message} (--force overrides)`)
        return
      }
      e.request({kind: 'resume', by: req.by})
      this.carriedPending = null
      this.ack(req, 'applied', block ? `resumed by force over: ${block.message}` : `resumed (was ${halt.reason})`)
      this.o.onNotice?.(`resume from ${req.by}`)
    } else {
      e.request({kind: 'flatten', by: req.by, why: req.reason ?? 'mm flatten', maxSlippagePct: req.maxSlippagePct})
      this.state.flatten = {requestId: req.id, maxSlippagePct: req.maxSlippagePct ?? 0, rounds: []}
      this.rounds.clear()
      this.ack(req, 'applied', 'halted; closing the position with reduce-only IOC orders')
      this.o.onNotice?.(`flatten from ${req.by} (max slippage ${req.maxSlippagePct})`)
    }
  }

  /** Record an acknowledgement; while a batch is applied (before the engine decides) its time is filled in afterwards. */
  private ack(req: ControlFileRequest, result: StateAck['result'], message: string): void {
    const at = this.batching ? '' : iso(this.now())
    this.state.control.acks = [...this.state.control.acks, {id: req.id, kind: req.kind, at, result, message}].slice(-MAX_ACKS)
  }

  private build(): void {
    const e = this.engine
    const inst = this.inst
    const nowMs = this.now()
    this.state.updatedAt = iso(nowMs)
    if (this.state.process && !this.closed && this.state.process.running) this.state.process.heartbeat = iso(nowMs)
    if (!e || !inst) return
    const cp = e.checkpoint()
    const risk = cp.risk as RiskState
    const ledger = cp.position as PositionJSON
    const pos = positionFromJSON(ledger)
    const mid2 = risk.lastMid2
    const pnl = pnlSummary(pos, inst, mid2 ?? 0)
    const v = pos.net === 0 ? undefined : this.venueView?.()
    const venueAvg = v && v.net === pos.net && /^\d+(\.\d+)?$/.test(v.entryPrice) && !new PlainDecimal(v.entryPrice).isZero() ? v.entryPrice : undefined
    this.state.position = {
      net: pnl.net,
      avgCost: pos.net === 0 ? null : (venueAvg ?? pnl.avgEntry),
      ...(venueAvg === undefined ? {} : {avgCostOwn: pnl.avgEntry}),
      mark: mid2 === null ? null : pnl.mark,
      realised: pnl.realised,
      ...(pnl.realisedCheck ? {realisedCheck: pnl.realisedCheck} : {}),
      unrealised: mid2 === null ? '0' : pnl.unrealised,
      fees: pnl.fees,
      funding: pnl.funding,
      total: mid2 === null ? new PlainDecimal(pnl.realised).sub(pnl.fees).add(pnl.funding).toString() : pnl.total,
      fills: pos.fills,
      ledger: ledger as unknown as Record<string, unknown>,
    }
    const orders: StateFile['orders'] = {}
    for (const w of cp.workingOrders as WorkingOrder[]) {
      orders[w.clientOrderId] = {side: w.side, price: inst.ticksToPrice(w.price), qty: inst.stepsToQty(w.qty), filled: inst.stepsToQty(w.filled), status: w.status, tif: w.tif, reduceOnly: w.reduceOnly, layer: w.layer, sentAt: iso(w.sentAt)}
    }
    this.state.orders = orders
    const day = risk.day ? {start: iso(risk.day.startMs), startMs: risk.day.startMs, pnl: unitsToQuote(BigInt(risk.day.pnl), inst).toString(), pnlUnits: risk.day.pnl, ...(risk.day.base === null ? {} : {baseUnits: risk.day.base})} : null
    this.state.risk = {mode: risk.mode, reduceOnly: risk.reduceOnly, pause: risk.pause, counters: {...risk.counters}, day, liquidationNear: risk.liqNear ?? false, pace: risk.pace}
    if (this.o.dryRun) {
      // the live day as found, on this file's grid: a live run after this dry-run carries it
      const live = this.onGrid(this.prevLiveDay, inst)
      this.state.risk.liveDay = live ? {start: iso(live.startMs), startMs: live.startMs, pnl: unitsToQuote(BigInt(live.pnl), inst).toString(), pnlUnits: live.pnl} : null
    }
    const pend = this.carriedPending
    if (risk.halt || (pend?.until != null && Date.parse(pend.until) <= nowMs)) this.carriedPending = null
    this.state.halt = haltToState(risk.halt) ?? this.carriedPending
    if (this.state.flatten) this.state.flatten.rounds = [...this.rounds.values()].map(({value: _v, ...r}) => r)
  }

  /**
   * From a timer: a failed write is told, never thrown into the event loop (the next write
   * tries again). WRITE_FAILURES_HALT failed state writes in a row halt quoting (our orders
   * cancelled, until mm resume): a run whose state.json cannot be written (a full or
   * read-only disk) records none of its fills and orders for a restart, shows a stale
   * heartbeat, and cannot be reached by mm halt (whose request is a file in the same dir).
   */
  private safe(fn: () => void): void {
    try {
      fn()
    } catch (error) {
      const msg = `state: ${(error as Error).message}`
      if (msg !== this.lastError) this.o.onNotice?.(msg)
      this.lastError = msg
      if ((error as MmError).code === 'E_STATE_WRITE') this.writeFailed(error as Error)
    }
  }

  private writeFailed(error: Error): void {
    this.writeFailures++
    const e = this.engine
    if (this.writeFailures < WRITE_FAILURES_HALT || this.haltedForWrites || !e || this.closed) return
    this.haltedForWrites = true
    e.request({kind: 'halt', by: 'mm (state writes failing)', why: `state_write_failed: ${error.message}`, untilMs: null})
    this.o.onNotice?.(`quoting halted: ${this.writeFailures} state writes in a row failed (${this.path}); our orders are cancelled. Free the disk, then mm resume (or stop and start again)`)
  }

  /**
   * The timed writes (heartbeat, soon after an event worth keeping): built now, written off
   * the event loop (writeStateFileAsync), one at a time; one asked for while another is on
   * its way follows it. A synchronous write (start, control requests, close) made meanwhile
   * supersedes it: the older one is then dropped, never renamed over the newer.
   */
  private flushSoon(): void {
    if (this.closed || this.settling) return
    if (this.writing) {
      this.again = true
      return
    }
    let gen = 0
    try {
      clearTimeout(this.pending)
      this.pending = undefined
      this.build()
      this.state.counters.writes++
      gen = ++this.gen
      this.lastWrite = this.now()
    } catch (error) {
      this.safe(() => {
        throw error
      })
      return
    }
    this.writing = true
    this.inflight = writeStateFileAsync(this.path, this.state, () => !this.closed && gen > this.written)
      .then((renamed) => {
        if (renamed) {
          this.written = gen
          this.writeFailures = 0
          this.haltedForWrites = false
        }
      })
      .catch((error: unknown) => {
        this.safe(() => {
          throw error
        })
      })
      .finally(() => {
        this.writing = false
        if (this.again && !this.closed) {
          this.again = false
          this.flushSoon()
        }
      })
  }

  /**
   * Before `close`: no new off-loop write, and the one on its way finished (so none is
   * left behind when the process ends right after the close).
   */
  async settle(): Promise<void> {
    this.settling = true
    await this.inflight
  }

  private flush(): void {
    if (this.closed) return
    clearTimeout(this.pending)
    this.pending = undefined
    this.build()
    this.state.counters.writes++
    const gen = ++this.gen
    writeStateFile(this.path, this.state)
    this.written = gen
    this.writeFailures = 0
    this.haltedForWrites = false
    this.lastWrite = this.now()
  }

  /** writes begun (sync and off-loop) / the newest one renamed into place */
  private gen = 0
  private written = 0
  /** an off-loop write is on its way; another was asked for meanwhile */
  private writing = false
  private again = false
  private settling = false
  private inflight: Promise<void> = Promise.resolve()
}
