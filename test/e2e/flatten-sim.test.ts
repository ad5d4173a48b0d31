/**
 * `mm flatten` with no quote running, closing a live position on the real `mm sim`
 * (signed endpoints, the documented test keys, GET /__mm/state), issue 9: the position is
 * far larger than the book holds within a tight --max-slip, so each round's reduce-only
 * IOC is cut to the depth within the cap, no order is priced beyond the cap from the
 * round's mid, and what is left is the residual (exit 3, named, equal to the sim's own
 * position). Twice is safe; a wide cap closes it (exit 0); then "no position".
 * The synthetic market moves: every check holds whatever the book looks like.
 */
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {emptyState, type StateFile} from '../../src/lib/state/file.js'
import {ensureBuilt, runCli} from '../support/cli.js'
import {promtool} from '../support/promtool.js'
import {getJson, type SimProc, signed, startSim, TEST_KEY, TEST_SECRET} from '../support/sim-cli.js'

vi.setConfig({testTimeout: 240_000, hookTimeout: 60_000})

const ENV = {MM_API_KEY: TEST_KEY, MM_API_SECRET: TEST_SECRET}
const S = join(mkdtempSync(join(tmpdir(), 'mm-flatten-sim-')), 'state')
const statePath = join(S, 'ETHUSDC', 'state.json')
const prom = join(dirname(S), 'mm_flatten.prom')
const value = (text: string, name: string): number => {
  const m = new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)
  if (!m) throw new Error(`${name} missing from\n${text}`)
  return Number(m[1])
}
let sim: SimProc

beforeAll(async () => {
  ensureBuilt('flatten')
  ensureBuilt('sim')
  sim = await startSim()
})

afterAll(async () => {
  await sim.stop()
})

/** the sim's own position (its ledger), in thousandths (the step) */
async function simPosition(): Promise<bigint> {
  const st = (await getJson(sim.restUrl, '/__mm/state')).body as {positions: Array<{symbol: string; positionAmt: string}>}
  return milli(st.positions.find((p) => p.symbol === 'ETHUSDC')?.positionAmt ?? '0')
}

/** a decimal string × 1000, exactly (prices in tenths of a cent, quantities in steps) */
function milli(s: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d{1,3}))?$/.exec(s)
  if (!m) throw new Error(`not a decimal with ≤ 3 places: ${s}`)
  const v = BigInt(m[2]) * 1000n + BigInt((m[3] ?? '').padEnd(3, '0'))
  return m[1] ? -v : v
}

const qty = (m: bigint) => `${m / 1000n}.${String(m % 1000n).padStart(3, '0')}`

interface Round {round: number; side: string; price: string; qty: string; filled: string; status: string; mid: string | null}

/** every order within the cap from its round's mid: a SELL never below mid × (1 − cap); cap = 1/capDen */
function checkRounds(rounds: Round[], before: bigint, capDen: bigint): void {
  let filled = 0n
  for (const r of rounds) {
    expect(r.side).toBe('SELL')
    expect(r.mid).not.toBeNull()
    expect(milli(r.price) * capDen >= milli(r.mid as string) * (capDen - 1n), `${r.price} within 1/${capDen} of ${r.mid}`).toBe(true)
    // split by the depth: never the whole position in one order when the book cannot take it
    expect(milli(r.qty) <= before - filled).toBe(true)
    expect(milli(r.filled) <= milli(r.qty)).toBe(true)
    expect(['filled', 'expired']).toContain(r.status)
    filled += milli(r.filled)
  }
}

