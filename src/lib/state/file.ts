/**
 * state.json: one file per symbol under the state dir, owned by the running `mm quote`
 * (or, when none runs, by the operator command holding the lock). Written atomically:
 * a temp file beside it, fsync, rename over the old one, fsync the directory — a reader
 * or a crash sees the old file or the new one, never a torn one. A file that does not
 * parse, or that carries a newer schema than this build knows, is an error naming the
 * file, and it is never overwritten.
 */
import {closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import {open} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {MmError} from '../domain/errors.js'
import {ledgerProblem} from '../orders/ledger-check.js'
import {pidAlive} from './lock.js'

export const STATE_SCHEMA = 1

/** Env var of the SIGKILL test: `N` → the Nth write of this process stops itself (SIGSTOP) after the temp file is written, before the rename. */
export const WRITE_HOOK_ENV = 'MM_TEST_STATE_STOP_AT_WRITE'

export type HaltKind = 'manual' | 'stop_loss' | 'shock' | 'daily_loss' | 'storm'

export interface StateHalt {
  kind: HaltKind
  /** the operator's --reason, or what tripped an automatic halt */
  reason: string
  /** who: user@host of the command, or 'mm quote' for automatic halts */
  by: string
  /** ISO time the halt began */
  at: string
  /** ISO time it ends by itself; null = until `mm resume` */
  until: string | null
  /** the position is being closed (stop-loss, `mm flatten`) */
  flatten: boolean
  flattened?: boolean
}

export interface StateOrder {
  side: 'BUY' | 'SELL'
  price: string
  qty: string
  filled: string
  status: string
  tif: string
  reduceOnly: boolean
  layer: string
  /** ISO time sent */
  sentAt: string
}

export interface StateAck {
  id: string
  kind: 'halt' | 'resume' | 'flatten'
  /** ISO time the quote applied (or refused) it */
  at: string
  result: 'applied' | 'refused'
  message: string
}

export interface FlattenRound {
  round: number
  clientOrderId: string
  side: 'BUY' | 'SELL'
  price: string
  qty: string
  filled: string
  /** 'open' | 'filled' | 'expired' | 'canceled' | 'rejected' | 'unknown' (mm flatten's own IOC got no answer: it may have filled) */
  status: string
  /** the book mid when the order was sent (null without one) */
  mid: string | null
  /** VWAP of the fills vs that mid (fraction, positive = worse than mid), null before a fill */
  slippage: string | null
  /** a 'rejected' order refused by PERCENT_PRICE (mm flatten goes on): Binance's code (-4024 / -4016) and message */
  code?: number
  reason?: string
}

export interface StateFile {
  schema: number
  symbol: string
  /** dry-run marker: the position and orders are paper ones */
  dryRun: boolean
  updatedAt: string
  instrument: {tickSize: string; stepSize: string; minQty: string; minNotional: string} | null
  /** the `mm quote` that owns (or owned) this file */
  process: {
    pid: number
    host: string
    startedAt: string
    /** ISO time of the last write while running (at least once a second) */
    heartbeat: string
    running: boolean
    runId: string | null
    runDir: string | null
    /** live: the instance name in the client ids (`mm-<instance><nonce>-…`) */
    instance?: string
    /** live: the run id in this run's client ids (`mm-<clientRunId>-…`); a restart reads back the fills of that run's orders its state missed */
    clientRunId?: string
    endedAt?: string
    endReason?: string
  } | null
  position: {
    net: string
    avgCost: string | null
    /** live, when `avgCost` is the venue's entry price: the client's own figure */
    avgCostOwn?: string
    /** the mark: the local book's mid at the last write (null before a whole book) */
    mark: string | null
    realised: string
    /**
     * live: `realised` is the venue's figure (Σ of each trade's realised profit as the
     * venue reported it); this is the client's own computation of it and own − venue
     */
    realisedCheck?: {own: string; diff: string}
    unrealised: string
    fees: string
    funding: string
    total: string
    fills: number
    /** the exact ledger (cost units as decimal strings), for restarts */
    ledger: Record<string, unknown> | null
  }
  /** working orders by client order id */
  orders: Record<string, StateOrder>
  risk: {
    mode: string
    reduceOnly: boolean
    pause: string | null
    counters: Record<string, number>
    /** §4.6 daily loss: the UTC day counted (ISO of its 00:00), its PnL so far (quote currency) and the same in cost units (a restart the same day carries it on) */
    day?: {start: string; startMs: number; pnl: string; pnlUnits: string; baseUnits?: string} | null
    /**
     * Written by a dry-run only: the live runs' day it found (as `day`, on this file's tick
     * and step), kept apart from its own paper day, so that a live run after it carries the
     * real day's PnL, not the paper one
     */
    liveDay?: {start: string; startMs: number; pnl: string; pnlUnits: string} | null
    /** §4.6 liquidation price closer to the mark than risk.minLiquidationDistancePct */
    liquidationNear?: boolean
    /** live: the venue's pace at the last decision (the rate governor: 'normal', 'slow' on an error storm or near a limit, 'paused', 'stopped') */
    pace?: string
  }
  halt: StateHalt | null
  counters: {writes: number; orders: number; cancels: number; fills: number; rejects: number; controlRequests: number}
  control: {acks: StateAck[]}
  flatten: {requestId: string | null; maxSlippagePct: number; rounds: FlattenRound[]} | null
}

/** a running quote's answer to `mm resume` when nothing is halted (the ack is `applied`: nothing to refuse) */
export const ACK_NOT_HALTED = 'not halted: nothing to resume'

export function emptyState(symbol: string, dryRun: boolean, nowIso: string): StateFile {
  return {
    schema: STATE_SCHEMA,
    symbol,
    dryRun,
    updatedAt: nowIso,
    instrument: null,
    process: null,
    position: {net: '0', avgCost: null, mark: null, realised: '0', unrealised: '0', fees: '0', funding: '0', total: '0', fills: 0, ledger: null},
    orders: {},
    risk: {mode: 'normal', reduceOnly: false, pause: null, counters: {}},
    halt: null,
    counters: {writes: 0, orders: 0, cancels: 0, fills: 0, rejects: 0, controlRequests: 0},
    control: {acks: []},
    flatten: null,
  }
}

/** The state file cannot be used: exit 2 (a bad input file), naming it; it is left as it is. */
export class StateFileError extends MmError {
  constructor(code: string, message: string, suggestion: string) {
    super(code, message, {exitCode: 2, suggestion})
  }
}

const DECIMAL = /^-?\d+(\.\d+)?$/
const HALT_KINDS: readonly string[] = ['manual', 'stop_loss', 'shock', 'daily_loss', 'storm']

/**
 * The first value a reader would use that is not what mm writes (a hand edit: a bad
 * number, a time that does not parse), as `field "value" is not …`; null when all are sound.
 * Fields an older mm did not write may be absent.
 */
function badField(s: StateFile): string | null {
  const show = (v: unknown) => JSON.stringify(v) ?? String(v)
  const p = s.position as unknown as Record<string, unknown>
  if (typeof p.net !== 'string' || !DECIMAL.test(p.net)) return `position.net ${show(p.net)} is not a decimal number`
  for (const k of ['realised', 'unrealised', 'fees', 'funding', 'total', 'avgCost', 'mark']) {
    const v = p[k]
    if (v !== undefined && v !== null && !(typeof v === 'string' && DECIMAL.test(v))) return `position.${k} ${show(v)} is not a decimal number`
  }
  // the operator's acknowledgements: a quote appends to the list (a string there had the next
  // one written after its characters, and mm halt/resume waited on an ack it could not find)
  const c = (s as {control?: unknown}).control
  if (c !== undefined && c !== null) {
    const acks = (c as {acks?: unknown}).acks
    if (typeof c !== 'object' || Array.isArray(c) || (acks !== undefined && !Array.isArray(acks))) return `control ${show(c)} is not {"acks": [...]}`
    const bad = (acks ?? []).find((a: unknown) => typeof a !== 'object' || a === null || typeof (a as StateAck).id !== 'string')
    if (bad !== undefined) return `control.acks holds ${show(bad)}, which is not an acknowledgement (no id)`
  }
  // live, the ledger's running totals are what a restart carries on: one that does not parse was dropped silently (realised PnL, fees and fills of every earlier run forgotten, and overwritten by the next write)
  if (s.dryRun !== true && p.ledger !== undefined && p.ledger !== null) {
    const why = ledgerProblem(p.ledger, 'position.ledger')
    if (why !== null) return `${why}: a live restart carries its totals on (realised PnL, fees, fills)`
  }
  for (const [k, v] of Object.entries(s.counters as Record<string, unknown>)) {
    if (!Number.isSafeInteger(v) || (v as number) < 0) return `counters.${k} ${show(v)} is not a count`
  }
  const h = s.halt as unknown
  if (h !== undefined && h !== null) {
    if (typeof h !== 'object') return `halt ${show(h)} is not a halt`
    const x = h as Record<string, unknown>
    if (typeof x.kind !== 'string' || !HALT_KINDS.includes(x.kind)) return `halt.kind ${show(x.kind)} is not one of ${HALT_KINDS.join(', ')}`
    if (typeof x.at !== 'string' || !Number.isFinite(Date.parse(x.at))) return `halt.at ${show(x.at)} is not a time`
    if (x.until !== null && !(typeof x.until === 'string' && Number.isFinite(Date.parse(x.until)))) return `halt.until ${show(x.until)} is not a time (an ISO time, or null: until mm resume)`
  }
  for (const key of ['day', 'liveDay'] as const) {
    const d = (s.risk as Partial<StateFile['risk']> | undefined)?.[key] as unknown
    if (d === undefined || d === null) continue
    if (typeof d !== 'object' || Array.isArray(d)) return `risk.${key} ${show(d)} is not a day`
    const x = d as Record<string, unknown>
    if (!Number.isSafeInteger(x.startMs)) return `risk.${key}.startMs ${show(x.startMs)} is not a time in ms`
    if (typeof x.pnl !== 'string' || !DECIMAL.test(x.pnl)) return `risk.${key}.pnl ${show(x.pnl)} is not a decimal number`
    // what a restart carries (an older mm did not write it): a bad one dropped the day silently
    if (x.pnlUnits !== undefined && !(typeof x.pnlUnits === 'string' && /^-?\d+$/.test(x.pnlUnits))) return `risk.${key}.pnlUnits ${show(x.pnlUnits)} is not a whole number (cost units)`
    if (x.baseUnits !== undefined && !(typeof x.baseUnits === 'string' && /^-?\d+$/.test(x.baseUnits))) return `risk.${key}.baseUnits ${show(x.baseUnits)} is not a whole number (cost units)`
  }
  return null
}

/**
 * Read a state file; null when there is none. Throws StateFileError for a corrupt or
 * future-version file, one with a value mm would not write (a bad hand edit), or — given
 * `symbol` — one of another symbol (a copied folder).
 */
export function readStateFile(path: string, symbol?: string): StateFile | null {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new StateFileError('E_STATE_READ', `cannot read state file ${path}: ${(error as Error).message}`, 'check the permissions of the state dir')
  }
  const keep = 'the file is left as it is: inspect it, move it aside (the position and halt it records are then forgotten) and run again'
  let j: unknown
  try {
    j = JSON.parse(text)
  } catch {
    throw new StateFileError('E_STATE_CORRUPT', `state file ${path} is corrupt (not JSON${text.length === 0 ? ': empty' : `, ${text.length} bytes`})`, keep)
  }
  const s = j as Partial<StateFile> | null
  if (s === null || typeof s !== 'object' || Array.isArray(s) || typeof s.schema !== 'number' || !Number.isInteger(s.schema)) {
    throw new StateFileError('E_STATE_CORRUPT', `state file ${path} is corrupt (no schema version)`, keep)
  }
  if (s.schema > STATE_SCHEMA) {
    throw new StateFileError('E_STATE_VERSION', `state file ${path} has schema version ${s.schema}; this mm reads up to ${STATE_SCHEMA}`, 'a newer mm wrote it: use that version (the file is left as it is)')
  }
  if (s.schema < 1) {
    // was 'missing symbol, position, orders or counters', which such a file may well have
    throw new StateFileError('E_STATE_CORRUPT', `state file ${path} is corrupt (schema version ${s.schema}: mm writes 1 up to ${STATE_SCHEMA})`, keep)
  }
  if (typeof s.symbol !== 'string' || typeof s.position !== 'object' || s.position === null || typeof s.orders !== 'object' || s.orders === null || typeof s.counters !== 'object' || s.counters === null) {
    throw new StateFileError('E_STATE_CORRUPT', `state file ${path} is corrupt (missing symbol, position, orders or counters)`, keep)
  }
  if (symbol !== undefined && s.symbol.toUpperCase() !== symbol.toUpperCase()) {
    throw new StateFileError('E_STATE_SYMBOL', `state file ${path} is ${s.symbol}'s, not ${symbol.toUpperCase()}'s`, `the file is left as it is: a folder copied from another symbol? move it aside (or back under ${s.symbol}) and run again`)
  }
  const bad = badField(s as StateFile)
  if (bad !== null) throw new StateFileError('E_STATE_CORRUPT', `state file ${path} is corrupt: ${bad}`, 'the file is left as it is: correct the value (or move the file aside: the position and halt it records are then forgotten) and run again')
  return s as StateFile
}

