/** The summary as a cli-table3 table (what `mm quote` prints at the end and `mm report` prints). */
import Table from 'cli-table3'
import type {RunSummary} from './summary.js'

export function fmtDuration(ms: number): string {
  return fmtMs(ms)
}

function fmtMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`
  const s = ms / 1000
  if (s < 120) return `${Math.round(s * 10) / 10} s`
  const m = s / 60
  if (m < 120) return `${Math.round(m * 10) / 10} min`
  return `${Math.round((m / 60) * 10) / 10} h`
}

export function summaryRows(s: RunSummary): [string, string][] {
  const risk = Object.entries(s.timeInRiskMs)
    .filter(([, ms]) => ms > 0)
    .map(([k, ms]) => `${k} ${fmtMs(ms)}`)
    .join(', ')
  const riskEvents = Object.entries(s.riskEvents).map(([k, n]) => `${k} ${n}`).join(', ')
  return [
    ['symbol / mode / strategy', `${s.symbol} / ${s.mode} / ${s.strategy}`],
    ['duration', fmtMs(s.durationMs)],
    ['market events', String(s.marketEvents)],
    ['book resyncs', String(s.resyncs)],
    ['quotes placed / cancelled', `${s.quotesPlaced} / ${s.quotesCancelled}`],
    ['fills (maker share)', `${s.fills} (${s.makerShare})`],
    ['volume base / quote', `${s.volumeBase} / ${s.volumeQuote}`],
    ['fees (− = rebate)', s.fees],
    ['realised PnL', s.realisedPnl],
    ['unrealised PnL (vs mid)', s.unrealisedPnl],
    ['net PnL', s.netPnl],
    ['max |position| / final', `${s.maxAbsPosition} / ${s.finalPosition}`],
    ['time in risk states', risk || '—'],
    ['post-only rejects / all rejects', `${s.postOnlyRejects} / ${s.rejects}`],
    ['risk events', riskEvents || '—'],
    ['adverse move 1 s / 10 s (per unit)', `${s.adverse1s ?? '—'} / ${s.adverse10s ?? '—'}`],
    ['instant retries: orders / fills (taker)', s.instantRetries ? `${s.instantRetries.orders} / ${s.instantRetries.fills} (${s.instantRetries.takerFills})` : '—'],
    ['instant retries: fees (taker) / adverse 1 s / 10 s', s.instantRetries ? `${s.instantRetries.fees} (${s.instantRetries.takerFees}) / ${s.instantRetries.adverse1s ?? '—'} / ${s.instantRetries.adverse10s ?? '—'}` : '—'],
    ['ended', s.endReason],
  ]
}

export function renderSummaryTable(s: RunSummary): string {
  const t = new Table({head: ['run summary', ''], style: {head: [], border: []}})
  for (const r of summaryRows(s)) t.push(r)
  return t.toString()
}

/** Several runs side by side (e.g. v2 against the naive baseline on the same data). */
export function renderComparison(runs: {name: string; summary: RunSummary}[]): string {
  const t = new Table({head: ['', ...runs.map((r) => r.name)], style: {head: [], border: []}})
  const rows = runs.map((r) => summaryRows(r.summary))
  for (let i = 0; i < rows[0].length; i++) t.push([rows[0][i][0], ...rows.map((r) => r[i][1])])
  return t.toString()
}
