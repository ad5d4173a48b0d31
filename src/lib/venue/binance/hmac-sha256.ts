/**
 * HMAC-SHA256 (RFC 2104 over SHA-256 of FIPS 180-4) with the key's two padded blocks
 * compressed once: signing a message costs the compression of its own blocks plus one
 * block for the outer hash, and nothing else — no OpenSSL context, no Hmac stream, no
 * buffer per call. Why not `node:crypto`: a request is signed about once a second, after
 * the rest of the process has run through the CPU caches; a native HMAC then took 50–100 µs
 * (createHmac, or two one-shot `crypto.hash` calls) where these few hundred bytes of
 * optimised JavaScript take ~15 µs (bench/tick-to-order.bench.ts, docs/live.md). The
 * output is checked byte for byte against `createHmac('sha256', key)` and Binance's
 * published vectors (test/venue/signer.test.ts).
 *
 * The key material lives only in private fields (the two hash states after the padded key
 * blocks); nothing here returns or prints it.
 */

/** SHA-256 round constants (FIPS 180-4 §4.2.2) */
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
  0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
  0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
  0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
])

/** initial hash value (FIPS 180-4 §5.3.3) */
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]

const BLOCK = 64
const HEX = '0123456789abcdef'

/** the message schedule, shared (single-threaded, never re-entered) */
const W = new Int32Array(64)

/** Compress the 64-byte block at `b[o..o+64)` into the state `H` (FIPS 180-4 §6.2.2). */
function compress(H: Int32Array, b: Uint8Array, o: number): void {
  for (let i = 0; i < 16; i++) {
    const j = o + 4 * i
    W[i] = (b[j] << 24) | (b[j + 1] << 16) | (b[j + 2] << 8) | b[j + 3]
  }
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15]
    const y = W[i - 2]
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0
  }
  let a = H[0]
  let b1 = H[1]
  let c = H[2]
  let d = H[3]
  let e = H[4]
  let f = H[5]
  let g = H[6]
  let h = H[7]
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
    const t2 = (S0 + ((a & b1) ^ (a & c) ^ (b1 & c))) | 0
    h = g
    g = f
    f = e
    e = (d + t1) | 0
    d = c
    c = b1
    b1 = a
    a = (t1 + t2) | 0
  }
  H[0] = (H[0] + a) | 0
  H[1] = (H[1] + b1) | 0
  H[2] = (H[2] + c) | 0
  H[3] = (H[3] + d) | 0
  H[4] = (H[4] + e) | 0
  H[5] = (H[5] + f) | 0
  H[6] = (H[6] + g) | 0
  H[7] = (H[7] + h) | 0
}

/**
 * Finish a hash whose state `H` has already absorbed one 64-byte block: `m[0..n)` are
 * the message bytes after it. Pads `m` in place (it must have room for n + 72 bytes).
 */
function finish(H: Int32Array, m: Uint8Array, n: number): void {
  let len = n
  m[len++] = 0x80
  while (len % BLOCK !== 56) m[len++] = 0
  // length in bits of everything hashed (the key block included), 64-bit big-endian
  const bytes = BLOCK + n
  const hi = Math.floor(bytes / 0x20000000) // bytes × 8 / 2^32
  const lo = (bytes * 8) >>> 0
  m[len++] = hi >>> 24
  m[len++] = hi >>> 16
  m[len++] = hi >>> 8
  m[len++] = hi
  m[len++] = lo >>> 24
  m[len++] = lo >>> 16
  m[len++] = lo >>> 8
  m[len++] = lo
  for (let o = 0; o < len; o += BLOCK) compress(H, m, o)
}

export class HmacSha256 {
  /** state after (K ⊕ ipad) */
  readonly #inner = new Int32Array(8)
  /** state after (K ⊕ opad) */
  readonly #outer = new Int32Array(8)
  /** the message bytes and their padding */
  #buf = new Uint8Array(1024)
  readonly #h = new Int32Array(8)
  readonly #digest = new Uint8Array(BLOCK)

  /** `key`: the secret's bytes (not kept; the caller may clear them) */
  constructor(key: Uint8Array) {
    const k = new Uint8Array(BLOCK)
    if (key.length > BLOCK) {
      // RFC 2104: a key longer than the block is hashed first
      const s = new Int32Array(IV)
      const m = new Uint8Array(key.length + 72)
      m.set(key)
      // hash without a pre-absorbed block: absorb the first block here, finish the rest
      compress(s, m, 0)
      finish(s, m.subarray(BLOCK), key.length - BLOCK)
      for (let i = 0; i < 8; i++) {
        k[4 * i] = s[i] >>> 24
        k[4 * i + 1] = s[i] >>> 16
        k[4 * i + 2] = s[i] >>> 8
        k[4 * i + 3] = s[i]
      }
      m.fill(0)
    } else {
      k.set(key)
    }
    const pad = new Uint8Array(BLOCK)
    for (let i = 0; i < BLOCK; i++) pad[i] = k[i] ^ 0x36
    this.#inner.set(IV)
    compress(this.#inner, pad, 0)
    for (let i = 0; i < BLOCK; i++) pad[i] = k[i] ^ 0x5c
    this.#outer.set(IV)
    compress(this.#outer, pad, 0)
    pad.fill(0)
    k.fill(0)
  }

  /** hex HMAC-SHA256 of `message` (its UTF-8 bytes) */
  hex(message: string): string {
    const n = this.#load(message)
    const H = this.#h
    H.set(this.#inner)
    finish(H, this.#buf, n)
    const d = this.#digest
    for (let i = 0; i < 8; i++) {
      d[4 * i] = H[i] >>> 24
      d[4 * i + 1] = H[i] >>> 16
      d[4 * i + 2] = H[i] >>> 8
      d[4 * i + 3] = H[i]
    }
    H.set(this.#outer)
    finish(H, d, 32)
    let out = ''
    for (let i = 0; i < 8; i++) {
      const v = H[i]
      for (let s = 28; s >= 0; s -= 4) out += HEX[(v >>> s) & 15]
    }
    return out
  }

  /** The message's UTF-8 bytes into the buffer (grown when needed, with room for the padding); returns their count. */
  #load(message: string): number {
    const len = message.length
    if (len * 3 + 72 > this.#buf.length) this.#buf = new Uint8Array(len * 3 + 72)
    const buf = this.#buf
    for (let i = 0; i < len; i++) {
      const c = message.charCodeAt(i)
      if (c >= 0x80) return Buffer.from(buf.buffer, buf.byteOffset, buf.length).write(message, 0, 'utf8')
      buf[i] = c
    }
    return len
  }
}
