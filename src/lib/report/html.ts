/**
 * `mm report --html`: one self-contained page (inline SVG and CSS, no script, no network)
 * for one run or several side by side. Built from the event log as a stream in bounded
 * memory, whatever the run's length: the samples (once a second) fall into at most
 * 2 × BUCKETS time buckets that each keep the min, max and last of every series (when the
 * buckets run out their width doubles and neighbours merge), fills are thinned the same
 * way to at most MAX_FILLS markers, risk states become one band per bucket (the worst
 * state seen in it). A week-long run draws as fast as an hour.
 *
 * Charts: mid with own quotes and fill markers (▲ buy, ▼ sell; filled = maker, hollow =
 * taker), position, and PnL split into realised, unrealised, fees and net — each with a
 * UTC time axis, gridlines, and a zero line where zero is in range; risk states shaded.
 * Several runs: a comparison table and their net PnL on one chart against elapsed time.
 * Numbers here are for drawing only (floats); the money figures are the summary's.
 */
import type {RiskStateName, RunEvent} from '../telemetry/run-events.js'
import type {RunSummary} from './summary.js'
import {summaryRows} from './table.js'

/** buckets kept per run: between BUCKETS and 2 × BUCKETS once the run is long enough */
export const BUCKETS = 1000
export const MAX_FILLS = 2000

const W = 1000
const H = 240
const L = 70
const R = 12
const T = 10
const B = 28

const RISK_RANK: Record<RiskStateName, number> = {normal: 0, paused: 1, reduce_only: 2, halted: 3}
const RISK_BY_RANK: RiskStateName[] = ['normal', 'paused', 'reduce_only', 'halted']
const RISK_COLOURS: Record<RiskStateName, string> = {normal: 'transparent', reduce_only: '#ffe8a3', halted: '#ffb3b3', paused: '#d9d9d9'}

const SERIES = ['mid', 'ownBid', 'ownAsk', 'position', 'realised', 'unrealised', 'fees', 'net'] as const
type SeriesName = (typeof SERIES)[number]

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[c] as string)
}

const r1 = (v: number) => String(Math.round(v * 10) / 10)

/** min / max / last of one series per bucket (NaN = nothing finite seen) */
class Envelope {
  min: number[] = []
  max: number[] = []
  tMin: number[] = []
  tMax: number[] = []

  add(i: number, t: number, v: number): void {
    if (!Number.isFinite(v)) return
    while (this.min.length <= i) {
      this.min.push(Number.NaN)
      this.max.push(Number.NaN)
      this.tMin.push(0)
      this.tMax.push(0)
    }
    if (!(v >= this.min[i])) {
      this.min[i] = v
      this.tMin[i] = t
    }
    if (!(v <= this.max[i])) {
      this.max[i] = v
      this.tMax[i] = t
    }
  }

  /** merge bucket pairs (2i, 2i+1) → i */
  halve(): void {
    const n = Math.ceil(this.min.length / 2)
    const min: number[] = []
    const max: number[] = []
    const tMin: number[] = []
    const tMax: number[] = []
    for (let i = 0; i < n; i++) {
      const a = 2 * i
      const b = a + 1
      const pick = (x: number[], tx: number[], better: (p: number, q: number) => boolean) => {
        const p = x[a]
        const q = b < x.length ? x[b] : Number.NaN
        if (Number.isNaN(q) || (!Number.isNaN(p) && better(p, q))) return [p, tx[a]]
        return [q, tx[b]]
      }
      const [mn, tmn] = pick(this.min, this.tMin, (p, q) => p <= q)
      const [mx, tmx] = pick(this.max, this.tMax, (p, q) => p >= q)
      min.push(mn)
      tMin.push(tmn)
      max.push(mx)
      tMax.push(tmx)
    }
    Object.assign(this, {min, max, tMin, tMax})
  }

  /** up to two points a bucket, in time order; null = a gap */
  points(): ([number, number] | null)[] {
    const out: ([number, number] | null)[] = []
    for (let i = 0; i < this.min.length; i++) {
      if (Number.isNaN(this.min[i])) {
        out.push(null)
        continue
      }
      if (this.tMin[i] === this.tMax[i]) out.push([this.tMin[i], this.min[i]])
      else if (this.tMin[i] < this.tMax[i]) out.push([this.tMin[i], this.min[i]], [this.tMax[i], this.max[i]])
      else out.push([this.tMax[i], this.max[i]], [this.tMin[i], this.min[i]])
    }
    return out
  }
}

export interface FillMark {
  t: number
  price: number
  side: 'BUY' | 'SELL'
  maker: boolean
  qty: string
}

