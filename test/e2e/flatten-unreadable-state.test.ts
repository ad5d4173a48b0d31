/**
 * `mm flatten` when the symbol's state.json cannot be read (truncated by a full disk,
 * corrupt, hand-edited). Before, it exited 2 on the file and sent nothing: an emergency
 * close was stopped by a file the venue's position does not depend on. Now, with API keys,
 * it closes the venue's position (every mm order of the symbol cancelled first, as
 * `mm halt` does on such a file), says in one line that the file was not used nor updated,
 * and leaves the file as it was; without keys the position cannot be known: one line, exit 3,
 * nothing sent. Driven through bin/run.js against `mm sim`.
 */
import {existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {LIVE_ENV, type LiveSim, startLiveSim} from '../support/live-sim.js'
import {signed} from '../support/sim-cli.js'

vi.setConfig({testTimeout: 120_000, hookTimeout: 60_000})

const SYM = 'ETHUSDC'
const tmp = mkdtempSync(join(tmpdir(), 'mm-flatten-unreadable-'))
const NO_KEYS = {MM_API_KEY: undefined, MM_API_SECRET: undefined}
let sim: LiveSim

beforeAll(async () => {
  ensureBuilt('flatten')
  sim = await startLiveSim(['--synthetic', '--seed', '21'])
})

afterAll(async () => {
  await sim?.stop()
})

const position = async () => (await sim.state()).positions.find((p) => p.symbol === SYM)?.positionAmt ?? '0'
const order = async (params: Record<string, string>) => {
  const r = await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: SYM, ...params})
  expect(r.status, JSON.stringify(r.body)).toBe(200)
}
/** a state dir whose ETHUSDC/state.json holds `text` */
const stateDirWith = (name: string, text: string) => {
  const dir = join(tmp, name)
  mkdirSync(join(dir, SYM), {recursive: true})
  writeFileSync(join(dir, SYM, 'state.json'), text)
  return dir
}
const flatten = (dir: string, env: Record<string, string | undefined>, extra: string[] = []) => runCli(['flatten', '--symbol', SYM, '--rest-url', sim.restUrl, '--state-dir', dir, '--max-slip', '0.01', ...extra], {env})
/** requests other than reads since `from` */
const writesSince = async (from: number) => (await sim.state()).requests.slice(from).filter((x) => x.method !== 'GET').map((x) => `${x.method} ${x.path}`)

