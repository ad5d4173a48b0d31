/**
 * `mm flatten` from the command's side: the plan (--dry-run) from state.json's position
 * and a public depth snapshot, the run through a live quote, or — with no quote — what
 * can be done without a venue session.
 */
import {wallClock} from '../clock/clock.js'
import {PlainDecimal} from '../domain/decimal.js'
import {MmError, PartialError, UsageError} from '../domain/errors.js'
import {Instrument} from '../domain/instrument.js'
import {type FlattenRoundPlan, levelsBook, planFlattenRound} from '../strategy/flatten.js'
import type {Endpoints} from '../cli/endpoints.js'
import {type FlattenResult, flattenViaQuote, recordFlattenHalt, type VenueOps} from './actions.js'
import {emptyState, readStateFile, type FlattenRound, type StateFile, StateFileError, writeStateFile} from './file.js'
import {isOwnClientId} from '../orders/client-id.js'
import {COST_SCALE, Dec, emptyPosition, parsePositionJSON, pnlSummary, type Position, positionToJSON} from '../orders/position.js'
import {flattenOnVenue, type FlattenVenue, inBand, percentBand} from './flatten-venue.js'
import {describeLiveness, liveness, lockForCommand, operator, type Target} from './ops.js'

export interface FlattenPlanView {
  stateDir: string
  symbol: string
  stateFile: string
  position: string
  /** where `position` came from: the venue (API keys given) or state.json */
  positionFrom: 'venue' | 'state.json'
  maxSlippagePct: number
  side: string | null
  mid: string | null
  /** the round's limit: the slippage cap, or the PERCENT_PRICE band's edge where that is nearer the mid (`bandLimited`) */
  cap: string | null
  bandLimited: boolean
  /** what the book holds within `cap` (at most the position) */
  available: string
  orders: Array<{side: string; price: string; qty: string}>
  expectedPrice: string | null
  expectedSlippage: string | null
  residual: string
  why: FlattenRoundPlan['why']
  /** state.json could not be read (corrupt, hand-edited, another version): why; the venue's position was used */
  stateUnreadable?: string
}

/** state.json, or why it cannot be used (corrupt, truncated, hand-edited, another version or symbol) */
function readStateOrWhy(t: Target): {state: StateFile | null; unreadable: StateFileError | null} {
  try {
    return {state: readStateFile(t.path, t.symbol), unreadable: null}
  } catch (error) {
    if (!(error instanceof StateFileError)) throw error
    return {state: null, unreadable: error}
  }
}

/** an unreadable state.json and no API keys: the position cannot be known; nothing was done (exit 3) */
function unknownPosition(t: Target, unreadable: StateFileError, why: string): PartialError {
  return new PartialError(unreadable.code, `${t.symbol}: ${unreadable.message}: the position cannot be known from it, and the venue was not asked: ${why}; nothing was done`, {suggestion: 'set the API keys (MM_API_KEY and MM_API_SECRET, or --key-file): mm flatten then closes the venue\'s position without the file'})
}

/**
 * The venue for a flatten whose state.json is unreadable: when it cannot be reached (or
 * refuses the keys), the error says the file could not stand in either — the position is
 * not known from anywhere and nothing was sent (before, only the connection error was
 * printed, and an operator could take the file's problem for the only one, or the other
 * way round).
 */
async function openOrSay<V>(open: () => Promise<V>, t: Target, unreadable: StateFileError, done: () => string = () => 'nothing was sent'): Promise<V> {
  try {
    return await open()
  } catch (error) {
    if (!(error instanceof MmError) || error instanceof UsageError) throw error
    // the first signed reads too (keys refused -2015, a 5xx on positionRisk): review6
    throw new MmError(error.code, `${error.message}; and ${t.symbol}'s ${unreadable.message}: the position is known from neither; ${done()}`, {exitCode: error.exitCode, suggestion: error.suggestion})
  }
}

function instrumentOf(s: StateFile): Instrument {
  if (!s.instrument) throw new MmError('E_STATE_NO_INSTRUMENT', 'state.json has no instrument (no quote has run on this symbol yet)', {exitCode: 1})
  return new Instrument({symbol: s.symbol, ...s.instrument})
}

