/**
 * The operator side of the state dir: is a `mm quote` alive for a symbol, leave it a
 * request and wait for its acknowledgement, or act on state.json under the lock when no
 * quote runs. Used by `halt`, `resume`, `flatten` and `status` (kept light: `status`
 * must start fast, so nothing heavy is imported here).
 */
import {wallClock} from '../clock/clock.js'
import {existsSync, readdirSync} from 'node:fs'
import {hostname, userInfo} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {MmError} from '../domain/errors.js'
import {type ControlFileRequest, writeControlRequest} from './control.js'
import {checkSymbol, stateFilePath, symbolDir} from './dir.js'
import {readStateFile, type StateAck, type StateFile} from './file.js'
import {acquireLock, holderAlive, type HeldLock, LockedError, readLock} from './lock.js'

/** A heartbeat older than this means the quote is hung or gone (it writes at least once a second). */
export const DEFAULT_STALE_MS = 5000

export type Liveness =
  /** a quote holds the lock and its heartbeat is fresh: talk to it through the control folder */
  | {kind: 'alive'; pid: number; heartbeatAgeMs: number}
  /** a quote holds the lock (its pid runs) but its heartbeat is stale: hung */
  | {kind: 'hung'; pid: number; heartbeatAgeMs: number | null}
  /** the state says a quote runs, but its process is gone (killed, crashed) */
  | {kind: 'dead'; pid: number; heartbeatAgeMs: number | null}
  /** no quote runs (none ever did, or it stopped cleanly) */
  | {kind: 'none'}

export function operator(): string {
  let user = 'unknown'
  try {
    user = userInfo().username
  } catch {
    // no passwd entry
  }
  return `${user}@${hostname()}`
}

export function liveness(dir: string, state: StateFile | null, nowMs: number, staleMs = DEFAULT_STALE_MS): Liveness {
  const lock = readLock(dir)
  const p = state?.process ?? null
  const age = p ? nowMs - Date.parse(p.heartbeat) : null
  if (lock && lock.command === 'quote' && holderAlive(lock)) {
    if (p && p.running && p.pid === lock.pid && age !== null && age <= staleMs) return {kind: 'alive', pid: lock.pid, heartbeatAgeMs: age}
    return {kind: 'hung', pid: lock.pid, heartbeatAgeMs: p && p.pid === lock.pid ? age : null}
  }
  if (p && p.running) return {kind: 'dead', pid: p.pid, heartbeatAgeMs: age}
  return {kind: 'none'}
}

export interface Target {
  stateDir: string
  symbol: string
  dir: string
  path: string
}

export function target(stateDir: string, symbol: string): Target {
  const s = checkSymbol(symbol)
  return {stateDir, symbol: s, dir: symbolDir(stateDir, s), path: stateFilePath(stateDir, s)}
}

/** Every symbol with a state.json under the state dir. */
export function symbolsIn(stateDir: string): string[] {
  if (!existsSync(stateDir)) return []
  return readdirSync(stateDir)
    .filter((d) => /^[A-Z0-9]{2,30}$/.test(d) && existsSync(join(stateDir, d, 'state.json')))
    .sort()
}

/** Take the lock to act without a quote; waits (bounded) while another operator command holds it. */
export async function lockForCommand(t: Target, command: string, waitMs = 5000): Promise<HeldLock> {
  const until = wallClock.now() + waitMs
  for (let i = 0; ; i++) {
    try {
      return acquireLock(t.dir, command, new Date(wallClock.now()).toISOString())
    } catch (error) {
      if (!(error instanceof LockedError) || error.holder.command === 'quote' || wallClock.now() >= until || i > 1000) throw error
    }
    await sleep(25)
  }
}

/** Leave a request for the running quote and wait (bounded) for its acknowledgement in state.json. */
export async function askQuote(t: Target, req: Omit<ControlFileRequest, 'id' | 'by' | 'at'>, timeoutMs: number): Promise<{request: ControlFileRequest; ack: StateAck | null; state: StateFile | null}> {
  const now = wallClock.now()
  const request = writeControlRequest(t.dir, {...req, by: operator(), at: new Date(now).toISOString()}, now)
  const ack = await waitForState(t, timeoutMs, (s) => s.control?.acks?.find((a) => a.id === request.id) ?? null)
  return {request, ack: ack?.value ?? null, state: ack?.state ?? readStateFile(t.path, t.symbol)}
}

/** Poll state.json (bounded) until `test` returns a value. */
export async function waitForState<T>(t: Target, timeoutMs: number, test: (s: StateFile) => T | null): Promise<{value: T; state: StateFile} | null> {
  const until = wallClock.now() + timeoutMs
  for (let i = 0; i < 100_000; i++) {
    let s: StateFile | null = null
    try {
      s = readStateFile(t.path, t.symbol)
    } catch (error) {
      if (!(error instanceof MmError)) throw error
      throw error
    }
    if (s) {
      const v = test(s)
      if (v !== null) return {value: v, state: s}
    }
    if (wallClock.now() >= until) return null
    await sleep(40)
  }
  return null
}

export function describeLiveness(l: Liveness): string {
  switch (l.kind) {
    case 'alive':
      return `mm quote pid ${l.pid} runs (heartbeat ${Math.round(l.heartbeatAgeMs / 100) / 10} s ago)`
    case 'hung':
      return `mm quote pid ${l.pid} holds the lock but does not answer (heartbeat ${l.heartbeatAgeMs === null ? 'unknown' : `${Math.round(l.heartbeatAgeMs / 1000)} s old`})`
    case 'dead':
      return `mm quote pid ${l.pid} is gone (killed or crashed; last heartbeat ${l.heartbeatAgeMs === null ? 'unknown' : `${Math.round(l.heartbeatAgeMs / 1000)} s ago`})`
    default:
      return 'no mm quote runs'
  }
}
