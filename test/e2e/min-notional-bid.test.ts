/**
 * The start-up note on MIN_NOTIONAL looks at the bid the strategy quotes, not only the mid:
 * `mm quote --dry-run` against `mm sim --min-notional 101` with baseSize 0.030 and
 * baseSpread 0.05 (0.030 × ~3400 ≈ 102 clears it at the mid; the bid, the mid less 2.5 %,
 * does not). Before: no note, and the bid was dropped at every decision (live against
 * `mm sim --min-notional 102` with the 0.030 the mid-based note asked for: 10 asks and 1 bid
 * in 12 s, only `order_dropped` events in the run log).
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {ensureBuilt, spawnCli} from '../support/cli.js'
import {startLiveSim, writeConfig} from '../support/live-sim.js'

const tmp = mkdtempSync(join(tmpdir(), 'mm-min-notional-bid-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

describe('min notional at the bid', () => {
  it('says the bid is dropped and the size that would do; the run goes on, SIGTERM → exit 0', async () => {
    ensureBuilt('quote')
    const sim = await startLiveSim(['--synthetic', '--seed', '7', '--symbol', 'ETHUSDC', '--min-notional', '101'])
    try {
      const cfg = writeConfig(tmp, 'cfg.json', {strategy: {baseSize: '0.030', baseSpread: 0.05}, risk: {netMax: '0.3'}})
      const q = spawnCli(['quote', '--dry-run', '--symbol', 'ETHUSDC', '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', join(tmp, 'state'), '--config', cfg])
      try {
        const [, bid, mid, product, need] = await q.waitFor(/^note: strategy\.baseSize 0\.030 × the bid (\d+\.\d{2}) \(mid (\d+\.\d+) less half of strategy\.baseSpread 0\.05\) = (\d+\.\d+) is below ETHUSDC's min notional 101: the bid is dropped, only the ask is quoted \(raise baseSize to ≥ (0\.\d{3})\)$/m, 'stderr', 90_000)
        expect(Number(bid)).toBeLessThanOrEqual(Number(mid) * 0.975)
        expect(Number(bid)).toBeGreaterThan(Number(mid) * 0.975 - 0.01)
        expect(Number(product)).toBeCloseTo(Number(bid) * 0.03, 9)
        expect(Number(need) * Number(bid)).toBeGreaterThanOrEqual(101)
        expect((Number(need) - 0.001) * Number(bid)).toBeLessThan(101)
      } finally {
        q.child.kill('SIGTERM')
      }
      const {code} = await q.exited
      expect(code, q.stderr()).toBe(0)
      expect(q.stderr().split('\n').filter((l) => l.includes('min notional'))).toHaveLength(1)
    } finally {
      await sim.stop()
    }
  }, 180_000)
})
