/**
 * The status line of `mm quote` (docs/operations.md, "Progress"), driven through the real
 * CLI under a pseudo-terminal (util-linux `script`): on a terminal, a replay shows %,
 * events/s, ETA and net PnL, a dry-run on a live market shows mid, position, open orders,
 * fills and net PnL, rewritten in place about once a second; off a terminal, or with
 * --no-progress / MM_PROGRESS=0, no status line at all.
 *
 * The runs are paced (--speed) so they last several wall seconds whatever the machine's
 * load: a status line is due after the first second, and the test reads what was drawn
 * after the run ended (or, live, waits for the line it needs, bounded).
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {type CliRun, ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {ensureScript, runInPty, spawnInPty, statusLines} from '../support/pty.js'

// each test runs the CLI for several wall seconds (up to 15 s under a load of 9 on 2 cores): twice the default limit
vi.setConfig({testTimeout: 120_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-progress-'))
// 240 s of market data at 40× real time, stopped after 180 s of it: ≥ 4.5 wall seconds, so that the two status lines
// asserted (one a second) come even when a loaded machine fires the timer late (at 60×, 3 s left half a second a line)
const REPLAY = ['quote', '--symbol', 'ETHUSDC', '--dry-run', '--replay', 'recordings/ETHUSDC', '--speed', '40', '--duration', '180s']
const REPLAY_LINE = /^replay (\d{1,3}\.\d)% · (\d{1,3}(,\d{3})*) events\/s · ETA (\d+:\d{2}:\d{2}|\d+:\d{2}|--:--) · net PnL (-?\d+\.\d{4})$/
const LIVE_LINE = /^mid (--|\d+\.\d+) · position (-?\d+(\.\d+)?) · open orders (\d+) · fills (\d+) · net PnL (-?\d+\.\d{4})( · risk (reduce_only|halted|paused))?$/

beforeAll(() => {
  ensureBuilt('quote')
  ensureScript()
})

describe('mm quote --replay: the status line', () => {
  it('on a terminal: %, events/s, ETA and net PnL, rewritten in place; cleared before the summary', async () => {
    const r = await runInPty([...REPLAY, '--state-dir', join(tmp, 'a')])
    expect(r.code, r.out).toBe(0)
    const lines = statusLines(r.out, /^replay /)
    expect(lines.length, r.out).toBeGreaterThanOrEqual(2)
    for (const l of lines) expect(l).toMatch(REPLAY_LINE)
    // the % never goes back, and stays within the run
    const pct = lines.map((l) => Number(REPLAY_LINE.exec(l)![1]))
    for (let i = 1; i < pct.length; i++) expect(pct[i]).toBeGreaterThanOrEqual(pct[i - 1])
    expect(pct.every((p) => p >= 0 && p <= 100)).toBe(true)
    // each line is drawn over the last (\r + erase line), never on a new line of its own
    expect(r.out).not.toMatch(/replay \d[^\r\n]*\r?\n/)
    // the line is erased before the summary table
    expect(r.out).toMatch(/\r\u001b\[2K┌[─┬]+┐/)
    expect(r.out).toContain('net PnL')
  })

  it('--no-progress, or MM_PROGRESS=0: no status line on the terminal', async () => {
    const a = await runInPty([...REPLAY, '--no-progress', '--state-dir', join(tmp, 'b')])
    const b = await runInPty([...REPLAY, '--state-dir', join(tmp, 'c')], {env: {MM_PROGRESS: '0'}})
    for (const r of [a, b]) {
      expect(r.code, r.out).toBe(0)
      expect(r.out).not.toContain('events/s')
      expect(r.out).not.toContain('\u001b[2K')
      expect(r.out).toMatch(/^note: replaying recordings\/ETHUSDC as ETHUSDC/m)
      expect(r.out).toContain('net PnL')
    }
  })

  it('off a terminal: silence until the summary (stderr holds only the note)', async () => {
    const r = await runCli([...REPLAY, '--state-dir', join(tmp, 'd')])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).not.toContain('\r')
    expect(r.stderr).not.toContain('events/s')
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^note: replaying recordings\/ETHUSDC as ETHUSDC \(strategy v2\); events → .*\/events\.jsonl$/)])
    expect(r.stdout).toContain('net PnL')
  })
})

describe('mm quote --dry-run on a live market: the status line', () => {
  let sim: CliRun
  let rest = ''
  let ws = ''
  beforeAll(async () => {
    sim = spawnCli(['sim', '--synthetic', '--seed', '5', '--symbol', 'ETHUSDC', '--port', '0', '--json'])
    const m = await sim.waitFor(/"restUrl":"(http:[^"]+)","wsUrl":"(ws:[^"]+)"/)
    rest = m[1]
    ws = m[2]
  })
  afterAll(async () => {
    sim.child.kill('SIGTERM')
    await sim.exited
  })

  it('on a terminal: mid, position, open orders, fills and net PnL; SIGTERM clears it for the summary', async () => {
    const q = spawnInPty(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--rest-url', rest, '--ws-url', ws, '--duration', '10m', '--state-dir', join(tmp, 'e')])
    try {
      // wait (bounded) until a line shows the synced book's mid
      await q.waitFor(/\r\u001b\[2Kmid \d+\.\d+ · /)
    } finally {
      q.signal('SIGTERM')
    }
    const code = await q.exited
    const out = q.out()
    expect(code, out).toBe(0)
    const lines = statusLines(out, /^mid /)
    expect(lines.length, out).toBeGreaterThanOrEqual(1)
    for (const l of lines) expect(l).toMatch(LIVE_LINE)
    // the synthetic market quotes ETHUSDC around 3000 with a 0.01 tick: a mid on the half tick at most
    const mids = lines.map((l) => LIVE_LINE.exec(l)![1]).filter((m) => m !== '--')
    expect(mids.length).toBeGreaterThanOrEqual(1)
    for (const m of mids) expect(m).toMatch(/^\d+\.\d{1,3}$/)
    expect(out).toMatch(/\r\u001b\[2K┌[─┬]+┐/)
  })
})
