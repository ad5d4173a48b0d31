import {describe, expect, it} from 'vitest'
import {renderHtml} from '../../src/lib/report/html.js'
import {RunSummarizer, summarise} from '../../src/lib/report/summary.js'
import {renderSummaryTable} from '../../src/lib/report/table.js'
import type {RunEvent} from '../../src/lib/telemetry/run-events.js'

export const SAMPLE_RUN: RunEvent[] = [
  {type: 'run_start', t: 1000, symbol: 'ETHUSDC', mode: 'replay', strategy: 'v2', instrument: {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}},
  {type: 'order', t: 1000, action: 'place', clientOrderId: 'mm-a', side: 'BUY', price: '3000.00', qty: '0.010', tif: 'GTX', reduceOnly: false, layer: 'dynamic'},
  {type: 'order', t: 1000, action: 'place', clientOrderId: 'mm-b', side: 'SELL', price: '3000.10', qty: '0.010', tif: 'GTX', reduceOnly: false, layer: 'dynamic'},
  {type: 'reject', t: 1010, clientOrderId: 'mm-b', code: -5022, msg: 'post only'},
  {type: 'fill', t: 1500, clientOrderId: 'mm-a', side: 'BUY', price: '3000.00', qty: '0.010', maker: true, fee: '-0.0006', position: '0.010', realised: '0'},
  {type: 'sample', t: 2000, mid: '3000.05', bid: '3000.00', ask: '3000.10', ownBid: null, ownAsk: '3000.10', position: '0.010', realised: '0', unrealised: '0.0005', fees: '-0.0006', risk: 'normal'},
  {type: 'markout', t: 2500, clientOrderId: 'mm-a', horizonMs: 1000, side: 'BUY', fillPrice: '3000.00', mid: '2999.90', adverse: '0.10'},
  {type: 'risk_event', t: 2600, kind: 'reduce_only_enter', to: 'reduce_only'},
  {type: 'order', t: 2600, action: 'cancel', clientOrderId: 'mm-b', reason: 'reduce_only'},
  {type: 'fill', t: 3000, clientOrderId: 'mm-c', side: 'SELL', price: '3000.20', qty: '0.010', maker: false, fee: '0.012004', position: '0.000', realised: '0.002'},
  {type: 'sample', t: 4000, mid: '3000.25', bid: '3000.20', ask: '3000.30', ownBid: null, ownAsk: null, position: '0.000', realised: '0.002', unrealised: '0', fees: '0.011404', risk: 'normal'},
  {type: 'run_end', t: 4000, reason: 'end of data', marketEvents: 1234, resyncs: 0},
]

