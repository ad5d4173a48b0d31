/** State dir resolution, state.json read/write, the lock. */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {controlDir, readControlRequests, writeControlRequest} from '../../src/lib/state/control.js'
import {resolveStateDir, stateFilePath, symbolDir} from '../../src/lib/state/dir.js'
import {emptyState, readStateFile, removeStaleTemps, StateFileError, writeStateFile, writeStateFileAsync} from '../../src/lib/state/file.js'
import {acquireLock, bootId, LockedError, processStart} from '../../src/lib/state/lock.js'
import {liveness} from '../../src/lib/state/ops.js'

const tmp = mkdtempSync(join(tmpdir(), 'mm-state-'))

describe('state dir resolution (SPEC §1)', () => {
  const cases: Array<[string, string | undefined, NodeJS.ProcessEnv, string, string]> = [
    ['the flag wins', '/x/flag', {MM_STATE_DIR: '/x/env', XDG_STATE_HOME: '/x/xdg', HOME: '/home/u'}, '/x/flag', 'flag'],
    ['then MM_STATE_DIR', undefined, {MM_STATE_DIR: '/x/env', XDG_STATE_HOME: '/x/xdg', HOME: '/home/u'}, '/x/env', 'env MM_STATE_DIR'],
    ['then $XDG_STATE_HOME/mm', undefined, {XDG_STATE_HOME: '/x/xdg', HOME: '/home/u'}, '/x/xdg/mm', 'env XDG_STATE_HOME'],
    ['a relative XDG_STATE_HOME is ignored (XDG spec)', undefined, {XDG_STATE_HOME: 'rel', HOME: '/home/u'}, '/home/u/.local/state/mm', 'home'],
    ['else ~/.local/state/mm', undefined, {HOME: '/home/u'}, '/home/u/.local/state/mm', 'home'],
    ['empty values count as unset', '', {MM_STATE_DIR: '', XDG_STATE_HOME: '', HOME: '/home/u'}, '/home/u/.local/state/mm', 'home'],
  ]
  it.each(cases)('%s', (_name, flag, env, dir, from) => {
    expect(resolveStateDir(flag, env)).toEqual({dir, from})
  })

  it('a relative --state-dir is made absolute against the cwd', () => {
    expect(resolveStateDir('rel/state', {}).dir).toBe(join(process.cwd(), 'rel/state'))
  })
})

