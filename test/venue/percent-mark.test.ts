/**
 * The PERCENT_PRICE band the core clamps to (VenueRisk.maxBuyTicks / minSellTicks) comes
 * from the adapter's last mark. That mark was read at the start and at each audit (every
 * 30 s by default); a venue refusal for the band (-4024 / -4016) now reads it again
 * (premiumIndex), so the next decision's band follows the venue's instead of repeating the
 * refused price until the next audit.
 */
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {VirtualClock} from '../../src/lib/clock/clock.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import type {OrderIntent} from '../../src/lib/domain/orders.js'
import {BinanceGateway} from '../../src/lib/venue/binance/gateway.js'
import {Credentials} from '../../src/lib/venue/binance/signer.js'
import {BinanceVenue} from '../../src/lib/venue/binance/venue.js'
import {applyStreamMark} from '../../src/lib/run/live.js'
import {type VenueReport} from '../../src/lib/venue/types.js'
import {BinanceStub} from '../support/binance-stub.js'
import {until} from '../support/wait.js'

const INST = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})
const SECRET = 'stubsecret-0123456789'
const ASK: OrderIntent = {slot: 'flatten:SELL:0', side: 'SELL', price: 339998, qty: 100, tif: 'IOC', reduceOnly: true, layer: 'flatten'}
const clock = new VirtualClock(1_700_000_000_000)

let stub: BinanceStub
let gw: BinanceGateway
let reports: VenueReport[]
let mark: string
let markMode: 'ok' | 'hang' | 'fail'

beforeAll(async () => {
  stub = new BinanceStub(SECRET)
  await stub.start()
})
afterAll(() => stub.stop())
beforeEach(() => {
  stub.reset()
  reports = []
  mark = '3400.20'
  markMode = 'ok'
  stub.handler = (r) => {
    if (r.path === '/fapi/v1/order' && r.method === 'POST') return {status: 400, body: {code: -4024, msg: 'Price is lower than mark price multiplier floor.'}}
    if (r.path === '/fapi/v1/premiumIndex') return markMode === 'hang' ? {hang: true} : markMode === 'fail' ? {status: 400, body: {code: -1121, msg: 'Invalid symbol.'}} : {body: {symbol: 'ETHUSDC', markPrice: mark, indexPrice: mark, time: 1}}
    return undefined
  }
})

function venue(o: {band?: boolean; timeoutMs?: number} = {}): BinanceVenue {
  gw = new BinanceGateway({baseUrl: stub.url, credentials: new Credentials('stubkey-0123456789', SECRET), timeoutMs: o.timeoutMs ?? 2000})
  const percentPrice = o.band === false ? undefined : {multiplierUp: '1.00002', multiplierDown: '0.99998'}
  return new BinanceVenue({gateway: gw, instrument: INST, clock, sink: {push: (r) => reports.push(r)}, stp: 'EXPIRE_MAKER', percentPrice, isOurs: (id) => id.startsWith('mm-')})
}

const premiumReads = () => stub.requests.filter((r) => r.path === '/fapi/v1/premiumIndex').length

