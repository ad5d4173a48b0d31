/**
 * Each `mm calibrate` worker thread loads its own copy of every module it imports
 * (issue 12, bench/calibrate.bench.ts): the worker's static import graph must hold none of
 * the live-only modules (the Binance gateway, feed and REST client, the sim, the state
 * keeper, the metrics registry and server) nor their packages (ws, undici, prom-client).
 * run/quote.ts imports those lazily, on the live and dry-run paths and for --metrics-port.
 */
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const LIVE_PACKAGES = ['ccxt', 'prom-client', 'ws', 'undici', 'binance']
// record/replay-source.ts reads recorded Binance messages with venue/binance/parse.ts (pure parsing): allowed
const LIVE_MODULE = /^src\/lib\/(venue\/binance\/(?!parse\.ts$)|sim\/|telemetry\/metrics|state\/keeper\.ts$|run\/(live|market-feed)\.ts$)/

/** Static import specifiers only (a dynamic `import(...)` is lazy; `import type` loads nothing). */
function staticImports(src: string): string[] {
  const out: string[] = []
  const re = /^\s*(?:import|export)\s(?!type\s)[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm
  for (let m = re.exec(src); m; m = re.exec(src)) out.push(m[1] ?? m[2])
  return out
}

/** every source file reached statically from `entry` (relative to the repo), and each package with a file importing it */
function graph(entry: string): {files: string[]; packages: Map<string, string>} {
  const seen = new Set<string>()
  const packages = new Map<string, string>()
  const stack = [entry]
  while (stack.length > 0 && seen.size < 2000) {
    const f = stack.pop() as string
    if (seen.has(f)) continue
    seen.add(f)
    for (const s of staticImports(readFileSync(f, 'utf8'))) {
      if (s.startsWith('.')) {
        const ts = resolve(dirname(f), s.replace(/\.js$/, '.ts'))
        if (existsSync(ts)) stack.push(ts)
      } else if (!s.startsWith('node:')) {
        const pkg = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]
        if (!packages.has(pkg)) packages.set(pkg, f.slice(ROOT.length))
      }
    }
  }
  return {files: [...seen].map((f) => f.slice(ROOT.length)), packages}
}

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