describe('state.json', () => {
  it('round-trips and leaves no temp file', () => {
    const dir = join(tmp, 'rt')
    mkdirSync(dir)
    const p = join(dir, 'state.json')
    const s = emptyState('ETHUSDC', true, '2026-01-01T00:00:00.000Z')
    writeStateFile(p, s)
    expect(readStateFile(p)).toEqual(s)
    expect(readdirSync(dir)).toEqual(['state.json'])
  })

  it('no file reads as null', () => {
    expect(readStateFile(join(tmp, 'none.json'))).toBeNull()
  })

  const bad: Array<[string, string, RegExp]> = [
    ['truncated', '{"schema": 1, "symbol": "ETHU', /state file .*bad\.json is corrupt \(not JSON, 29 bytes\)/],
    ['empty', '', /is corrupt \(not JSON: empty\)/],
    ['no schema', '{"symbol": "ETHUSDC"}', /is corrupt \(no schema version\)/],
    ['future schema', '{"schema": 7, "symbol": "ETHUSDC"}', /has schema version 7; this mm reads up to 1/],
    ['missing parts', '{"schema": 1, "symbol": "ETHUSDC"}', /is corrupt \(missing symbol, position, orders or counters\)/],
    // it said 'missing symbol, position, orders or counters' of a file that had them all
    ['schema 0', '{"schema": 0, "symbol": "ETHUSDC", "position": {}, "orders": {}, "counters": {}}', /is corrupt \(schema version 0: mm writes 1 up to 1\)$/],
  ]
  it.each(bad)('%s → an error naming the file, exit 2, file untouched', (_n, text, re) => {
    const p = join(tmp, 'bad.json')
    writeFileSync(p, text)
    let err: unknown
    try {
      readStateFile(p)
    } catch (error) {
      err = error
    }
    expect(err).toBeInstanceOf(StateFileError)
    expect((err as StateFileError).message).toMatch(re)
    expect((err as StateFileError).exitCode).toBe(2)
    expect(readFileSync(p, 'utf8')).toBe(text)
  })

  const edited: Array<[string, (s: ReturnType<typeof emptyState>) => void, string]> = [
    ['a position that is not a number', (s) => (s.position.net = '0.0x1'), 'position.net "0.0x1" is not a decimal number'],
    ['an unrealised PnL that is a JSON number', (s) => ((s.position as unknown as Record<string, unknown>).unrealised = -5), 'position.unrealised -5 is not a decimal number'],
    ['a counter that is a string', (s) => ((s.counters as unknown as Record<string, unknown>).writes = '5'), 'counters.writes "5" is not a count'],
    // a quote appended the next acknowledgement after the string's characters
    ['acknowledgements that are not a list', (s) => ((s.control as unknown as Record<string, unknown>).acks = 'x'), 'control {"acks":"x"} is not {"acks": [...]}'],
    ['an acknowledgement without an id', (s) => ((s.control as unknown as Record<string, unknown>).acks = [{kind: 'halt'}]), 'control.acks holds {"kind":"halt"}, which is not an acknowledgement (no id)'],
    ['a halt end that is not a time', (s) => (s.halt = {kind: 'manual', reason: 'x', by: 'u@h', at: '2026-01-01T00:00:00.000Z', until: 'tomorrow', flatten: false}), 'halt.until "tomorrow" is not a time (an ISO time, or null: until mm resume)'],
    ['a halt kind mm does not know', (s) => (s.halt = {kind: 'panic' as 'manual', reason: 'x', by: 'u@h', at: '2026-01-01T00:00:00.000Z', until: null, flatten: false}), 'halt.kind "panic" is not one of manual, stop_loss, shock, daily_loss, storm'],
    ["a day's PnL that is not a number", (s) => (s.risk.day = {start: '2026-01-01T00:00:00.000Z', startMs: 1_767_225_600_000, pnl: 'lots', pnlUnits: '0'}), 'risk.day.pnl "lots" is not a decimal number'],
    // the cost units are what a restart carries: a bad one silently dropped the day (a live day's loss forgotten)
    ["a live day's cost units that are not whole", (s) => (s.risk.liveDay = {start: '2026-01-01T00:00:00.000Z', startMs: 1_767_225_600_000, pnl: '-20', pnlUnits: '-20.5'}), 'risk.liveDay.pnlUnits "-20.5" is not a whole number (cost units)'],
    ['a live day that is not a day', (s) => ((s.risk as unknown as Record<string, unknown>).liveDay = 5), 'risk.liveDay 5 is not a day'],
  ]
  it.each(edited)('hand-edited: %s → an error naming the file and the field, exit 2, file untouched', (_n, edit, what) => {
    const p = join(tmp, 'edited.json')
    const s = emptyState('ETHUSDC', false, '2026-01-01T00:00:00.000Z')
    edit(s)
    const text = JSON.stringify(s)
    writeFileSync(p, text)
    let err: unknown
    try {
      readStateFile(p)
    } catch (error) {
      err = error
    }
    expect(err).toBeInstanceOf(StateFileError)
    expect(err).toMatchObject({code: 'E_STATE_CORRUPT', exitCode: 2, message: `state file ${p} is corrupt: ${what}`})
    expect(readFileSync(p, 'utf8')).toBe(text)
  })

  it("what mm writes reads back (null marks, a halt until mm resume, a day's PnL); another symbol's file is refused when the symbol is given", () => {
    const p = join(tmp, 'sound.json')
    const s = emptyState('ETHUSDC', false, '2026-01-01T00:00:00.000Z')
    s.position = {...s.position, net: '-0.020', avgCost: null, mark: null, unrealised: '0', total: '-1.5'}
    s.halt = {kind: 'stop_loss', reason: 'x', by: 'mm quote', at: '2026-01-01T00:00:00.000Z', until: null, flatten: true}
    s.risk.day = {start: '2026-01-01T00:00:00.000Z', startMs: 1_767_225_600_000, pnl: '-0.25', pnlUnits: '-25'}
    writeStateFile(p, s)
    expect(readStateFile(p)).toEqual(s)
    expect(readStateFile(p, 'ethusdc')).toEqual(s)
    let err: unknown
    try {
      readStateFile(p, 'BTCUSDT')
    } catch (error) {
      err = error
    }
    expect(err).toBeInstanceOf(StateFileError)
    expect(err).toMatchObject({code: 'E_STATE_SYMBOL', exitCode: 2, message: `state file ${p} is ETHUSDC's, not BTCUSDT's`})
  })

  it('a write that fails (a full disk; here no folder) names the state file and leaves no temp file', async () => {
    const p = join(tmp, 'no-such-folder', 'state.json')
    const s = emptyState('ETHUSDC', true, '2026-01-01T00:00:00.000Z')
    const msg = `cannot write state file ${p}: ENOENT: no such file or directory, open '${join(tmp, 'no-such-folder', `.state.json.tmp-${process.pid}`)}'`
    expect(() => writeStateFile(p, s)).toThrow(msg)
    await expect(writeStateFileAsync(p, s, () => true)).rejects.toThrow(`cannot write state file ${p}: ENOENT: no such file or directory, open '${join(tmp, 'no-such-folder', `.state.json.tmp-${process.pid}-a`)}'`)
  })

  it('temp files of a killed writer are removed, never the state file', () => {
    const dir = join(tmp, 'temps')
    mkdirSync(dir)
    writeFileSync(join(dir, 'state.json'), '{}')
    writeFileSync(join(dir, '.state.json.tmp-123'), '{"half')
    writeFileSync(join(dir, '.state.json.tmp-124-a'), '{"half')
    // a lock's text a start killed while taking it left (a dead pid's), and one a live start is taking it with (kept)
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'}).stdout
    writeFileSync(join(dir, `lock.new-${dead}`), '{}')
    writeFileSync(join(dir, `lock.new-${process.ppid}`), '{}')
    expect(removeStaleTemps(dir)).toBe(3)
    expect(readdirSync(dir).sort()).toEqual([`lock.new-${process.ppid}`, 'state.json'])
  })

  it('the off-loop write renames only when its commit check says so, and leaves no temp file either way', async () => {
    const dir = join(tmp, 'async')
    mkdirSync(dir)
    const p = join(dir, 'state.json')
    const newer = {...emptyState('ETHUSDC', true, '2026-01-01T00:00:02.000Z')}
    writeStateFile(p, newer)
    const older = emptyState('ETHUSDC', true, '2026-01-01T00:00:01.000Z')
    // superseded (a newer state was written meanwhile): dropped
    expect(await writeStateFileAsync(p, older, () => false)).toBe(false)
    expect(readStateFile(p)).toEqual(newer)
    expect(readdirSync(dir)).toEqual(['state.json'])
    // the state is serialised at the call: a change after it is not in this write
    const next = emptyState('ETHUSDC', true, '2026-01-01T00:00:03.000Z')
    const w = writeStateFileAsync(p, next, () => true)
    next.updatedAt = 'changed after the call'
    expect(await w).toBe(true)
    expect(readStateFile(p)?.updatedAt).toBe('2026-01-01T00:00:03.000Z')
    expect(readdirSync(dir)).toEqual(['state.json'])
  })
})

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0'])
  return r.pid as number
}

