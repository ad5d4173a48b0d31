/**
 * A small JSON-over-HTTP client for Binance-compatible venues (undici 7), with the venue's
 * HTTP status semantics (FACTS.md §4) mapped onto VenueError and a bounded retry policy:
 *
 *  - network errors, 408 and 5xx: retried with capped exponential backoff + jitter;
 *  - 418 / 429: wait `Retry-After` seconds when the header is present (fapi does not
 *    document it, spot does), else the same backoff; a wait longer than `maxRetryAfterMs`
 *    is not slept through but reported at once (an IP ban lasts minutes to days);
 *  - other 4xx: never retried; the body's `{code, msg}` becomes the VenueError.
 *
 * The budget is both an attempt count and a total elapsed time; whichever runs out first
 * ends the retries with the last error. Weight headers (`X-MBX-USED-WEIGHT-1M`, …) are read
 * case-insensitively and kept in `usedWeight`.
 */
import {Agent, request} from 'undici'
import {Rng} from '../../domain/rng.js'
import {VenueError} from '../../domain/errors.js'

export interface RetryPolicy {
  /** attempts in total, the first included (1 = no retry) */
  maxAttempts: number
  /** first backoff delay, ms */
  baseDelayMs: number
  /** cap of one backoff delay, ms */
  maxDelayMs: number
  /** total time budget across all attempts and waits, ms */
  budgetMs: number
  /** longest Retry-After (418/429) we are willing to sleep through, ms */
  maxRetryAfterMs: number
}

export const DEFAULT_RETRY: RetryPolicy = {maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 5_000, budgetMs: 30_000, maxRetryAfterMs: 10_000}

/** Deterministic random floats in [0, 1) for jitter in tests and the sim: the project's one PRNG (domain/rng.ts). */
export function seededRandom(seed: number): () => number {
  const r = new Rng(seed)
  return () => r.float()
}

/** Capped exponential backoff with "equal jitter" (the one shared implementation, ../backoff.ts). */
export {backoffDelay} from '../backoff.js'
import {backoffDelay} from '../backoff.js'

/** Parse a Retry-After header: delta-seconds or an HTTP date. Returns ms, or undefined. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value === '') return undefined
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value.trim()) * 1000)
  const t = Date.parse(value)
  if (Number.isNaN(t)) return undefined
  return Math.max(0, t - nowMs)
}

export type Headers = Record<string, string | string[] | undefined>

/** Case-insensitive header lookup (undici lower-cases, proxies and docs do not). */
export function header(headers: Headers, name: string): string | undefined {
  const want = name.toLowerCase()
  for (const k of Object.keys(headers)) {
    if (k.toLowerCase() === want) {
      const v = headers[k]
      return Array.isArray(v) ? v[0] : v
    }
  }
  return undefined
}

/** All `X-MBX-USED-WEIGHT-<n><unit>` headers, keyed by interval in upper case ("1M"). */
export function usedWeights(headers: Headers): Record<string, number> {
  const out: Record<string, number> = {}
  for (const k of Object.keys(headers)) {
    const lk = k.toLowerCase()
    if (lk.startsWith('x-mbx-used-weight-')) {
      const raw = headers[k]
      const n = Number(Array.isArray(raw) ? raw[0] : raw)
      if (Number.isFinite(n)) out[lk.slice('x-mbx-used-weight-'.length).toUpperCase()] = n
    }
  }
  return out
}

export interface HttpClientOptions {
  baseUrl: string
  retry?: Partial<RetryPolicy>
  /** per-request timeout, ms (headers and body) */
  timeoutMs?: number
  random?: () => number
  sleep?: (ms: number) => Promise<void>
  now?: () => number
  /** called before each retry wait (telemetry, tests) */
  onRetry?: (info: {attempt: number; delayMs: number; error: VenueError}) => void
  userAgent?: string
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export class HttpClient {
  readonly baseUrl: string
  readonly retry: RetryPolicy
  /** latest used-weight headers seen, e.g. {"1M": 23} */
  usedWeight: Record<string, number> = {}
  /** retries performed over the client's life */
  retries = 0
  private readonly timeoutMs: number
  private readonly random: () => number
  private readonly sleep: (ms: number) => Promise<void>
  private readonly now: () => number
  private readonly onRetry?: HttpClientOptions['onRetry']
  private readonly agent: Agent
  private readonly userAgent: string
  /** aborted by close(): in-flight requests and retry waits end at once */
  private readonly stopper = new AbortController()

  constructor(opts: HttpClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '')
    this.retry = {...DEFAULT_RETRY, ...opts.retry}
    this.timeoutMs = opts.timeoutMs ?? 10_000
    this.random = opts.random ?? Math.random
    this.sleep = opts.sleep ?? defaultSleep
    this.now = opts.now ?? Date.now
    this.onRetry = opts.onRetry
    this.userAgent = opts.userAgent ?? 'mm'
    this.agent = new Agent({connect: {timeout: this.timeoutMs}, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs})
  }

