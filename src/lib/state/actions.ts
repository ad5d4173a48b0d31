/**
 * What `mm halt`, `mm resume` and `mm flatten` do, whichever way they reach the symbol:
 * through a running `mm quote` (fresh heartbeat: a control request, acknowledged in
 * state.json), or themselves under the lock when no quote runs. Venue calls (cancel,
 * close) go through `VenueOps`, which needs API keys and the signed gateway; without it
 * they say what could not be done (exit 3) instead of pretending.
 */
import {wallClock} from '../clock/clock.js'
import {PlainDecimal} from '../domain/decimal.js'
import {MmError, PartialError, UsageError} from '../domain/errors.js'
import {DAY_MS} from '../risk/types.js'
import {resumeBlocker} from '../risk/resume.js'
import {ACK_NOT_HALTED, emptyState, type FlattenRound, readStateFile, type StateAck, type StateFile, StateFileError, type StateHalt, writeStateFile} from './file.js'
import {LockedError} from './lock.js'
import {askQuote, describeLiveness, liveness, type Liveness, lockForCommand, operator, type Target, waitForState} from './ops.js'

/** Signed venue calls an operator command may make (API keys needed). */
export interface VenueOps {
  /** cancel our orders (client ids with our prefix), or every order of the symbol with `all`; returns the client ids still open after */
  cancel(symbol: string, opts: {all: boolean; ours: string[]; instance?: string}): Promise<{cancelled: string[]; left: string[]}>
  /** client ids of the symbol's open orders */
  openOrderIds(symbol: string): Promise<string[]>
}

export interface ActionBase {
  stateDir: string
  symbol: string
  stateFile: string
  /** how the command reached the symbol */
  via: 'quote' | 'self' | 'request-left'
  quote: Liveness
  notes: string[]
}

export interface HaltResult extends ActionBase {
  halt: StateHalt | null
  ack: StateAck | null
  /** ISO: when the request was written (via quote) */
  requestedAt: string | null
  /** ISO: the state write that showed no working order (via quote) */
  ordersGoneAt: string | null
  ordersLeft: string[]
  /** orders confirmed cancelled (on the venue by this command, or by the quote it asked) */
  cancelled: number
  /** the venue's open orders were read after the cancels (its word that `ordersLeft` is all that remains) */
  venueChecked?: boolean
  /** false: no state.json here and the venue was not asked (no API keys): whether mm orders work under another state dir is unknown */
  venueAsked?: boolean
  exitCode: 0 | 3
}

/** Under the lock, a quote the state says runs is gone: the operator's halt says it is not expected back (status --check clears). */
function markGone(s: StateFile, command: string): void {
  if (!s.process?.running) return
  s.process = {...s.process, running: false, endedAt: iso(), endReason: `gone (pid ${s.process.pid} found dead by mm ${command})`}
}

function iso(ms = wallClock.now()): string {
  return new Date(ms).toISOString()
}

export interface HaltOptions {
  t: Target
  reason: string
  forMs?: number
  noCancel: boolean
  all: boolean
  waitMs: number
  /** opened only when a cancel on the venue is needed; `why` when there is none (no keys) */
  venue: () => Promise<{ops: VenueOps & {close?(): Promise<void>}} | {why: string}>
}

