/**
 * Two `mm record` runs writing into one folder at once (an overlapping cron run, two hosts
 * on one share): both reach the same UTC-aligned stem at every rotation. Neither may
 * overwrite the other nor die on the other's file: each rotation's stem is claimed
 * exclusively, the loser takes its own `HH-MM-SS[-n]` stem.
 */
import {mkdtempSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it, vi} from 'vitest'
import {readMeta} from '../../src/lib/record/meta.js'
import {ensureBuilt, runCli, spawnCli} from '../support/cli.js'

vi.setConfig({testTimeout: 120_000})

beforeAll(() => {
  ensureBuilt('record')
  ensureBuilt('sim')
  ensureBuilt('quote')
})

describe('two mm record runs into one folder (CLI)', () => {
  it('both end with exit 0 and every period of both is a closed file set of its own', async () => {
    const sim = spawnCli(['sim', '--synthetic', '--symbol', 'BTCFDUSD', '--tick-size', '5', '--step-size', '0.1', '--start-price', '97000', '--seed', '3', '--json', '--duration', '90s'])
    const out = mkdtempSync(join(tmpdir(), 'mm-e2e-rec2-'))
    try {
      const [line] = await sim.waitFor(/^\{.*"status":"listening".*\}$/m)
      const {restUrl, wsUrl} = JSON.parse(line).data
      const env = {MM_REST_URL: restUrl, MM_WS_URL: wsUrl}
      // 1 s periods: both runs rotate on the same market messages several times over 5 s
      const args = ['record', '--symbol', 'BTCFDUSD', '--out', out, '--rotate', '1s', '--flush', '1s', '--duration', '5s', '--json', '--no-progress']
      const [a, b] = await Promise.all([runCli(args, {env}), runCli(args, {env})])
      for (const r of [a, b]) {
        expect(r.stderr).toBe('')
        expect(r.code).toBe(0)
        expect(JSON.parse(r.stdout)).toMatchObject({ok: true, command: 'record', data: {stoppedBy: 'duration'}})
      }
      const day = join(out, 'BTCFDUSD', readdirSync(join(out, 'BTCFDUSD'))[0])
      const names = readdirSync(day).sort()
      expect(names.filter((n) => n.endsWith('.partial'))).toEqual([])
      const metas = names.filter((n) => n.endsWith('.meta.json'))
      // every period of each run has its own stem: each meta names its own two data files, both on disk, and is closed
      const files = new Set<string>()
      for (const m of metas) {
        const meta = await readMeta(join(day, m))
        const stem = m.slice(0, -'.meta.json'.length)
        expect(meta.closed).toBe(true)
        expect(meta.files.book?.file).toBe(`${stem}.book.csv.gz`)
        expect(meta.files.trades?.file).toBe(`${stem}.trades.csv.gz`)
        files.add(meta.files.book!.file)
        files.add(meta.files.trades!.file)
      }
      expect(names.filter((n) => n.endsWith('.csv.gz')).sort()).toEqual([...files].sort())
      // both runs rotated into the aligned stems the other had taken: some stems are HH-MM-SS-n
      expect(metas.some((m) => /^\d{2}-\d{2}-\d{2}-\d+\.meta\.json$/.test(m))).toBe(true)
      // the folder holds two overlapping runs: a replay says so (not a message about order)
      const cfg = join(out, 'cfg.json')
      writeFileSync(cfg, JSON.stringify({strategy: {baseSize: '0.1'}, risk: {netMax: '0.5'}}))
      const q = await runCli(['quote', '--symbol', 'BTCFDUSD', '--dry-run', '--replay', join(out, 'BTCFDUSD'), '--state-dir', join(out, 'state'), '--config', cfg])
      expect(q.code).toBe(2)
      const [first, hint] = q.stderr.split('\n')
      expect(first).toMatch(/^mm quote: --replay .+: .+\.meta\.json \(\S+ – \S+\) and .+\.meta\.json \(from \S+\) overlap in time: two recorders wrote BTCFDUSD into this folder at once$/)
      expect(hint).toBe("  hint: replay one run at a time: move one run's files (each period's .meta.json and data files) into a folder of their own")
      const sr = await runCli(['sim', '--replay', join(out, 'BTCFDUSD'), '--exit-at-end', '--speed', 'max'])
      expect(sr.code).toBe(2)
      expect(sr.stderr.split('\n')[0]).toMatch(/^mm sim: --replay .+ overlap in time: two recorders wrote BTCFDUSD into this folder at once$/)
    } finally {
      sim.child.kill('SIGTERM')
    }
    expect((await sim.exited).code).toBe(0)
  })
})
