/**
 * `mm quote` without `--dry-run`: live trading on Binance USDⓈ-M (or a Binance-compatible
 * venue such as `mm sim`). Order of things (docs/live.md):
 *   keys → lock (state.json) → clock sync, venue read and refusals → venue, symbol, limits
 *   and fees printed once → (TTY + production: confirm) → user data stream open
 *   (buffering) → our leftovers cancelled → the venue's position read → dead-man's switch
 *   armed → engine started from that position → stream flushed (earlier runs' orders'
 *   events dropped) → audit timer (adopts the venue's position on a lasting difference)
 *   → … → stop: every order cancelled, the fills an answer showed and the stream did not
 *   tell read back (≤ 5 s), switch disarmed only when none is left, listenKey closed.
 */
import {hostname} from 'node:os'
import type {Endpoints} from '../cli/endpoints.js'
import {wallClock} from '../clock/clock.js'
import {acquireInstanceLock} from '../state/lock.js'
import {type MmConfig, resolveConfig} from '../config/index.js'
import {MmError} from '../domain/errors.js'
import {Instrument} from '../domain/instrument.js'
import type {Engine, EngineStatus} from '../engine/engine.js'
import {parseClientId} from '../orders/client-id.js'
import {avgEntryPrice, carryTotals, COST_SCALE, Dec, emptyPosition, type Position} from '../orders/position.js'
import {StateKeeper} from '../state/keeper.js'
import type {MmLogger} from '../telemetry/log.js'
import type {RunMetrics} from '../telemetry/metrics.js'
import {driftVerdict, type PendingDrift} from '../venue/binance/audit.js'
import {DeadMansSwitch} from '../venue/binance/deadman.js'
import {BinanceApiError, idempotentRetry} from '../venue/binance/errors.js'
import {type KillFillsResult, recoverKillFills} from '../venue/binance/kill-fills.js'
import {BinanceGateway} from '../venue/binance/gateway.js'
import {loadCredentials} from '../venue/binance/keys.js'
import type {VenueRisk} from '../risk/types.js'
import {type GovernorMode, RateGovernor} from '../venue/binance/rate-governor.js'
import type {BinancePosition} from '../venue/binance/rest-types.js'
import {type Credentials, redact} from '../venue/binance/signer.js'
import {cancelLeftovers, defaultInstance, describeVenue, isProduction, liveRunId, ownerOf, readVenueState, refuseOffGridPosition, type StartupState} from '../venue/binance/startup.js'
import {UserStream} from '../venue/binance/user-stream.js'
import {BinanceVenue} from '../venue/binance/venue.js'
import {ReportQueue} from '../venue/types.js'
import {marketFeed} from './market-feed.js'
import {type OrderTransportSetup, startOrderTransport} from './order-transport.js'
import {type OrderTransportName, wsApiUrl} from '../venue/binance/ws-orders.js'
import {gatewayWarmBuild} from '../venue/binance/warm-build.js'
import {runLive, type SessionResult} from './session.js'

export interface LiveTradingOptions {
  symbol: string
  config: MmConfig
  configSource: string
  stateDir: string
  endpoints: Endpoints
  wallMs: number
  durationMs?: number
  stop: Promise<string>
  keyFile?: string
  env: Record<string, string | undefined>
  instance?: string
  allowForeignOrders: boolean
  /** ask once before trading real money; resolves true to go on (absent: no prompt) */
  confirm?: (lines: string[]) => Promise<boolean>
  onNotice?: (msg: string) => void
  /** the engine's status about once a wall second (the command's status line) */
  onProgress?: (s: EngineStatus) => void
  metrics?: RunMetrics
  /** operator log: each run event (risk_events included) as a line */
  logger?: MmLogger
  /** --order-transport (default: the config's live.orderTransport) */
  orderTransport?: OrderTransportName
  /** --ws-api-url (default: the venue's, wsApiUrl()) */
  wsApiUrl?: string
}

export interface LiveTradingResult extends SessionResult {
  instrument: Instrument
  venue: {url: string; deadman: boolean; cancelledAtStart: number; disarmed: boolean; audits: number; auditsHeld: number; auditFindings: number; orderTransport: ReturnType<OrderTransportSetup['status']> & {requested: OrderTransportName}}
  stateFile: string
}

