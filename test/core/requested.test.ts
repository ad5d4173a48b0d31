/**
 * Issue 7 §2: every order goes through decide. The instant post-only retry is asked for by
 * the strategy handler and decided by the core (`decideRequested`) under the same risk
 * and netMax guards as any other order; client ids are minted in one place; the naive
 * baseline is plain.
 */
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {decide, decideRequested, prepareCore} from '../../src/lib/core/decide.js'
import type {OrderIntent} from '../../src/lib/domain/orders.js'
import {onPostOnlyReject} from '../../src/lib/strategy/index.js'
import {initialStrategyState} from '../../src/lib/strategy/types.js'
import {asWorking, book, coreCfg, INST, pos, running} from '../risk/support.js'

const B = book(299995, 300005, {tsMs: 1000})
const rejected: OrderIntent = {slot: 'dyn:BUY:0', side: 'BUY', price: 299994, qty: 10, tif: 'GTX', reduceOnly: false, layer: 'dynamic'}

/** A -5022 on the BUY, the handler's retry request, then the core's decision on it. */
function afterReject(net: number, opts: {kind?: 'v2' | 'naive'; reduceOnlyAt?: number; working?: ReturnType<typeof asWorking>[]; control?: Array<{kind: 'halt'}>; unbooked?: {BUY: number; SELL: number}} = {}) {
  // reduce-only only at netMax, so the netMax guard is what is tested
  const cfg = coreCfg({strategy: {kind: opts.kind ?? 'v2'}, risk: {reduceOnlyThreshold: opts.reduceOnlyAt ?? 10}})
  const {ctx, state} = prepareCore(cfg, INST, 'c')
  const h = onPostOnlyReject(initialStrategyState(), rejected, 1000, cfg)
  const d = decideRequested({...state, risk: running()}, {nowMs: 1000, book: B, position: pos(net), working: opts.working ?? [], control: opts.control, unbooked: opts.unbooked}, h.intents, ctx)
  return {h, d}
}

describe('the instant retry is decided by the core', () => {
  it('a -5022 then decide: the GTC retry at the same price, with a client id from the one allocator', () => {
    const {h, d} = afterReject(0)
    expect(h.intents).toEqual([{...rejected, tif: 'GTC'}])
    expect(d.actions).toEqual([{type: 'place', clientOrderId: 'mm-c-dyn:BUY:0-0', order: {...rejected, tif: 'GTC'}}])
    expect(d.state.ids.seq).toEqual({'dyn:BUY:0': 1})
  })

  const table: Array<[string, number, Parameters<typeof afterReject>[1], Array<[string, number]>]> = [
    // name, net, options, places [side, qty]
    ['within netMax: placed', 80, {}, [['BUY', 10]]],
    ['it would breach netMax (95 + 10 > 100): cut to what fits', 95, {}, [['BUY', 5]]],
    ['fills the venue showed and not booked yet count (80 + 15 unbooked + 10 > 100): cut to what fits', 80, {unbooked: {BUY: 15, SELL: 0}}, [['BUY', 5]]],
    ['netMax reached (100): refused', 100, {}, []],
    ['working orders count against netMax: 85 + 10 working + 10 > 100: cut', 85, {working: [asWorking({...rejected, slot: 'static:BUY:0', layer: 'static'}, 'w1')]}, [['BUY', 5]]],
    ['halted: refused', 0, {control: [{kind: 'halt'}]}, []],
  ]
  it.each(table)('%s', (_n, net, opts, places) => {
    const {d} = afterReject(net, opts)
    expect(d.actions.map((a) => a.type === 'place' && [a.order.side, a.order.qty])).toEqual(places)
  })

  it('a cut retry is counted and reported like any netMax cut', () => {
    const {d} = afterReject(95)
    expect(d.state.risk.counters.netMaxCuts).toBe(1)
    expect(d.events.map((e) => e.type === 'risk_event' && [e.kind, e.side])).toEqual([['net_max', 'BUY']])
  })

  it('reduce-only: a retry that would add to the position is dropped', () => {
    const {h, d} = afterReject(30, {reduceOnlyAt: 3})
    expect(h.intents.length).toBe(1)
    expect(d.mode).toBe('reduce_only')
    expect(d.actions).toEqual([])
  })

  it('an order that was being cancelled is not retried', () => {
    const cfg = coreCfg()
    expect(onPostOnlyReject(initialStrategyState(), {...rejected, cancelling: true}, 1000, cfg).intents).toEqual([])
  })

  it('other slots are left alone: only the requested slot is reconciled', () => {
    const other = asWorking({...rejected, slot: 'dyn:SELL:0', side: 'SELL', price: 300010}, 's1')
    const {d} = afterReject(0, {working: [other]})
    expect(d.actions.map((a) => a.type)).toEqual(['place'])
  })
})

describe('client ids are minted in one place', () => {
  it('only the core calls the client-id allocator', () => {
    const root = join(import.meta.dirname, '../../src/lib')
    const users: string[] = []
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, {withFileTypes: true})) {
        const p = join(dir, e.name)
        if (e.isDirectory()) walk(p)
        else if (e.name.endsWith('.ts') && /\b(clientIdAllocator|nextClientId)\(/.test(readFileSync(p, 'utf8'))) users.push(p.slice(root.length + 1))
      }
    }
    walk(root)
    expect(users.sort()).toEqual(['core/decide.ts', 'orders/client-id.ts'])
  })
})

describe('the naive baseline is plain', () => {
  it('a -5022: no retry, no back-off, no degrade', () => {
    const cfg = coreCfg({strategy: {kind: 'naive'}})
    const h = onPostOnlyReject(initialStrategyState(), rejected, 1000, cfg)
    expect(h.intents).toEqual([])
    expect(h.state.buy).toEqual(initialStrategyState().buy)
  })

  it('never sends GTC or IOC in normal quoting, however often it was rejected', () => {
    const cfg = coreCfg({strategy: {kind: 'naive'}})
    const {ctx, state} = prepareCore(cfg, INST, 'c')
    let st = {...state, risk: running()}
    for (let i = 0; i < 5; i++) st = {...st, strategy: onPostOnlyReject(st.strategy, rejected, 1000 + i, cfg).state}
    for (const [bid, ask] of [[299995, 300005], [299999, 300000], [299000, 301000]]) {
      const d = decide(st, {nowMs: 1010, book: book(bid, ask, {tsMs: 1010}), position: pos(0), working: []}, ctx)
      expect(d.mode).toBe('normal')
      expect(d.actions.filter((a) => a.type === 'place').map((a) => a.type === 'place' && a.order.tif)).toEqual(['GTX', 'GTX'])
    }
  })
})
