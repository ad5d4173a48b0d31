/**
 * kill-fills.ts: the fills a killed run never recorded, read back from userTrades at the
 * restart and folded into its carried ledger exactly once (issue 10). A fake gateway: the
 * requests it gets (fromId / startTime, pages, lookups by order id) and what comes back.
 */
import {describe, expect, it} from 'vitest'
import {Instrument} from '../../src/lib/domain/instrument.js'
import {applyFill, emptyPosition, type Position} from '../../src/lib/orders/position.js'
import {BinanceApiError} from '../../src/lib/venue/binance/errors.js'
import {type KillFillsOptions, recoverKillFills} from '../../src/lib/venue/binance/kill-fills.js'
import {RateGovernor} from '../../src/lib/venue/binance/rate-governor.js'
import type {BinanceOrder, BinanceTrade} from '../../src/lib/venue/binance/rest-types.js'

const INST = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})
const RUN = 'e2e0a1b'

const trade = (id: number, orderId: number, side: 'BUY' | 'SELL', price: string, qty: string, commission: string, realizedPnl: string, time = 1000 + id): BinanceTrade => ({
  id, orderId, symbol: 'ETHUSDC', side, price, qty, commission, commissionAsset: 'USDC', realizedPnl, maker: true, time,
})

/** the venue: trades (ascending ids), orders by id → client id; records every request */
function fakeVenue(trades: BinanceTrade[], owners: Record<number, string>) {
  const calls: string[] = []
  const gateway: KillFillsOptions['gateway'] = {
    async userTrades(q) {
      calls.push(`userTrades ${q.fromId === undefined ? `startTime=${q.startTime}` : `fromId=${q.fromId}`} limit=${q.limit}`)
      const out = trades.filter((t) => (q.fromId === undefined || t.id >= q.fromId) && (q.startTime === undefined || t.time >= q.startTime))
      return out.slice(0, q.limit ?? 500)
    },
    async queryOrderById(_symbol, orderId) {
      calls.push(`order ${orderId}`)
      const cid = owners[orderId]
      if (cid === undefined) throw new BinanceApiError({outcome: 'rejected', kind: 'venue', endpoint: 'GET /fapi/v1/order', message: 'HTTP 400 (code -2013)', venueCode: -2013, httpStatus: 400})
      return {orderId, clientOrderId: cid} as BinanceOrder
    },
  }
  return {gateway, calls}
}

/** the earlier run's ledger as state.json carried it: one fill counted, trade 10 (a BUY 0.010 @ 3000.00) */
function carried(): Position {
  return applyFill(emptyPosition(), {clientOrderId: `mm-${RUN}-b-1`, side: 'BUY', price: 300_000, qty: 10, maker: true, fee: '0.006', ts: 1010, tradeId: '10', realised: '0'})
}

const base = (gateway: KillFillsOptions['gateway'], ledger: Position, extra: Partial<KillFillsOptions> = {}): KillFillsOptions => ({
  gateway, symbol: 'ETHUSDC', inst: INST, runId: RUN, ledger, runStartedMs: 500, now: () => 0, wait: async () => undefined, ...extra,
})