let writesThisProcess = 0

/** A state write that failed (a full or read-only disk): names the file; its temp file is removed. */
function writeFailed(path: string, tmp: string, error: unknown): MmError {
  try {
    unlinkSync(tmp)
  } catch {
    // never made, or gone
  }
  return new MmError('E_STATE_WRITE', `cannot write state file ${path}: ${(error as Error).message}`, {exitCode: 1, suggestion: 'free space on its disk, or check that the state dir is writable; the file keeps its last whole write'})
}

/** Write `state` to `path` whole or not at all (temp file, fsync, rename, fsync dir). */
export function writeStateFile(path: string, state: StateFile): void {
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}`)
  const text = JSON.stringify(state, null, 2) + '\n'
  try {
    const fd = openSync(tmp, 'w', 0o600)
    try {
      writeSync(fd, text)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch (error) {
    throw writeFailed(path, tmp, error)
  }
  countWriteAndHook(tmp)
  try {
    renameSync(tmp, path)
  } catch (error) {
    throw writeFailed(path, tmp, error)
  }
  try {
    const dfd = openSync(dir, 'r')
    try {
      fsyncSync(dfd)
    } finally {
      closeSync(dfd)
    }
  } catch {
    // some file systems refuse fsync on a directory; the rename itself is atomic
  }
}

/** counts a write; the crash tests' hook (env WRITE_HOOK_ENV = N) stops the process before the N-th rename */
function countWriteAndHook(tmp: string): void {
  writesThisProcess++
  const stopAt = process.env[WRITE_HOOK_ENV]
  if (stopAt !== undefined && Number(stopAt) === writesThisProcess) {
    writeSync(2, `state write hook: stopped before rename of ${tmp} (write ${writesThisProcess})\n`)
    process.kill(process.pid, 'SIGSTOP')
  }
}

/**
 * The same write with its slow part off the event loop (the timed writes of a running
 * quote: an fsync takes milliseconds, and a market frame arriving meanwhile would wait):
 * the temp file (`….tmp-<pid>-a`, never the synchronous writer's) is written and fsynced
 * on libuv's thread pool; then, in one synchronous step, `commit()` is asked and the temp
 * file renamed over `path` — or removed when `commit()` says no (a newer state was written
 * meanwhile, or the keeper closed). The state is serialised at the call. Resolves to
 * whether it was renamed.
 */
export async function writeStateFileAsync(path: string, state: StateFile, commit: () => boolean): Promise<boolean> {
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-a`)
  const text = JSON.stringify(state, null, 2) + '\n'
  try {
    const fh = await open(tmp, 'w', 0o600)
    try {
      await fh.writeFile(text)
      await fh.sync()
    } finally {
      await fh.close()
    }
  } catch (error) {
    throw writeFailed(path, tmp, error)
  }
  if (!commit()) {
    try {
      unlinkSync(tmp)
    } catch {
      // gone already
    }
    return false
  }
  countWriteAndHook(tmp)
  try {
    renameSync(tmp, path)
  } catch (error) {
    throw writeFailed(path, tmp, error)
  }
  try {
    const dh = await open(dir, 'r')
    try {
      await dh.sync()
    } finally {
      await dh.close()
    }
  } catch {
    // some file systems refuse fsync on a directory; the rename itself is atomic
  }
  return true
}

/** Remove temp files a killed writer left beside the state file (never the state file). */
export function removeStaleTemps(dir: string): number {
  if (!existsSync(dir)) return 0
  let n = 0
  for (const f of readdirSync(dir)) {
    // …and a lock's text a start killed while taking it left (lock.ts): only a dead pid's,
    // another start may be taking the lock right now
    const lockText = /^lock\.new-(\d+)$/.exec(f)
    if (/^\.state\.json\.tmp-\d+(-a)?$/.test(f) || (lockText !== null && Number(lockText[1]) !== process.pid && !pidAlive(Number(lockText[1])))) {
      try {
        unlinkSync(join(dir, f))
        n++
      } catch {
        // gone already
      }
    }
  }
  return n
}
