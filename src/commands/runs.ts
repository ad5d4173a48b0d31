import {Flags} from '@oclif/core'
import Table from 'cli-table3'
import {BaseCommand, stateDirFlag} from '../lib/cli/base.js'
import {fmtDuration} from '../lib/report/table.js'
import {summarise} from '../lib/report/summary.js'
import {resolveStateDir} from '../lib/state/dir.js'
import {listRuns, type RunListing} from '../lib/state/runs.js'

export default class Runs extends BaseCommand<typeof Runs> {
  static override description = 'List past runs in the state dir: id, symbol, mode, strategy, duration, fills, net PnL'
  static override examples = ['<%= config.bin %> runs', '<%= config.bin %> runs --symbol ETHUSDC --last 5 --json']
  static override flags = {
    ...stateDirFlag,
    symbol: Flags.string({char: 's', description: 'only runs of this symbol'}),
    last: Flags.integer({description: 'only the newest N runs', min: 1}),
  }

  async run(): Promise<{stateDir: string; runs: RunListing[]}> {
    const stateDir = resolveStateDir(this.flags['state-dir']).dir
    let runs = listRuns(stateDir, summarise)
    if (this.flags.symbol) runs = runs.filter((r) => r.symbol === this.flags.symbol?.toUpperCase())
    if (this.flags.last) runs = runs.slice(-this.flags.last)
    if (runs.length === 0) {
      this.log(`no runs under ${stateDir}/runs`)
    } else {
      const t = new Table({head: ['run id', 'symbol', 'mode', 'strategy', 'duration', 'fills', 'net PnL', 'ended'], style: {head: [], border: []}})
      for (const r of runs) t.push([r.id, r.symbol, r.mode, r.strategy, fmtDuration(r.durationMs), String(r.fills), r.netPnl, r.endReason])
      this.log(t.toString())
    }
    return {stateDir, runs}
  }
}
