/**
 * `--replay PATH…`: one Tardis recording (file or folder, instrument from meta.json) or one
 * or more raw captures (hftbacktest `<ts> <json>` lines, read in order as one stream).
 * The instrument comes from meta.json, else --tick-size/--step-size, else it is inferred
 * from the decimals in the data and the caller says so.
 */
import {stat} from 'node:fs/promises'
import {UsageError} from '../domain/errors.js'
import type {MarketEvent} from '../market/events.js'
import {detectRawSymbol, readRawBatches} from '../record/raw-reader.js'
import {kindOfName} from '../record/tardis-reader.js'
import {type MarketSource, openReplaySource, type ReplaySourceOptions} from '../venue/sim/feed.js'
import {basename} from 'node:path'

export interface ReplaySource extends MarketSource {
  /** the events in batches (one await per batch: the cheap way to replay) */
  batches(): AsyncIterable<MarketEvent[]>
}

/** Group a per-event stream into batches. */
export async function* batched(events: AsyncIterable<MarketEvent> | Iterable<MarketEvent>, size = 512): AsyncGenerator<MarketEvent[]> {
  let b: MarketEvent[] = []
  for await (const ev of events) {
    b.push(ev)
    if (b.length >= size) {
      yield b
      b = []
    }
  }
  if (b.length > 0) yield b
}

export async function openReplay(paths: string[], opts: ReplaySourceOptions & {symbol: string}): Promise<ReplaySource> {
  if (paths.length === 0) throw new UsageError('E_REPLAY', '--replay needs a path')
  const want = opts.symbol.toUpperCase()
  for (const p of paths) {
    const st = await stat(p).catch(() => undefined)
    if (!st) throw new UsageError('E_REPLAY', `--replay ${p}: no such file or folder`)
    // a raw capture names its symbol inside; compare before reading it all
    if (st.isFile() && kindOfName(basename(p)) === undefined) {
      const got = (await detectRawSymbol([p]))?.toUpperCase()
      if (got && got !== want) {
        throw new UsageError('E_SYMBOL_MISMATCH', `--replay ${p} is a recording of ${got}, not of --symbol ${want}`, {suggestion: `run with --symbol ${got}, or replay a recording of ${want}`})
      }
    }
  }
  const first = await openReplaySource(paths[0], opts)
  const raw = first.instrumentFrom !== 'meta' && !(await stat(paths[0])).isDirectory() && kindOfName(basename(paths[0])) === undefined
  if (paths.length > 1 && !raw) throw new UsageError('E_REPLAY', 'several --replay paths are for raw captures; pass a Tardis recording as one folder')
  if (!raw) return {...first, batches: () => batched(first.events())}
  // raw captures: one stream, in the order given (e.g. a day pair)
  // the loop does not use book tickers: the reader leaves them out unparsed
  const batches = () => readRawBatches(paths, {symbol: want, onlySymbol: want, tickers: false})
  const events = async function* (): AsyncGenerator<MarketEvent> {
    for await (const b of batches()) yield* b
  }
  return {...first, events, batches}
}
