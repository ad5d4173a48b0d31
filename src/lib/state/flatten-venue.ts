/**
 * `mm flatten` when no quote runs (live state, API keys): the command closes the position
 * itself. Each round: a fresh depth snapshot, the pure plan (strategy/flatten.ts: the depth
 * within the hard cap, pieces of at most the max order size), reduce-only IOC orders, their
 * fills; the next round re-reads the book. Stops when flat, when a round finds nothing
 * within the cap, on a venue error, or after `maxRounds`. An IOC the venue refuses for
 * PERCENT_PRICE (-4024 / -4016: the mark moved between the round's read of the band and the
 * order's arrival; nothing happened at the venue) ends only its round: it is recorded
 * 'rejected' with the code, and the next round reads the book and the band again.
 */
import {wallClock} from '../clock/clock.js'
import {PlainDecimal} from '../domain/decimal.js'
import {Instrument, type Steps} from '../domain/instrument.js'
import type {Position} from '../orders/position.js'
import type {KillFillsResult} from '../venue/binance/kill-fills.js'
import type {SymbolRules} from '../venue/binance/rest-types.js'
import type {OrderSide} from '../domain/orders.js'
import {formatClientId} from '../orders/client-id.js'
import {BinanceApiError, idempotentRetry} from '../venue/binance/errors.js'
import {levelsBook, planFlattenRound, type PriceBand} from '../strategy/flatten.js'
import type {FlattenRound} from './file.js'

export interface FlattenVenue {
  /** the symbol's filters as the venue lists them now (tick, step, min/max order size) */
  instrument(symbol: string): Promise<Instrument>
  depth(symbol: string): Promise<{bids: Array<[string, string]>; asks: Array<[string, string]>}>
  /** client ids of the symbol's open orders */
  openOrderIds(symbol: string): Promise<string[]>
  /** signed position (base qty decimal string) on the venue */
  position(symbol: string): Promise<string>
  /** the position with the venue's average entry price (positionRisk): a ledger begun from the venue's position (no state.json's ledger to carry) */
  entry?(symbol: string): Promise<{amount: string; entryPrice: string}>
  /**
   * PERCENT_PRICE now: the mark price and the symbol's multipliers (a SELL below mark × down
   * is refused -4024, a BUY above mark × up -4016); null when the symbol lists none
   */
  percentPrice?(symbol: string): Promise<{markPrice: string; multiplierUp: string; multiplierDown: string} | null>
  /** a reduce-only IOC; its final state */
  placeIoc(o: {symbol: string; side: OrderSide; price: string; qty: string; clientOrderId: string}): Promise<{status: string; executedQty: string; avgPrice: string}>
  /**
   * The trades of the runs `runIds` after the ledger's last counted one, folded into it
   * (kill-fills.ts): the flatten's own fills, and those of a killed quote state.json missed.
   */
  bookFills(o: {symbol: string; inst: Instrument; ledger: Position; runIds: readonly string[]; runStartedMs: number}): Promise<KillFillsResult>
}

export interface VenueFlattenResult {
  positionBefore: string
  positionAfter: string
  /** where positionAfter comes from: the venue's position read after the last order, or (that read failed) the flatten's own count of its fills */
  positionAfterFrom: 'venue' | 'own count'
  rounds: FlattenRound[]
  exitCode: 0 | 1 | 3
  final: string
  venueError: string | null
}

