import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {configKeys, defaultConfig, loadConfig, loadConfigFile, parseConfig, paperVenueOptions, resolveConfig, type ConfigIssue} from '../../src/lib/config/index.js'
import {ConfigError} from '../../src/lib/domain/errors.js'
import {Instrument} from '../../src/lib/domain/instrument.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const ETH = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})

function issues(fn: () => unknown): ConfigIssue[] {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).exitCode).toBe(2)
    expect((error as ConfigError).code).toBe('E_CONFIG')
    return (error as ConfigError).details!.errors as ConfigIssue[]
  }
  throw new Error('expected a ConfigError')
}

describe('config defaults', () => {
  it('every key has its documented default', () => {
    expect(defaultConfig()).toEqual({
      strategy: {
        kind: 'v2',
        baseSpread: 0.001,
        baseSize: '0.01',
        baseInterval: 1000,
        inventoryK: 1,
        volWindowSec: 60,
        volK: 1,
        volFactorMax: 3,
        joinEnabled: true,
        joinMinSpreadTicks: 3,
        joinMaxVolFactor: 1,
        joinCooldownMs: 30000,
        joinAdverseTicks: 2,
        joinAdverseMs: 1000,
        postOnlyBackoffTicks: 1,
        postOnlyMaxBackoffTicks: 10,
        takeProfitPct: 0.002,
        staticFraction: 0,
        staticTicks: 5,
        degradeMs: 2000,
        instantRetry: true,
        joinMaxNetFraction: 0.5,
        joinFillCooldownMs: 1000,
        instantRetryMax: 2,
        instantRetryWindowMs: 10000,
        fairValue: 'mid',
      },
      risk: {
        netMax: '0.1',
        reduceOnlyThreshold: 3,
        stopLoss: -50,
        shockPct: 0.01,
        haltSeconds: 300,
        staleBookMs: 5000,
        reduceOnlyMaxSlippagePct: 0.002,
        reduceOnlyMarketTriggerPct: 0,
        reduceOnlyReplaceTolerancePct: 0.0005,
        iocExpiredFallbackCount: 2,
        fallbackSlippageMultiplier: 2,
        fallbackSlippageMax: 0.02,
        maxDailyLoss: 0,
        minLiquidationDistancePct: 0.03,
      },
      fees: {maker: '0.0002', taker: '0.0005'},
      paper: {entryLatencyMs: 25, responseLatencyMs: 25, queueModel: 'conservative', queuePower: 2},
      orders: {ackTimeoutMs: 2000, recvWindowMs: 5000, cancelAttempts: 3},
      live: {selfTradePrevention: 'EXPIRE_MAKER', requestTimeoutMs: 5000, deadmanCountdownMs: 120_000, deadmanRefreshMs: 30_000, auditIntervalMs: 30_000, listenKeyKeepAliveMs: 1_800_000, rateSlowAt: 0.5, ratePauseAt: 0.85, stormWindowMs: 60_000, stormSlowAt: 5, stormHaltAt: 20, orderTransport: 'rest', warmupIterations: 2000, warmupBudgetMs: 300, preWarmMs: 150},
      feed: {syncBudgetMs: 60000},
      replay: {timeToleranceMs: 1000, maxGapMs: 21600000},
    })
    expect(parseConfig({})).toEqual(defaultConfig())
  })

  it('a partial section keeps the other defaults', () => {
    const c = parseConfig({strategy: {baseSpread: 0.0005}, risk: {stopLoss: -10}})
    expect(c.strategy.baseSpread).toBe(0.0005)
    expect(c.strategy.baseSize).toBe('0.01')
    expect(c.risk.stopLoss).toBe(-10)
    expect(c.risk.netMax).toBe('0.1')
  })

  it('the example config loads and equals the defaults', () => {
    expect(loadConfig(join(ROOT, 'mm.config.example.json'))).toEqual(defaultConfig())
  })

  it('docs/config.md documents every key with its default', () => {
    const doc = readFileSync(join(ROOT, 'docs/config.md'), 'utf8')
    for (const k of configKeys()) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${k.path}\``))
      expect(row, k.path).toBeDefined()
      expect(row).toContain(`| ${JSON.stringify(k.default)} |`)
    }
    expect(configKeys()).toHaveLength(67)
  })
})

