/**
 * Start-up reconciliation with the venue before the first order (SPEC.md §4.7, ANCHORS.md
 * (f)). The venue is the truth:
 *  - the symbol's rules from exchangeInfo (PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE,
 *    MIN_NOTIONAL, PERCENT_PRICE, MAX_NUM_ORDERS) and its status: not TRADING → refused;
 *  - the position mode: hedge (dual side) → refused (mm trades one-way, positionSide BOTH);
 *  - the commission rates, the position (amount, entry, leverage, liquidation price), the
 *    mark price;
 *  - open orders, sorted into ours (this instance's client-id prefix), another mm
 *    instance's (refused: two instances on one symbol and account fight) and foreign ones
 *    (named; refused unless `allowForeign`, because the dead-man's switch cancels every
 *    order of the symbol, so with foreign orders the switch is turned off).
 *
 * Ours left by an earlier run are **cancelled**, not adopted: the strategy re-quotes within
 * one refresh, an adopted order would need its slot and intent rebuilt from a price, and a
 * cancel leaves nothing half-known. Fills they had are in the venue's position.
 */
import {PlainDecimal} from '../../domain/decimal.js'
import {MmError} from '../../domain/errors.js'
import {parseClientId} from '../../orders/client-id.js'
import type {BinanceGateway} from './gateway.js'
import {idempotentRetry, isBinanceApiError} from './errors.js'
import type {BinanceOrder, BinancePosition, CommissionRate, RateLimitRule, SymbolRules} from './rest-types.js'

const INSTANCE_RE = /^[A-Za-z0-9]{1,4}$/
const NONCE_LEN = 4

/**
 * The run id in client ids (`mm-<run>-<slot>-<seq>`, 1–8 chars): the instance name (1–4
 * chars, stable across restarts) followed by a 4-character per-run nonce, so a restarted
 * run never re-uses an earlier run's client ids while its orders stay recognisable as ours.
 */
export function liveRunId(instance: string, nonce: number): string {
  if (!INSTANCE_RE.test(instance)) throw new MmError('E_INSTANCE', `instance name ${JSON.stringify(instance)} must be 1-4 characters [A-Za-z0-9]`, {exitCode: 2})
  return instance + (nonce % 36 ** NONCE_LEN).toString(36).padStart(NONCE_LEN, '0')
}

/** The default instance name: 4 base-36 characters from a hash of host and symbol. */
export function defaultInstance(host: string, symbol: string): string {
  let h = 0x811c9dc5
  const s = `${host}/${symbol.toUpperCase()}`
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return (h % 36 ** 4).toString(36).padStart(4, '0')
}

export type OrderOwner = 'ours' | 'other-instance' | 'foreign'

export function ownerOf(clientOrderId: string, instance: string): OrderOwner {
  const p = parseClientId(clientOrderId)
  if (!p) return 'foreign'
  if (p.runId.length === instance.length + NONCE_LEN && p.runId.startsWith(instance)) return 'ours'
  return 'other-instance'
}

/**
 * Open orders by owner. `earlierRun`: the run id (`<instance><nonce>`) of the run that wrote
 * this state dir's state.json, dead since this quote holds its lock: its orders are this
 * quote's leftovers whatever its instance name (a default instance derived from a host name
 * that changed: a new container or pod), not another instance's.
 */
export function classifyOpenOrders(orders: BinanceOrder[], instance: string, earlierRun?: string): Record<OrderOwner, BinanceOrder[]> {
  const out: Record<OrderOwner, BinanceOrder[]> = {ours: [], 'other-instance': [], foreign: []}
  for (const o of orders) out[earlierRun !== undefined && parseClientId(o.clientOrderId)?.runId === earlierRun ? 'ours' : ownerOf(o.clientOrderId, instance)].push(o)
  return out
}

export interface StartupState {
  venue: string
  symbol: string
  rules: SymbolRules
  rateLimits: RateLimitRule[]
  commission: CommissionRate
  position: BinancePosition | undefined
  markPrice: string
  open: Record<OrderOwner, BinanceOrder[]>
  /** the dead-man's switch is used (false with foreign orders allowed) */
  deadman: boolean
  /** why the BNB fee-discount setting could not be read (undefined: read, and off) */
  feeBurnUnread?: string
  /** of `open.ours`, those of the earlier run state.json names under another instance name */
  earlierRunOther?: {runId: string; count: number}
}

/**
 * The account's BNB fee discount (GET /fapi/v1/feeBurn): true, false, or why it could not
 * be read. A venue without the endpoint (HTTP 404) is not asked again; a transient error is
 * (idempotentRetry). Never a reason to stop the start by itself: only a clear `true` is.
 */
