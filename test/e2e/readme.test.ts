/**
 * The README's main job, run as written (after `npm ci`) through bin/run.js on the
 * embedded sample recording, plus exact checks of what the sample is.
 */
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {repoRoot} from '../support/shared-data.js'

// each test runs the CLI for several wall seconds (up to 13 s under a load of 9 on 2 cores): twice the default limit
vi.setConfig({testTimeout: 120_000})

function mainJob(): string[] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')
  const m = /^npm ci && node bin\/run\.js (quote .*)$/m.exec(readme)
  if (!m) throw new Error('README has no "npm ci && node bin/run.js quote …" main-job line')
  return m[1].trim().split(/\s+/)
}

describe("README's main job", () => {
  it('is mm quote --symbol ETHUSDC --dry-run --replay on the embedded sample', () => {
    expect(mainJob()).toEqual(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--replay', 'recordings/ETHUSDC'])
  })

  it('runs to the end of the sample and prints the summary', async () => {
    ensureBuilt('quote')
    const state = mkdtempSync(join(tmpdir(), 'mm-readme-'))
    const r = await runCli([...mainJob(), '--state-dir', state])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/run summary/)
    expect(r.stdout).toMatch(/ETHUSDC \/ replay \/ v2/)
    expect(r.stdout).toMatch(/end of data/)
    const j = await runCli([...mainJob(), '--state-dir', state, '--json'])
    const s = JSON.parse(j.stdout).data
    expect(s.instrument).toEqual({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minNotional: '20', from: 'meta'})
    expect(s.summary.resyncs).toBe(0)
    expect(s.summary.quotesPlaced).toBeGreaterThan(0)
    expect(s.summary.durationMs).toBeGreaterThan(200_000)
  })
})
