/**
 * Signed venue calls of the operator commands (`mm halt` cancelling when the quote is dead
 * or hung), through the live gateway. Loaded lazily: the gateway pulls in undici, which
 * `status` and the control path never need.
 *
 * Whose orders (SPEC §4.7): the ones state.json lists, and every open order of the symbol
 * with this instance's client-id prefix (`mm-<instance><nonce>-…`, the instance state.json
 * keeps from the last live run; without it, any mm client id); `--all` cancels every
 * order of the symbol. An order the venue no longer knows (-2011) counts as gone.
 */
import {UsageError} from '../domain/errors.js'
import {isOwnClientId} from '../orders/client-id.js'
import {idempotentRetry} from '../venue/binance/errors.js'
import {ownerOf} from '../venue/binance/startup.js'
import type {VenueOps} from './actions.js'

/** the hint of a bad or half-set key for halt and flatten (not live quote's --dry-run) */
export const OPERATOR_KEYS_HINT = 'set both MM_API_KEY and MM_API_SECRET, or pass --key-file PATH (with neither, halt and flatten do what they can without the venue and say what they could not)'

export interface VenueOpsOptions {
  restUrl: string
  keyFile?: string
  env: Record<string, string | undefined>
}

/** The venue, or why there is none (no keys). Bad keys (a group-readable key file, …) are an error. */
export async function openVenueOps(o: VenueOpsOptions): Promise<{ops: VenueOps & {close(): Promise<void>}} | {why: string}> {
  const {loadCredentials} = await import('../venue/binance/keys.js')
  let creds
  try {
    creds = loadCredentials({keyFile: o.keyFile, env: o.env, hint: OPERATOR_KEYS_HINT}).creds
  } catch (error) {
    if (error instanceof UsageError && error.code === 'E_NO_KEYS' && !o.env.MM_API_KEY && !o.env.MM_API_SECRET && o.keyFile === undefined) {
      return {why: 'no API keys (MM_API_KEY and MM_API_SECRET, or --key-file)'}
    }
    throw error
  }
  const {BinanceGateway} = await import('../venue/binance/gateway.js')
  const gw = new BinanceGateway({baseUrl: o.restUrl, credentials: creds})
  const gone = (e: unknown) => (e as {venueCode?: number}).venueCode === -2011
  return {
    ops: {
      // each call is idempotent (reads, cancel-all, a cancel whose order is gone is -2011):
      // a transient venue error (5xx, -1000/-1001, a timeout) is asked again, as a live
      // quote's start does; before, one 503 ended mm flatten's cancel-first step (exit 1, nothing sent)
      async cancel(symbol, {all, ours, instance}) {
        await idempotentRetry(() => gw.syncTime('start'))
        const before = await idempotentRetry(() => gw.openOrders(symbol))
        // this instance's when state.json names it (another mm instance's orders are left alone), else any mm order
        const mine = (id: string) => (instance ? ownerOf(id, instance) === 'ours' : isOwnClientId(id))
        const targets = all ? before.map((x) => x.clientOrderId) : [...new Set([...ours, ...before.map((x) => x.clientOrderId).filter((id) => mine(id))])]
        const cancelled: string[] = []
        if (all && before.length > 0) {
          await idempotentRetry(() => gw.cancelAll(symbol))
          cancelled.push(...before.map((x) => x.clientOrderId))
        } else {
          for (const id of targets) {
            try {
              await idempotentRetry(() => gw.cancelOrder(symbol, id))
              cancelled.push(id)
            } catch (error) {
              if (!gone(error)) throw error
            }
          }
        }
        const after = new Set((await idempotentRetry(() => gw.openOrders(symbol))).map((x) => x.clientOrderId))
        return {cancelled: cancelled.filter((id) => !after.has(id)), left: targets.filter((id) => after.has(id))}
      },
      async openOrderIds(symbol) {
        await idempotentRetry(() => gw.syncTime('start'))
        return (await idempotentRetry(() => gw.openOrders(symbol))).map((x) => x.clientOrderId)
      },
      close: () => gw.close(),
    },
  }
}
