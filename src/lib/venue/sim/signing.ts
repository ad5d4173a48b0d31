/**
 * Request authentication of `mm sim`, as Binance USDⓈ-M checks it (FACTS.md §1.2–§1.4):
 *
 *  - `X-MBX-APIKEY` must be the sim's key (`-2015` otherwise);
 *  - SIGNED endpoints: `signature = hex(HMAC_SHA256(secret, totalParams))`, where
 *    `totalParams` is the query string concatenated with the body (no separator) without
 *    the `signature` parameter, which must come last in whichever part carries it;
 *    a mismatch is `-1022`;
 *  - `timestamp` is required; the request is processed only when
 *    `timestamp < serverTime + 1000 && serverTime − timestamp ≤ recvWindow`
 *    (recvWindow defaults to 5000), else `-1021`;
 *  - WebSocket API requests sign all params but `signature`, sorted by name, `k=v&…`.
 *
 * The secret never leaves this module's callers: errors name the problem, not the value.
 */
import {createHmac, timingSafeEqual} from 'node:crypto'

/** Binance's documented example key pair (FACTS.md §1.5): the sim's default when none is given. */
export const SIM_TEST_API_KEY = 'dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83'
export const SIM_TEST_API_SECRET = '2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9'

export class ApiError extends Error {
  constructor(readonly code: number, msg: string, readonly status = 400, readonly headers: Record<string, string> = {}) {
    super(msg)
  }

  body(): {code: number; msg: string} {
    return {code: this.code, msg: this.message}
  }
}

export const Err = {
  badKey: () => new ApiError(-2015, 'Invalid API-key, IP, or permissions for action.', 401),
  badSignature: () => new ApiError(-1022, 'Signature for this request is not valid.'),
  mandatory: (name: string) => new ApiError(-1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`),
  notRequired: (name: string) => new ApiError(-1106, `Parameter '${name}' sent when not required.`),
  invalidParam: (name: string) => new ApiError(-1130, `Data sent for parameter '${name}' is not valid.`),
  timestampOutside: () => new ApiError(-1021, 'Timestamp for this request is outside of the recvWindow.'),
  timestampAhead: () => new ApiError(-1021, "Timestamp for this request was 1000ms ahead of the server's time."),
  badSymbol: () => new ApiError(-1121, 'Invalid symbol.'),
}

export function hmacHex(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex')
}

/** True when `signature` (hex, any case) is the HMAC of `payload` under `secret`. */
export function signatureMatches(secret: string, payload: string, signature: string): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) return false
  const want = Buffer.from(hmacHex(secret, payload), 'hex')
  return timingSafeEqual(want, Buffer.from(signature.toLowerCase(), 'hex'))
}

/** Split off a trailing `signature=` parameter; undefined when the part does not end with one. */
function splitSignature(part: string): {rest: string; signature: string} | undefined {
  const m = /(^|&)signature=([^&]*)$/.exec(part)
  if (!m) return undefined
  return {rest: part.slice(0, m.index), signature: decodeURIComponent(m[2])}
}

export interface RawRequest {
  /** the query string as sent, without `?` */
  query: string
  /** the x-www-form-urlencoded body as sent ('' when none) */
  body: string
}

/** Parameters of a request: query and body merged, the query's value winning (FACTS §1.2). */
export function requestParams(r: RawRequest): Map<string, string> {
  const out = new Map<string, string>()
  for (const [k, v] of new URLSearchParams(r.body)) out.set(k, v)
  for (const [k, v] of new URLSearchParams(r.query)) out.set(k, v)
  return out
}

/**
 * The signature a request carries and the payload it must sign, or an ApiError:
 * -1102 when there is no signature, -1022 when it is not the last parameter of its part.
 */
export function signedPayload(r: RawRequest): {payload: string; signature: string} {
  const inQuery = splitSignature(r.query)
  if (inQuery) return {payload: inQuery.rest + r.body, signature: inQuery.signature}
  const inBody = splitSignature(r.body)
  if (inBody) return {payload: r.query + inBody.rest, signature: inBody.signature}
  if (/(^|&)signature=/.test(r.query) || /(^|&)signature=/.test(r.body)) throw Err.badSignature()
  throw Err.mandatory('signature')
}

/** Verify a REST request's signature; throws -1022 / -1102. Returns the signature (for introspection). */
export function verifyRest(secret: string, r: RawRequest): string {
  const {payload, signature} = signedPayload(r)
  if (!signatureMatches(secret, payload, signature)) throw Err.badSignature()
  return signature
}

/** The WebSocket API payload: every param but `signature`, sorted by name, `k=v&…` (FACTS §1.3). */
export function wsApiPayload(params: Record<string, unknown>): string {
  return Object.keys(params)
    .filter((k) => k !== 'signature')
    .sort()
    .map((k) => `${k}=${String(params[k])}`)
    .join('&')
}

/** Check `timestamp` / `recvWindow` against the server time (FACTS §1.4). */
export function checkTimestamp(params: Map<string, string>, serverTime: number): void {
  const ts = params.get('timestamp')
  if (ts === undefined || !/^\d{1,16}$/.test(ts)) throw Err.mandatory('timestamp')
  const rw = params.get('recvWindow')
  if (rw !== undefined && (!/^\d{1,16}$/.test(rw) || Number(rw) > 60_000 || Number(rw) <= 0)) throw Err.invalidParam('recvWindow')
  const recvWindow = rw === undefined ? 5000 : Number(rw)
  const t = Number(ts)
  if (t >= serverTime + 1000) throw Err.timestampAhead()
  if (serverTime - t > recvWindow) throw Err.timestampOutside()
}
