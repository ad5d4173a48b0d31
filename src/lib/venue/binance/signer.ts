/**
 * HMAC-SHA256 request signing for Binance USDⓈ-M (FACTS.md §1.3):
 * `signature = hex(HMAC_SHA256(secret, totalParams))`, where totalParams is the query string
 * concatenated (no separator) with the request body, exactly the bytes sent; the signature
 * goes last.
 *
 * The secret lives only inside a `crypto.KeyObject` and the HMAC's two key states,
 * held in private fields: no enumerable property, `JSON.stringify` gives `{}`,
 * `util.inspect` shows neither the secret nor the key bytes, and no method returns it.
 * Signatures are returned to the gateway only to be put on the wire; see `redact()` for
 * every string that may leave the process.
 *
 * Signing is HMAC-SHA256 with the padded key blocks compressed once (hmac-sha256.ts:
 * why it is not `node:crypto`, and how it is checked against `createHmac`).
 */
import {createSecretKey, type KeyObject} from 'node:crypto'
import {inspect} from 'node:util'
import {HmacSha256} from './hmac-sha256.js'

export type ParamValue = string | number | boolean
/** Ordered request parameters: the order given is the order sent and signed. */
export type Params = Array<[string, ParamValue | undefined]>

/**
 * Encode parameters as `k=v&k=v` in the order given, skipping undefined values.
 * Values are percent-encoded (encodeURIComponent) so that non-ASCII is encoded before
 * signing as Binance requires; decimals, ids and enum values pass through unchanged.
 */
export function encodeParams(params: Params): string {
  let out = ''
  for (let i = 0; i < params.length; i++) {
    const v = params[i][1]
    if (v === undefined) continue
    if (out.length > 0) out += '&'
    out += params[i][0] + '=' + encodeValue(v)
  }
  return out
}

// fast path: our values are almost always plain ASCII tokens that need no encoding
const SAFE = /^[A-Za-z0-9._~-]*$/
function encodeValue(v: ParamValue): string {
  const s = typeof v === 'string' ? v : String(v)
  return SAFE.test(s) ? s : encodeURIComponent(s)
}

export class Credentials {
  readonly apiKey: string
  readonly #key: KeyObject
  readonly #hmac: HmacSha256

  constructor(apiKey: string, apiSecret: string) {
    this.apiKey = apiKey
    const secret = Buffer.from(apiSecret, 'utf8')
    this.#key = createSecretKey(secret)
    this.#hmac = new HmacSha256(secret)
    secret.fill(0)
  }

  /** hex HMAC-SHA256 of `payload` (the exact query + body to be sent, without the signature) */
  sign(payload: string): string {
    return this.#hmac.hex(payload)
  }

  /** The API key shown to a human: first 4 and last 4 characters. */
  get maskedKey(): string {
    const k = this.apiKey
    return k.length <= 8 ? '****' : `${k.slice(0, 4)}…${k.slice(-4)}`
  }

  /** `text` with every occurrence of the secret replaced by `<redacted>` */
  scrub(text: string): string {
    const secret = this.#key.export().toString('utf8')
    return secret.length > 0 && text.includes(secret) ? text.split(secret).join('<redacted>') : text
  }

  toJSON(): Record<string, string> {
    return {apiKey: this.maskedKey}
  }

  [inspect.custom](): string {
    return `Credentials { apiKey: '${this.maskedKey}' }`
  }
}

/** `payload&signature=<hex>`, the string to send (query or body) */
export function signPayload(creds: Credentials, payload: string): string {
  return `${payload}${payload.length > 0 ? '&' : ''}signature=${creds.sign(payload)}`
}

const SIG_RE = /(signature=)[0-9A-Fa-f]{16,}/g
const SIG_ENC_RE = /(signature%3D)[0-9A-Fa-f]{16,}/gi

/**
 * Remove anything secret-looking from text about to leave the process: `signature=<hex>`
 * (plain and URL-encoded) and, when `creds` is given, the secret itself.
 */
export function redact(text: string, creds?: Credentials): string {
  const out = text.replace(SIG_RE, '$1<redacted>').replace(SIG_ENC_RE, '$1<redacted>')
  return creds ? creds.scrub(out) : out
}
