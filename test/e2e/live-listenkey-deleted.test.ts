/**
 * The account's listenKey deleted by someone else while `mm quote` runs (fills-gap): an
 * account has one key, so another client of the account (another mm instance on another
 * symbol stopping: `DELETE /fapi/v1/listenKey`) closes our user stream too. Before, the
 * client reconnected to the dead key over and over (HTTP 400 -1125 on the upgrade, a
 * backoff up to 30 s) and took a new key only at its next keep-alive (30 min) or an audit
 * finding: 60 s after the DELETE against `mm sim`, no socket, no new key, 14 audits that
 * found nothing, and every fill learnt only from answers, 1 s late. Now a refused handshake
 * takes a key (POST) before the next try. Both through bin/run.js.
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt} from '../support/cli.js'
import {type LiveSim, spawnQuote, startLiveSim, waitFor} from '../support/live-sim.js'
import {TEST_KEY} from '../support/sim-cli.js'

let tmp: string
let sim: LiveSim | undefined

beforeAll(() => {
  ensureBuilt('quote')
  ensureBuilt('sim')
  tmp = mkdtempSync(join(tmpdir(), 'mm-live-lk-'))
})

afterAll(async () => {
  await sim?.stop()
})

interface UserStreamState {listenKey?: string; sockets: number; connections: number}
const userStream = async (s: LiveSim) => ((await s.state({books: true})) as unknown as {userStream: UserStreamState}).userStream

describe('live quote: the listenKey deleted by another client of the account (fills-gap)', () => {
  it('takes a new key and reconnects within seconds, not at the next keep-alive', async () => {
    sim = await startLiveSim(['--synthetic', '--seed', '7'])
    const s = sim
    const q = spawnQuote(s, join(tmp, 'state'), ['--instance', 'lkd'])
    try {
      const first = await waitFor(async () => {
        const u = await userStream(s)
        return u.sockets === 1 && u.listenKey ? u : undefined
      }, 'the user stream connected', 60_000, 100)
      const r = await fetch(`${s.restUrl}/fapi/v1/listenKey`, {method: 'DELETE', headers: {'X-MBX-APIKEY': TEST_KEY}})
      expect(r.status).toBe(200)
      const next = await waitFor(async () => {
        const u = await userStream(s)
        return u.sockets === 1 && u.listenKey !== undefined && u.connections > first.connections ? u : undefined
      }, 'the user stream on a new key', 15_000, 100)
      expect(next.listenKey).not.toBe(first.listenKey)
    } finally {
      q.child.kill('SIGTERM')
    }
    const {code} = await q.exited
    expect(code, q.stderr()).toBe(0)
    const posts = (await s.state()).requests.filter((x) => x.method === 'POST' && x.path === '/fapi/v1/listenKey')
    expect(posts.length).toBeGreaterThanOrEqual(2)
    // the outage is said once, and its end (before: nothing on stderr while the stream was down)
    const err = q.stderr()
    expect(err.match(/user stream down \(/g)?.length, err).toBe(1)
    expect(err).toMatch(/user stream down \([a-z_-]+: [^\n]*\); reconnecting[^\n]*: fills and cancels come from order answers and read-backs meanwhile\n/)
    expect(err).toMatch(/user stream back after \d+ ms, [1-9]\d* drop\(s\) \([a-z_-]+\): reading back what it missed\n/)
  }, 120_000)

  // the other side of it: our clean stop no longer deletes the account's one key, which
  // closed every other client's stream on it (another mm instance on another symbol)
  it('a clean stop leaves the account\'s listenKey to the other clients of the account', async () => {
    const s = await startLiveSim(['--synthetic', '--seed', '8'])
    try {
      // another client of the account holds the key first (POST returns the account's active key)
      const other = (await (await fetch(`${s.restUrl}/fapi/v1/listenKey`, {method: 'POST', headers: {'X-MBX-APIKEY': TEST_KEY}})).json()) as {listenKey: string}
      const q = spawnQuote(s, join(tmp, 'state-keep'), ['--instance', 'lkk'])
      try {
        await waitFor(async () => {
          const u = await userStream(s)
          return u.sockets === 1 && u.listenKey === other.listenKey ? u : undefined
        }, 'the quote on the account\'s key', 60_000, 100)
      } finally {
        q.child.kill('SIGTERM')
      }
      const {code} = await q.exited
      expect(code, q.stderr()).toBe(0)
      const st = await s.state()
      expect(st.requests.filter((x) => x.path === '/fapi/v1/listenKey').map((x) => x.method)).toEqual(['POST', 'POST'])
      // the key still works: a keep-alive on it is accepted
      const put = await fetch(`${s.restUrl}/fapi/v1/listenKey`, {method: 'PUT', headers: {'X-MBX-APIKEY': TEST_KEY}})
      expect(put.status).toBe(200)
      expect((await userStream(s)).listenKey).toBe(other.listenKey)
    } finally {
      await s.stop()
    }
  }, 120_000)
})
