import {Args, Flags} from '@oclif/core'
import {writeFileSync} from 'node:fs'
import {BaseCommand, stateDirFlag} from '../lib/cli/base.js'
import {UsageError} from '../lib/domain/errors.js'
import {renderReport, RunChartData} from '../lib/report/html.js'
import {type RunSummary, RunSummarizer} from '../lib/report/summary.js'
import {renderComparison, renderSummaryTable} from '../lib/report/table.js'
import {resolveStateDir} from '../lib/state/dir.js'
import {resolveRunLog, runIdOf, streamRunEvents} from '../lib/state/runs.js'
import {checkHtmlTarget} from '../lib/report/html-target.js'

export default class Report extends BaseCommand<typeof Report> {
  static override description = "Summarise a run's event log: PnL, fills, maker share, inventory, risk events; table, --json, or a self-contained HTML page (one run or several side by side)"
  static override examples = ['<%= config.bin %> report last', '<%= config.bin %> report 20261125T101500Z-ETHUSDC-replay --html run.html', '<%= config.bin %> report RUN_A RUN_B --html compare.html   # side by side']
  static override strict = false
  static override args = {run: Args.string({description: "run id, run directory, events.jsonl path, or 'last' (several: side by side)", required: true})}
  static override flags = {
    ...stateDirFlag,
    html: Flags.string({description: 'also write a self-contained HTML page with charts (all the runs given) to this file (default: none, table only)'}),
  }

  async run(): Promise<{stateDir: string; runs: {id: string; log: string; summary: RunSummary}[]; html?: string}> {
    const stateDir = resolveStateDir(this.flags['state-dir']).dir
    const html = this.flags.html
    if (html) checkHtmlTarget(html)
    const runs: {id: string; log: string; summary: RunSummary; data: RunChartData}[] = []
    for (const name of this.positionals) {
      const log = resolveRunLog(name, stateDir)
      // one pass over the log as a stream: bounded memory whatever the run's length
      const sum = new RunSummarizer()
      const data = new RunChartData()
      const torn = () => process.stderr.write(`note: ${log}: the last line is cut short (the run did not end cleanly); read without it\n`)
      for await (const ev of streamRunEvents(log, torn)) {
        sum.add(ev)
        if (html) data.add(ev)
      }
      runs.push({id: runIdOf(log), log, summary: sum.result(), data})
    }
    if (html) {
      const title = runs.length === 1 ? runTitle(runs[0].summary) : `mm runs: ${runs.map((r) => r.id).join(' vs ')}`
      const page = renderReport(runs.map((r, i) => ({name: runs.length === 1 ? title : `${i + 1}. ${r.id}: ${runTitle(r.summary)}`, summary: r.summary, data: r.data})), title)
      try {
        writeFileSync(html, page)
      } catch (error) {
        throw new UsageError('E_OUT', `cannot write ${html}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {suggestion: 'pick a file in a folder you can write to'})
      }
    }
    if (runs.length === 1) this.log(renderSummaryTable(runs[0].summary))
    else this.log(renderComparison(runs.map((r) => ({name: r.id, summary: r.summary}))))
    if (html) this.log(`wrote ${html}`)
    return {stateDir, runs: runs.map((r) => ({id: r.id, log: r.log, summary: r.summary})), html}
  }
}

function runTitle(s: RunSummary): string {
  return `mm run ${s.symbol} ${s.mode} (${s.strategy})`
}
