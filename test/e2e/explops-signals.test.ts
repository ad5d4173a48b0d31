/**
 * An operator's signals to a live `mm quote` against `mm sim` (both bin/run.js):
 * - SIGHUP (a closed terminal or ssh session) without --log-file stops cleanly, as SIGTERM
 *   does: exit 0, no order of ours left on the sim, the summary says `signal SIGHUP`.
 *   Before, Node's default action killed the quote at once (exit 129): its orders kept
 *   working on the venue until the dead-man's switch fired, and state.json said it ran.
 * - a second quote of the same instance on another --state-dir is refused (SPEC §4.7)
 *   instead of cancelling the other's orders as leftovers and quoting beside it.
 * - its stderr closed under it (EPIPE): it goes on quoting, halts on request and stops
 *   cleanly; before, the next note killed it (exit 1) with its orders working.
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
import {type CliRun, ensureBuilt, runCli} from '../support/cli.js'
import {isOpen, LIVE_ENV, type LiveSim, ours, readState, spawnQuote, startLiveSim, waitFor, writeConfig} from '../support/live-sim.js'

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

describe('live quote: a second quote of the same instance on another state dir (SPEC §4.7, explops)', () => {
  it('refused while the first runs (its orders untouched); once the first is SIGKILLed, a start on a fresh state dir cancels its leftovers', async () => {
    const s = sim!
    const cfg = writeConfig(tmp, 'q3.json', {live: {auditIntervalMs: 60_000}})
    const a = spawnQuote(s, join(tmp, 'twin-a'), ['--config', cfg, '--instance', 'tw'])
    let b: CliRun | undefined
    try {
      await seen(a, /quoting \(Ctrl-C stops/)
      await waitFor(async () => (await twOpen(s)).length > 0, 'the first quote holding orders', 30_000)
      const aHeld = await twOpen(s)
      const seqBefore = Math.max(0, ...(await s.state()).requests.map((r) => r.seq))
      b = spawnQuote(s, join(tmp, 'twin-b'), ['--config', cfg, '--instance', 'tw'])
      // before the fix it cancelled the first one's orders as an earlier run's leftovers and quoted beside it
      const first = await Promise.race([b.exited.then(() => 'exited'), b.waitFor(/quoting \(Ctrl-C stops/, 'stderr').then(() => 'quoting')])
      if (first === 'quoting') b.child.kill('SIGTERM')
      const {code} = await b.exited
      expect(first).toBe('exited')
      expect(code).toBe(1)
      const lines = b.stderr().split('\n').filter((l) => l.startsWith('mm quote: '))
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(new RegExp(`^mm quote: another mm quote of instance tw on ETHUSDC runs on this host \\(pid ${a.child.pid}, mm quote --state-dir .*twin-a, since .*\\): nothing was sent$`))
      expect(b.stderr()).not.toMatch(/\n\s+at /)
      // the first quote's orders: none cancelled by the second (it may have re-quoted some itself)
      // (the second one stops before it asks the venue anything: no venue line, no cancel-all;
      // the first one's own batch cancels of its re-quotes go on meanwhile)
      expect(b.stderr()).not.toMatch(/venue |cancelling/)
      const cancelAll = (await s.state()).requests.filter((r) => r.seq > seqBefore && r.method === 'DELETE' && r.path === '/fapi/v1/allOpenOrders')
      expect(cancelAll).toEqual([])
      expect(a.child.exitCode).toBe(null)
      expect(aHeld.length).toBeGreaterThan(0)
      // the first one dies without a word (its lock stays, stale): a start on a fresh state dir
      // (a lost one) takes the lock over and cancels the dead run's orders as leftovers
      a.child.kill('SIGKILL')
      await a.exited
      const left = await twOpen(s)
      expect(left.length).toBeGreaterThan(0)
      const c = spawnQuote(s, join(tmp, 'twin-c'), ['--config', cfg, '--instance', 'tw', '--duration', '3s'])
      const cr = await c.exited
      expect(cr.code, c.stderr()).toBe(0)
      expect(c.stderr()).toContain(`cancelling ${left.length} order(s) left by an earlier run of this instance`)
      const still = (await s.state({books: true})).orders.filter((o) => left.includes(o.clientOrderId) && isOpen(o))
      expect(still).toEqual([])
    } finally {
      if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL')
      await a.exited
      if (b && b.child.exitCode === null && b.child.signalCode === null) b.child.kill('SIGKILL')
    }
  }, 120_000)
})

async function twOpen(s: LiveSim): Promise<string[]> {
  return (await s.state({books: true})).orders.filter((o) => isOpen(o) && ours('tw')(o.clientOrderId)).map((o) => o.clientOrderId)
}

describe('live quote: its output closed (explops)', () => {
  it('stderr closed under it (| head, a dropped ssh session): the quote goes on, halts on request, stops cleanly', async () => {
    const s = sim!
    const stateDir = join(tmp, 'epipe')
    const cfg = writeConfig(tmp, 'q4.json', {live: {auditIntervalMs: 60_000}})
    const q = spawnQuote(s, stateDir, ['--config', cfg, '--instance', INST])
    try {
      await q.waitFor(/quoting \(Ctrl-C stops/, 'stderr')
      await waitFor(async () => (await ourOpen(s)).length > 0, 'an order of ours on the sim', 30_000)
      // the reader goes away: the quote's next note (the halt's) meets EPIPE. Before the fix
      // that killed it (exit 1) with its orders working; the halt then exited 3, orders left.
      q.child.stderr!.destroy()
      const h = await runCli(['halt', '--symbol', 'ETHUSDC', '--state-dir', stateDir, '--reason', 'epipe', '--rest-url', s.restUrl, '--ws-url', s.wsUrl], {env: LIVE_ENV})
      expect(h.code, h.stdout + h.stderr).toBe(0)
      expect(h.stdout).toContain('no order of ours remains')
      expect(await ourOpen(s)).toEqual([])
      expect({code: q.child.exitCode, signal: q.child.signalCode}).toEqual({code: null, signal: null})
      expect(readState(stateDir).process?.running).toBe(true)
      q.child.kill('SIGTERM')
      const {code} = await q.exited
      expect(code).toBe(0)
      expect(q.stdout()).toMatch(/ended\s+│ signal SIGTERM/)
    } finally {
      if (q.child.exitCode === null && q.child.signalCode === null) q.child.kill('SIGKILL')
    }
    expect(await ourOpen(s)).toEqual([])
    expect(readState(stateDir).process?.running).toBe(false)
  }, 90_000)
})

describe('live quote: mm status while the venue fails (explops)', () => {
  it('the venue answering 503 to everything shows in mm status (venue pace), and clears once it answers again', async () => {
    const s = sim!
    const stateDir = join(tmp, 'pace')
    // a short storm window, so that the pace comes back within the test
    const cfg = writeConfig(tmp, 'q5.json', {live: {auditIntervalMs: 60_000, stormWindowMs: 10_000, stormSlowAt: 2, stormHaltAt: 1000}})
    const q = spawnQuote(s, stateDir, ['--config', cfg, '--instance', INST])
    const paceOf = () => (readState(stateDir) as unknown as {risk: {pace?: string}}).risk.pace
    const statusRisk = async () => {
      const r = await runCli(['status', '--state-dir', stateDir])
      expect(r.code, r.stderr).toBe(0)
      return r.stdout.split('\n').find((l) => l.includes('│ risk '))
    }
    try {
      await q.waitFor(/quoting \(Ctrl-C stops/, 'stderr')
      await waitFor(async () => (await ourOpen(s)).length > 0, 'an order of ours on the sim', 30_000)
      expect(paceOf()).toBe('normal')
      expect(await statusRisk()).toMatch(/│ risk\s+│ normal\s+│/)
      await faults(s, 'unavailableRate=1')
      // before, state.json and mm status said "normal" all through the outage
      await waitFor(() => paceOf() === 'slow', 'state.json: venue pace slow', 30_000)
      expect(await statusRisk()).toContain("normal; venue pace slow (venue errors or rate limits: the quote's notes say which)")
      await faults(s, 'unavailableRate=0')
      await waitFor(() => paceOf() === 'normal', 'state.json: venue pace normal again', 30_000)
      q.child.kill('SIGTERM')
      expect((await q.exited).code).toBe(0)
    } finally {
      await faults(s, 'unavailableRate=0')
      if (q.child.exitCode === null && q.child.signalCode === null) q.child.kill('SIGKILL')
    }
    expect(await ourOpen(s)).toEqual([])
  }, 90_000)
})

describe('live quote: mm resume twice (explops)', () => {
  it('the second resume of a running quote says resumed: false (it was not halted), exit 0', async () => {
    const s = sim!
    const stateDir = join(tmp, 'resume2')
    const cfg = writeConfig(tmp, 'q6.json', {live: {auditIntervalMs: 60_000}})
    const q = spawnQuote(s, stateDir, ['--config', cfg, '--instance', INST])
    const ops = (args: string[]) => runCli([...args, '--symbol', 'ETHUSDC', '--state-dir', stateDir, '--json'])
    try {
      await q.waitFor(/quoting \(Ctrl-C stops/, 'stderr')
      const h = await ops(['halt', '--no-cancel'])
      expect(h.code, h.stderr).toBe(0)
      const r1 = await ops(['resume'])
      expect(r1.code, r1.stderr).toBe(0)
      expect(JSON.parse(r1.stdout).data).toMatchObject({via: 'quote', resumed: true, ack: {result: 'applied', message: 'resumed (was manual)'}})
      const r2 = await ops(['resume'])
      expect(r2.code, r2.stderr).toBe(0)
      // before: resumed: true beside the quote's own "not halted"
      expect(JSON.parse(r2.stdout).data).toMatchObject({via: 'quote', resumed: false, halt: null, ack: {result: 'applied', message: 'not halted: nothing to resume'}})
      q.child.kill('SIGTERM')
      expect((await q.exited).code).toBe(0)
    } finally {
      if (q.child.exitCode === null && q.child.signalCode === null) q.child.kill('SIGKILL')
    }
  }, 90_000)
})
