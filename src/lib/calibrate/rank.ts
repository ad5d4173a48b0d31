/**
 * From point results to the calibration report: per-window rankings (constraints first,
 * then the objective), walk-forward (fit on window i, test the winner on window i+1, in-
 * and out-of-sample side by side) and the winner. Pure: the in-process run and
 * `mm calibrate collect` both end here, so they print the same ranking.
 */
import Table from 'cli-table3'
import type {MmConfigInput} from '../config/schema.js'
import type {Metrics, PointResult} from './point.js'
import {type CalibrationSpec, configOf, type Objective, type Point} from './spec.js'

export interface RankedRow {
  rank: number
  id: string
  point: Point
  feasible: boolean
  /** constraints not met, e.g. 'maxAbsPosition 0.06 > 0.05' */
  violations: string[]
  /** the objective's value (higher is better; markouts are negated adverse moves) */
  score: number | null
  metrics: Metrics
}

export interface WalkForwardRow {
  fit: string
  test: string
  id: string
  point: Point
  inSample: Metrics
  outOfSample: Metrics | null
  inScore: number | null
  outScore: number | null
  /** rank of the fitted point among all points on the test window (1 = it was also the best there) */
  outRank: number | null
}

export interface CalibrationReport {
  spec: string
  symbol: string
  objective: Objective
  sampler: string
  points: number
  windows: string[]
  constraints: CalibrationSpec['constraints']
  params: string[]
  rankings: Array<{window: string; rows: RankedRow[]}>
  walkForward: WalkForwardRow[]
  /** best feasible point on the last window (what to quote with next), null when none meets the constraints */
  winner: {id: string; window: string; point: Point; config: MmConfigInput} | null
}

export function score(m: Metrics, o: Objective): number | null {
  switch (o) {
    case 'netPnl':
      return m.netPnl
    case 'pnlPerMaxInventory':
      return m.pnlPerMaxInventory
    case 'sharpe':
      return m.sharpe
    case 'markout1s':
      return m.markout1s === null ? null : -m.markout1s
    case 'markout10s':
      return m.markout10s === null ? null : -m.markout10s
  }
}

function violations(m: Metrics, c: CalibrationSpec['constraints']): string[] {
  const out: string[] = []
  if (c.maxAbsPosition !== undefined && m.maxAbsPosition > c.maxAbsPosition + 1e-12) out.push(`maxAbsPosition ${m.maxAbsPosition} > ${c.maxAbsPosition}`)
  if (c.minFills !== undefined && m.fills < c.minFills) out.push(`fills ${m.fills} < ${c.minFills}`)
  return out
}

