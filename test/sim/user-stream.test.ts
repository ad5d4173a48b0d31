/**
 * The user data stream in process: the connection cut after the socket lifetime (Binance:
 * 24 h, shortened here) and the `events=` filter of the routed path.
 */
import {afterEach, describe, expect, it} from 'vitest'
import {SimVenue} from '../../src/lib/venue/sim/server.js'
import {SIM_TEST_API_KEY} from '../../src/lib/venue/sim/signing.js'
import {SimTrading} from '../../src/lib/venue/sim/trading.js'
import {openWs} from '../support/ws-client.js'

const inst = {symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minNotional: '5'}
let stop: (() => Promise<void>) | undefined
afterEach(async () => {
  await stop?.()
  stop = undefined
})

async function start(wsMaxAgeMs?: number) {
  const venue = new SimVenue({instruments: [inst]})
  const trading = new SimTrading(venue, {instruments: [inst], wsMaxAgeMs})
  const {restUrl, wsUrl} = await venue.start()
  stop = async () => {
    trading.stop()
    await venue.stop()
  }
  const r = await fetch(`${restUrl}/fapi/v1/listenKey`, {method: 'POST', headers: {'X-MBX-APIKEY': SIM_TEST_API_KEY}})
  const {listenKey} = (await r.json()) as {listenKey: string}
  return {venue, trading, restUrl, wsUrl, listenKey}
}

describe('user data stream', () => {
  it('cuts a connection when its lifetime is over (Binance: 24 h)', async () => {
    const s = await start(300)
    const ws = await openWs(`${s.wsUrl}/private/ws/${s.listenKey}`)
    expect(await ws.closed).toBe(1000)
  })

  it('events= passes only the named event types; an unknown key is refused on the upgrade', async () => {
    const s = await start()
    const only = await openWs(`${s.wsUrl}/private/ws?listenKey=${s.listenKey}&events=ACCOUNT_UPDATE`)
    const all = await openWs(`${s.wsUrl}/private/ws?listenKey=${s.listenKey}`)
    s.trading.users.publish({e: 'ORDER_TRADE_UPDATE', E: 1})
    s.trading.users.publish({e: 'ACCOUNT_UPDATE', E: 2})
    await all.next((m) => m.e === 'ACCOUNT_UPDATE', 'ACCOUNT_UPDATE')
    await only.next((m) => m.e === 'ACCOUNT_UPDATE', 'ACCOUNT_UPDATE')
    expect(all.messages.map((m) => m.e)).toEqual(['ORDER_TRADE_UPDATE', 'ACCOUNT_UPDATE'])
    expect(only.messages.map((m) => m.e)).toEqual(['ACCOUNT_UPDATE'])
    const refused = await openWs(`${s.wsUrl}/private/ws/${'x'.repeat(64)}`).then(() => 'open', (e: Error) => e.message)
    expect(refused).toMatch(/400/)
    only.close()
    all.close()
  })
})
