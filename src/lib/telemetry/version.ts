/** mm's version, from the package.json shipped beside dist/ (installed or in a clone). */
import {readFileSync} from 'node:fs'

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {version?: unknown}
    return typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    return 'unknown'
  }
}

export const MM_VERSION = readVersion()
