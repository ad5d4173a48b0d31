/**
 * `mm status --live`: the venue's word next to state.json's. Loaded only under --live (the
 * gateway pulls in undici; plain `mm status` stays a state-file read).
 *
 * Asks the venue (signed, the same key resolution as live `mm quote`): the position
 * (positionRisk), the mark price (premiumIndex) and the open orders of the symbol, each
 * order classed by its client id (SPEC §4.7): this instance's (`mm-<instance><nonce>-…`),
 * another mm instance's, or foreign. Drift: the venue's position differs from the state's,
 * or an order the state lists is not open on the venue, or an order of this instance is
 * open on the venue but not in the state. A dry-run state holds paper figures: they are
 * shown, not compared.
 */
import {hostname} from 'node:os'
import {PlainDecimal} from '../domain/decimal.js'
import {Instrument} from '../domain/instrument.js'
import {MmError, UsageError} from '../domain/errors.js'
import {loadCredentials} from '../venue/binance/keys.js'
import {BinanceGateway} from '../venue/binance/gateway.js'
import {defaultInstance, ownerOf, type OrderOwner} from '../venue/binance/startup.js'
import {readStateFile} from './file.js'
import type {SymbolStatus} from './status.js'

export interface LiveOrder {
  clientOrderId: string
  side: string
  price: string
  qty: string
  filled: string
  tif: string
  status: string
  reduceOnly: boolean
  owner: OrderOwner
}

export interface LiveView {
  venue: string
  instance: string
  /** where the instance name came from */
  instanceFrom: 'flag' | 'state' | 'default'
  /** signed base qty on the venue */
  position: string
  entryPrice: string | null
  markPrice: string
  unrealised: string | null
  orders: LiveOrder[]
  counts: Record<OrderOwner, number>
  /**
   * the venue does not list the symbol (-1121 Invalid symbol: delisted, another venue's, a typo
   * recorded without keys): its answer; no position or order there, nothing compared (exit 3)
   */
  unlisted?: string
  /** null: not compared (dry-run state, no state, or an unlisted symbol) */
  drift: null | {
    any: boolean
    /** venue − state, base qty; null when equal */
    position: null | {state: string; venue: string}
    /** in state.json, not open on the venue */
    missingOnVenue: string[]
    /** open on the venue with this instance's prefix, not in state.json */
    notInState: string[]
  }
}

/** Instance name: the flag, else the one state.json's last live run kept, else quote's default for this host and symbol. */
export function instanceOf(s: SymbolStatus, flag: string | undefined): {instance: string; from: LiveView['instanceFrom']} {
  if (flag !== undefined) {
    if (!/^[A-Za-z0-9]{1,4}$/.test(flag)) throw new UsageError('E_USAGE', `--instance ${JSON.stringify(flag)}: expected 1-4 characters [A-Za-z0-9]`)
    return {instance: flag, from: 'flag'}
  }
  const kept = s.process?.instance
  if (kept && /^[A-Za-z0-9]{1,4}$/.test(kept)) return {instance: kept, from: 'state'}
  return {instance: defaultInstance(hostname(), s.symbol), from: 'default'}
}

export interface LiveOptions {
  restUrl: string
  keyFile?: string
  env: Record<string, string | undefined>
  instance?: string
}

/** One gateway for every symbol asked; a venue error is one line, exit 1; no keys is a usage error (exit 2) naming the env vars and --key-file. */
export async function liveViews(symbols: SymbolStatus[], o: LiveOptions): Promise<LiveView[]> {
  if (o.keyFile === undefined && !o.env.MM_API_KEY && !o.env.MM_API_SECRET) {
    throw new UsageError('E_NO_KEYS', 'status --live needs API keys: set MM_API_KEY and MM_API_SECRET, or pass --key-file PATH', {suggestion: 'leave out --live to read state.json only'})
  }
  const {creds} = loadCredentials({keyFile: o.keyFile, env: o.env, hint: 'set both MM_API_KEY and MM_API_SECRET, or pass --key-file PATH; or leave out --live to read state.json only'})
  const gw = new BinanceGateway({baseUrl: o.restUrl, credentials: creds})
  try {
    await gw.syncTime('start')
    const out: LiveView[] = []
    for (const s of symbols) {
      try {
        out.push(await liveView(gw, s, o.instance))
      } catch (error) {
        // one symbol the venue does not list does not hide the others' views (it failed the whole command, exit 1);
        // its three reads all fail, the first to answer wins: the venue's words, not the endpoint
        if ((error as {venueCode?: number}).venueCode !== -1121) throw error
        const {instance, from} = instanceOf(s, o.instance)
        const none = {ours: 0, 'other-instance': 0, foreign: 0}
        out.push({venue: gw.baseUrl, instance, instanceFrom: from, position: '0', entryPrice: null, markPrice: '', unrealised: null, orders: [], counts: none, unlisted: `${oneLine((error as {venueMsg?: string}).venueMsg ?? 'Invalid symbol.')} (code -1121)`, drift: null})
      }
    }
    return out
  } catch (error) {
    if (error instanceof UsageError) throw error
    const code = error instanceof MmError ? error.code : 'E_VENUE'
    throw new MmError(code, `venue ${gw.baseUrl}: ${oneLine((error as Error).message)}`, {exitCode: 1, suggestion: 'plain mm status (without --live) reads state.json only'})
  } finally {
    await gw.close()
  }
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ')
}