async function readFeeBurn(gw: BinanceGateway): Promise<boolean | string> {
  try {
    return await idempotentRetry(async () => {
      try {
        return await gw.feeBurn()
      } catch (error) {
        if (isBinanceApiError(error) && error.httpStatus === 404) return error.message
        throw error
      }
    })
  } catch (error) {
    return (error as Error).message
  }
}

const names = (os: BinanceOrder[]) => os.slice(0, 5).map((o) => `${o.clientOrderId} (${o.side} ${o.origQty} @ ${o.price})`).join(', ') + (os.length > 5 ? ` and ${os.length - 5} more` : '')

/** Read everything the venue knows and refuse what mm cannot trade safely. Sends no order. */
export async function readVenueState(gw: BinanceGateway, symbol: string, o: {instance: string; allowForeign: boolean; earlierRun?: string}): Promise<StartupState> {
  const sym = symbol.toUpperCase()
  const r = idempotentRetry
  await r(() => gw.syncTime('start'))
  const {rules, rateLimits} = await r(() => gw.symbolRules(sym))
  if (rules.status !== 'TRADING') {
    throw new MmError('E_SYMBOL_NOT_TRADING', `${sym} is not trading on ${gw.baseUrl} (status ${rules.status})`, {suggestion: 'pick a symbol whose exchangeInfo status is TRADING'})
  }
  if (await r(() => gw.dualSidePosition())) {
    throw new MmError('E_HEDGE_MODE', 'the account is in hedge mode (dual side position); mm trades in one-way mode only', {
      suggestion: 'switch the account to one-way mode (Binance: Preferences → Position Mode, or POST /fapi/v1/positionSide/dual dualSidePosition=false) with no open position',
    })
  }
  // With the BNB fee discount on, Binance charges every fee in BNB (ORDER_TRADE_UPDATE `N`,
  // userTrades `commissionAsset`). mm's ledger books fees in the symbol's margin asset: a BNB
  // fee read as USDC is ~600× too small, so net PnL, the daily loss limit (§4.6) and
  // state.json would all be off. Refused here, before any order.
  const feeBurn = await readFeeBurn(gw)
  if (feeBurn === true) {
    throw new MmError('E_BNB_FEES', `the BNB fee discount is on (GET /fapi/v1/feeBurn): Binance charges the fees in BNB while the futures wallet holds any; mm books fees in ${rules.marginAsset ?? "the symbol's margin asset"}, so its PnL, loss limit and state would leave them out`, {
      suggestion: 'turn the BNB fee discount off (Binance: Preferences → Fee discount with BNB, or POST /fapi/v1/feeBurn feeBurn=false) and start again; with no BNB in the futures wallet it saves nothing anyway',
    })
  }
  const [commission, positions, premium, open] = await Promise.all([r(() => gw.commissionRate(sym)), r(() => gw.positionRisk(sym)), r(() => gw.premiumIndex(sym)), r(() => gw.openOrders(sym))])
  const byOwner = classifyOpenOrders(open, o.instance, o.earlierRun)
  const renamed = byOwner.ours.filter((x) => ownerOf(x.clientOrderId, o.instance) !== 'ours').length
  if (byOwner['other-instance'].length > 0) {
    throw new MmError('E_OTHER_INSTANCE', `another mm instance has orders on ${sym}: ${names(byOwner['other-instance'])}`, {
      suggestion: 'stop the other instance (or cancel its orders) first; two instances on one symbol and account would fight',
    })
  }
  if (byOwner.foreign.length > 0 && !o.allowForeign) {
    // a refused start sends nothing: orders a killed run of this instance left keep resting at
    // their old prices until its switch's countdown ends (which cancels the foreign ones too)
    const left = byOwner.ours.length > 0 ? `; ${byOwner.ours.length} order(s) an earlier run of this instance left still rest (${names(byOwner.ours)}): mm halt --symbol ${sym} cancels those and no other (then mm resume before the next start)` : ''
    throw new MmError('E_FOREIGN_ORDERS', `${byOwner.foreign.length} order(s) not placed by mm rest on ${sym}: ${names(byOwner.foreign)}`, {
      suggestion: `cancel them, or pass --allow-foreign-orders (mm never touches them, and the dead-man's switch, which would cancel them too, is turned off)${left}`,
    })
  }
  const position = positions.find((p) => p.symbol === sym && (p.positionSide === 'BOTH' || p.positionSide === ''))
  refuseOffGridPosition(sym, position?.positionAmt, rules.stepSize)
  return {
    venue: gw.baseUrl,
    symbol: sym,
    rules,
    rateLimits,
    commission,
    position,
    markPrice: premium.markPrice,
    open: byOwner,
    deadman: byOwner.foreign.length === 0 || !o.allowForeign,
    ...(typeof feeBurn === 'string' ? {feeBurnUnread: feeBurn} : {}),
    ...(renamed > 0 && o.earlierRun !== undefined ? {earlierRunOther: {runId: o.earlierRun, count: renamed}} : {}),
  }
}