describe('run summary', () => {
  it('adds up a run exactly', () => {
    const s = summarise(SAMPLE_RUN)
    expect(s).toEqual({
      symbol: 'ETHUSDC',
      mode: 'replay',
      strategy: 'v2',
      durationMs: 3000,
      marketEvents: 1234,
      resyncs: 0,
      quotesPlaced: 2,
      quotesCancelled: 1,
      fills: 2,
      makerFills: 1,
      makerShare: '0.5',
      volumeBase: '0.02',
      volumeQuote: '60.002',
      fees: '0.011404',
      realisedPnl: '0.002',
      unrealisedPnl: '0',
      netPnl: '-0.009404',
      maxAbsPosition: '0.01',
      finalPosition: '0',
      timeInRiskMs: {normal: 1600, reduce_only: 1400, halted: 0, paused: 0},
      postOnlyRejects: 1,
      rejects: 1,
      riskEvents: {reduce_only_enter: 1},
      adverse1s: '0.1',
      adverse10s: null,
      instantRetries: {orders: 0, fills: 0, takerFills: 0, fees: '0', takerFees: '0', adverse1s: null, adverse10s: null},
      endReason: 'end of data',
    })
  })

  it('the instant retries: the GTC placed at the -5022 of a GTX of the same side and price, its fills, fees and markouts', () => {
    const ev: RunEvent[] = [
      SAMPLE_RUN[0],
      {type: 'order', t: 1000, action: 'place', clientOrderId: 'g1', side: 'SELL', price: '3000.10', qty: '0.010', tif: 'GTX', reduceOnly: false, layer: 'dynamic'},
      {type: 'reject', t: 1050, clientOrderId: 'g1', code: -5022, msg: 'post only'},
      {type: 'order', t: 1050, action: 'place', clientOrderId: 'r1', side: 'SELL', price: '3000.10', qty: '0.010', tif: 'GTC', reduceOnly: false, layer: 'dynamic'},
      // a degraded GTC later at another time is not a retry
      {type: 'order', t: 1200, action: 'place', clientOrderId: 'd1', side: 'SELL', price: '3000.10', qty: '0.010', tif: 'GTC', reduceOnly: false, layer: 'dynamic'},
      {type: 'fill', t: 1075, clientOrderId: 'r1', side: 'SELL', price: '3000.10', qty: '0.010', maker: false, fee: '0.0150005', position: '-0.010', realised: '0'},
      {type: 'fill', t: 1300, clientOrderId: 'd1', side: 'SELL', price: '3000.10', qty: '0.010', maker: true, fee: '0.006', position: '-0.020', realised: '0'},
      {type: 'markout', t: 2075, clientOrderId: 'r1', horizonMs: 1000, side: 'SELL', fillPrice: '3000.10', mid: '3000.30', adverse: '0.2'},
      {type: 'markout', t: 2300, clientOrderId: 'd1', horizonMs: 1000, side: 'SELL', fillPrice: '3000.10', mid: '3000.10', adverse: '0'},
      {type: 'run_end', t: 3000, reason: 'end of data', marketEvents: 10, resyncs: 0},
    ]
    const s = summarise(ev)
    expect(s.instantRetries).toEqual({orders: 1, fills: 1, takerFills: 1, fees: '0.0150005', takerFees: '0.0150005', adverse1s: '0.2', adverse10s: null})
    expect(s.adverse1s).toBe('0.1')
    expect(renderSummaryTable(s)).toMatch(/instant retries: orders \/ fills \(taker\) *│ 1 \/ 1 \(1\)/)
  })
  it('holds only the orders still in flight for the instant-retry count: acknowledged, cancelled, expired, settled or -5022 orders are let go; another reject keeps its order (it may answer a cancel)', () => {
    const s = new RunSummarizer()
    const held = () => (s as unknown as {placedOrders: Map<string, unknown>}).placedOrders.size
    s.add(SAMPLE_RUN[0])
    const place = (id: string, t: number): RunEvent => ({type: 'order', t, action: 'place', clientOrderId: id, side: 'SELL', price: '3000.10', qty: '0.010', tif: 'GTX', reduceOnly: false, layer: 'dynamic'})
    for (let i = 0; i < 1000; i++) {
      s.add(place(`a${i}`, 1000 + i))
      s.add({type: 'ack', t: 1000 + i, clientOrderId: `a${i}`})
    }
    expect(held()).toBe(0)
    for (const id of ['c', 'e', 's', 'r', 'x']) s.add(place(id, 3000))
    expect(held()).toBe(5)
    s.add({type: 'canceled', t: 3001, clientOrderId: 'c'})
    s.add({type: 'expired', t: 3001, clientOrderId: 'e'})
    s.add({type: 'order_lifecycle', t: 3001, kind: 'settled', clientOrderId: 's'})
    s.add({type: 'reject', t: 3001, clientOrderId: 'r', code: -5022, msg: 'post only'})
    s.add({type: 'reject', t: 3001, clientOrderId: 'x', code: -2011, msg: 'unknown order'})
    expect(held()).toBe(1)
    // the -5022 after a cancel's reject still counts its retry
    s.add({type: 'reject', t: 3002, clientOrderId: 'x', code: -5022, msg: 'post only'})
    s.add({type: 'order', t: 3002, action: 'place', clientOrderId: 'rx', side: 'SELL', price: '3000.10', qty: '0.010', tif: 'GTC', reduceOnly: false, layer: 'dynamic'})
    s.add({type: 'run_end', t: 4000, reason: 'end of data', marketEvents: 1, resyncs: 0})
    expect([held(), s.result().instantRetries.orders]).toEqual([1, 1])
  })

  it('renders a table and a self-contained page', () => {
    const s = summarise(SAMPLE_RUN)
    const table = renderSummaryTable(s)
    expect(table).toContain('net PnL')
    expect(table).toContain('-0.009404')
    const html = renderHtml(SAMPLE_RUN, s, 'test run')
    expect(html.startsWith('<!doctype html>')).toBe(true)
    expect(html).not.toMatch(/https?:\/\//)
    expect(html).not.toContain('<script')
    expect((html.match(/<svg /g) ?? []).length).toBe(3)
  })
})

describe('money in the summary is plain decimal text', () => {
  it('never exponent notation, however small or large', () => {
    const s = summarise([
      SAMPLE_RUN[0],
      {type: 'fill', t: 1500, clientOrderId: 'mm-a', side: 'BUY', price: '0.0000001', qty: '100000000000', maker: true, fee: '0.00000001', position: '100000000000', realised: '0'},
    ])
    expect(s.fees).toBe('0.00000001')
    expect(s.volumeBase).toBe('100000000000')
    expect(s.volumeQuote).toBe('10000')
    expect(s.netPnl).toBe('-0.00000001')
  })
})
