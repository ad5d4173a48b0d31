/**
 * Usage errors name the flag and the value; exit codes follow SPEC.md §1 (issue 13).
 */
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'

beforeAll(() => {
  for (const c of ['record', 'quote', 'sim', 'report']) ensureBuilt(c)
})

describe('usage errors (exit 2) name the flag and the value', () => {
  it('missing --symbol', async () => {
    const r = await runCli(['record'])
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n')[0]).toBe('mm record: missing required flag --symbol')
  })

  it('--metrics-port out of range', async () => {
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--metrics-port', '70000'])
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n')[0]).toBe('mm quote: --metrics-port 70000: expected an integer less than or equal to 65535')
  })

  it('record --rotate below a second', async () => {
    const r = await runCli(['record', '--symbol', 'ETHUSDC', '--rotate', '500ms', '--rest-url', 'http://127.0.0.1:9', '--ws-url', 'ws://127.0.0.1:9'])
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n')[0]).toBe('mm record: --rotate: "500ms" must be at least 1s')
  })

  it('sim --port in use → exit 2 (as quote --metrics-port in use)', async () => {
    const blocker = createServer()
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', () => res()))
    const port = (blocker.address() as {port: number}).port
    try {
      const r = await runCli(['sim', '--synthetic', '--port', String(port)])
      expect(r.code).toBe(2)
      expect(r.stderr.split('\n')[0]).toBe(`mm sim: --port ${port}: cannot listen on 127.0.0.1:${port}: EADDRINUSE`)
      expect(r.stderr).not.toMatch(/\n\s+at /)
    } finally {
      blocker.close()
    }
  })
})

describe('report reads a run log whose last line is torn', () => {
  it('exit 0, the torn line left out and said', async () => {
    const state = mkdtempSync(join(tmpdir(), 'mm-torn-'))
    const dir = join(state, 'runs', '20260101T000000Z-ETHUSDC-replay')
    mkdirSync(dir, {recursive: true})
    const start = {type: 'run_start', t: 1_767_225_600_000, runId: 'x', mode: 'replay', symbol: 'ETHUSDC', strategy: 'v2', config: {}, instrument: {tickSize: '0.01', stepSize: '0.001'}}
    writeFileSync(join(dir, 'events.jsonl'), `${JSON.stringify(start)}\n{"type":"book","t":1767225600`)
    const r = await runCli(['report', 'last', '--state-dir', state])
    expect(r.stderr).toContain('the last line is cut short (the run did not end cleanly); read without it')
    expect(r.code).toBe(0)
  })
})
