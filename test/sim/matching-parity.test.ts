/**
 * The sim's matching is the paper venue's: the embedded ETHUSDC recording and one order
 * sequence drive a PaperVenue (as the dry-run uses it) and the sim's exchange core (as
 * `mm sim` uses it, Binance parameters in, Binance objects out) on one controlled clock.
 * Both must produce the same fills, the same refusals and the same position.
 */
import {describe, expect, it} from 'vitest'
import {VirtualClock} from '../../src/lib/clock/clock.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import type {OrderIntent} from '../../src/lib/domain/orders.js'
import type {MarketEvent} from '../../src/lib/market/events.js'
import {readTardis} from '../../src/lib/record/tardis-reader.js'
import {PaperVenue} from '../../src/lib/venue/paper/paper-venue.js'
import {manualTimers, SimExchange} from '../../src/lib/venue/sim/exchange.js'
import {ApiError} from '../../src/lib/venue/sim/signing.js'
import {ReportQueue, type VenueReport} from '../../src/lib/venue/types.js'
import {repoRoot} from '../support/shared-data.js'

const SAMPLE = `${repoRoot}/recordings/ETHUSDC/2026-11-25`
const inst = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5', quoteAsset: 'USDC', marginAsset: 'USDC'})

interface Order {
  id: string
  side: 'BUY' | 'SELL'
  price: number
  qty: number
  tif: 'GTX' | 'GTC' | 'IOC'
  reduceOnly: boolean
}

describe('sim exchange vs paper venue on one recording', () => {
  it('same fills (price, qty, maker, fee), same -5022 refusals, same position', async () => {
    const events: MarketEvent[] = []
    for await (const ev of readTardis(SAMPLE)) events.push(ev)
    expect(events.length).toBeGreaterThan(4000)

    const clock = new VirtualClock(0)
    const queue = new ReportQueue()
    const paper = new PaperVenue({instrument: inst, clock, sink: queue})
    const sim = new SimExchange({instruments: [inst], clock, wall: clock, timers: manualTimers, wallDelay: (ms) => Math.max(0, ms - clock.now())})
    const simRejects: Array<[string, number]> = []
    const pending: Array<Promise<unknown>> = []

    const place = (o: Order) => {
      const intent: OrderIntent = {slot: 'x', side: o.side, price: o.price, qty: o.qty, tif: o.tif, reduceOnly: o.reduceOnly, layer: 'dynamic'}
      paper.submit({type: 'place', clientOrderId: o.id, order: intent})
      const p = new Map([['symbol', 'ETHUSDC'], ['side', o.side], ['type', 'LIMIT'], ['timeInForce', o.tif], ['price', inst.ticksToPrice(o.price)], ['quantity', inst.stepsToQty(o.qty)], ['newClientOrderId', o.id]])
      if (o.reduceOnly) p.set('reduceOnly', 'true')
      pending.push(sim.newOrder(p).catch((e: unknown) => {
        if (!(e instanceof ApiError)) throw e
        simRejects.push([o.id, e.code])
      }))
    }
    const cancel = (id: string) => {
      paper.submit({type: 'cancel', clientOrderId: id, slot: 'x', reason: 't'})
      pending.push(sim.cancelOrder(new Map([['symbol', 'ETHUSDC'], ['origClientOrderId', id]])).catch((e: unknown) => {
        if (!(e instanceof ApiError)) throw e
      }))
    }

    // a maker's sequence: post-only quotes at and inside the touch, a crossing post-only,
    // IOCs that open and reduce, cancels of older quotes
    let seq = 0
    const live: string[] = []
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]
      clock.set(ev.ts / 1000)
      if (i > 100 && i % 60 === 0) {
        const bid = paper.book.bestBid()
        const ask = paper.book.bestAsk()
        if (bid > 0 && ask > bid) {
          const k = (i / 60) % 4
          const id = (s: string) => `q${++seq}${s}`
          const b = id('b')
          const a = id('a')
          place({id: b, side: 'BUY', price: bid - (k % 2), qty: 10 + k, tif: 'GTX', reduceOnly: false})
          place({id: a, side: 'SELL', price: ask + (k % 3), qty: 10, tif: 'GTX', reduceOnly: false})
          live.push(b, a)
          if (k === 1) place({id: id('x'), side: 'BUY', price: ask, qty: 5, tif: 'GTX', reduceOnly: false})
          if (k === 2) place({id: id('i'), side: 'BUY', price: ask + 1, qty: 7, tif: 'IOC', reduceOnly: false})
          if (k === 3) place({id: id('r'), side: 'SELL', price: bid - 1, qty: 20, tif: 'IOC', reduceOnly: true})
          while (live.length > 6) cancel(live.shift() as string)
        }
      }
      paper.onMarket(ev)
      sim.onMarket(ev)
    }
    const end = clock.now() + 5000
    clock.set(end)
    paper.advanceTo(end)
    sim.advanceTo(end)
    await Promise.all(pending)

    const reports = queue.drain(Number.POSITIVE_INFINITY)
    const paperFills = reports.filter((r): r is Extract<VenueReport, {type: 'fill'}> => r.type === 'fill').map((r) => [r.clientOrderId, r.fill.side, inst.ticksToPrice(r.fill.price), inst.stepsToQty(r.fill.qty), r.fill.maker, r.fill.fee])
    const st = sim.state() as {orders: Array<{orderId: number; clientOrderId: string}>; trades: Array<{orderId: number; side: string; price: string; qty: string; maker: boolean; commission: string}>}
    const cidOf = new Map(st.orders.map((o) => [o.orderId, o.clientOrderId]))
    const simFills = st.trades.map((t) => [cidOf.get(t.orderId), t.side, t.price, t.qty, t.maker, t.commission])
    expect(paperFills.length).toBeGreaterThan(10)
    expect(paperFills.some((f) => f[4] === true)).toBe(true)
    expect(paperFills.some((f) => f[4] === false)).toBe(true)
    expect(simFills).toEqual(paperFills)

    const paperRejects = reports.filter((r): r is Extract<VenueReport, {type: 'reject'}> => r.type === 'reject' && r.request === 'place').map((r) => [r.clientOrderId, r.code])
    expect(paperRejects.some(([, c]) => c === -5022)).toBe(true)
    expect(simRejects.sort()).toEqual(paperRejects.sort())
    expect(sim.positionSteps('ETHUSDC')).toBe(paper.position)
    expect(sim.ledger.position('ETHUSDC').amt.toString()).toBe(inst.signedStepsToQty(paper.position).replace(/\.?0+$/, '') || '0')
  })
})
