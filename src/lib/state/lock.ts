/**
 * One writer per symbol and state dir: <state-dir>/<SYMBOL>/lock, created exclusively
 * (O_EXCL) and holding the owner's pid, host and command. `mm quote` holds it for its
 * whole run; `halt`/`resume`/`flatten` hold it briefly when they act themselves. A lock
 * whose pid is dead (same host) is stale: it is taken over, and the caller is told.
 */
import {createHash} from 'node:crypto'
import {closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'
import {MmError, UsageError} from '../domain/errors.js'
import {makeDirs} from '../fs/mkdirs.js'

export interface LockInfo {
  pid: number
  host: string
  command: string
  /** ISO time taken */
  at: string
  /**
   * Linux: the holder's boot (/proc/sys/kernel/random/boot_id) and its process start time
   * (/proc/<pid>/stat, clock ticks since boot). A lock of an earlier boot, or whose pid now
   * runs a process started at another time (the pid was reused: after a reboot, a container
   * restart, or a long uptime), is stale. Absent in older locks and elsewhere: the pid alone decides.
   */
  boot?: string
  start?: string
}

export class LockedError extends MmError {
  constructor(readonly holder: LockInfo, path: string) {
    super('E_LOCKED', `${holder.command === 'quote' ? 'mm quote' : `mm ${holder.command}`} (pid ${holder.pid} on ${holder.host}) holds ${path}`, {
      exitCode: 1,
      suggestion:
        holder.host !== '' && holder.host !== hostname()
          ? `a lock of another host is taken as held: if this state dir was copied from ${holder.host} and no mm there uses it, remove ${path}`
          : holder.command === 'quote'
            ? 'one mm quote per symbol and state dir: stop the other one, or use another --state-dir'
            : 'try again in a moment',
      details: {holder},
    })
  }
}

export function lockPath(symbolDir: string): string {
  return join(symbolDir, 'lock')
}

/**
 * Whether a pid runs (on this host). EPERM = runs under another user. A zombie (Linux
 * /proc state Z or X: exited, not yet reaped by its parent) does not run: kill(pid, 0)
 * still succeeds for it, so an mm quote that had exited under a parent that never reaps
 * (a container's PID 1 without an init) held its lock for good, and `mm status` said it ran.
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const state = processState(pid)
  return state !== 'Z' && state !== 'X'
}

/** "pid (comm) state ppid …" of /proc/<pid>/stat after the comm (which may hold spaces and parentheses), or undefined (no such process, no /proc) */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

/** A process's state letter (/proc/<pid>/stat field 3: R, S, D, Z, X, …), or undefined (no such process, no /proc). */
export function processState(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  return statFields(pid)?.[0]
}

/** This machine's boot id (Linux), or undefined. */
export function bootId(): string | undefined {
  try {
    const id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    return id === '' ? undefined : id
  } catch {
    return undefined
  }
}

/** A process's start time (clock ticks since boot, /proc/<pid>/stat field 22), or undefined (no such process, no /proc). */
export function processStart(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  const start = statFields(pid)?.[19]
  return start !== undefined && /^\d+$/.test(start) ? start : undefined
}

/** The lock's holder, or null when there is no lock file. An unreadable lock file reads as pid 0 (dead). */
export function readLock(symbolDir: string): LockInfo | null {
  let text: string
  try {
    text = readFileSync(lockPath(symbolDir), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
  try {
    const j = JSON.parse(text) as Partial<LockInfo>
    return {pid: Number(j.pid) || 0, host: String(j.host ?? ''), command: String(j.command ?? '?'), at: String(j.at ?? ''), ...(typeof j.boot === 'string' ? {boot: j.boot} : {}), ...(typeof j.start === 'string' ? {start: j.start} : {})}
  } catch {
    return {pid: 0, host: '', command: '?', at: ''}
  }
}

/**
 * The holder is alive: same host and its pid runs (another host's lock is taken as alive) —
 * and, when the lock says which boot and process start it was taken in, the pid's process
 * is that one (not a reuse of the pid since).
 */
export function holderAlive(h: LockInfo): boolean {
  if (h.host !== '' && h.host !== hostname()) return true
  if (h.boot !== undefined) {
    const boot = bootId()
    if (boot !== undefined && boot !== h.boot) return false
  }
  if (h.start !== undefined) {
    const start = processStart(h.pid)
    if (start !== undefined && start !== h.start) return false
  }
  return pidAlive(h.pid)
}

/** this process as a lock holder */
function selfInfo(command: string, nowIso: string): LockInfo {
  const boot = bootId()
  const start = processStart(process.pid)
  return {pid: process.pid, host: hostname(), command, at: nowIso, ...(boot === undefined ? {} : {boot}), ...(start === undefined ? {} : {start})}
}

export interface HeldLock {
  path: string
  info: LockInfo
  /** the stale lock that was taken over, if any */
  tookOver: LockInfo | null
  release(): void
}

/** Take the lock or throw LockedError; a stale lock (dead pid) is taken over. */
export function acquireLock(symbolDir: string, command: string, nowIso: string): HeldLock {
  try {
    makeDirs(symbolDir)
  } catch (error) {
    throw new UsageError('E_STATE_DIR', `cannot create ${symbolDir}: ${(error as Error).message}`, {suggestion: 'pass a writable --state-dir (env MM_STATE_DIR)'})
  }
  const path = lockPath(symbolDir)
  const info = selfInfo(command, nowIso)
  // The lock appears whole: its text goes to a file of this process first, which is then
  // linked as the lock (link(2) fails if one exists, as O_EXCL does). Created empty and
  // written after, it could be read empty in between, which reads as a dead holder's
  // (pid 0): a second start at that moment took it over, and both held it.
  const text = JSON.stringify(info) + '\n'
  const tmp = `${path}.new-${process.pid}`
  try {
    writeFileSync(tmp, text, {mode: 0o600})
  } catch (error) {
    // a full disk: nothing is left behind
    try {
      unlinkSync(tmp)
    } catch {
      // never made
    }
    // a read-only state dir that a live holder took before it became so: held, as before
    const holder = readLock(symbolDir)
    if (holder !== null && holderAlive(holder)) throw new LockedError(holder, path)
    throw new MmError('E_LOCK_WRITE', `cannot write the lock ${path}: ${(error as Error).message}`, {exitCode: 1, suggestion: 'free space on its disk, or check that the state dir is writable'})
  }
  try {
    return takeLock(symbolDir, path, info, text, tmp)
  } finally {
    try {
      unlinkSync(tmp)
    } catch {
      // gone already
    }
  }
}

/** Create `path` whole from `tmp` (or, where the file system has no hard links, exclusively, then written). */
function createLock(path: string, text: string, tmp: string): void {
  try {
    linkSync(tmp, path)
    return
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST' || !(code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS')) throw error
  }
  const fd = openSync(path, 'wx', 0o600)
  try {
    writeSync(fd, text)
  } catch (error) {
    // the empty lock file is not left behind (it would read as a dead holder's)
    closeSync(fd)
    try {
      unlinkSync(path)
    } catch {
      // gone already
    }
    throw new MmError('E_LOCK_WRITE', `cannot write the lock ${path}: ${(error as Error).message}`, {exitCode: 1, suggestion: 'free space on its disk, or check that the state dir is writable'})
  }
  closeSync(fd)
}

function takeLock(symbolDir: string, path: string, info: LockInfo, text: string, tmp: string): HeldLock {
  let tookOver: LockInfo | null = null
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      createLock(path, text, tmp)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = readLock(symbolDir)
      if (holder === null) continue // released meanwhile
      // this very process (not an earlier one that had our pid: a container restart gives the same pid again)
      if (holder.pid === process.pid && holder.host === info.host && holderAlive(holder)) throw new LockedError(holder, path)
      if (holderAlive(holder)) throw new LockedError(holder, path)
      // stale: move it aside (only one of several racers wins the rename), then retry
      const aside = `${path}.stale-${process.pid}`
      try {
        renameSync(path, aside)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue // another process took it over (or let it go) first
        // a read-only state dir: not "held by pid N" (it is dead), and halt still cancels on the venue
        throw new MmError('E_LOCK_WRITE', `cannot take over the stale lock ${path} of pid ${holder.pid} (no longer running): ${(error as Error).message}`, {exitCode: 1, suggestion: 'check that the state dir is writable (a read-only or full disk)'})
      }
      try {
        const moved = JSON.parse(readFileSync(aside, 'utf8') || '{}') as Partial<LockInfo>
        const movedInfo: LockInfo = {pid: Number(moved.pid) || 0, host: String(moved.host ?? ''), command: '', at: '', ...(typeof moved.boot === 'string' ? {boot: moved.boot} : {}), ...(typeof moved.start === 'string' ? {start: moved.start} : {})}
        if ((movedInfo.pid !== holder.pid || movedInfo.start !== holder.start) && holderAlive(movedInfo)) {
          // a racer had taken it over between our read and our rename: give it back
          renameSync(aside, path)
          continue
        }
        unlinkSync(aside)
        tookOver = holder
      } catch {
        // another process took it over first
      }
      continue
    }
    let released = false
    return {
      path,
      info,
      tookOver,
      release() {
        if (released) return
        released = true
        const h = readLock(symbolDir)
        if (h && h.pid === info.pid && h.host === info.host) {
          try {
            unlinkSync(path)
          } catch {
            // already gone
          }
        }
      },
    }
  }
  const h = readLock(symbolDir)
  throw new LockedError(h ?? info, path)
}

