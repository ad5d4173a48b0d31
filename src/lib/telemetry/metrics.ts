/**
 * Prometheus metrics of one `mm quote` run (SPEC §5), on a registry of its own (never
 * prom-client's global one). They are fed by the run events the engine already writes
 * (`observe(ev)` — the session wraps the engine's `log` callback), plus a few probes read
 * at scrape time for what no event carries (open orders, book staleness, resyncs,
 * reconnects, netMax cuts), and for the latency histograms the time of each market event
 * handed to the engine (`onTick`, from the session) and a bracket around each decision
 * (`decideBegin`/`decideEnd`, from the engine's `onDecide` hook). docs/engine.md
 * "Metrics" lists them all.
 *
 * Every name is in base units (seconds, not ms or µs) with `_total` on counters, so
 * `promtool check metrics` has nothing to say. The registry is the process's own
 * (`createRegistry`): default process metrics and `mm_build_info` beside the run's.
 *
 * Tick-to-order latency, two histograms, observed for each order action (place or cancel)
 * a decision submits; actions outside a decision (the strategy's instant retry after a
 * post-only reject, the cancels of the clean stop) are in neither:
 *  - `mm_tick_to_order_seconds`: run-clock time from the market event the decision acted
 *    on (the last one handed to the engine: the one that triggered it, or the newest
 *    before a refresh-timer decision) to the submit. Live (dry-run): from the event's
 *    local receive time, µs resolution: event-loop wait + processing + the wait for the
 *    refresh timer. Replay: virtual time, so it shows only the wait for the timer (0 for a
 *    decision the event itself triggered): the processing cost is the next one.
 *  - `mm_decide_submit_seconds`: wall time (performance.now) from the start of the
 *    decision to the submit: the decide+submit cost, comparable between replay and live.
 */
import {Decimal} from 'decimal.js'
import {Counter, Gauge, Histogram, type Registry} from 'prom-client'
import {createRegistry} from './registry.js'
import type {RiskStateName, RunEvent} from './run-events.js'

export const RISK_STATES: readonly RiskStateName[] = ['normal', 'reduce_only', 'paused', 'halted']

/** seconds: 50 µs … 1 s */
export const TICK_TO_ORDER_BUCKETS = [0.000_05, 0.0001, 0.000_25, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]
/** seconds: 10 µs … 100 ms */
export const DECIDE_SUBMIT_BUCKETS = [0.000_01, 0.000_025, 0.000_05, 0.0001, 0.000_25, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1]

/** Values no run event carries, read when /metrics is scraped. Each is optional. */
export interface MetricsProbes {
  /** orders we hold (acked or in flight) */
  openOrders?(): number
  /** ms since the book's last applied update on the run clock; null while there is no book */
  bookStalenessMs?(): number | null
  /** monotone: book resyncs (engine + live feed) */
  resyncs?(): number
  /** monotone: WebSocket reconnects of the live feed */
  reconnects?(): number
  /** monotone: orders cut or shrunk by the netMax cap (RiskState.counters.netMaxCuts) */
  netMaxCuts?(): number
  /** monotone: market events handed to the engine (depth updates, snapshots, trades) */
  marketEvents?(): number
  /** the venue's latest used request weight by interval (X-MBX-USED-WEIGHT-1M → {"1M": n}); live only */
  usedWeight?(): Record<string, number>
  /** the run clock in ms at high resolution, read when an order is submitted (default: the order event's `t`) */
  nowMs?(): number
}

export interface MetricsOptions {
  /** constant labels on every series, e.g. {symbol: 'ETHUSDC', mode: 'replay'} */
  labels?: Record<string, string>
  /** wall clock in µs for mm_decide_submit_seconds (default performance.now() × 1000) */
  wallUs?: () => number
  /** the default process_* / nodejs_* metrics (default true) */
  processMetrics?: boolean
  /** mm's version for mm_build_info (default package.json's) */
  version?: string
}

/** A counter that follows a monotone value read at scrape time. */
function followingCounter(registry: Registry, name: string, help: string, read: () => number | undefined): Counter {
  let last = 0
  return new Counter({
    name, help, registers: [registry],
    collect() {
      const v = read()
      if (v !== undefined && v > last) {
        this.inc(v - last)
        last = v
      }
    },
  })
}

export class RunMetrics {
  readonly registry: Registry
  private probes: MetricsProbes = {}
  private readonly wallUs: () => number
  /** run-clock ms of the last market event handed to the engine (null before the first) */
  private lastTickMs: number | null = null
  /** wall µs when the decision being taken began, null outside one */
  private decideWallUs: number | null = null
  private realised = new Decimal(0)