/** The venue's position as the ledger's start: net steps and cost at the entry price. */
export function positionFromVenue(inst: Instrument, amount: string | undefined, entryPrice: string | undefined): Position {
  if (!amount || new Dec(amount).isZero()) return emptyPosition()
  const abs = amount.startsWith('-') ? amount.slice(1) : amount
  const steps = inst.qtyToSteps(abs, 'exact')
  const net = amount.startsWith('-') ? -steps : steps
  const perStep = new Dec(entryPrice ?? '0').div(inst.spec.tickSize).mul(COST_SCALE.toString()).round()
  return {...emptyPosition(), net, cost: BigInt(perStep.toString()) * BigInt(net)}
}

/**
 * A mark from the stream (a plain positive decimal: parse.ts) → the venue's PERCENT_PRICE
 * band (setMark). Returns why it was left out, the band as it was, or undefined once
 * applied: below one tick (its cap would round to 0 and refuse every BUY locally), or too
 * large for the instrument's ticks (setMark would throw out of the stream's handler).
 */
export function applyStreamMark(venue: Pick<BinanceVenue, 'setMark'>, inst: Instrument, markPrice: string): string | undefined {
  const outOfRange = 'is out of range for the instrument'
  try {
    const t = inst.priceToTicks(markPrice, 'down')
    if (!Number.isSafeInteger(t)) return outOfRange
    if (t < 1) return `is below one tick (${inst.spec.tickSize})`
    venue.setMark(markPrice)
    return undefined
  } catch {
    return outOfRange
  }
}

/** The symbol's one-way position at the venue (positionRisk), or undefined when none is listed. */
/**
 * What a periodic request left unsent says: the 418 ban (to its end) or the 429 back-off
 * (rate-governor.ts `readsHeld`). `banOnly`: the switch refresh waits for a ban only.
 */
function heldText(h: {until?: number; reason: string; ban: boolean} | undefined, banOnly: boolean): string | undefined {
  if (!h || (banOnly && !h.ban)) return undefined
  return `${h.reason}${h.until === undefined ? '' : ` until ${new Date(h.until).toISOString()}`}`
}

/**
 * longest the stop waits for the read-back of fills an answer showed and the stream did not
 * tell (BinanceVenue.readBackAtStop), after the stop's cancels
 */
const STOP_READBACK_BOUND_MS = 5000

/** how often the after-ban recovery (switch refresh, audit) is tried while it fails */
const BAN_RECOVERY_RETRY_MS = 5000

/** What the switch will do for orders left at a stop: cancel them at its countdown's end, or nothing once it has lapsed. */
function switchSays(d: DeadMansSwitch, what: string): string {
  const now = wallClock.now()
  if (d.lapsed(now)) return `the dead-man's switch lapsed at ${new Date(d.expiresAt).toISOString()} (not refreshed since): it no longer covers ${what}; check the venue and cancel by hand (mm halt)`
  return `the dead-man's switch stays armed and cancels ${what} within ${Math.ceil((d.expiresAt - now) / 1000)} s`
}

async function readPosition(gw: BinanceGateway, symbol: string): Promise<BinancePosition | undefined> {
  const all = await idempotentRetry(() => gw.positionRisk(symbol))
  return all.find((p) => p.symbol === symbol && (p.positionSide === 'BOTH' || p.positionSide === ''))
}

/** The ledger a live run starts from: the venue's position, with the previous live run's running totals (state.json, plus the fills it never recorded) carried on. */
function startLedger(inst: Instrument, position: BinancePosition | undefined, prev: Position | null): Position {
  refuseOffGridPosition(inst.symbol, position?.positionAmt, inst.spec.stepSize)
  const start = positionFromVenue(inst, position?.positionAmt, position?.entryPrice)
  return prev ? carryTotals(start, prev) : start
}

/**
 * The previous live run's ledger with the fills it never recorded (those between its last
 * state write and its end: a kill) read back from userTrades and folded in (kill-fills.ts);
 * null without a carried ledger. Runs after the earlier run's orders were cancelled.
 */
