/**
 * The layout holds by test: every import under src/lib (type-only ones included, since a
 * type import still ties one folder to another) is read, and
 *  - no folder cycle: the graph of folder → folder imports has no cycle (a folder is
 *    src/lib/<dir>, and each adapter under venue/ — binance, paper, sim — is its own);
 *  - engine/ imports no venue adapter (paper included), no sim and no recording reader:
 *    of venue/ only the port (venue/types.ts), nothing of record/.
 */
import {readdirSync, readFileSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'
import {describe, expect, it} from 'vitest'
import {repoRoot} from '../support/shared-data.js'

const LIB = join(repoRoot, 'src/lib')

interface Edge {
  from: string
  to: string
}

function tsFiles(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...tsFiles(p))
    else if (e.name.endsWith('.ts')) out.push(p)
  }
  return out.sort()
}

/** Every module specifier: static import/export … from, side-effect import, import(). */
export function specifiers(text: string): string[] {
  const out: string[] = []
  const re = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2])
  return out
}

/** src/lib-relative module path (no extension) → its folder unit. */
export function folderOf(rel: string): string {
  const parts = rel.split('/')
  if (parts.length === 1) return '(root)'
  if (parts[0] === 'venue' && parts.length > 2) return `venue/${parts[1]}`
  return parts[0]
}

function libEdges(): Edge[] {
  const edges: Edge[] = []
  for (const file of tsFiles(LIB)) {
    const from = relative(LIB, file).replace(/\.ts$/, '')
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue
      const to = relative(LIB, resolve(dirname(file), spec)).replace(/\.(js|ts)$/, '')
      if (to.startsWith('..')) continue
      edges.push({from, to})
    }
  }
  return edges
}

/** The folder cycles (each as a path a → … → a); empty when the graph is acyclic. */
export function folderCycles(edges: Edge[]): string[][] {
  const g = new Map<string, Set<string>>()
  for (const {from, to} of edges) {
    const a = folderOf(from)
    const b = folderOf(to)
    if (a === b) continue
    if (!g.has(a)) g.set(a, new Set())
    g.get(a)?.add(b)
  }
  const cycles: string[][] = []
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  const visit = (n: string): void => {
    state.set(n, 'open')
    path.push(n)
    for (const m of [...(g.get(n) ?? [])].sort()) {
      if (state.get(m) === 'open') cycles.push([...path.slice(path.indexOf(m)), m])
      else if (!state.has(m)) visit(m)
    }
    path.pop()
    state.set(n, 'done')
  }
  for (const n of [...g.keys()].sort()) if (!state.has(n)) visit(n)
  return cycles
}

/** engine/ → venue adapter, sim or recording reader: the imports the rule forbids. */
export function engineViolations(edges: Edge[]): string[] {
  return edges
    .filter((e) => e.from.startsWith('engine/'))
    .filter((e) => (e.to.startsWith('venue/') && e.to !== 'venue/types') || e.to.startsWith('record/'))
    .map((e) => `${e.from} → ${e.to}`)
}

describe('import structure of src/lib', () => {
  const edges = libEdges()

  it('reads the imports (type-only and multi-line ones too)', () => {
    expect(specifiers("import type {A,\n  B} from './a.js'\nexport {c} from \"../c.js\"\nimport './side.js'\nconst x = await import('./lazy.js')")).toEqual(['./a.js', '../c.js', './side.js', './lazy.js'])
    expect(edges.length).toBeGreaterThan(100)
    expect(edges).toContainEqual({from: 'engine/engine', to: 'core/decide'})
  })

  it('finds a cycle and a forbidden engine import when there is one', () => {
    expect(folderCycles([{from: 'book/sync', to: 'market/events'}, {from: 'market/feed', to: 'book/sync'}])).toEqual([['book', 'market', 'book']])
    expect(folderCycles([{from: 'venue/paper/x', to: 'venue/types'}, {from: 'venue/types', to: 'domain/orders'}])).toEqual([])
    expect(engineViolations([{from: 'engine/engine', to: 'venue/paper/index'}, {from: 'engine/engine', to: 'record/raw-reader'}, {from: 'engine/engine', to: 'venue/types'}])).toEqual(['engine/engine → venue/paper/index', 'engine/engine → record/raw-reader'])
  })

  it('has no folder cycle', () => {
    expect(folderCycles(edges)).toEqual([])
  })

  it('keeps engine/ free of venue adapters, sim and recording readers', () => {
    expect(engineViolations(edges)).toEqual([])
  })

  it('keeps market/events.ts a leaf', () => {
    expect(edges.filter((e) => e.from === 'market/events')).toEqual([])
    expect(edges.filter((e) => e.from.startsWith('market/') && !e.to.startsWith('market/'))).toEqual([])
  })
})