export async function haltSymbol(o: HaltOptions): Promise<HaltResult> {
  const {t} = o
  const notes: string[] = []
  let state: StateFile | null
  let unreadable: StateFileError | null = null
  try {
    state = readStateFile(t.path, t.symbol)
  } catch (error) {
    if (!(error instanceof StateFileError)) throw error
    // an emergency stop does not wait for the file to be mended: the venue is still cancelled
    unreadable = error
    state = null
  }
  const q = liveness(t.dir, state, wallClock.now())
  const base = {stateDir: t.stateDir, symbol: t.symbol, stateFile: t.path, quote: q, notes}
  const until = o.forMs === undefined ? null : iso(wallClock.now() + o.forMs)
  if (unreadable && q.kind !== 'hung') {
    // no quote can run on it (mm quote refuses the file): cancel any mm order of the symbol (--all: every order); nothing is written
    notes.push(`${unreadable.message}: the halt is not recorded (mm quote refuses to start on this file until it is mended or moved aside)`)
    const {left, cancelled, checked} = await cancelOnVenue(o, null, notes, true)
    return {...base, via: 'self', halt: null, ack: null, requestedAt: null, ordersGoneAt: null, ordersLeft: left, cancelled, venueChecked: checked, exitCode: 3}
  }
  if (q.kind === 'alive') {
    let r: Awaited<ReturnType<typeof askQuote>>
    try {
      r = await askQuote(t, {kind: 'halt', reason: o.reason, until}, o.waitMs)
    } catch (error) {
      if (error instanceof MmError) throw error
      // the request cannot be written (the disk filled a moment ago): the venue is still cancelled
      notes.push(`${describeLiveness(q)}; cannot leave it the halt request (${(error as Error).message}): it is not halted and may quote again — stop it (kill -TERM ${q.pid})`)
      const {left, cancelled, checked} = await cancelOnVenue(o, state, notes)
      return {...base, via: 'request-left', halt: state?.halt ?? null, ack: null, requestedAt: null, ordersGoneAt: null, ordersLeft: left, cancelled, venueChecked: checked, exitCode: 3}
    }
    if (!r.ack) {
      notes.push(`mm quote pid ${q.pid} did not acknowledge within ${o.waitMs / 1000} s; the request waits in the control folder`)
      return {...base, via: 'request-left', halt: r.state?.halt ?? null, ack: null, requestedAt: r.request.at, ordersGoneAt: null, ordersLeft: Object.keys(r.state?.orders ?? {}), cancelled: 0, exitCode: 3}
    }
    return followQuote(r.ack, r.request.at)
  }
  /** the quote acknowledged: wait (bounded) until state.json lists no working order */
  async function followQuote(ack: StateAck, requestedAt: string): Promise<HaltResult> {
    const gone = await waitForState(t, o.waitMs, (s) => (Object.keys(s.orders).length === 0 ? s.updatedAt : null))
    const final = gone?.state ?? readStateFile(t.path, t.symbol)
    const left = Object.keys(final?.orders ?? {})
    if (left.length > 0) notes.push(`${left.length} order(s) not confirmed cancelled within ${o.waitMs / 1000} s`)
    return {...base, via: 'quote', halt: final?.halt ?? null, ack, requestedAt, ordersGoneAt: gone?.value ?? null, ordersLeft: left, cancelled: Object.keys(state?.orders ?? {}).filter((id) => !left.includes(id)).length, exitCode: left.length === 0 ? 0 : 3}
  }
  if (q.kind === 'hung') {
    // the quote may wake up: the request waits for it; the venue is cancelled from here
    const now = wallClock.now()
    const {writeControlRequest} = await import('./control.js')
    let requestedAt: string | null = null
    try {
      const req = writeControlRequest(t.dir, {kind: 'halt', by: operator(), at: iso(now), reason: o.reason, until}, now)
      requestedAt = req.at
      if (unreadable) notes.push(`${unreadable.message}: the halt is not recorded in it`)
      if (q.heartbeatAgeMs === null && !unreadable) {
        // its lock but not yet its state: a quote starting up, which applies the request before its first decision
        const acked = await waitForState(t, o.waitMs, (s) => s.control?.acks?.find((a) => a.id === req.id) ?? null)
        if (acked) return followQuote(acked.value, req.at)
        notes.push(`${describeLiveness(q)}: it did not acknowledge within ${o.waitMs / 1000} s (starting up?); the halt request waits in the control folder`)
      } else notes.push(`${describeLiveness(q)}: the halt request waits in the control folder`)
    } catch (error) {
      if (error instanceof MmError) throw error
      // a full or read-only disk (the quote's own state writes fail too, so its heartbeat is stale): the venue is still cancelled
      notes.push(`${describeLiveness(q)}; cannot leave it the halt request (${(error as Error).message}): it is not halted and may quote again — stop it (kill -TERM ${q.pid})`)
    }
    const {left, cancelled, checked} = await cancelOnVenue(o, state, notes, unreadable !== null)
    return {...base, via: 'request-left', halt: state?.halt ?? null, ack: null, requestedAt, ordersGoneAt: null, ordersLeft: left, cancelled, venueChecked: checked, exitCode: 3}
  }
  if (q.kind === 'dead') notes.push(describeLiveness(q))
  let lock: Awaited<ReturnType<typeof lockForCommand>>
  try {
    lock = await lockForCommand(t, 'halt')
  } catch (error) {
    // held by another, or a state dir that cannot be made (bad input, exit 2: nothing there to act on)
    if (error instanceof LockedError || error instanceof UsageError) throw error
    // the lock cannot be written (a full or read-only disk): the halt cannot be recorded, the venue is still cancelled
    notes.push(`cannot record the halt in ${t.path} (${(error as Error).message}): a quote started now would not be halted`)
    const {left, cancelled, checked} = await cancelOnVenue(o, state, notes)
    return {...base, via: 'self', halt: state?.halt ?? null, ack: null, requestedAt: null, ordersGoneAt: null, ordersLeft: left, cancelled, venueChecked: checked, exitCode: 3}
  }
  try {
    if (lock.tookOver) notes.push(`took over the stale lock of pid ${lock.tookOver.pid} (${lock.tookOver.command})`)
    const found = readStateFile(t.path, t.symbol)
    const s = found ?? emptyState(t.symbol, false, iso())
    const by = operator()
    if (s.halt?.kind === 'stop_loss') {
      notes.push('a stop-loss halt is in force: it stays until mm resume (the manual halt does not replace it)')
    } else {
      s.halt = {kind: 'manual', reason: o.reason, by, at: iso(), until, flatten: s.halt?.flatten ?? false}
    }
    let left: string[]
    let confirmed = true
    let cancelled = 0
    let asked = true
    if (s.dryRun) {
      const n = Object.keys(s.orders).length
      if (n > 0) notes.push(`dry-run state: its ${n} paper order(s) ended with the quote process`)
      s.orders = {}
      left = []
    } else if (found === null && !o.all && !o.noCancel) {
      // no state.json here: this state dir knows no quote (a mistyped --state-dir, another user's
      // MM_STATE_DIR): a quote quoting under another one is not reached by this halt. The venue
      // says whether mm orders work; they are named and left (exit 3), as flatten leaves them
      ;({left, confirmed, asked} = await otherInstanceOrders(o, notes))
    } else {
      ;({left, confirmed, cancelled} = await cancelOnVenue(o, s, notes))
      s.orders = Object.fromEntries(Object.entries(s.orders).filter(([id]) => left.includes(id)))
    }
    markGone(s, 'halt')
    s.updatedAt = iso()
    s.counters = {...s.counters, writes: (s.counters.writes ?? 0) + 1}
    writeStateFile(t.path, s)
    return {...base, via: 'self', halt: s.halt, ack: null, requestedAt: null, ordersGoneAt: left.length === 0 ? s.updatedAt : null, ordersLeft: left, cancelled, ...(asked ? {} : {venueAsked: false}), exitCode: (left.length > 0 || !confirmed) && !o.noCancel ? 3 : 0}
  } finally {
    lock.release()
  }
}

