/**
 * `paper.*` configuration: knobs of the paper venue, their defaults and validation.
 * The config loader owns the file; this module owns the meaning of the paper section.
 */
import {ConfigError} from '../../domain/errors.js'
import type {QueueModelName} from './queue.js'

export interface PaperVenueConfig {
  /** ms from sending an order/cancel to the matching engine receiving it */
  entryLatencyMs: number
  /** ms from the matching engine producing a report to the strategy receiving it */
  responseLatencyMs: number
  /** queue-position model for resting orders */
  queueModel: QueueModelName
  /** exponent n of f(x) = x^n for `prob-power` */
  queuePower: number
  /** maker fee rate as a decimal string; negative = rebate */
  makerFeeRate: string
  /** taker fee rate as a decimal string */
  takerFeeRate: string
}

export const PAPER_DEFAULTS: Readonly<PaperVenueConfig> = Object.freeze({
  entryLatencyMs: 25,
  responseLatencyMs: 25,
  queueModel: 'conservative',
  queuePower: 2,
  makerFeeRate: '0.0002',
  takerFeeRate: '0.0005',
})

const MODELS: readonly QueueModelName[] = ['conservative', 'prob-power', 'prob-log']
const RATE_RE = /^-?\d+(\.\d+)?$/

/** Fill defaults and validate; throws ConfigError naming the key, value and what was expected. */
export function resolvePaperConfig(partial: Partial<PaperVenueConfig> = {}): PaperVenueConfig {
  const c: PaperVenueConfig = {...PAPER_DEFAULTS}
  for (const [k, v] of Object.entries(partial) as Array<[keyof PaperVenueConfig, unknown]>) {
    if (v !== undefined) (c as unknown as Record<string, unknown>)[k] = v
  }
  const bad = (key: string, value: unknown, expected: string): never => {
    throw new ConfigError('E_CONFIG', `paper.${key} = ${JSON.stringify(value)}: expected ${expected}`, {details: {path: `paper.${key}`, value, expected}})
  }
  for (const k of ['entryLatencyMs', 'responseLatencyMs'] as const) {
    if (typeof c[k] !== 'number' || !Number.isFinite(c[k]) || c[k] < 0) bad(k, c[k], 'a number of milliseconds >= 0')
  }
  if (!MODELS.includes(c.queueModel)) bad('queueModel', c.queueModel, MODELS.join(' | '))
  if (typeof c.queuePower !== 'number' || !(c.queuePower > 0) || !Number.isFinite(c.queuePower)) bad('queuePower', c.queuePower, 'a number > 0')
  for (const k of ['makerFeeRate', 'takerFeeRate'] as const) {
    if (typeof c[k] !== 'string' || !RATE_RE.test(c[k])) bad(k, c[k], 'a decimal string such as "0.0002" (negative = rebate)')
  }
  return c
}