/**
 * Host-wide, one live `mm quote` per instance and symbol (SPEC §4.7): a lock under the
 * temp folder (per user), besides the state dir's own. Two quotes of one instance on two
 * state dirs would each take the other's orders for an earlier run's leftovers (cancel
 * them at start) and both go on quoting. The second is refused before it asks the venue
 * anything; a dead holder's lock (SIGKILL) is stale and taken over, so a restart, after a
 * crash or with a lost state dir, still cancels the leftovers of its instance. Returns
 * null when the lock cannot be made (an unwritable temp folder): the caller says so and
 * goes on, unguarded, as before this lock. One per account and venue. Not seen: a twin on another host (another
 * hostname gives another default instance; the same --instance on two hosts is the
 * operator's to avoid) or under another user or TMPDIR.
 */
export function acquireInstanceLock(o: {instance: string; symbol: string; account: string; stateDir: string; nowIso: string}): {lock: HeldLock} | {why: string} {
  const {instance, symbol, stateDir, nowIso} = o
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user'
  // per account and venue (`account`: the REST URL and API key, hashed: never in clear), so
  // the same instance on testnet and production, or on two accounts, are not twins
  const account = createHash('sha256').update(o.account).digest('hex').slice(0, 12)
  const dir = join(tmpdir(), `mm-${uid}-instances`, `${instance}-${symbol.toUpperCase()}-${account}`)
  try {
    return {lock: acquireLock(dir, `quote --state-dir ${stateDir}`, nowIso)}
  } catch (error) {
    if (error instanceof LockedError) {
      const h = error.holder
      throw new MmError('E_OTHER_INSTANCE', `another mm quote of instance ${instance} on ${symbol.toUpperCase()} runs on this host (pid ${h.pid}, mm ${h.command}, since ${h.at}): nothing was sent`, {
        exitCode: 1,
        suggestion: 'stop that quote, or give this one its own --instance',
        details: {holder: h},
      })
    }
    return {why: `cannot check for another quote of instance ${instance} on this host (${(error as Error).message.split('\n')[0]})`}
  }
}
