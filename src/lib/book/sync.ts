/**
 * Binance USDⓈ-M diff-depth synchronisation (FACTS.md §3.2), as a pure state machine.
 *
 *  1. Depth events are buffered until a REST snapshot arrives (`needsSnapshot`).
 *  2. On the snapshot (id L): buffered and later events with `u < L` are dropped; the
 *     first applied event must satisfy `U ≤ L ≤ u`; every later one `pu == previous u`.
 *  3. Any break is a gap: the book is marked not synced, the buffer restarts with the
 *     offending event, `needsSnapshot` turns true and `resyncs`/`gaps` count it. The
 *     caller fetches a fresh snapshot and passes it to `onSnapshot`.
 *
 * Tardis-style events carry no ids: a snapshot replaces the book and updates apply.
 * `@depth@100ms` and `@depth@0ms` are the same protocol.
 *
 * No I/O and no clock: times arrive as arguments. Prices/quantities are converted from
 * the venue's strings to ticks/steps once per level with the Instrument; an off-grid or
 * malformed level is a venue-message error: counted (`gridErrors`) and resynced.
 */
import {GridError} from '../domain/errors.js'
import type {Instrument} from '../domain/instrument.js'
import type {DepthEvent, Level, MarketEvent, SnapshotEvent} from '../market/events.js'
import {OrderBook} from './book.js'
import {LevelBatch} from './levels.js'
import type {BookView} from './types.js'

export type DepthResult = 'applied' | 'buffered' | 'dropped' | 'gap'

/**
 * - `awaiting-snapshot`: buffering, the caller must fetch a snapshot
 * - `bridging`: snapshot applied, waiting for the event with U ≤ lastUpdateId ≤ u
 * - `live`: in sync (ids chained by `pu`, or a Tardis id-less stream)
 */
export type SyncState = 'awaiting-snapshot' | 'bridging' | 'live'

export interface DepthSyncOptions {
  /** max events kept while waiting for a snapshot; the oldest go first (default 10 000) */
  maxBuffer?: number
  /** dense window width of the book in ticks (see OrderBook) */
  window?: number
}

export interface SyncCounters {
  snapshots: number
  applied: number
  buffered: number
  dropped: number
  gaps: number
  resyncs: number
  gridErrors: number
  crossed: number
  staleEvents: number
  bufferOverflow: number
}

interface Pending {
  U: number
  u: number
  pu: number
  ts: number
  recvUs: number
  batch: LevelBatch
}

/** Marker for "no id" in the numeric fast-path API. */
export const NO_ID = -1

export class DepthSync {
  readonly instrument: Instrument
  private readonly ob: OrderBook
  private readonly maxBuffer: number
  private readonly scratch = new LevelBatch(256)
  private buffer: Pending[] = []

  state: SyncState = 'awaiting-snapshot'
  /** lastUpdateId of the snapshot in force (NO_ID for Tardis snapshots) */
  snapshotId = NO_ID
  /** `u` of the last applied event (NO_ID when none since the snapshot) */
  lastU = NO_ID
  /** recv time (µs) of the last applied snapshot/update, the stale timer's origin */
  lastRecvUs = 0
  /** why the last resync started (for logs) */
  lastResyncReason = ''
  /** the last malformed/off-grid level message */
  lastGridError = ''

  readonly counters: SyncCounters = {
    snapshots: 0, applied: 0, buffered: 0, dropped: 0, gaps: 0, resyncs: 0, gridErrors: 0, crossed: 0, staleEvents: 0, bufferOverflow: 0,
  }

  constructor(instrument: Instrument, opts: DepthSyncOptions = {}) {
    this.instrument = instrument
    this.maxBuffer = opts.maxBuffer ?? 10_000
    this.ob = new OrderBook({window: opts.window})
  }

  /** The read-only view for the strategy core. */
  get book(): BookView {
    return this.ob
  }

  /** The mutable book (tests, dumps, equality). */
  get orderBook(): OrderBook {
    return this.ob
  }

  /** true while the caller should fetch (and pass) a REST snapshot */
  get needsSnapshot(): boolean {
    return this.state === 'awaiting-snapshot'
  }

  get resyncs(): number {
    return this.counters.resyncs
  }

  get gaps(): number {
    return this.counters.gaps
  }

  get bufferedCount(): number {
    return this.buffer.length
  }

  // ---- event API ------------------------------------------------------------

  /** Route a market event: snapshot/depth go to the book, trade/ticker are ignored. */
  feed(ev: MarketEvent, recvUs: number = ev.ts): DepthResult | 'ignored' {
    switch (ev.kind) {
      case 'depth': return this.onDepth(ev, recvUs)
      case 'snapshot': return this.onSnapshot(ev, recvUs)
      default: return 'ignored'
    }
  }

