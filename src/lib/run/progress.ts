/**
 * The status line of `mm quote` on a terminal (stderr, one line rewritten in place once a
 * wall second; nothing at all off a terminal or with --no-progress):
 *
 *   replay:  `replay 42.3% · 183,402 events/s · ETA 1:05 · net PnL -0.0123`
 *   live:    `mid 3000.155 · position 0.012 · open orders 2 · fills 5 · net PnL 0.0123`
 *            (then ` · risk reduce_only` when the risk state is not normal)
 *
 * The replay's % is the bytes read of the input files over their total size (compressed
 * bytes for .gz), or the share of --duration replayed when that is further on; events/s is
 * over the last interval; the ETA extrapolates the whole run's pace. A timer reads these
 * counters: the loop itself does nothing per event for the line.
 */
import {PlainDecimal} from '../domain/decimal.js'
import type {EngineStatus} from '../engine/engine.js'
import type {ReplayStatus} from '../engine/replay-driver.js'

/** An integer with thousands separators (`1,834,020`), whatever the locale. */
export function groupThousands(n: number): string {
  const s = String(Math.max(0, Math.round(n)))
  let out = ''
  for (let i = 0; i < s.length; i++) {
    if (i > 0 && (s.length - i) % 3 === 0) out += ','
    out += s[i]
  }
  return out
}

/** `m:ss` under an hour, `h:mm:ss` above; `--:--` when unknown. */
export function formatEta(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return '--:--'
  const total = Math.round(ms / 1000)
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const sec = total % 60
  const ss = String(sec).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`
}

/** A money amount to 4 decimal places (half-even, exact decimal), e.g. `-0.0123`, `0.0000`. */
export function formatPnl(s: string): string {
  const d = new PlainDecimal(s).toDecimalPlaces(4, PlainDecimal.ROUND_HALF_EVEN)
  const [int, frac = ''] = d.abs().toString().split('.')
  return `${d.isNegative() && !d.isZero() ? '-' : ''}${int}.${frac.padEnd(4, '0')}`
}

/** `42.3` for 0.4237 (floored: 100.0 only at the very end). */
export function formatPercent(f: number): string {
  const p = Math.floor(Math.min(1, Math.max(0, f)) * 1000)
  return `${Math.floor(p / 10)}.${p % 10}`
}

export function liveLine(s: EngineStatus): string {
  const risk = s.risk === 'normal' ? '' : ` · risk ${s.risk}`
  return `mid ${s.mid ?? '--'} · position ${s.position} · open orders ${s.openOrders} · fills ${s.fills} · net PnL ${formatPnl(s.netPnl)}${risk}`
}

export function replayLine(p: {fraction: number; eventsPerSec: number; etaMs: number | null; netPnl: string}): string {
  return `replay ${formatPercent(p.fraction)}% · ${groupThousands(p.eventsPerSec)} events/s · ETA ${formatEta(p.etaMs)} · net PnL ${formatPnl(p.netPnl)}`
}

/**
 * Turns the replay's status (read by the session's timer) into its line: keeps the wall
 * time and event count of the last call for the rate, and the start for the ETA.
 */
export class ReplayProgress {
  private readonly startWall: number
  private lastWall: number
  private lastEvents = 0

  /**
   * @param bytes the replay source's byte counter (read so far, total)
   * @param wallNow the wall clock, ms
   */
  constructor(private readonly bytes: {read: number; total: number}, private readonly durationMs: number | undefined, private readonly wallNow: () => number) {
    this.startWall = wallNow()
    this.lastWall = this.startWall
  }

  /** the share of the run done, 0..1 */
  fraction(s: Pick<ReplayStatus, 'firstMs' | 'nowMs'>): number {
    const b = this.bytes
    let f = b.total > 0 ? b.read / b.total : 0
    if (this.durationMs !== undefined && this.durationMs > 0 && s.firstMs !== null) f = Math.max(f, (s.nowMs - s.firstMs) / this.durationMs)
    return Math.min(1, Math.max(0, f))
  }

  line(s: ReplayStatus): string {
    const now = this.wallNow()
    const dt = now - this.lastWall
    const rate = dt > 0 ? ((s.events - this.lastEvents) * 1000) / dt : 0
    this.lastWall = now
    this.lastEvents = s.events
    const f = this.fraction(s)
    const elapsed = now - this.startWall
    const eta = f > 0 && elapsed > 0 ? (elapsed * (1 - f)) / f : null
    return replayLine({fraction: f, eventsPerSec: rate, etaMs: eta, netPnl: s.engine.netPnl})
  }
}
