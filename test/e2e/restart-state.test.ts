/**
 * Restarts as an operator meets them, through bin/run.js against `mm sim`: a lock left by
 * a crash whose pid now runs another process (a reboot, a container restart), and
 * state.json files edited or copied by hand. Times asserted are the product's own.
 */
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {emptyState, type StateFile} from '../../src/lib/state/file.js'
import {bootId, processStart} from '../../src/lib/state/lock.js'
import {BIN, ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {type SimProc, startSim, TEST_KEY, TEST_SECRET} from '../support/sim-cli.js'

vi.setConfig({testTimeout: 240_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-restart-'))
let sim: SimProc
let rest = ''
let ws = ''

beforeAll(async () => {
  ensureBuilt('quote')
  sim = await startSim()
  rest = sim.restUrl
  ws = sim.wsUrl
})

afterAll(async () => {
  await sim.stop()
})

const quoteArgs = (S: string, extra: string[] = []) => ['quote', '--symbol', 'ETHUSDC', '--dry-run', '--rest-url', rest, '--ws-url', ws, '--state-dir', S, ...extra]

/** a process that runs for the test (the "other process" a reused pid now belongs to) */
async function bystander(): Promise<{pid: number; stop(): Promise<void>}> {
  const c = spawn(process.execPath, ['-e', 'process.stdout.write("up\\n"); setInterval(() => {}, 1000)'], {stdio: ['ignore', 'pipe', 'ignore']})
  await new Promise<void>((res, rej) => {
    c.stdout!.once('data', () => res())
    c.once('error', rej)
  })
  return {
    pid: c.pid as number,
    async stop() {
      const gone = new Promise((r) => c.once('exit', r))
      c.kill('SIGKILL')
      await gone
    },
  }
}

describe('a lock left by a crash whose pid now runs another process', () => {
  it('mm quote takes it over and says why (it did refuse forever: "mm quote (pid N) holds …/lock"); halt and status see no quote', async () => {
    const S = join(tmp, 'reused')
    mkdirSync(join(S, 'ETHUSDC'), {recursive: true})
    const other = await bystander()
    try {
      // as mm wrote it before the crash: this boot, but the process that had the pid started at another time
      const old = {pid: other.pid, host: hostname(), command: 'quote', at: '2026-11-30T01:00:00.000Z', boot: bootId(), start: String(Number(processStart(other.pid)) - 100)}
      writeFileSync(join(S, 'ETHUSDC', 'lock'), JSON.stringify(old) + '\n')
      const st = await runCli(['status', '--symbol', 'ETHUSDC', '--state-dir', S, '--json'])
      expect(st.code, st.stderr).toBe(0)
      expect(JSON.parse(st.stdout).data.symbols[0].quote).toEqual({kind: 'none'})

      const q = await runCli(quoteArgs(S, ['--duration', '1s']))
      expect(q.code, q.stderr).toBe(0)
      expect(q.stderr).toContain(`note: took over the stale lock of pid ${other.pid} (quote, its pid now runs another process) in ${join(S, 'ETHUSDC')}\n`)
      expect((await runCli(['status', '--check', '--state-dir', S])).code).toBe(0)

      // the same with a lock of an earlier boot: mm halt acts itself (no "holds the lock but does not answer", exit 3)
      writeFileSync(join(S, 'ETHUSDC', 'lock'), JSON.stringify({...old, boot: '00000000-0000-0000-0000-000000000000', start: processStart(other.pid)}) + '\n')
      const h = await runCli(['halt', '--symbol', 'ETHUSDC', '--state-dir', S, '--reason', 'after reboot', '--json'])
      expect(h.code, h.stderr).toBe(0)
      const hj = JSON.parse(h.stdout).data
      expect(hj).toMatchObject({via: 'self', quote: {kind: 'none'}, halt: {kind: 'manual', reason: 'after reboot'}, ordersLeft: []})
      expect(hj.notes).toContain(`took over the stale lock of pid ${other.pid} (quote)`)

      // the process that took the lock, still running: refused, naming it
      writeFileSync(join(S, 'ETHUSDC', 'lock'), JSON.stringify({...old, start: processStart(other.pid)}) + '\n')
      const r = await runCli(quoteArgs(S, ['--duration', '1s']))
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(`mm quote: mm quote (pid ${other.pid} on ${hostname()}) holds ${join(S, 'ETHUSDC', 'lock')}\n`)
    } finally {
      await other.stop()
    }
  })
})

describe('a state dir copied from another host', () => {
  it("its lock is taken as held; the refusal says it is another host's and what to remove (it said: stop the other one, or use another --state-dir)", async () => {
    const S = join(tmp, 'copied')
    mkdirSync(join(S, 'ETHUSDC'), {recursive: true})
    const lock = join(S, 'ETHUSDC', 'lock')
    writeFileSync(lock, JSON.stringify({pid: 4242, host: 'trader-1.example', command: 'quote', at: '2026-11-30T01:00:00.000Z'}) + '\n')
    const r = await runCli(quoteArgs(S, ['--duration', '1s']))
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`mm quote: mm quote (pid 4242 on trader-1.example) holds ${lock}\n  hint: a lock of another host is taken as held: if this state dir was copied from trader-1.example and no mm there uses it, remove ${lock}\n`)
  })
})

describe('state.json edited or copied by hand', () => {
  function handMade(S: string, over: (s: StateFile) => void): string {
    const s = emptyState('ETHUSDC', true, '2026-12-01T00:00:00.000Z')
    s.instrument = {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}
    over(s)
    mkdirSync(join(S, 'ETHUSDC'), {recursive: true})
    const p = join(S, 'ETHUSDC', 'state.json')
    writeFileSync(p, JSON.stringify(s, null, 2))
    return p
  }

  it('a halt whose end does not parse: mm quote refuses at start naming the field (it quoted halted, every state write failed, and it ended "Invalid time value", exit 1)', async () => {
    const S = join(tmp, 'until')
    const p = handMade(S, (s) => {
      s.halt = {kind: 'manual', reason: 'deploy', by: 'ops@h', at: '2026-12-01T00:00:00.000Z', until: 'tomorrow', flatten: false}
    })
    const text = readFileSync(p, 'utf8')
    const q = await runCli(quoteArgs(S, ['--duration', '1s']))
    expect(q.code).toBe(2)
    expect(q.stderr.split('\n')[0]).toBe(`mm quote: state file ${p} is corrupt: halt.until "tomorrow" is not a time (an ISO time, or null: until mm resume)`)
    expect(q.stderr).not.toMatch(/\n\s+at /)
    expect(readFileSync(p, 'utf8')).toBe(text)
  })

  it('a position that is not a number: mm resume names the file and the field (it said "[DecimalError] Invalid argument: 0.0x1")', async () => {
    const S = join(tmp, 'net')
    const p = handMade(S, (s) => {
      s.dryRun = false
      s.position.net = '0.0x1'
      s.halt = {kind: 'stop_loss', reason: 'x', by: 'mm quote', at: '2026-12-01T00:00:00.000Z', until: null, flatten: false}
    })
    const r = await runCli(['resume', '--symbol', 'ETHUSDC', '--state-dir', S])
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n')[0]).toBe(`mm resume: state file ${p} is corrupt: position.net "0.0x1" is not a decimal number`)
  })

  it('a manual halt carried over keeps its start (it was re-dated to each restart: `mm status` said "since" the restart)', async () => {
    const S = join(tmp, 'manual-at')
    const at = new Date(Date.now() - 3_600_000).toISOString()
    const p = handMade(S, (s) => {
      s.halt = {kind: 'manual', reason: 'deploy', by: 'ops@h', at, until: null, flatten: false}
    })
    const q = await runCli(quoteArgs(S, ['--duration', '3s']))
    expect(q.code, q.stderr).toBe(0)
    expect(q.stderr).toContain(`note: halt carried over from ${p}: manual, deploy, by ops@h — mm resume clears it`)
    const after = JSON.parse(readFileSync(p, 'utf8')) as StateFile
    expect(after.halt).toEqual({kind: 'manual', reason: 'deploy', by: 'ops@h', at, until: null, flatten: false})
    expect(after.risk.mode).toBe('halted')
    const st = await runCli(['status', '--symbol', 'ETHUSDC', '--state-dir', S])
    expect(st.stdout).toContain(`manual: deploy — by ops@h at ${at}, until mm resume`)
  })

  it('a live ledger that does not parse: mm quote refuses at start naming the field (its totals were dropped without a word and the file overwritten)', async () => {
    const S = join(tmp, 'ledger')
    // a live run's ledger after 20 fills (0.136 of fees, 0.0026 realised), its last counted trade id edited by hand
    const ledger = {net: 40, cost: '13599970000000000000', realised: '260000000000', fees: '0.1360043', makerFees: '0.1360043', takerFees: '0', funding: '0', fills: 20, makerFills: 20, volume: 200, notional: '68000086', lastFillTs: 1796168437000, venueRealised: '0.0026', lastTradeId: 'abc'}
    const p = handMade(S, (s) => {
      s.dryRun = false
      s.position = {...s.position, net: '0.040', realised: '0.0026', fees: '0.1360043', total: '-0.1334043', fills: 20, ledger: ledger as unknown as StateFile['position']['ledger']}
      s.counters.fills = 20
    })
    const text = readFileSync(p, 'utf8')
    const q = await runCli(['quote', '--symbol', 'ETHUSDC', '--rest-url', rest, '--ws-url', ws, '--state-dir', S, '--duration', '1s'], {env: {MM_API_KEY: TEST_KEY, MM_API_SECRET: TEST_SECRET}})
    expect(q.code, q.stderr).toBe(2)
    expect(q.stderr.split('\n')[0]).toBe(`mm quote: state file ${p} is corrupt: position.ledger.lastTradeId "abc" is not a trade id: a live restart carries its totals on (realised PnL, fees, fills)`)
    expect(q.stderr).not.toMatch(/\n\s+at /)
    expect(readFileSync(p, 'utf8')).toBe(text)
    // status names it too (the others of the state dir would still be shown)
    const st = await runCli(['status', '--symbol', 'ETHUSDC', '--state-dir', S])
    expect(st.code).toBe(2)
    expect(st.stderr.split('\n')[0]).toBe(`mm status: state file ${p} is corrupt: position.ledger.lastTradeId "abc" is not a trade id: a live restart carries its totals on (realised PnL, fees, fills)`)
  })

  it("another symbol's state.json (a copied folder) is refused, not carried over (its halt, counters and day PnL were)", async () => {
    const S = join(tmp, 'other')
    const p = handMade(S, (s) => {
      s.symbol = 'BTCUSDT'
      s.halt = {kind: 'daily_loss', reason: 'BTC lost', by: 'mm quote', at: '2026-12-01T00:00:00.000Z', until: null, flatten: false}
    })
    for (const args of [quoteArgs(S, ['--duration', '1s']), ['status', '--symbol', 'ETHUSDC', '--state-dir', S], ['resume', '--symbol', 'ETHUSDC', '--state-dir', S]]) {
      const r = await runCli(args)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr.split('\n')[0]).toBe(`mm ${args[0]}: state file ${p} is BTCUSDT's, not ETHUSDC's`)
    }
    // every symbol of the state dir: the others are shown, this one as unreadable, exit 3 (partly done); --check: unhealthy, exit 1
    const other = join(S, 'BTCUSDT')
    mkdirSync(other, {recursive: true})
    const fine = emptyState('BTCUSDT', true, '2026-12-01T00:00:00.000Z')
    writeFileSync(join(other, 'state.json'), JSON.stringify(fine, null, 2))
    const all = await runCli(['status', '--state-dir', S])
    expect(all.code).toBe(3)
    expect(all.stdout.split('\n').filter((l) => l.startsWith('ETHUSDC') || l.includes('BTCUSDT (dry-run)'))).toEqual([expect.stringContaining('BTCUSDT (dry-run)'), `ETHUSDC: state file ${p} is BTCUSDT's, not ETHUSDC's`])
    const j = JSON.parse((await runCli(['status', '--state-dir', S, '--json'])).stdout)
    expect(j.data.symbols.map((x: {symbol: string; healthy: boolean; error?: {code: string}}) => [x.symbol, x.healthy, x.error?.code ?? null])).toEqual([['BTCUSDT', true, null], ['ETHUSDC', false, 'E_STATE_SYMBOL']])
    expect((await runCli(['status', '--check', '--state-dir', S])).code).toBe(1)
    // halt, an emergency stop, still goes to the venue (here without keys): exit 3, the file untouched
    const h = await runCli(['halt', '--symbol', 'ETHUSDC', '--state-dir', S], {env: {MM_API_KEY: undefined, MM_API_SECRET: undefined}})
    expect(h.code).toBe(3)
    expect(h.stderr.split('\n')[0]).toBe(`note: state file ${p} is BTCUSDT's, not ETHUSDC's: the halt is not recorded (mm quote refuses to start on this file until it is mended or moved aside)`)
    expect(JSON.parse(readFileSync(p, 'utf8')).symbol).toBe('BTCUSDT')
  })
})

describe('a state dir on a full disk', () => {
  it('mm quote refuses at start naming the lock it cannot write, exit 1, and leaves no empty lock (it said "mm quote: EFBIG: file too large, write")', async () => {
    const S = join(tmp, 'full')
    // ulimit -f 0: every write to a file fails (EFBIG, as ENOSPC on a full disk; node ignores SIGXFSZ); stdout and stderr are pipes
    const child = spawn('sh', ['-c', 'ulimit -f 0; exec "$0" "$@"', process.execPath, BIN, ...quoteArgs(S, ['--duration', '1s'])], {stdio: ['ignore', 'pipe', 'pipe']})
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)))
    expect(code).toBe(1)
    expect(err.split('\n')[0]).toBe(`mm quote: cannot write the lock ${join(S, 'ETHUSDC', 'lock')}: EFBIG: file too large, write`)
    expect(existsSync(join(S, 'ETHUSDC', 'lock'))).toBe(false)
  })
})

