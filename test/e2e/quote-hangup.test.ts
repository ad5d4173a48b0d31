/**
 * A live `mm quote` in a terminal that goes away (an ssh session dropped, a terminal window
 * closed): the kernel sends SIGHUP and every later write to the terminal fails with EIO.
 * Without --log-file the quote stops cleanly, as on SIGTERM: its orders cancelled, state.json
 * saying it ended. Before, the first note of the stop met EIO, unhandled, and the process
 * died with its orders working (left to the dead-man's switch) and state.json saying it ran.
 *
 * The terminal is util-linux `script` (a pseudo-terminal around the command); SIGKILL on
 * `script` closes the terminal's master side, as a dropped session does. The quote's own
 * exit status is not asserted: once its terminal is gone Node may end on a signal after
 * the stop (docs/live.md).
 */
import {spawn} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt} from '../support/cli.js'
import {repoRoot} from '../support/shared-data.js'
import {isOpen, LIVE_ENV, type LiveSim, ours, quoteArgs, readState, startLiveSim, waitFor, writeConfig} from '../support/live-sim.js'

const INST = 'hu'
let tmp: string
let sim: LiveSim | undefined

beforeAll(async () => {
  ensureBuilt('quote')
  ensureBuilt('sim')
  tmp = mkdtempSync(join(tmpdir(), 'mm-hangup-'))
  sim = await startLiveSim(['--synthetic', '--seed', '41'])
})

afterAll(async () => {
  await sim?.stop()
})

const sh = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`

describe('live quote: its terminal hangs up (SIGHUP, then EIO on every write)', () => {
  it('cancels its orders and records its end, as on SIGTERM', async () => {
    const s = sim!
    const stateDir = join(tmp, 'st')
    const cfg = writeConfig(tmp, 'q.json', {live: {auditIntervalMs: 60_000}})
    const cmd = [process.execPath, join(repoRoot, 'bin/run.js'), ...quoteArgs(s, stateDir, ['--config', cfg, '--instance', INST])].map(sh).join(' ')
    const term = spawn('script', ['-qfec', cmd, '/dev/null'], {env: {...process.env, ...LIVE_ENV}, stdio: ['pipe', 'pipe', 'pipe']})
    let out = ''
    term.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const ourOpen = async () => (await s.state({books: true})).orders.filter((o) => isOpen(o) && ours(INST)(o.clientOrderId)).map((o) => o.clientOrderId)
    let quotePid = 0
    try {
      await waitFor(() => out.includes('quoting (Ctrl-C stops'), `mm quote quoting in the terminal (output so far: ${out.slice(-300)})`, 60_000)
      await waitFor(async () => (await ourOpen()).length > 0, 'an order of ours on the sim', 30_000)
      quotePid = (readState(stateDir).process as {pid?: number} | undefined)?.pid ?? 0
      expect(quotePid).toBeGreaterThan(0)
      // the terminal goes away
      term.kill('SIGKILL')
      await waitFor(() => readState(stateDir).process?.running === false, 'state.json: the quote ended', 60_000)
      expect((readState(stateDir).process as {endReason?: string} | undefined)?.endReason).toBe('signal SIGHUP')
      expect(await ourOpen()).toEqual([])
    } finally {
      if (term.exitCode === null && term.signalCode === null) term.kill('SIGKILL')
      if (quotePid > 0) {
        try {
          process.kill(quotePid, 'SIGKILL')
        } catch {
          // ended
        }
      }
    }
  }, 120_000)
})
