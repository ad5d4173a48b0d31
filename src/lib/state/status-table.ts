/** The human form of `mm status` (cli-table3 is loaded only here, not for --json). */
import Table from 'cli-table3'
import {describeLiveness} from './ops.js'
import type {SymbolStatus} from './status.js'

export function renderStatus(stateDir: string, symbols: SymbolStatus[]): string {
  if (symbols.length === 0) return `no symbol has state under ${stateDir}`
  const out: string[] = [`state dir ${stateDir}`]
  for (const s of symbols) {
    if (!s.exists) {
      out.push(`${s.symbol}: no state (${s.stateFile})`)
      continue
    }
    if (s.error) {
      out.push(`${s.symbol}: ${s.error.message}`)
      continue
    }
    const t = new Table({head: [`${s.symbol}${s.dryRun ? ' (dry-run)' : ''}`, ''], style: {head: [], border: []}})
    const p = s.position
    const h = s.halt
    t.push(
      ['quote', `${describeLiveness(s.quote)}${s.healthy ? '' : '  ← STALE'}`],
      ['position / avg cost', `${p?.net ?? '0'} / ${p?.avgCost ?? '—'}`],
      ['mark (book mid)', p?.mark ?? '—'],
      ['PnL realised / unrealised / fees / total', `${p?.realised} / ${p?.unrealised} / ${p?.fees} / ${p?.total}`],
      ['risk', s.risk ? `${s.risk.mode}${s.risk.pause ? ` (${s.risk.pause})` : ''}${reduceOnlyText(s.risk)}${paceText(s.risk.pace)}` : '—'],
      ['halt', h ? `${h.kind}: ${h.reason} — by ${h.by} at ${h.at}${h.until ? `, until ${h.until}` : ', until mm resume'}${h.flatten ? (h.flattened ? ', flattened' : ', flattening') : ''}` : 'none'],
      ['working orders', s.orders.length === 0 ? 'none' : s.orders.map((o) => `${o.side} ${o.qty}@${o.price} ${o.tif} ${o.status}`).join('\n')],
      ['updated', s.updatedAt ?? '—'],
    )
    out.push(t.toString())
  }
  return out.join('\n')
}

/**
 * why the quote is reduce-only (SPEC §4.1 inventory threshold, §4.6 liquidation distance):
 * the two look the same otherwise, and a position below the threshold in reduce_only would
 * read as a fault
 */
function reduceOnlyText(r: {mode: string; reduceOnly?: boolean; liquidationNear?: boolean}): string {
  if (r.mode !== 'reduce_only') return ''
  const why = [r.reduceOnly ? '|position| ≥ risk.reduceOnlyThreshold' : '', r.liquidationNear ? 'liquidation price within risk.minLiquidationDistancePct of the mark' : ''].filter((x) => x !== '')
  return why.length > 0 ? ` (${why.join('; ')})` : ''
}

/** the venue's pace when it is not normal: the venue failing (an error storm) or near a rate limit shows beside the risk state */
function paceText(pace: string | undefined): string {
  if (pace === undefined || pace === 'normal') return ''
  return `; venue pace ${pace} (venue errors or rate limits: the quote's notes say which)`
}