/**
 * --dry-run: the first round's plan on the venue's current book; nothing is sent. With API
 * keys (`venue`), the position and the symbol's filters are the venue's (the truth: a
 * state.json can be stale or missing); without, state.json's position and instrument.
 */
export async function flattenPlan(t: Target, maxSlip: number, endpoints: Endpoints, venue?: FlattenOptions['venue']): Promise<FlattenPlanView | null> {
  const {state: s, unreadable} = readStateOrWhy(t)
  const v = venue && !s?.dryRun ? (unreadable ? await openOrSay(venue, t, unreadable) : await venue()) : {why: 'no venue'}
  let inst: Instrument
  let position: string
  let from: FlattenPlanView['positionFrom']
  // the venue's position off the LOT_SIZE grid (a step raised since it was opened): no order can carry it
  let offGrid = new PlainDecimal(0)
  // the venue's PERCENT_PRICE band now: the plan's prices as the real flatten sends them
  let band: Awaited<ReturnType<typeof percentBand>> = null
  if ('why' in v) {
    if (unreadable) throw unknownPosition(t, unreadable, v.why === 'no venue' ? 'no API keys' : v.why)
    if (!s || new PlainDecimal(s.position.net).isZero()) return null
    inst = instrumentOf(s)
    position = s.position.net
    from = 'state.json'
  } else {
    try {
      const venueNow = v.venue
      const read = async () => ({inst: await venueNow.instrument(t.symbol), amt: new PlainDecimal(await venueNow.position(t.symbol))})
      const r = unreadable ? await openOrSay(read, t, unreadable) : await read()
      inst = r.inst
      const amt = r.amt
      const grid = inst.qtyToSteps(amt.abs().toString(), 'down') * (amt.isNeg() ? -1 : 1)
      offGrid = amt.sub(inst.stepDecimal(grid)).abs()
      position = offGrid.isZero() ? inst.signedStepsToQty(grid) : amt.toString()
      band = await percentBand(v.venue, t.symbol, inst)
    } finally {
      await v.close()
    }
    if (new PlainDecimal(position).isZero()) return null
    from = 'venue'
  }
  const net = inst.qtyToSteps(new PlainDecimal(position).abs().toString(), 'down') * (new PlainDecimal(position).isNeg() ? -1 : 1)
  const {BinancePublicRest} = await import('../venue/binance/rest-public.js')
  const rest = new BinancePublicRest({baseUrl: endpoints.rest})
  let snap
  try {
    snap = await rest.depth(t.symbol, 100)
  } finally {
    await rest.close()
  }
  const lv = (l: Array<[string, string]>) => l.map(([p, q]) => [inst.priceToTicks(p), inst.qtyToSteps(q)] as [number, number])
  const plan = planFlattenRound(levelsBook(lv(snap.bids), lv(snap.asks)), net, maxSlip, inst, band)
  const px = (ticks: number | null) => (ticks === null ? null : new PlainDecimal(ticks).mul(inst.spec.tickSize).toString())
  return {
    stateDir: t.stateDir,
    symbol: t.symbol,
    stateFile: t.path,
    position,
    positionFrom: from,
    maxSlippagePct: maxSlip,
    side: plan.side,
    mid: px(plan.mid),
    cap: px(plan.capTicks),
    bandLimited: plan.bandLimited,
    available: inst.stepsToQty(plan.available),
    orders: plan.orders.map((o) => ({side: o.side, price: inst.ticksToPrice(inBand(o.side, o.price, band)), qty: inst.stepsToQty(o.qty)})),
    expectedPrice: plan.expectedPrice === null ? null : new PlainDecimal(plan.expectedPrice).mul(inst.spec.tickSize).toSignificantDigits(12).toString(),
    expectedSlippage: plan.expectedSlippage === null ? null : new PlainDecimal(plan.expectedSlippage).toSignificantDigits(6).toString(),
    residual: offGrid.isZero() ? inst.stepsToQty(plan.residual) : inst.stepDecimal(plan.residual).add(offGrid).toString(),
    why: net === 0 ? 'below_min_qty' : plan.why,
    ...(unreadable ? {stateUnreadable: unreadable.message} : {}),
  }
}

