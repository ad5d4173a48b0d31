/**
 * The CLI as a user meets it: `mm help`, `mm --help`, `mm version`, a typo, shell
 * completion, and every flag's default in the help (from the committed manifest, which
 * CI checks is fresh).
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'
import {repoRoot} from '../support/shared-data.js'

interface ManifestFlag {
  type: 'boolean' | 'option'
  description?: string
  default?: unknown
  required?: boolean
}

describe('CLI plumbing', () => {
  it('help, not-found and autocomplete plugins are registered in package.json', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'))
    expect(pkg.oclif.plugins).toEqual(['@oclif/plugin-help', '@oclif/plugin-not-found', '@oclif/plugin-autocomplete'])
    for (const p of pkg.oclif.plugins) expect(pkg.dependencies[p], p).toBeDefined()
  })

  it('every flag of every command shows its default (or says what happens without it)', () => {
    const m = JSON.parse(readFileSync(join(repoRoot, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {flags: Record<string, ManifestFlag>}>}
    const missing: string[] = []
    for (const [id, c] of Object.entries(m.commands)) {
      for (const [name, f] of Object.entries(c.flags)) {
        if (name === 'json' || f.required) continue
        const shown = (f.type === 'option' && f.default !== undefined) || /\bdefault\b/i.test(f.description ?? '')
        if (!shown) missing.push(`${id} --${name}`)
      }
    }
    expect(missing).toEqual([])
  })

  it('mm help, mm --help, mm version, mm record --help with the booleans\' defaults', async () => {
    ensureBuilt('version')
    const h = await runCli(['help'])
    expect(h.code).toBe(0)
    for (const c of ['quote', 'record', 'report', 'sim', 'version', 'autocomplete', 'help']) expect(h.stdout).toMatch(new RegExp(`^  ${c} `, 'm'))
    const h2 = await runCli(['--help'])
    expect(h2.stdout).toBe(h.stdout)
    const v = await runCli(['version', '--json'])
    expect(v.code).toBe(0)
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'))
    expect(JSON.parse(v.stdout).data).toEqual({version: pkg.version, nodejs: process.versions.node, platform: `${process.platform}-${process.arch}`})
    const v2 = await runCli(['--version'])
    expect(v2.stdout.trim()).toBe(`mm/${pkg.version} ${process.platform}-${process.arch} node-v${process.versions.node}`)
    const r = await runCli(['record', '--help'])
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('--[no-]trades record trades (default: on; --no-trades: depth only)')
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('--[no-]ticker record bookTicker (default: off)')
  })

  it('a typo names the command and points to mm help (no prompt off a terminal)', async () => {
    const r = await runCli(['quot'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/quot is not a mm command/)
    expect(r.stderr).toMatch(/mm help/)
  })

  it('mm autocomplete prints the set-up for bash', async () => {
    const r = await runCli(['autocomplete', 'bash'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/mm autocomplete/)
  })
})
