/**
 * `npm run bench [-- <filter>...]`: runs every bench/*.bench.ts module (or those whose
 * file or name contains a filter word), prints each module's figures, and writes
 * bench/results.json. With a filter, the other modules' previous results are kept.
 *
 * Adding a benchmark: create bench/<thing>.bench.ts exporting `name` and
 * `async run(): Promise<Record<string, number | string>>` (see bench/lib.ts helpers:
 * timeIt, median, sharedData). Name ratio figures `*_ratio` / `*_x` and rates `*_per_s`
 * so readers know what they are.
 */
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {cpus, loadavg} from 'node:os'
import {basename, join} from 'node:path'
import {pathToFileURL} from 'node:url'
import Table from 'cli-table3'
import {repoRoot} from './lib.js'

interface BenchModule {
  name: string
  run: () => Promise<Record<string, number | string>>
}

interface ResultsFile {
  machine: {node: string; platform: string; arch: string; cpu: string; cores: number}
  modules: Record<string, {file: string; ranAt: string; seconds: number; load1mAtStart?: number; figures: Record<string, number | string>}>
}

const benchDir = join(repoRoot, 'bench')
const resultsPath = join(benchDir, 'results.json')

function fmt(v: number | string): string {
  if (typeof v === 'string') return v
  if (Number.isInteger(v)) return v.toLocaleString('en-US')
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US')
  return String(Number(v.toPrecision(4)))
}

async function main(): Promise<number> {
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'))
  const files = readdirSync(benchDir).filter((f) => f.endsWith('.bench.ts')).sort()
  const previous: ResultsFile | undefined = existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, 'utf8')) : undefined
  const out: ResultsFile = {
    machine: {node: process.version, platform: process.platform, arch: process.arch, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length},
    modules: filters.length > 0 && previous ? {...previous.modules} : {},
  }
  let failed = 0
  let ran = 0
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(benchDir, file)).href)) as Partial<BenchModule>
    const name = mod.name ?? basename(file, '.bench.ts')
    if (filters.length > 0 && !filters.some((f) => file.includes(f) || name.includes(f))) continue
    if (typeof mod.run !== 'function') {
      console.error(`${file}: exports no run() function, skipped`)
      failed++
      continue
    }
    process.stdout.write(`\n== ${name} (${file})\n`)
    const t0 = process.hrtime.bigint()
    // the machine's 1-minute load average as the module starts: other processes' share of the cores
    const load1mAtStart = Math.round(loadavg()[0] * 100) / 100
    try {
      const figures = await mod.run()
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9
      const table = new Table({head: ['figure', 'value'], colAligns: ['left', 'right']})
      for (const [k, v] of Object.entries(figures)) table.push([k, fmt(v)])
      console.log(table.toString())
      console.log(`(${seconds.toFixed(1)} s)`)
      out.modules[name] = {file, ranAt: new Date().toISOString(), seconds: Math.round(seconds * 10) / 10, load1mAtStart, figures}
      ran++
    } catch (e) {
      console.error(`${file} failed: ${(e as Error).stack ?? e}`)
      failed++
    }
  }
  if (ran === 0 && failed === 0) {
    console.error(`no bench module matched ${filters.join(' ')}`)
    return 1
  }
  writeFileSync(resultsPath, JSON.stringify(out, null, 2) + '\n')
  console.log(`\nwrote ${resultsPath}`)
  return failed > 0 ? 1 : 0
}

main().then((code) => {
  process.exitCode = code
})
