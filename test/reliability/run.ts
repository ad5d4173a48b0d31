/**
 * `npm run reliability [-- --rounds N] [-- --only id,id]`: run every fault scenario
 * (test/support/faults.ts) N times (default 5) through bin/run.js against the hostile venue,
 * and regenerate docs/RELIABILITY.md with each fault, its invariant and its figure (runs,
 * held, worst time). Needs the build (`npm run prepare`). Exit 1 when any run failed.
 */
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {repoRoot} from '../support/shared-data.js'
import {runScenario, SCENARIOS} from '../support/faults.js'

const argv = process.argv.slice(2)
const opt = (name: string) => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : undefined
}
const rounds = Number(opt('--rounds') ?? 5)
const only = opt('--only')?.split(',')
const docPath = join(repoRoot, 'docs/RELIABILITY.md')

interface Figure {
  id: string
  runs: number
  held: number
  worstMs: number
  worstAfterSignalMs?: number
  failures: string[]
}

const figures: Figure[] = []
for (const s of SCENARIOS) {
  if (only && !only.includes(s.id)) continue
  const f: Figure = {id: s.id, runs: 0, held: 0, worstMs: 0, failures: []}
  for (let seed = 1; seed <= rounds; seed++) {
    const r = await runScenario(s, seed)
    f.runs++
    const why = s.check(r)
    if (why) f.failures.push(`seed ${seed}: ${why}`)
    else f.held++
    f.worstMs = Math.max(f.worstMs, r.workMs)
    if (r.afterSignalMs !== undefined) f.worstAfterSignalMs = Math.max(f.worstAfterSignalMs ?? 0, r.afterSignalMs)
    process.stderr.write(`${s.id} seed ${seed}: ${why ? `FAILED (${why})` : 'held'} in ${r.elapsedMs} ms (${r.workMs} ms from the first request)\n`)
  }
  figures.push(f)
}

const start = '<!-- reliability:begin -->'
const end = '<!-- reliability:end -->'
const rows = SCENARIOS.map((s) => {
  const f = figures.find((x) => x.id === s.id)
  const fig = f ? `${f.held}/${f.runs} held; slowest run ${f.worstMs} ms from its first request${f.worstAfterSignalMs === undefined ? '' : `, slowest stop after SIGTERM ${f.worstAfterSignalMs} ms`}` : 'not run'
  return `| \`${s.id}\` | ${s.fault} | \`mm ${s.command}\` | ${s.invariant} | ${fig} |`
})
const failures = figures.flatMap((f) => f.failures.map((x) => `- \`${f.id}\` ${x}`))
const table = [
  start,
  `Figures from \`npm run reliability -- --rounds ${rounds}\` (${new Date().toISOString().slice(0, 10)}; each run a fresh hostile venue seeded with the round number).`,
  '',
  '| scenario | fault | command | invariant | figure |',
  '| --- | --- | --- | --- | --- |',
  ...rows,
  '',
  failures.length > 0 ? `Runs that did not hold:\n\n${failures.join('\n')}` : 'Every run held.',
  end,
].join('\n')
let doc = readFileSync(docPath, 'utf8')
const a = doc.indexOf(start)
const b = doc.indexOf(end)
if (a < 0 || b < 0) throw new Error(`${docPath}: markers ${start} / ${end} missing`)
if (!only) doc = doc.slice(0, a) + table + doc.slice(b + end.length)
writeFileSync(docPath, doc)
process.stderr.write(only ? 'partial run (--only): docs/RELIABILITY.md left as it was\n' : `wrote ${docPath}\n`)
process.exitCode = figures.some((f) => f.failures.length > 0) ? 1 : 0
