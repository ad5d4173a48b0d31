/**
 * API keys for live trading: `--key-file PATH`, else `MM_API_KEY` + `MM_API_SECRET` from
 * the environment. A key file must not be accessible by group or others (mode & 0o077 == 0,
 * as ssh demands of private keys); it holds either JSON `{"apiKey": "…", "apiSecret": "…"}`
 * or `MM_API_KEY=…` / `MM_API_SECRET=…` lines (blank lines and `#` comments allowed).
 *
 * No error message ever quotes the secret or the file's content.
 */
import {readFileSync, statSync} from 'node:fs'
import {UsageError} from '../../domain/errors.js'
import {Credentials} from './signer.js'

const NO_KEYS_HINT = 'set MM_API_KEY and MM_API_SECRET, or pass --key-file PATH; or run with --dry-run to quote on paper without keys'
// Binance keys are 64 ASCII alphanumerics; accept any printable token without spaces
const TOKEN_RE = /^[\x21-\x7e]{8,512}$/

export interface KeySource {
  keyFile?: string
  env: Record<string, string | undefined>
  /** the hint of a missing or malformed key (default: live quote's, naming --dry-run) */
  hint?: string
}

export function loadCredentials(src: KeySource): {creds: Credentials; from: string} {
  const hint = src.hint ?? NO_KEYS_HINT
  if (src.keyFile !== undefined) return {creds: fromFile(src.keyFile, hint), from: `key file ${src.keyFile}`}
  const key = src.env.MM_API_KEY
  const secret = src.env.MM_API_SECRET
  if (!key && !secret) throw new UsageError('E_NO_KEYS', 'live trading needs an API key and secret', {suggestion: hint})
  if (!key) throw new UsageError('E_NO_KEYS', 'MM_API_SECRET is set but MM_API_KEY is not', {suggestion: hint})
  if (!secret) throw new UsageError('E_NO_KEYS', 'MM_API_KEY is set but MM_API_SECRET is not', {suggestion: hint})
  check(key, 'MM_API_KEY', hint)
  check(secret, 'MM_API_SECRET', hint)
  return {creds: new Credentials(key, secret), from: 'environment (MM_API_KEY, MM_API_SECRET)'}
}

function check(v: string, what: string, hint = NO_KEYS_HINT): void {
  if (!TOKEN_RE.test(v)) throw new UsageError('E_BAD_KEYS', `${what} is not a valid key (8-512 printable characters, no spaces)`, {suggestion: hint})
}

function fromFile(path: string, hint = NO_KEYS_HINT): Credentials {
  let mode: number
  try {
    const st = statSync(path)
    if (!st.isFile()) throw new UsageError('E_KEY_FILE', `--key-file ${path} is not a regular file`)
    mode = st.mode
  } catch (err) {
    if (err instanceof UsageError) throw err
    throw new UsageError('E_KEY_FILE', `--key-file ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, {suggestion: hint})
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new UsageError('E_KEY_FILE_MODE', `--key-file ${path} is readable or writable by group or others (mode ${(mode & 0o777).toString(8).padStart(3, '0')})`, {
      suggestion: `chmod 600 ${path}`,
    })
  }
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new UsageError('E_KEY_FILE', `--key-file ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
  }
  let key: string | undefined
  let secret: string | undefined
  const trimmed = text.trim()
  if (trimmed.startsWith('{')) {
    let j: Record<string, unknown>
    try {
      j = JSON.parse(trimmed) as Record<string, unknown>
    } catch {
      throw new UsageError('E_KEY_FILE', `--key-file ${path} is not valid JSON`, {suggestion: 'expected {"apiKey": "…", "apiSecret": "…"} or MM_API_KEY=… / MM_API_SECRET=… lines'})
    }
    key = typeof j.apiKey === 'string' ? j.apiKey : undefined
    secret = typeof j.apiSecret === 'string' ? j.apiSecret : undefined
  } else {
    for (const [i, raw] of trimmed.split(/\r?\n/).entries()) {
      const line = raw.trim()
      if (line === '' || line.startsWith('#')) continue
      const eq = line.indexOf('=')
      const name = eq > 0 ? line.slice(0, eq).trim() : ''
      const value = eq > 0 ? line.slice(eq + 1).trim().replace(/^["']|["']$/g, '') : ''
      if (name === 'MM_API_KEY') key = value
      else if (name === 'MM_API_SECRET') secret = value
      else throw new UsageError('E_KEY_FILE', `--key-file ${path} line ${i + 1}: expected MM_API_KEY=… or MM_API_SECRET=…`)
    }
  }
  if (!key || !secret) throw new UsageError('E_KEY_FILE', `--key-file ${path} must give both the API key and the secret`, {suggestion: 'expected {"apiKey": "…", "apiSecret": "…"} or MM_API_KEY=… / MM_API_SECRET=… lines'})
  check(key, `the API key in ${path}`, hint)
  check(secret, `the API secret in ${path}`, hint)
  return new Credentials(key, secret)
}
