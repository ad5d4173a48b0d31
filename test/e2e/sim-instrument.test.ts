/**
 * `mm sim --synthetic` with another instrument's filters (--tick-size, --step-size,
 * --min-notional, --start-price: a DOGEUSDT-like contract, tick 0.00001, whole-coin lots),
 * and live `mm quote` on it through bin/run.js: orders on that grid, the position equal to
 * the sim's, and a config the symbol's filters refuse stopped before anything but a read
 * reaches the venue.
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {LIVE_ENV, type LiveSim, readState, startLiveSim, writeConfig} from '../support/live-sim.js'

vi.setConfig({testTimeout: 120_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-sim-instrument-'))
const DOGE = ['--synthetic', '--seed', '3', '--symbol', 'DOGEUSDT', '--tick-size', '0.00001', '--step-size', '1', '--min-notional', '5', '--start-price', '0.38']
let sim: LiveSim

beforeAll(async () => {
  ensureBuilt('sim')
  sim = await startLiveSim(DOGE)
})

afterAll(async () => {
  await sim?.stop()
})

const quote = (stateDir: string, extra: string[]) => runCli(['quote', '--symbol', 'DOGEUSDT', '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', stateDir, ...extra], {env: LIVE_ENV})

describe('mm sim --synthetic with an instrument of the command line', () => {
  it("serves the instrument's filters and assets, and a book on its grid", async () => {
    const info = (await (await fetch(`${sim.restUrl}/fapi/v1/exchangeInfo`)).json()) as {symbols: Array<Record<string, unknown> & {filters: Array<Record<string, string>>}>}
    const s = info.symbols.find((x) => x.symbol === 'DOGEUSDT')!
    expect([s.baseAsset, s.quoteAsset, s.marginAsset]).toEqual(['DOGE', 'USDT', 'USDT'])
    const f = (t: string) => s.filters.find((x) => x.filterType === t)!
    expect(f('PRICE_FILTER').tickSize).toBe('0.00001')
    expect([f('LOT_SIZE').stepSize, f('LOT_SIZE').minQty]).toEqual(['1', '1'])
    expect(f('MIN_NOTIONAL').notional).toBe('5')
    const book = (await (await fetch(`${sim.restUrl}/fapi/v1/depth?symbol=DOGEUSDT&limit=20`)).json()) as {bids: string[][]; asks: string[][]}
    expect(book.bids.length).toBeGreaterThan(0)
    for (const [p, q] of [...book.bids, ...book.asks]) {
      expect(p).toMatch(/^0\.\d{5}$/)
      expect(q).toMatch(/^[1-9]\d*$/)
    }
    // the start price is where the book began: within a cent of it after the seconds the test took
    expect(Math.abs(Number(book.bids[0][0]) - 0.38)).toBeLessThan(0.01)
  })

  it('refuses bad instrument flags (exit 2, the flag named)', async () => {
    const bad = async (args: string[]) => {
      const r = await runCli(['sim', '--synthetic', '--port', '0', '--duration', '1s', '--json', ...args])
      return [r.code, (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {error: {message: string}}).error.message]
    }
    expect(await bad(['--tick-size', 'abc'])).toEqual([2, '--tick-size abc: expected a decimal number'])
    expect(await bad(['--step-size', '-1'])).toEqual([2, '--step-size -1: must be > 0'])
    expect(await bad(['--start-price', '0.001'])).toEqual([2, '--start-price 0.001: must be at least 210 ticks for a 50-level book'])
    expect(await bad(['--tick-size', '0'])).toEqual([2, '--tick-size 0: must be > 0'])
    const r = await runCli(['sim', '--replay', join(tmp, 'none'), '--start-price', '1', '--port', '0', '--json'])
    expect(r.code).toBe(2)
    expect(r.stdout).toContain('--start-price')
  })
})

describe('live mm quote on a whole-lot, five-decimal symbol', () => {
  it('a config whose sizes are off the lot step exits 2 naming the keys; only reads reached the venue', async () => {
    const before = (await sim.state()).requests.length
    const r = await quote(join(tmp, 'refused'), ['--json'])
    expect(r.code, r.stderr).toBe(2)
    const err = (JSON.parse(r.stdout) as {error: {code: string; message: string}}).error
    expect(err.code).toBe('E_CONFIG')
    expect(err.message).toContain('strategy.baseSize: got "0.01", expected a multiple of the lot step 1 of DOGEUSDT')
    expect(err.message).toContain('risk.netMax: got "0.1", expected a multiple of the lot step 1 of DOGEUSDT')
    const sent = (await sim.state()).requests.slice(before).filter((x) => x.path !== '/__mm/state')
    expect(sent.length).toBeGreaterThan(0)
    // no listen key, no dead-man's switch, no cancel: nothing but reads
    expect(sent.filter((x) => x.method !== 'GET').map((x) => `${x.method} ${x.path}`)).toEqual([])
  })

  it('quotes whole lots on the 0.00001 grid; the position and fees equal the sim', async () => {
    const cfg = writeConfig(tmp, 'doge.json', {strategy: {baseSize: '20'}, risk: {netMax: '200'}})
    const dir = join(tmp, 'live')
    const r = await quote(dir, ['--config', cfg, '--duration', '8s'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain('note: limits: tick 0.00001, step 1, min qty 1')
    const st = await sim.state()
    const mine = st.orders.filter((o) => o.clientOrderId.startsWith('mm-'))
    expect(mine.length).toBeGreaterThan(0)
    for (const o of mine) {
      expect(o.price).toMatch(/^0\.\d{5}$/)
      expect(o.origQty).toBe('20')
      // a clean stop: nothing of ours left working
      expect(['CANCELED', 'FILLED', 'EXPIRED']).toContain(o.status)
    }
    const state = readState(dir, 'DOGEUSDT')
    const ledger = st.ledger.find((x) => x.symbol === 'DOGEUSDT')
    expect(state.position.net).toBe(ledger?.positionAmt ?? '0')
    expect(state.position.fees).toBe(ledger?.fees ?? '0')
    expect(state.position.realised).toBe(ledger?.realisedPnl ?? '0')
  })
})
