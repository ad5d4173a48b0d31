/**
 * A ledger as state.json holds it (orders/position.ts writes it), checked field by field
 * without decimal.js: state/file.ts checks every state file with it, and `mm status` reads
 * state files without loading the heavy packages (test/lint/status-imports.test.ts).
 */

const INT = /^-?\d+$/
const DEC = /^-?\d+(\.\d+)?$/
/** a Binance trade id (orders/position.ts) */
export const TRADE_ID = /^\d{1,30}$/

/**
 * What makes `x` a ledger mm would not write (`ledger.fees "x" is not a decimal number`), or null
 * for a ledger that parses. The trade-id list and its floor are not judged here: a bad one
 * is dropped by `parsePositionJSON`, not the ledger.
 */
export function ledgerProblem(x: unknown, name = 'ledger'): string | null {
  const show = (v: unknown) => JSON.stringify(v) ?? String(v)
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return `${name} ${show(x)} is not a ledger`
  const j = x as Record<string, unknown>
  for (const k of ['cost', 'realised', 'notional'] as const) {
    if (!(typeof j[k] === 'string' && INT.test(j[k] as string))) return `${name}.${k} ${show(j[k])} is not a whole number (cost units)`
  }
  for (const k of ['fees', 'makerFees', 'takerFees', 'funding'] as const) {
    if (!(typeof j[k] === 'string' && DEC.test(j[k] as string))) return `${name}.${k} ${show(j[k])} is not a decimal number`
  }
  if (!Number.isSafeInteger(j.net)) return `${name}.net ${show(j.net)} is not a whole number (steps)`
  for (const k of ['fills', 'makerFills', 'volume', 'lastFillTs'] as const) {
    if (!(Number.isSafeInteger(j[k]) && (j[k] as number) >= 0)) return `${name}.${k} ${show(j[k])} is not a count`
  }
  if (j.venueRealised !== undefined && !(typeof j.venueRealised === 'string' && DEC.test(j.venueRealised))) return `${name}.venueRealised ${show(j.venueRealised)} is not a decimal number`
  if (j.lastTradeId !== undefined && !(typeof j.lastTradeId === 'string' && TRADE_ID.test(j.lastTradeId))) return `${name}.lastTradeId ${show(j.lastTradeId)} is not a trade id`
  return null
}

