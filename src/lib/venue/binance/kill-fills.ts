/**
 * Fills a killed run never counted (issue 10, crash safety): the fills that reached the
 * venue after the earlier run's last state write (coalesced, ≤ 50 ms after a fill) and
 * before it died. They are in the venue's position the restart starts from, but not in the
 * running totals state.json carried (fees, realised PnL, fill count).
 *
 * At a live start with a carried ledger, after the earlier run's orders are cancelled (so
 * none of them can fill any more) and before the first order:
 *  - read `GET /fapi/v1/userTrades` after the last trade the ledger counted (`fromId` =
 *    `ledger.lastTradeId + 1`; a ledger without one: `startTime` = its last fill's time + 1,
 *    or the earlier run's start − 60 s when it never counted a fill), page by page (≤ 1000
 *    a page, at most `maxPages`), oldest first;
 *  - then below it: from the earlier run's start − 60 s (or its list's floor + 1) up to
 *    `lastTradeId`, the trades its list of counted ids (`ledger.tradeIds`) does not hold.
 *    A fill counted out of id order (the stream told a later trade before an earlier one
 *    was read back) left a lower trade behind that `fromId` alone never reaches: before,
 *    its fees and realised PnL were lost for good. Listed ids cost no lookup;
 *  - tell whose each trade was: userTrades carry only the venue's `orderId`, so each
 *    distinct order is looked up once (`GET /fapi/v1/order?orderId=`, at most
 *    `maxLookups`), and a trade counts when its order's client id carries the earlier run's
 *    id (`mm-<runId>-…`): another instance's, a human's, or an even older run's trade
 *    (already in that run's totals, or recovered by the run after it) never counts;
 *  - fold ours into that ledger with the ledger's own `applyFill` (fees, the venue's
 *    realised profit, fill counts, volume, `lastTradeId`, `tradeIds`), so a trade id counted
 *    once is never counted again, also across a second restart (its ledger's `lastTradeId`
 *    is past it, and an earlier run's trade below it is not that run's).
 * Every request waits while the rate governor pauses (bounded); a page that cannot be read
 * fails the start (nothing was sent, the state file is untouched: a new start tries again).
 */
import {PlainDecimal} from '../../domain/decimal.js'
import type {Instrument} from '../../domain/instrument.js'
import {parseClientId} from '../../orders/client-id.js'
import {applyFill, type Position} from '../../orders/position.js'
import {BinanceApiError, idempotentRetry} from './errors.js'
import type {RateGovernor} from './rate-governor.js'
import type {BinanceOrder, BinanceTrade} from './rest-types.js'

export interface KillFillsOptions {
  gateway: {
    userTrades(q: {symbol: string; startTime?: number; fromId?: number; limit?: number}): Promise<BinanceTrade[]>
    queryOrderById(symbol: string, orderId: number): Promise<BinanceOrder>
  }
  symbol: string
  inst: Instrument
  /** the earlier run (state.json `process.runId`) */
  runId: string
  /** further runs whose trades count too (`mm flatten`'s own orders, `mm-<tag>-flat-…`) */
  alsoRunIds?: readonly string[]
  /** its ledger, as state.json carried it */
  ledger: Position
  /** ms: when the earlier run started (state.json `process.startedAt`) */
  runStartedMs: number
  /**
   * the venue's clock less ours, ms (the gateway's measured server-time offset): turns
   * `runStartedMs` (our clock) into the venue's, which trade times are in; absent = 0
   */
  venueClockOffsetMs?: number
  governor?: RateGovernor
  now: () => number
  wait: (ms: number) => Promise<void>
  /** pages of `pageSize` trades (default 20 × 1000) */
  maxPages?: number
  pageSize?: number
  /** distinct orders looked up (default 50) */
  maxLookups?: number
  /** ms waited in all for the governor to let requests go (default 60 s) */
  maxWaitMs?: number
}

export interface KillFillsResult {
  /** the carried ledger with the recovered fills folded in */
  ledger: Position
  /** trades of the earlier run counted now */
  recovered: number
  /** of those, trades below the ledger's `lastTradeId` its list of counted ids did not hold */
  below: number
  /** trades read after the ledger's last one */
  read: number
  /** of those, trades of other orders (another instance, a human, an older run) */
  others: number
  lookups: number
  /** where the read began */
  from: {fromId: number} | {startTime: number}
  /** Σ commission and Σ realised profit of the recovered trades (exact decimals) */
  fees: string
  realised: string
  /** set when the read stopped before the end (bounds, governor): what was left out */
  incomplete?: string
}

const NO_FILL_MARGIN_MS = 60_000
/**
 * The read below the last counted id: a trade older than the earlier run's start (on the
 * venue's clock: our clock plus the measured offset) by more than this cannot be that
 * run's; its order is not looked up. Without it the 60 s margin's trades
 * (the run before's last fills after a quick restart, another instance's, a human's) took
 * the 50 lookups before the run's own missed trade was reached.
 */
const RUN_CLOCK_SLACK_MS = 10_000

async function paced(o: KillFillsOptions, budget: {waitedMs: number}): Promise<string | undefined> {
  const g = o.governor
  if (!g) return undefined
  const max = o.maxWaitMs ?? 60_000
  for (let i = 0; i < 100; i++) {
    const v = g.verdict(o.now())
    if (v.mode === 'stopped') return `the rate governor stopped requests (${v.reason})`
    if (v.mode !== 'paused') return undefined
    const ms = Math.min(Math.max(50, (v.until ?? o.now() + 1000) - o.now()), max - budget.waitedMs)
    if (ms <= 0) return `the rate governor kept requests paused past ${max} ms (${v.reason})`
    budget.waitedMs += ms
    await o.wait(ms)
  }
  return 'the rate governor kept requests paused'
}

