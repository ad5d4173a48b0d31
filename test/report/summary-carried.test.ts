/**
 * A live run that starts from a carried ledger (run_start `carried`): the summary's fees,
 * realised, unrealised and net PnL are the run's own change; the ledger's totals apart.
 */
import {describe, expect, it} from 'vitest'
import {summarise} from '../../src/lib/report/summary.js'
import type {RunEvent} from '../../src/lib/telemetry/run-events.js'

const start = (carried?: {position: string; realised: string; fees: string}): RunEvent => ({type: 'run_start', t: 1000, symbol: 'ETHUSDC', mode: 'live', strategy: 'v2', instrument: {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}, ...(carried ? {carried} : {})})
const sample = (t: number, mid: string | null, position: string, realised: string, unrealised: string, fees: string): RunEvent => ({type: 'sample', t, mid, bid: null, ask: null, ownBid: null, ownAsk: null, position, realised, unrealised, fees, risk: 'normal'})
const end: RunEvent = {type: 'run_end', t: 9000, reason: 'stopped', marketEvents: 10, resyncs: 0}

describe('per-run PnL with a carried ledger', () => {
  it('a run with no fill on a flat carried ledger: 0 fees, 0 PnL; the ledger says the totals', () => {
    const s = summarise([start({position: '0.000', realised: '0.5', fees: '0.849'}), sample(1000, null, '0.000', '0.5', '0', '0.849'), sample(2000, '3000.05', '0.000', '0.5', '0', '0.849'), end])
    expect({fills: s.fills, fees: s.fees, realisedPnl: s.realisedPnl, unrealisedPnl: s.unrealisedPnl, netPnl: s.netPnl, ledger: s.ledger}).toEqual({
      fills: 0, fees: '0', realisedPnl: '0', unrealisedPnl: '0', netPnl: '0',
      ledger: {fees: '0.849', realisedPnl: '0.5', unrealisedPnl: '0', netPnl: '-0.349'},
    })
  })

  it('fills and a carried open position: the change from the start (unrealised from the first mid)', () => {
    const s = summarise([
      start({position: '0.010', realised: '1', fees: '0.2'}),
      sample(1000, null, '0.010', '1', '0', '0.2'),
      sample(2000, '3000.00', '0.010', '1', '0.3', '0.2'),
      {type: 'fill', t: 3000, clientOrderId: 'mm-x', side: 'SELL', price: '3001.00', qty: '0.010', maker: true, fee: '0.006', position: '0.000', realised: '1.4'},
      sample(4000, '3002.00', '0.000', '1.4', '0', '0.206'),
      end,
    ])
    expect({fills: s.fills, fees: s.fees, realisedPnl: s.realisedPnl, unrealisedPnl: s.unrealisedPnl, netPnl: s.netPnl, ledger: s.ledger, finalPosition: s.finalPosition}).toEqual({
      fills: 1, fees: '0.006', realisedPnl: '0.4', unrealisedPnl: '-0.3', netPnl: '0.094', finalPosition: '0',
      ledger: {fees: '0.206', realisedPnl: '1.4', unrealisedPnl: '0', netPnl: '1.194'},
    })
  })

  it('a replay (no carried ledger): the figures as before, no ledger field', () => {
    const s = summarise([start(), sample(1000, '3000.00', '0.000', '0', '0', '0'), end])
    expect(s.ledger).toBeUndefined()
    expect(s.netPnl).toBe('0')
  })
})
