/**
 * Tick-to-order latency of the live path, in-process: from a depth message's bytes (the
 * text the WebSocket hands over) to the signed order request's bytes handed to the socket:
 * JSON.parse → parse to the market event → the synced book → `decide` → for each place,
 * the Binance order parameters on the grid → `BinanceGateway.build` (timestamp,
 * recvWindow, HMAC-SHA256 signature, form body). No network: the request is built, not
 * sent. Over the real ETHUSDT stream (both July days); p50 / p99 / p99.9 of the messages
 * that led to at least one order, next to JSON.parse of one depth message in the same run.
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
import {BinanceGateway, orderParams} from '../src/lib/venue/binance/gateway.js'
import {Credentials} from '../src/lib/venue/binance/signer.js'
import {parseMarketMessageStrict} from '../src/lib/venue/binance/ws.js'
import {round, sharedData} from './lib.js'

export const name = 'tick-to-order'

const FILES = ['hftbacktest/examples/usdm/ethusdt_20240718.gz', 'hftbacktest/examples/usdm/ethusdt_20240719.gz']
const inst = new Instrument({symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})

export async function run(): Promise<Record<string, number | string>> {
  const paths = FILES.map((f) => sharedData(f))
  const snapshots = (await readRawAll(paths)).filter((e) => e.kind === 'snapshot')
  const lines: string[] = []
  for (const p of paths) for (const l of gunzipSync(readFileSync(p)).toString('utf8').split('\n')) if (l.includes('depthUpdate') || l.includes('"lastUpdateId"')) lines.push(l.slice(l.indexOf(' ') + 1))
  const c = defaultConfig()
  const core = resolveConfig({...c, strategy: {...c.strategy, baseSpread: 0.0002, staticFraction: 0.5, baseSize: '0.04'}, risk: {...c.risk, netMax: '0.2'}}, inst)
  // a gateway that only builds requests (never connects: the pool is lazy)
  const gw = new BinanceGateway({baseUrl: 'http://127.0.0.1:9', credentials: new Credentials('benchkey0123456789abcdef', 'benchsecret0123456789abcdef0123456789'), now: () => 1_721_347_022_530})
  const orders = hdr.build({lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000, numberOfSignificantValueDigits: 3})
  const all = hdr.build({lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000, numberOfSignificantValueDigits: 3})
  let requests = 0
  let bytes = 0
  for (let pass = 0; pass < 3; pass++) {
    const sync = new DepthSync(inst)
    const {ctx, state: s0} = prepareCore(core, inst, 'bench')
    let state = s0
    let working: WorkingOrder[] = []
    let snap = 0
    for (const text of lines) {
      if (text.startsWith('{"lastUpdateId"')) {
        if (snap < snapshots.length) sync.feed(snapshots[snap++])
        continue
      }
      const t0 = process.hrtime.bigint()
      const j = JSON.parse(text) as {data?: unknown}
      const ev = parseMarketMessageStrict(j.data ?? j, 0)
      if (!ev) continue
      sync.feed(ev)
      if (!sync.book.ready) continue
      const now = Math.floor(ev.ts / 1000)
      const d = decide(state, {nowMs: now, book: sync.book, bookUpdatedMs: now, position: emptyPosition(), working}, ctx)
      let n = 0
      for (const a of d.actions) {
        if (a.type !== 'place') continue
        const o = a.order
        const req = gw.build('POST', '/fapi/v1/order', orderParams({symbol: 'ETHUSDT', side: o.side, type: 'LIMIT', timeInForce: o.tif, quantity: inst.stepsToQty(o.qty), price: inst.ticksToPrice(o.price), reduceOnly: o.reduceOnly || undefined, newClientOrderId: a.clientOrderId, selfTradePreventionMode: 'EXPIRE_MAKER'}), 'SIGNED')
        if (pass > 0) bytes += req.body!.length
        n++
      }
      const ns = Number(process.hrtime.bigint() - t0)
      if (pass > 0) {
        all.recordValue(Math.max(1, Math.round(ns / 100)))
        if (n > 0) {
          orders.recordValue(Math.max(1, Math.round(ns / 100)))
          requests += n
        }
      }
      state = d.state
      const cancelled = new Set(d.actions.filter((a) => a.type === 'cancel').map((a) => a.clientOrderId))
      working = working.filter((w) => !cancelled.has(w.clientOrderId))
      for (const a of d.actions) if (a.type === 'place') working.push({...a.order, clientOrderId: a.clientOrderId, filled: 0, status: 'NEW', sentAt: now})
    }
  }
  await gw.close()
  const texts = lines.filter((l) => l.includes('depthUpdate'))
  const t0 = process.hrtime.bigint()
  for (let r = 0; r < 5; r++) for (const t of texts) JSON.parse(t)
  const parseUs = Number(process.hrtime.bigint() - t0) / 1000 / (5 * texts.length)
  const us = (v: number) => round(v / 10, 1)
  const p99 = us(orders.getValueAtPercentile(99))
  return {
    messages_with_orders: orders.totalCount,
    signed_requests: requests,
    mean_request_bytes: round(bytes / Math.max(1, requests), 0),
    tick_to_order_p50_us: us(orders.getValueAtPercentile(50)),
    tick_to_order_p99_us: p99,
    tick_to_order_p999_us: us(orders.getValueAtPercentile(99.9)),
    any_message_p50_us: us(all.getValueAtPercentile(50)),
    json_parse_one_depth_msg_us: round(parseUs, 1),
    tick_to_order_p99_vs_json_parse_ratio: round(p99 / parseUs, 2),
    target_p99_us: 100,
  }
}