describe('the lock', () => {
  it('one holder at a time; released, it can be taken again', () => {
    const dir = join(tmp, 'lock1')
    const a = acquireLock(dir, 'quote', 'now')
    expect(a.tookOver).toBeNull()
    expect(() => acquireLock(dir, 'quote', 'now')).toThrow(LockedError)
    expect(() => acquireLock(dir, 'halt', 'now')).toThrow(`mm quote (pid ${process.pid} on ${hostname()}) holds ${join(dir, 'lock')}`)
    a.release()
    expect(existsSync(join(dir, 'lock'))).toBe(false)
    acquireLock(dir, 'quote', 'now').release()
  })

  it('a stale lock (dead pid) is taken over and said so', () => {
    const dir = join(tmp, 'lock2')
    mkdirSync(dir)
    const pid = deadPid()
    writeFileSync(join(dir, 'lock'), JSON.stringify({pid, host: hostname(), command: 'quote', at: 'then'}))
    const l = acquireLock(dir, 'quote', 'now')
    expect(l.tookOver).toEqual({pid, host: hostname(), command: 'quote', at: 'then'})
    expect(JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')).pid).toBe(process.pid)
    l.release()
  })

  it('the lock names the boot and the process start of its holder', () => {
    const dir = join(tmp, 'lock3')
    const l = acquireLock(dir, 'quote', 'now')
    const j = JSON.parse(readFileSync(join(dir, 'lock'), 'utf8'))
    expect(j).toEqual({pid: process.pid, host: hostname(), command: 'quote', at: 'now', boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), start: processStart(process.pid)})
    expect(j.start).toMatch(/^\d+$/)
    l.release()
  })

  // the pid of the lock runs, but it is not the process that took the lock: stale
  const reused: Array<[string, () => {pid: number; boot: string; start: string}]> = [
    ['the pid now runs another process (started at another time)', () => ({pid: process.ppid, boot: bootId() as string, start: String(Number(processStart(process.ppid)) + 1)})],
    ['the lock is of an earlier boot (a reboot; the pid runs again)', () => ({pid: process.ppid, boot: '00000000-0000-0000-0000-000000000000', start: processStart(process.ppid) as string})],
    ['our own pid, of an earlier process (a container restart gives the same pid again)', () => ({pid: process.pid, boot: bootId() as string, start: String(Number(processStart(process.pid)) - 1)})],
  ]
  it.each(reused)('%s → taken over', (_name, make) => {
    const dir = join(tmp, `reuse-${Math.random().toString(36).slice(2)}`)
    mkdirSync(dir)
    const old = {host: hostname(), command: 'quote', at: 'then', ...make()}
    writeFileSync(join(dir, 'lock'), JSON.stringify(old))
    const l = acquireLock(dir, 'quote', 'now')
    expect(l.tookOver).toEqual(old)
    expect(JSON.parse(readFileSync(join(dir, 'lock'), 'utf8'))).toMatchObject({pid: process.pid, start: processStart(process.pid)})
    l.release()
    expect(existsSync(join(dir, 'lock'))).toBe(false)
  })

  it('a lock whose pid runs the very process that took it is held (and one without boot/start: the pid alone decides)', () => {
    const dir = join(tmp, 'lock4')
    mkdirSync(dir)
    const holder = {pid: process.ppid, host: hostname(), command: 'quote', at: 'then', boot: bootId() as string, start: processStart(process.ppid) as string}
    writeFileSync(join(dir, 'lock'), JSON.stringify(holder))
    expect(() => acquireLock(dir, 'halt', 'now')).toThrow(`mm quote (pid ${process.ppid} on ${hostname()}) holds ${join(dir, 'lock')}`)
    writeFileSync(join(dir, 'lock'), JSON.stringify({pid: process.ppid, host: hostname(), command: 'quote', at: 'then'}))
    expect(() => acquireLock(dir, 'halt', 'now')).toThrow(LockedError)
    // and a reused pid reads as no quote to the operator commands: not "hung"
    const s = emptyState('ETHUSDC', true, '2026-01-01T00:00:00.000Z')
    writeFileSync(join(dir, 'lock'), JSON.stringify({...holder, start: String(Number(holder.start) + 1)}))
    expect(liveness(dir, s, Date.parse('2026-01-01T00:00:03.000Z'))).toEqual({kind: 'none'})
    writeFileSync(join(dir, 'lock'), JSON.stringify(holder))
    expect(liveness(dir, s, Date.parse('2026-01-01T00:00:03.000Z'))).toEqual({kind: 'hung', pid: process.ppid, heartbeatAgeMs: null})
  })

  it('liveness: a dead quote whose state says running is "dead"; none when it stopped cleanly', () => {
    const base = join(tmp, 'live')
    const dir = symbolDir(base, 'ETHUSDC')
    mkdirSync(dir, {recursive: true})
    const pid = deadPid()
    const s = emptyState('ETHUSDC', true, '2026-01-01T00:00:00.000Z')
    s.process = {pid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', heartbeat: '2026-01-01T00:00:01.000Z', running: true, runId: 'x', runDir: 'y'}
    writeFileSync(join(dir, 'lock'), JSON.stringify({pid, host: hostname(), command: 'quote', at: 'then'}))
    expect(liveness(dir, s, Date.parse('2026-01-01T00:00:03.000Z'))).toEqual({kind: 'dead', pid, heartbeatAgeMs: 2000})
    s.process.running = false
    expect(liveness(dir, s, Date.parse('2026-01-01T00:00:03.000Z'))).toEqual({kind: 'none'})
    // our own pid as a quote holding the lock: alive while the heartbeat is fresh, hung after
    writeFileSync(join(dir, 'lock'), JSON.stringify({pid: process.pid, host: hostname(), command: 'quote', at: 'then'}))
    s.process = {...s.process, pid: process.pid, running: true}
    expect(liveness(dir, s, Date.parse('2026-01-01T00:00:03.000Z'), 5000)).toEqual({kind: 'alive', pid: process.pid, heartbeatAgeMs: 2000})
    expect(liveness(dir, s, Date.parse('2026-01-01T00:00:07.000Z'), 5000)).toEqual({kind: 'hung', pid: process.pid, heartbeatAgeMs: 6000})
    expect(stateFilePath(base, 'ethusdc')).toBe(join(dir, 'state.json'))
  })
})

describe('control requests', () => {
  it('are read back in the order written; an unreadable one is reported, not skipped', () => {
    const dir = join(tmp, 'ctl')
    const a = writeControlRequest(dir, {kind: 'halt', by: 'u@h', at: 't', reason: 'x'}, 1000)
    const b = writeControlRequest(dir, {kind: 'resume', by: 'u@h', at: 't'}, 1000)
    writeFileSync(join(controlDir(dir), '999999999999999-1-1.json'), '{"half')
    const r = readControlRequests(dir)
    expect(r.map((x) => x.req?.id ?? null)).toEqual([a.id, b.id, null])
  })
})
