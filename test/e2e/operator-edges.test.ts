/**
 * Operator commands on unhappy inputs, through bin/run.js against `mm sim`:
 * - `mm status --live` with an unreadable state.json: before, exit 2 on the file and the
 *   venue was never asked — in an emergency the venue's position was not shown, and one bad
 *   file hid every symbol. Now the file is named in its row, the venue's view is shown, exit 3.
 * - `mm halt` on a state dir with no state.json (a mistyped --state-dir, another user's default
 *   or MM_STATE_DIR) while a quote quotes under another one: before, exit 0 "no order of ours
 *   remains" without asking the venue, the quote untouched and still quoting. Now, with keys,
 *   the venue's mm orders are named: another instance looks live, not reached, exit 3.
 * - `mm halt` with an unreadable state.json (exit 3: the halt cannot be recorded) said "the
 *   venue did not confirm that no order of ours remains" after the venue had confirmed it.
 * - `mm flatten` with keys and the venue unreachable (connection refused): exit 1 and the
 *   halt not recorded (without keys it is): a quote restarted once the venue answers quoted
 *   on. Now the halt is recorded and the one line says so. Keys the venue refuses (-2015)
 *   record the halt too (they did): the line now names the symbol and says nothing was sent.
 * - `mm resume` on a state dir with no state.json said only "not halted" and created the
 *   (mistyped) folder: the operator read that the quote was not halted. Now a note says no
 *   quote of this state dir is known, and nothing is created.
 * - A half-set or malformed key for halt, flatten or status --live: exit 2 as before, but the
 *   hint told the operator to "run with --dry-run to quote on paper without keys" (live
 *   quote's hint), a flag those commands do not have for that. Now the hint fits the command.
 * - `mm halt` acting itself (no quote) on a slow venue when its ssh session drops: SIGHUP
 *   killed it between the lock and the state write — the halt not recorded, the cancels cut
 *   short. Now it carries on (as flatten does on SIGHUP) and records the halt.
 */
import {existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {emptyState, type StateFile} from '../../src/lib/state/file.js'
import {ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {LIVE_ENV, type LiveSim, spawnQuote, startLiveSim, waitFor, writeConfig} from '../support/live-sim.js'
import {signed} from '../support/sim-cli.js'

vi.setConfig({testTimeout: 120_000, hookTimeout: 60_000})

const SYM = 'ETHUSDC'
const tmp = mkdtempSync(join(tmpdir(), 'mm-operator-edges-'))
let sim: LiveSim

beforeAll(async () => {
  ensureBuilt('status')
  ensureBuilt('halt')
  ensureBuilt('quote')
  ensureBuilt('flatten')
  ensureBuilt('resume')
  sim = await startLiveSim(['--synthetic', '--seed', '23'])
})

afterAll(async () => {
  await sim?.stop()
})

const order = async (params: Record<string, string>) => {
  const r = await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: SYM, ...params})
  expect(r.status, JSON.stringify(r.body)).toBe(200)
}
const stateDirWith = (name: string, text: string) => {
  const dir = join(tmp, name)
  mkdirSync(join(dir, SYM), {recursive: true})
  writeFileSync(join(dir, SYM, 'state.json'), text)
  return dir
}

