/**
 * `mm sim` is the rehearsal venue an operator runs in a terminal while a quote and flatten
 * point at it. A closed terminal (an ssh session dropped, a window closed) sends SIGHUP and
 * fails every later write with EIO. Before, SIGHUP killed the sim at once, silently: the
 * quote and flatten rehearsing against it lost their venue mid-run. Now it keeps serving
 * (as `mm flatten` does on SIGHUP); SIGINT / SIGTERM / --duration still stop it.
 *
 * The terminal is util-linux `script`; SIGKILL on `script` closes the terminal's master
 * side, as a dropped session does. The sim writes its pid first (`exec` keeps it).
 */
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, spawnCli} from '../support/cli.js'
import {repoRoot} from '../support/shared-data.js'
import {waitFor} from '../support/live-sim.js'

vi.setConfig({testTimeout: 120_000, hookTimeout: 60_000})

let tmp: string

beforeAll(() => {
  ensureBuilt('sim')
  tmp = mkdtempSync(join(tmpdir(), 'mm-sim-hangup-'))
})

const sh = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`

/** Running: /proc lists it and it is not a zombie. */
const alive = (pid: number) => {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

const serverTime = async (restUrl: string) => {
  const r = await fetch(`${restUrl}/fapi/v1/time`)
  return {status: r.status, body: (await r.json()) as {serverTime?: number}}
}

describe('mm sim: SIGHUP does not stop the rehearsal venue', () => {
  it('SIGHUP: it keeps serving; SIGTERM then stops it cleanly (exit 0, "stopped (signal)")', async () => {
    const run = spawnCli(['sim', '--synthetic', '--seed', '7', '--port', '0'], {env: {MM_API_KEY: undefined, MM_API_SECRET: undefined}})
    try {
      const [, restUrl] = await run.waitFor(/^rest (http:\/\/\S+)$/m)
      expect((await serverTime(restUrl)).status).toBe(200)
      run.child.kill('SIGHUP')
      // a few answers after the hangup, each after the signal was delivered (a request goes after it)
      for (let i = 0; i < 5; i++) {
        const r = await serverTime(restUrl)
        expect(r.status).toBe(200)
        expect(typeof r.body.serverTime).toBe('number')
      }
      expect(run.child.exitCode).toBe(null)
      expect(run.child.signalCode).toBe(null)
      run.child.kill('SIGTERM')
      const {code, signal} = await run.exited
      expect({code, signal}).toEqual({code: 0, signal: null})
      expect(run.stdout()).toMatch(/^mm sim: stopped \(signal\); published \d+ events/m)
      expect(run.stderr()).toBe('')
    } finally {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL')
    }
  })

  it('its terminal goes away (SIGHUP, then EIO on every write): it keeps serving until SIGTERM', async () => {
    const pidFile = join(tmp, 'sim.pid')
    const cmd = [process.execPath, join(repoRoot, 'bin/run.js'), 'sim', '--synthetic', '--seed', '7', '--port', '0'].map(sh).join(' ')
    const term = spawn('script', ['-qfec', `echo $$ > ${sh(pidFile)}; exec ${cmd}`, '/dev/null'], {stdio: ['pipe', 'pipe', 'pipe']})
    let said = ''
    term.stdout.on('data', (d: Buffer) => (said += d.toString()))
    let pid = 0
    try {
      const restUrl = await waitFor(() => /^rest (http:\/\/\S+?)\r?$/m.exec(said)?.[1], `mm sim serving in the terminal (output so far: ${said.slice(-300)})`, 60_000)
      pid = Number(readFileSync(pidFile, 'utf8').trim())
      expect(pid).toBeGreaterThan(0)
      term.kill('SIGKILL')
      await waitFor(() => term.exitCode !== null || term.signalCode !== null, 'the terminal to close', 30_000)
      for (let i = 0; i < 5; i++) expect((await serverTime(restUrl)).status).toBe(200)
      expect(alive(pid)).toBe(true)
      // its stop writes the summary to the gone terminal (EIO): dropped, it still ends
      process.kill(pid, 'SIGTERM')
      await waitFor(() => !alive(pid), 'the sim to end on SIGTERM', 30_000)
      await expect(fetch(`${restUrl}/fapi/v1/time`)).rejects.toThrow()
    } finally {
      if (term.exitCode === null && term.signalCode === null) term.kill('SIGKILL')
      if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL')
    }
  })
})
