/**
 * Operator-facing fixes through bin/run.js (docs/engine.md "The instrument in a replay",
 * docs/state.md "The state directory", docs/runs.md): each as a user would hit it.
 */
import {existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gunzipSync, gzipSync} from 'node:zlib'
import {beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, runCli, spawnCli} from '../support/cli.js'
import {startLiveSim} from '../support/live-sim.js'
import {repoRoot, sharedData} from '../support/shared-data.js'

const SAMPLE = join(repoRoot, 'recordings/ETHUSDC')
const META = join(SAMPLE, '2026-11-25/00.meta.json')
const tmp = () => mkdtempSync(join(tmpdir(), 'mm-opsfix-'))
const errLine = (cmd: string, stderr: string) => stderr.split('\n').find((l) => l.startsWith(`mm ${cmd}:`)) ?? stderr
const runsIn = (state: string) => (existsSync(join(state, 'runs')) ? readdirSync(join(state, 'runs')) : [])

/** run the CLI; a run that does not end within `ms` is killed and fails the test (the bug was a hang) */
async function bounded(args: string[], ms = 60_000): Promise<{code: number | null; stdout: string; stderr: string}> {
  const r = spawnCli(args)
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((res) => {
    timer = setTimeout(() => res('late'), ms)
  })
  const end = await Promise.race([r.exited, late])
  clearTimeout(timer)
  if (end === 'late') {
    r.child.kill('SIGKILL')
    await r.exited
    throw new Error(`mm ${args[0]} did not end within ${ms} ms; stderr=${r.stderr()}`)
  }
  return {code: end.code, stdout: r.stdout(), stderr: r.stderr()}
}

beforeAll(() => {
  ensureBuilt('quote')
  ensureBuilt('sim')
})

describe('1. --tick-size/--step-size/--min-notional against a recording', () => {
  it('mm quote --replay: a flag that disagrees with meta.json is exit 2 naming both values, no run left', async () => {
    const state = tmp()
    const r = await bounded(['quote', '--dry-run', '--symbol', 'ETHUSDC', '--replay', SAMPLE, '--tick-size', '0.001', '--step-size', '0.001', '--state-dir', state])
    expect(r.code).toBe(2)
    expect(errLine('quote', r.stderr)).toBe(`mm quote: --tick-size 0.001 conflicts with tickSize 0.01 in ${META} (the recording of --replay ${SAMPLE})`)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(runsIn(state)).toEqual([])
    const m = await bounded(['quote', '--dry-run', '--symbol', 'ETHUSDC', '--replay', SAMPLE, '--min-notional', '5', '--state-dir', state])
    expect(m.code).toBe(2)
    expect(errLine('quote', m.stderr)).toBe(`mm quote: --min-notional 5 conflicts with minNotional 20 in ${META} (the recording of --replay ${SAMPLE})`)
  })

  it('mm quote --replay: flags equal in value to meta.json are fine (the instrument is from meta)', async () => {
    const state = tmp()
    const r = await bounded(['quote', '--dry-run', '--symbol', 'ETHUSDC', '--replay', SAMPLE, '--tick-size', '0.010', '--step-size', '0.001', '--min-notional', '20', '--state-dir', state, '--json'])
    expect(r.code).toBe(0)
    const d = JSON.parse(r.stdout).data
    expect(d.instrument).toEqual({symbol: 'ETHUSDC', tickSize: '0.01', stepSize: '0.001', minNotional: '20', from: 'meta'})
    expect(d.summary.quotesPlaced).toBeGreaterThan(0)
  })

  it('mm sim --replay: the same conflict is exit 2', async () => {
    const r = await bounded(['sim', '--replay', SAMPLE, '--step-size', '1', '--port', '0'])
    expect(r.code).toBe(2)
    expect(errLine('sim', r.stderr)).toBe(`mm sim: --step-size 1 conflicts with stepSize 0.001 in ${META} (the recording of --replay ${SAMPLE})`)
    // a raw capture with --tick-size alone: refused, not silently inferred
    const lone = await bounded(['sim', '--replay', sharedData('hftbacktest/examples/usdm/ethusdt_20240808.gz'), '--tick-size', '0.01', '--port', '0'])
    expect(lone.code).toBe(2)
    expect(errLine('sim', lone.stderr)).toBe('mm sim: --tick-size and --step-size go together')
  })

  it('a raw capture whose prices are off the given --tick-size: exit 2 naming a price, not a silent empty run', async () => {
    const dir = tmp()
    const lines = gunzipSync(readFileSync(sharedData('hftbacktest/examples/usdm/ethusdt_20240808.gz'))).toString('utf8').split('\n').slice(0, 3000)
    const f = join(dir, 'head.gz')
    writeFileSync(f, gzipSync(lines.join('\n') + '\n'))
    const state = tmp()
    const r = await bounded(['quote', '--dry-run', '--symbol', 'ETHUSDT', '--replay', f, '--tick-size', '0.1', '--step-size', '0.001', '--state-dir', state])
    expect(r.code).toBe(2)
    expect(errLine('quote', r.stderr)).toMatch(new RegExp(`^mm quote: --replay ${f}: price \\d+\\.\\d*[1-9]\\d* is not a multiple of --tick-size 0\\.1 \\(in the data's first events\\): every such message would be left out$`))
    expect(runsIn(state)).toEqual([])
    // the capture's real grid replays
    const ok = await bounded(['quote', '--dry-run', '--symbol', 'ETHUSDT', '--replay', f, '--tick-size', '0.01', '--step-size', '0.001', '--min-notional', '20', '--state-dir', state, '--json'])
    expect(ok.code).toBe(0)
    expect(JSON.parse(ok.stdout).data.instrument.from).toBe('flags')
  })
})

