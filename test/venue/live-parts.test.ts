import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {MmError} from '../../src/lib/domain/errors.js'
import {audit, driftVerdict} from '../../src/lib/venue/binance/audit.js'
import {DeadMansSwitch} from '../../src/lib/venue/binance/deadman.js'
import {BinanceGateway} from '../../src/lib/venue/binance/gateway.js'
import {Credentials} from '../../src/lib/venue/binance/signer.js'
import {cancelLeftovers, classifyOpenOrders, defaultInstance, describeVenue, isProduction, liveRunId, ownerOf, readVenueState} from '../../src/lib/venue/binance/startup.js'
import {BinanceStub, type StubRequest} from '../support/binance-stub.js'
import {until} from '../support/wait.js'

describe('instance prefix (SPEC §4.7)', () => {
  it('run id = instance + 4-char nonce; ours, another instance, foreign', () => {
    expect(liveRunId('eth1', 0)).toBe('eth10000')
    expect(liveRunId('a', 36 ** 4 + 35)).toBe('a000z')
    expect(() => liveRunId('toolong', 1)).toThrow('instance name "toolong" must be 1-4 characters [A-Za-z0-9]')
    expect(defaultInstance('host-a', 'ethusdc')).toBe(defaultInstance('host-a', 'ETHUSDC'))
    expect(defaultInstance('host-a', 'ETHUSDC')).not.toBe(defaultInstance('host-b', 'ETHUSDC'))
    expect(defaultInstance('host-a', 'ETHUSDC')).toMatch(/^[0-9a-z]{4}$/)
    expect(ownerOf('mm-eth1abcd-b0-0', 'eth1')).toBe('ours')
    expect(ownerOf('mm-eth2abcd-b0-0', 'eth1')).toBe('other-instance')
    expect(ownerOf('mm-eth1ab-b0-0', 'eth1')).toBe('other-instance') // a shorter nonce: another instance named "eth1a"…
    expect(ownerOf('web_12345', 'eth1')).toBe('foreign')
    expect(ownerOf('autoclose-123', 'eth1')).toBe('foreign')
  })
})

describe('audit (pure)', () => {
  const base = {isOurs: (id: string) => id.startsWith('mm-'), now: 10_000, graceMs: 2000, venuePosition: 5, ownPosition: 5}
  it.each([
    ['all agree', {venueOpen: ['mm-a', 'x-foreign'], working: [{clientOrderId: 'mm-a', status: 'NEW', sentAt: 0}]}, [], false],
    ['a stray of ours is cancelled', {venueOpen: ['mm-a', 'mm-old'], working: [{clientOrderId: 'mm-a', status: 'NEW', sentAt: 0}]}, [{kind: 'stray', clientOrderId: 'mm-old'}], true],
    ['a live order the venue lacks is queried', {venueOpen: [], working: [{clientOrderId: 'mm-a', status: 'PARTIALLY_FILLED', sentAt: 0}]}, [{kind: 'missing', clientOrderId: 'mm-a'}], true],
    ['a young order is given grace', {venueOpen: [], working: [{clientOrderId: 'mm-a', status: 'NEW', sentAt: 9000}]}, [], false],
    ['in flight or cancelling: not missing', {venueOpen: [], working: [{clientOrderId: 'mm-a', status: 'PENDING_NEW', sentAt: 0}, {clientOrderId: 'mm-b', status: 'PENDING_CANCEL', sentAt: 0}]}, [], false],
    ['position drift', {venueOpen: [], working: [], venuePosition: -3}, [{kind: 'position_drift', venue: -3, own: 5}], true],
  ] as const)('%s', (_n, x, findings, suspect) => {
    const r = audit({...base, ...x, venueOpen: [...x.venueOpen], working: [...x.working]} as unknown as Parameters<typeof audit>[0])
    expect(r.findings).toEqual(findings)
    expect(r.streamSuspect).toBe(suspect)
  })
  it('names foreign orders and never acts on them', () => {
    expect(audit({...base, venueOpen: ['web_1', 'mm-a'], working: [{clientOrderId: 'mm-a', status: 'NEW', sentAt: 0}]}).foreign).toEqual(['web_1'])
  })
})

