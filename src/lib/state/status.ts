/** `mm status` from state.json alone (fast: no venue, no heavy import). */
import {readStateFile, type StateFile} from './file.js'
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
  /** not (expected alive and not answering) */
  healthy: boolean
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
