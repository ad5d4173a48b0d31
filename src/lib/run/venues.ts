/**
 * Venue factories: the command chooses one, the driver calls it once the run's clock
 * exists, and the engine gets a Venue and the queue its reports arrive on. This is the
 * seam for the Binance venue (live trading, or pointed at `mm sim`): a factory that
 * returns the same pair.
 */
import type {BookView} from '../book/types.js'
import type {Clock} from '../clock/clock.js'
import {type MmConfig, paperVenueOptions} from '../config/index.js'
import type {Instrument} from '../domain/instrument.js'
import type {OrderAction} from '../domain/orders.js'
import type {EngineVenue} from '../engine/engine.js'
import {PaperVenue} from '../venue/paper/index.js'
import {ReportQueue} from '../venue/types.js'

export interface VenueContext {
  instrument: Instrument
  clock: Clock
  config: MmConfig
  /** the symbol's one synced book (a simulated venue reads it; a real one ignores it) */
  book: BookView
}

export interface VenueHandle {
  venue: EngineVenue
  /** where the venue pushes its reports; the engine drains it */
  reports: ReportQueue
  /**
   * live: build the venue requests of a decision's actions (signed, HMAC included) and
   * drop them — never sent, never logged; returns how many. The start-up warm-up runs it
   * (src/lib/engine/warmup.ts)
   */
  warmBuild?: (actions: readonly OrderAction[]) => number
}

export type VenueFactory = (ctx: VenueContext) => VenueHandle

/** The in-process paper venue (dry-run and replay). */
export const paperVenue: VenueFactory = ({instrument, clock, config, book}) => {
  const reports = new ReportQueue()
  const venue = new PaperVenue({instrument, clock, sink: reports, config: paperVenueOptions(config), book})
  return {venue, reports}
}
