/**
 * The calibration spec (JSON or YAML): which recordings, which config keys over which
 * ranges, how to sample them, what to optimise and which constraints to hold. Parsed and
 * checked here; every problem is one line naming the key (exit 2).
 */
import {readFileSync} from 'node:fs'
import {dirname, isAbsolute, resolve} from 'node:path'
import {Decimal} from 'decimal.js'
import {parse as parseYaml} from 'yaml'
import {z} from 'zod'
import {configKeys, type KeyInfo, type MmConfigInput} from '../config/schema.js'
import {type ConfigIssue, loadConfig, parseConfig} from '../config/load.js'
import {resolveConfig} from '../config/resolve.js'
import {Instrument} from '../domain/instrument.js'
import {parseDuration} from '../cli/duration.js'
import {ConfigError, MmError} from '../domain/errors.js'

export const OBJECTIVES = ['netPnl', 'pnlPerMaxInventory', 'sharpe', 'markout1s', 'markout10s'] as const
export type Objective = (typeof OBJECTIVES)[number]
export const SAMPLERS = ['grid', 'random', 'lhs'] as const
export type Sampler = (typeof SAMPLERS)[number]

const rangeValuesSchema = z.strictObject({values: z.array(z.union([z.number(), z.string()])).min(1)})
const rangeMinMaxSchema = z.strictObject({min: z.union([z.number(), z.string()]), max: z.union([z.number(), z.string()]), steps: z.number().int().min(1).max(1000).optional()})
const rangeSchema = z.union([z.array(z.union([z.number(), z.string()])).min(1), rangeValuesSchema, rangeMinMaxSchema])
const windowSchema = z.strictObject({name: z.string().min(1).optional(), replay: z.union([z.string(), z.array(z.string()).min(1)]), duration: z.union([z.string(), z.number()]).optional()})
const constraintsSchema = z.strictObject({maxAbsPosition: z.union([z.number(), z.string()]).optional(), minFills: z.number().int().min(0).optional()})

const specSchema = z.strictObject({
  $comment: z.string().optional(),
  symbol: z.string().min(1),
  tickSize: z.string().optional(),
  stepSize: z.string().optional(),
  minNotional: z.string().optional(),
  windows: z.array(windowSchema).min(1),
  base: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  params: z.record(z.string(), rangeSchema),
  sampler: z.enum(SAMPLERS).default('grid'),
  samples: z.number().int().min(1).max(100_000).optional(),
  seed: z.number().int().default(1),
  objective: z.enum(OBJECTIVES).default('netPnl'),
  constraints: constraintsSchema.default({}),
})

export interface Window {
  name: string
  replay: string[]
  durationMs?: number
}

export interface ParamRange {
  key: string
  info: KeyInfo
  /** explicit values (grid or values) */
  values?: Array<number | string>
  min?: number
  max?: number
  int: boolean
  /** decimal-string key (sizes): grid/values, or drawn on the lot step (`draw`) */
  decimal: boolean
  /** random/lhs over a size range without steps: draws min + k × step (k whole), up to max */
  draw?: {min: string; max: string; step: string}
}

export interface CalibrationSpec {
  file: string
  symbol: string
  tickSize?: string
  stepSize?: string
  minNotional?: string
  windows: Window[]
  base: MmConfigInput
  params: ParamRange[]
  sampler: Sampler
  samples: number
  seed: number
  objective: Objective
  constraints: {maxAbsPosition?: number; minFills?: number}
}

/** One point: the value of each parameter. */
export type Point = Record<string, number | string>

/** The keys a spec object takes at `path` (a typo in a window, a range or the constraints used to list the top level's). */
function knownKeys(path: readonly PropertyKey[]): string[] {
  if (path[0] === 'windows' && path.length === 2) return Object.keys(windowSchema.shape)
  if (path[0] === 'constraints' && path.length === 1) return Object.keys(constraintsSchema.shape)
  if (path[0] === 'params' && path.length === 2) return [...Object.keys(rangeMinMaxSchema.shape), ...Object.keys(rangeValuesSchema.shape)]
  return Object.keys(specSchema.shape).filter((k) => k !== '$comment')
}

