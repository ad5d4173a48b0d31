/**
 * `mm calibrate plan` / `collect`: the same jobs as the in-process run, written as
 * self-contained files for existing tools (GNU parallel locally or with --sshloginfile,
 * a Kubernetes Indexed Job), and the merge of their `--json` results into the same report.
 */
import {existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {makeDirs} from '../fs/mkdirs.js'
import {join, resolve} from 'node:path'
import {stringify as yamlStringify} from 'yaml'
import {MmError, UsageError} from '../domain/errors.js'
import type {PointJob, PointResult} from './point.js'
import {buildReport, type CalibrationReport} from './rank.js'
import {jobsOf, writeOutputs} from './run.js'
import type {CalibrationSpec} from './spec.js'

export interface PlanOptions {
  spec: CalibrationSpec
  outDir: string
  /** the command that runs mm on the hosts, e.g. `mm` or `node /opt/mm/bin/run.js` */
  mmCommand: string
  /** Kubernetes: container image with mm and the recordings, the volume claim holding OUT, pods at once */
  image: string
  claim: string
  parallelism: number
}

export interface PlanResult {
  outDir: string
  jobs: number
  points: number
  jobsFile: string
  manifest: string
  /** OUT already held this plan (the same jobs): how many of its jobs have a result there (kept) */
  replanned?: {results: number}
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`
}

/**
 * The command jobs.txt runs mm with by default: this node and this bin/run.js, each quoted
 * for the shell (a checkout under a path with a space ran the path's first word).
 */
export function defaultMmCommand(execPath: string, runJs: string): string {
  return `${shellQuote(execPath)} ${shellQuote(runJs)}`
}

export function jobFileName(j: PointJob): string {
  return `${j.id}-${j.window.name.replace(/[^\w.-]/g, '_')}`
}

/**
 * OUT's plan.json, if any, against the jobs about to be written: the same jobs (the same
 * name for the same key: a changed objective or constraint re-ranks the same results) give
 * the count of results already there, which are kept; another spec's plan is refused before
 * anything is written (its results/NAME.json would pass for the new jobs' of that name,
 * and a GNU parallel run may still be writing them).
 */
function existingPlan(out: string, jobs: readonly PointJob[]): {results: number} | undefined {
  const planFile = join(out, 'plan.json')
  if (!existsSync(planFile)) return undefined
  const refuse = (why: string) =>
    new UsageError('E_OUT', `${out} already holds a plan ${why}: nothing was written`, {suggestion: 'pass another --out, or remove that directory (and its results) first'})
  let old: Map<string, string>
  try {
    const p = JSON.parse(readFileSync(planFile, 'utf8')) as {spec: CalibrationSpec}
    old = new Map(jobsOf(p.spec).jobs.map((j) => [jobFileName(j), j.key]))
  } catch {
    throw refuse('whose plan.json this mm cannot read')
  }
  const names = new Set(jobs.map(jobFileName))
  const differ = jobs.filter((j) => old.get(jobFileName(j)) !== j.key).length + [...old.keys()].filter((n) => !names.has(n)).length
  if (differ > 0) throw refuse(`of another spec (${differ} job${differ === 1 ? '' : 's'} differ)`)
  const resDir = join(out, 'results')
  const present = new Set(existsSync(resDir) ? readdirSync(resDir) : [])
  return {results: jobs.filter((j) => present.has(`${jobFileName(j)}.json`)).length}
}

/**
 * Job file names are the point id and the window's name with every character but letters,
 * digits, `.`, `-` and `_` made `_`: two windows whose names differ only there ("a b/c",
 * "a b:c") would share every file, one window's jobs written over the other's.
 */
function checkJobNames(spec: CalibrationSpec): void {
  const seen = new Map<string, string>()
  for (const w of spec.windows) {
    const name = jobFileName({id: '', window: w} as PointJob)
    const other = seen.get(name)
    if (other !== undefined) {
      throw new UsageError('E_SPEC', `calibration spec ${spec.file}: windows ${JSON.stringify(other)} and ${JSON.stringify(w.name)} give the same job file names (jobs/p…${name}.json): nothing was written`, {suggestion: 'rename one of them in the spec (letters, digits, . - _ are kept as they are), then plan again'})
    }
    seen.set(name, w.name)
  }
}

/**
 * Write `text` to `file`, unless the file holds it already; else to a file beside it, then
 * renamed over it. A plan written again into its own directory (same spec) while GNU
 * parallel or a pod runs its jobs rewrote every job file (truncated, then written): a job
 * starting then read a part of one. Now an unchanged file is left as it is, and a changed
 * one is read whole, old or new.
 */
function writeWhole(file: string, text: string): void {
  try {
    if (readFileSync(file, 'utf8') === text) return
  } catch {
    // not there yet (or unreadable): written
  }
  const part = `${file}.part-${process.pid}`
  try {
    writeFileSync(part, text)
    renameSync(part, file)
  } catch (error) {
    rmSync(part, {force: true})
    throw new MmError('E_OUT', `cannot write ${file}: ${(error as Error).message.replace(part, file)}`)
  }
}

export function plan(o: PlanOptions): PlanResult {
  const out = resolve(o.outDir)
  checkJobNames(o.spec)
  const {points, jobs} = jobsOf(o.spec)
  const replanned = existingPlan(out, jobs)
  for (const dir of [join(out, 'jobs'), join(out, 'results')]) {
    try {
      makeDirs(dir)
    } catch (error) {
      // an --out that is a file (or under one): bad usage, as for mm calibrate (was an internal error, exit 1)
      throw new UsageError('E_OUT', `cannot create ${dir}: ${(error as Error).message}`)
    }
  }
  const lines: string[] = []
  const names: string[] = []
  for (const j of jobs) {
    const name = jobFileName(j)
    names.push(name)
    const file = join(out, 'jobs', `${name}.json`)
    writeWhole(file, JSON.stringify(j, null, 2) + '\n')
    const res = join(out, 'results', `${name}.json`)
    lines.push(`${o.mmCommand} calibrate point ${shellQuote(file)} --json > ${shellQuote(res)}.tmp && mv ${shellQuote(res)}.tmp ${shellQuote(res)}`)
  }
  const jobsFile = join(out, 'jobs.txt')
  writeWhole(jobsFile, lines.join('\n') + '\n')
  writeWhole(join(out, 'jobs.list'), names.join('\n') + '\n')
  writeWhole(join(out, 'plan.json'), JSON.stringify({spec: o.spec, points, jobs: names}, null, 2) + '\n')
  // Kubernetes Indexed Job: pod k runs line k+1 of jobs.list from the volume holding OUT at /calib
  const manifest = join(out, 'k8s-job.yaml')
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {name: 'mm-calibrate'},
    spec: {
      completionMode: 'Indexed',
      completions: jobs.length,
      parallelism: Math.max(1, Math.min(o.parallelism, jobs.length)),
      backoffLimitPerIndex: 1,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'point',
              image: o.image,
              workingDir: '/calib',
              command: ['sh', '-c', `n=$(sed -n "$((JOB_COMPLETION_INDEX + 1))p" jobs.list) && ${o.mmCommand} calibrate point "jobs/$n.json" --json > "results/$n.json.tmp" && mv "results/$n.json.tmp" "results/$n.json"`],
              resources: {requests: {cpu: '1'}},
              volumeMounts: [{name: 'calib', mountPath: '/calib'}],
            },
          ],
          volumes: [{name: 'calib', persistentVolumeClaim: {claimName: o.claim}}],
        },
      },
    },
  }
  writeWhole(
    manifest,
    `# mm calibrate plan: ${jobs.length} jobs (${points} points × ${o.spec.windows.length} windows).\n` +
      `# Copy ${out} onto the volume '${o.claim}' (mounted at /calib; the job files name the recordings by the\n` +
      `# paths they had here, so mount those at the same paths or edit the jobs), then: kubectl apply -f k8s-job.yaml;\n` +
      `# when it completes, copy results/ back and run: mm calibrate collect ${out}\n` +
      yamlStringify(job),
  )
  return {outDir: out, jobs: jobs.length, points, jobsFile, manifest, ...(replanned ? {replanned} : {})}
}

