/**
 * A single self-contained HTML page (no network, no scripts from elsewhere) with SVG charts
 * of mid and own quotes, position, PnL, and risk-state bands over time.
 */
import type {RiskStateName, RunEvent, SampleEvent} from '../telemetry/run-events.js'
import type {RunSummary} from './summary.js'
import {summaryRows} from './table.js'

const W = 1000
const H = 220
const r1 = (v: number) => String(Math.round(v * 10) / 10)
const PAD = 40
const MAX_POINTS = 2000

const RISK_COLOURS: Record<RiskStateName, string> = {normal: 'transparent', reduce_only: '#ffe8a3', halted: '#ffb3b3', paused: '#d9d9d9'}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[c] as string)
}

function downsample<T>(xs: T[]): T[] {
  if (xs.length <= MAX_POINTS) return xs
  const step = xs.length / MAX_POINTS
  const out: T[] = []
  for (let i = 0; i < MAX_POINTS; i++) out.push(xs[Math.floor(i * step)])
  out.push(xs[xs.length - 1])
  return out
}

interface Series {
  name: string
  colour: string
  points: [number, number][]
}

function chart(title: string, series: Series[], t0: number, t1: number, bands: {from: number; to: number; state: RiskStateName}[]): string {
  const all = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => Number.isFinite(v))
  if (all.length === 0) return `<h2>${esc(title)}</h2><p>no data</p>`
  let lo = Math.min(...all)
  let hi = Math.max(...all)
  if (hi === lo) {
    hi += 1
    lo -= 1
  }
  const span = t1 > t0 ? t1 - t0 : 1
  const x = (t: number) => PAD + ((t - t0) / span) * (W - 2 * PAD)
  const y = (v: number) => H - PAD / 2 - ((v - lo) / (hi - lo)) * (H - PAD)
  const bandSvg = bands
    .filter((b) => b.state !== 'normal')
    .map((b) => `<rect x="${r1(x(b.from))}" y="0" width="${r1(Math.max(1, x(b.to) - x(b.from)))}" height="${H}" fill="${RISK_COLOURS[b.state]}"><title>${b.state}</title></rect>`)
    .join('')
  const lines = series
    .map((s) => {
      // a missing value (NaN: e.g. no own bid while reduce-only) breaks the line
      const runs: string[][] = [[]]
      for (const [t, v] of downsample(s.points)) {
        if (Number.isFinite(v)) runs[runs.length - 1].push(`${r1(x(t))},${r1(y(v))}`)
        else if (runs[runs.length - 1].length > 0) runs.push([])
      }
      return runs
        .filter((r) => r.length > 0)
        .map((r) => `<polyline fill="none" stroke="${s.colour}" stroke-width="1.2" points="${r.join(' ')}"><title>${esc(s.name)}</title></polyline>`)
        .join('')
    })
    .join('')
  const legend = series.map((s) => `<span style="color:${s.colour}">■ ${esc(s.name)}</span>`).join(' ')
  const axis = `<text x="2" y="12" font-size="10">${hi.toPrecision(8)}</text><text x="2" y="${H - 4}" font-size="10">${lo.toPrecision(8)}</text>`
  return `<h2>${esc(title)}</h2><div class="legend">${legend}</div><svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(title)}">${bandSvg}${axis}${lines}</svg>`
}

export function renderHtml(events: RunEvent[], summary: RunSummary, title: string): string {
  const samples = events.filter((e): e is SampleEvent => e.type === 'sample')
  const t0 = samples.length ? samples[0].t : 0
  const t1 = samples.length ? samples[samples.length - 1].t : 1
  const num = (s: string | null) => (s === null ? null : Number(s))
  const pick = (f: (s: SampleEvent) => string | null): [number, number][] =>
    samples.flatMap((s) => {
      const v = num(f(s))
      return [[s.t, v === null ? Number.NaN : v] as [number, number]]
    })
  const bands: {from: number; to: number; state: RiskStateName}[] = []
  for (const s of samples) {
    const last = bands[bands.length - 1]
    if (last && last.state === s.risk) last.to = s.t
    else bands.push({from: s.t, to: s.t, state: s.risk})
  }
  const pnl = samples.map((s) => [s.t, Number(s.realised) + Number(s.unrealised) - Number(s.fees)] as [number, number])
  const rows = summaryRows(summary).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:2px 8px;text-align:left}h2{font-size:1.05em;margin-top:1.5em}.legend{font-size:.85em}.note{color:#555;font-size:.85em}</style>
</head><body>
<h1>${esc(title)}</h1>
<table>${rows}</table>
<p class="note">Shaded bands: yellow reduce-only, red halted, grey paused. Charts are sampled once a second. The paper venue has no market impact: the replayed market does not react to our orders.</p>
${chart('Mid and own quotes', [{name: 'mid', colour: '#333', points: pick((s) => s.mid)}, {name: 'own bid', colour: '#1a7f37', points: pick((s) => s.ownBid)}, {name: 'own ask', colour: '#cf222e', points: pick((s) => s.ownAsk)}], t0, t1, bands)}
${chart('Position (base)', [{name: 'position', colour: '#0550ae', points: pick((s) => s.position)}], t0, t1, bands)}
${chart('PnL (quote, net of fees)', [{name: 'net PnL', colour: '#8250df', points: pnl}], t0, t1, bands)}
</body></html>
`
}
