/**
 * `mm calibrate plan SPEC --out DIR` into a DIR that already holds a plan, through
 * bin/run.js: it rewrote every file without a word, so a second spec's plan replaced the
 * first's jobs while GNU parallel's results/NAME.json of the first stayed beside them (and a
 * run still going would write more). Now the same spec's plan is said and its results
 * kept; another spec's is refused (exit 2) with nothing written.
 */
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {sharedData} from '../support/shared-data.js'

vi.setConfig({testTimeout: 60_000})

const tmp = mkdtempSync(join(tmpdir(), 'mm-plan-out-'))

function spec(name: string, spreads: string, objective = 'netPnl', windows = ['a']): string {
  const file = join(tmp, `${name}.yaml`)
  // plan reads no recording: the window's file only has to be named
  writeFileSync(
    file,
    [
      'symbol: BTCUSDT',
      'tickSize: "0.1"',
      'stepSize: "0.001"',
      'windows:',
      ...windows.map((w) => `  - {name: ${JSON.stringify(w)}, replay: btcusdt_20240808.gz}`),
      'base: {strategy: {baseSize: "0.004"}, risk: {netMax: "0.03", stopLoss: -20}}',
      'params:',
      `  strategy.baseSpread: ${spreads}`,
      `objective: ${objective}`,
      '',
    ].join('\n'),
  )
  return file
}

/** every file under dir with its content and mtime */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n)
      const st = statSync(p)
      if (st.isDirectory()) walk(p)
      else out[p.slice(dir.length + 1)] = `${st.mtimeMs} ${readFileSync(p, 'utf8')}`
    }
  }
  walk(dir)
  return out
}

beforeAll(() => {
  ensureBuilt('calibrate/plan')
})

