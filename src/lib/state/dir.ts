/**
 * Where state lives (SPEC.md §1): `--state-dir`, else env MM_STATE_DIR, else
 * $XDG_STATE_HOME/mm, else ~/.local/state/mm. Resolved when a command runs — never an
 * oclif flag default, which the manifest would freeze at build time — and always
 * absolute, so cron jobs and shells share it wherever they start.
 *
 * Layout: <state-dir>/<SYMBOL>/state.json (+ lock, control/), <state-dir>/runs/<id>/.
 */
import {homedir} from 'node:os'
import {isAbsolute, join, resolve} from 'node:path'
import {UsageError} from '../domain/errors.js'

export interface StateDirChoice {
  dir: string
  /** which rule chose it */
  from: 'flag' | 'env MM_STATE_DIR' | 'env XDG_STATE_HOME' | 'home'
}

export function resolveStateDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): StateDirChoice {
  if (flag !== undefined && flag !== '') return {dir: resolve(flag), from: 'flag'}
  const mm = env.MM_STATE_DIR
  if (mm !== undefined && mm !== '') return {dir: resolve(mm), from: 'env MM_STATE_DIR'}
  // the XDG spec: a relative XDG_STATE_HOME is invalid and ignored
  const xdg = env.XDG_STATE_HOME
  if (xdg !== undefined && xdg !== '' && isAbsolute(xdg)) return {dir: join(xdg, 'mm'), from: 'env XDG_STATE_HOME'}
  const home = env.HOME && isAbsolute(env.HOME) ? env.HOME : homedir()
  return {dir: join(home, '.local', 'state', 'mm'), from: 'home'}
}

/** A symbol as a directory name: upper case letters and digits only. */
export function checkSymbol(symbol: string): string {
  const s = symbol.toUpperCase()
  if (!/^[A-Z0-9]{2,30}$/.test(s)) throw new UsageError('E_SYMBOL', `--symbol ${JSON.stringify(symbol)} is not a symbol (letters and digits, e.g. ETHUSDC)`)
  return s
}

export function symbolDir(stateDir: string, symbol: string): string {
  return join(stateDir, checkSymbol(symbol))
}

export function stateFilePath(stateDir: string, symbol: string): string {
  return join(symbolDir(stateDir, symbol), 'state.json')
}
