import {describe, expect, it} from 'vitest'
import {ConfigError} from '../../src/lib/domain/errors.js'
import {PAPER_DEFAULTS, resolvePaperConfig} from '../../src/lib/venue/paper/index.js'
import {ReportQueue, type VenueReport} from '../../src/lib/venue/types.js'

const r = (id: string, ts: number): VenueReport => ({type: 'canceled', clientOrderId: id, filled: 0, ts, venueTs: ts})

describe('ReportQueue', () => {
  it('releases reports with ts <= now in ts order, ties in push order', () => {
    const q = new ReportQueue()
    q.push(r('a', 20))
    q.push(r('b', 10))
    q.push(r('c', 20))
    q.push(r('d', 15))
    expect(q.nextTs()).toBe(10)
    expect(q.drain(9)).toEqual([])
    expect(q.drain(20).map((x) => x.clientOrderId)).toEqual(['b', 'd', 'a', 'c'])
    expect(q.size).toBe(0)
    expect(q.nextTs()).toBe(Number.POSITIVE_INFINITY)
  })
})

describe('paper config', () => {
  it('defaults', () => {
    expect(resolvePaperConfig()).toEqual({entryLatencyMs: 25, responseLatencyMs: 25, queueModel: 'conservative', queuePower: 2, makerFeeRate: '0.0002', takerFeeRate: '0.0005'})
    expect(resolvePaperConfig({entryLatencyMs: 3}).entryLatencyMs).toBe(3)
    expect(PAPER_DEFAULTS.queueModel).toBe('conservative')
  })

  it('names the bad key', () => {
    expect(() => resolvePaperConfig({entryLatencyMs: -1})).toThrow(/paper\.entryLatencyMs = -1/)
    expect(() => resolvePaperConfig({queueModel: 'fifo' as never})).toThrow(ConfigError)
    expect(() => resolvePaperConfig({makerFeeRate: 0.0002 as never})).toThrow(/paper\.makerFeeRate/)
  })
})
