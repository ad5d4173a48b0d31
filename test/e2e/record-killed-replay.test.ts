/**
 * A recording whose recorder was SIGKILLed, then started again into the same folder, and
 * replayed as a folder with `mm quote --dry-run --replay`: the killed run's `.partial`
 * files are skipped, and that is said (with how to recover them), not silent; the
 * recovery the note gives makes their rows replay.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {until} from '../support/wait.js'

vi.setConfig({testTimeout: 120_000})

beforeAll(() => {
  ensureBuilt('record')
  ensureBuilt('sim')
  ensureBuilt('quote')
  ensureBuilt('calibrate')
})

describe('a SIGKILLed recording replayed as a folder (CLI)', () => {
  it('says which .partial files it skipped and how to recover them; recovered, their rows replay', async () => {
    const sim = spawnCli(['sim', '--synthetic', '--symbol', '1000PEPEUSDT', '--tick-size', '0.0000001', '--step-size', '1', '--start-price', '0.0123456', '--min-notional', '5', '--seed', '4', '--json', '--duration', '90s'])
    const out = mkdtempSync(join(tmpdir(), 'mm-e2e-reckill-'))
    const state = mkdtempSync(join(tmpdir(), 'mm-e2e-reckill-state-'))
    try {
      const [line] = await sim.waitFor(/^\{.*"status":"listening".*\}$/m)
      const {restUrl, wsUrl} = JSON.parse(line).data
      const env = {MM_REST_URL: restUrl, MM_WS_URL: wsUrl}
      const dir = join(out, '1000PEPEUSDT')
      // hourly files: the killed run's period stays open (.partial) until the kill
      const killed = spawnCli(['record', '--symbol', '1000PEPEUSDT', '--out', out, '--flush', '1s', '--no-progress'], {env})
      // every file under the symbol's folder, day folders included (a run may cross midnight)
      const files = () => (existsSync(dir) ? (readdirSync(dir, {recursive: true}) as string[]).map((n) => join(dir, n)).sort() : [])
      const metaOf = () => {
        const m = files().find((n) => n.endsWith('.meta.json'))
        return m ? JSON.parse(readFileSync(m, 'utf8')) : undefined
      }
      // a flush has put depth diffs on disk: the meta (rewritten at each flush) counts more than the snapshot
      await until(() => {
        try {
          return (metaOf()?.files?.book?.messages ?? 0) >= 5
        } catch {
          return false // caught mid-rename: read again
        }
      }, 'the first flushes of the recording to be killed', 60_000, 50)
      killed.child.kill('SIGKILL')
      expect((await killed.exited).signal).toBe('SIGKILL')
      const r = await runCli(['record', '--symbol', '1000PEPEUSDT', '--out', out, '--duration', '4s', '--json', '--no-progress'], {env})
      expect(r.code).toBe(0)

      const torn = files().filter((n) => n.endsWith('.partial'))
      expect(torn.length).toBe(2)
      const cfg = join(state, 'cfg.json')
      writeFileSync(cfg, JSON.stringify({strategy: {baseSize: '1000'}, risk: {netMax: '5000', stopLoss: -5}}))
      const quoteArgs = ['quote', '--symbol', '1000PEPEUSDT', '--dry-run', '--replay', dir, '--state-dir', state, '--config', cfg]
      const q1 = await runCli(quoteArgs)
      expect(q1.code).toBe(0)
      const note = q1.stderr.split('\n').find((l) => l.startsWith('note: skipped 2 .partial files'))
      expect(note).toBe(`note: skipped 2 .partial files (still being written, or torn by a killed recorder: its rows up to the last flush are recoverable with { gzip -dc FILE.partial; echo; } | awk 'NR > 1 { print prev } { prev = $0 }' | gzip > FILE): ${torn.join(', ')}`)
      const events1 = JSON.parse((await runCli([...quoteArgs, '--json'])).stdout).data.summary.marketEvents

      // mm calibrate on the folder says it once per window, before the jobs
      const spec = join(state, 'spec.yaml')
      writeFileSync(spec, ['symbol: 1000PEPEUSDT', 'windows:', `  - {name: w, replay: ${dir}}`, 'base: {strategy: {baseSize: "1000"}, risk: {netMax: "5000", stopLoss: -5}}', 'params:', '  strategy.baseSpread: [0.001]', ''].join('\n'))
      const c = await runCli(['calibrate', spec, '--out', join(state, 'calib'), '--workers', '1'])
      expect(c.code, c.stderr).toBe(0)
      expect(c.stderr.split('\n')[0]).toBe(`note: window w: skipped 2 .partial files (still being written, or torn by a killed recorder: recoverable with { gzip -dc FILE.partial; echo; } | awk 'NR > 1 { print prev } { prev = $0 }' | gzip > FILE): ${torn.join(', ')}`)

      // named directly, a .partial is refused with the recovery in the hint
      const p = torn[0]
      const q2 = await runCli(['quote', '--symbol', '1000PEPEUSDT', '--dry-run', '--replay', p, '--state-dir', state])
      expect(q2.code).toBe(2)
      expect(q2.stderr.split('\n').slice(0, 2)).toEqual([
        `mm quote: ${p}: a .partial file is still being written or was torn by a crash`,
        `  hint: wait for the recorder to close it; if it was killed, its rows up to the last flush can be recovered: { gzip -dc ${p}; echo; } | awk 'NR > 1 { print prev } { prev = $0 }' | gzip > ${p.slice(0, -'.partial'.length)} (gzip warns of the torn end), then remove the .partial`,
      ])

      // the recovery as the note gives it: the killed run's rows replay too
      for (const f of torn) {
        execFileSync('sh', ['-c', `{ { gzip -dc '${f}'; echo; } | awk 'NR > 1 { print prev } { prev = $0 }' | gzip > '${f.slice(0, -'.partial'.length)}'; } 2>/dev/null`])
        rmSync(f)
      }
      const q3 = await runCli([...quoteArgs, '--json'])
      expect(q3.code).toBe(0)
      expect(JSON.parse(q3.stdout).data.summary.marketEvents).toBeGreaterThan(events1)
    } finally {
      sim.child.kill('SIGTERM')
    }
    expect((await sim.exited).code).toBe(0)
  })
})
