/**
 * `mm halt` with keys, no quote and no state.json, on a symbol the venue does not list (a
 * typo in an emergency: ETHUSCD for ETHUSDC) against `mm sim`. Before: the halt of the
 * non-existent symbol was recorded in a new <state-dir>/ETHUSCD/state.json and the command
 * said "the venue did not confirm that no order of ours remains", exit 3, the venue's
 * "Invalid symbol. (code -1121)" only inside a note; a second run found that state.json and
 * said "no order of ours remains", exit 0 — while the real symbol's quote, if any, was never
 * reached. Now: exit 2, one line naming the symbol and the venue's answer, nothing written,
 * the same on a second run (as `mm quote` and `mm flatten` refuse a symbol the venue does not list).
 */
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {type SimProc, startSim, TEST_KEY, TEST_SECRET} from '../support/sim-cli.js'

let sim: SimProc
const tmp = mkdtempSync(join(tmpdir(), 'mm-halt-unknown-'))

beforeAll(async () => {
  ensureBuilt('halt')
  sim = await startSim(['--symbol', 'ETHUSDC'])
})
afterAll(async () => {
  await sim?.stop()
  rmSync(tmp, {recursive: true, force: true})
})

describe('mm halt on a symbol the venue does not list', () => {
  it('exit 2, one line naming the symbol, no state.json written; the same on a second run', async () => {
    const env = {MM_API_KEY: TEST_KEY, MM_API_SECRET: TEST_SECRET}
    const args = ['halt', '--symbol', 'ETHUSCD', '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', tmp]
    for (let i = 0; i < 2; i++) {
      const r = await runCli(args, {env})
      expect(r.code).toBe(2)
      expect(r.stdout).toBe('')
      const lines = r.stderr.trim().split('\n')
      expect(lines[0]).toBe(`mm halt: ETHUSCD is not listed by the venue (GET /fapi/v1/openOrders: HTTP 400: Invalid symbol. (code -1121)): nothing halted`)
      expect(r.stderr).not.toMatch(/\n\s+at /)
      expect(r.stderr).not.toContain(TEST_SECRET)
      expect(existsSync(join(tmp, 'ETHUSCD', 'state.json'))).toBe(false)
    }
    const json = await runCli([...args, '--json'], {env})
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stdout).error.code).toBe('E_UNKNOWN_SYMBOL')
  })

  it('the listed symbol halts as before: exit 0, recorded', async () => {
    const r = await runCli(['halt', '--symbol', 'ETHUSDC', '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', tmp], {env: {MM_API_KEY: TEST_KEY, MM_API_SECRET: TEST_SECRET}})
    expect(r.stderr + r.stdout).toContain('ETHUSDC: manual halt (manual)')
    expect(r.code).toBe(0)
    expect(existsSync(join(tmp, 'ETHUSDC', 'state.json'))).toBe(true)
  })
})
