/**
 * Typed outcomes of a signed request (FACTS.md §4).
 *
 * Every failure is a `BinanceApiError` carrying Binance's code (`venueCode`) and HTTP status,
 * and one of two outcomes:
 *  - `rejected`: definitive, the venue did not act on the request (a 4xx with a code, 429,
 *    418, -1008 throttling, a connection that was never made);
 *  - `unknown`: the request may or may not have taken effect (our timeout, a reset after
 *    sending, 408, 5xx, -1006/-1007). An order in this state is *in doubt*; the lifecycle
 *    reducer resolves it by querying its client id. Nobody may call it rejected.
 *
 * Messages never contain a query string, a body, a signature or the secret.
 */
import {VenueError} from '../../domain/errors.js'

export type Outcome = 'rejected' | 'unknown'
export type FailureKind = 'venue' | 'rate-limit' | 'banned' | 'throttled' | 'timestamp' | 'timeout' | 'transport' | 'server' | 'bad-response'

/** Binance codes the gateway and adapter act on. */
export const BinanceCode = {
  UNKNOWN: -1000,
  DISCONNECTED: -1001,
  TOO_MANY_REQUESTS: -1003,
  UNEXPECTED_RESP: -1006,
  TIMEOUT: -1007,
  THROTTLED: -1008,
  TOO_MANY_ORDERS: -1015,
  INVALID_TIMESTAMP: -1021,
  INVALID_SIGNATURE: -1022,
  INVALID_LISTEN_KEY: -1125,
  CANCEL_REJECTED: -2011,
  NO_SUCH_ORDER: -2013,
  REJECTED_MBX_KEY: -2015,
  REDUCE_ONLY_REJECT: -2022,
  DUPLICATED_CLIENT_ORDER_ID: -4116,
  GTX_ORDER_REJECT: -5022,
  ME_RECVWINDOW_REJECT: -5028,
} as const

const IN_DOUBT_CODES = new Set<number>([BinanceCode.UNKNOWN, BinanceCode.DISCONNECTED, BinanceCode.UNEXPECTED_RESP, BinanceCode.TIMEOUT])

/** Classify an HTTP answer that is not a success. Pure; table-tested. */
export function classifyHttp(status: number, code: number | undefined): {outcome: Outcome; kind: FailureKind} {
  if (code !== undefined && IN_DOUBT_CODES.has(code)) return {outcome: 'unknown', kind: 'server'}
  if (code === BinanceCode.THROTTLED) return {outcome: 'rejected', kind: 'throttled'}
  if (code === BinanceCode.INVALID_TIMESTAMP || code === BinanceCode.ME_RECVWINDOW_REJECT) return {outcome: 'rejected', kind: 'timestamp'}
  if (status === 418) return {outcome: 'rejected', kind: 'banned'}
  if (status === 429 || code === BinanceCode.TOO_MANY_REQUESTS || code === BinanceCode.TOO_MANY_ORDERS) return {outcome: 'rejected', kind: 'rate-limit'}
  if (status === 408 || status >= 500) return {outcome: 'unknown', kind: 'server'}
  return {outcome: 'rejected', kind: 'venue'}
}

/** Transport errors (undici / Node codes): was the request possibly delivered? */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT'])
export function classifyTransport(errCode: string | undefined): {outcome: Outcome; kind: FailureKind} {
  if (errCode !== undefined && NEVER_SENT.has(errCode)) return {outcome: 'rejected', kind: 'transport'}
  if (errCode === 'UND_ERR_HEADERS_TIMEOUT' || errCode === 'UND_ERR_BODY_TIMEOUT' || errCode === 'UND_ERR_ABORTED' || errCode === 'ABORT_ERR') return {outcome: 'unknown', kind: 'timeout'}
  return {outcome: 'unknown', kind: 'transport'}
}

const MM_CODE: Record<FailureKind, string> = {
  venue: 'E_VENUE_REJECTED',
  'rate-limit': 'E_VENUE_RATE_LIMITED',
  banned: 'E_VENUE_BANNED',
  throttled: 'E_VENUE_THROTTLED',
  timestamp: 'E_VENUE_TIMESTAMP',
  timeout: 'E_VENUE_TIMEOUT',
  transport: 'E_VENUE_UNREACHABLE',
  server: 'E_VENUE_SERVER',
  'bad-response': 'E_VENUE_BAD_RESPONSE',
}

export class BinanceApiError extends VenueError {
  readonly outcome: Outcome
  readonly kind: FailureKind
  /** e.g. `POST /fapi/v1/order` (never the query) */
  readonly endpoint: string
  /** Binance's `msg`, when it sent one */
  readonly venueMsg?: string
  /** from Retry-After on 418/429, ms */
  readonly retryAfterMs?: number

  constructor(o: {outcome: Outcome; kind: FailureKind; endpoint: string; message: string; venueCode?: number; venueMsg?: string; httpStatus?: number; retryAfterMs?: number; suggestion?: string}) {
    super(MM_CODE[o.kind], o.message, {venueCode: o.venueCode, httpStatus: o.httpStatus, suggestion: o.suggestion})
    this.outcome = o.outcome
    this.kind = o.kind
    this.endpoint = o.endpoint
    this.venueMsg = o.venueMsg
    this.retryAfterMs = o.retryAfterMs
  }

  /** the request definitely did nothing */
  get definitive(): boolean {
    return this.outcome === 'rejected'
  }

  /** the venue says no such order exists (cancel -2011, query -2013) */
  get noSuchOrder(): boolean {
    return this.outcome === 'rejected' && (this.venueCode === BinanceCode.CANCEL_REJECTED || this.venueCode === BinanceCode.NO_SUCH_ORDER)
  }
}

export function isBinanceApiError(e: unknown): e is BinanceApiError {
  return e instanceof BinanceApiError
}

/**
 * Ask once more what a start-up or stop call got no clear answer to: a 5xx, -1000/-1001,
 * a timeout (outcome unknown) or -1008 (server busy), up to 3 more times, 250 ms, 500 ms,
 * 1 s apart. Every call passed through here is idempotent (reads, cancel-all, the
 * countdown, a listenKey): one transient venue error must not stop the start (found by the
 * 5xx proof against mm sim). Any other error is thrown at once.
 */
export async function idempotentRetry<T>(call: () => Promise<T>, attempts = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call()
    } catch (err) {
      const transient = err instanceof BinanceApiError && (err.outcome === 'unknown' || err.kind === 'throttled')
      if (!transient || i >= attempts) throw err
      await new Promise((r) => setTimeout(r, 250 * 2 ** (i - 1)))
    }
  }
}