describe('driftVerdict (pure): the venue is the truth for a difference that lasts (issue 10 item 4)', () => {
  const seen = {own: 0, venue: -5}
  it('a first sighting is kept, not adopted; the same one at the next audit is adopted', () => {
    const first = driftVerdict(undefined, seen, 0, false)
    expect(first).toEqual({adopt: false, pending: {own: 0, venue: -5}})
    expect(driftVerdict(first.pending, {own: 0, venue: -5}, 0, false)).toEqual({adopt: true, pending: undefined})
  })
  it('a difference that moves (fills still arriving) is looked at again, never adopted on the old figures', () => {
    expect(driftVerdict({own: 0, venue: -5}, {own: 0, venue: -15}, 0, false)).toEqual({adopt: false, pending: {own: 0, venue: -15}})
    expect(driftVerdict({own: 0, venue: -5}, {own: 10, venue: 5}, 10, false)).toEqual({adopt: false, pending: {own: 10, venue: 5}})
  })
  it('our position moving during the audit (a fill applied meanwhile) drops it; so does agreement', () => {
    expect(driftVerdict({own: 0, venue: -5}, seen, -5, false)).toEqual({adopt: false, pending: undefined})
    expect(driftVerdict({own: 0, venue: -5}, undefined, -5, false)).toEqual({adopt: false, pending: undefined})
  })
  it('an audit while the stream buffers (a reconnect) neither confirms nor clears', () => {
    expect(driftVerdict({own: 0, venue: -5}, seen, 0, true)).toEqual({adopt: false, pending: {own: 0, venue: -5}})
    expect(driftVerdict(undefined, seen, 0, true)).toEqual({adopt: false, pending: undefined})
  })
})

