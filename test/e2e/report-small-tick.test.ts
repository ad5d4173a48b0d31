/**
 * `mm report` of a run on an instrument whose tick is far below a millionth (1000SATSUSDT:
 * tick 0.0000001, price ≈ 0.00035): the mean adverse move per unit is a few ticks, so it
 * must keep the tick's decimals. Before, it was rounded to 6 decimals: 3.5 ticks adverse
 * after 1 s read "0" and 11.75 ticks after 10 s "0.000001" (seen on a live run against
 * `mm sim --tick-size 0.0000001`), and `mm calibrate`'s markout objectives read the same
 * figures.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'

const tmp = mkdtempSync(join(tmpdir(), 'mm-report-small-tick-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

function log(tickSize: string, adverse1s: string[], adverse10s: string[]): string {
  const ev: object[] = [
    {type: 'run_start', t: 1000, symbol: 'TESTUSDT', mode: 'live', strategy: 'v2', instrument: {tickSize, stepSize: '100', minQty: '100', minNotional: '5'}},
  ]
  adverse1s.forEach((a, i) => ev.push({type: 'markout', t: 2000 + i, clientOrderId: `mm-x-${i}`, horizonMs: 1000, side: 'SELL', fillPrice: '0.0003464', mid: '0.0003464', adverse: a}))
  adverse10s.forEach((a, i) => ev.push({type: 'markout', t: 12_000 + i, clientOrderId: `mm-x-${i}`, horizonMs: 10_000, side: 'SELL', fillPrice: '0.0003464', mid: '0.0003464', adverse: a}))
  ev.push({type: 'run_end', t: 20_000, reason: 'duration', marketEvents: 10, resyncs: 0})
  return ev.map((e) => JSON.stringify(e)).join('\n') + '\n'
}

describe('mm report: adverse move on a tick below a millionth', () => {
  it('keeps the tick decimals (plus two) in the mean adverse move, table and --json', async () => {
    ensureBuilt('report')
    const file = join(tmp, 'sats.jsonl')
    writeFileSync(file, log('0.0000001', ['0.00000065', '0.00000045', '-0.00000005', '0.00000035'], ['0.0000014', '0.00000095']))
    const json = await runCli(['report', file, '--json', '--state-dir', tmp])
    expect(json.stderr).toBe('')
    expect(json.code).toBe(0)
    const data = JSON.parse(json.stdout).data
    const s = data.runs[0].summary
    expect(s.adverse1s).toBe('0.00000035')
    expect(s.adverse10s).toBe('0.000001175')
    const table = await runCli(['report', file, '--state-dir', tmp])
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/adverse move 1 s \/ 10 s \(per unit\)\s+│ 0\.00000035 \/ 0\.000001175 /)
  })

  it('keeps 6 decimals on a cent tick (ETHUSDC), as before', async () => {
    const file = join(tmp, 'eth.jsonl')
    writeFileSync(file, log('0.01', ['0.1', '0.0123456789'], []))
    const json = await runCli(['report', file, '--json', '--state-dir', tmp])
    expect(json.code).toBe(0)
    const data = JSON.parse(json.stdout).data
    const s = data.runs[0].summary
    expect(s.adverse1s).toBe('0.056173')
    expect(s.adverse10s).toBe(null)
  })
})
