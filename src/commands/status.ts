import {Flags} from '@oclif/core'
import {BaseCommand, stateDirFlag, venueFlags} from '../lib/cli/base.js'
import {resolveEndpoints} from '../lib/cli/endpoints.js'
import {parseDuration} from '../lib/cli/duration.js'
import {resolveStateDir} from '../lib/state/dir.js'
import {type SymbolStatus, statusOf, statusOrError} from '../lib/state/status.js'
import {symbolsIn, target} from '../lib/state/ops.js'
import {UsageError} from '../lib/domain/errors.js'
import type {LiveView} from '../lib/state/status-live.js'

export default class Status extends BaseCommand<typeof Status> {
  static override description = 'Position, average cost, mark, PnL, working orders, risk state, halt, and whether mm quote is alive — from state.json only (--live also asks the venue and flags drift). --check exits 1 when a quote should be alive but its heartbeat is stale (cron health checks)'
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --symbol ETHUSDC --json', '<%= config.bin %> status --check || alert "mm quote is down"', '<%= config.bin %> status --symbol ETHUSDC --live   # the venue next to state.json, drift flagged']

  static override flags = {
    symbol: Flags.string({char: 's', description: 'one symbol (default: every symbol in the state dir)'}),
    check: Flags.boolean({description: 'exit 1 when a quote should be running but its heartbeat is stale or its process is gone', default: false}),
    'stale-after': Flags.string({description: 'a heartbeat older than this is stale', default: '5s'}),
    live: Flags.boolean({description: "also ask the venue (API keys): its position, mark price and open orders (this instance's, another mm instance's, foreign) next to state.json's, drift flagged", default: false}),
    instance: Flags.string({description: "--live: instance name whose client ids are ours (default: from state.json's last run, else the default for this host and symbol)", helpGroup: 'VENUE'}),
    'key-file': Flags.string({description: '--live: API key file (else env MM_API_KEY / MM_API_SECRET)', helpGroup: 'VENUE'}),
    ...stateDirFlag,
    'rest-url': venueFlags['rest-url'],
    testnet: venueFlags.testnet,
  }

  async run(): Promise<{stateDir: string; symbols: Array<SymbolStatus & {live?: LiveView}>; healthy: boolean; drift?: boolean}> {
    const f = this.flags
    const stateDir = resolveStateDir(f['state-dir']).dir
    const staleMs = parseDuration(f['stale-after'], '--stale-after')
    const names = f.symbol ? [target(stateDir, f.symbol).symbol] : symbolsIn(stateDir)
    const now = Date.now()
    // one symbol named: its state.json must read (else exit 2); every symbol, or --live: each is shown, an
    // unreadable one as such (exit 3) — with --live the venue's view of it still (its position in an emergency)
    const symbols = names.map((s) => (f.symbol && !f.live ? statusOf(target(stateDir, s), now, staleMs) : statusOrError(target(stateDir, s), now, staleMs)))
    const unreadable = symbols.filter((s) => s.error !== undefined).length
    const healthy = symbols.every((s) => s.healthy)
    let live: LiveView[] | undefined
    if (f.live) {
      if (symbols.length === 0) throw new UsageError('E_USAGE', `--live: no symbol has state under ${stateDir}`, {suggestion: 'name one with --symbol'})
      // the venue code (gateway, undici) only here: plain status stays a file read
      const {liveViews} = await import('../lib/state/status-live.js')
      live = await liveViews(symbols, {restUrl: resolveEndpoints({restUrl: f['rest-url'], testnet: f.testnet}).rest, keyFile: f['key-file'], env: process.env, instance: f.instance})
    }
    if (!this.jsonEnabled()) {
      const {renderStatus} = await import('../lib/state/status-table.js')
      this.log(renderStatus(stateDir, symbols))
      if (live) {
        const {renderLive} = await import('../lib/state/status-live.js')
        symbols.forEach((s, i) => this.log(renderLive(s, (live as LiveView[])[i]).join('\n')))
      }
    }
    const res = live ? {stateDir, symbols: symbols.map((s, i) => ({...s, live: (live as LiveView[])[i]})), healthy, drift: live.some((v) => v.drift?.any === true)} : {stateDir, symbols, healthy}
    if (f.check) return this.finish(res, healthy ? 0 : 1)
    return unreadable > 0 || live?.some((v) => v.unlisted !== undefined) ? this.finish(res, 3) : res
  }
}
