/**
 * The start-up JIT warm-up of the decision path (issue 10, tick-to-order): before the first
 * decision that can send an order, the code that makes orders — the risk machine, the
 * strategy, netMax, reconcile and the guard (`decideStart` / `decideFinish`), the order
 * lifecycle reducer, the strategy's report handlers and, given `build`, the venue's request
 * build with its HMAC — is run many times on synthetic inputs, so that V8 has optimised it
 * when the first real re-price comes instead of running it in its baseline tier for the
 * first few hundred.
 *
 * The inputs are made with the functions and classes the live path uses (an `OrderBook`
 * cloned from the real one, the lifecycle's own states and working orders, reports of the
 * shapes the Binance venue pushes, the decision input literal of the engine), so the type
 * feedback V8 collects is the live path's and nothing deoptimises later.
 *
 * No effect: everything runs on copies — the core state is immutable (each step returns a
 * new one, the start is never changed), the lifecycle state is a throwaway one, the book a
 * clone. Nothing is sent (`build` makes the signed request and drops it), nothing is
 * logged, no counter moves; the client ids minted here come from the copy, so the real
 * allocator does not advance.
 *
 * Bounded: at most `iterations` decisions and at most `budgetMs` of `elapsedMs()` (the run
 * layer's wall clock: this module reads none).
 */
import type {OrderBook} from '../book/book.js'
import {type CoreContext, type CoreState, decideFinish, decideStart, type DecideInput} from '../core/decide.js'
import type {Ticks} from '../domain/instrument.js'
import type {Fill, OrderAction} from '../domain/orders.js'
import {initLifecycle, type LifecycleConfig, type LifecycleInput, type LifecycleState, reduceLifecycle, workingOrders} from '../orders/lifecycle.js'
import type {Position} from '../orders/position.js'
import type {VenueRisk} from '../risk/types.js'
import {type HandlerResult, onFill, onOrderAccepted} from '../strategy/index.js'
import type {VenueReport} from '../venue/types.js'

export interface WarmUpOptions {
  /** at most this many decisions (0: none) */
  iterations: number
  /** at most this long, ms of `elapsedMs` */
  budgetMs: number
  /** a wall clock in ms (the run layer's `performance.now`); without it only `iterations` bounds */
  elapsedMs?: () => number
  /**
   * The venue's request build of a decision's actions (the signed REST requests, HMAC
   * included), thrown away: never sent, never logged. Returns the requests built.
   */
  build?: (actions: readonly OrderAction[]) => number
  /** decisions see a venue verdict (live: the rate governor and liquidation read by the engine) */
  venueRisk?: boolean
}

export interface WarmUpResult {
  /** decisions made */
  iterations: number
  places: number
  cancels: number
  fills: number
  /** requests built (and dropped) */
  builds: number
  /** the throwaway position's extremes, steps (long > 0, short < 0) */
  maxNet: number
  minNet: number
  /** elapsed, ms of `elapsedMs` (0 without it) */
  ms: number
  /** why it stopped: all iterations, the wall budget, no usable book to start from, or an error (`error`) */
  stoppedBy: 'iterations' | 'budget' | 'no-book' | 'error'
  /** the message of an error that ended it (a warm-up never stops a run; tests read it) */
  error?: string
}

export interface WarmUpInput {
  ctx: CoreContext
  /** the engine's core state: read, never changed */
  state: CoreState
  /** the engine's book: cloned, never changed */
  book: OrderBook
  /** the engine's position (the start of the throwaway lifecycle) */
  position: Position
  lcCfg: LifecycleConfig
  /** the engine's clock now, ms: the synthetic decisions start here */
  nowMs: number
}

/** the book's offset from the real one at each step, ticks: a few ticks up and down */
const WALK = [0, 1, 2, 3, 2, 1, 0, -1, -2, -3, -2, -1] as const
/** half-width of the band of levels the walk rewrites around each best price, ticks */
const BAND = 4
/** decisions per phase of the position walk: flat, long, back through flat to short, back */
const PHASE = 64

/**
 * Run the decision path `o.iterations` times at most (see the module comment). The
 * engine's state, book, position and ids are only read.
 */
export function warmUpDecisions(input: WarmUpInput, o: WarmUpOptions): WarmUpResult {
  const t0 = o.elapsedMs ? o.elapsedMs() : 0
  const res: WarmUpResult = {iterations: 0, places: 0, cancels: 0, fills: 0, builds: 0, maxNet: 0, minNet: 0, ms: 0, stoppedBy: 'iterations'}
  try {
    run(input, o, res, t0)
  } catch (error) {
    // only copies were touched: the run goes on as if the warm-up had ended here
    res.stoppedBy = 'error'
    res.error = (error as Error).message
  }
  if (o.elapsedMs) res.ms = o.elapsedMs() - t0
  return res
}