/**
 * Merge results/*.json (each the `--json` output of `mm calibrate point`) into the report.
 * `missing` names the jobs without a result, `failed` those of them whose job ran and
 * failed (jobs.txt leaves the failed job's output in `results/NAME.json.tmp`), with why.
 * With jobs missing, report.json and best.config.json are written only when `partial`
 * (else best.config.json is removed: a winner of part of the jobs must not pass for one).
 */
export function collect(dir: string, opts: {partial?: boolean} = {}): {report: CalibrationReport; bestConfig: string | null; missing: string[]; failed: {job: string; error: string}[]} {
  const out = resolve(dir)
  const planFile = join(out, 'plan.json')
  if (!existsSync(planFile)) throw new UsageError('E_USAGE', `${out} has no plan.json: not a directory written by mm calibrate plan`, {suggestion: 'pass the --out directory of mm calibrate plan'})
  let p: {spec: CalibrationSpec; points: number; jobs: string[]}
  let jobs: PointJob[]
  try {
    p = JSON.parse(readFileSync(planFile, 'utf8')) as typeof p
    if (typeof p?.points !== 'number' || !Array.isArray(p.jobs) || !Array.isArray(p.spec?.windows)) throw new Error('no spec, points or jobs')
    // a plan written before windows whose job files collide were refused: its results are one window's twice
    checkJobNames(p.spec)
    jobs = jobsOf(p.spec).jobs
  } catch (error) {
    if (error instanceof MmError) throw error
    // torn, edited, or not mm's: was the parser's message alone ("Unexpected end of JSON input"), exit 1
    throw new UsageError('E_USAGE', `${planFile} is not a plan written by mm calibrate plan (${(error as Error).message})`, {suggestion: 'remove it and plan the same spec into that directory again (its results are kept)'})
  }
  const byName = new Map(jobs.map((j) => [jobFileName(j), j]))
  const results: PointResult[] = []
  const missing: string[] = []
  const failed: {job: string; error: string}[] = []
  const resDir = join(out, 'results')
  const present = new Set(existsSync(resDir) ? readdirSync(resDir) : [])
  for (const name of p.jobs) {
    const j = byName.get(name)
    if (!j) continue
    if (!present.has(`${name}.json`)) {
      missing.push(name)
      if (present.has(`${name}.json.tmp`)) {
        let why = 'no result (its output was cut short)'
        try {
          const env = JSON.parse(readFileSync(join(resDir, `${name}.json.tmp`), 'utf8')) as {ok?: boolean; error?: {message?: string}}
          if (env.ok === false) why = env.error?.message ?? 'failed'
        } catch {
          // a job killed mid-write (or still running): its output is not whole JSON
        }
        failed.push({job: name, error: why})
      }
      continue
    }
    const file = join(resDir, `${name}.json`)
    let env: {ok?: boolean; data?: PointResult; error?: {message?: string}}
    try {
      env = JSON.parse(readFileSync(file, 'utf8')) as typeof env
    } catch {
      throw new UsageError('E_RESULT', `${file} is not the JSON output of mm calibrate point`)
    }
    if (!env.ok || !env.data) throw new UsageError('E_RESULT', `${file}: the job failed: ${env.error?.message ?? 'no result'}`, {suggestion: 'run that job again (its line in jobs.txt)'})
    if (env.data.key !== j.key) throw new UsageError('E_RESULT', `${file} is the result of another job (key ${env.data.key}, expected ${j.key})`)
    results.push({...env.data, id: j.id, point: j.point, window: j.window.name})
  }
  const report = buildReport(p.spec, p.points, results)
  if (missing.length > 0 && !opts.partial) {
    rmSync(join(out, 'best.config.json'), {force: true})
    return {report, bestConfig: null, missing, failed}
  }
  return {...writeOutputs(out, report), missing, failed}
}
