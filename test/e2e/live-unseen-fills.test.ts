/**
 * Fills the user stream never told, learnt from an answer (review-live): live `mm quote`
 * against `mm sim --user-stream-silent-after 2s`, both through bin/run.js, with the audit
 * far apart (60 s). The quote learns each filled order from the query that settles its
 * refused cancel (FILLED); the adapter then reads the fills back from userTrades at once.
 * Before, the position stayed as the stream last told until the audit: believed short at
 * the cap, it bid and was filled again and again, and the venue's position went past
 * netMax 0.02 (this test: 0.03 over 10 fills, 1 of them booked; a 75 s run with the
 * default 30 s audit: 0.050). Until the read-back books them, the fills an answer showed
 * count against netMax on their side (netmax-unseen; before, the slot a filled order freed
 * was quoted again before its fill was booked and that order could fill too: one order
 * past netMax, a review run 0.030): the bound asserted is netMax itself.
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Decimal} from 'decimal.js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt} from '../support/cli.js'
import {type LiveSim, readState, spawnQuote, startLiveSim, waitFor, writeConfig} from '../support/live-sim.js'

const NET_MAX = '0.02'
const BASE_SIZE = '0.010'
let tmp: string
let sim: LiveSim | undefined

beforeAll(() => {
  ensureBuilt('quote')
  ensureBuilt('sim')
  tmp = mkdtempSync(join(tmpdir(), 'mm-live-unseen-'))
})

afterAll(async () => {
  await sim?.stop()
})

describe('live quote with a silent user stream (review-live)', () => {
  it('fills an answer shows but the stream never told are read back at once: booked between audits, the venue position within netMax', async () => {
    const scfg = writeConfig(tmp, 'sim.json', {paper: {queueModel: 'prob-power'}})
    sim = await startLiveSim(['--synthetic', '--seed', '7', '--config', scfg, '--user-stream-silent-after', '2s'])
    const qcfg = writeConfig(tmp, 'quote.json', {
      strategy: {kind: 'naive', baseSpread: 0.00001, baseSize: BASE_SIZE, baseInterval: 500},
      risk: {netMax: NET_MAX, reduceOnlyThreshold: 2},
      live: {auditIntervalMs: 60_000},
    })
    const stateDir = join(tmp, 'state')
    const s = sim
    const q = spawnQuote(s, stateDir, ['--config', qcfg, '--instance', 'usf', '--json'])
    try {
      await waitFor(async () => (await s.state({books: true})).trades.length >= 10, '10 fills at the sim', 150_000, 250)
    } finally {
      q.child.kill('SIGTERM')
    }
    const {code} = await q.exited
    expect(code, q.stderr() + q.stdout()).toBe(0)
    const st = await s.state({books: true})
    let pos = new Decimal(0)
    let maxAbs = new Decimal(0)
    for (const t of [...st.trades].sort((a, b) => a.id - b.id)) {
      pos = t.side === 'BUY' ? pos.add(t.qty) : pos.sub(t.qty)
      if (pos.abs().gt(maxAbs)) maxAbs = pos.abs()
    }
    console.log(`live-unseen-fills: ${st.trades.length} fills at the sim, ${readState(stateDir).position.fills} booked, max |position| ${maxAbs}`)
    expect(maxAbs.lte(new Decimal(NET_MAX)), `max |position| ${maxAbs} with netMax ${NET_MAX}`).toBe(true)
    // the stream told the fills of its first 2 s only; the rest were read back (the audit, 60 s apart, never ran)
    expect(readState(stateDir).position.fills).toBeGreaterThanOrEqual(st.trades.length - 2)
  }, 200_000)
})