/** the symbol's filters as the venue lists them now; the venue is closed when they cannot be read */
async function venueInstrument(v: {venue: FlattenVenue; close(): Promise<void>}, symbol: string): Promise<Instrument> {
  try {
    return await v.venue.instrument(symbol)
  } catch (error) {
    await v.close()
    throw new MmError('E_VENUE', `${symbol}: cannot read the symbol's rules from the venue: ${(error as Error).message}`, {exitCode: 1})
  }
}

export interface FlattenOptions {
  t: Target
  maxSlip: number
  maxRounds: number
  waitMs: number
  onRound?: (r: FlattenRound) => void
  /** the venue, opened only when no quote runs and a live position is to be closed */
  venue?: () => Promise<{venue: FlattenVenue; close(): Promise<void>} | {why: string}>
  /** cancels ours first (halt's venue calls) */
  cancel?: () => Promise<{ops: VenueOps & {close?(): Promise<void>}} | {why: string}>
  /** the operator asked to stop (the signal's name), or null: no new order is sent, the fills so far are booked */
  stopped?: () => string | null
  /** called when this process starts sending closing orders itself (from then on `stopped` is read) */
  onOwnOrders?: () => void
}

export async function flattenSymbol(o: FlattenOptions): Promise<FlattenResult> {
  const {t} = o
  const {state, unreadable} = readStateOrWhy(t)
  const q = liveness(t.dir, state, wallClock.now())
  // a dry-run quote's position is paper: the venue's is not its to compare
  if (q.kind === 'alive' && state) return state.dryRun ? flattenViaQuote(o, q, state) : venueSaysFlat(o, await flattenViaQuote(o, q, state))
  if (q.kind === 'hung') throw new MmError('E_QUOTE_HUNG', `${describeLiveness(q)}: flatten needs it to answer, or to be stopped`, {exitCode: 1, suggestion: 'mm halt cancels from here; kill the hung quote, then mm flatten'})
  const notes: string[] = q.kind === 'dead' ? [describeLiveness(q)] : []
  const base = {stateDir: t.stateDir, symbol: t.symbol, stateFile: t.path, quote: q, notes, via: 'self' as const, maxSlippagePct: o.maxSlip, ack: null, rounds: []}
  if (unreadable) return flattenWithoutState(o, unreadable, base)
  const noPosition = async () => {
    if (state) await recordFlattenHalt(t, notes)
    return {...base, positionBefore: '0', positionAfter: '0', residual: '0', exitCode: 0 as const, final: `${t.symbol}: no position${state ? ' (halt recorded)' : ''}`}
  }
  if (state?.dryRun) {
    if (new PlainDecimal(state.position.net).isZero()) return noPosition()
    await recordFlattenHalt(t, notes)
    notes.push('dry-run state: the paper position ended with its quote process; nothing is held on a venue')
    return {...base, positionBefore: state.position.net, positionAfter: state.position.net, residual: '0', exitCode: 0, final: `${t.symbol}: no venue position (dry-run); halt recorded`}
  }
  // live, or no state at all: the venue's position is the truth (a quote killed between a fill
  // and its state write leaves state.json behind; a lost or never-written state.json says nothing)
  let v: Awaited<ReturnType<NonNullable<FlattenOptions['venue']>>>
  try {
    v = o.venue ? await o.venue() : {why: 'no venue'}
  } catch (error) {
    // the venue cannot be reached (or refuses the keys): nothing can be sent, but quoting is
    // still halted, as without keys — a quote restarted when the venue answers again stays halted
    if (!state || error instanceof UsageError || !(error instanceof MmError)) throw error
    try {
      await recordFlattenHalt(t, notes)
    } catch {
      throw error
    }
    throw new MmError(error.code, `${error.message}; nothing was sent (halt recorded)`, {exitCode: error.exitCode, suggestion: error.suggestion})
  }
  if ('why' in v) {
    if (!state || new PlainDecimal(state.position.net).isZero()) {
      notes.push(`${state ? 'state.json says flat' : 'no state.json'}; the venue was not asked: ${v.why}`)
      return noPosition()
    }
    await recordFlattenHalt(t, notes)
    throw new PartialError('E_NO_VENUE', `${t.symbol}: position ${state.position.net} and no mm quote runs; cannot close it from here: ${v.why} (halt recorded)`, {suggestion: 'set the API keys and run mm flatten again'})
  }
  const lock = await lockForCommand(t, 'flatten')
  try {
    if (lock.tookOver) notes.push(`took over the stale lock of pid ${lock.tookOver.pid} (${lock.tookOver.command})`)
    // the symbol's filters as the venue lists them now (max order size included), not as a state file remembers them
    const inst = await venueInstrument(v, t.symbol)
    const found = readStateFile(t.path, t.symbol) ?? state
    if (!found) {
      // no state.json here: this folder knows no instance. An mm order working on the venue is
      // another instance's (a quote under another --state-dir, host or MM_STATE_DIR): closing
      // the account's position under it would fight it, so nothing is done
      let ids: string[]
      try {
        ids = (await v.venue.openOrderIds(t.symbol)).filter((id) => isOwnClientId(id))
      } catch (error) {
        await v.close()
        throw new MmError('E_VENUE', `${t.symbol}: cannot read the open orders from the venue: ${(error as Error).message}`, {exitCode: 1})
      }
      if (ids.length > 0) {
        await v.close()
        throw new MmError('E_OTHER_INSTANCE', `${t.symbol}: no state.json in ${t.stateDir}, and ${ids.length} mm order(s) are working on the venue (${ids.slice(0, 5).join(', ')}): another mm instance looks live; nothing was sent`, {exitCode: 1, suggestion: "pass that quote's --state-dir (or MM_STATE_DIR), or mm halt it first"})
      }
    }
    const s = found ?? {...emptyState(t.symbol, false, new Date(wallClock.now()).toISOString()), instrument: specOf(inst)}
    if (s.halt?.kind !== 'stop_loss') s.halt = {kind: 'manual', reason: 'mm flatten', by: operator(), at: new Date(wallClock.now()).toISOString(), until: null, flatten: true}
    if (s.process?.running) s.process = {...s.process, running: false, endedAt: new Date(wallClock.now()).toISOString(), endReason: `gone (pid ${s.process.pid} found dead by mm flatten)`}
    writeStateFile(t.path, s)
    // cancel ours first: a resting order of ours could take the other side of our IOC
    // (none without a state.json: it names no instance, and no mm order is working, checked above)
    const c = o.cancel && found ? await o.cancel() : null
    if (c && !('why' in c)) {
      try {
        const r = await c.ops.cancel(t.symbol, {all: false, ours: Object.keys(s.orders), instance: s.process?.instance})
        if (r.left.length > 0) notes.push(`${r.left.length} order(s) of ours still open`)
        s.orders = Object.fromEntries(Object.entries(s.orders).filter(([id]) => r.left.includes(id)))
      } catch (error) {
        // refused keys (-2015), a venue error: nothing is sent; the halt is in state.json already
        await v.close()
        if (!(error instanceof MmError) || error instanceof UsageError) throw error
        throw new MmError(error.code, `${t.symbol}: cannot cancel ours before closing: ${error.message}; nothing was sent (halt recorded)`, {exitCode: 1, suggestion: error.suggestion})
      } finally {
        await c.ops.close?.()
      }
    }
    // no ledger to carry (no state.json before this flatten, or one no quote ever filled in):
    // one is begun from the venue's position at its entry price, as a live quote begins one,
    // so the flatten's own fills (fees, realised PnL, count) are booked all the same
    let begun: Position | null = null
    if (parsePositionJSON(s.position.ledger) === null && s.position.fills === 0 && (s.instrument === null || sameGrid(s, inst))) {
      try {
        begun = await ledgerFromVenue(v.venue, inst)
        if (begun) s.instrument = specOf(inst)
      } catch (error) {
        notes.push(`the venue's position and entry price could not be read (positionRisk): ${(error as Error).message}; state.json's realised PnL and fees miss the flatten's fills`)
      }
    }
    const runTag = 'f' + Math.floor(wallClock.now() / 1000).toString(36).slice(-7)
    const startedMs = wallClock.now()
    o.onOwnOrders?.()
    let res
    try {
      res = await flattenOnVenue({venue: v.venue, inst, maxSlip: o.maxSlip, maxRounds: o.maxRounds, runTag, onRound: o.onRound, stopped: o.stopped})
      // a failed order call may have filled all the same: its trades are read back too
      const mayHaveFilled = res.venueError !== null || res.rounds.some((r) => r.filled !== '0' && !new PlainDecimal(r.filled).isZero())
      bookFlattenFills(s, inst, res.positionAfter, await fillsOf(v.venue, s, inst, runTag, startedMs, mayHaveFilled, begun), notes)
    } finally {
      await v.close()
    }
    s.flatten = {requestId: null, maxSlippagePct: o.maxSlip, rounds: res.rounds}
    if (res.positionAfter.replace(/^-/, '').match(/^0(\.0+)?$/) && s.halt?.flatten) s.halt = {...s.halt, flattened: true}
    s.updatedAt = new Date(wallClock.now()).toISOString()
    writeStateFile(t.path, s)
    return {...base, via: 'self', positionBefore: res.positionBefore, positionAfter: res.positionAfter, positionAfterFrom: res.positionAfterFrom, residual: res.positionAfter.replace(/^-/, ''), rounds: res.rounds, exitCode: res.exitCode, final: res.final}
  } finally {
    lock.release()
  }
}