/** Everything one run's page needs, fed one event at a time, bounded in size. */
export class RunChartData {
  /** bucket width, ms of the run clock */
  width = 1000
  origin: number | null = null
  t0: number | null = null
  t1 = 0
  readonly env = Object.fromEntries(SERIES.map((s) => [s, new Envelope()])) as Record<SeriesName, Envelope>
  risk: number[] = []
  fills: FillMark[] = []
  fillStride = 1
  fillCount = 0
  samples = 0

  add(ev: RunEvent): void {
    if (ev.type === 'sample') {
      this.samples++
      if (this.origin === null) this.origin = ev.t
      if (this.t0 === null) this.t0 = ev.t
      this.t1 = Math.max(this.t1, ev.t)
      let i = Math.floor((ev.t - this.origin) / this.width)
      while (i >= 2 * BUCKETS) {
        this.coarsen()
        i = Math.floor((ev.t - this.origin) / this.width)
      }
      const num = (s: string | null) => (s === null ? Number.NaN : Number(s))
      const realised = Number(ev.realised)
      const unrealised = Number(ev.unrealised)
      const fees = Number(ev.fees)
      const e = this.env
      e.mid.add(i, ev.t, num(ev.mid))
      e.ownBid.add(i, ev.t, num(ev.ownBid))
      e.ownAsk.add(i, ev.t, num(ev.ownAsk))
      e.position.add(i, ev.t, Number(ev.position))
      e.realised.add(i, ev.t, realised)
      e.unrealised.add(i, ev.t, unrealised)
      // fees as a PnL component: what they took away (a rebate adds)
      e.fees.add(i, ev.t, -fees)
      e.net.add(i, ev.t, realised + unrealised - fees)
      while (this.risk.length <= i) this.risk.push(-1)
      this.risk[i] = Math.max(this.risk[i], RISK_RANK[ev.risk] ?? 0)
    } else if (ev.type === 'fill') {
      if (this.t0 === null) this.t0 = ev.t
      this.t1 = Math.max(this.t1, ev.t)
      if (this.fillCount++ % this.fillStride !== 0) return
      this.fills.push({t: ev.t, price: Number(ev.price), side: ev.side, maker: ev.maker, qty: ev.qty})
      if (this.fills.length > MAX_FILLS) {
        this.fills = this.fills.filter((_, k) => k % 2 === 0)
        this.fillStride *= 2
      }
    }
  }

  private coarsen(): void {
    for (const s of SERIES) this.env[s].halve()
    const risk: number[] = []
    for (let i = 0; i < this.risk.length; i += 2) risk.push(Math.max(this.risk[i], this.risk[i + 1] ?? -1))
    this.risk = risk
    this.width *= 2
  }

  bands(): {from: number; to: number; state: RiskStateName}[] {
    const out: {from: number; to: number; state: RiskStateName}[] = []
    const o = this.origin ?? 0
    for (let i = 0; i < this.risk.length; i++) {
      if (this.risk[i] < 0) continue
      const state = RISK_BY_RANK[this.risk[i]]
      const from = o + i * this.width
      const last = out[out.length - 1]
      if (last && last.state === state && last.to === from) last.to = from + this.width
      else out.push({from, to: from + this.width, state})
    }
    return out.filter((b) => b.state !== 'normal')
  }
}

// ---- axes ----------------------------------------------------------------------------

const fmt = new Intl.NumberFormat('en-US', {maximumSignificantDigits: 8, useGrouping: false})

function niceStep(span: number, target: number): number {
  const raw = span / target
  const p = 10 ** Math.floor(Math.log10(raw))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p
  return 10 * p
}

const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800].map((s) => s * 1000)

function timeStep(span: number): number {
  return TIME_STEPS.find((s) => span / s <= 8) ?? TIME_STEPS[TIME_STEPS.length - 1]
}

function clockLabel(t: number, step: number, span: number): string {
  const iso = new Date(t).toISOString()
  const hm = step < 60_000 ? iso.slice(11, 19) : iso.slice(11, 16)
  return span >= 86_400_000 || iso.slice(11, 19) === '00:00:00' ? `${iso.slice(5, 10)} ${hm}` : hm
}

function elapsedLabel(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s % 86_400 === 0 && s > 0) return `+${s / 86_400}d`
  if (s % 3600 === 0 && s > 0) return `+${s / 3600}h`
  if (s % 60 === 0 && s > 0) return `+${s / 60}m`
  return `+${s}s`
}

interface Line {
  name: string
  colour: string
  points: ([number, number] | null)[]
  width?: number
  dash?: string
}

interface ChartSpec {
  title: string
  lines: Line[]
  t0: number
  t1: number
  bands?: {from: number; to: number; state: RiskStateName}[]
  fills?: FillMark[]
  /** keep 0 in the y range and draw it */
  zero?: boolean
  /** x labels: UTC clock (default) or elapsed since t0 */
  elapsed?: boolean
  note?: string
}

