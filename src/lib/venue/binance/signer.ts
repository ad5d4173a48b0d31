/**
 * HMAC-SHA256 request signing for Binance USDⓈ-M (FACTS.md §1.3):
 * `signature = hex(HMAC_SHA256(secret, totalParams))`, where totalParams is the query string
 * concatenated (no separator) with the request body, exactly the bytes sent; the signature
 * goes last.
 *
 * The secret lives only inside a `crypto.KeyObject` and the HMAC's two padded key blocks,
 * held in private fields: no enumerable property, `JSON.stringify` gives `{}`,
 * `util.inspect` shows neither the secret nor the key bytes, and no method returns it.
 * Signatures are returned to the gateway only to be put on the wire; see `redact()` for
 * every string that may leave the process.
 *
 * Signing is HMAC-SHA256 as RFC 2104 defines it, `H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m))`, with
 * the padded key blocks prepared once and two one-shot `crypto.hash` calls per request
 * over buffers re-used from call to call: no Hmac object (a stream) per request. It is
 * byte-identical to `createHmac('sha256', secret)` (test/venue/signer.test.ts: Binance's
 * published vectors, and random keys and messages against createHmac).
 */
import {createHash, createSecretKey, hash, type KeyObject} from 'node:crypto'
import {inspect} from 'node:util'

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

/** SHA-256's block size, bytes: the HMAC key is padded (or first hashed) to it */
const BLOCK = 64
/** SHA-256's digest size, bytes */
const DIGEST = 32

export class Credentials {
  readonly apiKey: string
  readonly #key: KeyObject
  /** (K ⊕ ipad) followed by room for the message: the inner hash's input */
  #inner: Buffer
  /** (K ⊕ opad) followed by the inner digest: the outer hash's input */
  readonly #outer: Buffer

  constructor(apiKey: string, apiSecret: string) {
    this.apiKey = apiKey
    const secret = Buffer.from(apiSecret, 'utf8')
    this.#key = createSecretKey(secret)
    // RFC 2104: a key longer than the block is hashed first; then zero-padded to the block
    const k = Buffer.alloc(BLOCK)
    ;(secret.length > BLOCK ? createHash('sha256').update(secret).digest() : secret).copy(k)
    this.#inner = Buffer.alloc(BLOCK + 1024)
    this.#outer = Buffer.alloc(BLOCK + DIGEST)
    for (let i = 0; i < BLOCK; i++) {
      this.#inner[i] = k[i] ^ 0x36
      this.#outer[i] = k[i] ^ 0x5c
    }
    k.fill(0)
    secret.fill(0)
  }

  /** hex HMAC-SHA256 of `payload` (the exact query + body to be sent, without the signature) */
  sign(payload: string): string {
    const n = Buffer.byteLength(payload, 'utf8')
    if (BLOCK + n > this.#inner.length) {
      const grown = Buffer.alloc(BLOCK + 2 * n)
      this.#inner.copy(grown, 0, 0, BLOCK)
      this.#inner.fill(0)
      this.#inner = grown
    }
    this.#inner.write(payload, BLOCK, n, 'utf8')
    const innerDigest = hash('sha256', this.#inner.subarray(0, BLOCK + n), 'buffer')
    innerDigest.copy(this.#outer, BLOCK)
    return hash('sha256', this.#outer, 'hex')
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