describe('mm flatten against mm sim, no quote running', () => {
  it('a position larger than the depth within the cap: rounds cut to the depth, none beyond the cap, exit 3 with the residual; twice is safe; a wide cap closes; then no position', async () => {
    // a long far beyond what the top of the book holds
    const buy = await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: 'ETHUSDC', side: 'BUY', type: 'MARKET', quantity: '150.000', newOrderRespType: 'RESULT'})
    expect(buy.status, JSON.stringify(buy.body)).toBe(200)
    const start = await simPosition()
    expect(start > 100_000n).toBe(true)
    // the state a live quote leaves: its instrument and instance, the venue's position
    const s = emptyState('ETHUSDC', false, new Date().toISOString())
    s.instrument = {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}
    s.position = {...s.position, net: qty(start)}
    s.process = {pid: 999_999, host: 'elsewhere', startedAt: s.updatedAt, heartbeat: s.updatedAt, running: false, runId: 'r1', runDir: null, instance: 'flt'}
    mkdirSync(join(S, 'ETHUSDC'), {recursive: true})
    writeFileSync(statePath, JSON.stringify(s))

    // a textfile the collector would not read: refused before anything is done (exit 2)
    const bad = await runCli(['flatten', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', sim.restUrl, '--metrics-textfile', join(dirname(S), 'mm_flatten.txt')], {env: ENV})
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('the name must end in .prom')
    expect(await simPosition()).toBe(start)

    // cap 0.00001 (a few ticks at 3400): two rounds take at most what the top levels hold
    let before = start
    for (const run of [1, 2]) {
      const r = await runCli(['flatten', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', sim.restUrl, '--max-slip', '0.00001', '--rounds', '2', '--json', '--metrics-textfile', prom], {env: ENV})
      expect(r.code, `run ${run}: ${r.stderr}`).toBe(3)
      const j = JSON.parse(r.stdout).data as {via: string; positionBefore: string; positionAfter: string; residual: string; rounds: Round[]; final: string}
      expect(j.via).toBe('self')
      expect(milli(j.positionBefore)).toBe(before)
      checkRounds(j.rounds, before, 100_000n)
      const after = await simPosition()
      // the residual is the venue's own position, named in the final line and kept in state.json
      expect(milli(j.positionAfter)).toBe(after)
      expect(j.residual).toBe(qty(after))
      expect(after > 0n).toBe(true)
      expect(before - after).toBe(j.rounds.reduce((a, x) => a + milli(x.filled), 0n))
      expect(j.final).toMatch(new RegExp(`^residual ${qty(after).replace('.', '\\.')} after [0-2] round\\(s\\) within max slippage 0\\.00001`))
      const st = JSON.parse(readFileSync(statePath, 'utf8')) as StateFile
      expect(st.position.net).toBe(qty(after))
      expect(st.halt).toMatchObject({kind: 'manual', reason: 'mm flatten', flatten: true})
      // the textfile: the run's final figures, promtool-clean
      const text = readFileSync(prom, 'utf8')
      const filled = j.rounds.reduce((a, x) => a + milli(x.filled), 0n)
      expect([value(text, 'mm_flatten_success'), value(text, 'mm_flatten_exit_code'), value(text, 'mm_flatten_orders'), value(text, 'mm_flatten_rounds')]).toEqual([0, 3, j.rounds.length, new Set(j.rounds.map((x) => x.round)).size])
      expect([value(text, 'mm_flatten_position_before_base'), value(text, 'mm_flatten_residual_base'), value(text, 'mm_flatten_filled_base')]).toEqual([Number(qty(before)), Number(qty(after)), Number(qty(filled))])
      const check = promtool(['check', 'metrics'], text)
      expect(check.out).toBe('')
      expect(check.code).toBe(0)
      before = after
    }

    // a wide cap and enough rounds close it
    const wide = await runCli(['flatten', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', sim.restUrl, '--max-slip', '0.05', '--rounds', '50', '--json', '--metrics-textfile', prom], {env: ENV})
    expect(wide.code, wide.stderr).toBe(0)
    const w = JSON.parse(wide.stdout).data as {positionAfter: string; rounds: Round[]; final: string}
    checkRounds(w.rounds, before, 20n)
    expect(w.positionAfter).toBe('0.000')
    expect(await simPosition()).toBe(0n)
    expect(w.final).toMatch(/^flat after \d+ order\(s\) in \d+ round\(s\)$/)
    const text = readFileSync(prom, 'utf8')
    expect([value(text, 'mm_flatten_success'), value(text, 'mm_flatten_exit_code'), value(text, 'mm_flatten_residual_base')]).toEqual([1, 0, 0])

    const none = await runCli(['flatten', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', sim.restUrl], {env: ENV})
    expect(none.code, none.stderr).toBe(0)
    expect(none.stdout).toMatch(/^ETHUSDC: no position$/m)
  })
})
