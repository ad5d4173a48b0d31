/**
 * Every order the lifecycle reducer stores shares one hidden class (src/lib/orders/lifecycle.ts,
 * `edit` / `orderOf`). On Node 20 (V8 11.3) an object spread `{...o, status}` gave each copy
 * a map of its own once the spread's inline cache had seen a few: about 860 bytes and a
 * runtime map creation per copy, and every read of an order's fields megamorphic; a
 * calibrate job took about 95 ms of CPU instead of 66. The check runs in a child process
 * with `--allow-natives-syntax` (V8's %HaveSameMap), over 3000 orders taken through every
 * common transition: place, ack, fill, cancel sent, canceled / filled.
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {describe, expect, it} from 'vitest'

const LIFECYCLE = pathToFileURL(join(import.meta.dirname, '../../src/lib/orders/lifecycle.ts')).href

const script = `
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)')
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

describe('order lifecycle: one hidden class for every stored order', () => {
  it('3000 orders through place, ack, fill / cancel: all on the same map once warm', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-lc-shape-'))
    const file = join(dir, 'shape.mjs')
    writeFileSync(file, script)
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', file], {encoding: 'utf8', timeout: 60_000})
    expect(r.status, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout.trim().split('\n').pop() as string)).toEqual({orders: 11000, otherMaps: 0})
  })
})
