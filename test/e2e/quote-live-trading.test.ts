/**
 * Live `mm quote` (no --dry-run) end to end through bin/run.js, on loopback only: market
 * data from `mm sim --synthetic`, signed endpoints and the user data stream from a small
 * in-test exchange (orders rest, never fill) that forwards the public calls to the sim.
 * Proves the order of things (venue read → switch armed before the first order → orders
 * exactly as decided → clean stop: all cancelled, switch disarmed), the refusals, and that
 * no secret or signature appears in any artefact.
 */
import {mkdtempSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it, vi} from 'vitest'
import {BinanceStub, type StubRequest} from '../support/binance-stub.js'
import {type CliRun, ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {until} from '../support/wait.js'

// each test runs the CLI for several wall seconds (up to 13 s under a load of 9 on 2 cores): twice the default limit
vi.setConfig({testTimeout: 120_000})

const KEY = 'e2eLiveKey0123456789abcdefABCDEF0123456789abcdef'
const SECRET = 'e2eLiveSecret9876543210fedcbaFEDCBA9876543210zz'
const tmp = mkdtempSync(join(tmpdir(), 'mm-live-trading-'))
// --duration counts from the market feed's start, before its first sync (3–4 s after the spawn under a load of 10 on
// 2 cores): a run that must quote gets 6–8 s, so that its orders do not depend on how fast the machine is
let sim: CliRun
let stub: BinanceStub
let orders: Map<string, Record<string, unknown>>
let nextId = 1

function exchange(r: StubRequest) {
  const p = r.params
  const order = (id: string) => orders.get(id)
  switch (`${r.method} ${r.path}`) {
    case 'GET /fapi/v1/positionSide/dual':
      return {body: {dualSidePosition: false}}
    case 'GET /fapi/v1/commissionRate':
      return {body: {symbol: 'ETHUSDC', makerCommissionRate: '0.0000', takerCommissionRate: '0.0004'}}
    case 'GET /fapi/v3/positionRisk':
      return {body: [{symbol: 'ETHUSDC', positionSide: 'BOTH', positionAmt: '0.000', entryPrice: '0', markPrice: '3400.00', unRealizedProfit: '0', liquidationPrice: '0', updateTime: 1}]}
    case 'GET /fapi/v1/premiumIndex':
      // near the synthetic market of mm sim --seed 5 (PERCENT_PRICE is checked against it)
      return {body: {symbol: 'ETHUSDC', markPrice: '3400.00'}}
    case 'GET /fapi/v1/openOrders':
      return {body: [...orders.values()].filter((o) => o.status === 'NEW')}
    // a restart reads back the fills its predecessor's state missed (none on this exchange: nothing fills)
    case 'GET /fapi/v1/userTrades':
      return {body: []}
    case 'POST /fapi/v1/countdownCancelAll':
      return {body: {symbol: 'ETHUSDC', countdownTime: p.get('countdownTime')}}
    case 'POST /fapi/v1/listenKey':
    case 'PUT /fapi/v1/listenKey':
      return {body: {listenKey: 'LKe2e'}}
    case 'DELETE /fapi/v1/listenKey':
      return {body: {}}
    case 'DELETE /fapi/v1/allOpenOrders':
      for (const o of orders.values()) if (o.status === 'NEW') o.status = 'CANCELED'
      return {body: {code: 200, msg: 'The operation of cancel all open order is done.'}}
    case 'POST /fapi/v1/order': {
      const id = p.get('newClientOrderId')!
      const o = {symbol: 'ETHUSDC', orderId: nextId++, clientOrderId: id, side: p.get('side'), type: 'LIMIT', timeInForce: p.get('timeInForce'), status: 'NEW', price: p.get('price'), origQty: p.get('quantity'), executedQty: '0', avgPrice: '0', reduceOnly: p.get('reduceOnly') === 'true', updateTime: Date.now()}
      orders.set(id, o)
      return {body: o}
    }
    case 'DELETE /fapi/v1/order': {
      const o = order(p.get('origClientOrderId')!)
      if (!o || o.status !== 'NEW') return {status: 400, body: {code: -2011, msg: 'Unknown order sent.'}}
      o.status = 'CANCELED'
      return {body: o}
    }
    // a decision's (or a stop's) two or more cancels come as one batch (venue.ts submitAll)
    case 'DELETE /fapi/v1/batchOrders': {
      const ids = JSON.parse(p.get('origClientOrderIdList') ?? '[]') as string[]
      return {
        body: ids.map((id) => {
          const o = order(id)
          if (!o || o.status !== 'NEW') return {code: -2011, msg: 'Unknown order sent.'}
          o.status = 'CANCELED'
          return o
        }),
      }
    }
    case 'GET /fapi/v1/order': {
      const o = order(p.get('origClientOrderId')!)
      return o ? {body: o} : {status: 400, body: {code: -2013, msg: 'Order does not exist.'}}
    }
  }
  return undefined
}

beforeAll(async () => {
  ensureBuilt('quote')
  sim = spawnCli(['sim', '--synthetic', '--seed', '5', '--symbol', 'ETHUSDC', '--port', '0', '--json'])
  const m = await sim.waitFor(/"restUrl":"(http:[^"]+)","wsUrl":"(ws:[^"]+)"/)
  stub = new BinanceStub(SECRET)
  stub.proxyRest = m[1]
  stub.proxyWs = m[2]
  await stub.start()
})

afterAll(async () => {
  await stub.stop()
  sim.child.kill('SIGTERM')
  await sim.exited
})

beforeEach(() => {
  stub.reset()
  orders = new Map()
  stub.handler = exchange
})

function files(dir: string): string[] {
  const out: string[] = []
  for (const n of readdirSync(dir)) {
    const p = join(dir, n)
    if (statSync(p).isDirectory()) out.push(...files(p))
    else out.push(p)
  }
  return out
}

const env = {MM_API_KEY: KEY, MM_API_SECRET: SECRET}
const wsUrl = () => stub.url.replace('http:', 'ws:')

describe('live mm quote against a loopback exchange', () => {
  it('reads the venue, arms the switch before the first order, quotes GTX as decided, stops clean (all cancelled, switch disarmed); no secret anywhere', async () => {
    const state = join(tmp, 'a')
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--rest-url', stub.url, '--ws-url', wsUrl(), '--duration', '8s', '--state-dir', state, '--instance', 'e2e', '--json'], {env})
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout)
    expect(j.data.summary.mode).toBe('live')
    expect(j.data.summary.quotesPlaced).toBeGreaterThan(0)
    expect(j.data.live).toMatchObject({deadman: true, cancelledAtStart: 0, disarmed: true})
    const reqs = stub.requests.filter((x) => !x.path.startsWith('/fapi/v1/depth') && x.path !== '/fapi/v1/exchangeInfo' && x.path !== '/fapi/v1/time')
    const places = reqs.filter((x) => x.method === 'POST' && x.path === '/fapi/v1/order')
    expect(places.length).toBeGreaterThan(0)
    for (const x of places) {
      expect(x.signatureOk).toBe(true)
      expect(x.headers['x-mbx-apikey']).toBe(KEY)
      expect(x.params.get('selfTradePreventionMode')).toBe('EXPIRE_MAKER')
      expect(['GTX', 'GTC', 'IOC']).toContain(x.params.get('timeInForce'))
      expect(x.params.get('newClientOrderId')).toMatch(/^mm-e2e[0-9a-z]{4}-/)
    }
    expect(places.some((x) => x.params.get('timeInForce') === 'GTX')).toBe(true)
    expect(new Set(places.map((x) => x.params.get('side')))).toEqual(new Set(['BUY', 'SELL']))
    // the switch: armed before the first order, disarmed (0) after the last cancel
    const idx = (pred: (x: StubRequest) => boolean) => reqs.findIndex(pred)
    const countdowns = reqs.filter((x) => x.path === '/fapi/v1/countdownCancelAll')
    expect(countdowns[0].params.get('countdownTime')).toBe('120000')
    expect(idx((x) => x.path === '/fapi/v1/countdownCancelAll')).toBeLessThan(idx((x) => x.path === '/fapi/v1/order' && x.method === 'POST'))
    expect(countdowns.at(-1)!.params.get('countdownTime')).toBe('0')
    const lastCancel = reqs.map((x, i) => (x.method === 'DELETE' && (x.path === '/fapi/v1/order' || x.path === '/fapi/v1/batchOrders') ? i : -1)).reduce((a, b) => Math.max(a, b), -1)
    expect(lastCancel).toBeGreaterThan(0)
    expect(reqs.lastIndexOf(countdowns.at(-1)!)).toBeGreaterThan(lastCancel)
    // the clean stop's two or more cancels left as one batch request (venue.ts submitAll)
    const stopBatch = reqs[lastCancel]
    if (stopBatch.path === '/fapi/v1/batchOrders') expect((JSON.parse(stopBatch.params.get('origClientOrderIdList') ?? '[]') as string[]).length).toBeGreaterThan(1)
    expect([...orders.values()].filter((o) => o.status === 'NEW')).toEqual([])
    // the venue's lines printed once before the first order
    // secrets: not in stdout, stderr, or any file under the state dir (run dir, events, state.json)
    const sigs = stub.requests.map((x) => x.signature).filter((s): s is string => !!s)
    expect(sigs.length).toBeGreaterThan(places.length)
    const texts = [r.stdout, r.stderr, ...files(state).map((f) => readFileSync(f, 'utf8'))]
    for (const t of texts) {
      expect(t.includes(SECRET)).toBe(false)
      expect(t.includes(encodeURIComponent(SECRET))).toBe(false)
      for (const s of sigs) expect(t.includes(s)).toBe(false)
    }
  })

  it('prints the venue, limits and fees before trading (text mode); our leftovers are cancelled', async () => {
    orders.set('mm-e2e0000-b-0', {symbol: 'ETHUSDC', orderId: 999, clientOrderId: 'mm-e2e0000-b-0', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', status: 'NEW', price: '2990.00', origQty: '0.010', executedQty: '0', avgPrice: '0', reduceOnly: false, updateTime: 1})
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--rest-url', stub.url, '--ws-url', wsUrl(), '--duration', '6s', '--state-dir', join(tmp, 'b'), '--instance', 'e2e'], {env})
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain(`note: venue ${stub.url}, symbol ETHUSDC (PERPETUAL`)
    expect(r.stderr).toContain('note: limits: tick 0.01, step 0.001')
    expect(r.stderr).toContain('note: fees: maker 0.0000, taker 0.0004')
    expect(r.stderr).toContain('note: cancelling 1 order(s) left by an earlier run of this instance')
    expect(orders.get('mm-e2e0000-b-0')!.status).toBe('CANCELED')
    expect(stub.requests.findIndex((x) => x.path === '/fapi/v1/allOpenOrders')).toBeLessThan(stub.requests.findIndex((x) => x.method === 'POST' && x.path === '/fapi/v1/order'))
  })

  it('refuses foreign orders (exit 1, named, nothing sent) and hedge mode', async () => {
    orders.set('web_1', {symbol: 'ETHUSDC', orderId: 7, clientOrderId: 'web_1', side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', status: 'NEW', price: '3100.00', origQty: '0.500', executedQty: '0', avgPrice: '0', reduceOnly: false, updateTime: 1})
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--rest-url', stub.url, '--ws-url', wsUrl(), '--duration', '2s', '--state-dir', join(tmp, 'c'), '--instance', 'e2e', '--json'], {env})
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout).error).toMatchObject({code: 'E_FOREIGN_ORDERS', message: '1 order(s) not placed by mm rest on ETHUSDC: web_1 (SELL 0.500 @ 3100.00)'})
    expect(stub.requests.some((x) => x.method !== 'GET')).toBe(false)
    stub.handler = (x) => (x.path === '/fapi/v1/positionSide/dual' ? {body: {dualSidePosition: true}} : exchange(x))
    orders.clear()
    const h = await runCli(['quote', '--symbol', 'ETHUSDC', '--rest-url', stub.url, '--ws-url', wsUrl(), '--state-dir', join(tmp, 'd'), '--json'], {env})
    expect([h.code, JSON.parse(h.stdout).error.code]).toEqual([1, 'E_HEDGE_MODE'])
  })

  it('SIGKILL leaves the switch armed and the orders resting; a restart cancels them first and never re-uses a client id', async () => {
    const state = join(tmp, 'kill')
    const q = spawnCli(['quote', '--symbol', 'ETHUSDC', '--rest-url', stub.url, '--ws-url', wsUrl(), '--state-dir', state, '--instance', 'e2e'], {env})
    await until(() => [...orders.values()].some((o) => o.status === 'NEW'), 'a resting order', 60_000)
    q.child.kill('SIGKILL')
    expect((await q.exited).signal).toBe('SIGKILL')
    const countdowns = stub.requests.filter((x) => x.path === '/fapi/v1/countdownCancelAll').map((x) => x.params.get('countdownTime'))
    expect(countdowns.length).toBeGreaterThan(0)
    expect(countdowns.includes('0')).toBe(false)
    const resting = [...orders.values()].filter((o) => o.status === 'NEW').map((o) => o.clientOrderId as string)
    expect(resting.length).toBeGreaterThan(0)
    const firstIds = new Set(stub.requests.filter((x) => x.method === 'POST' && x.path === '/fapi/v1/order').map((x) => x.params.get('newClientOrderId')))
    stub.requests.length = 0
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--rest-url', stub.url, '--ws-url', wsUrl(), '--duration', '6s', '--state-dir', state, '--instance', 'e2e'], {env})
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain(`note: cancelling ${resting.length} order(s) left by an earlier run of this instance`)
    for (const id of resting) expect(orders.get(id)!.status).toBe('CANCELED')
    const second = stub.requests.filter((x) => x.method === 'POST' && x.path === '/fapi/v1/order').map((x) => x.params.get('newClientOrderId'))
    expect(second.length).toBeGreaterThan(0)
    for (const id of second) expect(firstIds.has(id)).toBe(false)
    expect(new Set(second).size).toBe(second.length)
    expect([...orders.values()].filter((o) => o.status === 'NEW')).toEqual([])
    // a start that cannot read back the fills the run before it may have left unrecorded refuses
    // to quote (exit 1, one line naming the read): no order placed, state.json as that run left it
    const before = readFileSync(join(state, 'ETHUSDC', 'state.json'), 'utf8')
    stub.requests.length = 0
    stub.handler = (x) => (x.path === '/fapi/v1/userTrades' ? {status: 400, body: {code: -1100, msg: 'Illegal characters found in parameter.'}} : exchange(x))
    const refused = await runCli(['quote', '--symbol', 'ETHUSDC', '--rest-url', stub.url, '--ws-url', wsUrl(), '--duration', '3s', '--state-dir', state, '--instance', 'e2e'], {env})
    expect(refused.code, refused.stderr).toBe(1)
    expect(refused.stderr).toMatch(/^mm quote: cannot read back the fills of the earlier run e2e[0-9a-z]{4} \(GET \/fapi\/v1\/userTrades\): .*code -1100/m)
    expect(refused.stderr).not.toMatch(/^\s+at /m)
    expect(stub.requests.filter((x) => x.path === '/fapi/v1/userTrades').length).toBe(1)
    expect(stub.requests.filter((x) => x.method === 'POST' && x.path === '/fapi/v1/order')).toEqual([])
    expect(readFileSync(join(state, 'ETHUSDC', 'state.json'), 'utf8')).toBe(before)
  })

  it('-5022 on the wire: the post-only reject is followed by the instant retry at the same price without post-only, or a backed-off price', async () => {
    let rejected = 0
    const gtxRejects: Array<{side: string; price: number; at: number}> = []
    stub.handler = (x) => {
      if (x.method === 'POST' && x.path === '/fapi/v1/order' && x.params.get('timeInForce') === 'GTX' && rejected < 2) {
        rejected++
        gtxRejects.push({side: x.params.get('side')!, price: Number(x.params.get('price')), at: stub.requests.length - 1})
        return {status: 400, body: {code: -5022, msg: 'Due to the order could not be executed as maker, the Post Only order will be rejected.'}}
      }
      return exchange(x)
    }
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--rest-url', stub.url, '--ws-url', wsUrl(), '--duration', '8s', '--state-dir', join(tmp, 'gtx'), '--instance', 'e2e'], {env})
    expect(r.code, r.stderr).toBe(0)
    expect(gtxRejects.length).toBeGreaterThan(0)
    for (const g of gtxRejects) {
      const next = stub.requests.slice(g.at + 1).find((x) => x.method === 'POST' && x.path === '/fapi/v1/order' && x.params.get('side') === g.side)
      expect(next, `a place after the -5022 on ${g.side}`).toBeDefined()
      const tif = next!.params.get('timeInForce')
      const price = Number(next!.params.get('price'))
      const instantRetry = tif === 'GTC' && price === g.price
      const backedOff = g.side === 'BUY' ? price < g.price : price > g.price
      expect(instantRetry || backedOff, `${g.side} ${g.price} → ${tif} ${price}`).toBe(true)
    }
  })

  it('a group-readable key file is refused before anything is sent', async () => {
    const {writeFileSync, chmodSync} = await import('node:fs')
    const kf = join(tmp, 'keys.json')
    writeFileSync(kf, JSON.stringify({apiKey: KEY, apiSecret: SECRET}))
    chmodSync(kf, 0o640)
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--rest-url', stub.url, '--ws-url', wsUrl(), '--key-file', kf, '--state-dir', join(tmp, 'e')], {env: {MM_API_KEY: undefined, MM_API_SECRET: undefined}})
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`--key-file ${kf} is readable or writable by group or others (mode 640)`)
    expect(r.stderr).not.toContain(SECRET)
    expect(stub.requests).toEqual([])
  })
})
