import {Flags} from '@oclif/core'
import {BaseCommand, stateDirFlag} from '../lib/cli/base.js'
import {parseDuration} from '../lib/cli/duration.js'
import {UsageError} from '../lib/domain/errors.js'
import {resolveStateDir} from '../lib/state/dir.js'
import {type SymbolStatus, statusOf} from '../lib/state/status.js'
import {symbolsIn, target} from '../lib/state/ops.js'

export default class Status extends BaseCommand<typeof Status> {
  static override description = 'Position, average cost, mark, PnL, working orders, risk state, halt, and whether mm quote is alive — from state.json only. --check exits 1 when a quote should be alive but its heartbeat is stale (cron health checks)'
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --symbol ETHUSDC --json', '<%= config.bin %> status --check || alert "mm quote is down"']

  static override flags = {
    symbol: Flags.string({char: 's', description: 'one symbol (default: every symbol in the state dir)'}),
    check: Flags.boolean({description: 'exit 1 when a quote should be running but its heartbeat is stale or its process is gone', default: false}),
    'stale-after': Flags.string({description: 'a heartbeat older than this is stale', default: '5s'}),
    live: Flags.boolean({description: 'also ask the venue (needs API keys and the signed gateway)', default: false}),
    ...stateDirFlag,
  }

  async run(): Promise<{stateDir: string; symbols: SymbolStatus[]; healthy: boolean}> {
    const f = this.flags
    if (f.live) throw new UsageError('E_LIVE_UNAVAILABLE', '--live needs signed venue calls, which this build does not have', {suggestion: 'leave out --live: status reads state.json'})
    const stateDir = resolveStateDir(f['state-dir']).dir
    const staleMs = parseDuration(f['stale-after'], '--stale-after')
    const names = f.symbol ? [target(stateDir, f.symbol).symbol] : symbolsIn(stateDir)
    const now = Date.now()
    const symbols = names.map((s) => statusOf(target(stateDir, s), now, staleMs))
    const healthy = symbols.every((s) => s.healthy)
    if (!this.jsonEnabled()) {
      const {renderStatus} = await import('../lib/state/status-table.js')
      this.log(renderStatus(stateDir, symbols))
    }
    const res = {stateDir, symbols, healthy}
    return f.check ? this.finish(res, healthy ? 0 : 1) : res
  }
}
