/**
 * `mm flatten` through a running live quote when the venue holds a position the quote does
 * not count yet (opened by hand or by another tool on the account: the quote's audit takes
 * the venue's position in only after two audits running, live.auditIntervalMs apart).
 * Before: `PEPEUSDT: no position; quoting halted`, exit 0 and `flattened: true` in
 * state.json while the venue held -600000 (found against `mm sim`, tick 0.00001, step 1000).
 * Now, with API keys, the venue's position is asked after the quote's flatten: exit 3 with
 * it as the residual, said.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {LIVE_ENV, startLiveSim, writeConfig} from '../support/live-sim.js'
import {signed} from '../support/sim-cli.js'

vi.setConfig({testTimeout: 180_000})
const SYM = 'PEPEUSDT'
const tmp = mkdtempSync(join(tmpdir(), 'mm-flatten-unseen-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

describe('mm flatten via a running quote: a venue position the quote does not count', () => {
  it('is not reported flat: exit 3, the venue position as the residual', async () => {
    ensureBuilt('flatten')
    const sim = await startLiveSim(['--synthetic', '--seed', '31', '--symbol', SYM, '--tick-size', '0.00001', '--step-size', '1000', '--min-notional', '5', '--start-price', '0.0025'])
    const dir = join(tmp, 'state')
    const cfg = writeConfig(tmp, 'cfg.json', {strategy: {baseSize: '3000', baseSpread: 0.1}, risk: {netMax: '3000000'}})
    const q = spawnCli(['quote', '--symbol', SYM, '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', dir, '--config', cfg], {env: LIVE_ENV})
    try {
      await q.waitFor(/market data in sync; quoting/, 'stderr', 60_000)
      const o = await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: SYM, side: 'SELL', type: 'MARKET', quantity: '600000'})
      expect(o.status, JSON.stringify(o.body)).toBe(200)
      const venuePos = async () => (await sim.state()).positions.find((p) => p.symbol === SYM)?.positionAmt ?? '0'
      // the quote's own orders rest 5 % from the mid (baseSpread 0.1): the MARKET of 600000 does not reach them
      const held = await venuePos()
      expect(held).toBe('-600000')
      const r = await runCli(['flatten', '--symbol', SYM, '--rest-url', sim.restUrl, '--state-dir', dir, '--max-slip', '0.005', '--json'], {env: LIVE_ENV})
      const j = JSON.parse(r.stdout) as {data: {via: string; exitCode: number; positionBefore: string; positionAfter: string; residual: string; final: string; notes: string[]}}
      expect(j.data.via).toBe('quote')
      expect(j.data.positionAfter).toBe(await venuePos())
      expect(j.data.residual).toBe(j.data.positionAfter.replace(/^-/, ''))
      const said = `^residual ${j.data.residual}: the venue holds ${j.data.positionAfter} ${SYM} while the running quote's books say`
      const unseen = ' \\(a position it does not count yet: opened by hand or by another tool\\)'
      // (a fill of the quote's own on the venue's side is closed by its flatten: flat by its books too)
      if (j.data.positionBefore === '0' || new RegExp(`${said} 0${unseen}$`).test(j.data.final)) {
        // the quote's books flat: its flatten has nothing to do, and the venue's position is the residual
        expect(r.code, r.stdout).toBe(3)
        expect(j.data.final).toMatch(new RegExp(`${said} 0${unseen}$`))
      } else {
        // seen once in CI: the quote got a fill of its own (long 3000) before the flatten; its
        // reduce-only SELLs are refused by the short venue, the last still open: its flatten
        // fails (exit 1), and the venue's position is still the residual said (it was the
        // books' 3000: test/state/flatten-quote-venue.test.ts)
        expect(r.code, r.stdout).toBe(1)
        expect(j.data.final).toMatch(new RegExp(`${said} -?\\d+${unseen}; the quote's flatten: residual `))
      }
    } finally {
      q.child.kill('SIGTERM')
      await q.exited
      await sim.stop()
    }
  })
})
