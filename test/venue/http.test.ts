import {createServer} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {VenueError} from '../../src/lib/domain/errors.js'
import {backoffDelay, header, HttpClient, parseRetryAfter, seededRandom, usedWeights} from '../../src/lib/venue/binance/http.js'
import {BinancePublicRest} from '../../src/lib/venue/binance/rest-public.js'
import {ETHUSDC, startVenue, type TestVenue} from '../support/venue.js'

let v: TestVenue
beforeAll(async () => {
  v = await startVenue()
  v.venue.publish({kind: 'snapshot', symbol: 'ETHUSDC', ts: 1, localTs: 1, bids: [['3000.00', '1.500']], asks: [['3000.01', '2.000']]})
})
afterAll(() => v.close())

/** a client whose waits are recorded and skipped (the policy is under test, not the clock) */
function client(retry = {}) {
  const waits: number[] = []
  const http = new HttpClient({baseUrl: v.restUrl, retry: {maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 1000, budgetMs: 60_000, maxRetryAfterMs: 10_000, ...retry}, random: seededRandom(42), sleep: async (ms) => void waits.push(ms)})
  return {http, rest: new BinancePublicRest({http}), waits}
}

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))
  const port = (s.address() as {port: number}).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

describe('backoff and headers', () => {
  it('caps the exponential delay and keeps the jitter within [cap/2, cap]', () => {
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, 100, 1000, () => 0))).toEqual([50, 100, 200, 400, 500, 500])
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, 100, 1000, () => 0.999999))).toEqual([100, 200, 400, 800, 1000, 1000])
    const r1 = seededRandom(5)
    const r2 = seededRandom(5)
    expect([1, 2, 3].map((a) => backoffDelay(a, 100, 10_000, r1))).toEqual([1, 2, 3].map((a) => backoffDelay(a, 100, 10_000, r2)))
  })

  it('reads weight headers case-insensitively and Retry-After as seconds or a date', () => {
    expect(usedWeights({'X-MBX-USED-WEIGHT-1M': '23', 'x-mbx-used-weight-1s': '2', 'content-type': 'x'})).toEqual({'1M': 23, '1S': 2})
    expect(header({'Retry-After': '3'}, 'retry-after')).toBe('3')
    expect(parseRetryAfter('3', 0)).toBe(3000)
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', Date.UTC(2026, 0, 1, 0, 0, 4))).toBe(6000)
    expect(parseRetryAfter(undefined, 0)).toBeUndefined()
  })
})

describe('public REST against the loopback venue', () => {
  it('reads exchangeInfo, depth and time, and the used weight', async () => {
    const {rest, http} = client()
    const [inst] = await rest.instruments(['ethusdc'])
    expect(inst.spec).toMatchObject({symbol: 'ETHUSDC', tickSize: ETHUSDC.tickSize, stepSize: ETHUSDC.stepSize, minNotional: '20'})
    const d = await rest.depth('ETHUSDC')
    expect(d).toMatchObject({bids: [['3000.00', '1.500']], asks: [['3000.01', '2.000']], lastUpdateId: v.venue.book('ETHUSDC').lastUpdateId + 1})
    expect(typeof (await rest.serverTime())).toBe('number')
    expect(http.usedWeight['1M']).toBeGreaterThanOrEqual(22)
    await http.close()
  })

  it('retries 5xx with capped backoff and jitter, then succeeds', async () => {
    const {rest, http, waits} = client()
    v.venue.failRest(2, {status: 503, path: '/fapi/v1/depth'})
    const d = await rest.depth('ETHUSDC', 5)
    expect(d.bids).toEqual([['3000.00', '1.500']])
    const r = seededRandom(42)
    expect(waits).toEqual([backoffDelay(0, 200, 1000, r), backoffDelay(1, 200, 1000, r)])
    expect(http.retries).toBe(2)
    await http.close()
  })

  it('honours Retry-After on 429 and 418', async () => {
    const {rest, http, waits} = client()
    v.venue.failRest(1, {status: 429, retryAfter: 2})
    v.venue.failRest(1, {status: 418, retryAfter: 1, code: -1003, msg: 'Way too many requests; IP banned until 1.'})
    await rest.serverTime()
    expect(waits).toEqual([2000, 1000])
    await http.close()
  })

  it('does not sleep through a long ban: 418 with Retry-After beyond the cap fails at once', async () => {
    const {rest, http, waits} = client()
    v.venue.failRest(1, {status: 418, retryAfter: 120, code: -1003, msg: 'Way too many requests; IP banned until 1.'})
    const err = await rest.serverTime().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(VenueError)
    expect(err).toMatchObject({code: 'E_VENUE_BANNED', httpStatus: 418, venueCode: -1003, exitCode: 1, details: {retryAfterMs: 120_000, attempts: 1}})
    expect(waits).toEqual([])
    await http.close()
  })

  it('maps a 4xx body to VenueError without retrying', async () => {
    const {rest, http, waits} = client()
    const err = await rest.depth('NOPEUSDT').catch((e: unknown) => e)
    expect(err).toMatchObject({code: 'E_VENUE_REJECTED', httpStatus: 400, venueCode: -1121, message: 'venue answered HTTP 400: Invalid symbol. (code -1121)'})
    expect(waits).toEqual([])
    await http.close()
  })

  it('unknown symbol in exchangeInfo is a usage error (exit 2)', async () => {
    const {rest, http} = client()
    await expect(rest.instruments(['FOOUSDT'])).rejects.toMatchObject({code: 'E_UNKNOWN_SYMBOL', exitCode: 2})
    await http.close()
  })

  it('gives up on an unreachable venue after the attempt budget, and on the time budget', async () => {
    const port = await freePort()
    const waits: number[] = []
    const http = new HttpClient({baseUrl: `http://127.0.0.1:${port}`, retry: {maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, budgetMs: 60_000}, random: () => 0.5, sleep: async (ms) => void waits.push(ms)})
    const err = await http.getJson('/fapi/v1/time').catch((e: unknown) => e)
    expect(err).toMatchObject({code: 'E_VENUE_UNREACHABLE', exitCode: 1})
    expect((err as Error).message).toMatch(/ECONNREFUSED.*gave up after the retry budget: 4 attempts/)
    expect(waits).toEqual([75, 150, 300])
    await http.close()
    // time budget: the second wait would pass 250 ms in total
    // a virtual clock moved only by the waits: a slow refused connect on a loaded machine does not eat the budget
    const waits2: number[] = []
    let t = 0
    const http2 = new HttpClient({baseUrl: `http://127.0.0.1:${port}`, retry: {maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000, budgetMs: 250}, random: () => 0.5, now: () => t, sleep: async (ms) => void (waits2.push(ms), (t += ms))})
    await expect(http2.getJson('/fapi/v1/time')).rejects.toMatchObject({code: 'E_VENUE_UNREACHABLE'})
    expect(waits2).toEqual([75, 150])
    await http2.close()
  })
})