describe('mm halt on a state dir without state.json while a quote runs under another', () => {
  it('with keys: names the mm orders working on the venue, cancels none of them, exit 3; without keys: says the venue was not asked', async () => {
    // quotes that rest (1 % away, re-priced once a minute): the halt's read of open orders
    // never falls in a re-pricing's cancel-to-place gap (it did: no mm order seen, exit 0)
    const cfg = writeConfig(tmp, 'resting.json', {strategy: {kind: 'naive', baseSpread: 0.01, baseSize: '0.010', baseInterval: 60_000}})
    const q = spawnQuote(sim, join(tmp, 'the-quote'), ['--config', cfg])
    try {
      const working = async () => (await sim.state({books: true})).orders.filter((o) => o.clientOrderId.startsWith('mm-') && o.status === 'NEW').map((o) => o.clientOrderId)
      await waitFor(async () => (await working()).length > 0, `the quote quoting (its stderr: ${q.stderr().slice(-500)})`, 60_000)
      const elsewhere = join(tmp, 'mistyped')
      const r = await runCli(['halt', '--symbol', SYM, '--state-dir', elsewhere, '--rest-url', sim.restUrl, '--json'], {env: LIVE_ENV})
      expect(r.code, r.stderr).toBe(3)
      const d = JSON.parse(r.stdout).data as {ordersLeft: string[]; cancelled: number; notes: string[]; exitCode: number}
      expect(d.cancelled).toBe(0)
      expect(d.ordersLeft.length).toBeGreaterThan(0)
      for (const id of d.ordersLeft) expect(id).toMatch(/^mm-/)
      expect(d.notes).toHaveLength(1)
      expect(d.notes[0]).toBe(`no state.json in ${elsewhere} before this halt: no quote of this state dir is known, and ${d.ordersLeft.length} mm order(s) are working on the venue (${d.ordersLeft.slice(0, 5).join(', ')}${d.ordersLeft.length > 5 ? ', …' : ''}): another mm instance looks live and this halt does not reach it; nothing was cancelled — pass that quote's --state-dir (or MM_STATE_DIR), or --all to cancel every order of the symbol`)
      // the quote was not reached: still running, not halted
      expect(q.child.exitCode).toBe(null)
      const text = await runCli(['halt', '--symbol', SYM, '--state-dir', join(tmp, 'mistyped2'), '--rest-url', sim.restUrl], {env: LIVE_ENV})
      expect(text.code, text.stderr).toBe(3)
      expect(text.stdout).toMatch(/^ETHUSDC: manual halt \(manual\) by .+ until mm resume; via state\.json \(no quote running\)\n\d+ order\(s\) not confirmed cancelled: mm-/)
      expect(text.stderr).toMatch(/^note: no state\.json in \S+mistyped2 before this halt: no quote of this state dir is known, and \d+ mm order\(s\) are working on the venue/)
      expect(text.stderr).not.toMatch(/\n\s+at /)
      const nokeys = join(tmp, 'mistyped-nokeys')
      const n = await runCli(['halt', '--symbol', SYM, '--state-dir', nokeys, '--rest-url', sim.restUrl], {env: {MM_API_KEY: undefined, MM_API_SECRET: undefined}})
      expect(n.code, n.stderr).toBe(0)
      expect(n.stderr).toBe(`note: no state.json in ${nokeys} before this halt: no quote of this state dir is known; a quote running under another --state-dir (or MM_STATE_DIR, user, host) is not reached, and the venue was not asked: no API keys (MM_API_KEY and MM_API_SECRET, or --key-file)\n`)
      // its last line does not say "no order of ours remains": nothing was asked (review4)
      expect(n.stdout.trim().split('\n').pop()).toBe('no quote of this state dir is known, and the venue was not asked (no API keys): mm orders working under another state dir, if any, are not known')
    } finally {
      q.child.kill('SIGTERM')
      await q.exited
    }
  })
})

describe('mm status --live with an unreadable state.json', () => {
  it("names the file, still shows the venue's position and orders, exit 3 (--check: 1)", async () => {
    const text = '{"schema":1,"symbol":"ETHU'
    const dir = stateDirWith('status-live', text)
    const path = join(dir, SYM, 'state.json')
    await order({side: 'SELL', type: 'MARKET', quantity: '0.2'})
    await order({side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '3000.00', quantity: '0.010', newClientOrderId: 'web_manual_1'})
    // the sim's own figure (the quote of the test before may have left a fill or two)
    const pos = (await sim.state({books: true})).positions.find((p) => p.symbol === SYM)?.positionAmt ?? '0'
    expect(pos).not.toBe('0')
    const live = (extra: string[]) => runCli(['status', '--live', '--state-dir', dir, '--rest-url', sim.restUrl, ...extra], {env: LIVE_ENV})
    for (const extra of [[], ['--symbol', SYM]]) {
      const r = await live(extra)
      expect(r.code, r.stderr).toBe(3)
      expect(r.stderr).toBe('')
      const lines = r.stdout.split('\n')
      expect(lines).toContain(`${SYM}: state file ${path} is corrupt (not JSON, 26 bytes)`)
      expect(lines.find((l) => l.startsWith('  position '))).toMatch(new RegExp(`^ {2}position ${pos.replace('.', '\\.')} @ \\d+(\\.\\d+)?; mark \\d+`))
      expect(lines).toContain('  open orders: 0 ours, 0 of another mm instance, 1 foreign')
      expect(lines).toContain('  drift: not compared (state.json cannot be read)')
    }
    const j = await live(['--json'])
    expect(j.code).toBe(3)
    const d = JSON.parse(j.stdout).data as {healthy: boolean; drift: boolean; symbols: Array<{error: {code: string}; live: {position: string; counts: Record<string, number>; drift: unknown}}>}
    expect(d.healthy).toBe(false)
    expect(d.drift).toBe(false)
    expect(d.symbols[0].error.code).toBe('E_STATE_CORRUPT')
    expect(d.symbols[0].live).toMatchObject({position: pos, counts: {ours: 0, 'other-instance': 0, foreign: 1}, drift: null})
    expect((await live(['--check'])).code).toBe(1)
    expect(readFileSync(path, 'utf8')).toBe(text)
  })
})