/** No state.json in the state dir: the mm orders working on the venue (another instance's: not ours to cancel), named in a note. */
async function otherInstanceOrders(o: HaltOptions, notes: string[]): Promise<{left: string[]; confirmed: boolean; asked: boolean}> {
  const where = `no state.json in ${o.t.stateDir} before this halt: no quote of this state dir is known`
  const v = await o.venue()
  if ('why' in v) {
    notes.push(`${where}; a quote running under another --state-dir (or MM_STATE_DIR, user, host) is not reached, and the venue was not asked: ${v.why}`)
    return {left: [], confirmed: true, asked: false}
  }
  try {
    const {isOwnClientId} = await import('../orders/client-id.js')
    const ids = (await v.ops.openOrderIds(o.t.symbol)).filter((id) => isOwnClientId(id))
    if (ids.length > 0) notes.push(`${where}, and ${ids.length} mm order(s) are working on the venue (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}): another mm instance looks live and this halt does not reach it; nothing was cancelled — pass that quote's --state-dir (or MM_STATE_DIR), or --all to cancel every order of the symbol`)
    return {left: ids, confirmed: true, asked: true}
  } catch (error) {
    // -1121 Invalid symbol: the venue does not list it (a typo): no quote of it can trade there,
    // and no state.json is written for it (before: recorded, exit 3, then exit 0 on a second run)
    if ((error as {venueCode?: number}).venueCode === -1121) {
      throw new UsageError('E_UNKNOWN_SYMBOL', `${o.t.symbol} is not listed by the venue (${(error as Error).message}): nothing halted`, {suggestion: 'check --symbol, e.g. ETHUSDC (and --rest-url / --testnet)'})
    }
    notes.push(`${where}; venue: ${(error as Error).message}`)
    return {left: [], confirmed: false, asked: true}
  } finally {
    await v.ops.close?.()
  }
}

