/**
 * The CLI as a user meets it: `mm help`, `mm --help`, `mm version`, a typo, shell
 * completion, and every flag's default in the help (from the committed manifest, which
 * CI checks is fresh).
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {type Command, Config} from '@oclif/core'
import {describe, expect, it} from 'vitest'
import MmHelp, {withDefault} from '../../src/lib/cli/help.js'
import {ensureBuilt, runCli} from '../support/cli.js'
import {repoRoot} from '../support/shared-data.js'

describe('CLI plumbing', () => {
  it('help, not-found and autocomplete plugins are registered in package.json', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'))
    expect(pkg.oclif.helpClass).toBe('./dist/lib/cli/help.js')
    expect(pkg.oclif.plugins).toEqual(['@oclif/plugin-help', '@oclif/plugin-not-found', '@oclif/plugin-autocomplete'])
    for (const p of pkg.oclif.plugins) expect(pkg.dependencies[p], p).toBeDefined()
    // bin/run.js checks the Node version itself (oclif's check is turned off there): the same bound
    expect(pkg.engines.node).toBe('>=20.18')
    expect(readFileSync(join(repoRoot, 'bin/run.js'), 'utf8')).toContain('(major < 20 || (major === 20 && minor < 18))')
  })

  it('every flag of every command shows its default in its help (oclif help class + mm\'s)', async () => {
    const config = await Config.load(repoRoot)
    const missing: string[] = []
    expect(config.commands.length).toBeGreaterThan(5)
    for (const c of config.commands) {
      if (c.pluginName !== 'mm') continue
      for (const [name, f] of Object.entries(c.flags)) {
        if (name === 'json' || f.required) continue
        const g = withDefault(name, f)
        // oclif prints [default: X] for an option with a truthy default; the rest must say it in words
        const shown = (g.type === 'option' && Boolean(g.default)) || /\bdefault\b/i.test(g.description ?? '')
        if (!shown) missing.push(`${c.id} --${name}`)
      }
    }
    expect(missing).toEqual([])
    // and the help text carries it
    const help = new MmHelp(config) as unknown as {formatCommand(c: Command.Loadable): string}
    const halt = config.findCommand('sim') as Command.Loadable
    expect(help.formatCommand(halt).replace(/\s+/g, ' ')).toContain('TCP port on 127.0.0.1 (0 = any free port) (default: 0)')
    expect(withDefault('x', {type: 'boolean', name: 'x', allowNo: false, description: 'do x'} as never).description).toBe('do x (default: off)')
    expect(withDefault('p', {type: 'option', name: 'p', default: 0, description: 'port'} as never).description).toBe('port (default: 0)')
    expect(withDefault('f', {type: 'option', name: 'f', description: 'file'} as never).description).toBe('file (default: none)')
  })

  it('mm help, mm --help, mm version, mm record --help with the booleans\' defaults', async () => {
    ensureBuilt('version')
    const h = await runCli(['help'])
    expect(h.code).toBe(0)
    for (const c of ['quote', 'record', 'report', 'sim', 'version', 'autocomplete', 'help']) expect(h.stdout).toMatch(new RegExp(`^  ${c} `, 'm'))
    const h2 = await runCli(['--help'])
    expect(h2.stdout, h2.stderr).toBe(h.stdout)
    const v = await runCli(['version', '--json'])
    expect(v.code).toBe(0)
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'))
    expect(JSON.parse(v.stdout).data).toEqual({version: pkg.version, nodejs: process.versions.node, platform: `${process.platform}-${process.arch}`})
    // --json off a terminal: JSON.stringify's text with two spaces, no colour codes, and
    // no Node version warning on a supported Node (bin/run.js checks it without oclif's semver)
    expect(v.stdout).toBe(JSON.stringify({ok: true, command: 'version', data: {version: pkg.version, nodejs: process.versions.node, platform: `${process.platform}-${process.arch}`}}, null, 2) + '\n')
    expect(v.stderr).toBe('')
    const v2 = await runCli(['--version'])
    expect(v2.stdout.trim()).toBe(`mm/${pkg.version} ${process.platform}-${process.arch} node-v${process.versions.node}`)
    const r = await runCli(['record', '--help'])
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('--[no-]trades record trades (default: on; --no-trades: depth only)')
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('--[no-]ticker record bookTicker (default: off)')
  })

  it('a typo names the command and points to mm help (no prompt off a terminal)', async () => {
    const r = await runCli(['quot'])
    expect(r.code).not.toBe(0)
    // the plugin colours the name when it thinks the terminal can take it (CI=true does)
    const plain = r.stderr.replace(/\u001b\[[0-9;]*m/g, '')
    expect(plain).toMatch(/quot is not a mm command/)
    expect(plain).toMatch(/mm help/)
  })

  it('mm autocomplete prints the set-up for bash', async () => {
    const r = await runCli(['autocomplete', 'bash'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/mm autocomplete/)
  })
})
