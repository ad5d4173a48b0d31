import {afterEach, describe, expect, it} from 'vitest'
import WebSocket, {WebSocketServer} from 'ws'
import {backoffDelay, seededRandom} from '../../src/lib/venue/binance/http.js'
import {parseMarketMessage, StreamClient, streamNames} from '../../src/lib/venue/binance/ws.js'
import {nextEvent} from '../support/venue.js'

const cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!()
})

async function server(): Promise<{wss: WebSocketServer; url: string; conns: WebSocket[]}> {
  const wss = new WebSocketServer({host: '127.0.0.1', port: 0})
  await new Promise<void>((r) => wss.once('listening', () => r()))
  const conns: WebSocket[] = []
  wss.on('connection', (ws) => conns.push(ws))
  cleanup.push(() => new Promise<void>((r) => {
    for (const c of wss.clients) c.terminate()
    wss.close(() => r())
  }))
  return {wss, url: `ws://127.0.0.1:${(wss.address() as {port: number}).port}/public/stream?streams=ethusdc@depth@100ms`, conns}
}

function client(url: string, extra: Partial<ConstructorParameters<typeof StreamClient>[0]> = {}): StreamClient {
  const c = new StreamClient({url, backoffBaseMs: 20, backoffMaxMs: 80, random: seededRandom(9), ...extra})
  cleanup.push(() => c.stop())
  return c
}

describe('StreamClient', () => {
  it('unwraps combined-stream messages with a local receive time', async () => {
    const s = await server()
    const c = client(s.url, {clock: () => 123})
    const opened = nextEvent(c, 'open')
    c.start()
    await opened
    const got = nextEvent<[string | undefined, unknown, number]>(c, 'message')
    s.conns[0].send(JSON.stringify({stream: 'ethusdc@depth@100ms', data: {e: 'depthUpdate', x: 1}}))
    expect(await got).toEqual(['ethusdc@depth@100ms', {e: 'depthUpdate', x: 1}, 123])
  })

  it('reconnects after the venue closes, with seeded backoff, and counts reconnects', async () => {
    const s = await server()
    const c = client(s.url)
    const downs: {reason: string; retryInMs: number}[] = []
    c.on('down', (d) => downs.push(d))
    let opened = nextEvent<[{reconnect: boolean}]>(c, 'open')
    c.start()
    expect((await opened)[0].reconnect).toBe(false)
    for (let i = 0; i < 2; i++) {
      opened = nextEvent(c, 'open')
      s.conns[s.conns.length - 1].close(1001, 'bye')
      expect((await opened)[0].reconnect).toBe(true)
    }
    expect(c.reconnects).toBe(2)
    // a connection that did not hold for stableMs (30 s) does not reset the backoff: a venue
    // closing every socket at once gets the backoff's pace, not a reconnect storm
    const r = seededRandom(9)
    expect(downs.map((d) => d.retryInMs)).toEqual([backoffDelay(0, 20, 80, r), backoffDelay(1, 20, 80, r)])
    expect(downs.map((d) => d.reason)).toEqual(['closed', 'closed'])
  })

  it('backs off exponentially while the venue refuses connections, and gives up before a first open when told', async () => {
    const s = await server()
    const url = s.url
    await new Promise<void>((r) => s.wss.close(() => r()))
    const c = client(url, {giveUpAfter: 4})
    const downs: number[] = []
    c.on('down', (d) => downs.push(d.retryInMs))
    const fatal = nextEvent<[Error]>(c, 'fatal')
    c.start()
    const [err] = await fatal
    expect(err).toMatchObject({code: 'E_VENUE_UNREACHABLE', exitCode: 1})
    const r = seededRandom(9)
    expect(downs).toEqual([0, 1, 2].map((a) => backoffDelay(a, 20, 80, r)))
    expect(c.reconnects).toBe(3)
  })

  it('detects a silent socket and reconnects', async () => {
    const s = await server()
    const c = client(s.url, {silenceMs: 100})
    const opened = nextEvent(c, 'open')
    c.start()
    await opened
    const [down] = await nextEvent<[{reason: string}]>(c, 'down')
    expect(down.reason).toBe('silent')
    await nextEvent(c, 'open')
    expect(c.reconnects).toBe(1)
  })

  it('recycles the connection before the venue lifetime cut', async () => {
    const s = await server()
    const c = client(s.url, {maxLifetimeMs: 150})
    c.start()
    const [down] = await nextEvent<[{reason: string; retryInMs: number}]>(c, 'down')
    expect(down).toMatchObject({reason: 'lifetime', retryInMs: 0})
    await nextEvent(c, 'open')
    expect(c.reconnects).toBe(1)
  })

  it('answers the venue pings with the same payload', async () => {
    const s = await server()
    const c = client(s.url)
    const opened = nextEvent(c, 'open')
    c.start()
    await opened
    const pong = new Promise<string>((r) => s.conns[0].once('pong', (d) => r(d.toString())))
    s.conns[0].ping('hello-3m')
    expect(await pong).toBe('hello-3m')
  })
})

describe('market message parsing', () => {
  it('parses the published depthUpdate, bookTicker and trade fixtures', () => {
    expect(parseMarketMessage({e: 'depthUpdate', E: 123456789, T: 123456788, s: 'BTCUSDT', U: 157, u: 160, pu: 149, b: [['0.0024', '10']], a: [['0.0026', '100']]}, 5)).toEqual(
      {kind: 'depth', symbol: 'BTCUSDT', ts: 123456788000, localTs: 5, U: 157, u: 160, pu: 149, eventTs: 123456789000, bids: [['0.0024', '10']], asks: [['0.0026', '100']]},
    )
    expect(parseMarketMessage({e: 'bookTicker', u: 400900217, E: 1568014460893, T: 1568014460891, s: 'BNBUSDT', b: '25.35190000', B: '31.21000000', a: '25.36520000', A: '40.66000000'}, 7)).toEqual(
      {kind: 'ticker', symbol: 'BNBUSDT', ts: 1568014460891000, localTs: 7, u: 400900217, bidPrice: '25.35190000', bidQty: '31.21000000', askPrice: '25.36520000', askQty: '40.66000000'},
    )
    expect(parseMarketMessage({e: 'aggTrade', E: 10, a: 5933014, s: 'BTCUSDT', p: '0.001', q: '100', f: 100, l: 105, T: 9, m: true}, 1)).toEqual(
      {kind: 'trade', symbol: 'BTCUSDT', ts: 9000, localTs: 1, id: '5933014', side: 'sell', price: '0.001', qty: '100'},
    )
    expect(parseMarketMessage({e: 'trade', E: 10, T: 9, s: 'ETHUSDT', t: 77, p: '3000.10', q: '0.010', m: false}, 1)).toMatchObject({kind: 'trade', id: '77', side: 'buy', price: '3000.10', qty: '0.010'})
    expect(parseMarketMessage({result: null, id: 1}, 1)).toBeUndefined()
    expect(parseMarketMessage({e: 'depthUpdate', s: 'X', U: 1, u: 2, b: [[1, 2]], a: []}, 1)).toBeUndefined()
  })

  it('routes depth/bookTicker to /public and trades to /market', () => {
    expect(streamNames('ETHUSDC', {ticker: true, trades: 'aggTrade'})).toEqual({public: ['ethusdc@depth@100ms', 'ethusdc@bookTicker'], market: ['ethusdc@aggTrade']})
    expect(streamNames('ETHUSDC', {trades: false, depth: '@depth@0ms'})).toEqual({public: ['ethusdc@depth@0ms'], market: []})
  })
})