describe('mm halt with an unreadable state.json', () => {
  it("says no mm order remains when the venue confirmed it (exit 3: the halt is not recorded); without keys, that the venue did not", async () => {
    const dir = stateDirWith('halt-unreadable', '')
    const path = join(dir, SYM, 'state.json')
    const mine = 'mm-dead0002-bid-0'
    await order({side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '3000.00', quantity: '0.010', newClientOrderId: mine})
    const r = await runCli(['halt', '--symbol', SYM, '--state-dir', dir, '--rest-url', sim.restUrl], {env: LIVE_ENV})
    expect(r.code, r.stderr).toBe(3)
    expect(r.stdout).toBe(`${SYM}: no halt recorded; via state.json (no quote running)\nno order of ours remains\n`)
    expect(r.stderr).toBe(`note: state file ${path} is corrupt (not JSON: empty): the halt is not recorded (mm quote refuses to start on this file until it is mended or moved aside)\nnote: cancelled 1 order(s) on the venue\n`)
    expect((await sim.state({books: true})).orders.find((o) => o.clientOrderId === mine)?.status).toBe('CANCELED')
    const j = await runCli(['halt', '--symbol', SYM, '--state-dir', dir, '--rest-url', sim.restUrl, '--json'], {env: LIVE_ENV})
    expect(JSON.parse(j.stdout).data).toMatchObject({ordersLeft: [], venueChecked: true, exitCode: 3})
    const n = await runCli(['halt', '--symbol', SYM, '--state-dir', dir, '--rest-url', sim.restUrl], {env: {MM_API_KEY: undefined, MM_API_SECRET: undefined}})
    expect(n.code).toBe(3)
    expect(n.stdout).toBe(`${SYM}: no halt recorded; via state.json (no quote running)\nthe venue did not confirm that no order of ours remains\n`)
    expect(readFileSync(path, 'utf8')).toBe('')
  })
})

describe('mm flatten with keys, the venue unreachable', () => {
  it('records the halt (as without keys), one line saying nothing was sent and the halt recorded, exit 1', async () => {
    const s: StateFile = {...emptyState(SYM, false, '2026-12-01T00:00:00.000Z'), instrument: {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}}
    s.position = {...s.position, net: '0.100', avgCost: '3400'}
    const dir = stateDirWith('flatten-unreachable', JSON.stringify(s))
    const path = join(dir, SYM, 'state.json')
    for (const extra of [[], ['--dry-run']]) {
      const r = await runCli(['flatten', '--symbol', SYM, '--state-dir', dir, '--rest-url', 'http://127.0.0.1:1', ...extra], {env: LIVE_ENV})
      expect(r.code, r.stderr).toBe(1)
      expect(r.stdout).toBe('')
      expect(r.stderr).not.toMatch(/\n\s+at /)
      if (extra.length > 0) {
        // the plan only reads: the venue's error as it was
        expect(r.stderr).toBe('mm flatten: GET /fapi/v1/time: connection failed (ECONNREFUSED)\n  hint: check the network and --rest-url\n')
        continue
      }
      expect(r.stderr).toBe('mm flatten: GET /fapi/v1/time: connection failed (ECONNREFUSED); nothing was sent (halt recorded)\n  hint: check the network and --rest-url\n')
      const after = JSON.parse(readFileSync(path, 'utf8')) as StateFile
      expect(after.halt).toMatchObject({kind: 'manual', reason: 'mm flatten', until: null, flatten: true})
      expect(after.position.net).toBe('0.100')
    }
  })
})

describe('mm resume on a state dir without state.json', () => {
  it('says no quote of this state dir is known; creates nothing; exit 0', async () => {
    const dir = join(tmp, 'resume-mistyped')
    const r = await runCli(['resume', '--symbol', SYM, '--state-dir', dir])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe(`${SYM}: not halted\n`)
    expect(r.stderr).toBe(`note: no state.json in ${dir}: no quote of this state dir is known, nothing to resume (a quote under another --state-dir or MM_STATE_DIR is not reached)\n`)
    expect(existsSync(dir)).toBe(false)
  })
})

