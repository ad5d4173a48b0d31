/**
 * Issue 10 proof 3: every `mm sim` fault survived by a live `mm quote` (both bin/run.js).
 * One sim per fault; the quote trades near the touch until the fault has happened on the
 * wire and an order was accepted after it (bounded waits), then stops cleanly (SIGTERM).
 * Each row shows no client id was placed twice, nothing was left open that the
 * quote did not track (and the switch or the stop cancelled it), the quote's position equals
 * the sim's, and |position| never went past netMax over the sim's own fills.
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Decimal} from 'decimal.js'
import {beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt} from '../support/cli.js'
import {canon, isOpen, ours, readState, RequestLogTail, type SimRequest, type SimState, spawnQuote, startLiveSim, waitFor, writeConfig} from '../support/live-sim.js'

const NET_MAX = '0.03'
let tmp: string

beforeAll(() => {
  ensureBuilt('quote')
  ensureBuilt('sim')
  tmp = mkdtempSync(join(tmpdir(), 'mm-live-faults-'))
})

interface Row {
  name: string
  flags: string[]
  /** the fault shown: the log's seq at (or after) which it happened, or undefined while not yet */
  fault: (reqs: SimRequest[], st: SimState & {venue: {connections: number; depthGaps: number}}) => number | undefined
  /** more evidence from the quote's --json summary */
  summary?: (s: {resyncs: number}) => void
}

const lastSeq = (reqs: SimRequest[]) => Math.max(0, ...reqs.map((r) => r.seq))
const first = (pred: (r: SimRequest) => boolean) => (reqs: SimRequest[]) => reqs.find(pred)?.seq
const secondListenKey = (reqs: SimRequest[]) => reqs.filter((r) => r.method === 'POST' && r.path === '/fapi/v1/listenKey')[1]?.seq

function gapWhileQuoting(): Row['fault'] {
  let base: number | undefined
  return (reqs, st) => {
    if (base === undefined) {
      if (reqs.some((r) => r.method === 'POST' && r.path === '/fapi/v1/order' && r.status === 200)) base = st.venue.depthGaps
      return undefined
    }
    return st.venue.depthGaps > base ? lastSeq(reqs) : undefined
  }
}

const ROWS: Row[] = [
  // the market stream, user stream and WebSocket API sockets are closed every 3 s: the quote reconnects (a 3rd connection)
  {name: 'WebSocket drops (--drop-ws-every 3s)', flags: ['--drop-ws-every', '3s'], fault: (reqs, st) => (st.venue.connections >= 3 ? lastSeq(reqs) : undefined), summary: (s) => expect(s.resyncs).toBeGreaterThan(0)},
  // a gap counts once the quote is quoting (a gap before it subscribed breaks nothing of its own)
  {name: 'depth gaps (--depth-gap-rate 0.05)', flags: ['--depth-gap-rate', '0.05'], fault: gapWhileQuoting(), summary: (s) => expect(s.resyncs).toBeGreaterThan(0)},
  {name: '5xx (--http-error-rate 0.05, --unavailable-rate 0.05, --unknown-status-rate 0.1)', flags: ['--http-error-rate', '0.05', '--unavailable-rate', '0.05', '--unknown-status-rate', '0.1'], fault: first((r) => r.status >= 500 && r.path === '/fapi/v1/order')},
  // one new order per 10 s: the opening bid and ask leave together, so the second is refused at once (429, -1015);
  // a looser limit made the 429 depend on timing (the governor pauses at 85 % of it), ~50 s here and past 90 s on a slower CI
  {name: '429 (--rate-limit orders10s=1)', flags: ['--rate-limit', 'orders10s=1'], fault: first((r) => r.status === 429)},
  {name: 'lost responses (--lose-responses 0.15)', flags: ['--lose-responses', '0.15'], fault: first((r) => r.lost === true)},
  {name: 'listenKey expiry (--listen-key-ttl 4s)', flags: ['--listen-key-ttl', '4s'], fault: secondListenKey},
  // the audit sees a fill or cancel the stream never told: a new key
  {name: 'silent user stream (--user-stream-silent-after 2s)', flags: ['--user-stream-silent-after', '2s'], fault: secondListenKey},
  // the offset is measured at start: no -1021 on an order
  {name: 'clock skew ahead (--clock-skew 3s)', flags: ['--clock-skew', '3s'], fault: (reqs) => (reqs.filter((r) => r.path === '/fapi/v1/order' && r.status === 200).length >= 3 ? 0 : undefined)},
  {name: 'clock skew behind (--clock-skew -3s)', flags: ['--clock-skew', '-3s'], fault: (reqs) => (reqs.filter((r) => r.path === '/fapi/v1/order' && r.status === 200).length >= 3 ? 0 : undefined)},
]

