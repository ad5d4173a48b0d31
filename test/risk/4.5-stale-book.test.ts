import {describe, expect, it} from 'vitest'
import {decide, prepareCore} from '../../src/lib/core/decide.js'
import {bookProblem, evaluateRisk} from '../../src/lib/risk/machine.js'
import {initialRiskState} from '../../src/lib/risk/types.js'
import {asWorking, book, coreCfg, FakeBook, INST, intent, limitsFor, pos, running} from './support.js'

const L = limitsFor() // staleBookMs 5000
const flat = pos(0)

describe('4.5 stale book', () => {
  it('stale exactly staleBookMs after the last update, not one ms before', () => {
    const b = book(299995, 300005, {tsMs: 1000})
    expect(bookProblem(b, 5999, 1000, 5000)).toBeNull()
    expect(bookProblem(b, 6000, 1000, 5000)).toBe('stale_book')
    expect(evaluateRisk(running(), {nowMs: 5999, book: b, position: flat}, L).mode).toBe('normal')
    const r = evaluateRisk(running(), {nowMs: 6000, book: b, position: flat}, L)
    expect(r.mode).toBe('paused')
    expect(r.events).toEqual([{type: 'risk_event', ts: 6000, kind: 'pause', from: 'normal', to: 'paused', reason: 'stale_book', values: {lastUpdateMs: 1000, ageMs: 5000, bestBid: 299995, bestAsk: 300005, ready: 1}, thresholds: {staleBookMs: 5000}}])
    expect(r.state.counters.stale).toBe(1)
  })

  it('the local arrival time, when given, wins over the venue timestamp', () => {
    const b = book(299995, 300005, {tsMs: 1000})
    expect(evaluateRisk(running(), {nowMs: 6000, book: b, bookUpdatedMs: 2000, position: flat}, L).mode).toBe('normal')
  })

  it.each([
    ['not ready (resync)', new FakeBook({bids: [[299995, 1]], asks: [[300005, 1]], ready: false, ts: 1e6}), 'book_not_ready'],
    ['crossed', new FakeBook({bids: [[300005, 1]], asks: [[300005, 1]], ts: 1e6}), 'crossed_book'],
    ['bid above ask', new FakeBook({bids: [[300006, 1]], asks: [[300005, 1]], ts: 1e6}), 'crossed_book'],
    ['empty ask side', new FakeBook({bids: [[299995, 1]], ts: 1e6}), 'one_sided_book'],
    ['empty book', new FakeBook({ts: 1e6}), 'one_sided_book'],
  ])('%s → paused', (_name, b, why) => {
    const r = evaluateRisk(running(), {nowMs: 1000, book: b, position: flat}, L)
    expect(r.mode).toBe('paused')
    expect(r.state.pause).toBe(why)
    expect(r.mid2).toBeNull()
  })

  it('the core starts paused until it has seen a whole book', () => {
    expect(initialRiskState().mode).toBe('paused')
    const r = evaluateRisk(initialRiskState(), {nowMs: 1000, book: book(299995, 300005, {tsMs: 1000}), position: flat}, L)
    expect(r.mode).toBe('normal')
    expect(r.events.map((e) => [e.kind, e.reason])).toEqual([['pause_end', 'book_not_ready']])
  })

  it('decide: cancels everything while paused, quotes again once the book is whole', () => {
    const {ctx, state} = prepareCore(coreCfg(), INST, 'z')
    const w = [asWorking(intent({slot: 'dyn:BUY:0', side: 'BUY', price: 299990, qty: 10}), 'b'), asWorking(intent({slot: 'dyn:SELL:0', side: 'SELL', price: 300010, qty: 10}), 'a', {status: 'PENDING_CANCEL'})]
    const d = decide({...state, risk: running()}, {nowMs: 7000, book: book(299995, 300005, {tsMs: 1000}), position: pos(10), working: w}, ctx)
    expect(d.mode).toBe('paused')
    expect(d.actions).toEqual([{type: 'cancel', clientOrderId: 'b', slot: 'dyn:BUY:0', reason: 'stray'}])
    const d2 = decide(d.state, {nowMs: 7100, book: book(299995, 300005, {tsMs: 7050}), position: pos(10), working: []}, ctx)
    expect(d2.mode).toBe('normal')
    expect(d2.events.find((e) => e.type === 'risk_event')).toMatchObject({kind: 'pause_end', reason: 'stale_book', from: 'paused', to: 'normal'})
    expect(d2.actions.filter((a) => a.type === 'place')).toHaveLength(2)
    // wake up at the stale deadline at the latest
    expect(d2.nextWakeMs).toBeLessThanOrEqual(7050 + 5000)
  })

  it('the naive baseline ignores staleness but still pauses on a book it cannot price', () => {
    const naive = limitsFor({strategy: {kind: 'naive'}})
    expect(evaluateRisk(running(), {nowMs: 60_000, book: book(299995, 300005, {tsMs: 1000}), position: flat}, naive).mode).toBe('normal')
    expect(evaluateRisk(running(), {nowMs: 1000, book: new FakeBook({ready: false}), position: flat}, naive).mode).toBe('paused')
  })
})
