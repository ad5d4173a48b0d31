/**
 * An operator's signals to a live `mm quote` against `mm sim` (both bin/run.js):
 * - SIGHUP (a closed terminal or ssh session) without --log-file stops cleanly, as SIGTERM
 *   does: exit 0, no order of ours left on the sim, the summary says `signal SIGHUP`.
 *   Before, Node's default action killed the quote at once (exit 129): its orders kept
 *   working on the venue until the dead-man's switch fired, and state.json said it ran.
 * - a second SIGINT during the clean stop is said and ignored: the stop still cancels
 *   everything and exits 0. Before, the first handler was `once`, so the second SIGINT
 *   killed the process mid-cancel (exit 130). The stop is held open deterministically by
 *   turning the sim's 503 fault on before the first signal (every cancel fails until it is
 *   turned off again), not by a timing guess.
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type CliRun, ensureBuilt} from '../support/cli.js'
import {isOpen, type LiveSim, ours, readState, spawnQuote, startLiveSim, waitFor, writeConfig} from '../support/live-sim.js'

const INST = 'sg'
let tmp: string
let sim: LiveSim | undefined

beforeAll(async () => {
  ensureBuilt('quote')
  ensureBuilt('sim')
  tmp = mkdtempSync(join(tmpdir(), 'mm-explops-signals-'))
  sim = await startLiveSim(['--synthetic', '--seed', '31'])
})

afterAll(async () => {
  await sim?.stop()
})

async function faults(s: LiveSim, q: string): Promise<void> {
  const r = await fetch(`${s.restUrl}/__mm/faults?${q}`, {method: 'POST'})
  expect(r.status).toBe(200)
}

/** a line on stderr, failing at once (not after the bound) when the process exits first */
async function seen(q: CliRun, re: RegExp): Promise<void> {
  await Promise.race([q.waitFor(re, 'stderr'), q.exited.then(({code, signal}) => {
    throw new Error(`mm quote exited (code ${code}, signal ${signal}) before ${re}; stderr=${q.stderr()}`)
  })])
}

async function ourOpen(s: LiveSim): Promise<string[]> {
  return (await s.state({books: true})).orders.filter((o) => isOpen(o) && ours(INST)(o.clientOrderId)).map((o) => o.clientOrderId)
}

describe('live quote: operator signals (explops)', () => {
  it('SIGHUP without --log-file stops cleanly: exit 0, nothing of ours left open', async () => {
    const s = sim!
    const stateDir = join(tmp, 'hup')
    const cfg = writeConfig(tmp, 'q.json', {live: {auditIntervalMs: 60_000}})
    const q = spawnQuote(s, stateDir, ['--config', cfg, '--instance', INST])
    await q.waitFor(/quoting \(Ctrl-C stops/, 'stderr')
    await waitFor(async () => (await ourOpen(s)).length > 0, 'an order of ours on the sim', 30_000)
    q.child.kill('SIGHUP')
    const {code, signal} = await q.exited
    expect({code, signal}).toEqual({code: 0, signal: null})
    expect(q.stderr()).toContain('note: SIGHUP: stopping (no new order; every order cancelled, then the summary)')
    expect(q.stdout()).toMatch(/ended\s+│ signal SIGHUP/)
    expect(await ourOpen(s)).toEqual([])
    expect(readState(stateDir).process?.running).toBe(false)
    expect(Object.values(readState(stateDir).orders).filter((o) => o.status === 'NEW' || o.status === 'PARTIALLY_FILLED' || o.status === 'PENDING_CANCEL')).toEqual([])
  }, 90_000)

  it('a second SIGINT during the stop is said and ignored: the stop cancels everything, exit 0', async () => {
    const s = sim!
    const stateDir = join(tmp, 'int2')
    const cfg = writeConfig(tmp, 'q2.json', {live: {auditIntervalMs: 60_000}})
    const q = spawnQuote(s, stateDir, ['--config', cfg, '--instance', INST])
    try {
      await q.waitFor(/quoting \(Ctrl-C stops/, 'stderr')
      await waitFor(async () => (await ourOpen(s)).length > 0, 'an order of ours on the sim', 30_000)
      // every request now fails 503 before anything is done: the stop's cancels cannot succeed
      await faults(s, 'unavailableRate=1')
      q.child.kill('SIGINT')
      await seen(q, /note: SIGINT: stopping/)
      q.child.kill('SIGINT')
      await seen(q, /note: SIGINT again: already stopping/)
    } finally {
      await faults(s, 'unavailableRate=0')
    }
    const {code, signal} = await q.exited
    expect({code, signal}).toEqual({code: 0, signal: null})
    expect(q.stdout()).toMatch(/ended\s+│ signal SIGINT/)
    expect(await ourOpen(s)).toEqual([])
    expect(readState(stateDir).process?.running).toBe(false)
  }, 90_000)
})