/**
 * Cancel on the venue what the state says we hold, and this instance's open orders (or
 * everything with --all); returns what is left, and whether the venue confirmed it (a
 * venue error leaves it unconfirmed even when state.json lists nothing: exit 3).
 */
async function cancelOnVenue(o: HaltOptions, s: StateFile | null, notes: string[], anyMm = false): Promise<{left: string[]; confirmed: boolean; cancelled: number; checked: boolean}> {
  const ours = Object.keys(s?.orders ?? {})
  if (s?.dryRun) return {left: [], confirmed: true, cancelled: 0, checked: false}
  if (o.noCancel) {
    if (ours.length > 0) notes.push(`--no-cancel: ${ours.length} order(s) left working`)
    return {left: ours, confirmed: true, cancelled: 0, checked: false}
  }
  // nothing listed and no instance known: nothing to look for (a killed quote's orders are listed, or found by its instance)
  if (ours.length === 0 && !o.all && !s?.process?.instance && !anyMm) return {left: [], confirmed: true, cancelled: 0, checked: false}
  const v = await o.venue()
  if ('why' in v) {
    notes.push(`cannot cancel on the venue: ${v.why}`)
    return {left: ours, confirmed: ours.length === 0, cancelled: 0, checked: false}
  }
  try {
    const r = await v.ops.cancel(o.t.symbol, {all: o.all, ours, instance: s?.process?.instance})
    notes.push(`cancelled ${r.cancelled.length} order(s) on the venue${r.left.length > 0 ? `; ${r.left.length} still open` : ''}`)
    return {left: r.left, confirmed: true, cancelled: r.cancelled.length, checked: true}
  } catch (error) {
    notes.push(`venue: ${(error as Error).message}`)
    return {left: ours, confirmed: false, cancelled: 0, checked: false}
  } finally {
    await v.ops.close?.()
  }
}

export interface ResumeResult extends ActionBase {
  resumed: boolean
  /** the halt that was cleared (or that stays) */
  halt: StateHalt | null
  ack: StateAck | null
  refused: string | null
}

