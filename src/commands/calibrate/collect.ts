import {Args, Flags} from '@oclif/core'
import {writeFileSync} from 'node:fs'
import {BaseCommand} from '../../lib/cli/base.js'
import {PartialError, UsageError} from '../../lib/domain/errors.js'
import {collect} from '../../lib/calibrate/plan.js'
import {renderReport, renderReportHtml, type CalibrationReport} from '../../lib/calibrate/rank.js'
import {checkHtmlTarget} from '../../lib/report/html-target.js'

export default class CalibrateCollect extends BaseCommand<typeof CalibrateCollect> {
  static override description = "Merge the jobs' --json results of a mm calibrate plan directory into the same ranked output as mm calibrate"
  static override examples = ['<%= config.bin %> calibrate collect calib/plan', '<%= config.bin %> calibrate collect calib/plan --html calib/plan/report.html']
  static override args = {dir: Args.string({description: 'the --out directory of mm calibrate plan', required: true})}
  static override flags = {
    html: Flags.string({description: 'also write the ranking as a self-contained HTML page to this file'}),
    top: Flags.integer({description: 'rows of each ranking printed', default: 10, min: 1}),
    partial: Flags.boolean({description: 'rank what is there even when some jobs have no result yet', default: false}),
  }

  async run(): Promise<CalibrationReport & {bestConfig: string | null; missing: string[]; failed: {job: string; error: string}[]}> {
    const f = this.flags
    if (f.html) checkHtmlTarget(f.html, {dir: this.args.dir, files: ['report.json', 'best.config.json']})
    const r = collect(this.args.dir, {partial: f.partial})
    // the failed jobs first, with why (their output is left in results/NAME.json.tmp)
    const failedNames = new Set(r.failed.map((x) => x.job))
    const named = [...r.failed.map((x) => `${x.job} failed: ${x.error}`), ...r.missing.filter((m) => !failedNames.has(m))]
    const listed = `${named.slice(0, 3).join('; ')}${named.length > 3 ? `; … ${named.length - 3} more` : ''}`
    if (r.missing.length > 0 && !f.partial) {
      throw new PartialError('E_MISSING', `${r.missing.length} job(s) have no result (${listed}); nothing written`, {suggestion: 'run them again (their lines in jobs.txt), or pass --partial to rank what is there'})
    }
    if (r.missing.length > 0 && !this.jsonEnabled()) process.stderr.write(`note: ranked without ${r.missing.length} job(s) that have no result (${listed})\n`)
    if (f.html) {
      checkHtmlTarget(f.html) // collect wrote report.json and best.config.json
      try {
        writeFileSync(f.html, renderReportHtml(r.report))
      } catch (error) {
        throw new UsageError('E_OUT', `cannot write ${f.html}: ${(error as Error).message}`)
      }
    }
    this.log(renderReport(r.report, f.top))
    if (r.bestConfig) this.log(`winning config: ${r.bestConfig}`)
    return {...r.report, bestConfig: r.bestConfig, missing: r.missing, failed: r.failed}
  }
}
