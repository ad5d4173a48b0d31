/**
 * Fuzzing (fast-check, seeded) of every input mm reads: config files, CLI flag values,
 * depth and trade frames, recording lines. Each input either works, or is refused with a
 * typed error that exits 2 (or is skipped and counted); nothing else is thrown, nothing hangs
 * (every run is bounded by the test timeout).
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {DepthSync} from '../../src/lib/book/sync.js'
import {errorBody, usageMessage} from '../../src/lib/cli/base.js'
import {parseDuration} from '../../src/lib/cli/duration.js'
import {loadConfigFile, parseConfig} from '../../src/lib/config/load.js'
import {MmError} from '../../src/lib/domain/errors.js'
import {Instrument} from '../../src/lib/domain/instrument.js'
import type {MarketEvent} from '../../src/lib/market/events.js'
import {readRawAll} from '../../src/lib/record/raw-reader.js'
import {readTardisFile} from '../../src/lib/record/tardis-reader.js'
import {MarketParseError} from '../../src/lib/venue/binance/parse.js'
import {parseMarketMessageStrict} from '../../src/lib/venue/binance/ws.js'

const SEED = 13
const dir = mkdtempSync(join(tmpdir(), 'mm-fuzz-'))
const inst = new Instrument({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'})

function exit2(e: unknown): boolean {
  return e instanceof MmError && e.exitCode === 2
}

/** a value that is sometimes right, often wrong in the ways venues and users get it wrong */
const wild = fc.oneof(
  fc.string(),
  fc.double(),
  fc.integer(),
  fc.constantFrom('3000.10', '-1.000', '0', '1e3', 'NaN', '', '0.0000001', '99999999999999999999', '3000.105'),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.tuple(fc.oneof(fc.string(), fc.double()), fc.oneof(fc.string(), fc.double())), {maxLength: 3}),
)

describe('fuzz: config files', () => {
  it('any JSON value as a config: the defaults filled in, or ConfigError exit 2', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({strategy: fc.dictionary(fc.constantFrom('baseSpread', 'baseSize', 'kind', 'nope'), wild), risk: fc.dictionary(fc.constantFrom('netMax', 'stopLoss', 'staleBookMs'), wild), feed: fc.dictionary(fc.constantFrom('syncBudgetMs', 'x'), wild), replay: fc.dictionary(fc.constantFrom('timeToleranceMs', 'maxGapMs'), wild)}, {requiredKeys: []})), (raw) => {
        try {
          parseConfig(raw)
        } catch (error) {
          expect(exit2(error), String(error)).toBe(true)
          expect((error as Error).message).not.toMatch(/\n\s+at /)
        }
      }),
      {seed: SEED, numRuns: 400},
    )
  })

  it('any file text as a config file: loaded, or ConfigError exit 2 naming the file', () => {
    const p = join(dir, 'cfg.json')
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.constantFrom('{', '{"strategy":', '\u0000', '[]', 'null', '{"risk":{"netMax":"0.1"}}')), (text) => {
        writeFileSync(p, text)
        try {
          loadConfigFile(p)
        } catch (error) {
          expect(exit2(error), String(error)).toBe(true)
        }
      }),
      {seed: SEED, numRuns: 300},
    )
  })
})

describe('fuzz: CLI flag values', () => {
  it('--duration/--rotate/--flush: a positive number of ms, or UsageError exit 2 naming the flag and value', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^\d{0,20}(\.\d{0,5})?(ms|s|m|h|d|x)?$/)), (v) => {
        try {
          const ms = parseDuration(v, '--duration')
          expect(Number.isSafeInteger(ms) && ms > 0).toBe(true)
        } catch (error) {
          expect(exit2(error)).toBe(true)
          expect((error as Error).message.startsWith(`--duration: ${JSON.stringify(v)}`)).toBe(true)
        }
      }),
      {seed: SEED, numRuns: 500},
    )
  })

  it('any parse message becomes one line', () => {
    fc.assert(
      fc.property(fc.string(), (m) => {
        const out = usageMessage(m)
        expect(out.includes('\n')).toBe(false)
        const b = errorBody(Object.assign(new Error(m), {oclif: {exit: 2}}))
        expect(b.exitCode).toBe(2)
      }),
      {seed: SEED, numRuns: 300},
    )
  })
})