describe('live quote survives every sim fault (issue 10, proof 3)', () => {
  for (const [i, row] of ROWS.entries()) {
    it(row.name, async () => {
      const inst = `f${i}`
      const log = join(tmp, `requests-${i}.ndjson`)
      const scfg = writeConfig(tmp, 'sim.json', {paper: {queueModel: 'prob-power'}})
      const sim = await startLiveSim(['--synthetic', '--seed', String(20 + i), '--config', scfg, '--request-log', log, ...row.flags])
      try {
        const qcfg = writeConfig(tmp, `quote-${i}.json`, {
          strategy: {kind: 'naive', baseSpread: 0.00002, baseSize: '0.010', baseInterval: 400},
          risk: {netMax: NET_MAX},
          live: {deadmanCountdownMs: 3000, deadmanRefreshMs: 1000, auditIntervalMs: 2000},
        })
        const stateDir = join(tmp, `state-${i}`)
        const tail = new RequestLogTail(log)
        const q = spawnQuote(sim, stateDir, ['--config', qcfg, '--instance', inst, '--json'])
        let faultSeq: number
        try {
          // the fault on the wire (bounded), then quoting going on after it: an accepted place later in the log
          faultSeq = await waitFor(async () => {
            tail.read()
            return row.fault(tail.all, (await sim.state({books: true})) as never)
          }, `${row.name}: the fault`, 90_000, 200)
          await waitFor(() => {
            tail.read()
            return tail.all.some((r) => r.method === 'POST' && r.path === '/fapi/v1/order' && r.status === 200 && r.seq > faultSeq)
          }, `${row.name}: an accepted place after the fault`, 60_000, 100)
        } finally {
          q.child.kill('SIGTERM')
        }
        const {code} = await q.exited
        expect(code, q.stderr() + q.stdout()).toBe(0)
        const out = JSON.parse(q.stdout()) as {data: {summary: {resyncs: number; fills: number}}}
        tail.read()
        const reqs = tail.all
        const places = reqs.filter((r) => r.method === 'POST' && r.path === '/fapi/v1/order')
        expect(places.filter((r) => r.code === -1021)).toEqual([])
        row.summary?.(out.data.summary)
        // nothing duplicated
        const ids = places.map((p) => p.params.newClientOrderId)
        expect(new Set(ids).size).toBe(ids.length)
        expect(reqs.filter((r) => r.code === -4116)).toEqual([])
        // nothing orphaned: what is still open is tracked in state.json, and the switch cancels it
        const st = await sim.state({books: true})
        const tracked = new Set(Object.keys(readState(stateDir).orders))
        const open = st.orders.filter((o) => isOpen(o))
        expect(open.filter((o) => !ours(inst)(o.clientOrderId) || !tracked.has(o.clientOrderId)).map((o) => o.clientOrderId)).toEqual([])
        const end = await waitFor(async () => {
          const s2 = await sim.state({books: true})
          return s2.orders.some(isOpen) ? undefined : s2
        }, 'no order left open', 15_000, 200)
        // the position equals the sim's; |position| never past netMax
        expect(canon(readState(stateDir).position.net)).toBe(canon(end.ledger[0].positionAmt))
        let pos = new Decimal(0)
        let maxAbs = new Decimal(0)
        for (const t of [...end.trades].sort((a, b) => a.id - b.id)) {
          pos = t.side === 'BUY' ? pos.add(t.qty) : pos.sub(t.qty)
          if (pos.abs().gt(maxAbs)) maxAbs = pos.abs()
        }
        expect(maxAbs.lte(NET_MAX), `max |position| ${maxAbs}`).toBe(true)
        console.log(`live-faults ${row.name}: ${places.length} places, ${end.trades.length} fills, max |position| ${maxAbs}, resyncs ${out.data.summary.resyncs}, faulted requests ${reqs.filter((r) => r.status >= 400 || r.lost).length}, fault at seq ${faultSeq}`)
      } finally {
        await sim.stop()
      }
    }, 120_000)
  }
})

