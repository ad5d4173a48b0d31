/**
 * Each `mm calibrate` worker thread loads its own copy of every module it imports
 * (issue 12, bench/calibrate.bench.ts): the worker's static import graph must hold none of
 * the live-only modules (the Binance gateway, feed and REST client, the sim, the state
 * keeper, the metrics registry and server) nor their packages (ws, undici, prom-client).
 * run/quote.ts imports those lazily, on the live and dry-run paths and for --metrics-port.
 */
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {importGraph as graph, ROOT} from '../support/import-graph.js'

const LIVE_PACKAGES = ['ccxt', 'prom-client', 'ws', 'undici', 'binance']
// record/replay-source.ts reads recorded Binance messages with venue/binance/parse.ts (pure parsing): allowed
const LIVE_MODULE = /^src\/lib\/(venue\/binance\/(?!parse\.ts$)|sim\/|telemetry\/metrics|state\/keeper\.ts$|run\/(live|market-feed)\.ts$)/

describe('mm calibrate worker import graph', () => {
  it('finds live modules when they are there (the walker works)', () => {
    const live = graph(join(ROOT, 'src/lib/run/live.ts'))
    expect(live.files.filter((f) => LIVE_MODULE.test(f))).toContain('src/lib/venue/binance/gateway.ts')
    expect([...live.packages.keys()]).toContain('ws')
  })

  it('reaches no live-only module or package statically', () => {
    const g = graph(join(ROOT, 'src/lib/calibrate/worker.ts'))
    expect(g.files).toContain('src/lib/run/quote.ts')
    expect(g.files).toContain('src/lib/engine/replay-driver.ts')
    expect(g.files.filter((f) => LIVE_MODULE.test(f))).toEqual([])
    expect([...g.packages.entries()].filter(([p]) => LIVE_PACKAGES.includes(p)).map(([p, from]) => `${p} (from ${from})`)).toEqual([])
  })
})