function chart(c: ChartSpec): string {
  const vals: number[] = []
  for (const l of c.lines) for (const p of l.points) if (p) vals.push(p[1])
  for (const f of c.fills ?? []) vals.push(f.price)
  if (vals.length === 0) return `<section><h2>${esc(c.title)}</h2><p class="note">no data</p></section>`
  let lo = Infinity
  let hi = -Infinity
  for (const v of vals) {
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  if (c.zero) {
    lo = Math.min(lo, 0)
    hi = Math.max(hi, 0)
  }
  if (hi === lo) {
    const d = Math.abs(hi) > 0 ? Math.abs(hi) * 0.01 : 1
    hi += d
    lo -= d
  }
  const pad = (hi - lo) * 0.05
  hi += pad
  lo -= pad
  const span = c.t1 > c.t0 ? c.t1 - c.t0 : 1000
  const x = (t: number) => L + ((t - c.t0) / span) * (W - L - R)
  const y = (v: number) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B)
  const parts: string[] = []
  for (const b of c.bands ?? []) {
    const x0 = Math.max(L, x(b.from))
    const x1 = Math.min(W - R, x(b.to))
    if (x1 > x0) parts.push(`<rect x="${r1(x0)}" y="${T}" width="${r1(Math.max(0.5, x1 - x0))}" height="${H - T - B}" fill="${RISK_COLOURS[b.state]}"><title>${b.state}</title></rect>`)
  }
  // y grid and labels
  const ys = niceStep(hi - lo, 5)
  for (let v = Math.ceil(lo / ys) * ys, k = 0; v <= hi && k < 50; v += ys, k++) {
    const vy = r1(y(v))
    parts.push(`<line class="grid" x1="${L}" x2="${W - R}" y1="${vy}" y2="${vy}"/><text class="ylab" x="${L - 4}" y="${vy}">${fmt.format(Math.abs(v) < ys / 1e6 ? 0 : v)}</text>`)
  }
  // x grid and labels
  const ts = timeStep(span)
  const first = c.elapsed ? c.t0 : Math.ceil(c.t0 / ts) * ts
  for (let t = first, k = 0; t <= c.t1 && k < 50; t += ts, k++) {
    const vx = r1(x(t))
    parts.push(`<line class="grid" x1="${vx}" x2="${vx}" y1="${T}" y2="${H - B}"/>`)
    // a label too near the right edge would be cut
    if (x(t) <= W - R - 24) parts.push(`<text class="xlab" x="${vx}" y="${H - B + 14}">${c.elapsed ? elapsedLabel(t - c.t0) : clockLabel(t, ts, span)}</text>`)
  }
  parts.push(`<rect class="frame" x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}"/>`)
  if (c.zero && lo < 0 && hi > 0) parts.push(`<line class="zero" x1="${L}" x2="${W - R}" y1="${r1(y(0))}" y2="${r1(y(0))}"/>`)
  for (const l of c.lines) {
    const runs: string[][] = [[]]
    for (const p of l.points) {
      if (p) runs[runs.length - 1].push(`${r1(x(p[0]))},${r1(y(p[1]))}`)
      else if (runs[runs.length - 1].length > 0) runs.push([])
    }
    for (const run of runs) {
      if (run.length === 0) continue
      const pts = run.length === 1 ? `${run[0]} ${run[0]}` : run.join(' ')
      parts.push(`<polyline fill="none" stroke="${l.colour}" stroke-width="${l.width ?? 1.2}"${l.dash ? ` stroke-dasharray="${l.dash}"` : ''} points="${pts}"><title>${esc(l.name)}</title></polyline>`)
    }
  }
  for (const f of c.fills ?? []) {
    const fx = x(f.t)
    const fy = y(f.price)
    const d = f.side === 'BUY' ? `M${r1(fx)},${r1(fy - 5)}l4.5,8h-9z` : `M${r1(fx)},${r1(fy + 5)}l4.5,-8h-9z`
    const col = f.side === 'BUY' ? '#1a7f37' : '#cf222e'
    parts.push(`<path class="fill" d="${d}" stroke="${col}" fill="${f.maker ? col : 'white'}"><title>${f.side} ${esc(f.qty)} @ ${fmt.format(f.price)} ${f.maker ? 'maker' : 'taker'} ${new Date(f.t).toISOString()}</title></path>`)
  }
  const legend = c.lines.map((l) => `<span style="color:${l.colour}">■ ${esc(l.name)}</span>`).join(' ')
  const fillLegend = c.fills ? ' <span class="mk">▲ buy ▼ sell, filled = maker, hollow = taker</span>' : ''
  return `<section><h2>${esc(c.title)}</h2><div class="legend">${legend}${fillLegend}</div><svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(c.title)}">${parts.join('')}</svg>${c.note ? `<p class="note">${esc(c.note)}</p>` : ''}</section>`
}

