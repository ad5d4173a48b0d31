/**
 * `mm flatten` (no quote, keys) against `mm sim --lose-responses 1`: the venue carries the
 * reduce-only IOC out and drops the connection without an answer. The order may have
 * filled (here it did: the position is gone), so it is not "rejected". Before: the round
 * was printed and recorded `→ filled 0 (rejected)` while the final line said "outcome
 * unknown" and the venue's position was already flat or smaller — an operator reading the
 * round believes nothing was closed. Now: `→ no answer: outcome unknown, it may have filled`,
 * status `unknown` in state.json and --json; the position after is the venue's.
 */
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {type SimProc, signed, startSim, TEST_KEY, TEST_SECRET} from '../support/sim-cli.js'

let sim: SimProc
const tmp = mkdtempSync(join(tmpdir(), 'mm-flatten-lost-'))
const keys = {MM_API_KEY: TEST_KEY, MM_API_SECRET: TEST_SECRET}

async function position(): Promise<string> {
  const r = await signed(sim.restUrl, 'GET', '/fapi/v3/positionRisk', {symbol: 'SOLUSDT'})
  return (r.body as Array<{positionAmt: string}>)[0]?.positionAmt ?? '0'
}

beforeAll(async () => {
  ensureBuilt('flatten')
  sim = await startSim(['--symbol', 'SOLUSDT', '--tick-size', '0.01', '--step-size', '1', '--min-notional', '5', '--start-price', '140.12', '--lose-responses', '1'])
  // a long of 7 (the order is carried out; its answer is lost by the fault)
  await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: 'SOLUSDT', side: 'BUY', type: 'MARKET', quantity: '7'}).catch(() => undefined)
  for (let i = 0; i < 200 && (await position()) !== '7'; i++) await new Promise((r) => setTimeout(r, 25))
  expect(await position()).toBe('7')
})
afterAll(async () => {
  await sim?.stop()
  rmSync(tmp, {recursive: true, force: true})
})

describe('mm flatten: an IOC whose answer is lost', () => {
  it('is said and recorded as outcome unknown, not rejected', async () => {
    const r = await runCli(['flatten', '--symbol', 'SOLUSDT', '--max-slip', '0.01', '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', tmp], {env: keys})
    const round = r.stdout.split('\n').find((l) => l.startsWith('round 1:'))
    expect(round).toMatch(/^round 1: SELL 7 @ \d+\.\d{2} \(mid \d+\.\d+\) → no answer: outcome unknown, it may have filled \(unknown\)$/)
    expect(r.stdout).not.toContain('(rejected)')
    expect(await position()).toBe('0')
    const state = JSON.parse(readFileSync(join(tmp, 'SOLUSDT', 'state.json'), 'utf8'))
    expect(state.flatten.rounds.map((x: {status: string; filled: string}) => [x.status, x.filled])).toEqual([['unknown', '0']])
    // the venue's position after it: flat, exit 0, the failed call said in the final line
    expect(r.stdout).toMatch(/flat after 1 order\(s\) in 1 round\(s\) \(an order call failed: POST \/fapi\/v1\/order: .*outcome unknown.*; the venue's position is flat\)/)
    expect(r.code).toBe(0)
  })
})
