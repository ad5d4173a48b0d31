import {chmodSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createHmac} from 'node:crypto'
import {inspect} from 'node:util'
import {describe, expect, it} from 'vitest'
import {MmError} from '../../src/lib/domain/errors.js'
import {loadCredentials} from '../../src/lib/venue/binance/keys.js'
import {Credentials, encodeParams, redact, signPayload} from '../../src/lib/venue/binance/signer.js'

// FACTS.md §1.5: Binance's published vectors
const FUT_KEY = 'dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83'
const FUT_SECRET = '2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9'
const SPOT_KEY = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A'
const SPOT_SECRET = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j'

describe('HMAC-SHA256 signer (published vectors)', () => {
  it('futures example 1/2: query string or body', () => {
    const c = new Credentials(FUT_KEY, FUT_SECRET)
    const payload = encodeParams([
      ['symbol', 'BTCUSDT'],
      ['side', 'BUY'],
      ['type', 'LIMIT'],
      ['quantity', '1'],
      ['price', '9000'],
      ['timeInForce', 'GTC'],
      ['recvWindow', 5000],
      ['timestamp', 1591702613943],
    ])
    expect(payload).toBe('symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943')
    expect(c.sign(payload)).toBe('3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9')
    expect(signPayload(c, payload)).toBe(`${payload}&signature=3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9`)
  })

  it('futures example 3: query and body concatenated without a separator (as published, stray space included)', () => {
    const c = new Credentials(FUT_KEY, FUT_SECRET)
    expect(c.sign('symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC' + 'quantity=1&price=9000&recvWindow=5000&timestamp= 1591702613943')).toBe('f9d0ae5e813ef6ccf15c2b5a434047a0181cb5a342b903b367ca6d27a66e36f2')
  })

  it('spot ASCII vector and the non-ASCII symbol percent-encoded before signing', () => {
    const c = new Credentials(SPOT_KEY, SPOT_SECRET)
    expect(c.sign('symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559')).toBe(
      'c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71',
    )
    const payload = encodeParams([
      ['symbol', '１２３４５６'],
      ['side', 'BUY'],
      ['type', 'LIMIT'],
      ['timeInForce', 'GTC'],
      ['quantity', '1'],
      ['price', '0.1'],
      ['recvWindow', 5000],
      ['timestamp', 1499827319559],
    ])
    expect(payload).toBe('symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559')
    expect(c.sign(payload)).toBe('e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3')
  })

  it('equals createHmac for every message length across the padding boundaries, keys shorter than, equal to and longer than the 64-byte block, and non-ASCII text', () => {
    // a fixed-seed generator: the same keys and messages every run
    let x = 0x2545f491
    const rnd = (n: number): number => {
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      return (x >>> 0) % n
    }
    const ascii = (len: number): string => {
      let s = ''
      for (let i = 0; i < len; i++) s += String.fromCharCode(32 + rnd(95))
      return s
    }
    const ref = (key: string, m: string) => createHmac('sha256', key).update(m).digest('hex')
    // one key: every length from 0 to 300 bytes (block and padding edges: 55, 56, 63, 64, 119, 120, …), signed one after another on one object
    const c = new Credentials('k', FUT_SECRET)
    for (let len = 0; len <= 300; len++) {
      const m = ascii(len)
      expect(c.sign(m)).toBe(ref(FUT_SECRET, m))
    }
    // keys of many lengths (a key over 64 bytes is hashed first), messages that outgrow the buffer and shrink again
    for (const kl of [0, 1, 31, 32, 55, 56, 63, 64, 65, 100, 119, 120, 127, 128, 129, 200]) {
      const key = ascii(kl)
      const k = new Credentials('k', key)
      for (const len of [5, 1023, 1024, 1025, 4000, 70, 9000, 0]) {
        const m = ascii(len)
        expect(k.sign(m)).toBe(ref(key, m))
      }
    }
    // UTF-8: two-, three- and four-byte characters in the key and the message
    for (const [key, m] of [['clé-ключ-🔑', 'symbol=１２３４５６&é=ü'], [FUT_SECRET, `${ascii(40)}€${ascii(70)}😀${ascii(3)}`], ['€'.repeat(30), '😀'.repeat(700)]]) {
      expect(new Credentials('k', key).sign(m)).toBe(ref(key, m))
    }
  })

  it('encodes in the order given, skips undefined, encodes JSON lists', () => {
    expect(encodeParams([['b', 1], ['a', undefined], ['c', true], ['l', '["x","y"]']])).toBe('b=1&c=true&l=%5B%22x%22%2C%22y%22%5D')
    expect(encodeParams([])).toBe('')
  })

  it('never shows the secret: JSON, inspect, String, masked key', () => {
    const c = new Credentials(FUT_KEY, FUT_SECRET)
    for (const s of [JSON.stringify(c), inspect(c, {showHidden: true, depth: 10}), String(c), JSON.stringify({c}), inspect({c})]) {
      expect(s).not.toContain(FUT_SECRET)
      expect(s).not.toContain(FUT_KEY)
    }
    expect(c.maskedKey).toBe('dbef…cc83')
    expect(Object.keys(c)).toEqual(['apiKey'])
  })

  it('redacts signatures (plain and URL-encoded) and the secret', () => {
    const c = new Credentials(FUT_KEY, FUT_SECRET)
    const sig = c.sign('a=1')
    expect(redact(`x?a=1&signature=${sig} y`, c)).toBe('x?a=1&signature=<redacted> y')
    expect(redact(`x?a%3D1%26signature%3D${sig}`, c)).toBe('x?a%3D1%26signature%3D<redacted>')
    expect(redact(`oops ${FUT_SECRET}!`, c)).toBe('oops <redacted>!')
  })
})

