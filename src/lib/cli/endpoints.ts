/**
 * Where a command talks to. Production Binance by default; --testnet, or --rest-url /
 * --ws-url (env MM_REST_URL / MM_WS_URL) for any Binance-compatible venue such as `mm sim`.
 * See ../shared/binance/FACTS.md §1.1 and §3.1 for the routed WebSocket paths.
 */
import {UsageError} from '../domain/errors.js'

export interface Endpoints {
  rest: string
  /** WebSocket base, without the /public | /market | /private route */
  ws: string
  /** does the WS venue use the routed /public and /market paths? */
  routed: boolean
  name: 'binance' | 'testnet' | 'custom'
}

export const BINANCE: Endpoints = {rest: 'https://fapi.binance.com', ws: 'wss://fstream.binance.com', routed: true, name: 'binance'}
// Testnet routing is UNCONFIRMED (FACTS.md §8.3): use the legacy unrouted paths there.
export const TESTNET: Endpoints = {rest: 'https://demo-fapi.binance.com', ws: 'wss://fstream.binancefuture.com', routed: false, name: 'testnet'}

function checkUrl(u: string, flag: string, protocols: string[]): string {
  let parsed: URL
  try {
    parsed = new URL(u)
  } catch {
    throw new UsageError('E_URL', `${flag}: ${JSON.stringify(u)} is not a URL`)
  }
  if (!protocols.includes(parsed.protocol)) throw new UsageError('E_URL', `${flag}: ${u} must use ${protocols.join(' or ')}`)
  return u.replace(/\/+$/, '')
}

export function resolveEndpoints(opts: {restUrl?: string; wsUrl?: string; testnet?: boolean}): Endpoints {
  const base = opts.testnet ? TESTNET : BINANCE
  if (!opts.restUrl && !opts.wsUrl) return base
  return {
    rest: opts.restUrl ? checkUrl(opts.restUrl, '--rest-url', ['http:', 'https:']) : base.rest,
    ws: opts.wsUrl ? checkUrl(opts.wsUrl, '--ws-url', ['ws:', 'wss:']) : base.ws,
    // a custom venue (mm sim, a proxy) serves the routed paths as Binance does
    routed: opts.wsUrl ? true : base.routed,
    name: 'custom',
  }
}

/** Combined-stream URL for market streams; depth and bookTicker live on /public, trades on /market. */
export function streamUrl(ep: Endpoints, route: 'public' | 'market', streams: string[]): string {
  const prefix = ep.routed ? `${ep.ws}/${route}` : ep.ws
  return `${prefix}/stream?streams=${streams.join('/')}`
}
