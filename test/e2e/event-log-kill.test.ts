/**
 * A quote on live market data that is killed (SIGKILL) leaves its run's event log on disk
 * up to about a second before the kill: the log is written in 64 KB blocks and, outside a
 * replay, at most 1 s after the first line of a block (state/runs.ts EventLog). Before,
 * a run killed in its first minute left an empty events.jsonl, which `mm report` refused.
 */
import {existsSync, mkdtempSync, readdirSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {type LiveSim, startLiveSim} from '../support/live-sim.js'
import {until} from '../support/wait.js'

vi.setConfig({testTimeout: 120_000, hookTimeout: 60_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-event-log-kill-'))
let sim: LiveSim

beforeAll(async () => {
  ensureBuilt('quote')
  sim = await startLiveSim(['--synthetic', '--seed', '4'])
})

afterAll(async () => {
  await sim?.stop()
})

function eventLog(stateDir: string): string | undefined {
  const runs = join(stateDir, 'runs')
  if (!existsSync(runs)) return undefined
  const [run] = readdirSync(runs)
  return run === undefined ? undefined : join(runs, run, 'events.jsonl')
}

describe('the event log of a killed quote', () => {
  it('holds the orders decided before the kill (not a 64 KB block later); mm report reads it', async () => {
    const dir = join(tmp, 'state')
    const q = spawnCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', dir])
    // state.json shows a working order, and a heartbeat written 1.5 s after it was sent: the
    // event loop has run every timer due by then, the event log's 1 s flush included
    // (64 KB of events take far longer than that to collect)
    const state = join(dir, 'ETHUSDC', 'state.json')
    await until(() => {
      if (!existsSync(state)) return false
      let s: {orders?: Record<string, {sentAt: string}>; process?: {heartbeat?: string} | null}
      try {
        s = JSON.parse(readFileSync(state, 'utf8'))
      } catch {
        return false
      }
      const sent = Object.values(s.orders ?? {}).map((o) => Date.parse(o.sentAt))
      const beat = Date.parse(s.process?.heartbeat ?? '')
      return sent.length > 0 && beat - Math.min(...sent) >= 1500
    }, 'a heartbeat 1.5 s after a working order was sent', 60_000, 20)
    q.child.kill('SIGKILL')
    expect((await q.exited).signal).toBe('SIGKILL')
    const lines = readFileSync(eventLog(dir) as string, 'utf8').split('\n').filter((l) => l.length > 0)
    expect(JSON.parse(lines[0]).type).toBe('run_start')
    expect(lines.some((l) => l.includes('"type":"order"'))).toBe(true)
    const r = await runCli(['report', 'last', '--state-dir', dir, '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).data.runs[0].summary.quotesPlaced).toBeGreaterThan(0)
  })
})
