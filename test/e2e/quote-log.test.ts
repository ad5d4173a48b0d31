/**
 * mm quote's operator log end to end: a replay of the embedded sample with --log-file
 * writes one JSON line per strategy_adjust and risk_event (SPEC §5 fields) with level,
 * command, symbol and run id, the run's lifecycle and fills; stderr stays free of log
 * lines by default in a replay.
 */
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, dirname, join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'

describe('mm quote --log-file', () => {
  it('replay: strategy_adjust / risk_event / lifecycle lines in the file, with the run id; event log unchanged in count', async () => {
    ensureBuilt('quote')
    const dir = mkdtempSync(join(tmpdir(), 'mm-quote-log-'))
    const file = join(dir, 'logs', 'quote.log')
    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--replay', 'recordings/ETHUSDC', '--duration', '60s', '--state-dir', join(dir, 'state'), '--log-file', file, '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr.split('\n').filter((l) => l.startsWith('{'))).toEqual([])
    const res = JSON.parse(r.stdout).data as {eventLog: string}
    const run = basename(dirname(res.eventLog))
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    const events = readFileSync(res.eventLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as {type: string})
    // default level into a file: info → every strategy_adjust, risk_event, fill, run_start, run_end of the event log
    const want = events.filter((e) => ['strategy_adjust', 'risk_event', 'fill', 'run_start', 'run_end'].includes(e.type) || (e.type === 'reject' && (e as {code?: number}).code !== -5022))
    expect(lines.map((l) => l.event)).toEqual(want.map((e) => e.type))
    for (const l of lines) expect(l).toMatchObject({command: 'quote', symbol: 'ETHUSDC', run})
    const adj = lines.find((l) => l.event === 'strategy_adjust' && typeof l.spread === 'number')
    expect(adj).toMatchObject({level: 30, msg: 'strategy_adjust'})
    for (const k of ['spread', 'volatilityFactor', 'inventoryFactor', 'quoteInterval']) expect(adj, k).toHaveProperty(k)
    const risk = lines.filter((l) => l.event === 'risk_event')
    expect(risk.length).toBeGreaterThan(0)
    for (const l of risk) expect([30, 40, 50]).toContain(l.level)
    expect(lines.filter((l) => l.event === 'fill').length).toBeGreaterThan(0)
  })
})