export async function flattenOnVenue(o: {venue: FlattenVenue; inst: Instrument; maxSlip: number; maxRounds: number; runTag: string; onRound?: (r: FlattenRound) => void; stopped?: () => string | null}): Promise<VenueFlattenResult> {
  const {venue, inst} = o
  const sym = inst.symbol
  // the venue's position exactly; orders close its part on the LOT_SIZE grid, rounded
  // toward zero (never more than the position). A part off the grid (the position was
  // opened on another grid: a step size the venue has since raised) no order can close:
  // it stays in the residual, never rounded away into a "flat"
  const steps = (q: PlainDecimal): Steps => inst.qtyToSteps(q.abs().toString(), 'down') * (q.isNeg() ? -1 : 1)
  const show = (q: PlainDecimal): string => (q.sub(inst.stepDecimal(steps(q))).isZero() ? inst.signedStepsToQty(steps(q)) : q.toString())
  const beforeQty = new PlainDecimal(await venue.position(sym))
  const before = show(beforeQty)
  let net = steps(beforeQty)
  const offGrid = beforeQty.sub(inst.stepDecimal(net))
  const rounds: FlattenRound[] = []
  let seq = 0
  let venueError: string | null = null
  // order calls that got no answer (timeout, connection cut, 5xx): each may have filled;
  // the venue's position was read after it and the next round closes what it says is left
  const unanswered: string[] = []
  // a round's price was moved inside the PERCENT_PRICE band (the final line says so)
  let clamped = false
  // IOCs refused whole by PERCENT_PRICE: the mark moved after the round read it; or the
  // round had no band (the mark could not be read: `bandError`) and priced at the cap
  let bandRefused = 0
  let unbandedRefused = 0
  let bandError = ''
  let stopWhy = ''
  for (let round = 1; round <= o.maxRounds && net !== 0; round++) {
    // the operator's stop (Ctrl-C, SIGTERM): no new order; what filled is still read back
    let why = o.stopped?.() ?? null
    if (why !== null) {
      stopWhy = `stopped by ${why}`
      break
    }
    const snap = await venue.depth(sym)
    const lv = (l: Array<[string, string]>) => l.map(([p, q]) => [inst.priceToTicks(p), inst.qtyToSteps(q)] as [number, number])
    // the band of the mark now: the round plans to its edge where that is nearer than the cap
    const band = await percentBand(venue, sym, inst, (e) => (bandError = e))
    const plan = planFlattenRound(levelsBook(lv(snap.bids), lv(snap.asks)), net, o.maxSlip, inst, band)
    if (plan.bandLimited) clamped = true
    if (plan.orders.length === 0) {
      stopWhy = plan.why === 'no_depth_within_cap' ? plan.bandLimited ? `nothing in the book within the band: ${plan.side} ${plan.side === 'SELL' ? '≥' : '≤'} ${inst.ticksToPrice(plan.capTicks as number)}` : 'nothing in the book within the cap' : plan.why === 'below_min_qty' ? 'below the minimum order size' : 'no usable book'
      break
    }
    const mid = plan.mid === null ? null : new PlainDecimal(plan.mid).mul(inst.spec.tickSize).toString()
    let refused = false
    let reread = false
    for (const ord of plan.orders) {
      why = o.stopped?.() ?? null
      if (why !== null) {
        stopWhy = `stopped by ${why}`
        break
      }
      const id = formatClientId(o.runTag, 'flat', ++seq)
      const price = inBand(ord.side, ord.price, band)
      if (price !== ord.price) clamped = true
      const r: FlattenRound = {round, clientOrderId: id, side: ord.side, price: inst.ticksToPrice(price), qty: inst.stepsToQty(ord.qty), filled: '0', status: 'open', mid, slippage: null}
      try {
        const a = await venue.placeIoc({symbol: sym, side: ord.side, price: r.price, qty: r.qty, clientOrderId: id})
        const filled = inst.qtyToSteps(a.executedQty, 'down')
        r.filled = inst.stepsToQty(filled)
        r.status = a.status.toLowerCase()
        if (filled > 0 && mid !== null) {
          const m = new PlainDecimal(mid)
          const px = new PlainDecimal(a.avgPrice)
          r.slippage = (ord.side === 'SELL' ? m.sub(px) : px.sub(m)).div(m).toSignificantDigits(6).toString()
        }
        net += ord.side === 'SELL' ? -filled : filled
      } catch (error) {
        // no answer (timeout, connection cut, 5xx): the IOC may have filled — not 'rejected'
        // (it was, while the venue's position showed it filled); the position after is the venue's
        r.status = error instanceof BinanceApiError && error.definitive ? 'rejected' : 'unknown'
        if (bandRefusal(error)) {
          // a definitive refusal: nothing filled; the round ends, the next re-reads the band
          r.code = error.venueCode
          r.reason = error.venueMsg ?? error.message
          refused = true
          if (band !== null) {
            bandRefused++
            clamped = true
          } else unbandedRefused++
        } else if (r.status === 'rejected') venueError = (error as Error).message
        else {
          // no answer: the IOC may have filled, in part or whole. Before, the flatten stopped
          // here (exit 1, the rounds left unused: one lost answer under load ended an
          // emergency close). The venue's position now says what is left and the next round
          // closes that: its orders are reduce-only, so an IOC that fills after this read
          // can never carry the next one past flat (the venue shrinks or refuses it)
          unanswered.push((error as Error).message)
          try {
            net = steps(new PlainDecimal(await venue.position(sym)))
            reread = true
          } catch {
            venueError = (error as Error).message
          }
        }
      }
      rounds.push(r)
      o.onRound?.(r)
      if (venueError || refused || reread) break
    }
    if (venueError || stopWhy) break
  }
  // the venue's word on what is left, asked after a failed order call too: a call that
  // timed out or was cut may still have filled, which the own count cannot know
  let afterQty = inst.stepDecimal(net).add(offGrid)
  let afterFrom: VenueFlattenResult['positionAfterFrom'] = 'own count'
  let readError: string | null = null
  try {
    afterQty = new PlainDecimal(await venue.position(sym))
    afterFrom = 'venue'
  } catch (error) {
    readError = (error as Error).message
  }
  const after = show(afterQty)
  const lost = unanswered.length === 0 ? null : unanswered.length === 1 ? unanswered[0] : `${unanswered.at(-1)} (${unanswered.length} order calls unanswered)`
  const orderError = venueError ?? lost
  venueError = orderError ?? readError
  const residual = after.replace(/^-/, '')
  const flat = afterQty.isZero()
  // what is left is under one step of the grid: no reduce-only order can be sized for it
  const underStep = !flat && steps(afterQty) === 0
  const exitCode = flat ? 0 : venueError ? 1 : 3
  const roundsRun = new Set(rounds.map((r) => r.round)).size
  const refusals = (band: string) =>
    [bandRefused > 0 ? `${bandRefused} order(s) refused by ${band}: the mark moved` : '', unbandedRefused > 0 ? `${unbandedRefused} order(s) refused by PERCENT_PRICE: ${bandError ? `the mark could not be read (${bandError})` : 'no band was known (the symbol lists no PERCENT_PRICE filter)'}` : ''].filter(Boolean).join('; ')
  const counted = readError !== null ? ` (by mm's own count: the venue's position could not be read: ${readError})` : ''
  const final = flat
    ? before === after && rounds.length === 0
      ? `${sym}: no position`
      : `flat after ${rounds.length} order(s) in ${roundsRun} round(s)${orderError ? ` (an order call failed: ${orderError}; the venue's position is flat)` : counted}${bandRefused + unbandedRefused > 0 ? ` (${refusals('the PERCENT_PRICE band')})` : ''}`
    : orderError ? `venue error: ${orderError}; residual ${residual}${counted}${stopWhy ? ` (${stopWhy})` : ''}` : readError ? `residual ${residual}${counted}` : underStep && !stopWhy ? `residual ${residual} after ${roundsRun} round(s): less than one step ${inst.spec.stepSize} of ${sym} (LOT_SIZE), which no order can carry; close it on the venue` : `residual ${residual} after ${roundsRun} round(s) within max slippage ${o.maxSlip}${clamped ? ' and the PERCENT_PRICE band of the mark' : ''}${bandRefused + unbandedRefused > 0 || stopWhy ? ` (${[refusals('the band'), stopWhy].filter(Boolean).join('; ')})` : ''}`
  return {positionBefore: before, positionAfter: after, positionAfterFrom: afterFrom, rounds, exitCode, final, venueError}
}

/** the venue refused an IOC whole for PERCENT_PRICE: -4024 (a SELL below mark × down), -4016 (a BUY above mark × up) */
function bandRefusal(e: unknown): e is BinanceApiError & {venueCode: number} {
  return e instanceof BinanceApiError && e.definitive && (e.venueCode === -4024 || e.venueCode === -4016)
}

/**
 * The PERCENT_PRICE band of the venue's mark now, in ticks rounded inside it (a SELL's
 * floor up, a BUY's cap down): an IOC beyond it is refused whole (-4024 / -4016) and closes
 * nothing of what the band would have taken. Null when not known (no filter, the mark not
 * read: `onError` is told why): the orders go as planned, and the venue refuses one beyond
 * the band.
 */
export async function percentBand(venue: FlattenVenue, sym: string, inst: Instrument, onError?: (message: string) => void): Promise<PriceBand | null> {
  try {
    const band = venue.percentPrice ? await venue.percentPrice(sym) : null
    if (!band || !new PlainDecimal(band.markPrice).gt(0)) return null
    return {
      minSell: inst.priceToTicks(new PlainDecimal(band.markPrice).mul(band.multiplierDown).toString(), 'up'),
      maxBuy: inst.priceToTicks(new PlainDecimal(band.markPrice).mul(band.multiplierUp).toString(), 'down'),
    }
  } catch (error) {
    onError?.((error as Error).message)
    return null
  }
}

/** an IOC's price (ticks) inside the band: a SELL no lower than its floor, a BUY no higher than its cap */
export function inBand(side: 'BUY' | 'SELL', price: number, band: PriceBand | null): number {
  if (band === null) return price
  return side === 'SELL' ? Math.max(price, band.minSell) : Math.min(price, band.maxBuy)
}

/** The real venue: public depth and the signed gateway. */
export async function openFlattenVenue(o: {restUrl: string; keyFile?: string; env: Record<string, string | undefined>}): Promise<{venue: FlattenVenue; close(): Promise<void>} | {why: string}> {
  const {loadCredentials} = await import('../venue/binance/keys.js')
  if (o.keyFile === undefined && !o.env.MM_API_KEY && !o.env.MM_API_SECRET) return {why: 'no API keys (MM_API_KEY and MM_API_SECRET, or --key-file)'}
  const {OPERATOR_KEYS_HINT} = await import('./venue-ops.js')
  const {creds} = loadCredentials({keyFile: o.keyFile, env: o.env, hint: OPERATOR_KEYS_HINT})
  const {BinanceGateway} = await import('../venue/binance/gateway.js')
  const {BinancePublicRest} = await import('../venue/binance/rest-public.js')
  const gw = new BinanceGateway({baseUrl: o.restUrl, credentials: creds})
  const pub = new BinancePublicRest({baseUrl: o.restUrl})
  // every read here is idempotent: a transient venue error (5xx, -1000/-1001, a timeout, -1008)
  // is asked again (idempotentRetry), as a live quote's start does; before, one 503 on the
  // first read ended the emergency close (exit 1, nothing sent)
  await idempotentRetry(() => gw.syncTime('start'))
  let rules: SymbolRules | undefined
  return {
    venue: {
      async instrument(symbol) {
        const {rules: r} = await idempotentRetry(() => gw.symbolRules(symbol))
        return new Instrument({symbol, tickSize: r.tickSize, stepSize: r.stepSize, minQty: r.minQty, maxQty: r.maxQty, minPrice: r.minPrice, maxPrice: r.maxPrice, minNotional: r.minNotional, marginAsset: r.marginAsset, quoteAsset: r.quoteAsset, status: r.status, contractType: r.contractType})
      },
      async bookFills(b) {
        const {recoverKillFills} = await import('../venue/binance/kill-fills.js')
        const [runId, ...also] = b.runIds
        return recoverKillFills({gateway: gw, symbol: b.symbol, inst: b.inst, runId, alsoRunIds: also, ledger: b.ledger, runStartedMs: b.runStartedMs, venueClockOffsetMs: gw.timeOffsetMs, now: () => wallClock.now(), wait: (ms) => new Promise((res) => setTimeout(res, ms))})
      },
      async percentPrice(symbol) {
        rules ??= (await idempotentRetry(() => gw.symbolRules(symbol))).rules
        const p = rules.percentPrice
        return p ? {markPrice: (await idempotentRetry(() => gw.premiumIndex(symbol))).markPrice, multiplierUp: p.multiplierUp, multiplierDown: p.multiplierDown} : null
      },
      async openOrderIds(symbol) {
        return (await idempotentRetry(() => gw.openOrders(symbol))).map((x) => x.clientOrderId)
      },
      async depth(symbol) {
        const s = await pub.depth(symbol, 100)
        return {bids: s.bids, asks: s.asks}
      },
      async position(symbol) {
        const ps = await idempotentRetry(() => gw.positionRisk(symbol))
        let sum = new PlainDecimal(0)
        for (const p of ps) if (p.symbol === symbol) sum = sum.add(p.positionAmt)
        return sum.toString()
      },
      async entry(symbol) {
        const ps = (await idempotentRetry(() => gw.positionRisk(symbol))).filter((p) => p.symbol === symbol && !new PlainDecimal(p.positionAmt).isZero())
        return ps.length === 1 ? {amount: ps[0].positionAmt, entryPrice: ps[0].entryPrice} : {amount: ps.reduce((a, p) => a.add(p.positionAmt), new PlainDecimal(0)).toString(), entryPrice: '0'}
      },
      async placeIoc(p) {
        let r = await gw.placeOrder({symbol: p.symbol, side: p.side, type: 'LIMIT', timeInForce: 'IOC', quantity: p.qty, price: p.price, reduceOnly: true, newClientOrderId: p.clientOrderId, selfTradePreventionMode: 'EXPIRE_MAKER', newOrderRespType: 'RESULT'})
        // an IOC ends at once; if the answer was taken before it did, ask
        if (r.status === 'NEW' || r.status === 'PARTIALLY_FILLED') r = await idempotentRetry(() => gw.queryOrder(p.symbol, p.clientOrderId))
        return {status: r.status, executedQty: r.executedQty, avgPrice: r.avgPrice}
      },
    },
    async close() {
      await gw.close()
      await pub.close()
    },
  }
}
