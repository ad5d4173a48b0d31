/**
 * The final figures of one `mm halt` / `mm flatten` run as Prometheus metrics, for
 * node_exporter's textfile collector (`--metrics-textfile`), as `mm record` does
 * (record-metrics.ts): no process metrics, every series labelled `command` and `symbol`.
 * Gauges only: each file holds the last run's figures, which a new run replaces.
 * An alert on `mm_flatten_residual_base > 0` or `mm_halt_success == 0` catches an
 * emergency command from cron that did not fully do its job.
 */
import {Gauge, type Registry} from 'prom-client'
import {createRegistry} from './registry.js'

interface Common {
  symbol: string
  /** wall ms at the end of the run */
  endedMs: number
  exitCode: number
}

export interface HaltFigures extends Common {
  /** orders confirmed cancelled on the venue (by this command or by the quote it asked) */
  cancelled: number
  /** orders not confirmed cancelled */
  left: number
  /** a halt is in force after the run */
  halted: boolean
}

export interface FlattenFigures extends Common {
  /** |position| before and after, base units (decimal strings: converted here, at the edge) */
  positionBefore: string
  residual: string
  orders: number
  rounds: number
  filled: string
}

function registry(command: 'halt' | 'flatten', f: Common, version?: string): {r: Registry; gauge: (name: string, help: string, v: number) => void} {
  const r = createRegistry({labels: {command}, version})
  const gauge = (name: string, help: string, v: number) => new Gauge({name, help, labelNames: ['symbol'], registers: [r]}).set({symbol: f.symbol}, v)
  gauge(`mm_${command}_success`, `1 if the last mm ${command} exited 0, else 0`, f.exitCode === 0 ? 1 : 0)
  gauge(`mm_${command}_exit_code`, `exit code of the last mm ${command} (0 done, 1 error, 2 usage, 3 partly done)`, f.exitCode)
  gauge(`mm_${command}_last_run_timestamp_seconds`, `Unix time the last mm ${command} ended`, f.endedMs / 1000)
  return {r, gauge}
}

export function haltRegistry(f: HaltFigures, version?: string): Registry {
  const {r, gauge} = registry('halt', f, version)
  gauge('mm_halt_orders_cancelled', 'orders confirmed cancelled by the last mm halt', f.cancelled)
  gauge('mm_halt_orders_left', 'orders the last mm halt could not confirm cancelled', f.left)
  gauge('mm_halt_active', '1 if a halt is in force after the last mm halt', f.halted ? 1 : 0)
  return r
}

const num = (s: string) => Math.abs(Number(s))

export function flattenRegistry(f: FlattenFigures, version?: string): Registry {
  const {r, gauge} = registry('flatten', f, version)
  gauge('mm_flatten_position_before_base', '|position| before the last mm flatten, base asset', num(f.positionBefore))
  gauge('mm_flatten_residual_base', '|position| the last mm flatten left (0: flat), base asset', num(f.residual))
  gauge('mm_flatten_filled_base', 'quantity the last mm flatten closed, base asset', num(f.filled))
  gauge('mm_flatten_orders', 'reduce-only IOC orders the last mm flatten sent', f.orders)
  gauge('mm_flatten_rounds', 'rounds the last mm flatten ran', f.rounds)
  return r
}