function specError(file: string, path: string, value: unknown, expected: string): ConfigError {
  const v = JSON.stringify(value)
  return new ConfigError('E_SPEC', `calibration spec ${file}: ${path || '(file)'}: got ${v === undefined ? 'undefined' : v.length > 60 ? v.slice(0, 57) + '...' : v}, expected ${expected}`, {
    suggestion: 'docs/calibrate.md describes the spec',
  })
}

export function readSpecText(file: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError('E_SPEC', `cannot read calibration spec ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`)
  }
  try {
    return /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text)
  } catch (error) {
    throw new ConfigError('E_SPEC', `calibration spec ${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${firstLine((error as Error).message)}`)
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0]
}

/** Read, validate and resolve a spec file (paths relative to the spec's folder). */
export function loadSpec(file: string): CalibrationSpec {
  const abs = resolve(file)
  return parseSpec(readSpecText(abs), abs)
}

export function parseSpec(raw: unknown, file: string): CalibrationSpec {
  const r = specSchema.safeParse(raw)
  if (!r.success) {
    const is = r.error.issues[0]
    const path = is.path.map(String).join('.')
    let v: unknown = raw
    for (const p of is.path) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p as PropertyKey] : undefined
    const expected =
      is.code === 'unrecognized_keys'
        ? `no such key ${is.keys.join(', ')} (known: ${knownKeys(is.path).join(', ')})`
        : is.code === 'invalid_union' && is.path.length === 2 && is.path[0] === 'params'
          ? 'a list of values ([0.1, 0.2]), {values: [...]} or a range {min, max, steps}'
          : is.message
    throw specError(file, path, v, expected)
  }
  const s = r.data
  const dir = dirname(file)
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(dir, p))
  const windows: Window[] = s.windows.map((w, i) => {
    let durationMs: number | undefined
    if (w.duration !== undefined) {
      try {
        durationMs = parseDuration(String(w.duration), `windows.${i}.duration`)
      } catch {
        throw specError(file, `windows.${i}.duration`, w.duration, 'a duration such as 90s, 5m, 1h')
      }
    }
    return {name: w.name ?? `w${i + 1}`, replay: (Array.isArray(w.replay) ? w.replay : [w.replay]).map(abs), durationMs}
  })
  const names = new Set<string>()
  for (const w of windows) {
    if (names.has(w.name)) throw specError(file, 'windows', w.name, 'distinct window names')
    names.add(w.name)
  }
  let base: MmConfigInput = {}
  if (typeof s.base === 'string') {
    try {
      base = loadConfig(abs(s.base)) as MmConfigInput
    } catch (error) {
      // the file's error with a hint for the spec: it said 'pass --config PATH', which no spec takes
      if (error instanceof ConfigError && error.code === 'E_CONFIG' && error.suggestion?.startsWith('pass --config')) {
        throw new ConfigError('E_CONFIG', `calibration spec ${file}: base: ${error.message}`, {suggestion: `give base: the path of an existing JSON config file (relative to the spec's folder ${dirname(file)}), or the config itself as an object`})
      }
      throw error
    }
  }
  else if (s.base) base = s.base as MmConfigInput
  parseConfig(base, `${file} (base)`)

  const keys = new Map(configKeys().map((k) => [k.path, k]))
  const params: ParamRange[] = []
  for (const [key, range] of Object.entries(s.params)) {
    const info = keys.get(key)
    const isNum = info && typeof info.default === 'number'
    const isDec = info && typeof info.default === 'string' && /^\d+(\.\d+)?$/.test(info.default)
    if (!info || !(isNum || isDec)) {
      const numeric = [...keys.values()].filter((k) => typeof k.default === 'number' || (typeof k.default === 'string' && /^\d/.test(k.default))).map((k) => k.path)
      throw specError(file, `params.${key}`, range, `a numeric config key (one of ${numeric.join(', ')})`)
    }
    const int = info.expected.startsWith('an integer')
    const p: ParamRange = {key, info, int, decimal: Boolean(isDec)}
    if (Array.isArray(range) || 'values' in range) {
      const values = Array.isArray(range) ? range : range.values
      p.values = values.map((v) => normalise(file, key, v, p))
    } else {
      const lo = Number(range.min)
      const hi = Number(range.max)
      if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) throw specError(file, `params.${key}`, range, 'min ≤ max, both numbers')
      // one step of a range was its min alone: the max was dropped without a word
      if (range.steps === 1 && hi > lo) throw specError(file, `params.${key}`, range, `steps ≥ 2 for a range whose min < max (one step was min alone: max was dropped), or the value as a list [${range.min}]`)
      if (p.decimal && range.steps === undefined && s.sampler !== 'grid') {
        // a size range for random/lhs: drawn on the lot step (it used to be its two ends only, silently)
        if (s.stepSize === undefined || !/^\d+(\.\d+)?$/.test(s.stepSize) || !(Number(s.stepSize) > 0)) {
          throw specError(file, `params.${key}`, range, `steps (a size key takes exact decimal steps), or the spec's stepSize, to draw ${s.sampler} sizes on the lot step`)
        }
        p.draw = {min: String(normalise(file, key, range.min, p)), max: String(normalise(file, key, range.max, p)), step: s.stepSize}
      } else if (range.steps !== undefined || s.sampler === 'grid' || p.decimal) {
        const steps = range.steps ?? 2
        if (p.decimal) {
          const a = new Decimal(String(range.min))
          const b = new Decimal(String(range.max))
          p.values = Array.from({length: steps}, (_, i) => (steps === 1 ? a : a.plus(b.minus(a).mul(i).div(steps - 1))).toString())
        } else {
          p.values = Array.from({length: steps}, (_, i) => (steps === 1 ? lo : lo + ((hi - lo) * i) / (steps - 1))).map((v) => (int ? Math.round(v) : v))
          p.values = [...new Set(p.values)]
        }
        p.values = p.values.map((v) => normalise(file, key, v, p))
      }
      p.min = lo
      p.max = hi
    }
    params.push(p)
  }
  if (params.length === 0) throw specError(file, 'params', s.params, 'at least one config key with its range')
  const gridSize = params.reduce((n, p) => n * (p.values?.length ?? 1), 1)
  const samples = s.sampler === 'grid' ? gridSize : (s.samples ?? 16)
  if (s.sampler !== 'grid' && s.samples === undefined) {
    // documented default
  }
  if (samples > 100_000) throw specError(file, 'params', Object.keys(s.params), `a grid of at most 100000 points (this one has ${samples})`)
  const maxAbs = s.constraints.maxAbsPosition === undefined ? undefined : Number(s.constraints.maxAbsPosition)
  if (maxAbs !== undefined && !(maxAbs >= 0)) throw specError(file, 'constraints.maxAbsPosition', s.constraints.maxAbsPosition, 'a number ≥ 0 (base units)')
  return {
    file,
    symbol: s.symbol.toUpperCase(),
    tickSize: s.tickSize,
    stepSize: s.stepSize,
    minNotional: s.minNotional,
    windows,
    base,
    params,
    sampler: s.sampler,
    samples,
    seed: s.seed,
    objective: s.objective,
    constraints: {maxAbsPosition: maxAbs, minFills: s.constraints.minFills},
  }
}

