/**
 * Calibrate jobs on the first 2 minutes of the real ETHUSDT 2024-08-08 capture (a window
 * that ends inside the file), one per base spread: the fixture of the point and worker tests.
 */
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {PointJob} from '../../src/lib/calibrate/point.js'
import {jobsOf} from '../../src/lib/calibrate/run.js'
import {parseSpec} from '../../src/lib/calibrate/spec.js'
import {sharedData} from './shared-data.js'

export const AUG = sharedData('hftbacktest/examples/usdm/ethusdt_20240808.gz')

export function augJobs(spreads: number[]): PointJob[] {
  const spec = parseSpec(
    {
      symbol: 'ETHUSDT',
      tickSize: '0.01',
      stepSize: '0.001',
      minNotional: '20',
      windows: [{name: 'aug', replay: AUG, duration: '2m'}],
      base: {strategy: {baseSize: '0.01'}, risk: {netMax: '0.05'}},
      params: {'strategy.baseSpread': spreads},
    },
    join(tmpdir(), 'spec.json'),
  )
  return jobsOf(spec).jobs
}
