/**
 * The Grafana dashboard and the Prometheus alert rules in ops/ only use metrics the
 * project exports (read from the real registries, not a list kept by hand), every panel
 * area the operators asked for is there, and `promtool check rules` accepts the rules.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {createMetrics} from '../../src/lib/telemetry/metrics.js'
import {recordRegistry} from '../../src/lib/telemetry/record-metrics.js'
import {flattenRegistry, haltRegistry} from '../../src/lib/telemetry/ops-metrics.js'
import {promtool} from '../support/promtool.js'
import {repoRoot} from '../support/shared-data.js'

/** metric name → type, from the registries of `mm quote`, `mm record`, `mm halt` and `mm flatten` (+ Prometheus's own `up`) */
async function exported(): Promise<Map<string, string>> {
  const out = new Map<string, string>([['up', 'gauge']])
  const q = createMetrics({labels: {symbol: 'ETHUSDC', mode: 'dry-run'}})
  const r = recordRegistry({symbols: ['ETHUSDC'], endedMs: 0, elapsedMs: 0, ok: true, messages: 0, rows: 0, bytes: 0, files: 0, resyncs: 0, gaps: 0, reconnects: 0})
  const h = haltRegistry({symbol: 'ETHUSDC', endedMs: 0, exitCode: 0, cancelled: 0, left: 0, halted: true})
  const f = flattenRegistry({symbol: 'ETHUSDC', endedMs: 0, exitCode: 0, positionBefore: '0', residual: '0', orders: 0, rounds: 0, filled: '0'})
  for (const reg of [q.registry, r, h, f]) for (const m of await reg.getMetricsAsJSON()) out.set(m.name, String(m.type))
  return out
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan'])

/** the metric names a PromQL expression reads */
export function metricsIn(expr: string): string[] {
  const lv = /label_values\(\s*([a-zA-Z_:][\w:]*)/.exec(expr)
  if (lv) return [lv[1]]
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|`[^`]*`/g, '""') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // grouping labels
  const names: string[] = []
  for (const m of s.matchAll(/(?<![\w$.])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    if (m[2] || KEYWORDS.has(m[1].toLowerCase())) continue // a function call or a keyword
    names.push(m[1])
  }
  return names
}

function unknown(exprs: string[], have: Map<string, string>): string[] {
  const bad = new Set<string>()
  for (const e of exprs) {
    for (const n of metricsIn(e)) {
      const base = n.replace(/_(bucket|sum|count)$/, '')
      if (have.has(n) || (base !== n && have.get(base) === 'histogram')) continue
      bad.add(`${n} (in ${e})`)
    }
  }
  return [...bad]
}

function dashboardExprs(): string[] {
  const d = JSON.parse(readFileSync(join(repoRoot, 'ops/grafana/mm.json'), 'utf8')) as {panels: {title: string; targets: {expr: string}[]}[]; templating: {list: {query?: unknown}[]}}
  return [...d.panels.flatMap((p) => p.targets.map((t) => t.expr)), ...d.templating.list.map((v) => v.query).filter((q): q is string => typeof q === 'string' && q.includes('('))]
}

function ruleExprs(): {alert: string; expr: string}[] {
  const y = parse(readFileSync(join(repoRoot, 'ops/prometheus/alerts.yml'), 'utf8')) as {groups: {rules: {alert: string; expr: string}[]}[]}
  return y.groups.flatMap((g) => g.rules)
}

describe('ops/: dashboard and alert rules', () => {
  it('the metric-name check finds what an expression reads, and fails on a metric nobody exports', async () => {
    expect(metricsIn('histogram_quantile(0.99, sum by (le) (rate(mm_tick_to_order_seconds_bucket{symbol=~"$symbol"}[$__rate_interval])))')).toEqual(['mm_tick_to_order_seconds_bucket'])
    expect(metricsIn('abs(mm_position_base{a="b"}) / mm_net_max_base > 0.8')).toEqual(['mm_position_base', 'mm_net_max_base'])
    expect(metricsIn('time() - mm_record_last_run_timestamp_seconds{command="record"} > 2 * 3600')).toEqual(['mm_record_last_run_timestamp_seconds'])
    expect(metricsIn('label_values(mm_build_info, instance)')).toEqual(['mm_build_info'])
    const have = await exported()
    expect(unknown(['rate(mm_book_staleness_ms[5m])', 'mm_fills_total', 'mm_decide_submit_seconds_count', 'mm_fills_total_count'], have)).toEqual(['mm_book_staleness_ms (in rate(mm_book_staleness_ms[5m]))', 'mm_fills_total_count (in mm_fills_total_count)'])
  })

  it('the Grafana dashboard uses only exported metrics and covers quotes vs book, inventory, PnL, risk, rejects, latency, resyncs, rate limits', async () => {
    const have = await exported()
    const exprs = dashboardExprs()
    expect(exprs.length).toBeGreaterThan(30)
    expect(unknown(exprs, have)).toEqual([])
    const used = new Set(exprs.flatMap(metricsIn))
    for (const m of ['mm_best_bid_price', 'mm_own_bid_price', 'mm_position_base', 'mm_net_max_base', 'mm_net_pnl_quote', 'mm_realised_pnl_quote', 'mm_risk_state', 'mm_rejects_total', 'mm_tick_to_order_seconds_bucket', 'mm_decide_submit_seconds_bucket', 'mm_resyncs_total', 'mm_rate_limit_used_weight', 'up']) expect(used.has(m), m).toBe(true)
  })

  it('the alert rules use only exported metrics, cover halted, stale book, netMax proximity, reject storm, process down; promtool accepts them', async () => {
    const have = await exported()
    const rules = ruleExprs()
    expect(unknown(rules.map((r) => r.expr), have)).toEqual([])
    expect(rules.map((r) => r.alert)).toEqual(expect.arrayContaining(['MmQuoteDown', 'MmHalted', 'MmStaleBook', 'MmNetMaxProximity', 'MmRejectStorm']))
    const check = promtool(['check', 'rules', join(repoRoot, 'ops/prometheus/alerts.yml')])
    expect(check.code, check.out).toBe(0)
    expect(check.out).toContain(`SUCCESS: ${rules.length} rules found`)
  })
})
