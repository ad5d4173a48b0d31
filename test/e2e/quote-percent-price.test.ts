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
 *
 * The band follows the venue's mark stream (`<symbol>@markPrice@1s` on /market): in a
 * hand-made market rising 0.10 every 250 ms (`--percent-price 1.0001,0.9999`, a band of
 * about ±0.20 at 2000), the quote's bids go out above the cap of the mark it read at the
 * start, with no mark read by REST after it and nothing refused. Before, nothing refused a
 * bid under the market, so the band stayed at the start's mark until an audit: every bid
 * sat at that cap, further under the market each second.
 */
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {getJson, type SimProc, signed, startSim, TEST_KEY, TEST_SECRET} from '../support/sim-cli.js'
import {type LiveSim, spawnQuote, startLiveSim, waitFor, writeConfig} from '../support/live-sim.js'

vi.setConfig({testTimeout: 180_000, hookTimeout: 60_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-quote-pct-'))
const ENV = {MM_API_KEY: TEST_KEY, MM_API_SECRET: TEST_SECRET}
let sim: SimProc

beforeAll(async () => {
  for (const c of ['quote', 'flatten', 'sim']) ensureBuilt(c)
  sim = await startSim(['--percent-price', '1.00002,0.99998'])
})

const sims: LiveSim[] = []

afterAll(async () => {
  await sim.stop()
  for (const s of sims) await s.stop()
})

/** cents → a price string with 2 decimals (integers only) */
const px = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`

/** a one-level book 2000.00 / 2000.10 rising 0.10 every 250 ms for 10 minutes (a recording the sim replays) */
function risingMarket(): string {
  const t0 = Date.now()
  let bid = 200_000
  const lines: string[] = [`${t0 * 1000} ${JSON.stringify({lastUpdateId: 1000, E: t0, T: t0, bids: [[px(bid), '5.000']], asks: [[px(bid + 10), '5.000']]})}`]
  let u = 1000
  for (let ms = 250; ms <= 10 * 60_000; ms += 250) {
    const t = t0 + ms
    const nb = bid + 10
    lines.push(`${t * 1000} ${JSON.stringify({stream: 'ethusdc@depth@0ms', data: {e: 'depthUpdate', E: t, T: t, s: 'ETHUSDC', U: u + 1, u: u + 1, pu: u, b: [[px(bid), '0'], [px(nb), '5.000']], a: [[px(bid + 10), '0'], [px(nb + 10), '5.000']]}})}`)
    u++
    bid = nb
  }
  const file = join(tmp, 'ethusdc_20260103.dat')
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}

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

  it("the band follows the mark stream: in a rising market the bids leave above the start mark's cap, no mark read by REST, nothing refused", async () => {
    const live = await startLiveSim(['--replay', risingMarket(), '--symbol', 'ETHUSDC', '--tick-size', '0.01', '--step-size', '0.001', '--percent-price', '1.0001,0.9999'])
    sims.push(live)
    // quotes near the touch; no audit in the run (its positionRisk mark would move the band too)
    const cfg = writeConfig(tmp, 'rising.json', {strategy: {kind: 'naive', baseSpread: 0.00002, baseSize: '0.050', baseInterval: 250}, risk: {netMax: '0.2', stopLoss: 0, staleBookMs: 60_000}, live: {auditIntervalMs: 3_600_000}})
    const S = join(tmp, 'state-rising')
    const q = spawnQuote(live, S, ['--config', cfg, '--instance', 'pmks', '--duration', '120s'])
    let evPath = ''
    let cap0 = 0
    try {
      const m = await q.waitFor(/price within ×0\.9999\.\.×1\.0001 of mark (\d+)\.(\d+)/, 'stderr', 60_000)
      // the start's cap in cents: mark × 1.0001, rounded down to the tick
      const markMicro = Number(m[1]) * 1_000_000 + Number(m[2].padEnd(6, '0').slice(0, 6))
      cap0 = Math.floor((markMicro * 10_001) / 10_000 / 10_000)
      evPath = (await q.waitFor(/events → (\S+events\.jsonl)/, 'stderr', 60_000))[1]
      await q.waitFor(/market data in sync; quoting/, 'stderr', 60_000)
      // a bid 1.00 above the start's cap: the band moved with the market (bounded wait: 0.40 a second)
      await waitFor(async () => (await live.state()).requests.some((r) => r.method === 'POST' && r.path === '/fapi/v1/order' && r.params.side === 'BUY' && r.status === 200 && Math.round(Number(r.params.price) * 100) >= cap0 + 100), `a bid at or above ${px(cap0 + 100)}`, 30_000, 100)
    } finally {
      q.child.kill('SIGINT')
    }
    const end = await q.exited
    expect(end.code, q.stderr()).toBe(0)
    const reqs = (await live.state()).requests
    // the mark was read by REST once, at the start: the band moved with the stream
    expect(reqs.filter((r) => r.path === '/fapi/v1/premiumIndex').length).toBe(1)
    const places = reqs.filter((r) => r.method === 'POST' && r.path === '/fapi/v1/order')
    expect(places.filter((r) => r.code === -4016 || r.code === -4024)).toEqual([])
    expect(places.filter((r) => r.params.side === 'BUY').length).toBeGreaterThan(1)
    const evs = readFileSync(evPath, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Ev)
    expect(evs.filter((e) => e.type === 'reject' && (e.code === -4016 || e.code === -4024))).toEqual([])
  })
})