describe('2. strategy.baseSize below the min notional', () => {
  it('mm quote --dry-run --replay: one note on stderr naming baseSize, the mid, the product and the min notional; the run goes on (exit 0)', async () => {
    const dir = tmp()
    const cfg = join(dir, 'small.json')
    writeFileSync(cfg, JSON.stringify({strategy: {baseSize: '0.005'}}))
    const r = await bounded(['quote', '--dry-run', '--symbol', 'ETHUSDC', '--replay', SAMPLE, '--config', cfg, '--state-dir', join(dir, 'state')])
    expect(r.code).toBe(0)
    const notes = r.stderr.split('\n').filter((l) => l.includes('min notional'))
    expect(notes).toHaveLength(1)
    expect(notes[0]).toMatch(/^note: strategy\.baseSize 0\.005 × (\d+\.\d+) = (\d+\.\d+) is below ETHUSDC's min notional 20: no quote can be placed \(raise baseSize to ≥ 0\.006, which clears it at the bid \d+\.\d{2} too\)$/)
    const [, mid, product] = /× (\S+) = (\S+)/.exec(notes[0])!
    // the product is exact decimal arithmetic (mid in half ticks × 0.005)
    expect(Number(product)).toBeCloseTo(Number(mid) * 0.005, 9)
    // the default baseSize (0.01) is above it: no note
    const ok = await bounded(['quote', '--dry-run', '--symbol', 'ETHUSDC', '--replay', SAMPLE, '--state-dir', join(dir, 'state2')])
    expect(ok.code).toBe(0)
    expect(ok.stderr).not.toMatch(/min notional/)
  })
})

describe('2. (live dry-run against mm sim) strategy.baseSize below the min notional', () => {
  it('mm quote --dry-run on a synthetic DOGEUSDT: the note once the first mid is known, the run goes on, SIGTERM stops it with exit 0', async () => {
    const dir = tmp()
    const sim = await startLiveSim(['--synthetic', '--symbol', 'DOGEUSDT', '--tick-size', '0.00001', '--step-size', '1', '--min-notional', '5', '--start-price', '0.38'])
    try {
      const cfg = join(dir, 'doge.json')
      writeFileSync(cfg, JSON.stringify({strategy: {baseSize: '10'}, risk: {netMax: '100'}}))
      const q = spawnCli(['quote', '--dry-run', '--symbol', 'DOGEUSDT', '--rest-url', sim.restUrl, '--ws-url', sim.wsUrl, '--state-dir', join(dir, 'state'), '--config', cfg])
      try {
        const [line, mid, product, need, bid] = await q.waitFor(/^note: strategy\.baseSize 10 × (0\.\d+) = (\d+\.\d+) is below DOGEUSDT's min notional 5: no quote can be placed \(raise baseSize to ≥ (\d+), which clears it at the bid (0\.\d+) too\)$/m, 'stderr', 90_000)
        expect(line).toContain('DOGEUSDT')
        expect(Number(product)).toBeCloseTo(Number(mid) * 10, 9)
        // the smallest whole size whose notional at the bid the strategy quotes (below the mid) reaches 5
        expect(Number(bid)).toBeLessThan(Number(mid))
        expect(Number(need) * Number(bid)).toBeGreaterThanOrEqual(5 - 1e-9)
        expect((Number(need) - 1) * Number(bid)).toBeLessThan(5)
      } finally {
        q.child.kill('SIGTERM')
      }
      const {code} = await q.exited
      expect(code, q.stderr()).toBe(0)
      expect(q.stderr().split('\n').filter((l) => l.includes('min notional'))).toHaveLength(1)
    } finally {
      await sim.stop()
    }
  }, 180_000)
})

describe('3. a state dir that cannot be made (/proc: Node\'s recursive mkdir never returns there)', () => {
  it.each([
    ['replay', ['--replay', SAMPLE], '/proc/mm-opsfix-nope', '/proc/mm-opsfix-nope/runs'],
    ['dry-run live (the lock first)', [], '/proc/mm-opsfix-nope/x', '/proc/mm-opsfix-nope/x/ETHUSDC'],
  ])('mm quote --dry-run %s --state-dir under /proc: one line naming the folder, exit 2, at once', async (_n, extra, stateDir, made) => {
    const r = await bounded(['quote', '--dry-run', '--symbol', 'ETHUSDC', ...extra, '--state-dir', stateDir], 30_000)
    expect(r.code).toBe(2)
    expect(errLine('quote', r.stderr)).toBe(`mm quote: cannot create ${made}: ENOENT: no such file or directory, mkdir '/proc/mm-opsfix-nope'`)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('mm halt and mm record under /proc: exit 2 too', async () => {
    const h = await bounded(['halt', '--symbol', 'ETHUSDC', '--state-dir', '/proc/mm-opsfix-nope'], 30_000)
    expect(h.code).toBe(2)
    expect(errLine('halt', h.stderr)).toBe("mm halt: cannot create /proc/mm-opsfix-nope/ETHUSDC: ENOENT: no such file or directory, mkdir '/proc/mm-opsfix-nope'")
    const rec = await bounded(['record', '--symbol', 'ETHUSDC', '--out', '/proc/mm-opsfix-nope'], 30_000)
    expect(rec.code).toBe(2)
    expect(errLine('record', rec.stderr)).toBe('mm record: --out /proc/mm-opsfix-nope is not a writable folder (ENOENT)')
  })
})
