/**
 * Start `mm sim` as a child process (`node bin/run.js sim --port 0 --json …`), read the
 * URLs from its first line, and sign requests with the documented test pair.
 */
import {createHmac} from 'node:crypto'
import {type CliRun, spawnCli} from './cli.js'

export const TEST_KEY = 'dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83'
export const TEST_SECRET = '2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9'

export interface SimProc {
  run: CliRun
  restUrl: string
  wsUrl: string
  stop(): Promise<number | null>
}

export async function startSim(args: string[] = [], env: Record<string, string | undefined> = {}): Promise<SimProc> {
  const run = spawnCli(['sim', '--synthetic', '--seed', '7', '--port', '0', '--json', ...args], {env: {MM_API_KEY: undefined, MM_API_SECRET: undefined, ...env}})
  const [line] = await run.waitFor(/^\{.*"restUrl".*\}$/m)
  const j = JSON.parse(line) as {restUrl: string; wsUrl: string}
  return {
    run,
    restUrl: j.restUrl,
    wsUrl: j.wsUrl,
    async stop() {
      if (run.child.exitCode === null) run.child.kill('SIGTERM')
      const {code} = await run.exited
      return code
    },
  }
}

export interface Answer {
  status: number
  headers: Headers
  body: any
}

/** A signed REST call (HMAC over the query string), as a Binance client makes it. */
export async function signed(base: string, method: string, path: string, params: Record<string, string>, opts: {key?: string; secret?: string; timestamp?: number} = {}): Promise<Answer> {
  const q = new URLSearchParams({...params, timestamp: String(opts.timestamp ?? Date.now())}).toString()
  const sig = createHmac('sha256', opts.secret ?? TEST_SECRET).update(q).digest('hex')
  const r = await fetch(`${base}${path}?${q}&signature=${sig}`, {method, headers: {'X-MBX-APIKEY': opts.key ?? TEST_KEY}})
  return {status: r.status, headers: r.headers, body: await r.json()}
}

export async function getJson(base: string, path: string): Promise<Answer> {
  const r = await fetch(`${base}${path}`)
  return {status: r.status, headers: r.headers, body: await r.json()}
}

/** prices around the sim's current book, `ticks` away from the touch (tick 0.01) */
export async function farPrices(base: string, ticks: number): Promise<{bidBelow: string; askAbove: string; bidAboveAsk: string; askBelowBid: string}> {
  const {body} = await getJson(base, '/fapi/v1/depth?symbol=ETHUSDC&limit=5')
  const bid = Math.round(Number(body.bids[0][0]) * 100)
  const ask = Math.round(Number(body.asks[0][0]) * 100)
  const f = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`
  return {bidBelow: f(bid - ticks), askAbove: f(ask + ticks), bidAboveAsk: f(ask + ticks), askBelowBid: f(bid - ticks)}
}

/** wait (bounded) until `cond()` returns a value */
// 30 s: what is waited on comes within a second or two here; a loaded CI machine can be several times slower
export async function until<T>(cond: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await cond()
    if (v !== undefined && v !== false) return v as T
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