  /**
   * A diff-depth event. `recvUs` is when it arrived, on the clock that `checkStale`
   * will be called with (default: the venue time `ev.ts`, as a replay clock runs).
   */
  onDepth(ev: DepthEvent, recvUs: number = ev.ts): DepthResult {
    const hasIds = ev.u !== undefined
    const batch = this.levelsOf(ev)
    if (batch === null) return this.badMessage(`off-grid level in depth event u=${ev.u ?? '-'}`)
    return hasIds
      ? this.onDepthLevels(ev.U ?? NO_ID, ev.u as number, ev.pu ?? NO_ID, ev.ts, batch, recvUs)
      : this.onDepthLevels(NO_ID, NO_ID, NO_ID, ev.ts, batch, recvUs)
  }

  /** A REST snapshot (with `lastUpdateId`) or a Tardis snapshot (without). */
  onSnapshot(ev: SnapshotEvent, recvUs: number = ev.ts): DepthResult {
    const batch = this.levelsOf(ev)
    if (batch === null) {
      // a bad snapshot: ask for another one, keep what is buffered
      const keep = this.state === 'awaiting-snapshot' ? this.buffer : []
      this.ob.clear()
      this.startResync(`off-grid level in snapshot lastUpdateId=${ev.lastUpdateId ?? '-'}`)
      this.buffer = keep
      return 'gap'
    }
    return this.onSnapshotLevels(ev.lastUpdateId ?? NO_ID, ev.ts, batch, recvUs)
  }

  /**
   * A depth message that could not be read (malformed or off-grid level), reported by
   * a fast-path scanner: counted in gridErrors and resynced like a gap.
   */
  onBadMessage(reason: string): DepthResult {
    this.counters.gridErrors++
    this.lastGridError = reason
    return this.badMessage(reason)
  }

  /**
   * Numeric fast path (ids NO_ID when absent). `batch` may be a reused scratch
   * buffer: it is copied when the event has to be buffered.
   */
  onDepthLevels(U: number, u: number, pu: number, ts: number, batch: LevelBatch, recvUs: number = ts): DepthResult {
    if (u === NO_ID) {
      // Tardis update: applies on top of any snapshot baseline
      if (this.state !== 'live' || this.snapshotId !== NO_ID) {
        this.counters.dropped++
        return 'dropped'
      }
      this.apply(batch, ts, recvUs)
      return 'applied'
    }
    if (this.state === 'awaiting-snapshot') {
      this.push({U, u, pu, ts, recvUs, batch: batch.copy()})
      this.counters.buffered++
      return 'buffered'
    }
    return this.process(U, u, pu, ts, batch, recvUs, false)
  }

  onSnapshotLevels(lastUpdateId: number, ts: number, batch: LevelBatch, recvUs: number = ts): DepthResult {
    const ob = this.ob
    ob.applySnapshot(batch)
    ob.lastUpdateTs = ts
    ob.stale = false
    this.lastRecvUs = recvUs
    this.counters.snapshots++
    this.snapshotId = lastUpdateId
    this.lastU = NO_ID
    if (lastUpdateId === NO_ID) {
      // Tardis: the snapshot is the synced state
      this.buffer = []
      this.state = 'live'
      ob.synced = true
      this.checkCrossed()
      return 'applied'
    }
    ob.synced = false
    this.state = 'bridging'
    const pending = this.buffer
    this.buffer = []
    for (let i = 0; i < pending.length; i++) {
      const p = pending[i]
      const r = this.process(p.U, p.u, p.pu, p.ts, p.batch, p.recvUs, true)
      if (r === 'gap') {
        for (let j = i + 1; j < pending.length; j++) this.push(pending[j])
        return 'gap'
      }
    }
    return 'applied'
  }

  /**
   * Stale check against an injected time on the same clock as the `recvUs` values:
   * no applied update for more than `staleMs` marks the book stale (not ready) until
   * the next applied update. Returns the stale flag.
   */
  checkStale(nowUs: number, staleMs: number): boolean {
    const stale = this.state !== 'awaiting-snapshot' && nowUs - this.lastRecvUs > staleMs * 1000
    if (stale && !this.ob.stale) this.counters.staleEvents++
    this.ob.stale = stale
    return stale
  }

  // ---- internals -----------------------------------------------------------

