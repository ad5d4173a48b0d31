/**
 * Helpers for bench modules. A module is `bench/<name>.bench.ts` exporting
 *   export const name = 'short name'
 *   export async function run(): Promise<Record<string, number | string>>
 * and `npm run bench` (bench/run.ts) finds it, runs it and records its figures.
 */
import {existsSync, readdirSync, statSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const sharedDataDir = process.env.MM_SHARED_DATA ?? resolve(repoRoot, '../shared/data')

/** Path of a file under ../shared/data; throws a clear error when it is absent. */
export function sharedData(rel: string): string {
  const p = resolve(sharedDataDir, rel)
  if (!existsSync(p)) throw new Error(`bench needs ${p}, which is absent (set MM_SHARED_DATA or put shared/ beside the checkout)`)
  return p
}

/**
 * A module of the compiled product (dist/lib/<rel>), as `bin/run.js` runs it — not the
 * sources through tsx, whose transform wraps every function it creates at run time in a
 * naming helper. Refuses a dist/ older than src/ (run `npm run build`).
 */
export async function distModule<T>(rel: string): Promise<T> {
  const dist = join(repoRoot, 'dist', 'lib')
  const newest = (dir: string): number => {
    let m = 0
    for (const e of readdirSync(dir, {withFileTypes: true})) m = Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)
    return m
  }
  const file = join(dist, rel)
  if (!existsSync(file) || newest(join(repoRoot, 'src')) > newest(dist)) throw new Error(`bench times the compiled product: dist/ is missing or older than src/ (run \`npm run build\`)`)
  return (await import(pathToFileURL(file).href)) as T
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

export interface Timing {
  /** median wall time of one repetition, ms */
  medianMs: number
  minMs: number
  samplesMs: number[]
}

/**
 * Time `fn` (one full repetition of the workload): `warmup` untimed runs, then `reps`
 * timed ones; the median is the figure to report. `fn` should return something derived
 * from its work so the optimiser cannot drop it.
 */
export function timeIt(fn: () => unknown, reps = 9, warmup = 2): Timing {
  let sink: unknown
  for (let i = 0; i < warmup; i++) sink = fn()
  const samples: number[] = []
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint()
    sink = fn()
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }
  if (sink === Symbol.for('never')) console.log('')
  return {medianMs: median(samples), minMs: Math.min(...samples), samplesMs: samples}
}

/** Round for display/recording: 3 significant decimals for small numbers. */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

export interface Comparison<K extends string> {
  timings: Record<K, Timing>
  /** median over repetitions of (time of k / time of the baseline in the same repetition) */
  ratioToBaseline: Record<K, number>
}

/**
 * Time several variants of the same workload, interleaved (a, b, c, a, b, c, ...), so
 * that load from other processes hits them alike; ratios are taken within each
 * repetition against `baseline`, then the median is reported.
 */
export function compare<K extends string>(variants: Record<K, () => unknown>, baseline: NoInfer<K>, reps = 9, warmup = 2): Comparison<K> {
  const keys = Object.keys(variants) as K[]
  let sink: unknown
  for (let w = 0; w < warmup; w++) for (const k of keys) sink = variants[k]()
  const samples = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>
  for (let r = 0; r < reps; r++) {
    for (const k of keys) {
      const t0 = process.hrtime.bigint()
      sink = variants[k]()
      samples[k].push(Number(process.hrtime.bigint() - t0) / 1e6)
    }
  }
  if (sink === Symbol.for('never')) console.log('')
  const timings = {} as Record<K, Timing>
  const ratioToBaseline = {} as Record<K, number>
  for (const k of keys) {
    timings[k] = {medianMs: median(samples[k]), minMs: Math.min(...samples[k]), samplesMs: samples[k]}
    ratioToBaseline[k] = median(samples[k].map((t, r) => t / samples[baseline][r]))
  }
  return {timings, ratioToBaseline}
}
