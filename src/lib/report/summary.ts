/**
 * Summarise a run from its event log. The engine feeds the same events in as it writes
 * them, and `mm report RUN` reads them back, so both print the same numbers.
 */
import {PlainDecimal as Decimal, significantDecimals} from '../domain/decimal.js'
import type {RiskStateName, RunEvent} from '../telemetry/run-events.js'

export interface RunSummary {
  symbol: string
  mode: string
  strategy: string
  durationMs: number
  marketEvents: number
  resyncs: number
  quotesPlaced: number
  quotesCancelled: number
  fills: number
  makerFills: number
  /** maker fills / fills, 0..1 as a decimal string with 4 places */
  makerShare: string
  volumeBase: string
  volumeQuote: string
  fees: string
  realisedPnl: string
  unrealisedPnl: string
  /** realised + unrealised − fees */
  netPnl: string
  /**
   * Only for a run that started from a carried ledger (live, live dry-run: run_start
   * `carried`): the state's cumulative figures at the run's end. fees, realisedPnl,
   * unrealisedPnl and netPnl above are this run's own change (end − start), so runs add up.
   */
  ledger?: {fees: string; realisedPnl: string; unrealisedPnl: string; netPnl: string}
  maxAbsPosition: string
  finalPosition: string
  timeInRiskMs: Record<RiskStateName, number>
  postOnlyRejects: number
  rejects: number
  riskEvents: Record<string, number>
  /** mean adverse move per unit after each horizon, quote currency; null without fills */
  adverse1s: string | null
  adverse10s: string | null
  /**
   * What the instant post-only retries cost (issue 12): the GTC orders placed at the
   * moment a GTX order of the same side and price came back -5022, their fills, the fees
   * of those fills (taker part apart) and their mean adverse moves per unit.
   */
  instantRetries: {orders: number; fills: number; takerFills: number; fees: string; takerFees: string; adverse1s: string | null; adverse10s: string | null}
  endReason: string
}

const ZERO = new Decimal(0)

export class RunSummarizer {
  private symbol = ''
  private mode = ''
  private strategy = ''
  private firstT: number | null = null
  private lastT = 0
  private marketEvents = 0
  private resyncs = 0
  private placed = 0
  private cancelled = 0
  private fills = 0
  private makerFills = 0
  private volBase = ZERO
  private volQuote = ZERO
  private fees = ZERO
  private realised = ZERO
  private unrealised = ZERO
  private position = ZERO
  private maxAbs = ZERO
  private risk: RiskStateName = 'normal'
  private riskSince: number | null = null
  private timeIn: Record<RiskStateName, number> = {normal: 0, reduce_only: 0, halted: 0, paused: 0}
  private postOnly = 0
  private rejects = 0
  private riskEvents: Record<string, number> = {}
  private adverse = new Map<number, {sum: Decimal; n: number}>()
  /** decimals of the mean adverse moves: 6, or the tick's decimals + 2 when finer (a 0.0000001 tick: 9) */
  private adverseDecimals = 6
  private endReason = 'incomplete'
  // instant retries: orders placed and not yet acknowledged or final, by id (only those can
  // still come back -5022; so a long run holds its in-flight orders, not all it ever placed),
  // GTX rejects awaiting their retry (same t), the retry ids
  private placedOrders = new Map<string, {side?: string; price?: string; tif?: string}>()
  private rejectedAt: Array<{t: number; side?: string; price?: string}> = []
  private retryIds = new Set<string>()
  private retryFills = 0
  private retryTakerFills = 0
  private retryFees = ZERO
  private retryTakerFees = ZERO
  private retryAdverse = new Map<number, {sum: Decimal; n: number}>()
  /** the last sample whose figures were parsed (null after a fill, which sets them too) */
  private lastSample: {unrealised: string; realised: string; fees: string; position: string} | null = null
  /** the ledger carried in at the start (run_start `carried`): the per-run figures are the change from it */
  private carried: {realised: Decimal; fees: Decimal; position: Decimal} | null = null
  /** the carried position's unrealised PnL at the first mid (null until known; 0 without a carried position) */
  private unrealised0: Decimal | null = null

