/**
 * After a 418 ban (issue 10 item 2; found by review, 2026-12-01): the dead-man's switch may
 * have lapsed during the ban (the venue cancelled our orders, and the switch with them), and
 * the user stream may have missed events. No new order goes out until the switch is set
 * again and an audit has read the venue's open orders and position. Before, the first
 * orders left as soon as the ban ended, with no switch for up to a refresh interval and no
 * audit for up to an audit interval.
 *
 * `mm sim --rate-limit weight=150,ban-after=1,ban=15s` with an audit every second and a 5 s
 * countdown: the ban comes within seconds and outlasts the countdown. The sim's request log
 * is the proof: every order request after the first 418 comes after a 200 countdownCancelAll
 * and a 200 openOrders (the audit's) that both follow the last 418 before it.
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt} from '../support/cli.js'
import {RequestLogTail, type SimRequest, spawnQuote, startLiveSim, waitFor, writeConfig} from '../support/live-sim.js'

const tmp = mkdtempSync(join(tmpdir(), 'mm-ban-recovery-'))

beforeAll(() => {
  ensureBuilt('quote')
})

const isOrder = (r: SimRequest) => r.method === 'POST' && (r.path === '/fapi/v1/order' || r.path === '/fapi/v1/batchOrders')

describe('live quote after a 418 ban', () => {
  it('sends no new order until the switch is set again and an audit has run after the ban', async () => {
    const reqLog = join(tmp, 'requests.ndjson')
    const sim = await startLiveSim(['--synthetic', '--seed', '7', '--rate-limit', 'weight=150,ban-after=1,ban=15s', '--request-log', reqLog])
    try {
      const cfg = writeConfig(tmp, 'ban.json', {
        strategy: {baseSpread: 0.00002, baseSize: '0.02', baseInterval: 500},
        risk: {netMax: '0.05', reduceOnlyThreshold: 2},
        live: {auditIntervalMs: 5000, deadmanCountdownMs: 8000, deadmanRefreshMs: 3000},
      })
      const q = spawnQuote(sim, join(tmp, 'st'), ['--config', cfg, '--instance', 'br1', '--duration', '170s'])
      await q.waitFor(/market data in sync; quoting/, 'stderr', 60_000)
      const reqs = new RequestLogTail(reqLog)
      // banned, then an order sent after the ban
      await waitFor(() => {
        reqs.read()
        const first418 = reqs.all.findIndex((r) => r.status === 418)
        return first418 >= 0 && reqs.all.slice(first418).some(isOrder)
      }, 'an order request after the ban', 150_000)
      q.child.kill('SIGTERM')
      await q.exited
      reqs.read()
      const all = reqs.all
      const first418 = all.findIndex((r) => r.status === 418)
      let checked = 0
      for (let i = first418 + 1; i < all.length; i++) {
        if (!isOrder(all[i])) continue
        let last418 = i - 1
        while (last418 > first418 && all[last418].status !== 418) last418--
        const since = all.slice(last418 + 1, i)
        const where = `order request #${all[i].seq} (${all[i].path}) after the 418 at #${all[last418].seq}`
        expect(since.some((r) => r.path === '/fapi/v1/countdownCancelAll' && r.status === 200), `${where}: a switch refresh before it`).toBe(true)
        expect(since.some((r) => r.path === '/fapi/v1/openOrders' && r.method === 'GET' && r.status === 200), `${where}: an audit before it`).toBe(true)
        checked++
      }
      expect(checked).toBeGreaterThan(0)
      expect(q.stderr()).toContain("after the ban: the dead-man's switch is set again and the audit has run; quoting may resume")
    } finally {
      await sim.stop()
    }
  }, 240_000)
})