  private process(U: number, u: number, pu: number, ts: number, batch: LevelBatch, recvUs: number, owned: boolean): DepthResult {
    if (this.state === 'bridging') {
      if (u < this.snapshotId) {
        this.counters.dropped++
        return 'dropped'
      }
      if (U > this.snapshotId) {
        return this.gap(`first event U=${U} is past snapshot lastUpdateId=${this.snapshotId}`, U, u, pu, ts, batch, recvUs, owned)
      }
      this.state = 'live'
      this.ob.synced = true
    } else if (this.lastU !== NO_ID && pu !== NO_ID && pu !== this.lastU) {
      return this.gap(`pu=${pu} != previous u=${this.lastU}`, U, u, pu, ts, batch, recvUs, owned)
    } else if (this.lastU !== NO_ID && pu === NO_ID && U !== NO_ID && U !== this.lastU + 1) {
      // no pu (a spot capture): Binance spot chains each event's U to the previous u + 1
      return this.gap(`U=${U} != previous u+1=${this.lastU + 1} (no pu)`, U, u, pu, ts, batch, recvUs, owned)
    }
    // (live after a Tardis snapshot with no previous u: the first id'd event starts the chain)
    this.lastU = u
    this.apply(batch, ts, recvUs)
    return 'applied'
  }

  /**
   * Start over with an empty book awaiting a snapshot (a reconnect: the book is not whole
   * until the next snapshot). Not counted as a resync: the caller counts what it reports.
   */
  reset(): void {
    this.ob.clear()
    this.ob.synced = false
    this.state = 'awaiting-snapshot'
    this.snapshotId = NO_ID
    this.lastU = NO_ID
    this.buffer = []
  }

  /**
   * The source says continuity is lost (a gap or reconnect seen upstream): the book is
   * not ready until the next snapshot. A no-op while already waiting for one.
   */
  invalidate(reason: string): boolean {
    if (this.state === 'awaiting-snapshot') return false
    this.startResync(reason)
    return true
  }

  private badMessage(reason: string): DepthResult {
    if (this.state === 'awaiting-snapshot') {
      this.counters.dropped++
      return 'dropped'
    }
    this.startResync(reason)
    return 'gap'
  }

  private apply(batch: LevelBatch, ts: number, recvUs: number): void {
    const ob = this.ob
    ob.applyLevels(batch)
    ob.lastUpdateTs = ts
    ob.stale = false
    this.lastRecvUs = recvUs
    this.counters.applied++
    this.checkCrossed()
  }

  private checkCrossed(): void {
    if (this.ob.crossed) this.counters.crossed++
  }

  private gap(reason: string, U: number, u: number, pu: number, ts: number, batch: LevelBatch, recvUs: number, owned: boolean): DepthResult {
    this.counters.gaps++
    this.startResync(reason)
    // the event that showed the gap may bridge the next snapshot: keep it
    this.push({U, u, pu, ts, recvUs, batch: owned ? batch : batch.copy()})
    return 'gap'
  }

  private startResync(reason: string): void {
    this.counters.resyncs++
    this.lastResyncReason = reason
    this.state = 'awaiting-snapshot'
    this.ob.synced = false
    this.snapshotId = NO_ID
    this.lastU = NO_ID
    this.buffer = []
  }

  private push(p: Pending): void {
    if (this.buffer.length >= this.maxBuffer) {
      this.buffer.shift()
      this.counters.bufferOverflow++
    }
    this.buffer.push(p)
  }

  /**
   * The event's levels in ticks/steps: the scratch batch, or with `memoizeLevels` on the
   * batch converted when this event object was first seen on this grid (read-only: the
   * sync and the book never write a batch they are given). null on a malformed/off-grid
   * level, counted and noted exactly as a fresh conversion would.
   */
  private levelsOf(ev: DepthEvent | SnapshotEvent): LevelBatch | null {
    const memo = levelMemo
    if (memo === null) return this.convert(ev.bids, ev.asks) ? this.scratch : null
    const inst = this.instrument
    const hit = memo.map.get(ev)
    if (hit !== undefined && hit.pd === inst.priceDecimals && hit.pu === inst.tickUnits && hit.qd === inst.qtyDecimals && hit.qu === inst.stepUnits) {
      if (hit.batch !== null) return hit.batch
      this.counters.gridErrors++
      this.lastGridError = hit.error
      return null
    }
    const ok = this.convert(ev.bids, ev.asks)
    memo.keep(ev, inst, ok ? this.scratch : null, this.lastGridError)
    return ok ? this.scratch : null
  }