/**
 * A venue position off the symbol's LOT_SIZE grid (Binance raised the step after it was
 * opened, or it was opened elsewhere at a finer step) cannot be booked in steps: refused
 * with one line naming the symbol, the position, the step and the remainder, before any
 * order. Before, the start-up failed with the bare "1555 is not a multiple of 10".
 */
export function refuseOffGridPosition(symbol: string, positionAmt: string | undefined, stepSize: string): void {
  if (positionAmt === undefined || !/^-?\d+(\.\d+)?$/.test(positionAmt) || !/^\d+(\.\d+)?$/.test(stepSize)) return
  const step = new PlainDecimal(stepSize)
  if (step.isZero()) return
  const rest = new PlainDecimal(positionAmt).abs().mod(step)
  if (rest.isZero()) return
  throw new MmError('E_POSITION_OFF_GRID', `${symbol}: the venue position ${positionAmt} is not a multiple of the LOT_SIZE step ${stepSize} (${rest.toString()} off the grid); mm cannot trade it`, {
    suggestion: `close the ${rest.toString()} off the grid on the venue, or run \`mm flatten --symbol ${symbol}\` (it closes the part on the grid and names what is left), then start again`,
    details: {symbol, positionAmt, stepSize, offGrid: rest.toString()},
  })
}

/** Cancel the orders an earlier run of this instance left (one cancel-all when no foreign order rests, else one by one). */
export async function cancelLeftovers(gw: BinanceGateway, st: StartupState): Promise<number> {
  const ours = st.open.ours
  if (ours.length === 0) return 0
  if (st.open.foreign.length === 0) {
    await idempotentRetry(() => gw.cancelAll(st.symbol))
    return ours.length
  }
  for (let i = 0; i < ours.length; i += 10) await idempotentRetry(() => gw.cancelBatch(st.symbol, ours.slice(i, i + 10).map((x) => x.clientOrderId)))
  return ours.length
}

/** The lines printed once before the first order: venue, symbol, limits, fees, position. */
export function describeVenue(st: StartupState, o: {deadmanCountdownMs: number}): string[] {
  const r = st.rules
  const lines = [
    `venue ${st.venue}, symbol ${st.symbol} (${r.contractType ?? 'contract'}, margin ${r.marginAsset ?? '?'}), status ${r.status}`,
    `limits: tick ${r.tickSize}, step ${r.stepSize}, min qty ${r.minQty}, max qty ${r.maxQty}, min notional ${r.minNotional}` +
      (r.percentPrice ? `, price within ×${r.percentPrice.multiplierDown}..×${r.percentPrice.multiplierUp} of mark ${st.markPrice}` : '') +
      (r.maxNumOrders !== undefined ? `, max ${r.maxNumOrders} open orders` : ''),
    `fees: maker ${st.commission.makerCommissionRate}, taker ${st.commission.takerCommissionRate}`,
    `position: ${st.position ? `${st.position.positionAmt} @ ${st.position.entryPrice}${st.position.leverage ? `, leverage ${st.position.leverage}` : ''}, liquidation ${st.position.liquidationPrice}` : 'flat'}`,
    st.deadman ? `dead-man's switch: every order of ${st.symbol} is cancelled by the venue ${o.deadmanCountdownMs / 1000} s after mm stops refreshing it` : `dead-man's switch OFF (--allow-foreign-orders): foreign orders rest on ${st.symbol}`,
  ]
  if (st.feeBurnUnread !== undefined) lines.push(`fees: the BNB fee-discount setting could not be read (${st.feeBurnUnread}); every fee is booked in ${r.marginAsset ?? "the margin asset"}: if BNB pays them, PnL leaves them out`)
  const renamed = st.earlierRunOther?.count ?? 0
  if (st.open.ours.length > renamed) lines.push(`cancelling ${st.open.ours.length - renamed} order(s) left by an earlier run of this instance`)
  if (renamed > 0) lines.push(`cancelling ${renamed} order(s) left by run ${st.earlierRunOther!.runId}, which wrote this state dir's state.json under another instance name (it is not running: this quote holds its lock)`)
  if (st.open.foreign.length > 0) lines.push(`not touching ${st.open.foreign.length} foreign order(s): ${names(st.open.foreign)}`)
  return lines
}

/** Is `url` Binance's production REST? (the TTY confirmation is asked only there) */
export function isProduction(url: string): boolean {
  try {
    const h = new URL(url).hostname
    return h === 'fapi.binance.com'
  } catch {
    return false
  }
}
