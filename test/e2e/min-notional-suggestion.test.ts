/**
 * The start-up note's size for a baseSize below MIN_NOTIONAL clears the minimum at the bid the
 * strategy quotes, not only at the mid. Driven on `mm sim` with unusual filters: a
 * 1000PEPE-like contract (tick 0.00001, step 1000, min notional 5) with baseSpread 0.1, and a
 * BTC-like one (tick 10, step 0.001, min notional 100) with baseSpread 0.04. Before: the note
 * asked for 2000 / 0.002 (the min notional over the mid, up to the step); at the bid (the mid
 * less half of baseSpread, down to the tick) that is below the minimum, so a run with the
 * size the note asked for had its bid dropped at every decision (`mm quote --dry-run` with
 * baseSize 0.002: `note: strategy.baseSize 0.002 × the bid 49580 (mid 50090 …) = 99.16 is
 * below BTCUSDT's min notional 100: the bid is dropped …`).
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {PlainDecimal} from '../../src/lib/domain/decimal.js'
import {ensureBuilt, spawnCli} from '../support/cli.js'
import {startLiveSim, writeConfig} from '../support/live-sim.js'

const tmp = mkdtempSync(join(tmpdir(), 'mm-min-notional-suggestion-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

const cases = [
  {symbol: 'PEPEUSDT', tick: '0.00001', step: '1000', min: '5', start: '0.00251', baseSize: '1000', spread: 0.1, netMax: '100000'},
  {symbol: 'BTCUSDT', tick: '10', step: '0.001', min: '100', start: '50100', baseSize: '0.001', spread: 0.04, netMax: '1'},
]

describe('min notional: the size the note suggests', () => {
  for (const c of cases) {
    it(`${c.symbol} (tick ${c.tick}, step ${c.step}, min notional ${c.min}, baseSpread ${c.spread}): the size clears the minimum at the bid, and is the least that does`, async () => {
      ensureBuilt('quote')
      const sim = await startLiveSim(['--synthetic', '--seed', '7', '--symbol', c.symbol, '--tick-size', c.tick, '--step-size', c.step, '--min-notional', c.min, '--start-price', c.start])
      try {
        const cfg = writeConfig(tmp, `${c.symbol}.json`, {strategy: {baseSize: c.baseSize, baseSpread: c.spread}, risk: {netMax: c.netMax}})
        const q = spawnCli(['quote', '--dry-run', '--symbol', c.symbol, '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', join(tmp, c.symbol), '--config', cfg])
        let m: RegExpMatchArray
        try {
          m = await q.waitFor(/^note: strategy\.baseSize \S+ × (\S+) = \S+ is below \S+ min notional \S+: no quote can be placed \(raise baseSize to ≥ ([\d.]+)(?:, which clears it at the bid ([\d.]+) too)?\)$/m, 'stderr', 90_000)
        } finally {
          q.child.kill('SIGTERM')
        }
        const {code} = await q.exited
        expect(code, q.stderr()).toBe(0)
        const mid = new PlainDecimal(m[1])
        const need = new PlainDecimal(m[2])
        const min = new PlainDecimal(c.min)
        // the bid the strategy quotes at that mid: the mid less half of baseSpread, down to the tick
        const bid = mid.mul(1 - c.spread / 2).div(c.tick).floor().mul(c.tick)
        expect(need.mul(bid).gte(min), `${need} × ${bid}`).toBe(true)
        expect(need.mul(mid).gte(min)).toBe(true)
        expect(need.sub(c.step).mul(bid).lt(min), `${need} − ${c.step} is enough at ${bid}`).toBe(true)
        expect(need.div(c.step).isInteger()).toBe(true)
        expect(m[3]).toBe(bid.toString())
      } finally {
        await sim.stop()
      }
    }, 180_000)
  }
})

describe('min notional at the bid: the naive baseline', () => {
  it('strategy.kind naive quotes its bid at the mid less half of baseSpread too: the note says it is dropped (before: nothing said, order_dropped at every decision)', async () => {
    ensureBuilt('quote')
    const sim = await startLiveSim(['--synthetic', '--seed', '7', '--symbol', 'BTCUSDT', '--tick-size', '10', '--step-size', '0.001', '--min-notional', '100', '--start-price', '50500'])
    try {
      const cfg = writeConfig(tmp, 'naive.json', {strategy: {kind: 'naive', baseSize: '0.002', baseSpread: 0.04}, risk: {netMax: '1'}})
      const q = spawnCli(['quote', '--dry-run', '--symbol', 'BTCUSDT', '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', join(tmp, 'naive'), '--config', cfg, '--duration', '4s'])
      const {code} = await q.exited
      expect(code, q.stderr()).toBe(0)
      const notes = q.stderr().split('\n').filter((l) => l.includes('min notional'))
      expect(notes).toHaveLength(1)
      const m = /^note: strategy\.baseSize 0\.002 × the bid (\d+) \(mid (\d+(?:\.5)?) less half of strategy\.baseSpread 0\.04\) = ([\d.]+) is below BTCUSDT's min notional 100: the bid is dropped, only the ask is quoted \(raise baseSize to ≥ 0\.003\)$/.exec(notes[0])
      expect(m, notes[0]).not.toBeNull()
      const bid = new PlainDecimal(m![2]).mul('0.98').div(10).floor().mul(10)
      expect(m![1]).toBe(bid.toString())
      expect(m![3]).toBe(bid.mul('0.002').toString())
    } finally {
      await sim.stop()
    }
  }, 180_000)
})