function run(input: WarmUpInput, o: WarmUpOptions, res: WarmUpResult, t0: number): void {
  const src = input.book
  if (o.iterations <= 0) return
  if (!src.ready) {
    res.stoppedBy = 'no-book'
    return
  }
  const {ctx, lcCfg} = input
  const cfg = ctx.cfg
  const book = src.clone()
  const b0 = src.bestBid()
  const a0 = src.bestAsk()
  const qBid = Math.max(1, src.bestBidQty())
  const qAsk = Math.max(1, src.bestAskQty())
  // the live venue verdict's shape (live.ts venueRisk.read): quiet governor, no liquidation price
  const venue: VenueRisk | undefined = o.venueRisk ? {liquidationTicks: 0, markTicks: 0, pace: {mode: 'normal', factor: 1, reason: 'ok'}} : undefined
  let state = input.state
  let lc: LifecycleState = initLifecycle({position: input.position})
  let t = input.nowMs
  let trade = 0
  let order = 0
  const handled = (h: HandlerResult): void => {
    if (h.state !== state.strategy) state = {...state, strategy: h.state}
  }
  const report = (r: VenueReport): void => {
    const out = reduceLifecycle(lc, {type: 'report', t, report: r}, lcCfg)
    lc = out.state
    for (const e of out.events) {
      if (e.kind === 'accepted') handled(onOrderAccepted(state.strategy, {side: e.order.side, tif: e.order.tif}, t, cfg))
      else if (e.kind === 'fill') handled(onFill(state.strategy, e.fill, t, cfg))
    }
  }
  for (let i = 0; i < o.iterations; i++) {
    if (o.elapsedMs && o.elapsedMs() - t0 >= o.budgetMs) {
      res.stoppedBy = 'budget'
      break
    }
    moveBook(book, b0, a0, WALK[i % WALK.length], qBid, qAsk)
    // the engine's decision input, built as decideInput builds it
    const d: DecideInput = {nowMs: t, book, bookUpdatedMs: t, position: lc.position, working: workingOrders(lc), control: []}
    if (venue) d.venue = venue
    const start = decideStart(state, d, ctx)
    const actions = start.actions
    if (o.build && actions.length > 0) res.builds += o.build(actions)
    const dec = decideFinish(start)
    state = dec.state
    res.iterations++
    // sent, then answered at once: a place acked, a cancel done
    for (const a of actions) {
      const sent: LifecycleInput = a.type === 'place' ? {type: 'place_sent', t, clientOrderId: a.clientOrderId, order: a.order} : {type: 'cancel_sent', t, clientOrderId: a.clientOrderId}
      lc = reduceLifecycle(lc, sent, lcCfg).state
    }
    for (const a of actions) {
      if (a.type === 'place') {
        res.places++
        const x = a.order
        report({clientOrderId: a.clientOrderId, ts: t, venueTs: t, type: 'ack', venueOrderId: String(++order), side: x.side, price: x.price, qty: x.qty, tif: x.tif, reduceOnly: x.reduceOnly})
      } else {
        res.cancels++
        report({type: 'canceled', clientOrderId: a.clientOrderId, filled: 0, ts: t, venueTs: t})
      }
    }
    // the position walk: fills on one side for a phase, then the other (flat, long, short)
    const phase = Math.floor(i / PHASE) % 4
    if (phase !== 0 && i % 3 === 0) {
      const side = phase === 2 ? 'SELL' : 'BUY'
      for (const w of lc.open.values()) {
        if (w.side !== side || w.status === 'PENDING_NEW' || w.cancel !== null) continue
        const left = w.qty - w.filled
        if (left <= 0) continue
        // half of what is left (at least a step), the rest on a later step: partial then whole
        const qty = left > 1 && i % 2 === 0 ? Math.ceil(left / 2) : left
        const filled = w.filled + qty
        const fill: Fill = {clientOrderId: w.clientOrderId, side: w.side, price: w.price, qty, maker: true, fee: '0.0001', ts: t, tradeId: String(++trade), realised: '0'}
        report({clientOrderId: w.clientOrderId, ts: t, venueTs: t, type: 'fill', fill, filled, leaves: w.qty - filled, status: filled >= w.qty ? 'FILLED' : 'PARTIALLY_FILLED'})
        res.fills++
        break
      }
      const net = lc.position.net
      if (net > res.maxNet) res.maxNet = net
      if (net < res.minNet) res.minNet = net
    }
    // the next decision: when the core asks, at most a second away (the book moves each step)
    t = Math.max(t + 1, Math.min(dec.nextWakeMs, t + 1000))
  }
}

/**
 * The book `off` ticks (|off| < BAND) from where it was: the levels within `BAND` ticks of
 * the original best bid `b0` and ask `a0` rewritten so that the best bid is `b0 + off` and
 * the best ask `a0 + off`. Both sides move together, so the book read by the next decision
 * is never crossed (levels beyond the band are further out than either best).
 */
function moveBook(book: OrderBook, b0: Ticks, a0: Ticks, off: number, qBid: number, qAsk: number): void {
  for (let p = b0 - BAND; p <= b0 + BAND; p++) book.setBid(p, p <= b0 + off ? qBid : 0)
  for (let p = a0 - BAND; p <= a0 + BAND; p++) book.setAsk(p, p >= a0 + off ? qAsk : 0)
}