describe('config errors', () => {
  it('lists every error at once: key path, value, expectation', () => {
    const errs = issues(() => parseConfig({strategy: {baseSpread: 0, baseSize: '0.0x', kind: 'smart'}, risk: {haltSeconds: 1.5, stopLoss: 5}}))
    expect(errs).toEqual([
      {path: 'strategy.kind', value: 'smart', expected: 'one of "v2", "naive"'},
      {path: 'strategy.baseSpread', value: 0, expected: 'a number > 0 and ≤ 0.1 (fraction of mid)'},
      {path: 'strategy.baseSize', value: '0.0x', expected: 'a decimal string > 0, e.g. "0.01" (base units)'},
      {path: 'risk.stopLoss', value: 5, expected: 'a number ≤ 0 (quote currency)'},
      {path: 'risk.haltSeconds', value: 1.5, expected: 'an integer ≥ 0 and ≤ 2592000 (s)'},
    ])
  })

  it('the message names each key, value and expectation, one per line', () => {
    try {
      parseConfig({strategy: {baseSpread: 'wide'}}, 'x.json')
    } catch (error) {
      expect((error as Error).message).toBe('invalid config x.json (1 error):\n  strategy.baseSpread: got "wide", expected a number > 0 and ≤ 0.1 (fraction of mid)')
      expect((error as ConfigError).suggestion).toContain('docs/config.md')
    }
  })

  it('unknown keys are errors, at the top level and in sections', () => {
    const errs = issues(() => parseConfig({strategy: {baseSpred: 0.001}, riks: {}, fees: {maker: '0', makre: '0'}}))
    expect(errs.map((e) => [e.path, e.value])).toEqual([
      ['strategy.baseSpred', 0.001],
      ['fees.makre', '0'],
      ['riks', {}],
    ])
    expect(errs[0].expected).toMatch(/^no such key \(known in strategy: kind, baseSpread, baseSize,/)
    expect(errs[2].expected).toBe('no such key (known: strategy, risk, fees, paper, orders, live, feed, replay)')
  })

  it('$comment is allowed everywhere, but must be a string', () => {
    expect(parseConfig({$comment: 'a', strategy: {$comment: 'b'}, risk: {$comment: 'c'}}).strategy.baseSpread).toBe(0.001)
    expect(issues(() => parseConfig({$comment: 1}))).toEqual([{path: '$comment', value: 1, expected: 'a string'}])
    expect(issues(() => parseConfig({risk: {$comment: false}}))).toEqual([{path: 'risk.$comment', value: false, expected: 'a string'}])
    expect(parseConfig({$comment: 'x', risk: {$comment: 'y'}})).toEqual(defaultConfig())
  })

  it('a section that is not an object, a file that is not an object', () => {
    expect(issues(() => parseConfig({risk: 3}))).toEqual([{path: 'risk', value: 3, expected: 'an object'}])
    expect(issues(() => parseConfig([1]))).toEqual([{path: '', value: [1], expected: 'a JSON object'}])
  })

  it('range edges: inclusive minimum accepted, one below refused', () => {
    expect(parseConfig({strategy: {joinMinSpreadTicks: 2}}).strategy.joinMinSpreadTicks).toBe(2)
    expect(issues(() => parseConfig({strategy: {joinMinSpreadTicks: 1}}))[0]).toEqual({path: 'strategy.joinMinSpreadTicks', value: 1, expected: 'an integer ≥ 2 and ≤ 1000000 (ticks)'})
    expect(parseConfig({strategy: {staticFraction: 1}}).strategy.staticFraction).toBe(1)
    expect(issues(() => parseConfig({strategy: {staticFraction: 1.01}}))[0].path).toBe('strategy.staticFraction')
    expect(parseConfig({risk: {stopLoss: 0}}).risk.stopLoss).toBe(0)
    expect(issues(() => parseConfig({fees: {maker: '0.02'}}))[0]).toMatchObject({path: 'fees.maker', value: '0.02'})
    expect(parseConfig({fees: {maker: '-0.0001'}}).fees.maker).toBe('-0.0001')
    expect(issues(() => parseConfig({paper: {queueModel: 'fifo'}}))[0]).toEqual({path: 'paper.queueModel', value: 'fifo', expected: 'one of "conservative", "prob-power", "prob-log"'})
    expect(issues(() => parseConfig({strategy: {baseSize: '0'}}))[0].path).toBe('strategy.baseSize')
    expect(issues(() => parseConfig({strategy: {baseSize: 0.01}}))[0]).toMatchObject({path: 'strategy.baseSize', value: 0.01})
  })

  it('relations between keys', () => {
    expect(issues(() => parseConfig({strategy: {postOnlyBackoffTicks: 5, postOnlyMaxBackoffTicks: 4}}))).toEqual([
      {path: 'strategy.postOnlyMaxBackoffTicks', value: 4, expected: '≥ strategy.postOnlyBackoffTicks (5)'},
    ])
    expect(issues(() => parseConfig({risk: {reduceOnlyMaxSlippagePct: 0.03}}))).toEqual([
      {path: 'risk.fallbackSlippageMax', value: 0.02, expected: '≥ risk.reduceOnlyMaxSlippagePct (0.03)'},
    ])
  })
})

describe('config loading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-config-'))

  it('no path and no mm.config.json: defaults', () => {
    expect(loadConfigFile(undefined, {cwd: dir})).toEqual({config: defaultConfig(), path: undefined})
  })

  it('no path: mm.config.json in the working directory is read', () => {
    const d = mkdtempSync(join(tmpdir(), 'mm-config-'))
    writeFileSync(join(d, 'mm.config.json'), JSON.stringify({strategy: {baseSize: '0.02'}}))
    const r = loadConfigFile(undefined, {cwd: d})
    expect(r.path).toBe(join(d, 'mm.config.json'))
    expect(r.config.strategy.baseSize).toBe('0.02')
  })

  it('a key file passed as --config: the error quotes none of its text (JSON.parse would quote its start)', () => {
    writeFileSync(join(dir, 'keys.env'), 'MM_API_KEY=k3yk3yk3yk3y\nMM_API_SECRET=s3cr3ts3cr3t\n')
    writeFileSync(join(dir, 'keys.yaml'), 'apiKey: k3yk3yk3yk3y\napiSecret: s3cr3ts3cr3t\n')
    for (const f of ['keys.env', 'keys.yaml']) {
      let msg = ''
      try {
        loadConfig(join(dir, f))
      } catch (error) {
        msg = (error as Error).message
      }
      expect(msg).toContain(`${join(dir, f)} is not valid JSON`)
      expect(msg).toMatch(/: Unexpected token '[Ma]'$/)
      expect(msg).not.toMatch(/k3y|s3cr|MM_API|apiKey/)
    }
  })

  it('an explicit missing file, bad JSON, bad values: ConfigError exit 2', () => {
    expect(() => loadConfig(join(dir, 'nope.json'))).toThrow(/cannot read config .*nope\.json: no such file/)
    writeFileSync(join(dir, 'bad.json'), '{"strategy": {"baseSpread": 0.001,}}')
    expect(() => loadConfig(join(dir, 'bad.json'))).toThrow(/is not valid JSON/)
    writeFileSync(join(dir, 'vals.json'), '{"risk": {"netMax": "-1"}}')
    expect(issues(() => loadConfig(join(dir, 'vals.json')))).toEqual([{path: 'risk.netMax', value: '-1', expected: 'a decimal string > 0, e.g. "0.1" (base units)'}])
  })
})