describe('mm flatten with an unreadable state.json', () => {
  it('no API keys: one line naming the file and why, exit 3, nothing sent, the file left as it is', async () => {
    const text = '{"schema":1,"symbol":"ETHU'
    const dir = stateDirWith('nokeys', text)
    const path = join(dir, SYM, 'state.json')
    const from = (await sim.state()).requests.length
    for (const extra of [[], ['--dry-run']]) {
      const r = await flatten(dir, NO_KEYS, extra)
      expect(r.code, r.stderr).toBe(3)
      expect(r.stdout).toBe('')
      expect(r.stderr.split('\n')[0]).toBe(`mm flatten: ${SYM}: state file ${path} is corrupt (not JSON, 26 bytes): the position cannot be known from it, and the venue was not asked: no API keys (MM_API_KEY and MM_API_SECRET, or --key-file); nothing was done`)
      expect(r.stderr).not.toMatch(/\n\s+at /)
    }
    const j = await flatten(dir, NO_KEYS, ['--json'])
    expect(j.code).toBe(3)
    expect(JSON.parse(j.stdout).error).toMatchObject({code: 'E_STATE_CORRUPT', exitCode: 3})
    expect(readFileSync(path, 'utf8')).toBe(text)
    expect(existsSync(join(dir, SYM, 'lock'))).toBe(false)
    expect(await writesSince(from)).toEqual([])
  })

  it('with keys and the venue unreachable: one line names both the connection and the file, exit 1, nothing written', async () => {
    const text = '{"schema":1,"symbol":"ETHU'
    const dir = stateDirWith('unreachable', text)
    const path = join(dir, SYM, 'state.json')
    for (const extra of [[], ['--dry-run']]) {
      const r = await runCli(['flatten', '--symbol', SYM, '--rest-url', 'http://127.0.0.1:9', '--state-dir', dir, '--max-slip', '0.01', ...extra], {env: LIVE_ENV})
      expect(r.code, r.stderr).toBe(1)
      expect(r.stdout).toBe('')
      // before: only "GET /fapi/v1/time: connection failed (ECONNREFUSED)", the file's problem unsaid
      expect(r.stderr.split('\n')[0]).toBe(`mm flatten: GET /fapi/v1/time: connection failed (ECONNREFUSED); and ${SYM}'s state file ${path} is corrupt (not JSON, 26 bytes): the position is known from neither; nothing was sent`)
      expect(r.stderr).not.toMatch(/\n\s+at /)
    }
    expect(readFileSync(path, 'utf8')).toBe(text)
    expect(existsSync(join(dir, SYM, 'lock'))).toBe(false)
  })

  it('keys the venue refuses (-2015): one line names both the refusal and the file, exit 1, nothing sent (review6)', async () => {
    const text = '{"schema":1,"symbol":"ETHU'
    const dir = stateDirWith('refused', text)
    const path = join(dir, SYM, 'state.json')
    const from = (await sim.state()).requests.length
    for (const extra of [[], ['--dry-run']]) {
      const r = await flatten(dir, {MM_API_KEY: 'wrongkey0123456789', MM_API_SECRET: 'wrongsecret0123456789'}, extra)
      expect(r.code, r.stderr).toBe(1)
      // before: only "GET /fapi/v3/positionRisk: HTTP 401: … (code -2015)", the file's problem unsaid
      expect(r.stderr.split('\n')[0]).toBe(`mm flatten: GET /fapi/v3/positionRisk: HTTP 401: Invalid API-key, IP, or permissions for action. (code -2015); and ${SYM}'s state file ${path} is corrupt (not JSON, 26 bytes): the position is known from neither; nothing was sent`)
    }
    expect(readFileSync(path, 'utf8')).toBe(text)
    expect((await writesSince(from)).filter((w) => w.startsWith('POST /fapi/v1/order') || w.startsWith('POST /fapi/v1/batchOrders'))).toEqual([])
  })

  it('with keys: --dry-run plans on the venue\'s position; the run cancels the mm orders, closes the position (exit 0) and leaves the file as it is', async () => {
    // truncated by a full disk: an empty file
    const dir = stateDirWith('keys', '')
    const path = join(dir, SYM, 'state.json')
    await order({side: 'BUY', type: 'MARKET', quantity: '0.5'})
    expect(await position()).toBe('0.5')
    // a dead quote's resting order (an mm client id) and a foreign one, far from the market
    await order({side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '3000.00', quantity: '0.010', newClientOrderId: 'mm-dead0001-bid-0'})
    await order({side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '3000.00', quantity: '0.010', newClientOrderId: 'web_manual_1'})
    const note = `note: state file ${path} is corrupt (not JSON: empty)`

    const plan = await flatten(dir, LIVE_ENV, ['--dry-run'])
    expect(plan.code, plan.stderr).toBe(0)
    expect(plan.stderr).toBe(`${note}: not used; the position is the venue's\n`)
    expect(plan.stdout).toMatch(/^ETHUSDC: position 0\.500 \(the venue's\); mid /)
    expect(await position()).toBe('0.5')

    const r = await flatten(dir, LIVE_ENV, ['--json'])
    expect(r.code, r.stderr).toBe(0)
    const d = JSON.parse(r.stdout).data as {positionBefore: string; positionAfter: string; residual: string; notes: string[]}
    expect([d.positionBefore, d.positionAfter, d.residual]).toEqual(['0.500', '0.000', '0.000'])
    expect(d.notes).toEqual([
      `${note.slice('note: '.length)}: not used and not updated; the position closed is the venue's, the halt and the flatten's fills are not recorded in it`,
      'cancelled 1 mm order(s) of the symbol on the venue',
    ])
    expect(await position()).toBe('0')
    const open = (await sim.state()).orders.filter((o) => o.status === 'NEW').map((o) => o.clientOrderId)
    expect(open).toEqual(['web_manual_1'])
    expect(readFileSync(path, 'utf8')).toBe('')
    expect(existsSync(join(dir, SYM, 'lock'))).toBe(false)

    // text output: the note on stderr, the final line on stdout
    const again = await flatten(dir, LIVE_ENV)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).toBe(`${note}: not used and not updated; the position closed is the venue's, the halt and the flatten's fills are not recorded in it\n`)
    expect(again.stdout).toBe('ETHUSDC: no position\n')
  })
})