/**
 * A flatten through a running quote: with API keys, the venue's position is asked after it.
 * A position the quote does not count yet (opened by hand or by another tool on the account:
 * its audit takes the venue's in only after two audits running, live.auditIntervalMs apart)
 * left mm flatten saying `no position`, exit 0 (or naming the quote's residual, its
 * reduce-only IOCs refused on a venue position of the other sign) while the venue held it.
 * Now the venue's position is the residual, said; a flat by the quote's books is exit 3.
 */
export async function venueSaysFlat(o: Pick<FlattenOptions, 'venue' | 't'>, r: FlattenResult): Promise<FlattenResult> {
  if (!o.venue) return r
  // a round still open may fill between the quote's state write and the venue's answer: then
  // the venue's position is used only where that round cannot move it (below)
  const roundOpen = r.rounds.some((x) => x.status === 'open')
  let amt: PlainDecimal
  try {
    const v = await o.venue()
    if ('why' in v) return r
    try {
      amt = new PlainDecimal(await v.venue.position(o.t.symbol))
    } finally {
      await v.close()
    }
  } catch (error) {
    r.notes.push(`the venue's position could not be read to check the quote's: ${(error as Error).message}`)
    return r
  }
  if (amt.eq(new PlainDecimal(r.positionAfter))) return r
  // the open round is a reduce-only IOC on the side that closes the quote's books: it can
  // only move a venue position of the books' sign. A venue position of the other sign (the
  // books long, the venue short) it cannot fill against (the venue refuses a reduce-only
  // order that would not reduce): that position is the venue's last word. Before, any open
  // round skipped the check, and a flatten whose every IOC the short venue refused ended
  // "residual 3000", the books' long, while the venue held -597000.
  const books = new PlainDecimal(r.positionAfter)
  if (roundOpen && (amt.isZero() || books.isZero() || amt.isNegative() === books.isNegative())) return r
  const pos = amt.toString()
  const residual = amt.abs().toString()
  r.notes.push('the quote stays halted to flatten: its audit takes the venue\'s position in (the same difference at two audits running, live.auditIntervalMs apart) and it closes it then')
  const quoteSaid = r.exitCode === 0 ? '' : `; the quote's flatten: ${r.final}`
  return {...r, positionAfter: pos, positionAfterFrom: 'venue', residual, exitCode: r.exitCode === 0 ? 3 : r.exitCode, final: `residual ${residual}: the venue holds ${pos} ${o.t.symbol} while the running quote's books say ${r.positionAfter} (a position it does not count yet: opened by hand or by another tool)${quoteSaid}`}
}

