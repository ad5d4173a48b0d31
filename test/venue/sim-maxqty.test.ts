/**
 * The sim's LOT_SIZE / MARKET_LOT_SIZE maxQty (Binance -4005 "Quantity greater than max
 * quantity.") on a controlled clock: LIMIT orders and modifications against LOT_SIZE,
 * MARKET orders against MARKET_LOT_SIZE (set apart here so each limit is seen to apply
 * to its own type); and the 8-hour funding boundary premiumIndex reports.
 */
import {describe, expect, it} from 'vitest'
import {VirtualClock} from '../../src/lib/clock/clock.js'
import type {MarketEvent} from '../../src/lib/market/events.js'
import {manualTimers, SimExchange} from '../../src/lib/venue/sim/exchange.js'
import {SIM_DEFAULT_MAX_QTY} from '../../src/lib/venue/sim/server.js'
import {ApiError} from '../../src/lib/venue/sim/signing.js'
import {nextFundingBoundary, toInstrument} from '../../src/lib/venue/sim/trading.js'
import {settle} from '../support/settle.js'

function setup(maxQty?: string, marketMaxQty?: string) {
  const inst = toInstrument({symbol: 'DOGEUSDT', tickSize: '0.00001', stepSize: '1', minQty: '1', minNotional: '5', ...(maxQty ? {maxQty} : {})})
  const clock = new VirtualClock(1_000_000)
  const ex = new SimExchange({instruments: [inst], clock, wall: clock, timers: manualTimers, ...(marketMaxQty ? {marketMaxQty: {DOGEUSDT: marketMaxQty}} : {})})
  const ms = clock.now()
  ex.onMarket({kind: 'snapshot', symbol: 'DOGEUSDT', ts: ms * 1000, localTs: ms * 1000, bids: [['0.38000', '100000']], asks: [['0.38001', '100000']]} as MarketEvent)
  const p = (o: Record<string, string>) => new Map(Object.entries({symbol: 'DOGEUSDT', ...o}))
  const step = (n: number) => {
    clock.advance(n)
    ex.advanceTo(clock.now())
  }
  return {ex, p, step}
}

/** the ApiError a call is refused with, as [code, msg] (fails if it is not refused) */
async function refusal(call: () => Promise<unknown>): Promise<[number, string]> {
  try {
    await call()
  } catch (error) {
    if (error instanceof ApiError) return [error.code, error.message]
    throw error
  }
  throw new Error('not refused')
}


const TOO_BIG: [number, string] = [-4005, 'Quantity greater than max quantity.']

describe('sim maxQty (LOT_SIZE for LIMIT, MARKET_LOT_SIZE for MARKET)', () => {
  it('LIMIT above LOT_SIZE maxQty is -4005; at maxQty it is accepted; a modification above it is -4005', async () => {
    const {ex, p, step} = setup('50', '20')
    const limit = (quantity: string) => ex.newOrder(p({side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '0.37000', quantity}))
    expect(await refusal(() => limit('51'))).toEqual(TOO_BIG)
    // MARKET_LOT_SIZE (20) does not apply to a LIMIT
    const ack = await settle(limit('50'), step)
    expect(ack).toMatchObject({status: 'NEW', origQty: '50'})
    expect(await refusal(() => ex.modifyOrder(p({side: 'BUY', orderId: String(ack.orderId), price: '0.37000', quantity: '51'})))).toEqual(TOO_BIG)
  })

  it('MARKET above MARKET_LOT_SIZE maxQty is -4005 even under LOT_SIZE maxQty; at it, it is accepted', async () => {
    const {ex, p, step} = setup('50', '20')
    const market = (quantity: string) => ex.newOrder(p({side: 'BUY', type: 'MARKET', quantity}))
    expect(await refusal(() => market('21'))).toEqual(TOO_BIG)
    expect(await settle(market('20'), step)).toMatchObject({origQty: '20'})
  })

  it('MARKET_LOT_SIZE defaults to LOT_SIZE maxQty; the default maxQty is 1000000', async () => {
    const {ex, p} = setup('50')
    expect(await refusal(() => ex.newOrder(p({side: 'SELL', type: 'MARKET', quantity: '51'})))).toEqual(TOO_BIG)
    expect(SIM_DEFAULT_MAX_QTY).toBe('1000000')
    const d = setup()
    expect(await refusal(() => d.ex.newOrder(d.p({side: 'SELL', type: 'MARKET', quantity: '1000001'})))).toEqual(TOO_BIG)
    expect(await refusal(() => d.ex.newOrder(d.p({side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', price: '0.39000', quantity: '2000000'})))).toEqual(TOO_BIG)
  })
})

describe('nextFundingBoundary: the next 00/08/16 UTC after a time', () => {
  it('is strictly after the time, on the 8-hour grid', () => {
    expect(nextFundingBoundary(Date.UTC(2026, 10, 30, 18, 41, 8))).toBe(Date.UTC(2026, 11, 1, 0, 0, 0))
    expect(nextFundingBoundary(Date.UTC(2026, 10, 30, 7, 59, 59, 999))).toBe(Date.UTC(2026, 10, 30, 8))
    expect(nextFundingBoundary(Date.UTC(2026, 10, 30, 8))).toBe(Date.UTC(2026, 10, 30, 16))
    expect(nextFundingBoundary(Date.UTC(2026, 10, 30, 0, 0, 0, 1))).toBe(Date.UTC(2026, 10, 30, 8))
  })
})
