import {Args, Flags} from '@oclif/core'
import {resolve} from 'node:path'
import {BaseCommand} from '../../lib/cli/base.js'
import {UsageError} from '../../lib/domain/errors.js'
import {defaultMmCommand, plan, type PlanResult} from '../../lib/calibrate/plan.js'
import {loadSpec} from '../../lib/calibrate/spec.js'

export default class CalibratePlan extends BaseCommand<typeof CalibratePlan> {
  static override description = 'Write one self-contained job per point and window (jobs.txt for GNU parallel, k8s-job.yaml for a Kubernetes Indexed Job); merge with mm calibrate collect'
  static override examples = [
    '<%= config.bin %> calibrate plan spec.yaml --out calib/plan && parallel --joblog calib/plan/joblog < calib/plan/jobs.txt && <%= config.bin %> calibrate collect calib/plan',
    'parallel --sshloginfile hosts.txt < calib/plan/jobs.txt   # OUT and the recordings at the same path on every host',
  ]

  static override args = {spec: Args.string({description: 'calibration spec (JSON or YAML)', required: true})}
  static override flags = {
    out: Flags.string({char: 'o', description: 'plan directory: jobs/, results/, jobs.txt, jobs.list, plan.json, k8s-job.yaml', required: true}),
    'mm-command': Flags.string({description: 'how the job hosts run mm (default: this node and this bin/run.js)'}),
    image: Flags.string({description: 'Kubernetes: container image with mm', default: 'mm:latest'}),
    claim: Flags.string({description: 'Kubernetes: persistent volume claim holding the plan directory', default: 'mm-calibrate'}),
    parallelism: Flags.integer({description: 'Kubernetes: pods at once', default: 8, min: 1}),
  }

  async run(): Promise<PlanResult> {
    const f = this.flags
    // an empty one (`--mm-command "$MM"` with MM unset) wrote jobs that ran `calibrate point …`: every job failed
    if (f['mm-command'] !== undefined && f['mm-command'].trim() === '') throw new UsageError('E_USAGE', '--mm-command is empty: the jobs would run no mm', {suggestion: "give how the job hosts run mm, e.g. --mm-command mm, or leave it out for this machine's node and bin/run.js"})
    const spec = loadSpec(this.args.spec)
    const mm = f['mm-command'] ?? defaultMmCommand(process.execPath, resolve(this.config.root, 'bin/run.js'))
    const r = plan({spec, outDir: f.out, mmCommand: mm, image: f.image, claim: f.claim, parallelism: f.parallelism})
    this.log(`${r.jobs} jobs (${r.points} points × ${spec.windows.length} windows) in ${r.outDir}`)
    if (r.replanned) this.log(`${r.outDir} already held this plan: ${r.replanned.results} of its ${r.jobs} jobs have a result there (kept)`)
    this.log(`GNU parallel: parallel < ${r.jobsFile}   (add --sshloginfile FILE for other hosts)`)
    this.log(`Kubernetes:   kubectl apply -f ${r.manifest}`)
    this.log(`then:         mm calibrate collect ${r.outDir}`)
    return r
  }
}
