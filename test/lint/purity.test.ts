/**
 * House rule 1 (ARCHITECTURE.md): the pure core never touches the wall clock, randomness,
 * the process, the console, timers, the file system or oclif. This scans the sources
 * and reports every offending line as file:line.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const PURE_DIRS = ['domain', 'book', 'strategy', 'risk', 'orders', 'core'].map((d) => join(ROOT, 'src/lib', d))

export const RULES: Array<{name: string; re: RegExp}> = [
  {name: 'Date.now', re: /\bDate\.now\s*\(/},
  {name: 'new Date(', re: /\bnew\s+Date\s*\(/},
  {name: 'Math.random', re: /\bMath\.random\b/},
  {name: 'process.', re: /\bprocess\s*\./},
  {name: 'console.', re: /\bconsole\s*\./},
  {name: 'setTimeout/setInterval', re: /\b(setTimeout|setInterval|setImmediate)\b/},
  {name: 'fs import', re: /(from\s+|import\s*\(\s*|require\s*\(\s*)['"](node:)?fs(\/promises)?['"]/},
  {name: 'oclif import', re: /(from\s+|import\s*\(\s*|require\s*\(\s*)['"]@oclif\//},
]

/** Blank out comments and string contents so prose never trips a rule (imports are checked on the raw line). */
export function codeOnly(src: string): string {
  let out = ''
  let i = 0
  const n = src.length
  while (i < n) {
    const c = src[i]
    const d = src[i + 1]
    if (c === '/' && d === '/') {
      while (i < n && src[i] !== '\n') i++
    } else if (c === '/' && d === '*') {
      i += 2
      while (i < n && !(src[i] === '*' && src[i + 1] === '/')) out += src[i++] === '\n' ? '\n' : ' '
      i += 2
    } else if (c === '"' || c === "'" || c === '`') {
      const q = c
      out += q
      i++
      while (i < n && src[i] !== q) {
        if (src[i] === '\\') {
          i += 2
          out += '  '
          continue
        }
        out += src[i] === '\n' ? '\n' : ' '
        i++
      }
      out += q
      i++
    } else {
      out += c
      i++
    }
  }
  return out
}

export function scan(file: string, src: string): string[] {
  const hits: string[] = []
  const raw = src.split('\n')
  const code = codeOnly(src).split('\n')
  for (let k = 0; k < raw.length; k++) {
    for (const r of RULES) {
      const isImport = r.name.endsWith('import')
      const line = isImport ? (/^\s*(\/\/|\*|\/\*)/.test(raw[k]) ? '' : raw[k]) : code[k]
      if (r.re.test(line)) hits.push(`${file}:${k + 1}: ${r.name}: ${raw[k].trim()}`)
    }
  }
  return hits
}

function walk(dir: string): string[] {
  let out: string[] = []
  let entries: string[]
  try {
    entries = readdirSync(dir)
  } catch {
    return out
  }
  for (const e of entries) {
    const p = join(dir, e)
    if (statSync(p).isDirectory()) out = out.concat(walk(p))
    else if (p.endsWith('.ts')) out.push(p)
  }
  return out.sort()
}

describe('purity of the decision core (src/lib/{domain,book,strategy,risk,orders,core})', () => {
  it('no wall clock, randomness, process, console, timers, fs or oclif', () => {
    const files = PURE_DIRS.flatMap(walk)
    expect(files.length).toBeGreaterThan(10)
    const hits = files.flatMap((f) => scan(relative(ROOT, f), readFileSync(f, 'utf8')))
    expect(hits, hits.join('\n')).toEqual([])
  })

  it('the scanner catches each rule and reports file:line, and ignores comments and strings', () => {
    const src = [
      'const a = Date.now()',
      'const b = new Date(0)',
      'const c = Math.random()',
      'if (process.env.X) {}',
      'console.log(1)',
      'setTimeout(f, 1)',
      "import {readFileSync} from 'node:fs'",
      "import {Command} from '@oclif/core'",
      '// Date.now() in a comment is fine',
      "const s = 'console.log in a string is fine'",
      '/* Math.random() */ const ok = 1',
      "import fs from 'fs'",
    ].join('\n')
    expect(scan('x.ts', src).map((h) => h.split(': ').slice(0, 2).join(': '))).toEqual([
      'x.ts:1: Date.now',
      'x.ts:2: new Date(',
      'x.ts:3: Math.random',
      'x.ts:4: process.',
      'x.ts:5: console.',
      'x.ts:6: setTimeout/setInterval',
      'x.ts:7: fs import',
      'x.ts:8: oclif import',
      'x.ts:12: fs import',
    ])
  })
})