  add(ev: RunEvent): void {
    if (this.firstT === null) this.firstT = ev.t
    if (ev.t > this.lastT) this.lastT = ev.t
    switch (ev.type) {
      case 'run_start':
        this.symbol = ev.symbol
        this.mode = ev.mode
        this.strategy = ev.strategy
        this.riskSince = ev.t
        if (ev.instrument?.tickSize) {
          try {
            this.adverseDecimals = Math.max(6, significantDecimals(ev.instrument.tickSize) + 2)
          } catch {
            // a malformed tick in an old or hand-made log: keep 6
          }
        }
        if (ev.carried) {
          this.carried = {realised: new Decimal(ev.carried.realised), fees: new Decimal(ev.carried.fees), position: new Decimal(ev.carried.position)}
          this.realised = this.carried.realised
          this.fees = this.carried.fees
          this.position = this.carried.position
          if (this.carried.position.isZero()) this.unrealised0 = ZERO
        }
        break
      case 'order':
        if (ev.action === 'place') {
          this.placed++
          this.placedOrders.set(ev.clientOrderId, {side: ev.side, price: ev.price, tif: ev.tif})
          if (ev.tif === 'GTC') {
            this.rejectedAt = this.rejectedAt.filter((r) => r.t === ev.t)
            const i = this.rejectedAt.findIndex((r) => r.side === ev.side && r.price === ev.price)
            if (i >= 0) {
              this.retryIds.add(ev.clientOrderId)
              this.rejectedAt.splice(i, 1)
            }
          }
        } else this.cancelled++
        break
      case 'reject': {
        this.rejects++
        if (ev.code === -5022) this.postOnly++
        const o = this.placedOrders.get(ev.clientOrderId)
        if (ev.code === -5022 && o && o.tif === 'GTX') this.rejectedAt.push({t: ev.t, side: o.side, price: o.price})
        // a -5022 ends the order; another code may answer a cancel of an order still in flight
        if (ev.code === -5022) this.placedOrders.delete(ev.clientOrderId)
        break
      }
      case 'ack':
      case 'canceled':
      case 'expired':
        this.placedOrders.delete(ev.clientOrderId)
        break
      case 'order_lifecycle':
        if (ev.kind === 'settled') this.placedOrders.delete(ev.clientOrderId)
        break
      case 'fill': {
        this.lastSample = null
        const q = new Decimal(ev.qty)
        this.fills++
        if (ev.maker) this.makerFills++
        this.volBase = this.volBase.plus(q)
        this.volQuote = this.volQuote.plus(q.mul(ev.price))
        this.fees = this.fees.plus(ev.fee)
        if (this.retryIds.has(ev.clientOrderId)) {
          this.retryFills++
          this.retryFees = this.retryFees.plus(ev.fee)
          if (!ev.maker) {
            this.retryTakerFills++
            this.retryTakerFees = this.retryTakerFees.plus(ev.fee)
          }
        }
        this.realised = new Decimal(ev.realised)
        this.position = new Decimal(ev.position)
        if (this.position.abs().gt(this.maxAbs)) this.maxAbs = this.position.abs()
        break
      }
      case 'markout': {
        const a = this.adverse.get(ev.horizonMs) ?? {sum: ZERO, n: 0}
        a.sum = a.sum.plus(ev.adverse)
        a.n++
        this.adverse.set(ev.horizonMs, a)
        if (this.retryIds.has(ev.clientOrderId)) {
          const b = this.retryAdverse.get(ev.horizonMs) ?? {sum: ZERO, n: 0}
          b.sum = b.sum.plus(ev.adverse)
          b.n++
          this.retryAdverse.set(ev.horizonMs, b)
        }
        break
      }
      case 'sample': {
        // most samples repeat the last one's figures: parse them only when they changed
        const last = this.lastSample
        if (last === null || last.unrealised !== ev.unrealised || last.realised !== ev.realised || last.fees !== ev.fees || last.position !== ev.position) {
          this.unrealised = new Decimal(ev.unrealised)
          this.realised = new Decimal(ev.realised)
          this.fees = new Decimal(ev.fees)
          this.position = new Decimal(ev.position)
          if (this.position.abs().gt(this.maxAbs)) this.maxAbs = this.position.abs()
          this.lastSample = ev
        }
        if (this.carried && this.unrealised0 === null && ev.mid !== null) this.unrealised0 = new Decimal(ev.unrealised)
        this.switchRisk(ev.risk, ev.t)
        break
      }
      case 'risk_event': {
        const type = String(ev.kind ?? ev.riskType ?? ev.name ?? 'unknown')
        this.riskEvents[type] = (this.riskEvents[type] ?? 0) + 1
        const to = ev.to as RiskStateName | undefined
        if (to && to in this.timeIn) this.switchRisk(to, ev.t)
        break
      }
      case 'run_end':
        this.marketEvents = ev.marketEvents
        this.resyncs = ev.resyncs
        this.endReason = ev.reason
        break
      default:
        break
    }
  }

