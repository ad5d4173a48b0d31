/**
 * Real Binance data lives in ../shared/data beside the checkout (CI has it too).
 * Tests that need it call sharedData(): when it is absent they fail with a message that
 * says so, never pass silently.
 */
import {existsSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const sharedDataDir = process.env.MM_SHARED_DATA ?? resolve(repoRoot, '../shared/data')

export function sharedData(rel: string): string {
  const p = resolve(sharedDataDir, rel)
  if (!existsSync(p)) {
    throw new Error(`real-data test needs ${p}, which is absent: put the project's shared/ folder beside the checkout (or set MM_SHARED_DATA)`)
  }
  return p
}

export const ETH_JULY = ['hftbacktest/examples/usdm/ethusdt_20240718.gz', 'hftbacktest/examples/usdm/ethusdt_20240719.gz']
