/**
 * `mm halt` cancelling on the venue itself when no quote answers (issue 9), through the
 * signed gateway against a loopback stub of Binance's order endpoints (the stub checks the
 * API key header and a signature's presence; the gateway's own tests check the signing).
 * Whose orders: state.json's, and every open mm order of the symbol; `--all` every order.
 */
import {createServer, type Server} from 'node:http'
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {formatClientId} from '../../src/lib/orders/client-id.js'
import {emptyState, type StateFile} from '../../src/lib/state/file.js'
import {bootId, processStart} from '../../src/lib/state/lock.js'
import {BIN, ensureBuilt, runCli} from '../support/cli.js'

const tmp = mkdtempSync(join(tmpdir(), 'mm-halt-venue-'))
const KEY = 'stubkey0123456789'
const ENV = {MM_API_KEY: KEY, MM_API_SECRET: 'stubsecret0123456789'}
const A = formatClientId('d1abc', 'dB0', 1)
const B = formatClientId('d1abc', 'dS0', 2)
const C = formatClientId('d0old', 'dB0', 7) // an mm order the state no longer lists
const FOREIGN = 'manual-order-1'

let server: Server
let url = ''
const open = new Map<string, Record<string, unknown>>()
const calls: string[] = []
let failCancels = false

function order(id: string, n: number): Record<string, unknown> {
  return {symbol: 'ETHUSDC', orderId: n, clientOrderId: id, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', status: 'NEW', price: '3000.00', origQty: '0.010', executedQty: '0', avgPrice: '0', reduceOnly: false, updateTime: 1}
}

function reset(): void {
  open.clear()
  ;[A, B, C, FOREIGN].forEach((id, i) => open.set(id, order(id, i + 1)))
  calls.length = 0
  failCancels = false
}

beforeAll(async () => {
  ensureBuilt('halt')
  server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x')
    const send = (status: number, body: unknown) => {
      res.writeHead(status, {'content-type': 'application/json'})
      res.end(JSON.stringify(body))
    }
    calls.push(`${req.method} ${u.pathname}`)
    if (u.pathname === '/fapi/v1/time') return send(200, {serverTime: Date.now()})
    if (req.headers['x-mbx-apikey'] !== KEY || !u.searchParams.get('signature')) return send(401, {code: -2015, msg: 'Invalid API-key, IP, or permissions for action.'})
    if (req.method === 'GET' && u.pathname === '/fapi/v1/openOrders') return send(200, [...open.values()])
    if (req.method === 'DELETE' && u.pathname === '/fapi/v1/order') {
      if (failCancels) return send(400, {code: -1000, msg: 'stub refuses'})
      const id = u.searchParams.get('origClientOrderId') as string
      const o = open.get(id)
      if (!o) return send(400, {code: -2011, msg: 'Unknown order sent.'})
      open.delete(id)
      return send(200, {...o, status: 'CANCELED'})
    }
    if (req.method === 'DELETE' && u.pathname === '/fapi/v1/allOpenOrders') {
      open.clear()
      return send(200, {code: 200, msg: 'The operation of cancel all open order is done.'})
    }
    send(404, {code: -5000, msg: 'no such endpoint'})
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as {port: number}).port}`
})

afterAll(() => new Promise<void>((r) => server.close(() => r())))

/** A live state as a killed quote leaves it: running, pid gone, two working orders. */
function liveState(dir: string): string {
  const s = emptyState('ETHUSDC', false, new Date().toISOString())
  s.instrument = {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}
  s.process = {pid: 999_999, host: 'elsewhere-not-checked', startedAt: s.updatedAt, heartbeat: s.updatedAt, running: false, runId: null, runDir: null}
  const w = {side: 'BUY' as const, price: '3000.00', qty: '0.010', filled: '0.000', status: 'NEW', tif: 'GTX', reduceOnly: false, layer: 'dynamic', sentAt: s.updatedAt}
  s.orders = {[A]: w, [B]: {...w, side: 'SELL'}}
  mkdirSync(join(dir, 'ETHUSDC'), {recursive: true})
  const p = join(dir, 'ETHUSDC', 'state.json')
  writeFileSync(p, JSON.stringify(s))
  return p
}

const read = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as StateFile

describe('mm halt cancels on the venue when no quote answers', () => {
  it("cancels ours (state's and any open mm order), never a foreign one: exit 0", async () => {
    reset()
    const S = join(tmp, 'ours')
    const p = liveState(S)
    const r = await runCli(['halt', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', url, '--json'], {env: ENV})
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout).data
    expect(j).toMatchObject({via: 'self', ordersLeft: [], exitCode: 0})
    expect(j.notes).toContain('cancelled 3 order(s) on the venue')
    expect([...open.keys()]).toEqual([FOREIGN])
    expect(read(p).orders).toEqual({})
    expect(calls.filter((c) => c === 'DELETE /fapi/v1/order').length).toBe(3)
    expect(JSON.stringify(r)).not.toContain(ENV.MM_API_SECRET)
  })

  it('a hung quote on a full disk (its control folder cannot be written): the venue is still cancelled, exit 3, saying the quote is not halted (it was "mm halt: …" exit 1, nothing cancelled)', async () => {
    reset()
    const S = join(tmp, 'hung-full')
    const p = liveState(S)
    // a quote that holds the lock (this test process stands in for it) and has not written for a minute
    const s = read(p)
    const beat = new Date(Date.now() - 60_000).toISOString()
    s.process = {pid: process.pid, host: hostname(), startedAt: beat, heartbeat: beat, running: true, runId: 'r', runDir: join(S, 'runs', 'r')}
    writeFileSync(p, JSON.stringify(s))
    writeFileSync(join(S, 'ETHUSDC', 'lock'), JSON.stringify({pid: process.pid, host: hostname(), command: 'quote', at: beat, boot: bootId(), start: processStart(process.pid)}))
    // where the request would go, something that is not a folder (as a full disk, the request cannot be written)
    writeFileSync(join(S, 'ETHUSDC', 'control'), 'not a folder')
    const r = await runCli(['halt', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', url, '--json'], {env: ENV})
    expect(r.code, r.stderr).toBe(3)
    const j = JSON.parse(r.stdout).data
    expect(j).toMatchObject({via: 'request-left', requestedAt: null, ordersLeft: [], cancelled: 3, exitCode: 3})
    expect(j.notes[0]).toMatch(new RegExp(`^mm quote pid ${process.pid} holds the lock but does not answer \\(heartbeat \\d+ s old\\); cannot leave it the halt request \\(.+\\): it is not halted and may quote again — stop it \\(kill -TERM ${process.pid}\\)$`))
    expect(j.notes[1]).toBe('cancelled 3 order(s) on the venue')
    expect([...open.keys()]).toEqual([FOREIGN])
  })

  it('a quote still alive (fresh heartbeat: the disk filled a moment ago) whose control folder cannot be written: the venue is still cancelled, exit 3 (it was "mm halt: …" exit 1, nothing cancelled)', async () => {
    reset()
    const S = join(tmp, 'alive-full')
    const p = liveState(S)
    const s = read(p)
    const now = new Date().toISOString()
    s.process = {pid: process.pid, host: hostname(), startedAt: now, heartbeat: now, running: true, runId: 'r', runDir: join(S, 'runs', 'r')}
    writeFileSync(p, JSON.stringify(s))
    writeFileSync(join(S, 'ETHUSDC', 'lock'), JSON.stringify({pid: process.pid, host: hostname(), command: 'quote', at: now, boot: bootId(), start: processStart(process.pid)}))
    writeFileSync(join(S, 'ETHUSDC', 'control'), 'not a folder')
    const r = await runCli(['halt', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', url, '--json'], {env: ENV})
    expect(r.code, r.stderr).toBe(3)
    const j = JSON.parse(r.stdout).data
    expect(j).toMatchObject({via: 'request-left', quote: {kind: 'alive', pid: process.pid}, requestedAt: null, ordersLeft: [], cancelled: 3, exitCode: 3})
    expect(j.notes[0]).toMatch(new RegExp(`^mm quote pid ${process.pid} runs \\(heartbeat [\\d.]+ s ago\\); cannot leave it the halt request \\(ENOTDIR: .+\\): it is not halted and may quote again — stop it \\(kill -TERM ${process.pid}\\)$`))
    expect([...open.keys()]).toEqual([FOREIGN])
  })

  it('no quote, and nothing can be written (a full disk; here the file size limit at 0: EFBIG as ENOSPC): the venue is still cancelled, exit 3, saying the halt is not recorded (it was "mm halt: … write" exit 1, nothing cancelled)', async () => {
    reset()
    const S = join(tmp, 'disk-full')
    const p = liveState(S)
    const text = readFileSync(p, 'utf8')
    // ulimit -f 0: every write to a file fails (node ignores SIGXFSZ); stdout and stderr are pipes
    const child = spawn('sh', ['-c', 'ulimit -f 0; exec "$0" "$@"', process.execPath, BIN, 'halt', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', url, '--json'], {env: {...process.env, ...ENV}, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)))
    expect(code, err).toBe(3)
    const j = JSON.parse(out).data
    expect(j).toMatchObject({via: 'self', ordersLeft: [], cancelled: 3, exitCode: 3})
    expect(j.notes).toEqual([`cannot record the halt in ${p} (cannot write the lock ${join(S, 'ETHUSDC', 'lock')}: EFBIG: file too large, write): a quote started now would not be halted`, 'cancelled 3 order(s) on the venue'])
    expect([...open.keys()]).toEqual([FOREIGN])
    expect(readFileSync(p, 'utf8')).toBe(text)
    // the lock file it could not write is not left behind (empty, it would read as a dead holder's)
    expect(existsSync(join(S, 'ETHUSDC', 'lock'))).toBe(false)
  })

  it('a state.json mm cannot read (a bad hand edit): the venue is still cancelled (any mm order of the symbol), exit 3, the file untouched (it was exit 2, nothing cancelled)', async () => {
    reset()
    const S = join(tmp, 'bad-state')
    const p = liveState(S)
    const s = read(p)
    s.position.net = '0.0x1'
    writeFileSync(p, JSON.stringify(s))
    const text = readFileSync(p, 'utf8')
    const r = await runCli(['halt', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', url, '--json'], {env: ENV})
    expect(r.code, r.stderr).toBe(3)
    const j = JSON.parse(r.stdout).data
    expect(j).toMatchObject({via: 'self', halt: null, ordersLeft: [], cancelled: 3, exitCode: 3})
    expect(j.notes).toEqual([`state file ${p} is corrupt: position.net "0.0x1" is not a decimal number: the halt is not recorded (mm quote refuses to start on this file until it is mended or moved aside)`, 'cancelled 3 order(s) on the venue'])
    expect([...open.keys()]).toEqual([FOREIGN])
    expect(readFileSync(p, 'utf8')).toBe(text)
  })

  it('--all cancels every order of the symbol', async () => {
    reset()
    const S = join(tmp, 'all')
    liveState(S)
    const r = await runCli(['halt', '--symbol', 'ETHUSDC', '--all', '--state-dir', S, '--rest-url', url], {env: ENV})
    expect(r.code, r.stderr).toBe(0)
    expect(open.size).toBe(0)
    expect(calls).toContain('DELETE /fapi/v1/allOpenOrders')
  })

  it('without keys: the halt is recorded, the orders cannot be confirmed cancelled: exit 3 naming them', async () => {
    reset()
    const S = join(tmp, 'nokeys')
    const p = liveState(S)
    const r = await runCli(['halt', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', url], {env: {MM_API_KEY: undefined, MM_API_SECRET: undefined}})
    expect(r.code).toBe(3)
    expect(r.stderr).toContain('note: cannot cancel on the venue: no API keys (MM_API_KEY and MM_API_SECRET, or --key-file)')
    expect(r.stdout).toContain(`2 order(s) not confirmed cancelled: ${A}, ${B}`)
    expect(read(p).halt).toMatchObject({kind: 'manual'})
    expect(calls).toEqual([])
  })

  it('a venue refusing the cancels: exit 3, the orders stay listed; a second halt once it answers: exit 0', async () => {
    reset()
    failCancels = true
    const S = join(tmp, 'refused')
    const p = liveState(S)
    const r = await runCli(['halt', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', url], {env: ENV})
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/note: venue: .*stub refuses/)
    expect(Object.keys(read(p).orders).sort()).toEqual([A, B].sort())
    failCancels = false
    const again = await runCli(['halt', '--symbol', 'ETHUSDC', '--state-dir', S, '--rest-url', url], {env: ENV})
    expect(again.code, again.stderr).toBe(0)
    expect([...open.keys()]).toEqual([FOREIGN])
  })
})
