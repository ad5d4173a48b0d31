/**
 * The market feed of `mm quote` on the live market (live trading and dry-run alike): one
 * connection per route, each depth frame read once by the byte scanner straight into
 * ticks and steps and applied to the symbol's one synced book (`feed.depthSync(symbol)`),
 * which the engine (and the paper venue in dry-run) reads — no JSON.parse, no string
 * event, no second book on the way to `decide`. The tick-to-order bench builds its feed
 * here too, so it times the path the product runs.
 */
import type {Endpoints} from '../cli/endpoints.js'
import type {MmConfig} from '../config/index.js'
import type {Instrument} from '../domain/instrument.js'
import {LiveFeed, type LiveFeedOptions} from '../venue/binance/live-feed.js'

export function marketFeed(endpoints: Endpoints, inst: Instrument, config: MmConfig, extra: Partial<LiveFeedOptions> = {}): LiveFeed {
  // the sync budget (docs/RELIABILITY.md): a book that cannot sync for feed.syncBudgetMs ends the run (exit 1, the reason)
  return new LiveFeed({endpoints, instruments: [inst], trades: 'trade', syncBudgetMs: config.feed.syncBudgetMs, ...extra, output: 'book'})
}