describe('fuzz: depth and trade frames', () => {
  const depthFrame = fc.record({e: fc.constantFrom('depthUpdate', 'aggTrade', 'trade', 'bookTicker', 'x'), E: wild, T: wild, s: fc.constantFrom('ETHUSDC', 'BTCUSDT', 1 as unknown as string), U: wild, u: wild, pu: wild, b: wild, a: wild, p: wild, q: wild, m: wild, t: wild, B: wild, A: wild}, {requiredKeys: ['e', 's']})

  it('a frame parses to an event, is not market data, or is a counted MarketParseError; the book never throws', () => {
    const seen = {bad: 0, events: 0}
    fc.assert(
      fc.property(fc.array(depthFrame, {maxLength: 20}), (frames) => {
        const sync = new DepthSync(inst)
        sync.onSnapshot({kind: 'snapshot', symbol: 'ETHUSDC', ts: 1, localTs: 1, lastUpdateId: 10, bids: [['3000.00', '1.000']], asks: [['3000.10', '1.000']]}, 1)
        let bad = 0
        for (const f of frames) {
          let ev: MarketEvent | undefined
          try {
            ev = parseMarketMessageStrict(f, 2)
          } catch (error) {
            expect(error).toBeInstanceOf(MarketParseError)
            bad++
            seen.bad++
            continue
          }
          if (ev) seen.events++
          if (ev?.kind === 'depth' && ev.symbol === 'ETHUSDC') expect(['applied', 'buffered', 'dropped', 'gap']).toContain(sync.onDepth(ev, 2))
        }
        expect(bad).toBeLessThanOrEqual(frames.length)
      }),
      {seed: SEED, numRuns: 400},
    )
    // the generator reaches both sides: refused frames and parsed events
    expect(seen.bad).toBeGreaterThan(100)
    expect(seen.events).toBeGreaterThan(0)
  })
})

describe('fuzz: recording lines', () => {
  const header = 'exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount'
  const row = fc.tuple(fc.constantFrom('binance-futures', ''), fc.constantFrom('ETHUSDC', 'X'), fc.oneof(fc.nat(), fc.string()), fc.oneof(fc.nat(), fc.string()), fc.constantFrom('true', 'false', 'yes'), fc.constantFrom('bid', 'ask', 'buy'), fc.oneof(fc.constantFrom('3000.00', '-1', 'abc', ''), fc.string()), fc.oneof(fc.constantFrom('1.000', '0', '-2'), fc.string())).map((t) => t.join(','))

  it('a Tardis book file with random rows: events, or an exit-2 error naming the file and line', async () => {
    let n = 0
    const seen = {refused: 0, read: 0}
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(row, fc.string()), {maxLength: 8}), async (rows) => {
        const p = join(dir, `f${n++}.book.csv.gz`)
        writeFileSync(p, gzipSync([header, ...rows].join('\n') + '\n'))
        try {
          for await (const _ of readTardisFile(p, 'book')) {
            /* drain */
          }
          seen.read++
        } catch (error) {
          seen.refused++
          expect(exit2(error), String(error)).toBe(true)
          expect((error as Error).message).toContain(p.split('/').pop()!)
        }
      }),
      {seed: SEED, numRuns: 150},
    )
    expect(seen.refused).toBeGreaterThan(10)
    expect(seen.read).toBeGreaterThan(0)
  })

  it('a raw capture with random lines: events, or RawFormatError exit 2 with file:line', async () => {
    let n = 0
    const line = fc.oneof(
      fc.string(),
      fc.tuple(fc.bigInt({min: 1_000_000_000_000_000_000n, max: 1_999_999_999_999_999_999n}), depthFrameText()).map(([ts, j]) => `${ts} ${j}`),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(line, {maxLength: 8}), async (lines) => {
        const p = join(dir, `r${n++}_20240718.gz`)
        writeFileSync(p, gzipSync(lines.join('\n') + '\n'))
        try {
          await readRawAll([p], {symbol: 'ETHUSDT'})
        } catch (error) {
          expect(exit2(error), String(error)).toBe(true)
          expect((error as Error).message).toMatch(new RegExp(`${p.split('/').pop()}:\\d+`))
        }
      }),
      {seed: SEED, numRuns: 150},
    )
  })
})

function depthFrameText() {
  return fc.record({stream: fc.constantFrom('ethusdt@depth@0ms', 'ethusdt@aggTrade'), data: fc.record({e: fc.constantFrom('depthUpdate', 'aggTrade'), E: wild, T: wild, s: fc.constant('ETHUSDT'), U: wild, u: wild, pu: wild, b: wild, a: wild, p: wild, q: wild, m: wild, a2: wild})}).map((o) => JSON.stringify(o))
}