export async function resumeSymbol(o: {t: Target; force: boolean; stopLoss: number; maxDailyLoss?: number; waitMs: number}): Promise<ResumeResult> {
  const {t} = o
  const notes: string[] = []
  const state = readStateFile(t.path, t.symbol)
  const q = liveness(t.dir, state, wallClock.now())
  const base = {stateDir: t.stateDir, symbol: t.symbol, stateFile: t.path, quote: q, notes}
  if (q.kind === 'alive') {
    const r = await askQuote(t, {kind: 'resume', force: o.force}, o.waitMs)
    if (!r.ack) throw new PartialError('E_NO_ACK', `mm quote pid ${q.pid} did not acknowledge the resume within ${o.waitMs / 1000} s`, {suggestion: 'mm status shows whether it is hung'})
    if (r.ack.result === 'refused') throw new MmError('E_RESUME_REFUSED', `resume refused by mm quote pid ${q.pid}: ${r.ack.message}`, {exitCode: 1, suggestion: 'wait until the condition clears, or mm resume --force'})
    // a quote that was not halted answers `applied` too: nothing was resumed then
    const resumed = r.ack.message !== ACK_NOT_HALTED
    return {...base, via: 'quote', resumed, halt: resumed ? (state?.halt ?? null) : null, ack: r.ack, refused: null}
  }
  if (q.kind === 'hung') throw new PartialError('E_QUOTE_HUNG', `${describeLiveness(q)}: resume needs it to answer`, {suggestion: 'stop it (kill), then mm resume'})
  if (state === null) {
    // nothing here to resume, and nothing is created (a mistyped --state-dir left an empty folder behind)
    return {...base, via: 'self', resumed: false, halt: null, ack: null, refused: null, notes: [`no state.json in ${t.stateDir}: no quote of this state dir is known, nothing to resume (a quote under another --state-dir or MM_STATE_DIR is not reached)`]}
  }
  const lock = await lockForCommand(t, 'resume')
  try {
    if (lock.tookOver) notes.push(`took over the stale lock of pid ${lock.tookOver.pid} (${lock.tookOver.command})`)
    const s = readStateFile(t.path, t.symbol)
    const h = s?.halt ?? null
    if (!s || !h) return {...base, via: 'self', resumed: false, halt: null, ack: null, refused: null, notes: [...notes, 'not halted: nothing to resume']}
    const now = wallClock.now()
    const untilMs = h.until === null ? null : Date.parse(h.until)
    if (untilMs !== null && untilMs <= now) notes.push(`the halt had ended by itself at ${h.until}`)
    const day = s.risk.day
    // the day's PnL as last written, while that UTC day lasts (a new day starts a new count)
    const dayPnl = day && now - day.startMs < DAY_MS ? day.pnl : undefined
    const block = resumeBlocker({haltKind: h.kind, haltUntilMs: untilMs, nowMs: now, unrealised: s.position.unrealised, stopLoss: o.stopLoss, flat: new PlainDecimal(s.position.net).isZero(), dayPnl, maxDailyLoss: o.maxDailyLoss ?? 0})
    if (block && !o.force) {
      throw new MmError('E_RESUME_REFUSED', `resume refused: ${block.message} (as of the state written ${s.updatedAt})`, {exitCode: 1, suggestion: 'mm flatten closes the position; --force resumes anyway'})
    }
    if (block) notes.push(`forced over: ${block.message}`)
    s.halt = null
    // as a running quote does (risk machine, dayRestart): a daily-loss halt lifted starts the
    // day's count again; left as it was, the next mm quote carried the loss, halted again at
    // its first mid and flattened the position the operator had just resumed over
    if (h.kind === 'daily_loss' && s.risk) s.risk = {...s.risk, day: null}
    s.updatedAt = iso(now)
    s.counters = {...s.counters, writes: (s.counters.writes ?? 0) + 1}
    writeStateFile(t.path, s)
    return {...base, via: 'self', resumed: true, halt: h, ack: null, refused: null}
  } finally {
    lock.release()
  }
}

export interface FlattenResult extends ActionBase {
  ack: StateAck | null
  /** signed position before and after (base units) */
  positionBefore: string
  positionAfter: string
  /** mm flatten's own rounds (no quote): the venue's position read after them, or (that read failed) its own count of their fills */
  positionAfterFrom?: 'venue' | 'own count'
  residual: string
  rounds: FlattenRound[]
  maxSlippagePct: number
  exitCode: 0 | 1 | 3
  final: string
}

