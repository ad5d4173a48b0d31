/** `mm status` from state.json alone (fast: no venue, no heavy import). */
import {readStateFile, type StateFile, StateFileError} from './file.js'
import {liveness, type Liveness, type Target} from './ops.js'

export interface SymbolStatus {
  symbol: string
  stateFile: string
  /** false: no state.json for this symbol */
  exists: boolean
  dryRun: boolean | null
  updatedAt: string | null
  position: StateFile['position'] | null
  orders: Array<{clientOrderId: string} & StateFile['orders'][string]>
  risk: StateFile['risk'] | null
  halt: StateFile['halt']
  process: StateFile['process']
  quote: Liveness
  /** state.json says a quote runs (it did not stop cleanly) */
  expectedAlive: boolean
  /** not (expected alive and not answering); false when state.json cannot be read */
  healthy: boolean
  /** state.json could not be read (corrupt, another symbol's, a newer schema): the rest of the entry is empty */
  error?: {code: string; message: string}
}

/**
 * `statusOf`, or — when the symbol's state.json cannot be read — an entry that says so
 * (every symbol of a state dir is shown: one bad file no longer hides the others).
 */
export function statusOrError(t: Target, nowMs: number, staleMs: number): SymbolStatus {
  try {
    return statusOf(t, nowMs, staleMs)
  } catch (error) {
    if (!(error instanceof StateFileError)) throw error
    const q = liveness(t.dir, null, nowMs, staleMs)
    return {symbol: t.symbol, stateFile: t.path, exists: true, dryRun: null, updatedAt: null, position: null, orders: [], risk: null, halt: null, process: null, quote: q, expectedAlive: false, healthy: false, error: {code: error.code, message: error.message}}
  }
}

export function statusOf(t: Target, nowMs: number, staleMs: number): SymbolStatus {
  const s = readStateFile(t.path, t.symbol)
  const q = liveness(t.dir, s, nowMs, staleMs)
  const expectedAlive = s?.process?.running === true
  const {ledger: _ledger, ...position} = s?.position ?? {ledger: null}
  return {
    symbol: t.symbol,
    stateFile: t.path,
    exists: s !== null,
    dryRun: s?.dryRun ?? null,
    updatedAt: s?.updatedAt ?? null,
    position: s ? (position as StateFile['position']) : null,
    orders: Object.entries(s?.orders ?? {}).map(([clientOrderId, o]) => ({clientOrderId, ...o})),
    risk: s?.risk ?? null,
    halt: s?.halt ?? null,
    process: s?.process ?? null,
    quote: q,
    expectedAlive,
    healthy: !(expectedAlive || q.kind === 'hung') || q.kind === 'alive',
  }
}
