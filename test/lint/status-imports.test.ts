/**
 * `mm status` starts fast (issue 9, bench/status.bench.ts): no heavy package (ccxt,
 * prom-client, ws, undici) on its static import graph; what needs one loads it lazily
 * (`await import`). This walks the static imports from src/commands/status.ts.
 */
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const HEAVY = ['ccxt', 'prom-client', 'ws', 'undici', 'pino', 'decimal.js', 'zod', 'cli-table3']

/**
 * Static import specifiers only (a dynamic `import(...)` is lazy by design; an `import type`
 * / `export type` is erased by tsc and loads nothing).
 */
function staticImports(src: string): string[] {
  const out: string[] = []
  const re = /^\s*(?:import|export)\s(?!type\s)[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm
  for (let m = re.exec(src); m; m = re.exec(src)) out.push(m[1] ?? m[2])
  return out
}

function graph(entry: string): {files: string[]; packages: Map<string, string>} {
  const seen = new Set<string>()
  const packages = new Map<string, string>()
  const stack = [entry]
  while (stack.length > 0 && seen.size < 1000) {
    const f = stack.pop() as string
    if (seen.has(f)) continue
    seen.add(f)
    const text = readFileSync(f, 'utf8')
    for (const s of staticImports(text)) {
      if (s.startsWith('.')) {
        const ts = resolve(dirname(f), s.replace(/\.js$/, '.ts'))
        if (existsSync(ts)) stack.push(ts)
      } else if (!s.startsWith('node:')) {
        const pkg = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]
        if (!packages.has(pkg)) packages.set(pkg, f.slice(ROOT.length))
      }
    }
  }
  return {files: [...seen], packages}
}

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