describe("dead-man's switch and start-up against a loopback stub", () => {
  const SECRET = 'stubsecret-0123456789'
  let stub: BinanceStub
  let gw: BinanceGateway
  let dual = false
  let status = 'TRADING'
  let open: Array<Record<string, unknown>> = []
  let countdownFails = false
  /** GET /fapi/v1/feeBurn: the setting, or 'none' for a venue without the endpoint (the stub's 404) */
  let feeBurn: boolean | 'none' = false

  const order = (c: string, side = 'BUY', price = '3000.00') => ({symbol: 'ETHUSDC', orderId: 1, clientOrderId: c, side, type: 'LIMIT', timeInForce: 'GTX', status: 'NEW', price, origQty: '0.010', executedQty: '0', avgPrice: '0', reduceOnly: false, updateTime: 1})

  beforeAll(async () => {
    stub = new BinanceStub(SECRET)
    await stub.start()
  })
  afterAll(() => stub.stop())
  beforeEach(() => {
    stub.reset()
    dual = false
    status = 'TRADING'
    open = []
    countdownFails = false
    feeBurn = false
    stub.handler = (r: StubRequest) => {
      switch (r.path) {
        case '/fapi/v1/feeBurn':
          return feeBurn === 'none' ? undefined : {body: {feeBurn}}
        case '/fapi/v1/countdownCancelAll':
          return countdownFails ? {status: 503, body: {code: -1008, msg: 'Server is currently overloaded with other requests.'}} : {body: {symbol: 'ETHUSDC', countdownTime: r.params.get('countdownTime')}}
        case '/fapi/v1/exchangeInfo':
          return {
            body: {
              rateLimits: [{rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300}],
              symbols: [{symbol: 'ETHUSDC', status, contractType: 'PERPETUAL', marginAsset: 'USDC', filters: [{filterType: 'PRICE_FILTER', minPrice: '0.01', maxPrice: '100000', tickSize: '0.01'}, {filterType: 'LOT_SIZE', minQty: '0.001', maxQty: '10000', stepSize: '0.001'}, {filterType: 'MIN_NOTIONAL', notional: '20'}, {filterType: 'PERCENT_PRICE', multiplierUp: '1.05', multiplierDown: '0.95', multiplierDecimal: '4'}, {filterType: 'MAX_NUM_ORDERS', limit: 200}]}],
            },
          }
        case '/fapi/v1/positionSide/dual':
          return {body: {dualSidePosition: dual}}
        case '/fapi/v1/commissionRate':
          return {body: {symbol: 'ETHUSDC', makerCommissionRate: '0', takerCommissionRate: '0.0004'}}
        case '/fapi/v3/positionRisk':
          return {body: [{symbol: 'ETHUSDC', positionSide: 'BOTH', positionAmt: '0.020', entryPrice: '2999.5', markPrice: '3000', unRealizedProfit: '0.01', liquidationPrice: '0', updateTime: 1}]}
        case '/fapi/v1/premiumIndex':
          return {body: {symbol: 'ETHUSDC', markPrice: '3000.10000000'}}
        case '/fapi/v1/openOrders':
          return {body: open}
        case '/fapi/v1/allOpenOrders':
          return {body: {code: 200, msg: 'The operation of cancel all open order is done.'}}
        case '/fapi/v1/batchOrders':
          return {body: JSON.parse(r.params.get('origClientOrderIdList')!).map((c: string) => ({...order(c), status: 'CANCELED'}))}
      }
      return undefined
    }
    gw = new BinanceGateway({baseUrl: stub.url, credentials: new Credentials('stubkey-0123456789', SECRET)})
  })

  const fail = async (p: Promise<unknown>): Promise<MmError> => {
    try {
      await p
    } catch (err) {
      return err as MmError
    }
    throw new Error('resolved')
  }

  it('arms before the first order, refreshes on its period, disarms with 0 on a clean stop', async () => {
    const d = new DeadMansSwitch({api: gw, symbol: 'ETHUSDC', countdownMs: 2000, refreshMs: 40})
    await d.arm()
    await until(() => d.refreshes >= 2, 'two refreshes')
    await d.disarm()
    const times = stub.requests.filter((r) => r.path === '/fapi/v1/countdownCancelAll').map((r) => r.params.get('countdownTime'))
    expect(times[0]).toBe('2000')
    expect(times.at(-1)).toBe('0')
    expect(times.slice(0, -1).every((t) => t === '2000')).toBe(true)
    expect(() => new DeadMansSwitch({api: gw, symbol: 'ETHUSDC', countdownMs: 1000, refreshMs: 1000})).toThrow('must be below the countdown')
  })

  it('failed refreshes are reported, and once the countdown has passed the orders are known gone (expired)', async () => {
    let now = 1000
    const d = new DeadMansSwitch({api: gw, symbol: 'ETHUSDC', countdownMs: 5000, refreshMs: 1000, now: () => now})
    const problems: string[] = []
    let expired = 0
    d.on('problem', (m) => problems.push(m))
    d.on('expired', () => expired++)
    await d.arm()
    d.abandon() // drive refreshes by hand
    ;(d as unknown as {armed: boolean}).armed = true
    countdownFails = true
    now = 3000
    await d.refresh()
    expect([problems.length, expired]).toEqual([1, 0])
    expect(problems[0]).toBe("dead-man's switch refresh failed: POST /fapi/v1/countdownCancelAll: HTTP 503: Server is currently overloaded with other requests. (code -1008)")
    expect(d.expiresAt).toBe(6000)
    expect(d.lapsed(5999)).toBe(false)
    now = 6000
    expect(await d.refresh()).toBe(false)
    await d.refresh()
    expect(expired).toBe(1)
    expect(d.lapsed()).toBe(true)
    countdownFails = false
    expect(await d.refresh()).toBe(true)
    expect(d.lastOkAt).toBe(6000)
    expect(d.lapsed()).toBe(false)
    d.abandon()
  })

  it('reads the venue: rules, fees, position, mark; sorts open orders; cancels our leftovers', async () => {
    open = [order('mm-eth1aaaa-b0-0'), order('mm-eth1aaaa-a0-0', 'SELL', '3000.50')]
    const st = await readVenueState(gw, 'ethusdc', {instance: 'eth1', allowForeign: false})
    expect(st.rules).toMatchObject({tickSize: '0.01', maxNumOrders: 200, percentPrice: {multiplierUp: '1.05'}})
    expect(st.commission.takerCommissionRate).toBe('0.0004')
    expect(st.position?.positionAmt).toBe('0.020')
    expect(st.markPrice).toBe('3000.10000000')
    expect(st.open.ours.map((o) => o.clientOrderId)).toEqual(['mm-eth1aaaa-b0-0', 'mm-eth1aaaa-a0-0'])
    expect(st.deadman).toBe(true)
    expect(describeVenue(st, {deadmanCountdownMs: 120_000})).toEqual([
      `venue ${stub.url}, symbol ETHUSDC (PERPETUAL, margin USDC), status TRADING`,
      'limits: tick 0.01, step 0.001, min qty 0.001, max qty 10000, min notional 20, price within ×0.95..×1.05 of mark 3000.10000000, max 200 open orders',
      'fees: maker 0, taker 0.0004',
      'position: 0.020 @ 2999.5, liquidation 0',
      "dead-man's switch: every order of ETHUSDC is cancelled by the venue 120 s after mm stops refreshing it",
      'cancelling 2 order(s) left by an earlier run of this instance',
    ])
    expect(await cancelLeftovers(gw, st)).toBe(2)
    expect(stub.requests.at(-1)!.path).toBe('/fapi/v1/allOpenOrders')
    expect(stub.requests.every((r) => !['POST'].includes(r.method) || r.path !== '/fapi/v1/order')).toBe(true)
  })

  it('refuses hedge mode, a symbol not trading, another instance, foreign orders (unless allowed: switch off, ours cancelled one by one)', async () => {
    dual = true
    expect((await fail(readVenueState(gw, 'ETHUSDC', {instance: 'eth1', allowForeign: false}))).code).toBe('E_HEDGE_MODE')
    dual = false
    status = 'SETTLING'
    expect((await fail(readVenueState(gw, 'ETHUSDC', {instance: 'eth1', allowForeign: false}))).message).toBe(`ETHUSDC is not trading on ${stub.url} (status SETTLING)`)
    status = 'TRADING'
    open = [order('mm-zzzz0000-b0-0')]
    expect((await fail(readVenueState(gw, 'ETHUSDC', {instance: 'eth1', allowForeign: false}))).message).toBe('another mm instance has orders on ETHUSDC: mm-zzzz0000-b0-0 (BUY 0.010 @ 3000.00)')
    open = [order('web_1', 'SELL', '3100.00'), order('mm-eth1aaaa-b0-0')]
    const e = await fail(readVenueState(gw, 'ETHUSDC', {instance: 'eth1', allowForeign: false}))
    expect([e.code, e.message]).toEqual(['E_FOREIGN_ORDERS', '1 order(s) not placed by mm rest on ETHUSDC: web_1 (SELL 0.010 @ 3100.00)'])
    expect(e.suggestion).toContain('--allow-foreign-orders')
    // the refused start sends nothing: the killed run's own leftovers are named with what cancels them
    expect(e.suggestion).toContain('; 1 order(s) an earlier run of this instance left still rest (mm-eth1aaaa-b0-0 (BUY 0.010 @ 3000.00)): mm halt --symbol ETHUSDC cancels those and no other (then mm resume before the next start)')
    const st = await readVenueState(gw, 'ETHUSDC', {instance: 'eth1', allowForeign: true})
    expect(st.deadman).toBe(false)
    expect(describeVenue(st, {deadmanCountdownMs: 120_000}).at(-1)).toBe('not touching 1 foreign order(s): web_1 (SELL 0.010 @ 3100.00)')
    stub.requests.length = 0
    expect(await cancelLeftovers(gw, st)).toBe(1)
    expect(stub.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['DELETE /fapi/v1/batchOrders'])
    expect(JSON.parse(stub.requests[0].params.get('origClientOrderIdList')!)).toEqual(['mm-eth1aaaa-b0-0'])
    expect(classifyOpenOrders([], 'eth1')).toEqual({ours: [], 'other-instance': [], foreign: []})
  })

  it('refuses an account that pays its fees in BNB (feeBurn on), before any other read; a venue without the endpoint is named in the start-up lines', async () => {
    feeBurn = true
    const e = await fail(readVenueState(gw, 'ETHUSDC', {instance: 'eth1', allowForeign: false}))
    expect([e.code, e.exitCode, e.message]).toEqual([
      'E_BNB_FEES',
      1,
      'the BNB fee discount is on (GET /fapi/v1/feeBurn): Binance charges the fees in BNB while the futures wallet holds any; mm books fees in USDC, so its PnL, loss limit and state would leave them out',
    ])
    expect(e.suggestion).toContain('POST /fapi/v1/feeBurn feeBurn=false')
    // nothing read after it: no position, no open orders, nothing sent
    expect(stub.requests.map((r) => r.path).filter((p) => ['/fapi/v3/positionRisk', '/fapi/v1/openOrders', '/fapi/v1/order'].includes(p))).toEqual([])
    feeBurn = 'none'
    stub.requests.length = 0
    const st = await readVenueState(gw, 'ETHUSDC', {instance: 'eth1', allowForeign: false})
    // a 404 is not asked again
    expect(stub.requests.filter((r) => r.path === '/fapi/v1/feeBurn').length).toBe(1)
    expect(describeVenue(st, {deadmanCountdownMs: 120_000}).at(-1)).toBe(
      'fees: the BNB fee-discount setting could not be read (GET /fapi/v1/feeBurn: HTTP 404: stub: no handler (code -1)); every fee is booked in USDC: if BNB pays them, PnL leaves them out',
    )
    feeBurn = false
    expect((await readVenueState(gw, 'ETHUSDC', {instance: 'eth1', allowForeign: false})).feeBurnUnread).toBe(undefined)
  })

  it('production is fapi.binance.com only', () => {
    expect(isProduction('https://fapi.binance.com')).toBe(true)
    expect(isProduction('https://demo-fapi.binance.com')).toBe(false)
    expect(isProduction('http://127.0.0.1:1234')).toBe(false)
  })
})