describe('resolveConfig (sizes to steps with the instrument)', () => {
  it('defaults on ETHUSDC', () => {
    const c = resolveConfig(defaultConfig(), ETH)
    expect(c).toMatchObject({baseSizeSteps: 10, staticSizeSteps: 0, dynamicSizeSteps: 10, netMaxSteps: 100, reduceOnlyThresholdSteps: 30, haltMs: 300_000, baseIntervalMs: 1000, makerFeeRate: '0.0002', takerFeeRate: '0.0005', kind: 'v2'})
  })

  it('a fractional threshold rounds up to the step; static fraction rounds down', () => {
    const c = resolveConfig(parseConfig({strategy: {baseSize: '0.003', staticFraction: 0.5}, risk: {reduceOnlyThreshold: 2.5}}), ETH)
    expect(c).toMatchObject({baseSizeSteps: 3, staticSizeSteps: 1, dynamicSizeSteps: 2, reduceOnlyThresholdSteps: 8})
  })

  it('every size problem at once: off the step grid, below minQty, netMax below baseSize, threshold above netMax', () => {
    expect(issues(() => resolveConfig(parseConfig({strategy: {baseSize: '0.0105'}, risk: {netMax: '0.1005'}}), ETH))).toEqual([
      {path: 'strategy.baseSize', value: '0.0105', expected: 'a multiple of the lot step 0.001 of ETHUSDC'},
      {path: 'risk.netMax', value: '0.1005', expected: 'a multiple of the lot step 0.001 of ETHUSDC'},
    ])
    const big = new Instrument({symbol: 'BTCUSDC', tickSize: '0.1', stepSize: '0.001', minQty: '0.002', minNotional: '100'})
    expect(issues(() => resolveConfig(parseConfig({strategy: {baseSize: '0.001'}, risk: {netMax: '0.002'}}), big))).toEqual([
      {path: 'strategy.baseSize', value: '0.001', expected: '≥ minQty 0.002 of BTCUSDC'},
      {path: 'risk.reduceOnlyThreshold', value: 3, expected: '≤ risk.netMax / strategy.baseSize (2), else reduce-only never engages before the hard cap'},
    ])
    expect(issues(() => resolveConfig(parseConfig({strategy: {baseSize: '0.02'}, risk: {netMax: '0.01'}}), ETH))[0]).toEqual({path: 'risk.netMax', value: '0.01', expected: '≥ strategy.baseSize (0.02)'})
  })

  it('threshold exactly at netMax is accepted', () => {
    expect(resolveConfig(parseConfig({risk: {reduceOnlyThreshold: 10}}), ETH).reduceOnlyThresholdSteps).toBe(100)
  })

  it('paper venue options in venue/paper shape', () => {
    expect(paperVenueOptions(defaultConfig())).toEqual({entryLatencyMs: 25, responseLatencyMs: 25, queueModel: 'conservative', queuePower: 2, makerFeeRate: '0.0002', takerFeeRate: '0.0005'})
  })
})
