/**
 * Every order the lifecycle reducer stores shares one hidden class (src/lib/orders/lifecycle.ts,
 * `edit` / `orderOf`). On Node 20 (V8 11.3) an object spread `{...o, status}` gave each copy
 * a map of its own once the spread's inline cache had seen a few: about 860 bytes and a
 * runtime map creation per copy, and every read of an order's fields megamorphic; a
 * calibrate job took about 95 ms of CPU instead of 66. The check runs in a child process
 * with `--allow-natives-syntax` (V8's %HaveSameMap), over 3000 orders taken through every
 * common transition: place, ack, fill, cancel sent, canceled / filled; and the user
 * stream's reports (venue/binance/user-events.ts), built the same way.
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {describe, expect, it} from 'vitest'

const LIFECYCLE = pathToFileURL(join(import.meta.dirname, '../../src/lib/orders/lifecycle.ts')).href
const USER_EVENTS = pathToFileURL(join(import.meta.dirname, '../../src/lib/venue/binance/user-events.ts')).href
const INSTRUMENT = pathToFileURL(join(import.meta.dirname, '../../src/lib/domain/instrument.ts')).href

/** run `body` (an ES module) in a child node with --allow-natives-syntax (TypeScript imports through tsx); its last stdout line, parsed */
function inChild(body: string): unknown {
  const dir = mkdtempSync(join(tmpdir(), 'mm-shape-'))
  const file = join(dir, 'shape.mjs')
  writeFileSync(file, `const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)')\n${body}`)
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', file], {encoding: 'utf8', timeout: 60_000})
  expect(r.status, r.stderr).toBe(0)
  return JSON.parse(r.stdout.trim().split('\n').pop() as string)
}

const script = `
const {initLifecycle, reduceLifecycle} = await import(${JSON.stringify(LIFECYCLE)})
const cfg = {ackTimeoutMs: 5000, recvWindowMs: 5000, cancelAttempts: 3}
let st = initLifecycle()
const seen = []
for (let i = 0; i < 3000; i++) {
  const id = 'mm-t-' + i
  const t = i * 10
  const step = (input) => { st = reduceLifecycle(st, input, cfg).state; const o = st.open.get(id) ?? st.closed.get(id); seen.push(o) }
  step({type: 'place_sent', t, clientOrderId: id, order: {slot: 'q:BUY:0', side: i % 2 ? 'BUY' : 'SELL', price: 1000 + i, qty: 10, tif: 'GTX', reduceOnly: false, layer: 'quote'}})
  step({type: 'report', t: t + 1, report: {type: 'ack', clientOrderId: id, venueOrderId: String(i), ts: t + 1}})
  if (i % 3 === 0) {
    step({type: 'report', t: t + 2, report: {type: 'fill', clientOrderId: id, ts: t + 2, filled: 10, leaves: 0, status: 'FILLED', fill: {clientOrderId: id, side: 'BUY', price: 1000 + i, qty: 10, maker: true, fee: '0.001', ts: t + 2, tradeId: 'tr' + i}}})
  } else {
    step({type: 'cancel_sent', t: t + 2, clientOrderId: id})
    step({type: 'report', t: t + 3, report: {type: 'canceled', clientOrderId: id, ts: t + 3, filled: 0}})
  }
}
const ref = seen[seen.length - 1]
let other = 0
for (const o of seen.slice(200)) if (!sameMap(o, ref)) other++
console.log(JSON.stringify({orders: seen.length, otherMaps: other}))
`

describe('hot objects keep one hidden class (Node 20 object spread)', () => {
  it('3000 orders through place, ack, fill / cancel: all on the same map once warm', () => {
    expect(inChild(script)).toEqual({orders: 11000, otherMaps: 0})
  })

  // the user stream's ORDER_TRADE_UPDATE → lifecycle reports (live): \`{...base, type}\` gave
  // each report a map of its own (the REST answers' reports in venue.ts were built the same way)
  it('the user stream\'s reports: one map per report type once warm', () => {
    const body = `
const {orderUpdateReports, parseUserEvent} = await import(${JSON.stringify(USER_EVENTS)})
const {Instrument} = await import(${JSON.stringify(INSTRUMENT)})
const inst = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})
const otu = (i, o) => ({e: 'ORDER_TRADE_UPDATE', E: 1700000000100 + i, T: 1700000000099 + i, o: {s: 'ETHUSDC', c: 'mm-r1-b0-' + i, S: 'BUY', o: 'LIMIT', f: 'GTX', q: '0.030', p: '3000.00', ap: '0', x: 'NEW', X: 'NEW', i: 77 + i, l: '0', z: '0', L: '0', T: 1700000000099 + i, t: 0, m: false, R: false, ps: 'BOTH', rp: '0', V: 'EXPIRE_MAKER', er: '0', ...o}})
const kinds = {NEW: {}, TRADE: {x: 'TRADE', X: 'PARTIALLY_FILLED', l: '0.010', z: '0.010', L: '3000.00', n: '0.0003', N: 'USDC', t: 901}, CANCELED: {x: 'CANCELED', X: 'CANCELED'}, EXPIRED: {x: 'EXPIRED', X: 'EXPIRED'}}
const out = {}
for (const [k, o] of Object.entries(kinds)) {
  const reps = []
  for (let i = 0; i < 2000; i++) reps.push(orderUpdateReports(parseUserEvent(otu(i, {...o, t: o.t === undefined ? 0 : o.t + i})), inst, i)[0])
  const ref = reps[reps.length - 1]
  out[k] = reps.slice(200).filter((r) => !sameMap(r, ref)).length
}
console.log(JSON.stringify(out))
`
    expect(inChild(body)).toEqual({NEW: 0, TRADE: 0, CANCELED: 0, EXPIRED: 0})
  })
})