/**
 * state.json cannot be read (corrupt, truncated by a full disk, hand-edited): an emergency
 * close does not wait for it to be mended. With API keys the venue's position is closed as
 * above, after every mm order of the symbol is cancelled (the file's instance is unknown: as
 * `mm halt` does on such a file); the file is neither used nor written (the halt and the
 * fills are not recorded in it; mm quote refuses to start on it until it is mended or moved
 * aside). Without keys the position cannot be known: exit 3, nothing done.
 */
async function flattenWithoutState(o: FlattenOptions, unreadable: StateFileError, base: Omit<FlattenResult, 'positionBefore' | 'positionAfter' | 'residual' | 'exitCode' | 'final'>): Promise<FlattenResult> {
  const {t} = o
  const notes = base.notes
  const v = o.venue ? await openOrSay(o.venue, t, unreadable) : {why: 'no venue'}
  if ('why' in v) throw unknownPosition(t, unreadable, v.why)
  notes.push(`${unreadable.message}: not used and not updated; the position closed is the venue's, the halt and the flatten's fills are not recorded in it`)
  let lock: Awaited<ReturnType<typeof lockForCommand>>
  try {
    lock = await lockForCommand(t, 'flatten')
  } catch (error) {
    await v.close()
    throw error
  }
  try {
    if (lock.tookOver) notes.push(`took over the stale lock of pid ${lock.tookOver.pid} (${lock.tookOver.command})`)
    const inst = await openOrSay(() => venueInstrument(v, t.symbol), t, unreadable)
    let cancelled = 0
    // a resting mm order could take the other side of our IOC: cancel them first
    const c = o.cancel ? await o.cancel() : null
    if (c && !('why' in c)) {
      try {
        const r = await c.ops.cancel(t.symbol, {all: false, ours: []})
        cancelled = r.cancelled.length
        if (r.cancelled.length > 0) notes.push(`cancelled ${r.cancelled.length} mm order(s) of the symbol on the venue`)
        if (r.left.length > 0) notes.push(`${r.left.length} mm order(s) still open: ${r.left.join(', ')}`)
      } catch (error) {
        notes.push(`cannot cancel the mm orders on the venue: ${(error as Error).message}`)
      } finally {
        await c.ops.close?.()
      }
    }
    const runTag = 'f' + Math.floor(wallClock.now() / 1000).toString(36).slice(-7)
    o.onOwnOrders?.()
    let res
    // what was done before a failure: the line says it (not "nothing was sent" after a cancel or an order)
    let sent = 0
    try {
      const done = () => (sent > 0 ? `${sent} closing order(s) sent` : cancelled > 0 ? `${cancelled} mm order(s) cancelled, no closing order sent` : 'nothing was sent')
      res = await openOrSay(() => flattenOnVenue({venue: v.venue, inst, maxSlip: o.maxSlip, maxRounds: o.maxRounds, runTag, onRound: (r) => {
        sent++
        o.onRound?.(r)
      }, stopped: o.stopped}), t, unreadable, done)
    } finally {
      await v.close()
    }
    return {...base, positionBefore: res.positionBefore, positionAfter: res.positionAfter, positionAfterFrom: res.positionAfterFrom, residual: res.positionAfter.replace(/^-/, ''), rounds: res.rounds, exitCode: res.exitCode, final: res.final}
  } finally {
    lock.release()
  }
}

