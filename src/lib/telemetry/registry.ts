/**
 * The Prometheus registry of one mm process: never prom-client's global one, the default
 * process metrics (CPU, memory, event-loop lag, GC, file descriptors) when asked, and
 * `mm_build_info` (1, labelled with the version, Node's version and the platform), the
 * usual way to join a series to the build that produced it.
 */
import {collectDefaultMetrics, Gauge, Registry} from 'prom-client'
import {MM_VERSION} from './version.js'

const GAUGES_NAMED_TOTAL = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']

export interface RegistryOptions {
  /** constant labels on every series, e.g. {symbol: 'ETHUSDC', mode: 'replay'} */
  labels?: Record<string, string>
  /** the default process_* and nodejs_* metrics (a long-running process: yes; a textfile: no) */
  processMetrics?: boolean
  /** mm's version for mm_build_info (default: package.json's) */
  version?: string
}

export function createRegistry(o: RegistryOptions = {}): Registry {
  const r = new Registry()
  if (o.labels) r.setDefaultLabels(o.labels)
  if (o.processMetrics) {
    collectDefaultMetrics({register: r})
    // gauges named like counters (promtool refuses them); nodejs_active_handles etc. carry the same figures
    for (const n of GAUGES_NAMED_TOTAL) r.removeSingleMetric(n)
  }
  const info = new Gauge({name: 'mm_build_info', help: "mm's build: 1, labelled with the version, Node's version and the platform", labelNames: ['version', 'nodejs', 'platform'], registers: [r]})
  info.set({version: o.version ?? MM_VERSION, nodejs: process.versions.node, platform: `${process.platform}-${process.arch}`}, 1)
  return r
}