export function rankWindow(results: PointResult[], spec: Pick<CalibrationSpec, 'objective' | 'constraints'>): RankedRow[] {
  const rows = results.map((r) => {
    const v = violations(r.metrics, spec.constraints)
    return {rank: 0, id: r.id, point: r.point, feasible: v.length === 0, violations: v, score: score(r.metrics, spec.objective), metrics: r.metrics}
  })
  rows.sort((a, b) => {
    if (a.feasible !== b.feasible) return a.feasible ? -1 : 1
    if (a.score !== b.score) {
      if (a.score === null) return 1
      if (b.score === null) return -1
      return b.score - a.score
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
  })
  rows.forEach((r, i) => (r.rank = i + 1))
  return rows
}

export function buildReport(spec: CalibrationSpec, pointCount: number, results: PointResult[]): CalibrationReport {
  const windows = spec.windows.map((w) => w.name)
  const rankings = windows.map((w) => ({window: w, rows: rankWindow(results.filter((r) => r.window === w), spec)}))
  const walkForward: WalkForwardRow[] = []
  for (let i = 0; i + 1 < rankings.length; i++) {
    const best = rankings[i].rows.find((r) => r.feasible) ?? rankings[i].rows[0]
    if (!best) continue
    const test = rankings[i + 1].rows.find((r) => r.id === best.id)
    walkForward.push({
      fit: rankings[i].window,
      test: rankings[i + 1].window,
      id: best.id,
      point: best.point,
      inSample: best.metrics,
      outOfSample: test?.metrics ?? null,
      inScore: best.score,
      outScore: test?.score ?? null,
      outRank: test?.rank ?? null,
    })
  }
  const last = rankings[rankings.length - 1]
  const top = last?.rows.find((r) => r.feasible)
  return {
    spec: spec.file,
    symbol: spec.symbol,
    objective: spec.objective,
    sampler: spec.sampler,
    points: pointCount,
    windows,
    constraints: spec.constraints,
    params: spec.params.map((p) => p.key),
    rankings,
    walkForward,
    winner: top ? {id: top.id, window: last.window, point: top.point, config: configOf(spec.base, top.point)} : null,
  }
}

/** Metric display: 4 significant decimals, '—' for none (figures, never prices or sizes sent anywhere). */
export function fmt(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '—'
  const a = Math.abs(x)
  const k = a >= 100 ? 100 : a >= 1 ? 10_000 : 1_000_000
  return String(Math.round(x * k) / k)
}

function shortKey(k: string): string {
  return k.replace(/^(strategy|risk|fees|paper)\./, '')
}

const METRIC_HEAD = ['net PnL', 'PnL/max inv', 'Sharpe/min', 'markout 1s', 'markout 10s', 'fills', 'max |pos|']
function metricCells(m: Metrics | null): string[] {
  if (!m) return METRIC_HEAD.map(() => '—')
  return [fmt(m.netPnl), fmt(m.pnlPerMaxInventory), fmt(m.sharpe), fmt(m.markout1s), fmt(m.markout10s), String(m.fills), fmt(m.maxAbsPosition)]
}

export function renderReport(rep: CalibrationReport, top = 10): string {
  const out: string[] = []
  for (const rk of rep.rankings) {
    const t = new Table({head: ['#', 'point', ...rep.params.map(shortKey), ...METRIC_HEAD, 'ok'], style: {head: [], border: []}})
    for (const r of rk.rows.slice(0, top)) t.push([String(r.rank), r.id, ...rep.params.map((k) => String(r.point[k])), ...metricCells(r.metrics), r.feasible ? 'yes' : r.violations.join('; ')])
    out.push(`window ${rk.window}: ${rk.rows.length} points ranked by ${rep.objective}${rk.rows.length > top ? ` (top ${top})` : ''}`, t.toString())
  }
  if (rep.walkForward.length > 0) {
    const t = new Table({head: ['fit → test', 'point', 'sample', ...METRIC_HEAD, 'rank out'], style: {head: [], border: []}})
    for (const w of rep.walkForward) {
      t.push([`${w.fit} → ${w.test}`, w.id, 'in', ...metricCells(w.inSample), '1'])
      t.push(['', '', 'out', ...metricCells(w.outOfSample), w.outRank === null ? '—' : String(w.outRank)])
    }
    out.push('walk-forward: the best point of each window, tested on the next', t.toString())
  }
  out.push(rep.winner ? `winner: ${rep.winner.id} on ${rep.winner.window} (${Object.entries(rep.winner.point).map(([k, v]) => `${k}=${v}`).join(', ')})` : 'winner: none (no point meets the constraints on the last window)')
  return out.join('\n')
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[c] as string)
}

/** One self-contained page in the style of `mm report --html` (no scripts, no network). */
export function renderReportHtml(rep: CalibrationReport): string {
  const row = (cells: string[], th = false) => `<tr>${cells.map((c) => (th ? `<th>${esc(c)}</th>` : `<td>${esc(c)}</td>`)).join('')}</tr>`
  const parts: string[] = []
  parts.push(`<h1>mm calibrate ${esc(rep.symbol)}</h1><p class="note">${esc(rep.spec)} · ${rep.points} points (${esc(rep.sampler)}) · objective ${esc(rep.objective)} · windows ${esc(rep.windows.join(', '))}</p>`)
  if (rep.walkForward.length > 0) {
    parts.push('<h2>Walk-forward (in-sample vs out-of-sample)</h2><table>' + row(['fit → test', 'point', 'sample', ...METRIC_HEAD, 'rank out'], true))
    for (const w of rep.walkForward) {
      parts.push(row([`${w.fit} → ${w.test}`, w.id, 'in', ...metricCells(w.inSample), '1']))
      parts.push(row(['', '', 'out', ...metricCells(w.outOfSample), w.outRank === null ? '—' : String(w.outRank)]))
    }
    parts.push('</table>')
  }
  for (const rk of rep.rankings) {
    parts.push(`<h2>Window ${esc(rk.window)}</h2><table>` + row(['#', 'point', ...rep.params.map(shortKey), ...METRIC_HEAD, 'ok'], true))
    for (const r of rk.rows) parts.push(row([String(r.rank), r.id, ...rep.params.map((k) => String(r.point[k])), ...metricCells(r.metrics), r.feasible ? 'yes' : r.violations.join('; ')]))
    parts.push('</table>')
  }
  parts.push(`<h2>Winner</h2><pre>${esc(rep.winner ? JSON.stringify(rep.winner.config, null, 2) : 'none')}</pre>`)
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>mm calibrate ${esc(rep.symbol)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:2px 8px;text-align:left}h2{font-size:1.05em;margin-top:1.5em}.legend{font-size:.85em}.note{color:#555;font-size:.85em}</style>
</head><body>
${parts.join('\n')}
</body></html>
`
}
