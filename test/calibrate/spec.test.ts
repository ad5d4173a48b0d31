/**
 * The calibration spec: validation (one line naming the key), grid / random / Latin
 * hypercube sampling (seeded, reproducible), the point's config, ranking with constraints.
 */
import {describe, expect, it} from 'vitest'
import type {Metrics, PointResult} from '../../src/lib/calibrate/point.js'
import {rankWindow} from '../../src/lib/calibrate/rank.js'
import {configOf, expandPoints, parseSpec} from '../../src/lib/calibrate/spec.js'

const base = {symbol: 'ethusdt', windows: [{replay: '/data/a.gz', duration: '2m'}]}

describe('calibration spec', () => {
  it('grid: the product of every key’s values, last key fastest; ranges split in `steps` (ints rounded, duplicates dropped)', () => {
    const s = parseSpec({...base, params: {'strategy.baseSpread': {min: 0.001, max: 0.003, steps: 3}, 'strategy.baseInterval': {min: 100, max: 101, steps: 3}}}, '/x/spec.yaml')
    expect(s.symbol).toBe('ETHUSDT')
    expect(s.windows).toEqual([{name: 'w1', replay: ['/data/a.gz'], durationMs: 120_000}])
    expect(expandPoints(s)).toEqual([
      {'strategy.baseSpread': 0.001, 'strategy.baseInterval': 100},
      {'strategy.baseSpread': 0.001, 'strategy.baseInterval': 101},
      {'strategy.baseSpread': 0.002, 'strategy.baseInterval': 100},
      {'strategy.baseSpread': 0.002, 'strategy.baseInterval': 101},
      {'strategy.baseSpread': 0.003, 'strategy.baseInterval': 100},
      {'strategy.baseSpread': 0.003, 'strategy.baseInterval': 101},
    ])
  })

  it('size keys (decimal strings) get exact decimal grid values', () => {
    const s = parseSpec({...base, params: {'strategy.baseSize': {min: '0.01', max: '0.03', steps: 3}}}, '/x/s.json')
    expect(expandPoints(s)).toEqual([{'strategy.baseSize': '0.01'}, {'strategy.baseSize': '0.02'}, {'strategy.baseSize': '0.03'}])
  })

  it('random and Latin hypercube: reproducible from the seed, inside the ranges; LHS puts one sample in each of n strata per key', () => {
    const spec = (sampler: string, seed = 7) => parseSpec({...base, sampler, samples: 10, seed, params: {'strategy.baseSpread': {min: 0.001, max: 0.002}, 'strategy.volWindowSec': {min: 10, max: 100}}}, '/x/s.json')
    for (const sampler of ['random', 'lhs']) {
      const a = expandPoints(spec(sampler))
      expect(a).toHaveLength(10)
      expect(expandPoints(spec(sampler))).toEqual(a)
      expect(expandPoints(spec(sampler, 8))).not.toEqual(a)
      for (const p of a) {
        expect(p['strategy.baseSpread']).toBeGreaterThanOrEqual(0.001)
        expect(p['strategy.baseSpread']).toBeLessThanOrEqual(0.002)
        expect(Number.isInteger(p['strategy.volWindowSec'])).toBe(true)
      }
    }
    const strata = expandPoints(spec('lhs')).map((p) => Math.floor(((p['strategy.baseSpread'] as number) - 0.001) / 0.0001)).sort((x, y) => x - y)
    expect(strata).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('a point’s config: the base with the dotted keys set', () => {
    expect(configOf({strategy: {baseSize: '0.01'}, risk: {netMax: '0.05'}}, {'strategy.baseSpread': 0.0002, 'risk.netMax': '0.1'})).toEqual({strategy: {baseSize: '0.01', baseSpread: 0.0002}, risk: {netMax: '0.1'}})
  })

  it.each([
    [{...base, params: {'strategy.kind': ['v2']}}, /params\.strategy\.kind: got \["v2"\], expected a numeric config key/],
    [{...base, params: {'strategy.nope': [1]}}, /params\.strategy\.nope: .*expected a numeric config key/],
    [{...base, params: {'strategy.baseInterval': [100.5]}}, /params\.strategy\.baseInterval: got 100\.5, expected an integer/],
    [{...base, params: {}}, /params: got \{\}, expected at least one config key/],
    [{...base, params: {'strategy.baseSpread': [0.001]}, sampler: 'sobol'}, /sampler: got "sobol"/],
    [{...base, windows: [{replay: 'a', duration: 'soon'}], params: {'strategy.baseSpread': [0.001]}}, /windows\.0\.duration: got "soon", expected a duration/],
    [{...base, params: {'strategy.baseSpread': [0.001]}, extra: 1}, /no such key extra/],
  ])('bad spec %# → one line naming the key', (raw, re) => {
    expect(() => parseSpec(raw, '/x/s.json')).toThrow(re)
  })

  it("a base: file that cannot be read names the spec, and the hint is the spec's (it said 'pass --config PATH', which no spec takes)", () => {
    let err: {message?: string; suggestion?: string; exitCode?: number} = {}
    try {
      parseSpec({...base, base: 'no-such-base.json', params: {'strategy.baseSpread': [0.001]}}, '/nonexistent-mm-dir/s.json')
    } catch (error) {
      err = error as typeof err
    }
    expect(err.message).toBe('calibration spec /nonexistent-mm-dir/s.json: base: cannot read config /nonexistent-mm-dir/no-such-base.json: no such file')
    expect(err.suggestion).toBe("give base: the path of an existing JSON config file (relative to the spec's folder /nonexistent-mm-dir), or the config itself as an object")
    expect(err.exitCode).toBe(2)
  })
})

describe('ranking', () => {
  const m = (netPnl: number, fills: number, maxAbs: number): Metrics => ({netPnl, fees: 0, fills, maxAbsPosition: maxAbs, pnlPerMaxInventory: maxAbs ? netPnl / maxAbs : null, sharpe: null, markout1s: null, markout10s: null})
  const r = (id: string, metrics: Metrics): PointResult => ({id, key: id, point: {}, window: 'w', metrics, summary: {} as PointResult['summary']})
  it('feasible points first by the objective (ties by id), then the ones that break a constraint', () => {
    const rows = rankWindow([r('p1', m(-1, 5, 0.01)), r('p2', m(3, 5, 0.09)), r('p3', m(2, 5, 0.02)), r('p4', m(2, 5, 0.03)), r('p5', m(9, 0, 0))], {objective: 'netPnl', constraints: {maxAbsPosition: 0.05, minFills: 1}})
    expect(rows.map((x) => [x.rank, x.id, x.feasible])).toEqual([[1, 'p3', true], [2, 'p4', true], [3, 'p1', true], [4, 'p5', false], [5, 'p2', false]])
    expect(rows[3].violations).toEqual(['fills 0 < 1'])
    expect(rows[4].violations).toEqual(['maxAbsPosition 0.09 > 0.05'])
    const per = rankWindow([r('p1', m(-1, 5, 0.01)), r('p2', m(-1, 5, 0.04))], {objective: 'pnlPerMaxInventory', constraints: {}})
    expect(per.map((x) => [x.id, x.score])).toEqual([['p2', -25], ['p1', -100]])
  })
})
