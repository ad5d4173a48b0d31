/**
 * Reading and validating the config file. The only I/O of the config module.
 * Every problem is collected and reported at once in one ConfigError (exit 2):
 * key path, the value found, what was expected.
 */
import {existsSync, readFileSync} from 'node:fs'
import {resolve as resolvePath} from 'node:path'
import type {z} from 'zod'
import {ConfigError} from '../domain/errors.js'
import {configSchema, type KeyMeta, type MmConfig, SECTIONS} from './schema.js'

export const DEFAULT_CONFIG_FILE = 'mm.config.json'

export interface ConfigIssue {
  /** dotted key path ('' for the whole file), e.g. 'strategy.baseSpread' */
  path: string
  /** the value found (undefined when missing) */
  value: unknown
  /** what was expected */
  expected: string
}

function fmtValue(v: unknown): string {
  if (v === undefined) return 'undefined'
  const s = JSON.stringify(v)
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + '...' : s
}

/** Build the ConfigError for a list of issues (also used by resolveConfig). */
export function configError(issues: ConfigIssue[], source: string): ConfigError {
  const lines = issues.map((i) => `  ${i.path || '(file)'}: got ${fmtValue(i.value)}, expected ${i.expected}`)
  return new ConfigError('E_CONFIG', `invalid config ${source} (${issues.length} error${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`, {
    suggestion: 'fix the keys listed above; docs/config.md lists every key with its unit, default and range',
    details: {source, errors: issues},
  })
}

function leafMeta(path: PropertyKey[]): KeyMeta | undefined {
  if (path.length !== 2) return undefined
  const section = SECTIONS[String(path[0]) as keyof typeof SECTIONS]
  const leaf = section?.shape[String(path[1]) as keyof typeof section.shape] as z.ZodType | undefined
  return leaf?.meta() as KeyMeta | undefined
}

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  let v: unknown = raw
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<PropertyKey, unknown>)[p]
  }
  return v
}

function issuesOf(err: z.ZodError, raw: unknown): ConfigIssue[] {
  const out: ConfigIssue[] = []
  for (const is of err.issues) {
    const p = is.path.map(String).join('.')
    if (is.code === 'unrecognized_keys') {
      for (const k of is.keys) {
        const full = p ? `${p}.${k}` : k
        const known = p ? Object.keys(SECTIONS[p as keyof typeof SECTIONS]?.shape ?? {}) : ['$comment', ...Object.keys(SECTIONS)]
        out.push({path: full, value: valueAt(raw, [...is.path, k]), expected: `no such key (known${p ? ' in ' + p : ''}: ${known.filter((x) => x !== '$comment').join(', ')})`})
      }
      continue
    }
    if (out.some((o) => o.path === p)) continue // one line per key: the first failed check names the whole expectation
    const meta = leafMeta(is.path)
    let expected = meta?.expected ?? is.message
    if (!meta && is.path.length === 1) expected = is.path[0] === '$comment' ? 'a string' : 'an object'
    out.push({path: p, value: valueAt(raw, is.path), expected})
  }
  return out
}