describe('the PERCENT_PRICE band after a venue refusal', () => {
  it('a -4024 answer reads the mark again: the band moves to the venue mark (exact ticks)', async () => {
    const v = venue()
    v.setMark('3400.04') // 3400.04 × 0.99998 = 3399.971992 → floor 339998; × 1.00002 = 3400.108 → cap 340010
    expect([v.percentMinSellTicks, v.percentMaxBuyTicks]).toEqual([339998, 340010])
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-f-0', order: ASK})
    await until(() => reports.length === 1 && v.percentMinSellTicks !== 339998, 'the reject and the re-read mark')
    expect(reports[0]).toMatchObject({type: 'reject', code: -4024})
    // 3400.20 × 0.99998 = 3400.131996 → 340014 (up); × 1.00002 = 3400.268004 → 340026 (down)
    expect([v.percentMinSellTicks, v.percentMaxBuyTicks]).toEqual([340014, 340026])
    expect(premiumReads()).toBe(1)
    expect(v.markRereads).toBe(1)
    await gw.close()
  })

  it('refusals while a read is under way make one read', async () => {
    const v = venue({timeoutMs: 300})
    v.setMark('3400.04')
    markMode = 'hang'
    for (let i = 0; i < 3; i++) v.submit({type: 'place', clientOrderId: `mm-eth10000-f-${i}`, order: ASK})
    await until(() => reports.length === 3 && premiumReads() === 1, 'three rejects and a mark read')
    expect(premiumReads()).toBe(1)
    expect(v.markRereads).toBe(1)
    expect([v.percentMinSellTicks, v.percentMaxBuyTicks]).toEqual([339998, 340010])
    await gw.close()
  })

  it('a failed read leaves the band as it was; the next refusal reads again', async () => {
    const v = venue()
    v.setMark('3400.04')
    markMode = 'fail'
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-f-0', order: ASK})
    await until(() => reports.length === 1 && premiumReads() === 1, 'the reject and a mark read')
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-f-1', order: ASK})
    await until(() => reports.length === 2 && premiumReads() === 2, 'the second reject and a second read')
    expect([v.percentMinSellTicks, v.percentMaxBuyTicks]).toEqual([339998, 340010])
    await gw.close()
  })

  it('an IOC at the band\'s floor that took nothing reads the mark again (a falling mark: no refusal tells it); at most one read a second (review5)', async () => {
    let n = 0
    stub.handler = (r) => {
      if (r.path === '/fapi/v1/order' && r.method === 'POST') {
        const p = new URLSearchParams(r.body)
        return {body: {orderId: ++n, symbol: 'ETHUSDC', status: 'EXPIRED', clientOrderId: p.get('newClientOrderId'), price: p.get('price'), avgPrice: '0', origQty: p.get('quantity'), executedQty: '0', cumQuote: '0', timeInForce: 'IOC', type: 'LIMIT', reduceOnly: true, side: 'SELL', positionSide: 'BOTH', updateTime: 1}}
      }
      if (r.path === '/fapi/v1/premiumIndex') return {body: {symbol: 'ETHUSDC', markPrice: mark, indexPrice: mark, time: 1}}
      return undefined
    }
    const v = venue()
    v.setMark('3400.04') // floor 339998 (ASK's price)
    mark = '3390.00' // the venue's mark fell: 3390.00 × 0.99998 = 3389.9322 → floor 338994 (up); × 1.00002 = 3390.0678 → cap 339006 (down)
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-f-0', order: ASK})
    await until(() => reports.some((x) => x.type === 'expired') && v.percentMinSellTicks !== 339998, 'the expiry and the re-read mark')
    expect([v.percentMinSellTicks, v.percentMaxBuyTicks]).toEqual([338994, 339006])
    expect(premiumReads()).toBe(1)
    // the next unfilled IOC at the (new) floor within a second: no read; a second later: one
    const atFloor: OrderIntent = {...ASK, price: 338994}
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-f-1', order: atFloor})
    await until(() => reports.filter((x) => x.type === 'expired').length === 2, 'the second expiry')
    expect(premiumReads()).toBe(1)
    clock.advance(1000)
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-f-2', order: atFloor})
    await until(() => reports.filter((x) => x.type === 'expired').length === 3 && premiumReads() === 2, 'the third expiry and a second read')
    // an IOC inside the band (not at its edge) that took nothing: no read
    clock.advance(1000)
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-f-3', order: {...ASK, price: 339500}})
    await until(() => reports.filter((x) => x.type === 'expired').length === 4, 'the fourth expiry')
    expect(premiumReads()).toBe(2)
    await gw.close()
  })

  it('a mark the instrument cannot hold leaves the band as it was, and the run goes on (before: an unhandled rejection ended the process) (review5)', async () => {
    const v = venue()
    v.setMark('3400.04')
    mark = '99999999999999999'
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-f-0', order: ASK})
    await until(() => reports.length === 1 && premiumReads() === 1, 'the reject and a mark read')
    // the read's answer handled on a later turn: the band unchanged
    await until(() => (v as unknown as {markRereading: boolean}).markRereading === false, 'the read answered')
    expect([v.percentMinSellTicks, v.percentMaxBuyTicks]).toEqual([339998, 340010])
    await gw.close()
  })

  it('a zero mark ("0.00000000", as positionRisk gives with no mark) leaves the band as it was (review5)', async () => {
    const v = venue()
    v.setMark('3400.04')
    v.setMark('0.00000000')
    expect([v.percentMinSellTicks, v.percentMaxBuyTicks]).toEqual([339998, 340010])
    await gw.close()
  })

  it('no PERCENT_PRICE filter: no read', async () => {
    const v = venue({band: false})
    v.submit({type: 'place', clientOrderId: 'mm-eth10000-f-0', order: ASK})
    await until(() => reports.length === 1, 'the reject')
    expect(premiumReads()).toBe(0)
    expect(v.markRereads).toBe(0)
    await gw.close()
  })
})

describe('the band from the mark price stream (live.ts applyStreamMark)', () => {
  it('a mark moves the band (exact ticks); one below a tick or past what the instrument holds leaves it as it was, saying why; nothing is read by REST', async () => {
    const v = venue()
    expect(applyStreamMark(v, INST, '3400.04')).toBeUndefined()
    expect([v.percentMinSellTicks, v.percentMaxBuyTicks]).toEqual([339998, 340010])
    // 3401.005 × 0.99998 = 3400.93698 → floor 340094; × 1.00002 = 3401.07302 → cap 340107
    expect(applyStreamMark(v, INST, '3401.005')).toBeUndefined()
    expect([v.percentMinSellTicks, v.percentMaxBuyTicks]).toEqual([340094, 340107])
    // below one tick: its cap would be 0 ticks (every BUY refused locally)
    expect(applyStreamMark(v, INST, '0.004')).toBe('is below one tick (0.01)')
    expect(applyStreamMark(v, INST, '99999999999999999')).toBe('is out of range for the instrument')
    expect(applyStreamMark(v, INST, '1' + '0'.repeat(40))).toBe('is out of range for the instrument')
    expect([v.percentMinSellTicks, v.percentMaxBuyTicks]).toEqual([340094, 340107])
    expect(premiumReads()).toBe(0)
    await gw.close()
  })
})