async function liveView(gw: BinanceGateway, s: SymbolStatus, flag: string | undefined): Promise<LiveView> {
  const {instance, from} = instanceOf(s, flag)
  const [positions, premium, open] = await Promise.all([gw.positionRisk(s.symbol), gw.premiumIndex(s.symbol), gw.openOrders(s.symbol)])
  const p = positions.find((x) => x.symbol === s.symbol && (x.positionSide === 'BOTH' || x.positionSide === ''))
  const orders: LiveOrder[] = open
    .filter((x) => x.symbol === s.symbol)
    .map((x) => ({clientOrderId: x.clientOrderId, side: x.side, price: x.price, qty: x.origQty, filled: x.executedQty, tif: x.timeInForce, status: x.status, reduceOnly: x.reduceOnly, owner: ownerOf(x.clientOrderId, instance)}))
  const counts: Record<OrderOwner, number> = {ours: 0, 'other-instance': 0, foreign: 0}
  for (const x of orders) counts[x.owner]++
  // on the instrument's step when state.json knows it ("0.01" → "0.010", as state.json writes it)
  const kept = s.exists && s.error === undefined ? readStateFile(s.stateFile, s.symbol)?.instrument : null
  const inst = kept ? new Instrument({symbol: s.symbol, ...kept}) : null
  const raw = p ? p.positionAmt : '0'
  // off that step (the venue's step changed since state.json was written): the venue's amount as it is
  const onStep = (q: string): string | null => {
    try {
      return inst!.signedStepsToQty(inst!.qtyToSteps(q.replace(/^-/, '')) * (q.startsWith('-') ? -1 : 1))
    } catch {
      return null
    }
  }
  const position = inst && /^-?\d+(\.\d+)?$/.test(raw) ? (onStep(raw) ?? raw) : raw
  let drift: LiveView['drift'] = null
  if (s.exists && s.dryRun === false) {
    const stateNet = s.position?.net ?? '0'
    const posDrift = new PlainDecimal(stateNet).sub(new PlainDecimal(position)).isZero() ? null : {state: stateNet, venue: position}
    const venueIds = new Set(orders.map((x) => x.clientOrderId))
    const stateIds = new Set(s.orders.map((x) => x.clientOrderId))
    const missingOnVenue = [...stateIds].filter((id) => !venueIds.has(id))
    const notInState = orders.filter((x) => x.owner === 'ours' && !stateIds.has(x.clientOrderId)).map((x) => x.clientOrderId)
    drift = {any: posDrift !== null || missingOnVenue.length > 0 || notInState.length > 0, position: posDrift, missingOnVenue, notInState}
  }
  return {
    venue: gw.baseUrl,
    instance,
    instanceFrom: from,
    position,
    entryPrice: p ? p.entryPrice : null,
    markPrice: premium.markPrice,
    unrealised: p ? p.unRealizedProfit : null,
    orders,
    counts,
    drift,
  }
}

/** The text lines of --live under a symbol's table. */
export function renderLive(s: SymbolStatus, v: LiveView): string[] {
  if (v.unlisted !== undefined) return [`${s.symbol} on the venue ${v.venue}: not listed (${v.unlisted}): no position or order there; drift not compared`]
  const out = [`${s.symbol} on the venue ${v.venue} (instance ${v.instance}, ${v.instanceFrom === 'flag' ? '--instance' : v.instanceFrom === 'state' ? "from state.json's run" : 'default for this host'}):`]
  out.push(`  position ${v.position}${v.entryPrice ? ` @ ${v.entryPrice}` : ''}; mark ${v.markPrice}${v.unrealised === null ? '' : `; unrealised ${v.unrealised}`}`)
  out.push(`  open orders: ${v.counts.ours} ours, ${v.counts['other-instance']} of another mm instance, ${v.counts.foreign} foreign`)
  for (const o of v.orders) out.push(`    ${o.owner.padEnd(14)} ${o.clientOrderId} ${o.side} ${o.qty}@${o.price} ${o.tif} ${o.status}${o.reduceOnly ? ' reduce-only' : ''}`)
  const d = v.drift
  if (d === null) out.push(s.error ? '  drift: not compared (state.json cannot be read)' : s.exists ? '  drift: not compared (dry-run state: its figures are paper)' : '  drift: not compared (no state.json)')
  else if (!d.any) out.push('  drift: none (state.json matches the venue)')
  else {
    if (d.position) out.push(`  DRIFT position: state.json ${d.position.state}, venue ${d.position.venue}`)
    if (d.missingOnVenue.length > 0) out.push(`  DRIFT ${d.missingOnVenue.length} order(s) in state.json not open on the venue: ${d.missingOnVenue.join(', ')}`)
    if (d.notInState.length > 0) out.push(`  DRIFT ${d.notInState.length} order(s) of ours open on the venue, not in state.json: ${d.notInState.join(', ')}`)
  }
  return out
}
