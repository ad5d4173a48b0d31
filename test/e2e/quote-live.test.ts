/**
 * mm quote --dry-run on a live market: mm sim (seeded synthetic market on loopback) plays
 * Binance, mm quote trades on paper against its public streams. Proves the live wiring
 * (exchangeInfo, WS + snapshot sync, system clock, paper venue), that a dry-run sends no
 * signed request, and the clean stop on SIGTERM.
 */
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {type CliRun, ensureBuilt, runCli, spawnCli} from '../support/cli.js'

// each test runs the CLI for several wall seconds (up to 13 s under a load of 9 on 2 cores): twice the default limit
vi.setConfig({testTimeout: 120_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-live-'))
let sim: CliRun
let rest = ''
let ws = ''

beforeAll(async () => {
  ensureBuilt('quote')
  sim = spawnCli(['sim', '--synthetic', '--seed', '5', '--symbol', 'ETHUSDC', '--port', '0', '--json'])
  const m = await sim.waitFor(/"restUrl":"(http:[^"]+)","wsUrl":"(ws:[^"]+)"/)
  rest = m[1]
  ws = m[2]
})

afterAll(async () => {
  sim.child.kill('SIGTERM')
  await sim.exited
})

function lines(path: string): {type: string; [k: string]: unknown}[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
}

describe('mm quote --dry-run against mm sim', () => {
  it('quotes on paper for a fixed duration and ends with a summary', async () => {
    // --duration counts from the feed's start, before the first sync (3–4 s after the spawn on a loaded 2-core machine): 8 s to quote in
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--rest-url', rest, '--ws-url', ws, '--duration', '8s', '--state-dir', join(tmp, 'a'), '--json'])
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout)
    expect(j.ok).toBe(true)
    expect(j.data.summary.mode).toBe('dry-run')
    expect(j.data.summary.endReason).toBe('duration')
    expect(j.data.summary.marketEvents).toBeGreaterThan(10)
    expect(j.data.summary.quotesPlaced).toBeGreaterThan(0)
    expect(j.data.instrument).toEqual({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minNotional: '20', from: 'exchangeInfo'})
    const ev = lines(j.data.eventLog)
    expect(ev[0].type).toBe('run_start')
    expect(ev[ev.length - 1].type).toBe('run_end')
    // every order placed was cancelled, rejected, expired or wholly filled by the end
    const steps = (q: unknown) => Math.round(Number(q) * 1000)
    const left = new Map<string, number>()
    for (const e of ev) {
      const id = e.clientOrderId as string
      if (e.type === 'order' && e.action === 'place') left.set(id, steps(e.qty))
      if (['canceled', 'reject', 'expired'].includes(e.type)) left.delete(id)
      if (e.type === 'fill' && left.has(id)) {
        const rest = (left.get(id) as number) - steps(e.qty)
        if (rest <= 0) left.delete(id)
        else left.set(id, rest)
      }
    }
    expect([...left.keys()]).toEqual([])
  })

  it('SIGTERM stops cleanly: cancel all, run_end, summary, exit 0', async () => {
    const q = spawnCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--rest-url', rest, '--ws-url', ws, '--state-dir', join(tmp, 'b')])
    await q.waitFor(/market data in sync/, 'stderr')
    const m = await q.waitFor(/events → (\S+events\.jsonl)/, 'stderr')
    q.child.kill('SIGTERM')
    const {code} = await q.exited
    expect(code, q.stderr()).toBe(0)
    expect(q.stdout()).toMatch(/run summary/)
    expect(q.stdout()).toMatch(/signal SIGTERM/)
    const ev = lines(m[1])
    const end = ev[ev.length - 1]
    expect(end.type).toBe('run_end')
    expect(end.reason).toBe('signal SIGTERM')
  })

  it('sends no signed request: the venue saw only public REST calls', async () => {
    const s = spawnCli(['sim', '--synthetic', '--seed', '6', '--port', '0', '--json'])
    const m = await s.waitFor(/"restUrl":"(http:[^"]+)","wsUrl":"(ws:[^"]+)"/)
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--rest-url', m[1], '--ws-url', m[2], '--duration', '4s', '--state-dir', join(tmp, 'c'), '--json'])  // long enough for the snapshot on a loaded machine
    expect(r.code, r.stderr).toBe(0)
    s.child.kill('SIGTERM')
    await s.exited
    const last = JSON.parse(s.stdout().trim().split('\n').pop() as string)
    // exchangeInfo + one depth snapshot; an order, cancel or account call would add more
    expect(last.data.stats.restRequests).toBe(2)
  })

  it('a lost stream (venue disconnects) pauses quoting until the book is whole again, counted as resyncs', async () => {
    const f = spawnCli(['sim', '--synthetic', '--seed', '3', '--port', '0', '--faults', 'disconnect=1500ms', '--json'])
    const m = await f.waitFor(/"restUrl":"(http:[^"]+)","wsUrl":"(ws:[^"]+)"/)
    // the sim drops every socket each 1.5 s from its own start; --duration counts from the feed's start, before the
    // first sync: 8 s leaves several drops after a sync that takes a few seconds on a loaded machine
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--rest-url', m[1], '--ws-url', m[2], '--duration', '8s', '--state-dir', join(tmp, 'f'), '--json'])
    f.child.kill('SIGTERM')
    await f.exited
    expect(r.code, r.stderr).toBe(0)
    const s = JSON.parse(r.stdout).data
    expect(s.summary.resyncs).toBeGreaterThanOrEqual(1)
    const ev = lines(s.eventLog)
    const pauses = ev.filter((e) => e.type === 'risk_event' && e.kind === 'pause')
    // a resync while already paused (a second disconnect before the book came back) adds no pause
    expect(pauses.length).toBeGreaterThanOrEqual(1)
    expect(pauses.every((p) => p.reason === 'book_not_ready')).toBe(true)
    // nothing of ours rests while paused: after each pause every working order gets a cancel
    const firstPause = ev.indexOf(pauses[0])
    const placedBefore = ev.slice(0, firstPause).filter((e) => e.type === 'order' && e.action === 'place').map((e) => e.clientOrderId)
    const endedBefore = new Set(ev.slice(0, firstPause).filter((e) => ['canceled', 'reject', 'expired'].includes(e.type) || (e.type === 'order' && e.action === 'cancel')).map((e) => e.clientOrderId))
    const cancelledAfter = new Set(ev.slice(firstPause).filter((e) => e.type === 'order' && e.action === 'cancel').map((e) => e.clientOrderId))
    for (const id of placedBefore) if (!endedBefore.has(id) && !ev.some((e) => e.type === 'fill' && e.clientOrderId === id)) expect(cancelledAfter.has(id), String(id)).toBe(true)
  })

  it('an unknown symbol exits 2 naming it', async () => {
    const r = await runCli(['quote', '--symbol', 'NOPEUSDC', '--dry-run', '--rest-url', rest, '--ws-url', ws, '--state-dir', join(tmp, 'd')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/unknown symbol NOPEUSDC/)
  })
})
