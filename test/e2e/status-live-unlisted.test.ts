/**
 * `mm status --live` over a state dir that also holds a symbol the venue does not list (a
 * delisted symbol's old state, a testnet symbol's, a halt recorded without keys for a typo),
 * against `mm sim`. Before: the whole command failed, exit 1, "mm status: venue …: GET
 * /fapi/v3/positionRisk: HTTP 400: Invalid symbol. (code -1121)" — without naming the symbol,
 * and without the venue's view of the symbols it does list. Now: every listed symbol is
 * shown as before, the unlisted one is named as such (not compared), exit 3 — as an
 * unreadable state.json is.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {type SimProc, startSim, TEST_KEY, TEST_SECRET} from '../support/sim-cli.js'

let sim: SimProc
const tmp = mkdtempSync(join(tmpdir(), 'mm-status-unlisted-'))
const keys = {MM_API_KEY: TEST_KEY, MM_API_SECRET: TEST_SECRET}

beforeAll(async () => {
  ensureBuilt('status')
  sim = await startSim(['--symbol', 'ETHUSDC'])
  // state for both: the listed symbol through a halt with keys, the other through one without (recorded, venue not asked)
  const a = await runCli(['halt', '--symbol', 'ETHUSDC', '--rest-url', sim.restUrl, '--state-dir', tmp], {env: keys})
  expect(a.code).toBe(0)
  const b = await runCli(['halt', '--symbol', 'OLDUSDT', '--rest-url', sim.restUrl, '--state-dir', tmp], {env: {MM_API_KEY: undefined, MM_API_SECRET: undefined}})
  expect(b.code).toBe(0)
})
afterAll(async () => {
  await sim?.stop()
  rmSync(tmp, {recursive: true, force: true})
})

describe('mm status --live with a symbol the venue does not list', () => {
  it('shows the listed symbol, names the unlisted one, exit 3 (text and --json)', async () => {
    const r = await runCli(['status', '--live', '--rest-url', sim.restUrl, '--state-dir', tmp], {env: keys})
    expect(r.stderr).toBe('')
    expect(r.code).toBe(3)
    expect(r.stdout).toContain(`ETHUSDC on the venue ${sim.restUrl} (instance `)
    expect(r.stdout).toContain('  drift: none (state.json matches the venue)')
    expect(r.stdout).toContain(`OLDUSDT on the venue ${sim.restUrl}: not listed (Invalid symbol. (code -1121)): no position or order there; drift not compared`)

    const j = await runCli(['status', '--live', '--json', '--rest-url', sim.restUrl, '--state-dir', tmp], {env: keys})
    expect(j.code).toBe(3)
    const d = JSON.parse(j.stdout).data
    const old = d.symbols.find((s: {symbol: string}) => s.symbol === 'OLDUSDT')
    const eth = d.symbols.find((s: {symbol: string}) => s.symbol === 'ETHUSDC')
    expect(old.live.unlisted).toBe('Invalid symbol. (code -1121)')
    expect(old.live.drift).toBe(null)
    expect(eth.live.unlisted).toBeUndefined()
    expect(eth.live.position).toBe('0')
    expect(d.drift).toBe(false)
  })

  it('--check still answers for the heartbeat only (exit 0: no quote expected)', async () => {
    const r = await runCli(['status', '--live', '--check', '--rest-url', sim.restUrl, '--state-dir', tmp], {env: keys})
    expect(r.code).toBe(0)
  })
})
