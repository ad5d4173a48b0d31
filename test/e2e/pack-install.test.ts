/**
 * Install like a CLI, from a clean clone of the committed tree:
 *  - `npm ci --omit=dev` succeeds and says what to do (no `tsc: not found`), and
 *    `node bin/run.js` in that clone says it is not built;
 *  - `npm pack` (with the dev tools: the repo's node_modules) builds at pack time and ships
 *    dist/ and the manifest, not the sources;
 *  - `npm install -g <tarball> --omit=dev --prefix <tmp>` gives a working `mm`:
 *    `mm --help`, and the README's main job on the embedded sample.
 * Needs the npm registry for the production dependencies (CI has it; --prefer-offline
 * uses the cache first). Uncommitted changes are not in the clone: commit first.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {repoRoot} from '../support/shared-data.js'

const tmp = mkdtempSync(join(tmpdir(), 'mm-pack-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

function sh(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): {code: number | null; out: string; err: string} {
  const r = spawnSync(cmd, args, {cwd, encoding: 'utf8', env: {...process.env, NODE_ENV: '', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', ...env}, timeout: 600_000})
  return {code: r.status, out: r.stdout, err: r.stderr}
}

describe('npm pack → global install with production dependencies only', () => {
  it('a clean clone: npm ci --omit=dev says what to do; the packed tarball installs a working mm', () => {
    const clone = join(tmp, 'clone')
    execFileSync('git', ['clone', '--quiet', '--no-hardlinks', repoRoot, clone])
    // 1. the usual production install in a clone: no tsc, no failure, a clear note
    const ci = sh('npm', ['ci', '--omit=dev', '--prefer-offline'], clone)
    expect(ci.code, ci.err).toBe(0)
    expect(ci.err).toContain('mm: the dev dependencies are not installed (npm ci --omit=dev), so the TypeScript build cannot run here.')
    expect(`${ci.out}${ci.err}`).not.toMatch(/tsc: not found/)
    const unbuilt = sh(process.execPath, ['bin/run.js', '--help'], clone)
    expect(unbuilt.code).toBe(1)
    expect(unbuilt.err).toBe('mm: not built (no dist/): run `npm ci` in the clone (it builds), or install a packed release (npm pack, then npm install -g ./mm-<version>.tgz)\n')
    // 2. pack with the dev tools (the repo's node_modules): built at pack time
    rmSync(join(clone, 'node_modules'), {recursive: true, force: true})
    symlinkSync(join(repoRoot, 'node_modules'), join(clone, 'node_modules'))
    const pack = sh('npm', ['pack', '--json', '--pack-destination', tmp], clone)
    expect(pack.code, pack.err).toBe(0)
    // the prepack build's own output comes first on stdout
    const info = JSON.parse(pack.out.slice(pack.out.search(/^\[$/m))) as {filename: string; files: {path: string}[]}[]
    const files = info[0].files.map((f) => f.path)
    for (const f of ['bin/run.js', 'dist/commands/quote.js', 'dist/lib/cli/help.js', 'oclif.manifest.json', 'package.json', 'README.md']) expect(files, f).toContain(f)
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/') || f.startsWith('node_modules/'))).toEqual([])
    const tarball = join(tmp, info[0].filename)
    // 3. a global install of the tarball, production dependencies only
    const prefix = join(tmp, 'global')
    const inst = sh('npm', ['install', '-g', tarball, '--omit=dev', '--prefix', prefix, '--prefer-offline'], tmp)
    expect(inst.code, inst.err).toBe(0)
    const mm = join(prefix, 'bin', 'mm')
    expect(existsSync(mm)).toBe(true)
    const lib = join(prefix, 'lib', 'node_modules')
    for (const dev of ['typescript', 'vitest', 'tsx', 'oclif', 'playwright-core']) expect(existsSync(join(lib, 'mm', 'node_modules', dev)), dev).toBe(false)
    const help = sh(mm, ['--help'], tmp)
    expect(help.code, help.err).toBe(0)
    for (const c of ['quote', 'record', 'report', 'sim', 'help', 'autocomplete']) expect(help.out).toMatch(new RegExp(`^  ${c} `, 'm'))
    // 4. the README's main job, on the embedded sample of the clone, with the installed mm
    const job = sh(mm, ['quote', '--symbol', 'ETHUSDC', '--dry-run', '--replay', 'recordings/ETHUSDC', '--state-dir', join(tmp, 'state'), '--json'], clone)
    expect(job.code, job.err).toBe(0)
    const s = JSON.parse(job.out).data.summary as {endReason: string; quotesPlaced: number; symbol: string}
    expect(s.endReason).toBe('end of data')
    expect(s.symbol).toBe('ETHUSDC')
    expect(s.quotesPlaced).toBeGreaterThan(0)
    expect(readdirSync(join(tmp, 'state', 'runs'))).toHaveLength(1)
  }, 900_000)
})
