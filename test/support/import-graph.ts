/**
 * The static import graph of a source file, for the lint tests that keep heavy or
 * live-only code off a start-up path (test/lint/status-imports, calibrate-worker-imports).
 */
import {existsSync, readFileSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/**
 * Static import specifiers only (a dynamic `import(...)` is lazy by design; an `import type`
 * / `export type` is erased by tsc and loads nothing).
 */
export function staticImports(src: string): string[] {
  const out: string[] = []
  const re = /^\s*(?:import|export)\s(?!type\s)[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm
  for (let m = re.exec(src); m; m = re.exec(src)) out.push(m[1] ?? m[2])
  return out
}

/** every source file reached statically from `entry` (relative to the repo), and each package with the first file importing it */
export function importGraph(entry: string): {files: string[]; packages: Map<string, string>} {
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
