/**
 * `mm status --live` when the venue's position is not on the step state.json keeps (the
 * venue refined the symbol's step since the last quote wrote it: 0.015 on a kept step of
 * 0.01), against the real `mm sim`. Before, the whole command failed on it ("mm status:
 * venue …: 0.015 has more than 2 decimals", exit 1), at the moment the drift it exists to show
 * was there; now the venue's amount is shown as it is, and the drift named.
 */
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {emptyState} from '../../src/lib/state/file.js'
import {ensureBuilt, runCli} from '../support/cli.js'
import {type SimProc, signed, startSim, TEST_KEY, TEST_SECRET} from '../support/sim-cli.js'

vi.setConfig({testTimeout: 120_000, hookTimeout: 60_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-status-live-grid-'))
const ENV = {MM_API_KEY: TEST_KEY, MM_API_SECRET: TEST_SECRET}
let sim: SimProc

beforeAll(async () => {
  for (const c of ['status', 'sim']) ensureBuilt(c)
  sim = await startSim()
})

afterAll(async () => {
  await sim.stop()
})

describe('mm status --live: a venue position off the kept step', () => {
  it("shows the venue's amount as it is and the drift, instead of failing", async () => {
    const r = await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: 'ETHUSDC', side: 'BUY', type: 'MARKET', quantity: '0.015'})
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    const S = join(tmp, 'state')
    const s = emptyState('ETHUSDC', false, new Date().toISOString())
    s.instrument = {tickSize: '0.01', stepSize: '0.01', minQty: '0.01', minNotional: '20'}
    s.position = {...s.position, net: '0.01'}
    mkdirSync(join(S, 'ETHUSDC'), {recursive: true})
    writeFileSync(join(S, 'ETHUSDC', 'state.json'), JSON.stringify(s))

    const j = await runCli(['status', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', sim.restUrl, '--live', '--json'], {env: ENV})
    expect(j.code, j.stderr).toBe(0)
    const live = JSON.parse(j.stdout).data.symbols[0].live
    expect(live).toMatchObject({position: '0.015', drift: {any: true, position: {state: '0.01', venue: '0.015'}}})

    const t = await runCli(['status', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', sim.restUrl, '--live'], {env: ENV})
    expect(t.code, t.stderr).toBe(0)
    expect(t.stdout).toMatch(/^ {2}position 0\.015 @ \d+\.\d+; mark /m)
    expect(t.stdout).toContain('DRIFT position: state.json 0.01, venue 0.015')
  })
})