describe('a half-set key for the operator commands', () => {
  it("one line naming it, exit 2, and a hint for that command (not quote's --dry-run)", async () => {
    const dir = join(tmp, 'half-key')
    const env = {MM_API_KEY: LIVE_ENV.MM_API_KEY, MM_API_SECRET: undefined}
    const ops = 'set both MM_API_KEY and MM_API_SECRET, or pass --key-file PATH (with neither, halt and flatten do what they can without the venue and say what they could not)'
    const cases: Array<[string[], string]> = [
      [['halt', '--symbol', SYM], ops],
      [['flatten', '--symbol', SYM], ops],
      [['status', '--live', '--symbol', SYM], 'set both MM_API_KEY and MM_API_SECRET, or pass --key-file PATH; or leave out --live to read state.json only'],
    ]
    for (const [args, hint] of cases) {
      const r = await runCli([...args, '--state-dir', dir, '--rest-url', sim.restUrl], {env})
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr).toBe(`mm ${args[0]}: MM_API_KEY is set but MM_API_SECRET is not\n  hint: ${hint}\n`)
    }
  })
})

describe('mm flatten with keys the venue refuses (-2015)', () => {
  it('exit 1, one line naming the symbol, the venue\'s refusal, nothing sent, halt recorded', async () => {
    const s: StateFile = {...emptyState(SYM, false, '2026-12-01T00:00:00.000Z'), instrument: {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}}
    s.position = {...s.position, net: '0.100', avgCost: '3400'}
    const dir = stateDirWith('flatten-refused', JSON.stringify(s))
    const from = (await sim.state()).requests.length
    const r = await runCli(['flatten', '--symbol', SYM, '--state-dir', dir, '--rest-url', sim.restUrl], {env: {MM_API_KEY: '0'.repeat(64), MM_API_SECRET: LIVE_ENV.MM_API_SECRET}})
    expect(r.code, r.stderr).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('mm flatten: ETHUSDC: cannot cancel ours before closing: GET /fapi/v1/openOrders: HTTP 401: Invalid API-key, IP, or permissions for action. (code -2015); nothing was sent (halt recorded)\n')
    expect((await sim.state()).requests.slice(from).filter((x) => x.method !== 'GET').map((x) => `${x.method} ${x.path}`)).toEqual([])
    const after = JSON.parse(readFileSync(join(dir, SYM, 'state.json'), 'utf8')) as StateFile
    expect(after.halt).toMatchObject({kind: 'manual', reason: 'mm flatten', flatten: true})
  })
})

describe('mm halt, no quote, its terminal hangs up while it cancels on a slow venue', () => {
  it('SIGHUP does not stop it: the orders are cancelled and the halt recorded, exit 0', async () => {
    const slow = await startLiveSim(['--synthetic', '--seed', '24', '--latency', '1500ms'])
    try {
      const mine = 'mm-ab12xyz-bid-0'
      const r0 = await signed(slow.restUrl, 'POST', '/fapi/v1/order', {symbol: SYM, side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '3000.00', quantity: '0.010', newClientOrderId: mine})
      expect(r0.status, JSON.stringify(r0.body)).toBe(200)
      const s: StateFile = {...emptyState(SYM, false, '2026-12-01T00:00:00.000Z'), instrument: {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}}
      s.orders = {[mine]: {side: 'BUY', price: '3000.00', qty: '0.010', filled: '0', status: 'NEW', tif: 'GTC', reduceOnly: false, layer: 'dyn', sentAt: '2026-12-01T00:00:00.000Z'}}
      const dir = stateDirWith('halt-hangup', JSON.stringify(s))
      const lock = join(dir, SYM, 'lock')
      const h = spawnCli(['halt', '--symbol', SYM, '--state-dir', dir, '--rest-url', slow.restUrl], {env: LIVE_ENV})
      // it holds the lock: the venue calls (1.5 s each) are under way, the halt not yet written
      await waitFor(() => existsSync(lock) || h.child.exitCode !== null, 'halt to take the lock', 60_000, 5)
      expect(h.child.exitCode).toBe(null)
      h.child.kill('SIGHUP')
      const {code, signal} = await h.exited
      expect({code, signal}, h.stderr()).toEqual({code: 0, signal: null})
      const after = JSON.parse(readFileSync(join(dir, SYM, 'state.json'), 'utf8')) as StateFile
      expect(after.halt).toMatchObject({kind: 'manual', reason: 'manual', until: null})
      expect(after.orders).toEqual({})
      expect((await slow.state({books: true})).orders.find((o) => o.clientOrderId === mine)?.status).toBe('CANCELED')
      expect(existsSync(lock)).toBe(false)
    } finally {
      await slow.stop()
    }
  })
})