  /** GET a JSON document; retried per the policy (public GETs are idempotent). */
  async getJson<T = unknown>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const qs = Object.entries(query)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&')
    const url = `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`
    const started = this.now()
    let last: VenueError | undefined
    for (let attempt = 0; attempt < this.retry.maxAttempts; attempt++) {
      let waitMs: number | undefined
      if (this.stopper.signal.aborted) throw new VenueError('E_STOPPED', `request to ${url} abandoned: the client was closed`)
      try {
        return await this.once<T>(url)
      } catch (err) {
        if (!(err instanceof RetryableError)) throw err
        last = err.error
        waitMs = err.retryAfterMs
        if (waitMs !== undefined && waitMs > this.retry.maxRetryAfterMs) {
          throw withDetails(last, {retryAfterMs: waitMs, attempts: attempt + 1})
        }
      }
      if (attempt + 1 >= this.retry.maxAttempts) break
      const delay = waitMs ?? backoffDelay(attempt, this.retry.baseDelayMs, this.retry.maxDelayMs, this.random)
      if (this.now() - started + delay > this.retry.budgetMs) break
      this.retries++
      this.onRetry?.({attempt: attempt + 1, delayMs: delay, error: last})
      await this.abortableSleep(delay)
    }
    const e = last!
    throw new VenueError(e.code, `${e.message} (gave up after the retry budget: ${this.retry.maxAttempts} attempts / ${this.retry.budgetMs} ms)`, {
      venueCode: e.venueCode,
      httpStatus: e.httpStatus,
      suggestion: e.suggestion,
      details: {...e.details, url},
      cause: e,
    })
  }

  private async once<T>(url: string): Promise<T> {
    let res: Awaited<ReturnType<typeof request>>
    try {
      res = await request(url, {method: 'GET', dispatcher: this.agent, signal: this.stopper.signal, headers: {'user-agent': this.userAgent, accept: 'application/json'}})
    } catch (err) {
      if (this.stopper.signal.aborted) throw new VenueError('E_STOPPED', `request to ${url} abandoned: the client was closed`)
      const code = (err as {code?: string}).code ?? 'ERR'
      throw new RetryableError(
        new VenueError('E_VENUE_UNREACHABLE', `cannot reach ${new URL(url).origin}: ${code} ${(err as Error).message}`.trim(), {
          suggestion: 'check the network and --rest-url',
          cause: err,
        }),
      )
    }
    const headers = res.headers as Headers
    const w = usedWeights(headers)
    if (Object.keys(w).length > 0) this.usedWeight = w
    let text: string
    try {
      text = await res.body.text()
    } catch (err) {
      throw new RetryableError(new VenueError('E_VENUE_UNREACHABLE', `reading the response of ${url} failed: ${(err as Error).message}`, {cause: err}))
    }
    const status = res.statusCode
    if (status >= 200 && status < 300) {
      try {
        return JSON.parse(text) as T
      } catch {
        throw new VenueError('E_VENUE_BAD_RESPONSE', `${url} answered ${status} with a body that is not JSON`, {httpStatus: status})
      }
    }
    const body = parseErrorBody(text)
    const what = body ? `${body.msg} (code ${body.code})` : text.slice(0, 200).replace(/\s+/g, ' ').trim() || 'no body'
    if (status === 429 || status === 418) {
      const ra = parseRetryAfter(header(headers, 'retry-after'), this.now())
      const err = new VenueError(status === 418 ? 'E_VENUE_BANNED' : 'E_VENUE_RATE_LIMITED', `venue answered HTTP ${status}: ${what}`, {
        httpStatus: status,
        venueCode: body?.code,
        suggestion: status === 418 ? 'the IP is banned for a while; wait before retrying' : 'slow down; the request weight limit was hit',
        details: ra === undefined ? undefined : {retryAfterMs: ra},
      })
      throw new RetryableError(err, ra)
    }
    if (status >= 500 || status === 408) {
      throw new RetryableError(new VenueError('E_VENUE_SERVER', `venue answered HTTP ${status}: ${what}`, {httpStatus: status, venueCode: body?.code}))
    }
    throw new VenueError('E_VENUE_REJECTED', `venue answered HTTP ${status}: ${what}`, {httpStatus: status, venueCode: body?.code})
  }

  /** Wait `ms`, or less when the client is closed meanwhile. */
  private async abortableSleep(ms: number): Promise<void> {
    if (this.stopper.signal.aborted) return
    if (this.sleep !== defaultSleep) {
      await this.sleep(ms)
      return
    }
    const signal = this.stopper.signal
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t)
        signal.removeEventListener('abort', done)
        resolve()
      }
      const t = setTimeout(done, ms)
      signal.addEventListener('abort', done, {once: true})
    })
  }

  /** Close at once: in-flight requests (a call that never answers) and retry waits are abandoned. */
  async close(): Promise<void> {
    this.stopper.abort()
    await this.agent.destroy()
  }
}

class RetryableError extends Error {
  constructor(
    readonly error: VenueError,
    readonly retryAfterMs?: number,
  ) {
    super(error.message)
  }
}

function withDetails(e: VenueError, details: Record<string, unknown>): VenueError {
  return new VenueError(e.code, e.message, {venueCode: e.venueCode, httpStatus: e.httpStatus, suggestion: e.suggestion, details: {...e.details, ...details}, cause: e})
}

function parseErrorBody(text: string): {code: number; msg: string} | undefined {
  try {
    const j = JSON.parse(text) as {code?: unknown; msg?: unknown}
    if (typeof j.code === 'number' && typeof j.msg === 'string') return {code: j.code, msg: j.msg}
  } catch {
    /* not JSON */
  }
  return undefined
}
