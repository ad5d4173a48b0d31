/**
 * The cost of one decision on a real book: `decide` (risk → strategy → netMax → reconcile)
 * after every depth message of the real ETHUSDT July stream, with the previous decision's
 * orders working (placed orders acked at once, cancels taking effect at once), so the
 * reconciler has real work. Latency per call in µs (p50/p99/max via hdr-histogram), next
 * to the mean cost of JSON.parse of one depth message measured in the same run.
 */
import {readFileSync} from 'node:fs'
import {gunzipSync} from 'node:zlib'
import * as hdr from 'hdr-histogram-js'
import {DepthSync} from '../src/lib/book/sync.js'
import {defaultConfig, resolveConfig} from '../src/lib/config/index.js'
import {decide, prepareCore} from '../src/lib/core/decide.js'
import {Instrument} from '../src/lib/domain/instrument.js'
import type {WorkingOrder} from '../src/lib/domain/orders.js'
import {emptyPosition} from '../src/lib/orders/position.js'
import {readRawAll} from '../src/lib/record/raw-reader.js'
import {round, sharedData} from './lib.js'

export const name = 'decide'

const FILES = ['hftbacktest/examples/usdm/ethusdt_20240718.gz', 'hftbacktest/examples/usdm/ethusdt_20240719.gz']
const inst = new Instrument({symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})

export async function run(): Promise<Record<string, number | string>> {
  const paths = FILES.map((f) => sharedData(f))
  const events = (await readRawAll(paths)).filter((e) => e.kind === 'depth' || e.kind === 'snapshot')
  const c = defaultConfig()
  const core = resolveConfig({...c, strategy: {...c.strategy, baseSpread: 0.0002, staticFraction: 0.5, baseSize: '0.04'}, risk: {...c.risk, netMax: '0.2'}}, inst)
  const histogram = hdr.build({lowestDiscernibleValue: 1, highestTrackableValue: 10_000_000, numberOfSignificantValueDigits: 3})
  let actions = 0
  let calls = 0
  for (let pass = 0; pass < 3; pass++) {
    const sync = new DepthSync(inst)
    const {ctx, state: s0} = prepareCore(core, inst, 'bench')
    let state = s0
    let working: WorkingOrder[] = []
    for (const ev of events) {
      sync.feed(ev)
      if (!sync.book.ready) continue
      const now = Math.floor(ev.ts / 1000)
      const t0 = process.hrtime.bigint()
      const d = decide(state, {nowMs: now, book: sync.book, bookUpdatedMs: now, position: emptyPosition(), working}, ctx)
      const ns = Number(process.hrtime.bigint() - t0)
      if (pass > 0) {
        histogram.recordValue(Math.max(1, Math.round(ns / 1000 * 10)))
        calls++
        actions += d.actions.length
      }
      state = d.state
      const cancelled = new Set(d.actions.filter((a) => a.type === 'cancel').map((a) => a.clientOrderId))
      working = working.filter((w) => !cancelled.has(w.clientOrderId))
      for (const a of d.actions) if (a.type === 'place') working.push({...a.order, clientOrderId: a.clientOrderId, filled: 0, status: 'NEW', sentAt: now})
    }
  }
  // JSON.parse of one depth message, same run
  const texts: string[] = []
  for (const p of paths) for (const l of gunzipSync(readFileSync(p)).toString('utf8').split('\n')) if (l.includes('depthUpdate')) texts.push(l.slice(l.indexOf(' ') + 1))
  let t0 = process.hrtime.bigint()
  for (let r = 0; r < 5; r++) for (const t of texts) JSON.parse(t)
  const parseUs = Number(process.hrtime.bigint() - t0) / 1000 / (5 * texts.length)
  const us = (v: number) => round(v / 10, 1)
  const p50 = us(histogram.getValueAtPercentile(50))
  const out = {
    decisions: calls,
    actions_per_decision: round(actions / calls, 3),
    decide_p50_us: p50,
    decide_p99_us: us(histogram.getValueAtPercentile(99)),
    decide_max_us: us(histogram.maxValue),
    json_parse_one_depth_msg_us: round(parseUs, 1),
    decide_p50_vs_json_parse_ratio: round(p50 / parseUs, 2),
  }
  return out
}