/** Relations between keys that a single-key range cannot express. */
function crossIssues(c: MmConfig): ConfigIssue[] {
  const out: ConfigIssue[] = []
  if (c.strategy.postOnlyMaxBackoffTicks < c.strategy.postOnlyBackoffTicks) {
    out.push({path: 'strategy.postOnlyMaxBackoffTicks', value: c.strategy.postOnlyMaxBackoffTicks, expected: `≥ strategy.postOnlyBackoffTicks (${c.strategy.postOnlyBackoffTicks})`})
  }
  if (c.risk.fallbackSlippageMax < c.risk.reduceOnlyMaxSlippagePct) {
    out.push({path: 'risk.fallbackSlippageMax', value: c.risk.fallbackSlippageMax, expected: `≥ risk.reduceOnlyMaxSlippagePct (${c.risk.reduceOnlyMaxSlippagePct})`})
  }
  // live trading
  if (c.live.deadmanRefreshMs >= c.live.deadmanCountdownMs) {
    out.push({path: 'live.deadmanRefreshMs', value: c.live.deadmanRefreshMs, expected: `< live.deadmanCountdownMs (${c.live.deadmanCountdownMs})`})
  }
  if (c.live.ratePauseAt <= c.live.rateSlowAt) {
    out.push({path: 'live.ratePauseAt', value: c.live.ratePauseAt, expected: `> live.rateSlowAt (${c.live.rateSlowAt})`})
  }
  if (c.live.stormHaltAt <= c.live.stormSlowAt) {
    out.push({path: 'live.stormHaltAt', value: c.live.stormHaltAt, expected: `> live.stormSlowAt (${c.live.stormSlowAt})`})
  }
  return out
}

/** Validate an already-parsed JSON value. Pure; throws ConfigError listing every problem. */
export function parseConfig(raw: unknown, source = 'config'): MmConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw configError([{path: '', value: raw, expected: 'a JSON object'}], source)
  }
  const r = configSchema.safeParse(raw)
  if (!r.success) throw configError(issuesOf(r.error, raw), source)
  const cross = crossIssues(r.data)
  if (cross.length > 0) throw configError(cross, source)
  return stripComments(r.data)
}

/** `$comment` keys are notes for humans: validated, then dropped. */
function stripComments(c: MmConfig): MmConfig {
  const drop = <T extends object>(o: T): T => {
    const {$comment: _, ...rest} = o as T & {$comment?: string}
    return rest as T
  }
  return {strategy: drop(c.strategy), risk: drop(c.risk), fees: drop(c.fees), paper: drop(c.paper), orders: drop(c.orders), live: drop(c.live), feed: drop(c.feed), replay: drop(c.replay)}
}

export interface LoadedConfig {
  config: MmConfig
  /** absolute path of the file read, or undefined when the defaults were used */
  path: string | undefined
}

/**
 * Read and validate the config. `path` undefined: `mm.config.json` in `cwd` if present,
 * else every default. An explicit path that does not exist is an error.
 */
export function loadConfigFile(path: string | undefined, opts: {cwd?: string} = {}): LoadedConfig {
  const cwd = opts.cwd ?? process.cwd()
  let file: string
  if (path === undefined) {
    file = resolvePath(cwd, DEFAULT_CONFIG_FILE)
    if (!existsSync(file)) return {config: parseConfig({}, '(defaults)'), path: undefined}
  } else {
    file = resolvePath(cwd, path)
  }
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new ConfigError('E_CONFIG', `cannot read config ${file}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`, {
      suggestion: 'pass --config PATH to an existing JSON file (see mm.config.example.json)',
      cause: error,
    })
  }
  let raw: unknown
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''))
  } catch (error) {
    // one line, and none of the file's text: JSON.parse quotes a window of it (`"MM_API_KEY"...
    // is not valid JSON`), which for a key file passed as --config would be part of a key
    const why = (error as Error).message.replace(/,\s*(\.\.\.)?"[\s\S]*"(\.\.\.)?\s+is not valid JSON$/, '').replace(/\s+/g, ' ')
    const yaml = /\.ya?ml$/i.test(file)
    throw new ConfigError('E_CONFIG', `config ${file} is not valid JSON${yaml ? ' (config files are JSON; YAML is read by mm calibrate specs only)' : ''}: ${why}`, {
      suggestion: yaml ? 'write it as JSON (see mm.config.example.json and docs/config.md)' : 'JSON has no comments or trailing commas; use a "$comment" key for notes',
      cause: error,
    })
  }
  return {config: parseConfig(raw, file), path: file}
}

/** `loadConfigFile(path).config`. */
export function loadConfig(path: string | undefined, opts: {cwd?: string} = {}): MmConfig {
  return loadConfigFile(path, opts).config
}
