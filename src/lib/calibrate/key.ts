/**
 * The identity of a calibration job, apart from point.ts so that the main thread of
 * `mm calibrate` (which only hands jobs to its workers) does not load the replay engine.
 */
import {createHash} from 'node:crypto'
import type {PointJob} from './point.js'

export function jobKey(j: Omit<PointJob, 'key' | 'id' | 'point'>): string {
  const h = createHash('sha256')
  h.update(JSON.stringify([j.config, j.window.replay, j.window.durationMs ?? null, j.symbol, j.tickSize ?? null, j.stepSize ?? null, j.minNotional ?? null]))
  return h.digest('hex').slice(0, 16)
}
