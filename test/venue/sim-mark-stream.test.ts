/**
 * `mm sim`'s mark price stream (src/lib/venue/sim/trading.ts): `<symbol>@markPrice@1s` on
 * the `/market` route carries, once a second, the mark its PERCENT_PRICE check uses (the
 * mid, as premiumIndex answers it); a route that is not `/market` (here `/public`) gets
 * none, and a symbol without a mark yet (no book, no trade) sends nothing rather than "0".
 */
import WebSocket from 'ws'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {VirtualClock} from '../../src/lib/clock/clock.js'
import type {MarketEvent} from '../../src/lib/market/events.js'
import {manualTimers} from '../../src/lib/venue/sim/exchange.js'
import {SimVenue} from '../../src/lib/venue/sim/server.js'
import {SimTrading} from '../../src/lib/venue/sim/trading.js'

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0)
const ETH = {symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minNotional: '20'}
const BTC = {symbol: 'BTCUSDT', tickSize: '0.10', stepSize: '0.001', minNotional: '100'}

let clock: VirtualClock
let venue: SimVenue
let trading: SimTrading
const sockets: WebSocket[] = []

beforeAll(async () => {
  clock = new VirtualClock(T0)
  venue = new SimVenue({instruments: [ETH, BTC], rebaseTime: false})
  trading = new SimTrading(venue, {instruments: [ETH, BTC], wall: clock, timers: manualTimers})
  await venue.start()
  venue.publish({kind: 'snapshot', symbol: 'ETHUSDC', ts: T0 * 1000, localTs: T0 * 1000, lastUpdateId: 1, bids: [['3400.00', '10.000']], asks: [['3400.11', '10.000']]} as MarketEvent)
})
afterAll(async () => {
  for (const s of sockets) s.terminate()
  trading.stop()
  await venue.stop()
})

function collect(url: string): {got: string[]; open: Promise<void>} {
  const ws = new WebSocket(url)
  sockets.push(ws)
  const got: string[] = []
  ws.on('message', (d) => void got.push(d.toString()))
  return {got, open: new Promise((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })}
}

describe('mm sim: <symbol>@markPrice@1s', () => {
  it('on /market: the mark PERCENT_PRICE uses (premiumIndex markPrice), every second; nothing on /public; nothing for a symbol without a mark', async () => {
    const market = collect(`${venue.wsUrl}/market/stream?streams=ethusdc@markPrice@1s/btcusdt@markPrice@1s`)
    const pub = collect(`${venue.wsUrl}/public/stream?streams=ethusdc@markPrice@1s`)
    await Promise.all([market.open, pub.open])
    // two marks, a second apart (the sim's wall timer; bounded wait)
    for (let i = 0; i < 100 && market.got.length < 2; i++) await new Promise((r) => setTimeout(r, 50))
    expect(market.got.length).toBeGreaterThanOrEqual(2)
    const pi = (await (await fetch(`${venue.restUrl}/fapi/v1/premiumIndex?symbol=ETHUSDC`)).json()) as {markPrice: string}
    expect(pi.markPrice).toBe('3400.055')
    for (const m of market.got.slice(0, 2)) {
      expect(JSON.parse(m)).toEqual({stream: 'ethusdc@markPrice@1s', data: {e: 'markPriceUpdate', E: T0, s: 'ETHUSDC', p: pi.markPrice, ap: pi.markPrice, i: pi.markPrice, P: pi.markPrice, r: '0.0001', T: Date.UTC(2026, 10, 30, 16)}})
    }
    // BTCUSDT has no book and no trade: no mark, no message (it was p "0")
    expect(market.got.map((m) => (JSON.parse(m) as {data: {s: string}}).data.s)).toEqual(market.got.map(() => 'ETHUSDC'))
    // /public does not carry /market streams (FACTS.md §3.1)
    expect(pub.got).toEqual([])
  })
})
