/**
 * A live `mm quote` closing a long through a PERCENT_PRICE band narrower than the book it
 * walks (`mm sim --percent-price 1.00002,0.99998`, a long of 150 ETHUSDC), through the real
 * CLI. `mm flatten` asks the running quote to close; its engine plans reduce-only IOCs at
 * the worst level needed within the slippage cap, far below mark × 0.99998. Before, each
 * one was refused (-4024: by the adapter's local net, "not sent: price below the
 * PERCENT_PRICE floor of the mark", or by the venue) at every decision, quoting stopped on
 * the storm of refusals and the position never moved; the same held for the
 * reduce_only market-close IOC. Now the core clamps every order to the band (a SELL no lower
 * than the floor rounded up): the IOCs leave at the floor, none is refused locally, and they
 * fill what the book holds inside the band, so the position shrinks. The sim's mark (its
 * mid) moves with every fill: a venue refusal (-4024) for a mark newer than the adapter's
 * makes it read the mark again, and the next IOC goes out at the fresh floor.
 */
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {getJson, type SimProc, signed, startSim, TEST_KEY, TEST_SECRET} from '../support/sim-cli.js'

vi.setConfig({testTimeout: 180_000, hookTimeout: 60_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-quote-pct-'))
const ENV = {MM_API_KEY: TEST_KEY, MM_API_SECRET: TEST_SECRET}
let sim: SimProc

beforeAll(async () => {
  for (const c of ['quote', 'flatten', 'sim']) ensureBuilt(c)
  sim = await startSim(['--percent-price', '1.00002,0.99998'])
})

afterAll(async () => {
  await sim.stop()
})

interface Req {method: string; path: string; status: number; code?: number; params: Record<string, string>}
interface Ev {type: string; code?: number; msg?: string; action?: string; side?: string; price?: string; tif?: string}

async function simPosition(): Promise<number> {
  const r = await signed(sim.restUrl, 'GET', '/fapi/v2/positionRisk', {symbol: 'ETHUSDC'})
  return Number((r.body as Array<{positionAmt: string}>)[0]?.positionAmt ?? '0')
}

async function waitAsync(cond: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const rounds = Math.ceil(timeoutMs / 100)
  for (let i = 0; i < rounds; i++) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

describe('mm quote within PERCENT_PRICE', () => {
  it("a running quote's reduce-only IOCs leave at the band's floor: none refused locally, the long shrinks", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: 'ETHUSDC', side: 'BUY', type: 'MARKET', quantity: '50'})
      expect(r.status, JSON.stringify(r.body)).toBe(200)
    }
    expect(await simPosition()).toBe(150)
    const S = join(tmp, 'state')
    const q = spawnCli(['quote', '--symbol', 'ETHUSDC', '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--duration', '120s', '--state-dir', S, '--instance', 'pctb'], {env: ENV})
    let evPath = ''
    try {
      evPath = (await q.waitFor(/events → (\S+events\.jsonl)/, 'stderr', 60_000))[1]
      await q.waitFor(/market data in sync; quoting/, 'stderr', 60_000)
      const f = await runCli(['flatten', '--symbol', 'ETHUSDC', '--state-dir', S, '--max-slip', '0.01', '--wait', '5s', '--json'], {env: ENV})
      expect([0, 3], f.stdout + f.stderr).toContain(f.code)
      // the quote keeps closing each cycle: wait (bounded) until the venue's position has moved by at least 1 ETH
      await waitAsync(async () => (await simPosition()) <= 149, 'the long to shrink by 1 ETH', 60_000)
    } finally {
      q.child.kill('SIGINT')
    }
    const end = await q.exited
    expect(end.code, q.stderr()).toBe(0)
    const evs = readFileSync(evPath, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Ev)
    // none refused by the adapter's own PERCENT_PRICE net (the core priced them inside the band it knows)
    expect(evs.filter((e) => e.type === 'reject' && e.msg?.startsWith('not sent: price'))).toEqual([])
    const iocs = evs.filter((e) => e.type === 'order' && e.action === 'place' && e.tif === 'IOC')
    expect(iocs.length).toBeGreaterThan(0)
    expect(new Set(iocs.map((e) => e.side))).toEqual(new Set(['SELL']))
    // at the venue: reduce-only SELL IOCs, accepted (a mark that moved since the adapter's last read may still refuse one)
    const st = (await getJson(sim.restUrl, '/__mm/state')).body as {requests: Req[]}
    const sent = st.requests.filter((r) => r.method === 'POST' && r.path === '/fapi/v1/order' && r.params.timeInForce === 'IOC')
    expect(sent.map((r) => [r.params.side, r.params.reduceOnly])).toEqual(sent.map(() => ['SELL', 'true']))
    expect(sent.filter((r) => r.status === 200).length).toBeGreaterThan(0)
    expect(await simPosition()).toBeLessThanOrEqual(149)
  })
})