describe('keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-keys-'))
  const file = (name: string, text: string, mode: number) => {
    const p = join(dir, name)
    writeFileSync(p, text)
    chmodSync(p, mode)
    return p
  }
  const fail = (f: () => unknown): MmError => {
    try {
      f()
    } catch (err) {
      return err as MmError
    }
    throw new Error('did not throw')
  }

  it('reads MM_API_KEY / MM_API_SECRET', () => {
    const {creds, from} = loadCredentials({env: {MM_API_KEY: FUT_KEY, MM_API_SECRET: FUT_SECRET}})
    expect(creds.apiKey).toBe(FUT_KEY)
    expect(creds.sign('a=1')).toBe(new Credentials(FUT_KEY, FUT_SECRET).sign('a=1'))
    expect(from).toContain('environment')
  })

  it('a missing key is a usage error naming --dry-run, never the secret', () => {
    const e1 = fail(() => loadCredentials({env: {}}))
    expect([e1.code, e1.exitCode]).toEqual(['E_NO_KEYS', 2])
    expect(e1.suggestion).toContain('--dry-run')
    const e2 = fail(() => loadCredentials({env: {MM_API_SECRET: FUT_SECRET}}))
    expect(e2.message).toBe('MM_API_SECRET is set but MM_API_KEY is not')
    expect(`${e2.message} ${e2.suggestion}`).not.toContain(FUT_SECRET)
    const e3 = fail(() => loadCredentials({env: {MM_API_KEY: FUT_KEY, MM_API_SECRET: 'has space in it'}}))
    expect(e3.code).toBe('E_BAD_KEYS')
    expect(e3.message).not.toContain('has space')
  })

  it('key file: JSON or KEY=VALUE lines, mode 0600 only', () => {
    const j = file('k.json', JSON.stringify({apiKey: FUT_KEY, apiSecret: FUT_SECRET}), 0o600)
    expect(loadCredentials({keyFile: j, env: {}}).creds.apiKey).toBe(FUT_KEY)
    const l = file('k.env', `# keys\nMM_API_KEY=${SPOT_KEY}\nMM_API_SECRET="${SPOT_SECRET}"\n`, 0o400)
    const c = loadCredentials({keyFile: l, env: {MM_API_KEY: FUT_KEY, MM_API_SECRET: FUT_SECRET}}).creds
    expect(c.apiKey).toBe(SPOT_KEY)
    expect(c.sign('symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559')).toBe('c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71')
    for (const mode of [0o640, 0o604, 0o620, 0o644]) {
      const p = file(`open-${mode.toString(8)}.json`, JSON.stringify({apiKey: FUT_KEY, apiSecret: FUT_SECRET}), mode)
      const e = fail(() => loadCredentials({keyFile: p, env: {}}))
      expect([e.code, e.exitCode, e.suggestion]).toEqual(['E_KEY_FILE_MODE', 2, `chmod 600 ${p}`])
      expect(e.message).toBe(`--key-file ${p} is readable or writable by group or others (mode ${mode.toString(8)})`)
    }
    const bad = file('bad.env', `MM_API_KEY=${FUT_KEY}\nSECRET=${FUT_SECRET}\n`, 0o600)
    const e = fail(() => loadCredentials({keyFile: bad, env: {}}))
    expect(e.message).toBe(`--key-file ${bad} line 2: expected MM_API_KEY=… or MM_API_SECRET=…`)
    expect(e.message).not.toContain(FUT_SECRET)
    const missing = fail(() => loadCredentials({keyFile: join(dir, 'nope'), env: {}}))
    expect(missing.message).toBe(`--key-file ${join(dir, 'nope')} cannot be read: ENOENT`)
    const half = file('half.json', JSON.stringify({apiKey: FUT_KEY}), 0o600)
    expect(fail(() => loadCredentials({keyFile: half, env: {}})).message).toBe(`--key-file ${half} must give both the API key and the secret`)
  })
})