/** state.json's instrument is on the venue's tick and step grid (its ledger's units are the venue's) */
function sameGrid(s: StateFile, inst: Instrument): boolean {
  return s.instrument !== null && s.instrument.tickSize === inst.spec.tickSize && s.instrument.stepSize === inst.spec.stepSize
}

/**
 * A ledger begun from the venue's position (net on the step grid, rounded toward zero; cost
 * at the venue's average entry price), with no totals: the flatten's own fills are folded
 * into it. null when the venue cannot say (no such read).
 */
export async function ledgerFromVenue(venue: FlattenVenue, inst: Instrument): Promise<Position | null> {
  if (!venue.entry) return null
  const e = await venue.entry(inst.symbol)
  const amt = new PlainDecimal(e.amount)
  const steps = inst.qtyToSteps(amt.abs().toString(), 'down')
  const net = amt.isNeg() ? -steps : steps
  if (net === 0) return emptyPosition()
  // no single entry price (a hedge-mode account's two sides, or an answer without one): a
  // ledger costed at 0 would book the whole close as profit; the totals then miss the fills
  if (!new PlainDecimal(e.entryPrice).gt(0)) throw new Error(`no entry price for the position ${e.amount} (entryPrice ${e.entryPrice})`)
  const perStep = new Dec(e.entryPrice).div(inst.spec.tickSize).mul(COST_SCALE.toString()).round()
  return {...emptyPosition(), net, cost: BigInt(perStep.toString()) * BigInt(net)}
}

