/**
 * A lock holder that has exited but was never reaped by its parent (a zombie: a container's
 * PID 1 without an init, a wrapper that never waits) is dead. kill(pid, 0) still succeeds
 * for a zombie, so its lock was taken as held for good: a restart was refused ("stop the
 * other one"), and `mm status` / `mm halt` took the dead quote for a hung one. Linux only
 * (/proc); elsewhere the pid alone decides, as before.
 */
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {acquireLock, bootId, pidAlive, processStart} from '../../src/lib/state/lock.js'
import {liveness} from '../../src/lib/state/ops.js'

const linux = existsSync('/proc/self/stat')
const parents: Array<() => void> = []

/** the state letter of /proc/<pid>/stat (read here, not by the code under test) */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
  } catch {
    return undefined
  }
}
afterAll(() => parents.forEach((kill) => kill()))

/** a child that exits at once under a parent that never reaps it: its pid, once a zombie */
async function zombie(): Promise<number> {
  // the shell starts `true` in the background, prints its pid and becomes `sleep`, which never waits for it
  const sh = spawn('sh', ['-c', 'true & echo $!; exec sleep 60'], {stdio: ['ignore', 'pipe', 'inherit']})
  parents.push(() => sh.kill('SIGKILL'))
  const pid = await new Promise<number>((resolve, reject) => {
    let out = ''
    sh.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('\n')) resolve(Number(out.trim()))
    })
    sh.on('exit', (code) => reject(new Error(`sh exited ${code} before printing a pid`)))
  })
  // bounded: `true` exits within milliseconds
  for (let i = 0; i < 500 && processState(pid) !== 'Z'; i++) await new Promise((r) => setTimeout(r, 10))
  return pid
}

describe.runIf(linux)('a zombie lock holder is dead (Linux /proc; not run where there is no /proc)', () => {
  it('pidAlive is false for an exited, unreaped pid; its lock is stale: taken over, and the quote reads as dead, not hung', async () => {
    const pid = await zombie()
    expect(processState(pid)).toBe('Z')
    // kill(pid, 0) alone says it runs
    expect(() => process.kill(pid, 0)).not.toThrow()
    expect(pidAlive(pid)).toBe(false)
    expect(pidAlive(process.pid)).toBe(true)

    const dir = join(mkdtempSync(join(tmpdir(), 'mm-lock-zombie-')), 'ETHUSDC')
    mkdirSync(dir, {recursive: true})
    const holder = {pid, host: hostname(), command: 'quote', at: '2026-12-02T03:00:00.000Z', boot: bootId(), start: processStart(pid)}
    writeFileSync(join(dir, 'lock'), JSON.stringify(holder))
    const heartbeat = '2026-12-02T03:00:00.000Z'
    const state = {process: {pid, running: true, heartbeat}} as unknown as Parameters<typeof liveness>[1]
    expect(liveness(dir, state, Date.parse(heartbeat) + 1000)).toEqual({kind: 'dead', pid, heartbeatAgeMs: 1000})
    const l = acquireLock(dir, 'quote', '2026-12-02T03:01:00.000Z')
    expect(l.tookOver).toMatchObject({pid, command: 'quote'})
    l.release()
  })
})
