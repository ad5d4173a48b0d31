/**
 * Live `mm quote` (no --dry-run) against `mm sim`, both through bin/run.js: start a sim
 * with any flags, run or spawn a live quote with the documented test keys, read the sim's
 * introspection (`GET /__mm/state`) and the quote's state.json.
 */
import {closeSync, openSync, readFileSync, readSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {type CliRun, spawnCli} from './cli.js'
import {TEST_KEY, TEST_SECRET} from './sim-cli.js'

export const LIVE_ENV = {MM_API_KEY: TEST_KEY, MM_API_SECRET: TEST_SECRET}

export interface LiveSim {
  run: CliRun
  restUrl: string
  wsUrl: string
  /** GET /__mm/state; `books: true` leaves the request list out (`?requests=0`) */
  state(o?: {books?: boolean}): Promise<SimState>
  stop(): Promise<number | null>
}

export interface SimOrder {clientOrderId: string; status: string; side: string; price: string; origQty: string; executedQty: string; orderId: number}
export interface SimTrade {id: number; orderId: number; side: string; price: string; qty: string; commission: string; realizedPnl: string; time: number}
export interface SimLedgerRow {symbol: string; positionAmt: string; entryPrice: string; realisedPnl: string; fees: string; funding: string}
export interface SimRequest {seq: number; time: number; method: string; path: string; params: Record<string, string>; status: number; code?: number; lost?: boolean; signature?: string}
export interface SimState {orders: SimOrder[]; trades: SimTrade[]; ledger: SimLedgerRow[]; requests: SimRequest[]; positions: Array<{symbol?: string; positionAmt: string}>}

/** `mm sim --port 0 --json …` (no default source: pass --synthetic/--seed or --replay) */
export async function startLiveSim(args: string[]): Promise<LiveSim> {
  const run = spawnCli(['sim', '--port', '0', '--json', ...args], {env: {MM_API_KEY: undefined, MM_API_SECRET: undefined}})
  const [line] = await run.waitFor(/^\{.*"restUrl".*\}$/m, 'stdout', 60_000)
  const j = JSON.parse(line) as {restUrl: string; wsUrl: string}
  return {
    run,
    restUrl: j.restUrl,
    wsUrl: j.wsUrl,
    async state(o = {}) {
      const r = await fetch(`${j.restUrl}/__mm/state${o.books ? '?requests=0' : ''}`)
      return (await r.json()) as SimState
    },
    async stop() {
      if (run.child.exitCode === null) run.child.kill('SIGTERM')
      const {code} = await run.exited
      return code
    },
  }
}

export function quoteArgs(sim: LiveSim, stateDir: string, extra: string[] = []): string[] {
  return ['quote', '--symbol', 'ETHUSDC', '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', stateDir, ...extra]
}

export function spawnQuote(sim: LiveSim, stateDir: string, extra: string[] = []): CliRun {
  return spawnCli(quoteArgs(sim, stateDir, extra), {env: LIVE_ENV})
}

export function writeConfig(dir: string, name: string, cfg: unknown): string {
  const p = join(dir, name)
  writeFileSync(p, JSON.stringify(cfg))
  return p
}

export interface StateJson {
  position: {net: string; avgCost: string | null; realised: string; realisedCheck?: {own: string; diff: string}; fees: string; fills: number}
  orders: Record<string, {status: string}>
  process: {running: boolean; runId: string | null} | null
}

export function readState(stateDir: string, symbol = 'ETHUSDC'): StateJson {
  return JSON.parse(readFileSync(join(stateDir, symbol, 'state.json'), 'utf8')) as StateJson
}

/** a decimal string without trailing zeros (no float on the way): "0.010" → "0.01", "-0.000" → "0" */
export function canon(s: string): string {
  let t = s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s
  if (/^-?0$/.test(t)) t = '0'
  return t
}

/** is this client id one of mm's (instance `inst`) */
export const ours = (inst: string) => (id: string) => id.startsWith(`mm-${inst}`)

export const isOpen = (o: SimOrder) => o.status === 'NEW' || o.status === 'PARTIALLY_FILLED'

/** wait (bounded, polling) until `cond` yields a value other than undefined/false */
export async function waitFor<T>(cond: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs: number, stepMs = 50): Promise<T> {
  const rounds = Math.ceil(timeoutMs / stepMs)
  for (let i = 0; i <= rounds; i++) {
    const v = await cond()
    if (v !== undefined && v !== false) return v as T
    await new Promise((r) => setTimeout(r, stepMs))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

/** a --request-log file read as it grows: `read()` gives the records appended since the last read, `all` every one */
export class RequestLogTail {
  readonly all: SimRequest[] = []
  private offset = 0
  constructor(private readonly path: string) {}
  read(): SimRequest[] {
    const size = statSync(this.path).size
    if (size <= this.offset) return []
    const fd = openSync(this.path, 'r')
    const buf = Buffer.alloc(size - this.offset)
    readSync(fd, buf, 0, buf.length, this.offset)
    closeSync(fd)
    const end = buf.lastIndexOf(10)
    if (end < 0) return []
    this.offset += end + 1
    const recs = buf.subarray(0, end).toString('utf8').split('\n').map((l) => JSON.parse(l) as SimRequest)
    this.all.push(...recs)
    return recs
  }
}