function normalise(file: string, key: string, v: number | string, p: ParamRange): number | string {
  if (p.decimal) {
    const str = String(v)
    if (!/^\d+(\.\d+)?$/.test(str)) throw specError(file, `params.${key}`, v, 'decimal strings such as "0.01" (a size key)')
    return str
  }
  const n = typeof v === 'number' ? v : Number(v)
  if (!Number.isFinite(n) || (p.int && !Number.isInteger(n))) throw specError(file, `params.${key}`, v, p.info.expected)
  return n
}

/** mulberry32: a small seeded PRNG (sampling must be reproducible from the seed). */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The points of the spec, in a fixed order (grid: last key fastest; random/lhs: from the seed). */
export function expandPoints(spec: CalibrationSpec): Point[] {
  const ps = spec.params
  if (spec.sampler === 'grid') {
    let out: Point[] = [{}]
    for (const p of ps) {
      const vals = p.values ?? [p.min as number]
      out = out.flatMap((pt) => vals.map((v) => ({...pt, [p.key]: v})))
    }
    return out
  }
  const rand = rng(spec.seed)
  const n = spec.samples
  const pick = (p: ParamRange, u: number): number | string => {
    if (p.draw) {
      const a = new Decimal(p.draw.min)
      const step = new Decimal(p.draw.step)
      const n = new Decimal(p.draw.max).minus(a).div(step).floor().toNumber()
      return a.plus(step.mul(Math.min(n, Math.floor(u * (n + 1))))).toString()
    }
    if (p.values && (p.decimal || p.min === undefined)) return p.values[Math.min(p.values.length - 1, Math.floor(u * p.values.length))]
    const v = (p.min as number) + u * ((p.max as number) - (p.min as number))
    return p.int ? Math.round(v) : v
  }
  if (spec.sampler === 'random') {
    return Array.from({length: n}, () => Object.fromEntries(ps.map((p) => [p.key, pick(p, rand())])))
  }
  // Latin hypercube: each key's range cut in n strata, one sample per stratum, strata shuffled per key
  const cols = ps.map((p) => {
    const us = Array.from({length: n}, (_, i) => (i + rand()) / n)
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      ;[us[i], us[j]] = [us[j], us[i]]
    }
    return us.map((u) => pick(p, u))
  })
  return Array.from({length: n}, (_, i) => Object.fromEntries(ps.map((p, k) => [p.key, cols[k][i]])))
}

