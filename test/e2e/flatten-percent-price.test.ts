/**
 * `mm flatten` against a symbol whose PERCENT_PRICE band is narrower than the book it has to
 * walk (`mm sim --percent-price 1.00002,0.99998`, a long of 150 ETHUSDC), through the real
 * CLI. Before, the round's IOC was priced at the worst level needed, below mark × down: the
 * venue refused it whole (-4024 "Price is lower than mark price multiplier floor."), exit 1,
 * nothing closed. Now each IOC is priced inside the band (the floor rounded up), takes what
 * the band holds, and the rounds go on: the position smaller, exit 0 or 3. The sim's mark
 * moves between a round's read of it and the IOC's arrival, so an IOC at the floor can still
 * be refused -4024 (the race seen once in three runs): that round is recorded 'rejected'
 * with the code and the flatten goes on with the next round (before: exit 1, "venue error").
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {getJson, type SimProc, signed, startSim, TEST_KEY, TEST_SECRET} from '../support/sim-cli.js'

vi.setConfig({testTimeout: 120_000, hookTimeout: 60_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-flatten-pct-'))
const ENV = {MM_API_KEY: TEST_KEY, MM_API_SECRET: TEST_SECRET}
let sim: SimProc

beforeAll(async () => {
  for (const c of ['flatten', 'sim']) ensureBuilt(c)
  sim = await startSim(['--percent-price', '1.00002,0.99998'])
})

afterAll(async () => {
  await sim.stop()
})

interface Req {method: string; path: string; status: number; code?: number; params: Record<string, string>}

describe('mm flatten within PERCENT_PRICE', () => {
  it('prices each IOC inside the band: the position closes round by round, a refusal by a moved mark only ends its round', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: 'ETHUSDC', side: 'BUY', type: 'MARKET', quantity: '50'})
      expect(r.status, JSON.stringify(r.body)).toBe(200)
    }
    // --dry-run plans the IOC as the real run sends it: inside the band (before: at the worst level, below the floor) (review4)
    // a decimal string in 1e-8 units (no float on the way)
    const units = (p: string) => {
      const [i, f = ''] = p.split('.')
      return BigInt(i) * 100_000_000n + BigInt((f + '00000000').slice(0, 8))
    }
    const markNow = async () => units(((await getJson(sim.restUrl, '/fapi/v1/premiumIndex?symbol=ETHUSDC')).body as {markPrice: string}).markPrice)
    const m0 = await markNow()
    const d = await runCli(['flatten', '--symbol', 'ETHUSDC', '--state-dir', join(tmp, 'state'), '--rest-url', sim.restUrl, '--max-slip', '0.01', '--dry-run', '--json'], {env: ENV})
    const m1 = await markNow()
    expect(d.code, d.stderr).toBe(0)
    const plan = JSON.parse(d.stdout).data as {orders: {side: string; price: string; qty: string}[]; cap: string; bandLimited: boolean; available: string}
    const planned = plan.orders
    expect(planned.length).toBeGreaterThan(0)
    // the band (2 bp of the mark), not max slippage 1 %, limits the round, and the plan counts only what the
    // book holds inside it: the orders carry exactly `available`, less than the position (before: the plan
    // walked the book to the 1 % cap, said up to 150 available and sent IOCs the band let fill only in part)
    expect(plan.bandLimited).toBe(true)
    expect(planned.reduce((a, o) => a + units(o.qty), 0n)).toBe(units(plan.available))
    expect(units(plan.available) < units('150')).toBe(true)
    expect(units(plan.cap) >= ((m0 < m1 ? m0 : m1) * 99_998n) / 100_000n - 1_000_000n).toBe(true)
    const text = await runCli(['flatten', '--symbol', 'ETHUSDC', '--state-dir', join(tmp, 'state'), '--rest-url', sim.restUrl, '--max-slip', '0.01', '--dry-run'], {env: ENV})
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/^ETHUSDC: position 150\.000 \(the venue's\); mid \d+\.\d+, cap \d+\.\d+ \(the PERCENT_PRICE band of the mark: nearer than max slippage 0\.01\); \d+\.\d{3} available within the cap$/m)
    // the floor of the lower of the marks read around it (mark × 0.99998), less one tick for the mark's move
    const floor = ((m0 < m1 ? m0 : m1) * 99_998n) / 100_000n - 1_000_000n
    for (const o of planned) expect(units(o.price) >= floor, `${o.side} ${o.price} against the floor ${floor} (1e-8)`).toBe(true)
    const f = await runCli(['flatten', '--symbol', 'ETHUSDC', '--state-dir', join(tmp, 'state'), '--rest-url', sim.restUrl, '--max-slip', '0.01', '--rounds', '3', '--json'], {env: ENV})
    expect([0, 3], f.stdout + f.stderr).toContain(f.code)
    const j = JSON.parse(f.stdout).data
    expect(j.positionBefore).toBe('150.000')
    expect(j.rounds.length).toBeGreaterThan(0)
    type Round = {round: number; status: string; code?: number; reason?: string}
    const rounds = j.rounds as Round[]
    const refused = rounds.filter((r) => r.status === 'rejected')
    // a refusal is only PERCENT_PRICE's, and not every IOC was refused
    for (const r of refused) expect([r.code, r.reason]).toEqual([-4024, 'Price is lower than mark price multiplier floor.'])
    expect(refused.length, JSON.stringify(rounds)).toBeLessThan(rounds.length)
    if (refused.length > 0 && f.code === 3) expect(j.final).toContain(`(${refused.length} order(s) refused by the band: the mark moved`)
    expect(Number(j.positionAfter)).toBeLessThan(150)
    const st = (await getJson(sim.restUrl, '/__mm/state')).body as {requests: Req[]}
    const iocs = st.requests.filter((r) => r.method === 'POST' && r.path === '/fapi/v1/order' && r.params.timeInForce === 'IOC')
    expect(iocs.length).toBe(j.rounds.length)
    // the venue's answers are the rounds' statuses: 200, or 400 -4024 for the refused ones
    expect(iocs.map((r) => [r.status, r.code])).toEqual(rounds.map((r) => (r.status === 'rejected' ? [400, -4024] : [200, undefined])))
    // after a refusal the flatten went on: the next round read the book again (unless --rounds was spent)
    rounds.forEach((r, i) => {
      if (r.status !== 'rejected' || r.round === 3) return
      const at = st.requests.indexOf(iocs[i])
      expect(st.requests.slice(at + 1).some((x) => x.method === 'GET' && x.path === '/fapi/v1/depth'), JSON.stringify(rounds)).toBe(true)
    })
    expect(iocs.map((r) => [r.params.side, r.params.reduceOnly])).toEqual(iocs.map(() => ['SELL', 'true']))
  })

  it('mm sim --percent-price: a value that is not UP,DOWN (UP ≥ 1, 0 < DOWN ≤ 1) exits 2 with one line naming the flag', async () => {
    for (const bad of ['1.05', '0.99,0.95', '1.05,0', '1.05,1.01', 'a,b']) {
      const r = await runCli(['sim', '--synthetic', '--port', '0', '--percent-price', bad])
      expect(r.code, bad).toBe(2)
      expect(r.stderr.trim()).toBe(`mm sim: --percent-price ${JSON.stringify(bad)}: expected UP,DOWN with UP ≥ 1 and 0 < DOWN ≤ 1, e.g. 1.05,0.95`)
    }
  })
})