describe('kill-fills: a killed run’s unrecorded fills, read back once', () => {
  const trades = [
    trade(10, 1, 'BUY', '3000.00', '0.010', '0.006', '0'), // counted already
    trade(11, 2, 'SELL', '3001.00', '0.004', '0.0024012', '0.004'), // ours, not counted
    trade(12, 3, 'BUY', '2999.00', '0.002', '0.0011996', '0'), // a human's order
    trade(13, 2, 'SELL', '3001.50', '0.006', '0.0036018', '0.009'), // ours (same order: one lookup)
    trade(14, 4, 'BUY', '2998.00', '0.001', '0.0005996', '0'), // an older run of this instance
    trade(15, 5, 'SELL', '3002.00', '0.001', '0.0006004', '0'), // an order the venue no longer knows
  ]
  const owners = {1: `mm-${RUN}-b-1`, 2: `mm-${RUN}-a-2`, 3: 'web_8hG2kq', 4: 'mm-e2e0zzz-b-9'}

  it('reads from the last counted trade id, page by page, looks each order up once, and folds only the earlier run’s trades', async () => {
    const {gateway, calls} = fakeVenue(trades, owners)
    const r = await recoverKillFills(base(gateway, carried(), {pageSize: 2}))
    // …then below trade 10 the trades its list of counted ids does not hold, from its run's start − 60 s (none: 10 is listed)
    expect(calls).toEqual(['userTrades fromId=11 limit=2', 'order 2', 'order 3', 'userTrades fromId=13 limit=2', 'order 4', 'userTrades fromId=15 limit=2', 'order 5', 'userTrades startTime=0 limit=2'])
    expect(r).toMatchObject({recovered: 2, below: 0, read: 5, others: 3, lookups: 4, from: {fromId: 11}, fees: '0.006003', realised: '0.013'})
    expect(r.incomplete).toBeUndefined()
    // the ledger: fees and the venue's realised profit summed exactly, two more fills, the cursor at 13
    expect(r.ledger.fees).toBe('0.012003')
    expect(r.ledger.venueRealised).toBe('0.013')
    expect(r.ledger.fills).toBe(3)
    expect(r.ledger.lastTradeId).toBe('13')
    expect(r.ledger.lastFillTs).toBe(1013)
    expect(r.ledger.net).toBe(0)
  })

  it('a second restart from that ledger counts nothing again', async () => {
    const {gateway} = fakeVenue(trades, owners)
    const first = await recoverKillFills(base(gateway, carried()))
    const again = fakeVenue(trades, owners)
    const r = await recoverKillFills(base(again.gateway, first.ledger))
    expect(again.calls[0]).toBe('userTrades fromId=14 limit=1000')
    // below 13: 10, 11 and 13 listed as counted, the human's 12 looked up (not ours)
    expect(again.calls.slice(3)).toEqual(['userTrades startTime=0 limit=1000', 'order 3'])
    expect(r).toMatchObject({recovered: 0, below: 0, others: 3, fees: '0', realised: '0'})
    expect(r.ledger).toEqual(first.ledger)
  })

  it('a trade of the run below its last counted id that it never counted (counted out of id order) is read back, once; from the list\'s floor when it was capped (stop-readback)', async () => {
    // the run counted 10 and then 13 (the stream told 13 first); its 11 (order 2, 0.004 SELL) never: the state says lastTradeId 13
    const c = applyFill(carried(), {clientOrderId: `mm-${RUN}-a-2`, side: 'SELL', price: 300_150, qty: 6, maker: true, fee: '0.0036018', ts: 1013, tradeId: '13', realised: '0.009'})
    expect([c.lastTradeId, c.tradeIds]).toEqual(['13', ['10', '13']])
    const v = fakeVenue(trades, owners)
    const r = await recoverKillFills(base(v.gateway, c))
    expect(v.calls).toEqual(['userTrades fromId=14 limit=1000', 'order 4', 'order 5', 'userTrades startTime=0 limit=1000', 'order 2', 'order 3'])
    expect(r).toMatchObject({recovered: 1, below: 1, others: 3, lookups: 4, fees: '0.0024012', realised: '0.004'})
    expect(r.ledger.fills).toBe(3)
    expect(r.ledger.fees).toBe('0.012003')
    expect(r.ledger.tradeIds).toEqual(['10', '11', '13'])
    // a restart from that ledger counts it no more
    const again = fakeVenue(trades, owners)
    const r2 = await recoverKillFills(base(again.gateway, r.ledger))
    expect(r2).toMatchObject({recovered: 0, below: 0})
    expect(r2.ledger).toEqual(r.ledger)
    // a capped list: below the floor is taken as counted, the read starts above it
    const capped: Position = {...c, tradeIds: ['13'], tradeIdsFloor: '10'}
    const f = fakeVenue(trades, owners)
    const r3 = await recoverKillFills(base(f.gateway, capped))
    expect(f.calls.slice(3, 4)).toEqual(['userTrades fromId=11 limit=1000'])
    expect(r3).toMatchObject({recovered: 1, below: 1})
  })

  it('below the last counted id, trades from before the run started (the margin: the run before\'s last fills) are not looked up, so the run\'s own missed trade is reached (review4)', async () => {
    // 60 trades of 60 orders of an earlier run between t = 50 s and 56 s; this run started at t = 100 s;
    // its trade 101 was never counted, 102 was (lastTradeId 102, list ['102'])
    const old = Array.from({length: 60}, (_, i) => trade(i + 1, 1000 + i, 'BUY', '3000.00', '0.001', '0.0006', '0', 50_000 + i * 100))
    const mine = [trade(101, 7, 'SELL', '3001.00', '0.004', '0.0024012', '0.004', 101_000), trade(102, 8, 'BUY', '3000.00', '0.010', '0.006', '0', 102_000)]
    const owners: Record<number, string> = {7: `mm-${RUN}-a-2`, 8: `mm-${RUN}-b-1`}
    for (let i = 0; i < 60; i++) owners[1000 + i] = `mm-aaaaaaa-b-${i}`
    const led = applyFill(emptyPosition(), {clientOrderId: `mm-${RUN}-b-1`, side: 'BUY', price: 300_000, qty: 10, maker: true, fee: '0.006', ts: 102_000, tradeId: '102', realised: '0'})
    const v = fakeVenue([...old, ...mine], owners)
    const r = await recoverKillFills(base(v.gateway, led, {runStartedMs: 100_000}))
    expect(v.calls).toEqual(['userTrades fromId=103 limit=1000', 'userTrades startTime=40000 limit=1000', 'order 7'])
    expect(r).toMatchObject({recovered: 1, below: 1, others: 60, lookups: 1, realised: '0.004'})
    expect(r.incomplete).toBeUndefined()
  })

  it('…and with our clock 30 s ahead of the venue\'s, the run\'s start is taken on the venue\'s clock: its own missed trade is still looked up and counted (review5)', async () => {
    // the run started at venue time 100 s; state.json says 130 s (our clock); its trade 101 (105 s) was missed, 102 (106 s) counted
    const mine = [trade(101, 7, 'SELL', '3001.00', '0.004', '0.0024012', '0.004', 105_000), trade(102, 8, 'BUY', '3000.00', '0.010', '0.006', '0', 106_000)]
    const owners: Record<number, string> = {7: `mm-${RUN}-a-2`, 8: `mm-${RUN}-b-1`}
    const led = applyFill(emptyPosition(), {clientOrderId: `mm-${RUN}-b-1`, side: 'BUY', price: 300_000, qty: 10, maker: true, fee: '0.006', ts: 106_000, tradeId: '102', realised: '0'})
    const v = fakeVenue(mine, owners)
    const r = await recoverKillFills(base(v.gateway, led, {runStartedMs: 130_000, venueClockOffsetMs: -30_000}))
    expect(v.calls).toEqual(['userTrades fromId=103 limit=1000', 'userTrades startTime=40000 limit=1000', 'order 7'])
    expect(r).toMatchObject({recovered: 1, below: 1, realised: '0.004'})
  })

  it('a ledger with no trade id yet reads by time: after its last fill, or from its run’s start − 60 s', async () => {
    const noId = {...carried()}
    delete noId.lastTradeId
    const a = fakeVenue(trades, owners)
    const r = await recoverKillFills(base(a.gateway, noId))
    expect(r.from).toEqual({startTime: 1011})
    expect(a.calls[0]).toBe('userTrades startTime=1011 limit=1000')
    expect(r.recovered).toBe(2)
    const b = fakeVenue(trades, owners)
    const fresh = await recoverKillFills(base(b.gateway, emptyPosition(), {runStartedMs: 100_000}))
    expect(fresh.from).toEqual({startTime: 40_000})
    expect(fresh.recovered).toBe(0)
    const c = fakeVenue(trades, owners)
    const all = await recoverKillFills(base(c.gateway, emptyPosition(), {runStartedMs: 1000}))
    // trade 10 too: a ledger that never counted a fill counts every trade of its run
    expect(all).toMatchObject({recovered: 3, fees: '0.012003'})
    expect(all.ledger.lastTradeId).toBe('13')
  })

  it('stops at the lookup bound and says what was left out; counts nothing it could not check', async () => {
    const {gateway} = fakeVenue(trades, owners)
    const r = await recoverKillFills(base(gateway, carried(), {maxLookups: 1}))
    expect(r).toMatchObject({recovered: 1, read: 1, lookups: 1})
    expect(r.incomplete).toBe('more than 1 orders to look up; trades from id 12 on were not checked')
    expect(r.ledger.lastTradeId).toBe('11')
  })

  it('stops at the page bound', async () => {
    const {gateway, calls} = fakeVenue(trades, owners)
    const r = await recoverKillFills(base(gateway, carried(), {pageSize: 1, maxPages: 2}))
    expect(calls.filter((c) => c.startsWith('userTrades'))).toEqual(['userTrades fromId=11 limit=1', 'userTrades fromId=12 limit=1'])
    expect(r.incomplete).toBe('more than 2 trades since the last counted one; the rest were not read')
    expect(r.recovered).toBe(1)
  })

  it('waits while the rate governor pauses requests (weight near the limit), then reads', async () => {
    let now = 30_000
    const g = new RateGovernor({weight1m: 100})
    g.observe({endpoint: 'GET /fapi/v1/userTrades', status: 200, usedWeight1m: 95, at: now, latencyMs: 1})
    expect(g.verdict(now).mode).toBe('paused')
    const waits: number[] = []
    const {gateway, calls} = fakeVenue(trades, owners)
    const r = await recoverKillFills(base(gateway, carried(), {governor: g, now: () => now, wait: async (ms) => {
      waits.push(ms)
      now += ms
    }}))
    // paused until the minute's window ends (60 000), then every request goes
    expect(waits).toEqual([30_000])
    expect(calls[0]).toBe('userTrades fromId=11 limit=1000')
    expect(r.recovered).toBe(2)
  })

  it('a venue error other than “no such order” fails the read (the caller refuses to start)', async () => {
    const gateway: KillFillsOptions['gateway'] = {
      userTrades: async () => {
        throw new BinanceApiError({outcome: 'rejected', kind: 'venue', endpoint: 'GET /fapi/v1/userTrades', message: 'HTTP 400 (code -1100)', venueCode: -1100, httpStatus: 400})
      },
      queryOrderById: async () => ({}) as BinanceOrder,
    }
    await expect(recoverKillFills(base(gateway, carried()))).rejects.toThrow('code -1100')
  })
})