export async function recoverKillFills(o: KillFillsOptions): Promise<KillFillsResult> {
  const pageSize = o.pageSize ?? 1000
  const maxPages = o.maxPages ?? 20
  const maxLookups = o.maxLookups ?? 50
  const last = o.ledger.lastTradeId
  // the earlier run's start on the venue's clock (trade times): a host clock 30 s ahead put it 30 s late
  const runStartedVenueMs = o.runStartedMs + (o.venueClockOffsetMs ?? 0)
  const from: KillFillsResult['from'] =
    last === undefined ? {startTime: o.ledger.lastFillTs > 0 ? o.ledger.lastFillTs + 1 : Math.max(0, runStartedVenueMs - NO_FILL_MARGIN_MS)} : {fromId: Number(BigInt(last) + 1n)}
  const owner = new Map<number, string | null>()
  const budget = {waitedMs: 0}
  let ledger = o.ledger
  let recovered = 0
  let below = 0
  let read = 0
  let others = 0
  let lookups = 0
  let fees = new PlainDecimal(0)
  let realised = new PlainDecimal(0)
  let incomplete: string | undefined

  /**
   * Read from `start` on, page by page (oldest first), and count each trade of the earlier
   * run that `skip` does not exclude; stop after trade id `upTo` (absent: at the end).
   * Returns false when it stopped at a bound (`incomplete` says which).
   */
  const readFrom = async (start: {fromId?: number; startTime?: number}, skip: (id: number) => boolean, upTo: bigint | undefined, what: string, notBefore?: number): Promise<boolean> => {
    let next = start
    for (let pages = 0; ; pages++) {
      if (pages >= maxPages) {
        incomplete = `more than ${maxPages * pageSize} trades ${what}; the rest were not read`
        return false
      }
      incomplete = await paced(o, budget)
      if (incomplete) return false
      const q = {symbol: o.symbol, ...next, limit: pageSize}
      const page = (await idempotentRetry(() => o.gateway.userTrades(q))).filter((t) => t.symbol === o.symbol).sort((a, b) => a.id - b.id)
      for (const t of page) {
        if (upTo !== undefined && BigInt(t.id) > upTo) return true
        if (skip(t.id)) continue
        read++
        let cid = owner.get(t.orderId)
        if (cid === undefined && notBefore !== undefined && t.time < notBefore) {
          // before the earlier run started: another run's, another instance's or a human's
          others++
          continue
        }
        if (cid === undefined) {
          if (lookups >= maxLookups) {
            incomplete = `more than ${maxLookups} orders to look up; trades from id ${t.id} on were not checked`
            read--
            return false
          }
          incomplete = await paced(o, budget)
          if (incomplete) {
            read--
            return false
          }
          lookups++
          try {
            cid = (await idempotentRetry(() => o.gateway.queryOrderById(o.symbol, t.orderId))).clientOrderId
          } catch (err) {
            // an order the venue no longer knows cannot be shown to be ours: not counted
            if (!(err instanceof BinanceApiError && err.noSuchOrder)) throw err
            cid = null
          }
          owner.set(t.orderId, cid)
        }
        const rid = cid === null ? undefined : parseClientId(cid)?.runId
        if (cid === null || rid === undefined || (rid !== o.runId && !(o.alsoRunIds?.includes(rid) ?? false))) {
          others++
          continue
        }
        ledger = applyFill(ledger, {
          clientOrderId: cid, side: t.side, price: o.inst.priceToTicks(t.price), qty: o.inst.qtyToSteps(t.qty), maker: t.maker, fee: t.commission, ts: t.time, tradeId: String(t.id), realised: t.realizedPnl,
        })
        fees = fees.add(t.commission)
        realised = realised.add(t.realizedPnl)
        recovered++
        if (upTo !== undefined) below++
      }
      if (page.length < pageSize) return true
      next = {fromId: page[page.length - 1].id + 1}
    }
  }

  // the trades after the last one counted (a page read by time may hold trades at or before the cursor: never with fromId)
  const done = await readFrom(from, (id) => last !== undefined && BigInt(id) <= BigInt(last), undefined, 'since the last counted one')
  // …and below it, those the earlier run's list of counted ids does not hold (a trade counted
  // out of id order hid a lower one from `fromId`): from its list's floor, or its start − 60 s
  const listed = o.ledger.tradeIds
  if (done && last !== undefined && listed !== undefined) {
    const counted = new Set(listed)
    const floor = o.ledger.tradeIdsFloor === undefined ? undefined : BigInt(o.ledger.tradeIdsFloor)
    const start = floor === undefined ? {startTime: Math.max(0, runStartedVenueMs - NO_FILL_MARGIN_MS)} : {fromId: Number(floor + 1n)}
    await readFrom(start, (id) => counted.has(String(id)) || (floor !== undefined && BigInt(id) <= floor), BigInt(last), 'below the last counted one', runStartedVenueMs - RUN_CLOCK_SLACK_MS)
  }
  return {ledger, recovered, below, read, others, lookups, from, fees: fees.toString(), realised: realised.toString(), ...(incomplete === undefined ? {} : {incomplete})}
}
