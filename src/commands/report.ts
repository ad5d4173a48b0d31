import {Args, Flags} from '@oclif/core'
import {writeFileSync} from 'node:fs'
import {BaseCommand, stateDirFlag} from '../lib/cli/base.js'
import {UsageError} from '../lib/domain/errors.js'
import {renderHtml} from '../lib/report/html.js'
import {type RunSummary, summarise} from '../lib/report/summary.js'
import {renderComparison, renderSummaryTable} from '../lib/report/table.js'
import {resolveStateDir} from '../lib/state/dir.js'
import {readRunLog, resolveRunLog, runIdOf} from '../lib/state/runs.js'

export default class Report extends BaseCommand<typeof Report> {
  static override description = "Summarise a run's event log: PnL, fills, maker share, inventory, risk events; table, --json, or a self-contained HTML page"
  static override examples = ['<%= config.bin %> report last', '<%= config.bin %> report 20261125T101500Z-ETHUSDC-replay --html run.html', '<%= config.bin %> report RUN_A RUN_B   # side by side']
  static override strict = false
  static override args = {run: Args.string({description: "run id, run directory, events.jsonl path, or 'last'", required: true})}
  static override flags = {
    ...stateDirFlag,
    html: Flags.string({description: 'also write a self-contained HTML page with charts to this file'}),
  }

  async run(): Promise<{stateDir: string; runs: {id: string; log: string; summary: RunSummary}[]; html?: string}> {
    const stateDir = resolveStateDir(this.flags['state-dir']).dir
    const runs = this.positionals.map((name) => {
      const log = resolveRunLog(name, stateDir)
      const {events, tornLastLine} = readRunLog(log)
      if (tornLastLine) process.stderr.write(`note: ${log}: the last line is cut short (the run did not end cleanly); read without it\n`)
      return {id: runIdOf(log), log, events, summary: summarise(events)}
    })
    if (this.flags.html) {
      if (runs.length !== 1) throw new UsageError('E_USAGE', '--html takes exactly one run')
      const r = runs[0]
      try {
        writeFileSync(this.flags.html, renderHtml(r.events, r.summary, `mm run ${r.summary.symbol} ${r.summary.mode} (${r.summary.strategy})`))
      } catch (error) {
        throw new UsageError('E_OUT', `cannot write ${this.flags.html}: ${(error as Error).message}`)
      }
    }
    if (runs.length === 1) this.log(renderSummaryTable(runs[0].summary))
    else this.log(renderComparison(runs.map((r) => ({name: r.id, summary: r.summary}))))
    if (this.flags.html) this.log(`wrote ${this.flags.html}`)
    return {stateDir, runs: runs.map((r) => ({id: r.id, log: r.log, summary: r.summary})), html: this.flags.html}
  }
}
