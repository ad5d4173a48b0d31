/**
 * `mm record` in a terminal that goes away (an ssh session dropped): the kernel sends
 * SIGHUP and every later write to the terminal (the progress line) fails with EIO. Without
 * --log-file the recorder stops as on SIGTERM: its files finished (no `.partial`, gzip
 * whole, meta.json closed). Before, it died at once and left `.partial` files holding
 * everything but the last seconds.
 *
 * The terminal is util-linux `script`; SIGKILL on `script` closes the terminal's master
 * side, as a dropped session does. The recorder writes its pid before it starts (`exec`
 * keeps it) so the test can wait for that process, not for `script`.
 */
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt} from '../support/cli.js'
import {repoRoot} from '../support/shared-data.js'
import {type LiveSim, startLiveSim, waitFor} from '../support/live-sim.js'

let tmp: string
let sim: LiveSim | undefined

beforeAll(async () => {
  ensureBuilt('record')
  ensureBuilt('sim')
  tmp = mkdtempSync(join(tmpdir(), 'mm-rec-hangup-'))
  sim = await startLiveSim(['--synthetic', '--seed', '43'])
})

afterAll(async () => {
  await sim?.stop()
})

const sh = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...filesUnder(p))
    else out.push(p)
  }
  return out.sort()
}

/** Running: /proc lists it and it is not a zombie (an orphan waits for PID 1 to reap it, which a container's may never do). */
const alive = (pid: number) => {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

describe('mm record: its terminal hangs up (SIGHUP, then EIO on every write)', () => {
  it('finishes its files and ends, as on SIGTERM', async () => {
    const s = sim!
    const out = join(tmp, 'out')
    const pidFile = join(tmp, 'record.pid')
    const cmd = [process.execPath, join(repoRoot, 'bin/run.js'), 'record', '--symbol', 'ETHUSDC', '--out', out, '--rest-url', s.restUrl, '--ws-url', s.wsUrl].map(sh).join(' ')
    const term = spawn('script', ['-qfec', `echo $$ > ${sh(pidFile)}; exec ${cmd}`, '/dev/null'], {stdio: ['pipe', 'pipe', 'pipe']})
    let said = ''
    term.stdout.on('data', (d: Buffer) => (said += d.toString()))
    let pid = 0
    try {
      // recording: its progress line on the terminal, and rows in a (still .partial) book file
      await waitFor(() => /recording \d+s .* [1-9]\d* rows/.test(said), `mm record recording in the terminal (output so far: ${said.slice(-300)})`, 60_000)
      await waitFor(() => filesUnder(out).some((f) => f.endsWith('.book.csv.gz.partial') && statSync(f).size > 0), 'a book file being written', 60_000)
      pid = Number(readFileSync(pidFile, 'utf8').trim())
      expect(pid).toBeGreaterThan(0)
      // the terminal goes away
      term.kill('SIGKILL')
      await waitFor(() => !alive(pid), 'the recorder to end', 60_000)
      const files = filesUnder(out)
      expect(files.filter((f) => f.endsWith('.partial'))).toEqual([])
      const gz = files.filter((f) => f.endsWith('.csv.gz'))
      expect(gz.map((f) => f.split('.').slice(-3).join('.')).sort()).toEqual(['book.csv.gz', 'trades.csv.gz'])
      for (const f of gz) expect(spawnSync('gzip', ['-t', f]).status, `gzip -t ${f}`).toBe(0)
      const meta = files.filter((f) => f.endsWith('.meta.json'))
      expect(meta.length).toBe(1)
      expect(JSON.parse(readFileSync(meta[0], 'utf8')).closed).toBe(true)
    } finally {
      if (term.exitCode === null && term.signalCode === null) term.kill('SIGKILL')
      if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL')
    }
  }, 120_000)
})
