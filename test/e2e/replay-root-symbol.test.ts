/**
 * `mm quote --replay ROOT --symbol S` on the root of `mm record --out` holding several
 * symbols reads S's folder alone: it parsed every other symbol's files too (their rows
 * dropped by the symbol filter), so a replay cost every symbol's data, and a torn file of
 * another symbol stopped the replay of this one ("not a whole gzip file").
 */
import {cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gunzipSync, gzipSync} from 'node:zlib'
import {beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {repoRoot} from '../support/shared-data.js'

vi.setConfig({testTimeout: 60_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-replay-root-'))

beforeAll(() => ensureBuilt('quote'))

describe('mm quote --replay on a root of several symbols (CLI)', () => {
  it("reads the wanted symbol's folder only: another symbol's torn file does not stop it", async () => {
    const root = join(tmp, 'recordings')
    const day = '2026-11-25'
    cpSync(join(repoRoot, 'recordings', 'ETHUSDC'), join(root, 'ETHUSDC'), {recursive: true})
    // AAAUSDC (first by name): a copy whose trades file is torn (a gzip cut short)
    mkdirSync(join(root, 'AAAUSDC', day), {recursive: true})
    const book = gunzipSync(readFileSync(join(root, 'ETHUSDC', day, '00.book.csv.gz'))).toString('utf8')
    writeFileSync(join(root, 'AAAUSDC', day, '00.book.csv.gz'), gzipSync(book.replaceAll('ETHUSDC', 'AAAUSDC')))
    const trades = gzipSync(gunzipSync(readFileSync(join(root, 'ETHUSDC', day, '00.trades.csv.gz'))).toString('utf8').replaceAll('ETHUSDC', 'AAAUSDC'))
    writeFileSync(join(root, 'AAAUSDC', day, '00.trades.csv.gz'), trades.subarray(0, 3000))
    writeFileSync(join(root, 'AAAUSDC', day, '00.meta.json'), readFileSync(join(root, 'ETHUSDC', day, '00.meta.json'), 'utf8').replaceAll('ETHUSDC', 'AAAUSDC'))
    const summary = async (replay: string) => {
      const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--replay', replay, '--duration', '30s', '--state-dir', join(tmp, 'state'), '--json'])
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      return (JSON.parse(r.stdout) as {data: {summary: Record<string, unknown>}}).data.summary
    }
    const plain = await summary(join(root, 'ETHUSDC'))
    expect(plain.fills).toBeGreaterThan(0)
    expect(await summary(root)).toEqual(plain)
  })
})