  /** strings → ticks/steps into the scratch batch; false on a malformed/off-grid level */
  private convert(bids: Level[], asks: Level[]): boolean {
    const b = this.scratch
    const inst = this.instrument
    const pd = inst.priceDecimals
    const pu = inst.tickUnits
    const qd = inst.qtyDecimals
    const qu = inst.stepUnits
    b.reset()
    try {
      for (let i = 0; i < bids.length; i++) {
        const l = bids[i]
        b.pushBid(gridInt(l[0], pd, pu), gridInt(l[1], qd, qu))
      }
      for (let i = 0; i < asks.length; i++) {
        const l = asks[i]
        b.pushAsk(gridInt(l[0], pd, pu), gridInt(l[1], qd, qu))
      }
      return true
    } catch (e) {
      if (e instanceof GridError || e instanceof TypeError) {
        this.counters.gridErrors++
        this.lastGridError = (e as Error).message
        return false
      }
      throw e
    }
  }
}

interface MemoEntry {
  pd: number
  pu: number
  qd: number
  qu: number
  /** the converted levels, or null when the event has a bad level (`error` says which) */
  batch: LevelBatch | null
  error: string
}

/** Converted levels by event object (weakly held: they go with the events). */
class LevelMemo {
  readonly map = new WeakMap<object, MemoEntry>()
  private levels = 0
  private chunk = new Float64Array(0)
  private at = 0

  constructor(private readonly maxLevels: number) {}

  keep(ev: object, inst: Instrument, batch: LevelBatch | null, error: string): void {
    const n = batch === null ? 0 : batch.nb + batch.na
    if (this.levels + n > this.maxLevels) return
    this.levels += n
    this.map.set(ev, {pd: inst.priceDecimals, pu: inst.tickUnits, qd: inst.qtyDecimals, qu: inst.stepUnits, batch: batch === null ? null : this.pack(batch), error: batch === null ? error : ''})
  }

  /** a copy of `b` as views on a shared chunk (one allocation per 64 Ki numbers, not four per event) */
  private pack(b: LevelBatch): LevelBatch {
    const nb = b.nb
    const na = b.na
    const need = 2 * (nb + na)
    if (this.at + need > this.chunk.length) {
      this.chunk = new Float64Array(Math.max(MEMO_CHUNK, need))
      this.at = 0
    }
    const c = this.chunk
    const at = this.at
    this.at += need
    return LevelBatch.over(
      c.subarray(at, at + nb),
      c.subarray(at + nb, at + 2 * nb),
      c.subarray(at + 2 * nb, at + 2 * nb + na),
      c.subarray(at + 2 * nb + na, at + need),
      b,
    )
  }
}

const MEMO_CHUNK = 65_536
let levelMemo: LevelMemo | null = null

/**
 * Keep each depth/snapshot event's converted levels with the event object, so a replay
 * that feeds the same event objects again (`mm calibrate`'s workers replay their cached
 * windows once per point: record/replay-source.ts) converts each level once instead of
 * once per point. Identical results: the batch is what the conversion gave, a bad level
 * is counted and noted the same way, and a different grid (tick/step) converts afresh.
 * Bounded: past `maxLevels` levels kept, events convert as without it. Off by default
 * (a live feed never sees an event twice); process-wide per thread, like the replay cache.
 */
export function memoizeLevels(on: boolean, maxLevels = 4_000_000): void {
  levelMemo = on ? new LevelMemo(maxLevels) : null
}

/**
 * A decimal string → integer count of grid units, exactly as
 * `Instrument.priceToTicks(s, 'exact')` / `qtyToSteps(s, 'exact')` (same results, same
 * GridError on anything else; a property test holds them equal), without their generic
 * rounding paths: the per-level hot loop of the JSON path.
 */
export function gridInt(s: string, decimals: number, unit: number): number {
  const len = s.length
  let v = 0
  let i = 0
  let c = 0
  for (; i < len; i++) {
    c = s.charCodeAt(i)
    if (c < 48 || c > 57) break
    v = v * 10 + (c - 48)
  }
  let digits = i
  let frac = 0
  if (i < len) {
    if (c !== 46) throw new GridError(`not a non-negative decimal: ${JSON.stringify(s)}`)
    for (i++; i < len; i++) {
      c = s.charCodeAt(i)
      if (c < 48 || c > 57) throw new GridError(`not a non-negative decimal: ${JSON.stringify(s)}`)
      digits++
      if (frac < decimals) {
        v = v * 10 + (c - 48)
        frac++
      } else if (c !== 48) {
        throw new GridError(`${s} has more than ${decimals} decimals`)
      }
    }
  }
  if (digits === 0) throw new GridError(`not a non-negative decimal: ${JSON.stringify(s)}`)
  for (; frac < decimals; frac++) v *= 10
  if (!Number.isSafeInteger(v)) throw new GridError(`decimal too large for exact integer arithmetic: ${s}`)
  if (unit === 1) return v
  const q = Math.floor(v / unit)
  if (q * unit !== v) throw new GridError(`${v} is not a multiple of ${unit}`)
  return q
}