function specOf(inst: Instrument): NonNullable<StateFile['instrument']> {
  return {tickSize: inst.spec.tickSize, stepSize: inst.spec.stepSize, minQty: inst.spec.minQty, minNotional: inst.spec.minNotional}
}

/**
 * The flatten's fills (and a killed quote's that state.json missed), read back from the
 * venue's userTrades into state.json's ledger on the same grid, so its realised PnL, fees
 * and fill count stay the venue's. null: nothing to read (no ledger on this grid, no fill),
 * or the read failed (said in `notes`; the totals then miss those fills).
 */
async function fillsOf(venue: FlattenVenue, s: StateFile, inst: Instrument, runTag: string, startedMs: number, filled: boolean, begun: Position | null): Promise<{ledger: Position; recovered: number; fees: string; realised: string; incomplete?: string} | {error: string} | null> {
  const ledger = (sameGrid(s, inst) ? parsePositionJSON(s.position.ledger) : null) ?? begun
  if (ledger === null) return null
  const carried = typeof s.process?.clientRunId === 'string' && s.process.clientRunId !== '' ? s.process.clientRunId : null
  if (!filled && carried === null) return null
  const started = carried === null ? startedMs : Date.parse(s.process?.startedAt ?? '')
  try {
    const r = await venue.bookFills({symbol: s.symbol, inst, ledger, runIds: carried === null ? [runTag] : [carried, runTag], runStartedMs: Number.isFinite(started) ? started : startedMs})
    return {ledger: r.ledger, recovered: r.recovered, fees: r.fees, realised: r.realised, ...(r.incomplete === undefined ? {} : {incomplete: r.incomplete})}
  } catch (error) {
    return {error: (error as Error).message}
  }
}

function bookFlattenFills(s: StateFile, inst: Instrument, after: string, f: Awaited<ReturnType<typeof fillsOf>>, notes: string[]): void {
  const flat = /^-?0(\.0+)?$/.test(after)
  if (f === null || 'error' in f) {
    if (f !== null) notes.push(`the flatten's fills could not be read back (userTrades): ${f.error}; state.json's realised PnL and fees miss them`)
    s.position = {...s.position, net: after, ...(flat ? {avgCost: null, unrealised: '0'} : {})}
    return
  }
  const pos = f.ledger
  const pnl = pnlSummary(pos, inst, 0)
  s.position = {
    net: pnl.net,
    avgCost: pos.net === 0 ? null : pnl.avgEntry,
    mark: null,
    realised: pnl.realised,
    ...(pnl.realisedCheck ? {realisedCheck: pnl.realisedCheck} : {}),
    unrealised: '0',
    fees: pnl.fees,
    funding: pnl.funding,
    total: new PlainDecimal(pnl.realised).sub(pnl.fees).add(pnl.funding).toString(),
    fills: pos.fills,
    ledger: positionToJSON(pos) as unknown as Record<string, unknown>,
  }
  s.counters = {...s.counters, fills: s.counters.fills + f.recovered}
  notes.push(`fills booked: ${f.recovered} trade(s) read back from userTrades (fees ${f.fees}, realised ${f.realised})`)
  if (f.incomplete !== undefined) notes.push(`the read-back stopped early: ${f.incomplete}; state.json's realised PnL and fees may miss some of the flatten's fills`)
  // the venue is the truth: a ledger that still differs (trades it cannot tell as ours) is said, and the venue's net kept
  if (inst.qtyToSteps(after.replace(/^-/, ''), 'down') * (after.startsWith('-') ? -1 : 1) !== pos.net) {
    notes.push(`the ledger's position ${pnl.net} differs from the venue's ${after}: the venue's is kept; the next mm quote starts from it`)
    s.position = {...s.position, net: after, ...(flat ? {avgCost: null} : {})}
  }
}
