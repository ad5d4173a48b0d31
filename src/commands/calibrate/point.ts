import {Args, Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {BaseCommand} from '../../lib/cli/base.js'
import {UsageError} from '../../lib/domain/errors.js'
import {runPoint, type PointJob, type PointResult} from '../../lib/calibrate/point.js'
import {fmt} from '../../lib/calibrate/rank.js'

export default class CalibratePoint extends BaseCommand<typeof CalibratePoint> {
  static override description = 'Run one job file written by mm calibrate plan (a deterministic paper replay) and print its result (--json for collect)'
  static override examples = ['<%= config.bin %> calibrate point calib/plan/jobs/p0001-w1.json --json > calib/plan/results/p0001-w1.json']
  static override args = {job: Args.string({description: 'job file (jobs/NAME.json of a plan directory)', required: true})}
  static override flags = {
    'work-dir': Flags.string({description: 'accepted for older job scripts and ignored: a job writes nothing (its run is not kept)'}),
  }

  async run(): Promise<PointResult> {
    let job: PointJob
    try {
      job = JSON.parse(readFileSync(this.args.job, 'utf8')) as PointJob
    } catch (error) {
      throw new UsageError('E_JOB', `cannot read job ${this.args.job}: ${(error as Error).message.split('\n')[0]}`)
    }
    if (!job || typeof job.key !== 'string' || !job.window || !Array.isArray(job.window.replay) || typeof job.symbol !== 'string') {
      throw new UsageError('E_JOB', `${this.args.job} is not a job file of mm calibrate plan`)
    }
    // a job not kept writes nothing: the folder only names where a kept run would go
    const r = await runPoint(job, this.flags['work-dir'] ?? join(tmpdir(), `mm-calibrate-${process.pid}`))
    this.log(`${r.id} ${r.window}: net PnL ${fmt(r.metrics.netPnl)}, fills ${r.metrics.fills}, max |pos| ${fmt(r.metrics.maxAbsPosition)}`)
    return r
  }
}