describe('mm calibrate plan into a directory that holds a plan (CLI)', () => {
  it("the same spec's jobs are said and their results kept; another spec's plan is refused, nothing written", async () => {
    const out = join(tmp, 'plan')
    const first = await runCli(['calibrate', 'plan', spec('a', '[0.0002, 0.0003]'), '--out', out])
    expect(first.code).toBe(0)
    expect(first.stdout.split('\n')[0]).toBe(`2 jobs (2 points × 1 windows) in ${out}`)
    expect(first.stdout).not.toContain('already held')
    // GNU parallel finished one job
    const result = join(out, 'results', 'p0001-a.json')
    writeFileSync(result, '{"ok":true,"data":"the result of p0001-a"}\n')
    const jobFile = join(out, 'jobs', 'p0002-a.json')
    const jobBefore = statSync(jobFile)
    const jobText = readFileSync(jobFile, 'utf8')

    // the same jobs (a changed objective re-ranks the same results): said, the result kept
    const again = await runCli(['calibrate', 'plan', spec('a2', '[0.0002, 0.0003]', 'sharpe'), '--out', out])
    expect(again.code).toBe(0)
    expect(again.stdout.split('\n').slice(0, 2)).toEqual([`2 jobs (2 points × 1 windows) in ${out}`, `${out} already held this plan: 1 of its 2 jobs have a result there (kept)`])
    expect(readFileSync(result, 'utf8')).toBe('{"ok":true,"data":"the result of p0001-a"}\n')
    expect(JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')).spec.objective).toBe('sharpe')
    // the job files are the same: left as they were (they were truncated and written again,
    // under a GNU parallel or a pod that could be reading them), and nothing is left beside them
    const jobAfter = statSync(jobFile)
    expect([jobAfter.ino, jobAfter.mtimeMs]).toEqual([jobBefore.ino, jobBefore.mtimeMs])
    expect(readFileSync(jobFile, 'utf8')).toBe(jobText)
    expect([...readdirSync(out), ...readdirSync(join(out, 'jobs'))].filter((n) => n.includes('.part-'))).toEqual([])

    // another spec: refused, one line naming the directory, nothing written
    const before = snapshot(out)
    const other = await runCli(['calibrate', 'plan', spec('b', '[0.0003, 0.0004, 0.0005]'), '--out', out])
    expect(other.code).toBe(2)
    expect(other.stdout).toBe('')
    expect(other.stderr.split('\n')[0]).toBe(`mm calibrate plan: ${out} already holds a plan of another spec (3 jobs differ): nothing was written`)
    expect(other.stderr).not.toMatch(/\n\s+at /)
    expect(snapshot(out)).toEqual(before)

    // a plan.json this mm cannot read is refused the same way
    writeFileSync(join(out, 'plan.json'), '{"spec": ')
    const torn = await runCli(['calibrate', 'plan', spec('a', '[0.0002, 0.0003]'), '--out', out])
    expect(torn.code).toBe(2)
    expect(torn.stderr.split('\n')[0]).toBe(`mm calibrate plan: ${out} already holds a plan whose plan.json this mm cannot read: nothing was written`)
    expect(readFileSync(result, 'utf8')).toBe('{"ok":true,"data":"the result of p0001-a"}\n')
  })

  it('windows whose names give the same job file names are refused (one window\'s jobs were written over the other\'s); collect refuses such a plan', async () => {
    const file = spec('collide', '[0.0002, 0.0003]', 'netPnl', ['a b/c', 'a b:c'])
    const out = join(tmp, 'collide')
    const r = await runCli(['calibrate', 'plan', file, '--out', out])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr.split('\n').slice(0, 2)).toEqual([
      `mm calibrate plan: calibration spec ${file}: windows "a b/c" and "a b:c" give the same job file names (jobs/p…-a_b_c.json): nothing was written`,
      '  hint: rename one of them in the spec (letters, digits, . - _ are kept as they are), then plan again',
    ])
    expect(existsSync(out)).toBe(false)

    // a plan written before the refusal (here: a plan's spec and job names edited to those):
    // with its results, collect ranked one window's twice (4 rows for 2 points) and the other none, exit 0
    const ok = join(tmp, 'collide-old')
    expect((await runCli(['calibrate', 'plan', spec('two', '[0.0002, 0.0003]', 'netPnl', ['x', 'y']), '--out', ok])).code).toBe(0)
    const planFile = join(ok, 'plan.json')
    const p = JSON.parse(readFileSync(planFile, 'utf8'))
    p.spec.windows[0].name = 'a b/c'
    p.spec.windows[1].name = 'a b:c'
    p.jobs = p.jobs.map((n: string) => n.replace(/-[xy]$/, '-a_b_c'))
    writeFileSync(planFile, JSON.stringify(p))
    const c = await runCli(['calibrate', 'collect', ok])
    expect(c.code).toBe(2)
    expect(c.stderr.split('\n')[0]).toBe(`mm calibrate collect: calibration spec ${join(tmp, 'two.yaml')}: windows "a b/c" and "a b:c" give the same job file names (jobs/p…-a_b_c.json): nothing was written`)
  })

  it('collect on a plan.json that is torn or not a plan: one line naming it, exit 2 (was the parser\'s message, exit 1)', async () => {
    const out = join(tmp, 'torn-plan')
    expect((await runCli(['calibrate', 'plan', spec('t', '[0.0002]'), '--out', out])).code).toBe(0)
    const planFile = join(out, 'plan.json')
    for (const [text, why] of [
      ['{"spec": ', 'Unexpected end of JSON input'],
      ['[]', 'no spec, points or jobs'],
    ]) {
      writeFileSync(planFile, text)
      const c = await runCli(['calibrate', 'collect', out])
      expect(c.code).toBe(2)
      expect(c.stderr.split('\n').slice(0, 2)).toEqual([
        `mm calibrate collect: ${planFile} is not a plan written by mm calibrate plan (${why})`,
        '  hint: remove it and plan the same spec into that directory again (its results are kept)',
      ])
    }
  })

  it("--html naming a file the command writes in its own directory is refused before any job (it was found only after the run)", async () => {
    const file = spec('own-html', '[0.0002]')
    const out = join(tmp, 'own-html')
    for (const name of ['report.json', 'results.jsonl', 'best.config.json']) {
      const r = await runCli(['calibrate', file, '--out', out, '--workers', '1', '--html', join(out, name)])
      expect(r.code).toBe(2)
      expect(r.stderr.split('\n')[0]).toBe(`mm calibrate: --html ${join(out, name)} is the ${name} this command writes in ${out}: refusing to overwrite it`)
      expect(existsSync(out)).toBe(false)
    }
    const dir = join(tmp, 'own-html-plan')
    expect((await runCli(['calibrate', 'plan', file, '--out', dir])).code).toBe(0)
    const c = await runCli(['calibrate', 'collect', dir, '--partial', '--html', join(dir, 'report.json')])
    expect(c.code).toBe(2)
    expect(c.stderr.split('\n')[0]).toBe(`mm calibrate collect: --html ${join(dir, 'report.json')} is the report.json this command writes in ${dir}: refusing to overwrite it`)
    expect(existsSync(join(dir, 'report.json'))).toBe(false)
  })

  it('a report.json that cannot be written, or a results.jsonl that cannot be read, is one line naming it (was the bare EISDIR, no file named)', async () => {
    const dir = join(tmp, 'unwritable-report')
    expect((await runCli(['calibrate', 'plan', spec('uw', '[0.0002]'), '--out', dir])).code).toBe(0)
    mkdirSync(join(dir, 'report.json'))
    const c = await runCli(['calibrate', 'collect', dir, '--partial'])
    expect(c.code).toBe(1)
    expect(c.stderr.split('\n').slice(0, 2)).toEqual([
      `mm calibrate collect: cannot write ${join(dir, 'report.json')}: EISDIR: illegal operation on a directory, open '${join(dir, 'report.json')}'`,
      `  hint: the results are kept in ${dir}: run the same command again once it can be written`,
    ])

    const real = join(tmp, 'real.yaml')
    writeFileSync(real, readFileSync(spec('real', '[0.0002]'), 'utf8').replace('replay: btcusdt_20240808.gz', `replay: ${sharedData('hftbacktest/examples/usdm/btcusdt_20240808.gz')}, duration: 5s`))
    const out = join(tmp, 'unreadable-results')
    mkdirSync(join(out, 'results.jsonl'), {recursive: true})
    const r = await runCli(['calibrate', real, '--out', out, '--workers', '1'])
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n')[0]).toBe(`mm calibrate: cannot read ${join(out, 'results.jsonl')}: EISDIR: illegal operation on a directory, read`)
  })

  it('an empty --mm-command (a "$MM" left unset) is refused, nothing written: its jobs ran `calibrate point …` and all failed', async () => {
    const out = join(tmp, 'empty-mm')
    for (const mm of ['', '  ']) {
      const r = await runCli(['calibrate', 'plan', spec('mm', '[0.0002]'), '--out', out, '--mm-command', mm])
      expect(r.code).toBe(2)
      expect(r.stderr.split('\n')[0]).toBe('mm calibrate plan: --mm-command is empty: the jobs would run no mm')
      expect(existsSync(out)).toBe(false)
    }
  })
})
