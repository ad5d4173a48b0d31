/**
 * An operator's bad input through bin/run.js (explops): a config written in YAML (config
 * files are JSON; only `mm calibrate` specs are YAML). Before, the error quoted the start
 * of the file, newline and all, so the "one line" error ran over two lines and never said
 * that YAML is not read here. Nothing is started: exit 2 before any venue is contacted.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'

let tmp: string

beforeAll(() => {
  ensureBuilt('quote')
  tmp = mkdtempSync(join(tmpdir(), 'mm-explops-input-'))
})

describe('config file errors are one line (explops)', () => {
  it('a YAML config: exit 2, one line saying config files are JSON, a hint, no stack', async () => {
    const cfg = join(tmp, 'mm.config.yaml')
    writeFileSync(cfg, 'risk:\n  stopLoss: -10\n')
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--config', cfg, '--state-dir', join(tmp, 'state'), '--rest-url', 'http://127.0.0.1:9', '--ws-url', 'ws://127.0.0.1:9'])
    expect(r.code).toBe(2)
    // the parser's own words after the colon differ between Node versions
    const lines = r.stderr.trim().split('\n')
    expect(lines.length).toBe(2)
    expect(lines[0].startsWith(`mm quote: config ${cfg} is not valid JSON (config files are JSON; YAML is read by mm calibrate specs only): `)).toBe(true)
    expect(lines[1]).toBe('  hint: write it as JSON (see mm.config.example.json and docs/config.md)')
  }, 60_000)

  it('a truncated JSON config: one line, the JSON hint', async () => {
    const cfg = join(tmp, 'cut.json')
    writeFileSync(cfg, '{"risk": {\n  "stopLoss": -10,\n')
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--config', cfg, '--state-dir', join(tmp, 'state'), '--rest-url', 'http://127.0.0.1:9', '--ws-url', 'ws://127.0.0.1:9'])
    expect(r.code).toBe(2)
    const lines = r.stderr.trim().split('\n')
    expect(lines.length).toBe(2)
    expect(lines[0].startsWith(`mm quote: config ${cfg} is not valid JSON: `)).toBe(true)
    expect(lines[1]).toBe('  hint: JSON has no comments or trailing commas; use a "$comment" key for notes')
  }, 60_000)
})