  private readonly spread: Gauge
  private readonly volatility: Gauge
  private readonly inventory: Gauge
  private readonly risk: Gauge<'state'>
  private readonly position: Gauge
  private readonly realisedG: Gauge
  private readonly unrealisedG: Gauge
  private readonly netG: Gauge
  private readonly placed: Counter
  private readonly cancels: Counter
  private readonly fills: Counter<'maker'>
  private readonly rejects: Counter<'code'>
  private readonly postOnly: Counter
  private readonly riskEvents: Counter<'kind'>
  private readonly netMax: Gauge
  private readonly prices: Record<'mid' | 'bid' | 'ask' | 'ownBid' | 'ownAsk', Gauge>
  private readonly tickToOrder: Histogram
  private readonly decideSubmit: Histogram

  constructor(o: MetricsOptions = {}) {
    const r = createRegistry({labels: o.labels, processMetrics: o.processMetrics ?? true, version: o.version})
    this.registry = r
    this.wallUs = o.wallUs ?? (() => performance.now() * 1000)
    const reg = [r]
    this.spread = new Gauge({name: 'mm_spread_ratio', help: 'quoted spread of the last strategy_adjust, fraction of mid', registers: reg})
    this.volatility = new Gauge({name: 'mm_volatility_factor', help: 'volatility factor of the last strategy_adjust', registers: reg})
    this.inventory = new Gauge({name: 'mm_inventory_factor', help: 'inventory factor of the last strategy_adjust', registers: reg})
    this.risk = new Gauge({name: 'mm_risk_state', help: 'risk state: 1 for the current one, 0 for the others (all 0 before the first decision)', labelNames: ['state'], registers: reg})
    for (const s of RISK_STATES) this.risk.set({state: s}, 0)
    this.position = new Gauge({name: 'mm_position_base', help: 'net position, base units (signed)', registers: reg})
    this.prices = {
      mid: new Gauge({name: 'mm_mid_price', help: 'book mid, quote currency per base unit (as of the last sample)', registers: reg}),
      bid: new Gauge({name: 'mm_best_bid_price', help: 'best bid of the book (as of the last sample)', registers: reg}),
      ask: new Gauge({name: 'mm_best_ask_price', help: 'best ask of the book (as of the last sample)', registers: reg}),
      ownBid: new Gauge({name: 'mm_own_bid_price', help: 'our best bid resting (NaN when none; as of the last sample)', registers: reg}),
      ownAsk: new Gauge({name: 'mm_own_ask_price', help: 'our best ask resting (NaN when none; as of the last sample)', registers: reg}),
    }
    this.netMax = new Gauge({name: 'mm_net_max_base', help: 'risk.netMax, the cap on |net position| counting working orders, base units', registers: reg})
    this.realisedG = new Gauge({name: 'mm_realised_pnl_quote', help: 'realised PnL, quote currency', registers: reg})
    this.unrealisedG = new Gauge({name: 'mm_unrealised_pnl_quote', help: 'unrealised PnL against the book mid, quote currency (as of the last sample)', registers: reg})
    this.netG = new Gauge({name: 'mm_net_pnl_quote', help: 'realised + unrealised - fees, quote currency (as of the last sample)', registers: reg})
    const probes = () => this.probes
    new Gauge({
      name: 'mm_open_orders', help: 'orders held (acked or in flight)', registers: reg,
      collect() {
        const v = probes().openOrders?.()
        if (v !== undefined) this.set(v)
      },
    })
    new Gauge({
      name: 'mm_book_staleness_seconds', help: 'seconds since the last applied book update, run clock (NaN before the first)', registers: reg,
      collect() {
        const p = probes().bookStalenessMs
        if (!p) return
        const v = p()
        this.set(v === null ? Number.NaN : Math.max(0, v) / 1000)
      },
    })
    this.placed = new Counter({name: 'mm_orders_placed_total', help: 'orders sent (place actions)', registers: reg})
    this.cancels = new Counter({name: 'mm_cancels_total', help: 'cancel requests sent', registers: reg})
    this.fills = new Counter({name: 'mm_fills_total', help: 'fills (partial or whole), by maker=true|false', labelNames: ['maker'], registers: reg})
    this.fills.inc({maker: 'true'}, 0)
    this.fills.inc({maker: 'false'}, 0)
    this.rejects = new Counter({name: 'mm_rejects_total', help: 'venue rejects of places and cancels, by Binance code', labelNames: ['code'], registers: reg})
    this.postOnly = new Counter({name: 'mm_post_only_rejects_total', help: 'post-only rejects (code -5022)', registers: reg})
    followingCounter(r, 'mm_resyncs_total', 'order book resyncs (sequence gaps, reconnects)', () => this.probes.resyncs?.())
    followingCounter(r, 'mm_reconnects_total', 'market data WebSocket reconnects (live only)', () => this.probes.reconnects?.())
    this.riskEvents = new Counter({name: 'mm_risk_events_total', help: 'risk_event records, by kind', labelNames: ['kind'], registers: reg})
    followingCounter(r, 'mm_net_max_cuts_total', 'orders cut or shrunk by the netMax cap', () => this.probes.netMaxCuts?.())
    followingCounter(r, 'mm_market_events_total', 'market events handed to the engine (depth updates, snapshots, trades)', () => this.probes.marketEvents?.())
    new Gauge({
      name: 'mm_rate_limit_used_weight', help: "the venue's request weight used in the current window (X-MBX-USED-WEIGHT-*), by interval; live only", labelNames: ['interval'], registers: reg,
      collect() {
        const w = probes().usedWeight?.()
        if (w) for (const [k, v] of Object.entries(w)) this.set({interval: k}, v)
      },
    })
    this.tickToOrder = new Histogram({name: 'mm_tick_to_order_seconds', help: 'run-clock seconds from the market event a decision acted on to each order action it submitted (virtual time in replay)', buckets: TICK_TO_ORDER_BUCKETS, registers: reg})
    this.decideSubmit = new Histogram({name: 'mm_decide_submit_seconds', help: 'wall seconds from the start of a decision to each order action it submitted', buckets: DECIDE_SUBMIT_BUCKETS, registers: reg})
  }

