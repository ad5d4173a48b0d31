/**
 * `mm record --metrics-textfile` against `mm sim --synthetic`: the run's final figures in
 * node_exporter's textfile format, equal to the --json summary, accepted by
 * `promtool check metrics`; the default trade stream is `@trade` (what mm quote uses);
 * a path the collector would not read is refused before recording.
 */
import {existsSync, mkdtempSync, readdirSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {promtool} from '../support/promtool.js'

// each test runs the CLI for several wall seconds (up to 10 s under a load of 9 on 2 cores): twice the default limit
vi.setConfig({testTimeout: 120_000})

beforeAll(() => {
  ensureBuilt('record')
  ensureBuilt('sim')
})

const value = (text: string, name: string): number => {
  const m = new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)
  if (!m) throw new Error(`${name} missing from\n${text}`)
  return Number(m[1])
}

describe('mm record --metrics-textfile', () => {
  it('writes the final figures atomically, promtool-clean, equal to the summary', async () => {
    const sim = spawnCli(['sim', '--synthetic', '--seed', '5', '--json', '--duration', '60s'])
    try {
      const [line] = await sim.waitFor(/^\{.*"status":"listening".*\}$/m)
      const start = JSON.parse(line)
      const dir = mkdtempSync(join(tmpdir(), 'mm-e2e-textfile-'))
      const prom = join(dir, 'mm_record.prom')
      // 6 s: the duration includes the first sync (seconds on a loaded machine) and a trade must come after it
      const r = await runCli(['record', '--symbol', 'ETHUSDC', '--out', join(dir, 'rec'), '--duration', '6s', '--metrics-textfile', prom, '--json'], {env: {MM_REST_URL: start.data.restUrl, MM_WS_URL: start.data.wsUrl}})
      expect(r.code, r.stderr).toBe(0)
      const s = JSON.parse(r.stdout).data as {messages: number; rows: number; bytes: number; files: string[]; elapsedMs: number; resyncs: number}
      const text = readFileSync(prom, 'utf8')
      // no temporary file left beside it
      expect(readdirSync(dir).sort()).toEqual(['mm_record.prom', 'rec'])
      expect(value(text, 'mm_record_success')).toBe(1)
      expect(value(text, 'mm_record_messages_total')).toBe(s.messages)
      expect(value(text, 'mm_record_rows_total')).toBe(s.rows)
      expect(value(text, 'mm_record_written_bytes_total')).toBe(s.bytes)
      expect(value(text, 'mm_record_files_total')).toBe(s.files.length)
      expect(value(text, 'mm_record_resyncs_total')).toBe(s.resyncs)
      expect(value(text, 'mm_record_duration_seconds')).toBe(s.elapsedMs / 1000)
      expect(Math.abs(value(text, 'mm_record_last_run_timestamp_seconds') - Date.now() / 1000)).toBeLessThan(120)
      expect(text).toMatch(/^mm_record_rows_total\{symbols="ETHUSDC",command="record"\} \d+$/m)
      expect(text).toMatch(/^mm_build_info\{version="[^"]+",nodejs="[^"]+",platform="[^"]+",command="record"\} 1$/m)
      // a textfile holds no process metrics: the process is gone when it is read
      expect(text).not.toMatch(/^process_/m)
      const check = promtool(['check', 'metrics'], text)
      expect(check.out).toBe('')
      expect(check.code).toBe(0)
      // the default trade stream is @trade, as mm quote uses: trades were recorded
      expect(s.files.some((f) => f.endsWith('.trades.csv.gz'))).toBe(true)
    } finally {
      sim.child.kill('SIGTERM')
      await sim.exited
    }
  })

  it('--ticker against a sim whose bookTicker stream is silent (--faults silent=bookTicker): a warning naming the silent stream; --log-level info logs start and end as JSON lines', async () => {
    const sim = spawnCli(['sim', '--synthetic', '--seed', '5', '--json', '--duration', '60s', '--faults', 'silent=bookTicker'])
    try {
      const [line] = await sim.waitFor(/^\{.*"status":"listening".*\}$/m)
      const start = JSON.parse(line)
      const dir = mkdtempSync(join(tmpdir(), 'mm-e2e-textfile-'))
      const r = await runCli(['record', '--symbol', 'ETHUSDC', '--out', join(dir, 'rec'), '--duration', '2s', '--ticker', '--log-level', 'info'], {env: {MM_REST_URL: start.data.restUrl, MM_WS_URL: start.data.wsUrl}})
      expect(r.code, r.stderr).toBe(0)
      const logs = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
      expect(logs.map((l) => [l.level, l.event])).toEqual([[30, 'record_start'], [40, 'record_empty_stream'], [30, 'record_end']])
      expect(logs[1]).toMatchObject({command: 'record', symbol: 'ETHUSDC', stream: '@bookTicker'})
      expect(logs[1].msg).toMatch(/^the @bookTicker stream delivered nothing in \d+s: no ticker rows were written$/)
      expect(logs[0]).toMatchObject({trades: 'trade', ticker: true})
    } finally {
      sim.child.kill('SIGTERM')
      await sim.exited
    }
  })

  it('refuses, before recording, a name the collector ignores or a missing folder (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-e2e-textfile-'))
    const a = await runCli(['record', '--symbol', 'ETHUSDC', '--out', join(dir, 'rec'), '--metrics-textfile', join(dir, 'mm.txt'), '--rest-url', 'http://127.0.0.1:9', '--ws-url', 'ws://127.0.0.1:9'])
    expect(a.code).toBe(2)
    expect(a.stderr.split('\n')[0]).toBe(`mm record: --metrics-textfile ${join(dir, 'mm.txt')}: the name must end in .prom (node_exporter's textfile collector reads only *.prom files)`)
    const b = await runCli(['record', '--symbol', 'ETHUSDC', '--out', join(dir, 'rec'), '--metrics-textfile', join(dir, 'nope', 'mm.prom'), '--rest-url', 'http://127.0.0.1:9', '--ws-url', 'ws://127.0.0.1:9'])
    expect(b.code).toBe(2)
    expect(b.stderr.split('\n')[0]).toBe(`mm record: --metrics-textfile ${join(dir, 'nope', 'mm.prom')}: no such folder (${join(dir, 'nope')})`)
    expect(existsSync(join(dir, 'rec'))).toBe(false)
  })

  it('a failed run still leaves mm_record_success 0 for the alert', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-e2e-textfile-'))
    const prom = join(dir, 'mm_record.prom')
    // nothing listens on port 9: the venue is unreachable
    const r = await runCli(['record', '--symbol', 'ETHUSDC', '--out', join(dir, 'rec'), '--metrics-textfile', prom, '--rest-url', 'http://127.0.0.1:9', '--ws-url', 'ws://127.0.0.1:9'])
    expect(r.code).toBe(1)
    const text = readFileSync(prom, 'utf8')
    expect(value(text, 'mm_record_success')).toBe(0)
    expect(value(text, 'mm_record_rows_total')).toBe(0)
  })
})