async function carriedWithKillFills(gw: BinanceGateway, creds: Credentials, inst: Instrument, keeper: StateKeeper, governor: RateGovernor, say: (m: string) => void): Promise<{ledger: Position | null; recovery?: KillFillsResult; runId?: string}> {
  const prev = keeper.carriedLedger(inst.spec)
  const other = keeper.ledgerOnOtherGrid(inst.spec)
  if (other) {
    say(`state.json's ledger is on tick ${other.tickSize} × step ${other.stepSize}, the venue now lists tick ${inst.spec.tickSize} × step ${inst.spec.stepSize}: its running totals (realised ${other.realised}, fees ${other.fees}, ${other.fills} fill(s)) are not carried on; this run's count starts from the venue's position (the day's PnL for risk.maxDailyLoss is carried, converted)`)
  }
  const run = keeper.carriedRun
  if (!prev || !run) return {ledger: prev}
  let r: KillFillsResult
  try {
    r = await recoverKillFills({gateway: gw, symbol: inst.symbol, inst, runId: run.runId, ledger: prev, runStartedMs: run.startedMs, venueClockOffsetMs: gw.timeOffsetMs, governor, now: () => wallClock.now(), wait: (ms) => new Promise((res) => setTimeout(res, ms))})
  } catch (err) {
    throw new MmError('E_FILLS_READBACK', redact(`cannot read back the fills of the earlier run ${run.runId} (GET /fapi/v1/userTrades): ${(err as Error).message}`, creds), {suggestion: 'no order was placed and the state file is unchanged: start again (its totals would otherwise miss those fills)'})
  }
  keeper.noteRecoveredFills(r.recovered)
  const others = r.others > 0 ? `; ${r.others} trade(s) of other orders left out` : ''
  const below = r.below > 0 ? `; ${r.below} of them below its last counted trade id` : ''
  say(`fills recovered: ${r.recovered} fill(s) of the earlier run ${run.runId} read back from userTrades (fees ${r.fees}, realised ${r.realised})${below}${others}${r.incomplete ? `; incomplete: ${r.incomplete}` : ''}`)
  return {ledger: r.ledger, recovery: r, runId: run.runId}
}

function instrumentFrom(st: StartupState): Instrument {
  const r = st.rules
  return new Instrument({symbol: st.symbol, tickSize: r.tickSize, stepSize: r.stepSize, minQty: r.minQty, maxQty: r.maxQty, minPrice: r.minPrice, maxPrice: r.maxPrice, minNotional: r.minNotional, marginAsset: r.marginAsset, quoteAsset: r.quoteAsset, status: r.status, contractType: r.contractType})
}