  /** The run's netMax (config), for |position| / netMax on dashboards and alerts. */
  setNetMax(base: number): void {
    this.netMax.set(base)
  }

  /** Add or replace probes (the session sets the engine's, the live driver the feed's). */
  setProbes(p: MetricsProbes): void {
    this.probes = {...this.probes, ...p}
  }

  /** A market event is about to be handed to the engine; `runMs` = its (receive) time on the run clock. */
  onTick(runMs: number): void {
    this.lastTickMs = runMs
  }

  /** The engine begins a decision (risk → strategy → netMax → reconcile → submit). */
  decideBegin(): void {
    this.decideWallUs = this.wallUs()
  }

  decideEnd(): void {
    this.decideWallUs = null
  }

  /** One run event, as written to the log. */
  observe(ev: RunEvent): void {
    switch (ev.type) {
      case 'order': {
        if (ev.action === 'place') this.placed.inc()
        else this.cancels.inc()
        const start = this.decideWallUs
        if (start !== null) {
          this.decideSubmit.observe(Math.max(0, this.wallUs() - start) / 1e6)
          if (this.lastTickMs !== null) this.tickToOrder.observe(Math.max(0, (this.probes.nowMs?.() ?? ev.t) - this.lastTickMs) / 1000)
        }
        return
      }
      case 'reject':
        this.rejects.inc({code: String(ev.code ?? 'unknown')})
        if (ev.code === -5022) this.postOnly.inc()
        return
      case 'fill':
        this.fills.inc({maker: String(ev.maker)})
        this.position.set(Number(ev.position))
        this.realised = new Decimal(ev.realised)
        this.realisedG.set(this.realised.toNumber())
        return
      case 'sample': {
        this.position.set(Number(ev.position))
        this.realised = new Decimal(ev.realised)
        this.realisedG.set(this.realised.toNumber())
        const u = new Decimal(ev.unrealised)
        this.unrealisedG.set(u.toNumber())
        this.netG.set(this.realised.plus(u).minus(ev.fees).toNumber())
        const px = (g: Gauge, v: string | null) => g.set(v === null ? Number.NaN : Number(v))
        px(this.prices.mid, ev.mid)
        px(this.prices.bid, ev.bid)
        px(this.prices.ask, ev.ask)
        px(this.prices.ownBid, ev.ownBid)
        px(this.prices.ownAsk, ev.ownAsk)
        this.setRisk(ev.risk)
        return
      }
      case 'strategy_adjust': {
        if (typeof ev.spread === 'number') this.spread.set(ev.spread)
        if (typeof ev.volatilityFactor === 'number') this.volatility.set(ev.volatilityFactor)
        if (typeof ev.inventoryFactor === 'number') this.inventory.set(ev.inventoryFactor)
        if (typeof ev.riskMode === 'string') this.setRisk(ev.riskMode as RiskStateName)
        return
      }
      case 'risk_event':
        if (typeof ev.kind === 'string') this.riskEvents.inc({kind: ev.kind})
        if (typeof ev.to === 'string') this.setRisk(ev.to as RiskStateName)
        return
      default:
        return
    }
  }

  private setRisk(state: RiskStateName): void {
    if (!RISK_STATES.includes(state)) return
    for (const s of RISK_STATES) this.risk.set({state: s}, s === state ? 1 : 0)
  }
}

/** A fresh registry with every mm metric, fed by `observe`. */
export function createMetrics(o: MetricsOptions = {}): RunMetrics {
  return new RunMetrics(o)
}