  private switchRisk(to: RiskStateName, t: number): void {
    if (this.riskSince !== null && to !== this.risk) {
      this.timeIn[this.risk] += t - this.riskSince
      this.riskSince = t
    }
    if (this.riskSince === null) this.riskSince = t
    this.risk = to
  }

  /** The run's own PnL figures; with a carried ledger, the change from it and the ledger's own at the end. */
  private pnl(): Pick<RunSummary, 'fees' | 'realisedPnl' | 'unrealisedPnl' | 'netPnl' | 'ledger'> {
    const figures = (realised: Decimal, unrealised: Decimal, fees: Decimal) => ({
      fees: fees.toString(),
      realisedPnl: realised.toString(),
      unrealisedPnl: unrealised.toDecimalPlaces(8).toString(),
      netPnl: realised.plus(unrealised).minus(fees).toDecimalPlaces(8).toString(),
    })
    const total = figures(this.realised, this.unrealised, this.fees)
    const c = this.carried
    if (!c) return total
    return {...figures(this.realised.minus(c.realised), this.unrealised.minus(this.unrealised0 ?? this.unrealised), this.fees.minus(c.fees)), ledger: total}
  }

  result(): RunSummary {
    const timeIn = {...this.timeIn}
    if (this.riskSince !== null) timeIn[this.risk] += this.lastT - this.riskSince
    const mean = (h: number, m = this.adverse) => {
      const a = m.get(h)
      return a && a.n > 0 ? a.sum.div(a.n).toDecimalPlaces(this.adverseDecimals).toString() : null
    }
    return {
      symbol: this.symbol,
      mode: this.mode,
      strategy: this.strategy,
      durationMs: this.firstT === null ? 0 : this.lastT - this.firstT,
      marketEvents: this.marketEvents,
      resyncs: this.resyncs,
      quotesPlaced: this.placed,
      quotesCancelled: this.cancelled,
      fills: this.fills,
      makerFills: this.makerFills,
      makerShare: this.fills === 0 ? '0' : new Decimal(this.makerFills).div(this.fills).toDecimalPlaces(4).toString(),
      volumeBase: this.volBase.toString(),
      volumeQuote: this.volQuote.toString(),
      ...this.pnl(),
      maxAbsPosition: this.maxAbs.toString(),
      finalPosition: this.position.toString(),
      timeInRiskMs: timeIn,
      postOnlyRejects: this.postOnly,
      rejects: this.rejects,
      riskEvents: Object.fromEntries(Object.entries(this.riskEvents).sort(([a], [b]) => a.localeCompare(b))),
      adverse1s: mean(1000),
      adverse10s: mean(10_000),
      instantRetries: {
        orders: this.retryIds.size,
        fills: this.retryFills,
        takerFills: this.retryTakerFills,
        fees: this.retryFees.toString(),
        takerFees: this.retryTakerFees.toString(),
        adverse1s: mean(1000, this.retryAdverse),
        adverse10s: mean(10_000, this.retryAdverse),
      },
      endReason: this.endReason,
    }
  }
}

export function summarise(events: Iterable<RunEvent>): RunSummary {
  const s = new RunSummarizer()
  for (const ev of events) s.add(ev)
  return s.result()
}