// ---- pages ---------------------------------------------------------------------------

export interface ReportRun {
  name: string
  summary: RunSummary
  data: RunChartData
}

const CSS = `body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:2px 8px;text-align:left}h2{font-size:1.05em;margin:1.2em 0 .2em}.legend{font-size:.85em}.note,.mk{color:#555;font-size:.85em}svg{display:block;background:#fff}svg text{font-size:10px;fill:#444}.ylab{text-anchor:end;dominant-baseline:middle}.xlab{text-anchor:middle}.grid{stroke:#e6e6e6;stroke-width:1}.frame{fill:none;stroke:#bbb}.zero{stroke:#555;stroke-width:1;stroke-dasharray:4 3}.run{border-top:2px solid #ddd;margin-top:2em}`

function runSection(r: ReportRun, heading: boolean): string {
  const d = r.data
  const t0 = d.t0 ?? 0
  const t1 = d.t1 > t0 ? d.t1 : t0 + 1000
  const e = d.env
  const bands = d.bands()
  const rows = summaryRows(r.summary).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')
  const fillsNote = d.fillStride > 1 ? `Fill markers: 1 in ${d.fillStride} of ${d.fillCount} fills shown.` : undefined
  const grain = `Each point is the min and max of ${d.width >= 1000 ? `${d.width / 1000} s` : `${d.width} ms`} of samples.`
  return `<div class="run">${heading ? `<h2>${esc(r.name)}</h2>` : ''}
<table>${rows}</table>
${chart({title: 'Mid, own quotes and fills', t0, t1, bands, fills: d.fills, lines: [{name: 'mid', colour: '#333', points: e.mid.points()}, {name: 'own bid', colour: '#1a7f37', points: e.ownBid.points()}, {name: 'own ask', colour: '#cf222e', points: e.ownAsk.points()}], note: fillsNote})}
${chart({title: 'Position (base)', t0, t1, bands, zero: true, lines: [{name: 'position', colour: '#0550ae', points: e.position.points()}]})}
${chart({title: 'PnL (quote): realised, unrealised, fees, net', t0, t1, bands, zero: true, note: grain, lines: [{name: 'realised', colour: '#1a7f37', points: e.realised.points()}, {name: 'unrealised', colour: '#bf8700', points: e.unrealised.points()}, {name: 'fees (− paid, + rebate)', colour: '#cf222e', points: e.fees.points(), dash: '3 2'}, {name: 'net', colour: '#8250df', points: e.net.points(), width: 2}]})}
</div>`
}

const PALETTE = ['#8250df', '#0550ae', '#cf222e', '#1a7f37', '#bf8700', '#6e7781']

/** The whole page for one or several runs. */
export function renderReport(runs: ReportRun[], title: string): string {
  const several = runs.length > 1
  let compare = ''
  if (several) {
    const rows = summaryRows(runs[0].summary).map(([k], i) => `<tr><th>${esc(k)}</th>${runs.map((r) => `<td>${esc(summaryRows(r.summary)[i][1])}</td>`).join('')}</tr>`)
    const head = `<tr><th></th>${runs.map((r) => `<th>${esc(r.name)}</th>`).join('')}</tr>`
    // net PnL of every run against the time since its own start
    let span = 1000
    const lines: Line[] = runs.map((r, k) => {
      const o = r.data.t0 ?? 0
      span = Math.max(span, r.data.t1 - o)
      return {name: r.name, colour: PALETTE[k % PALETTE.length], points: r.data.env.net.points().map((p) => (p ? [p[0] - o, p[1]] : null))}
    })
    compare = `<table>${head}${rows.join('')}</table>${chart({title: 'Net PnL (quote) of each run, from its start', t0: 0, t1: span, elapsed: true, zero: true, lines})}`
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>${CSS}</style>
</head><body>
<h1>${esc(title)}</h1>
<p class="note">Times are UTC (the run's clock: venue time in a replay). Shaded: yellow reduce-only, red halted, grey paused. Samples are taken once a second. The paper venue has no market impact: the replayed market does not react to our orders.</p>
${compare}
${runs.map((r) => runSection(r, several)).join('\n')}
</body></html>
`
}

/** One run from events in memory (tests, small runs). */
export function renderHtml(events: Iterable<RunEvent>, summary: RunSummary, title: string): string {
  const data = new RunChartData()
  for (const ev of events) data.add(ev)
  return renderReport([{name: title, summary, data}], title)
}
