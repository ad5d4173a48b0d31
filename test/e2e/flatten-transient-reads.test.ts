/**
 * `mm flatten` (no quote, keys) when the venue answers a read once with HTTP 503 -1001
 * ("Service Unavailable.": nothing was done, Binance says to try again). Found with
 * `mm sim --unavailable-rate 0.3`: the first such answer (GET /fapi/v1/time, exchangeInfo,
 * positionRisk) ended the emergency close, exit 1, nothing sent, the position left open
 * (`mm flatten: GET /fapi/v1/time: HTTP 503: Service Unavailable. (code -1001); outcome
 * unknown`). A live quote's start asks such reads again (idempotentRetry); now flatten does.
 * A proxy in front of `mm sim` answers the first request of each read path 503 -1001 and
 * passes everything else through.
 */
import {createServer, request, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {type SimProc, signed, startSim, TEST_KEY, TEST_SECRET} from '../support/sim-cli.js'

const SYM = 'PEPEUSDT'
let sim: SimProc
let proxy: Server
let proxyUrl: string
const tmp = mkdtempSync(join(tmpdir(), 'mm-flatten-transient-'))
const keys = {MM_API_KEY: TEST_KEY, MM_API_SECRET: TEST_SECRET}
const failOnce = new Set(['/fapi/v1/time', '/fapi/v1/exchangeInfo', '/fapi/v3/positionRisk', '/fapi/v1/premiumIndex'])
const failed: string[] = []

async function position(): Promise<string> {
  const r = await signed(sim.restUrl, 'GET', '/fapi/v3/positionRisk', {symbol: SYM})
  return (r.body as Array<{positionAmt: string}>)[0]?.positionAmt ?? '0'
}

beforeAll(async () => {
  ensureBuilt('flatten')
  sim = await startSim(['--symbol', SYM, '--tick-size', '0.00001', '--step-size', '1000', '--min-notional', '5', '--start-price', '0.0025'])
  const target = new URL(sim.restUrl)
  proxy = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]
    if (req.method === 'GET' && failOnce.has(path)) {
      failOnce.delete(path)
      failed.push(path)
      res.writeHead(503, {'content-type': 'application/json'})
      res.end(JSON.stringify({code: -1001, msg: 'Service Unavailable.'}))
      return
    }
    const up = request({host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers}, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers)
      r.pipe(res)
    })
    up.on('error', () => res.destroy())
    req.pipe(up)
  })
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
  const r = await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: SYM, side: 'BUY', type: 'MARKET', quantity: '600000'})
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  for (let i = 0; i < 200 && (await position()) !== '600000'; i++) await new Promise((res) => setTimeout(res, 25))
  expect(await position()).toBe('600000')
})
afterAll(async () => {
  await new Promise<void>((r) => (proxy ? proxy.close(() => r()) : r()))
  await sim?.stop()
  rmSync(tmp, {recursive: true, force: true})
})

describe('mm flatten: a read answered 503 -1001 once', () => {
  it('is asked again; the position is closed, exit 0', async () => {
    const r = await runCli(['flatten', '--symbol', SYM, '--max-slip', '0.01', '--rounds', '10', '--rest-url', proxyUrl, '--state-dir', tmp], {env: keys})
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^flat after \d+ order\(s\) in \d+ round\(s\)$/m)
    expect(await position()).toBe('0')
    expect(failed.sort()).toEqual(['/fapi/v1/exchangeInfo', '/fapi/v1/premiumIndex', '/fapi/v1/time', '/fapi/v3/positionRisk'])
    const st = JSON.parse(readFileSync(join(tmp, SYM, 'state.json'), 'utf8'))
    expect(st.position.net).toBe('0')
    expect(st.halt).toMatchObject({kind: 'manual', flatten: true, flattened: true})
  })

  it('with a state.json: the read of the open orders in its cancel-first step is asked again too; closed, exit 0', async () => {
    // before: `cannot cancel ours before closing: GET /fapi/v1/openOrders: HTTP 503 …; nothing was sent (halt recorded)`, exit 1
    const o = await signed(sim.restUrl, 'POST', '/fapi/v1/order', {symbol: SYM, side: 'SELL', type: 'MARKET', quantity: '300000'})
    expect(o.status, JSON.stringify(o.body)).toBe(200)
    for (let i = 0; i < 200 && (await position()) !== '-300000'; i++) await new Promise((res) => setTimeout(res, 25))
    expect(await position()).toBe('-300000')
    failed.length = 0
    for (const p of ['/fapi/v1/time', '/fapi/v1/openOrders', '/fapi/v3/positionRisk']) failOnce.add(p)
    const r = await runCli(['flatten', '--symbol', SYM, '--max-slip', '0.01', '--rounds', '10', '--rest-url', proxyUrl, '--state-dir', tmp], {env: keys})
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^flat after \d+ order\(s\) in \d+ round\(s\)$/m)
    expect(await position()).toBe('0')
    expect(failed.sort()).toEqual(['/fapi/v1/openOrders', '/fapi/v1/time', '/fapi/v3/positionRisk'])
  })
})
