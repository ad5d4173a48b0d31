/**
 * run/jit.ts: a live session lowers V8's tier-up budget (Node 20, V8 11), so the order
 * path's functions (each run once per decision that sends orders) are optimised after fewer
 * calls. Checked in a child node (V8's own %GetOptimizationStatus, compiles on the main
 * thread so the count is exact): the calls a small function takes before TurboFan has
 * optimised it, with and without `tuneJitForLive()`; and nothing is printed either way (a
 * V8 without the flag would say "Error: unrecognized flag" at every live start).
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {describe, expect, it} from 'vitest'
import {HAS_INTERRUPT_BUDGET, LIVE_INTERRUPT_BUDGET} from '../../src/lib/run/jit.js'

const JIT = pathToFileURL(join(import.meta.dirname, '../../src/lib/run/jit.ts')).href

/** calls of a small function until TurboFan has optimised it (1,000,000: never), what tuneJitForLive returned, and stderr */
function callsToTurbofan(tuned: boolean): {calls: number; set: boolean | null; stderr: string} {
  const dir = mkdtempSync(join(tmpdir(), 'mm-jit-'))
  const file = join(dir, 'jit.mjs')
  writeFileSync(
    file,
    `const {tuneJitForLive} = await import(${JSON.stringify(JIT)})
let set = null
if (${tuned}) { tuneJitForLive(); set = tuneJitForLive() }
// V8's status bits: 64 = optimised by TurboFan
const turbofanned = new Function('f', 'return (%GetOptimizationStatus(f) & 64) !== 0')
function f(o) { return (o.a * 3 + o.b * 5 - o.c) ^ (o.a << 2) }
const o = {a: 1, b: 2, c: 3}
let calls = 0
for (; calls < 1_000_000; calls++) {
  f(o)
  if (turbofanned(f)) break
}
console.log(JSON.stringify({calls, set}))
`,
  )
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--no-concurrent-recompilation', '--import', 'tsx', file], {encoding: 'utf8', timeout: 60_000})
  expect(r.status, r.stderr).toBe(0)
  return {...(JSON.parse(r.stdout.trim().split('\n').pop() as string) as {calls: number; set: boolean | null}), stderr: r.stderr}
}

describe('live tier-up budget (run/jit.ts)', () => {
  it('Node 20: half V8 default budget, a function optimised after about half the calls; any Node: nothing printed, set at most once', () => {
    expect(LIVE_INTERRUPT_BUDGET).toBe(32_768)
    expect(HAS_INTERRUPT_BUDGET).toBe(Number(process.versions.v8.split('.')[0]) <= 11)
    const plain = callsToTurbofan(false)
    const tuned = callsToTurbofan(true)
    expect(plain.calls).toBeLessThan(1_000_000)
    expect(tuned.calls).toBeLessThan(1_000_000)
    expect([plain.stderr, tuned.stderr]).toEqual(['', ''])
    expect(tuned.set).toBe(HAS_INTERRUPT_BUDGET)
    if (HAS_INTERRUPT_BUDGET) {
      // 67,584 → 32,768 bytes of bytecode between checks: 1,788 → 872 calls on Node 20.20
      expect(tuned.calls / plain.calls).toBeGreaterThan(0.4)
      expect(tuned.calls / plain.calls).toBeLessThan(0.6)
    } else {
      // a V8 without the flag (Node 22+): nothing is set, the tier-up is V8's own
      expect(tuned.calls).toBe(plain.calls)
    }
  })
})
