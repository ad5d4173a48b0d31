/**
 * `mm status` starts fast (issue 9, bench/status.bench.ts): no heavy package (ccxt,
 * prom-client, ws, undici) on its static import graph; what needs one loads it lazily
 * (`await import`). This walks the static imports from src/commands/status.ts.
 */
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {importGraph as graph, ROOT, staticImports} from '../support/import-graph.js'

const HEAVY = ['ccxt', 'prom-client', 'ws', 'undici', 'pino', 'decimal.js', 'zod', 'cli-table3']

describe('mm status import graph', () => {
  it('finds packages when they are there (the walker works)', () => {
    expect(staticImports("import {a} from 'undici'\nimport {type B} from './b.js'\nimport type {C} from './c.js'\nexport type {D} from './d.js'\nconst c = await import('ws')")).toEqual(['undici', './b.js'])
    expect([...graph(join(ROOT, 'src/lib/run/live.ts')).packages.keys()]).toContain('undici')
  })

  it('reaches none of the heavy packages statically', () => {
    const g = graph(join(ROOT, 'src/commands/status.ts'))
    const heavy = [...g.packages.entries()].filter(([p]) => HEAVY.includes(p)).map(([p, from]) => `${p} (from ${from})`)
    expect(heavy).toEqual([])
    expect([...g.packages.keys()].sort()).toEqual(['@oclif/core'])
  })
})