export async function quoteLive(o: LiveTradingOptions): Promise<LiveTradingResult> {
  const symbol = o.symbol.toUpperCase()
  const {creds} = loadCredentials({keyFile: o.keyFile, env: o.env})
  const instance = o.instance ?? defaultInstance(hostname(), symbol)
  // the nonce from the start time in ms (4 base-36 chars wrap every ~28 min): a restart never re-uses the last run's ids
  const runId = liveRunId(instance, o.wallMs)
  const live = o.config.live
  const say = (m: string) => o.onNotice?.(redact(m, creds))
  // one live quote per instance and symbol on this host: a second is refused before anything (SPEC §4.7)
  const twin = acquireInstanceLock({instance, symbol, account: `${o.endpoints.rest}\n${creds.apiKey}`, stateDir: o.stateDir, nowIso: new Date(o.wallMs).toISOString()})
  if ('why' in twin) say(twin.why)
  const twinLock = 'lock' in twin ? twin.lock : undefined
  let keeper: StateKeeper
  try {
    keeper = StateKeeper.open({stateDir: o.stateDir, symbol, dryRun: false, stopLoss: o.config.strategy.kind === 'naive' ? 0 : o.config.risk.stopLoss, maxDailyLoss: o.config.strategy.kind === 'naive' ? 0 : o.config.risk.maxDailyLoss, onNotice: o.onNotice, instance, clientRunId: runId})
  } catch (error) {
    twinLock?.release()
    throw error
  }
  const governor = new RateGovernor({}, {slowAt: live.rateSlowAt, pauseAt: live.ratePauseAt, stormWindowMs: live.stormWindowMs, stormSlowAt: live.stormSlowAt, stormHaltAt: live.stormHaltAt})
  const gw = new BinanceGateway({baseUrl: o.endpoints.rest, credentials: creds, recvWindowMs: o.config.orders.recvWindowMs, timeoutMs: live.requestTimeoutMs, onAnswer: (a) => governor.observe(a)})
  let stream: UserStream | undefined
  let deadman: DeadMansSwitch | undefined
  let auditTimer: NodeJS.Timeout | undefined
  let engine: Engine | undefined
  let transport: OrderTransportSetup | undefined
  /** the venue adapter's own timers (its read-back of fills the stream did not tell) end with the run */
  let stopVenue = (): void => {}
  const isOurs = (id: string) => ownerOf(id, instance) === 'ours'
  try {
    // the run that wrote state.json is dead (we hold its lock): its orders are leftovers even under another instance name
    const st = await readVenueState(gw, symbol, {instance, allowForeign: o.allowForeignOrders, earlierRun: keeper.carriedRun?.runId})
    governor.setLimits(st.rateLimits)
    const inst = instrumentFrom(st)
    const lines = describeVenue(st, {deadmanCountdownMs: live.deadmanCountdownMs})
    for (const l of lines) say(l)
    // the config against this symbol's filters (baseSize and netMax on its lot step, …) before
    // anything changes at the venue: a size the symbol cannot take is refused with nothing sent
    resolveConfig(o.config, inst, o.configSource)
    if (o.confirm && isProduction(o.endpoints.rest) && !(await o.confirm(lines))) {
      throw new MmError('E_NOT_CONFIRMED', 'live trading not confirmed; nothing was sent', {suggestion: 'answer yes, or pass --yes'})
    }
    // the user stream first (buffering until the engine exists): nothing from here on is lost
    stream = new UserStream({keys: gw, wsBase: o.endpoints.ws, routed: o.endpoints.routed, keepAliveMs: live.listenKeyKeepAliveMs, holdUntil: () => {
      const h = governor.readsHeld(wallClock.now())
      return h?.ban ? h.until : undefined
    }})
    stream.on('problem', (m) => say(`user stream: ${m}`))
    stream.on('bad-message', (m) => say(`user stream: ${m}`))
    await stream.start()
    const cancelled = await cancelLeftovers(gw, st)
    // The start position is read after the cancel (issue 10, restart drift): an earlier run's
    // order can no longer fill, so this snapshot holds every fill it ever had, and the
    // adapter drops the buffered stream events of earlier runs' orders (counted here already).
    // The start-up read above is too early: a leftover filling between it and the cancel was
    // lost (the stream was not up yet), one run in three of the crash proof.
    const position = await readPosition(gw, symbol)
    if ((position?.positionAmt ?? '0') !== (st.position?.positionAmt ?? '0')) say(`position now ${position?.positionAmt ?? '0'} @ ${position?.entryPrice ?? '0'} (an order of an earlier run filled before its cancel)`)
    // fills of the earlier run its state never recorded (a kill): read back once, here, where none of its orders can fill any more
    const carried = await carriedWithKillFills(gw, creds, inst, keeper, governor, say)
    if (st.deadman) {
      // the refresh waits out a 418 ban (it cannot succeed), and a 429 back-off while the
      // countdown still runs past the back-off's end by a refresh interval (a call during a
      // back-off is what turns it into a ban); closer to lapsing, it goes out
      const refreshHold = () => {
        const h = governor.readsHeld(wallClock.now())
        if (!h) return undefined
        if (!h.ban && !(h.until !== undefined && deadman !== undefined && deadman.expiresAt > h.until + live.deadmanRefreshMs)) return undefined
        return heldText(h, false)
      }
      deadman = new DeadMansSwitch({api: gw, symbol, countdownMs: live.deadmanCountdownMs, refreshMs: live.deadmanRefreshMs, hold: refreshHold})
      deadman.on('problem', (m) => say(m))
      deadman.on('expired', () => say("dead-man's switch expired: the venue has cancelled every order of the symbol; the audit settles them"))
      await deadman.arm()
    } else {
      // The countdown is the account's, per symbol: one an earlier run left running (killed,
      // or ended in an error with orders open) still cancels every order of the symbol when
      // it ends, the foreign ones this run promised not to touch. Stopped (0) here.
      await idempotentRetry(() => gw.countdownCancelAll(symbol, 0))
      say("dead-man's switch OFF (--allow-foreign-orders); a countdown an earlier run left running is stopped, so the venue cancels none of the foreign orders")
    }
    // orders over the WebSocket API (falling back to REST while it is down) or REST: order-transport.ts
    const requested = o.orderTransport ?? live.orderTransport
    transport = await startOrderTransport({kind: requested, url: o.wsApiUrl ?? wsApiUrl(o.endpoints), gateway: gw, credentials: creds, recvWindowMs: o.config.orders.recvWindowMs, timeoutMs: live.requestTimeoutMs, governor, say})
    const orders = transport.orders
    const isThisRun = (id: string) => parseClientId(id)?.runId === runId
    let venue: BinanceVenue | undefined
    const reports = new ReportQueue()
    let audits = 0
    let auditsHeld = 0
    let findings = 0
    let recoveryLogged = false
    let lastHoldSaid: string | undefined
    // a position difference the last audit saw (after which it replayed userTrades), not adopted yet
    let drift: PendingDrift | undefined
    // `resync`: the audit of a user-stream reconnect, taken while the stream holds its events
    // back; its position difference is expected (the held fills are not applied yet) and it
    // never marks the stream dead again (that looped: reconnect → audit → dead → reconnect…)
    const runAudit = async (resync = false): Promise<boolean> => {
      if (!venue || !engine || !stream) return false
      // a 418 ban or a 429 back-off: the audit waits (every call would lengthen the ban); said once per hold
      const hold = heldText(governor.readsHeld(wallClock.now()), false)
      if (hold !== undefined) {
        auditsHeld++
        if (hold !== lastHoldSaid) say(`audit not sent: ${hold}`)
        lastHoldSaid = hold
        return false
      }
      // a periodic audit that falls while the stream is reconnecting counts as the reconnect's
      const held = resync || stream.isBuffering
      try {
        const e = engine
        const r = await venue.audit({working: e.working, position: e.positionSteps, graceMs: o.config.orders.ackTimeoutMs, positionNow: () => e.positionSteps})
        audits++
        findings += r.findings.length
        const d = r.findings.find((f) => f.kind === 'position_drift')
        // the venue is the truth (issue 10 item 4): the same difference two audits running (audit.ts driftVerdict)
        const v = driftVerdict(drift, d, engine.positionSteps, stream.isBuffering)
        drift = v.pending
        if (v.adopt && d) {
          const venueQty = inst.signedStepsToQty(d.venue)
          const next = positionFromVenue(inst, venueQty, r.venueEntryPrice)
          const old = engine.adoptVenuePosition({net: next.net, cost: next.cost})
          const oldEntry = old.net === 0 ? null : avgEntryPrice(old, inst, inst.priceDecimals)
          const newEntry = next.net === 0 ? null : (r.venueEntryPrice ?? null)
          say(`audit: position adopted: ${old.net} → ${next.net} steps (${inst.signedStepsToQty(old.net)}${oldEntry ? ` @ ${oldEntry}` : ''} → ${venueQty}${newEntry ? ` @ ${newEntry}` : ''}): the venue is the truth`)
          engine.noteRiskEvent('audit', {oldPosition: inst.signedStepsToQty(old.net), newPosition: venueQty, oldEntry, newEntry, ownSteps: old.net, venueSteps: next.net}, 'position_adopted')
        }
        // a reconnect's audit leaves its position difference to the periodic audits (the held fills explain it)
        const found = held ? r.findings.filter((f) => f.kind !== 'position_drift') : r.findings
        if (found.length > 0) {
          const rc = held ? 0 : 1
          say(`audit: ${found.map((f) => (f.kind === 'position_drift' ? `position ${f.own} steps, venue ${f.venue}` : `${f.kind} ${f.clientOrderId}`)).join('; ')}${r.fillsRecovered ? `; ${r.fillsRecovered} fill(s) recovered` : ''}${rc ? '; user stream reconnected with a new key' : ''}`)
          // what the audit found and fixed is a risk_event (run log, operator log, metrics)
          for (const f of found) {
            if (f.kind === 'stray') engine.noteRiskEvent('audit', {clientOrderId: f.clientOrderId, cancelled: r.strayCancelled.includes(f.clientOrderId) ? 1 : 0, streamReconnected: rc}, 'stray_order_cancelled')
            else if (f.kind === 'missing') engine.noteRiskEvent('audit', {clientOrderId: f.clientOrderId, queried: 1, streamReconnected: rc}, 'missing_order_queried')
            else engine.noteRiskEvent('audit', {ownSteps: f.own, venueSteps: f.venue, fillsRecovered: r.fillsRecovered, streamReconnected: rc}, 'position_drift_fixed')
          }
          if (!held) stream.markDead('audit')
        }
        // the clock offset measured again (weight 1): a local clock stepped since the start
        // would age every book by the step (§4.5 stale book) until a -1021 re-measured it
        void gw.syncTime('periodic').catch(() => undefined)
        return true
      } catch (err) {
        say(`audit failed: ${(err as Error).message}`)
        return false
      }
    }
    // After a 418 ban no new order goes out (the governor says `paused`) until the switch is
    // set again — its countdown may have run out during the ban, the venue cancelling our
    // orders and the switch with them — and an audit has settled open orders and position.
    // Tried at most every BAN_RECOVERY_RETRY_MS while a decision asks for the pace.
    let recovering = false
    let recoveryTriedAt = -Infinity
    const recoverAfterBan = async () => {
      recovering = true
      recoveryTriedAt = wallClock.now()
      try {
        if (deadman && !(await deadman.refresh())) return
        if (!(await runAudit())) return
        governor.banCleared()
        say(`after the ban: ${deadman ? "the dead-man's switch is set again and " : ''}the audit has run; quoting may resume`)
      } finally {
        recovering = false
      }
    }
    // the governor's verdict and positionRisk's liquidation price reach the risk rules at every decision
    const venueRisk = liveVenueRisk({
      governor,
      venue: () => venue,
      beforeRead: (now) => {
        if (!recovering && governor.banEnded(now) && now - recoveryTriedAt >= BAN_RECOVERY_RETRY_MS) void recoverAfterBan()
      },
      onMode: (mode, reason) => say(`rate governor: ${mode} (${reason})`),
    })
    // the user stream going down and coming back is said (once per outage, not per retry):
    // fills and cancels reach the run only from order answers and read-backs meanwhile
    let streamDown: {since: number; tries: number; reason: string} | undefined
    stream.on('down', (d) => {
      if (streamDown) {
        streamDown.tries++
        return
      }
      streamDown = {since: wallClock.now(), tries: 1, reason: d.reason}
      say(`user stream down (${d.reason}: ${d.detail}); reconnecting${d.retryInMs > 0 ? ` in ${Math.round(d.retryInMs)} ms` : ''}: fills and cancels come from order answers and read-backs meanwhile`)
    })
    stream.on('resync', (info) => {
      if (streamDown) {
        say(`user stream back after ${Math.round(wallClock.now() - streamDown.since)} ms, ${streamDown.tries} drop(s) (${streamDown.reason}): reading back what it missed`)
        streamDown = undefined
      }
      if (info.reason === 'start') return
      // a fill in the gap the new stream never tells: the read-backs start below it until one has read past it
      venue?.noteStreamResync()
      void runAudit(true).finally(() => stream?.flush())
    })
    stream.on('event', (ev, ts) => venue?.onUserEvent(ev, ts))
    // avgCost in state.json: the venue's entry price while its position equals the ledger's
    keeper.useVenuePosition(() => (venue?.venuePosition !== undefined && venue.venueEntryPrice !== undefined ? {net: venue.venuePosition, entryPrice: venue.venueEntryPrice} : undefined))
    const factory = () => {
      venue = new BinanceVenue({gateway: gw, orders, instrument: inst, clock: wallClock, sink: reports, stp: live.selfTradePrevention, governor, maxOpenOrders: st.rules.maxNumOrders, percentPrice: st.rules.percentPrice, isOurs, isThisRun, marginAsset: st.rules.marginAsset, onProblem: (m) => say(m)})
      const v = venue
      stopVenue = () => v.stop()
      venue.setMark(st.markPrice)
      venue.setLiquidation(position?.liquidationPrice, position?.markPrice ?? st.markPrice)
      // the start-up warm-up builds (and drops) signed requests as this venue would send them
      return {venue, reports, warmBuild: gatewayWarmBuild(gw, inst, live.selfTradePrevention, orders === undefined)}
    }
    // the symbol's one book, kept by the feed's byte scanner and read by the engine (market-feed.ts);
    // with the venue's mark each second (<symbol>@markPrice@1s on /market): the PERCENT_PRICE
    // band the core clamps to follows it, not only the start, the audits and a refusal's re-read
    const feed = marketFeed(o.endpoints, inst, o.config, {marks: st.rules.percentPrice !== undefined})
    let badMarks = 0
    let nextBadMarkSaid = 1
    feed.on('mark', (m) => {
      if (!venue) return
      const why = applyStreamMark(venue, inst, m.markPrice)
      if (why === undefined) return
      // the band stays as it was; the 1st, 10th, 100th … told (a stream of them is no log storm)
      if (++badMarks !== nextBadMarkSaid) return
      nextBadMarkSaid *= 10
      say(`mark price stream: ${m.markPrice.slice(0, 40)} ${why}; the PERCENT_PRICE band stays as it was (${badMarks} such mark(s))`)
    })
    auditTimer = setInterval(() => void runAudit(), live.auditIntervalMs)
    const res = await runLive(
      {
        instrument: inst, config: o.config, configSource: o.configSource, mode: 'live', stateDir: o.stateDir, wallMs: o.wallMs, source: o.endpoints.rest, runId, metrics: o.metrics, venue: factory, keeper,
        startPosition: startLedger(inst, position, carried.ledger),
        riskDay: keeper.carriedDay(inst), venueRisk, venueClockOffsetMs: () => gw.timeOffsetMs, logger: o.logger, onNotice: (m) => say(m),
        sync: feed.depthSync(symbol),
        onEngine: (e) => {
          engine = e
          transport?.attach(e)
          queueMicrotask(() => stream?.flush())
        },
        onStart: (dir) => say(`live ${symbol} on ${o.endpoints.rest} as instance ${instance} (client ids mm-${runId}-…, strategy ${o.config.strategy.kind}); events → ${dir}/events.jsonl`),
        onSynced: () => {
          const r = carried.recovery
          if (r && engine && !recoveryLogged) {
            recoveryLogged = true
            // one fills_recovered risk_event per start with a carried ledger (0 when nothing was missing)
            engine.noteRiskEvent('audit', {fills: r.recovered, read: r.read, others: r.others, lookups: r.lookups, fees: r.fees, realised: r.realised, run: carried.runId ?? null, ...r.from, incomplete: r.incomplete ?? null}, 'fills_recovered')
          }
          say(`${symbol} market data in sync; quoting (Ctrl-C stops: cancel all, switch disarmed, summary)`)
        },
      },
      feed,
      {durationMs: o.durationMs, stop: o.stop, onProgress: o.onProgress, beforeEnd: async () => {
        // fills an answer showed and the stream did not tell, read back before run_end, the
        // summary and the last state write (the delayed read-back the stop drops)
        if (!venue) return
        const r = await venue.readBackAtStop(STOP_READBACK_BOUND_MS)
        if (r.pending.length === 0) return
        const ids = r.pending.join(', ')
        const next = 'the next start reads them back from userTrades'
        if (r.held) say(`at the stop: the fills of ${ids} the user stream did not tell were not read back (${heldText(r.held, false)}); ${next}`)
        else if (r.failed !== undefined) say(`at the stop: reading back the fills of ${ids} the user stream did not tell failed (${r.failed}); ${next}`)
        else if (r.timedOut) say(`at the stop: reading back the fills of ${ids} the user stream did not tell took over ${STOP_READBACK_BOUND_MS} ms, left; ${next}`)
        else say(`at the stop: the venue shows fills of ${ids} the user stream did not tell: ${r.read} fill(s) read back from userTrades${r.left.length > 0 ? `; not all of ${r.left.join(', ')} (${next})` : ''}`)
      }},
    )
    clearInterval(auditTimer)
    // disarm only when nothing of ours is left working: otherwise the switch is the safety net
    let disarmed = false
    let left: Awaited<ReturnType<typeof gw.openOrders>>
    try {
      left = (await idempotentRetry(() => gw.openOrders(symbol))).filter((x) => isOurs(x.clientOrderId))
    } catch (err) {
      // the venue cannot be asked (a 418 ban, an outage): the run still ends with its summary;
      // the switch stays armed as the safety net for anything of ours still open
      if (!(err instanceof BinanceApiError)) throw err
      deadman?.abandon()
      say(`the venue could not be asked for our open orders at the stop (${err.message})${deadman ? `; ${switchSays(deadman, 'any order of ours')}` : ''}`)
      return {...res, instrument: inst, venue: {url: o.endpoints.rest, deadman: st.deadman, cancelledAtStart: cancelled, disarmed, audits, auditsHeld, auditFindings: findings, orderTransport: {requested, ...transport.status()}}, stateFile: keeper.path}
    }
    if (deadman) {
      // none listed by the venue and none the engine still holds (sent, unanswered, or a cancel unconfirmed)
      if (left.length === 0 && (engine?.openOrders ?? 0) === 0) {
        await deadman.disarm()
        disarmed = true
      } else {
        deadman.abandon()
        say(`${Math.max(left.length, engine?.openOrders ?? 0)} order(s) of ours may still be open at the venue; ${switchSays(deadman, 'them')}`)
      }
    }
    return {...res, instrument: inst, venue: {url: o.endpoints.rest, deadman: st.deadman, cancelledAtStart: cancelled, disarmed, audits, auditsHeld, auditFindings: findings, orderTransport: {requested, ...transport.status()}}, stateFile: keeper.path}
  } catch (err) {
    // an error, not a crash: the switch stays armed only while an order of ours may still be
    // working (it would cancel every order of the symbol, the user's own included, for nothing)
    if (deadman?.isArmed) {
      try {
        const left = (await gw.openOrders(symbol)).filter((x) => isOurs(x.clientOrderId))
        // …and only when the engine holds none either (a request on its way is not listed yet)
        if (left.length === 0 && (engine?.openOrders ?? 0) === 0) await deadman.disarm()
        else say(`${Math.max(left.length, engine?.openOrders ?? 0)} order(s) of ours may still be open at the venue; ${switchSays(deadman, 'them')}`)
      } catch {
        // the venue cannot be asked: the switch stays the safety net
      }
    }
    throw err
  } finally {
    clearInterval(auditTimer)
    stopVenue()
    deadman?.abandon()
    await transport?.stop().catch(() => undefined)
    // the listenKey is not deleted: an account has one, shared by every client of it (another
    // mm instance on another symbol), and deleting it closed their user streams too; unused,
    // it expires 60 min after its last keep-alive
    await stream?.stop({closeKey: false}).catch(() => undefined)
    await gw.close().catch(() => undefined)
    keeper.close('error')
    twinLock?.release()
  }
}