/** The base config with the point's values set (dotted keys). */
export function configOf(base: MmConfigInput, point: Point): MmConfigInput {
  const out = JSON.parse(JSON.stringify(base)) as Record<string, Record<string, unknown>>
  for (const [key, v] of Object.entries(point)) {
    const [section, leaf] = key.split('.')
    out[section] = {...(out[section] ?? {}), [leaf]: v}
  }
  return out as MmConfigInput
}

/**
 * Every point's config checked before any job runs (a point that makes the config invalid
 * used to stop the run at its job, after every job before it): the config schema, and, when
 * the spec gives `tickSize` and `stepSize` (or `instrument` is given: a window's meta.json),
 * the sizes against that grid as `mm quote` checks them. Throws one ConfigError (exit 2) naming how many points fail, the first few with
 * their values, and each one's first problem. `ids` are the points' ids, in order.
 */
export function checkPointConfigs(spec: CalibrationSpec, points: readonly Point[], ids: readonly string[], instrument?: Instrument): void {
  const inst =
    instrument ??
    (spec.tickSize !== undefined && spec.stepSize !== undefined
      ? new Instrument({symbol: spec.symbol, tickSize: spec.tickSize, stepSize: spec.stepSize, minQty: spec.stepSize, minNotional: spec.minNotional ?? '5'})
      : undefined)
  const bad: string[] = []
  let count = 0
  points.forEach((point, i) => {
    let issue: ConfigIssue | undefined
    try {
      const cfg = parseConfig(configOf(spec.base, point), 'point')
      if (inst) resolveConfig(cfg, inst, 'point')
    } catch (error) {
      if (!(error instanceof MmError)) throw error
      const errors = (error.details as {errors?: ConfigIssue[]} | undefined)?.errors
      issue = errors?.[0] ?? {path: '', value: undefined, expected: error.message}
    }
    if (!issue) return
    count++
    if (bad.length < 3) {
      const values = Object.entries(point).map(([k, v]) => `${k}=${v}`).join(', ')
      bad.push(`  ${ids[i]} (${values}): ${issue.path || '(config)'}: got ${JSON.stringify(issue.value)}, expected ${issue.expected}`)
    }
  })
  if (count === 0) return
  throw new ConfigError('E_SPEC', `calibration spec ${spec.file}: ${count} of ${points.length} points make an invalid config (nothing was run):\n${bad.join('\n')}${count > bad.length ? `\n  … and ${count - bad.length} more` : ''}`, {
    suggestion: 'narrow params to values the config accepts (docs/config.md gives each key\'s range; sizes must be on the lot step)',
  })
}
