/**
 * Operator commands on unhappy inputs, through bin/run.js against `mm sim`:
 * - `mm status --live` with an unreadable state.json: before, exit 2 on the file and the
 *   venue was never asked — in an emergency the venue's position was not shown, and one bad
 *   file hid every symbol. Now the file is named in its row, the venue's view is shown, exit 3.
 */
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {LIVE_ENV, type LiveSim, startLiveSim} from '../support/live-sim.js'
import {signed} from '../support/sim-cli.js'

vi.setConfig({testTimeout: 120_000, hookTimeout: 60_000})

const SYM = 'ETHUSDC'
const tmp = mkdtempSync(join(tmpdir(), 'mm-operator-edges-'))
let sim: LiveSim

beforeAll(async () => {
  ensureBuilt('status')
  ensureBuilt('halt')
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

describe('mm status --live with an unreadable state.json', () => {
  it("names the file, still shows the venue's position and orders, exit 3 (--check: 1)", async () => {
    const text = '{"schema":1,"symbol":"ETHU'
    const dir = stateDirWith('status-live', text)
    const path = join(dir, SYM, 'state.json')
    await order({side: 'SELL', type: 'MARKET', quantity: '0.2'})
    await order({side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '3000.00', quantity: '0.010', newClientOrderId: 'web_manual_1'})
    const live = (extra: string[]) => runCli(['status', '--live', '--state-dir', dir, '--rest-url', sim.restUrl, ...extra], {env: LIVE_ENV})
    for (const extra of [[], ['--symbol', SYM]]) {
      const r = await live(extra)
      expect(r.code, r.stderr).toBe(3)
      expect(r.stderr).toBe('')
      const lines = r.stdout.split('\n')
      expect(lines).toContain(`${SYM}: state file ${path} is corrupt (not JSON, 26 bytes)`)
      expect(lines.find((l) => l.startsWith('  position '))).toMatch(/^ {2}position -0\.2 @ \d+\.\d+; mark \d+/)
      expect(lines).toContain('  open orders: 0 ours, 0 of another mm instance, 1 foreign')
      expect(lines).toContain('  drift: not compared (state.json cannot be read)')
    }
    const j = await live(['--json'])
    expect(j.code).toBe(3)
    const d = JSON.parse(j.stdout).data as {healthy: boolean; drift: boolean; symbols: Array<{error: {code: string}; live: {position: string; counts: Record<string, number>; drift: unknown}}>}
    expect(d.healthy).toBe(false)
    expect(d.drift).toBe(false)
    expect(d.symbols[0].error.code).toBe('E_STATE_CORRUPT')
    expect(d.symbols[0].live).toMatchObject({position: '-0.2', counts: {ours: 0, 'other-instance': 0, foreign: 1}, drift: null})
    expect((await live(['--check'])).code).toBe(1)
    expect(readFileSync(path, 'utf8')).toBe(text)
  })
})