/**
 * What the risk rules read of the venue at every decision of a live run (the engine's
 * `venueRisk`): the rate governor's verdict as the pace (`onMode` told of each change of
 * mode), and the Binance venue's liquidation price, mark and PERCENT_PRICE band (none before
 * the venue exists). `beforeRead`: run first at each read (live: the recovery after a ban).
 * Shared with the tick-to-order bench, which times the live decision path with it.
 */
export function liveVenueRisk(o: {governor: RateGovernor; venue: () => BinanceVenue | undefined; beforeRead?: (now: number) => void; onMode?: (mode: GovernorMode, reason: string) => void}): {read(now: number): VenueRisk; onResume(): void} {
  let lastMode: GovernorMode = 'normal'
  return {
    read(now: number): VenueRisk {
      o.beforeRead?.(now)
      const v = o.governor.verdict(now)
      if (v.mode !== lastMode) {
        o.onMode?.(v.mode, v.reason)
        lastMode = v.mode
      }
      const venue = o.venue()
      // one literal (no spread adding a key: docs/engine.md); `until` only when a stop ends
      const pace: NonNullable<VenueRisk['pace']> = v.until === undefined ? {mode: v.mode, factor: v.intervalFactor, reason: v.reason} : {mode: v.mode, factor: v.intervalFactor, reason: v.reason, until: v.until}
      return {liquidationTicks: venue?.liquidationTicks ?? 0, markTicks: venue?.markTicks ?? 0, maxBuyTicks: venue?.percentMaxBuyTicks ?? null, minSellTicks: venue?.percentMinSellTicks ?? null, pace}
    },
    onResume: () => o.governor.resume(),
  }
}
