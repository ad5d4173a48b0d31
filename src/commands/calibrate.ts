import {Args, Flags} from '@oclif/core'
import {writeFileSync} from 'node:fs'
import {BaseCommand} from '../lib/cli/base.js'
import {UsageError} from '../lib/domain/errors.js'
import {fmt, renderReport, renderReportHtml, type CalibrationReport} from '../lib/calibrate/rank.js'
import {calibrate, defaultWorkers, type JobTimes} from '../lib/calibrate/run.js'
import {loadSpec} from '../lib/calibrate/spec.js'
import {checkHtmlTarget} from '../lib/report/html-target.js'

function fmtEta(ms: number | null): string {
  if (ms === null) return '…'
  const s = Math.round(ms / 1000)
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

export default class Calibrate extends BaseCommand<typeof Calibrate> {
  static override description =
    'Evaluate a grid, random or Latin-hypercube sample of config keys on recordings (deterministic paper replays on worker threads), rank them, walk forward, and write the winning config'
  static override examples = [
    '<%= config.bin %> calibrate spec.yaml --out calib/eth',
    '<%= config.bin %> calibrate spec.yaml --out calib/eth --workers 4 --html calib/eth/report.html',
    '<%= config.bin %> quote --symbol ETHUSDT --dry-run --config calib/eth/best.config.json',
  ]

  static override args = {spec: Args.string({description: 'calibration spec (JSON, or YAML when not *.json): windows, params, sampler, objective, constraints', required: true})}
  static override flags = {
    out: Flags.string({char: 'o', description: 'output directory: results.jsonl (resumable), report.json, best.config.json', required: true}),
    workers: Flags.integer({char: 'w', description: 'worker threads (default: one per core)', min: 1, max: 256}),
    html: Flags.string({description: 'also write the ranking as a self-contained HTML page to this file'}),
    top: Flags.integer({description: 'rows of each ranking printed', default: 10, min: 1}),
    'keep-runs': Flags.boolean({description: "keep each point's run directory (event log) under OUT/work", default: false}),
  }

  async run(): Promise<CalibrationReport & {outDir: string; bestConfig: string | null; ran: number; resumed: number; wallMs: number; cpuMs: number; jobMs: JobTimes}> {
    const f = this.flags
    const spec = loadSpec(this.args.spec)
    if (f.html) checkHtmlTarget(f.html, {dir: f.out, files: ['results.jsonl', 'report.json', 'best.config.json']})
    const tty = process.stderr.isTTY === true
    const quiet = this.jsonEnabled() && !tty
    const cores = defaultWorkers()
    // more threads than cores only share them, and each keeps its own copy of its windows' events
    if (f.workers !== undefined && f.workers > cores && !this.jsonEnabled()) process.stderr.write(`note: --workers ${f.workers} is more than this machine's ${cores} core${cores === 1 ? '' : 's'}: the workers share them (no faster), and each holds its own copy of the windows it replays in memory\n`)
    const res = await calibrate({
      spec,
      outDir: f.out,
      workers: f.workers ?? cores,
      keepRuns: f['keep-runs'],
      onNotice: this.jsonEnabled() ? undefined : (m) => process.stderr.write(`note: ${m}\n`),
      onProgress: (p) => {
        if (tty) {
          process.stderr.write(`\r\u001b[2Kcalibrate: ${p.done}/${p.total} jobs${p.resumed ? ` (${p.resumed} resumed)` : ''}, ETA ${fmtEta(p.etaMs)}`)
        } else if (!quiet && p.last) {
          process.stderr.write(`done ${p.last.id} ${p.last.window} (${p.done}/${p.total}): net PnL ${fmt(p.last.metrics.netPnl)}, fills ${p.last.metrics.fills}\n`)
        } else if (!quiet && p.last === undefined && p.resumed > 0) {
          process.stderr.write(`resumed: ${p.resumed} of ${p.total} jobs already done in ${f.out}\n`)
        }
      },
    })
    if (tty) process.stderr.write('\r\u001b[2K')
    if (f.html) {
      // again: this run made results.jsonl, report.json and best.config.json
      checkHtmlTarget(f.html)
      try {
        writeFileSync(f.html, renderReportHtml(res.report))
      } catch (error) {
        throw new UsageError('E_OUT', `cannot write ${f.html}: ${(error as Error).message}`)
      }
    }
    this.log(renderReport(res.report, f.top))
    this.log(`ran ${res.ran} jobs, ${res.resumed} resumed; results: ${res.results}${res.bestConfig ? `; winning config: ${res.bestConfig}` : ''}${f.html ? `; page: ${f.html}` : ''}`)
    const {first, warm} = res.jobMs
    if (first.medianMs !== null) this.log(`a job took ${first.medianMs} ms on a window new to its worker (median of ${first.count}, decode included)${warm.medianMs === null ? '' : `, ${warm.medianMs} ms otherwise (median of ${warm.count})`}`)
    return {...res.report, outDir: res.outDir, bestConfig: res.bestConfig, ran: res.ran, resumed: res.resumed, wallMs: res.wallMs, cpuMs: res.cpuMs, jobMs: res.jobMs}
  }
}