describe('mm halt while a live mm quote starts up (its lock taken, its state not yet written)', () => {
  it('waits for the quote to apply it: exit 0 via the quote, no order placed (it said "holds the lock but does not answer", exit 3)', async () => {
    // every REST answer 1 s late: the quote's start (exchangeInfo, account, cancels, …) takes seconds
    const slow = spawnCli(['sim', '--synthetic', '--seed', '9', '--symbol', 'ETHUSDC', '--port', '0', '--json', '--latency', '1s'])
    const m = await slow.waitFor(/"restUrl":"(http:[^"]+)","wsUrl":"(ws:[^"]+)"/)
    const S = join(tmp, 'starting')
    const env = {MM_API_KEY: TEST_KEY, MM_API_SECRET: TEST_SECRET}
    const q = spawnCli(['quote', '--symbol', 'ETHUSDC', '--rest-url', m[1], '--ws-url', m[2], '--state-dir', S, '--instance', 'strt'], {env})
    try {
      const lock = join(S, 'ETHUSDC', 'lock')
      for (let i = 0; i < 3000 && !existsSync(lock) && q.child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 10))
      expect(existsSync(lock), q.stderr()).toBe(true)
      const h = await runCli(['halt', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', m[1], '--reason', 'deploy', '--wait', '60s', '--json'], {env})
      expect(h.code, h.stderr).toBe(0)
      const hj = JSON.parse(h.stdout).data
      expect(hj).toMatchObject({via: 'quote', halt: {kind: 'manual', reason: 'deploy'}, ack: {result: 'applied'}, ordersLeft: [], exitCode: 0})
      expect(hj.notes).toEqual([])
      await q.waitFor(/halt from \S+: deploy/, 'stderr')
    } finally {
      q.child.kill('SIGTERM')
      await q.exited
      slow.child.kill('SIGTERM')
      await slow.exited
    }
    const runDir = join(S, 'runs', readdirSync(join(S, 'runs'))[0])
    const placed = readFileSync(join(runDir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"type":"order"') && l.includes('"action":"place"'))
    expect(placed).toEqual([])
  })
})

describe('state writes that fail while mm quote runs (a full or read-only disk)', () => {
  it('two failed writes in a row halt quoting: orders cancelled, the halt said and logged; the run ends cleanly on SIGTERM', async () => {
    const S = join(tmp, 'writes-fail')
    const q = spawnCli(quoteArgs(S))
    try {
      // quoting: state.json written, the first paper order placed
      await q.waitFor(/market data in sync/, 'stderr')
      const p = join(S, 'ETHUSDC', 'state.json')
      for (let i = 0; i < 3000 && !existsSync(p); i++) await new Promise((r) => setTimeout(r, 10))
      expect(existsSync(p)).toBe(true)
      // from now on no state write can land: state.json is replaced by a folder that is not
      // empty (the rename fails); a write landing between the removal and the mkdir is removed again
      let replaced = false
      for (let i = 0; i < 100 && !replaced; i++) {
        try {
          rmSync(p, {force: true})
          mkdirSync(join(p, 'x'), {recursive: true})
          replaced = true
        } catch {
          // state.json written again meanwhile: once more
        }
      }
      expect(replaced).toBe(true)
      await q.waitFor(/quoting halted: 2 state writes in a row failed/, 'stderr')
    } finally {
      q.child.kill('SIGTERM')
      await q.exited
    }
    const runDir = join(S, 'runs', readdirSync(join(S, 'runs'))[0])
    type Ev = {type: string; kind?: string; to?: string; action?: string; clientOrderId?: string; values?: {by?: string; why?: string; until?: unknown}}
    const events = readFileSync(join(runDir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Ev)
    const at = events.findIndex((e) => e.type === 'risk_event' && e.kind === 'halt')
    expect(at).toBeGreaterThan(0)
    const h = events[at]
    expect([h.to, h.values?.by, h.values?.until, h.values?.why?.startsWith(`state_write_failed: cannot write state file ${join(S, 'ETHUSDC', 'state.json')}: EISDIR`)]).toEqual(['halted', 'mm (state writes failing)', null, true])
    // every order placed before the halt and not cancelled yet is cancelled right after it, and none placed since
    const open = new Set<string>()
    for (const e of events.slice(0, at)) if (e.type === 'order') e.action === 'place' ? open.add(e.clientOrderId as string) : open.delete(e.clientOrderId as string)
    expect(open.size).toBeGreaterThan(0)
    const after = events.slice(at).filter((e) => e.type === 'order')
    expect(after.filter((e) => e.action === 'place')).toEqual([])
    expect(new Set(after.filter((e) => e.action === 'cancel').map((e) => e.clientOrderId))).toEqual(open)
    expect(q.stderr()).toContain(`cannot write state file ${join(S, 'ETHUSDC', 'state.json')}`)
  })
})