/** Flatten through a running quote: it halts, cancels, and closes within the cap; we follow its rounds in state.json. */
export async function flattenViaQuote(o: {t: Target; maxSlip: number; maxRounds: number; waitMs: number; onRound?: (r: FlattenRound) => void}, q: Liveness & {kind: 'alive'}, state: StateFile): Promise<FlattenResult> {
  const {t} = o
  const notes: string[] = []
  const before = state.position.net
  const base = {stateDir: t.stateDir, symbol: t.symbol, stateFile: t.path, quote: q, notes, via: 'quote' as const, maxSlippagePct: o.maxSlip, positionBefore: before}
  const r = await askQuote(t, {kind: 'flatten', maxSlippagePct: o.maxSlip, reason: 'mm flatten'}, o.waitMs)
  if (!r.ack) {
    return {...base, ack: null, positionAfter: before, residual: abs(before), rounds: [], exitCode: 1, final: `mm quote pid ${q.pid} did not acknowledge within ${o.waitMs / 1000} s`}
  }
  const printed = new Set<number>()
  const done = await waitForState(t, o.waitMs, (s) => {
    const rounds = s.flatten?.requestId === r.request.id ? s.flatten.rounds : []
    for (const x of rounds) {
      if (x.status !== 'open' && !printed.has(x.round)) {
        printed.add(x.round)
        o.onRound?.(x)
      }
    }
    const finished = rounds.filter((x) => x.status !== 'open').length
    if (new PlainDecimal(s.position.net).isZero() && Object.values(s.orders).every((w) => w.layer !== 'flatten')) return 'flat'
    if (finished >= o.maxRounds) return 'rounds'
    return null
  })
  const s = done?.state ?? readStateFile(t.path, t.symbol) ?? state
  const rounds = s.flatten?.requestId === r.request.id ? s.flatten.rounds : []
  const after = s.position.net
  const flat = new PlainDecimal(after).isZero()
  const rejected = rounds.filter((x) => x.status === 'rejected').length
  const finished = rounds.filter((x) => x.status !== 'open').length
  if (new PlainDecimal(before).isZero()) {
    return {...base, ack: r.ack, positionAfter: after, residual: abs(after), rounds, exitCode: flat ? 0 : 3, final: flat ? `${t.symbol}: no position; quoting halted (mm resume to quote again)` : `residual ${abs(after)}`}
  }
  if (!flat) notes.push(`the quote stays halted and keeps closing within the cap each cycle until flat or mm resume`)
  return {
    ...base,
    ack: r.ack,
    positionAfter: after,
    residual: abs(after),
    rounds,
    exitCode: flat ? 0 : rejected > 0 && rejected === finished ? 1 : 3,
    final: flat ? `flat after ${finished} round(s)` : `residual ${abs(after)} after ${finished} round(s)${done ? '' : ` (${o.waitMs / 1000} s)`} within max slippage ${o.maxSlip}`,
  }
}

/** |qty| keeping the instrument's decimals ("-0.010" → "0.010"). */
function abs(s: string): string {
  return s.startsWith('-') ? s.slice(1) : s
}

/** Record the halt a flatten implies when it acts without a quote (under the lock). */
export async function recordFlattenHalt(t: Target, notes: string[]): Promise<StateFile | null> {
  const lock = await lockForCommand(t, 'flatten')
  try {
    if (lock.tookOver) notes.push(`took over the stale lock of pid ${lock.tookOver.pid} (${lock.tookOver.command})`)
    const s = readStateFile(t.path, t.symbol)
    if (!s) return null
    if (s.halt?.kind !== 'stop_loss') s.halt = {kind: 'manual', reason: 'mm flatten', by: operator(), at: iso(), until: null, flatten: true}
    if (s.dryRun) s.orders = {}
    markGone(s, 'flatten')
    s.updatedAt = iso()
    writeStateFile(t.path, s)
    return s
  } finally {
    lock.release()
  }
}
