/**
 * Crash loss of `mm record` (issue 13): SIGKILL at seeded moments, 10 rounds, at a fixed
 * synthetic message rate. Every closed file is a valid gzip; the newest row on disk is no
 * older than the kill minus the flush interval minus 1 s.
 */
import {readdirSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {mkdtempSync} from 'node:fs'
import {constants, gunzipSync} from 'node:zlib'
import {beforeAll, describe, expect, it} from 'vitest'
import {seededRandom} from '../../src/lib/venue/binance/http.js'
import {ensureBuilt, spawnCli} from '../support/cli.js'
import {HostileVenue} from '../support/hostile-venue.js'

beforeAll(() => ensureBuilt('record'))

const FLUSH_MS = 1000

function files(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...files(p))
    else out.push(p)
  }
  return out
}

/** local_timestamp (µs) of the newest complete row of a gzip file (whole or torn). */
function newestRow(path: string, closed: boolean): number {
  const text = (closed ? gunzipSync(readFileSync(path)) : gunzipSync(readFileSync(path), {finishFlush: constants.Z_SYNC_FLUSH})).toString('utf8')
  const lines = text.split('\n')
  lines.pop() // '' after the last newline, or a torn row
  let newest = 0
  for (const l of lines.slice(1)) newest = Math.max(newest, Number(l.split(',')[3]))
  return newest
}

describe('mm record: SIGKILL loses at most the flush interval', () => {
  it('10 seeded kills at 100 diffs/s: closed files valid, newest row no older than kill − flush − 1 s', async () => {
    const rnd = seededRandom(13)
    const report: string[] = []
    for (let round = 1; round <= 10; round++) {
      const venue = new HostileVenue({seed: round, rateHz: 100})
      const {restUrl, wsUrl} = await venue.start()
      const out = mkdtempSync(join(tmpdir(), 'mm-crash-'))
      const run = spawnCli(['record', '--symbol', 'ETHUSDC', '--out', out, '--rotate', '2s', '--flush', `${FLUSH_MS}ms`], {env: {MM_REST_URL: restUrl, MM_WS_URL: wsUrl}})
      try {
        // wait for the first rows to flow (the first snapshot served), bounded
        for (let i = 0; i < 600 && venue.stats.depth === 0; i++) await new Promise((r) => setTimeout(r, 50))
        expect(venue.stats.depth).toBeGreaterThan(0)
        const killAfter = 1500 + Math.floor(rnd() * 2500)
        await new Promise((r) => setTimeout(r, killAfter)) // the seeded kill moment
        const killMs = Date.now()
        run.child.kill('SIGKILL')
        const {signal} = await run.exited
        expect(signal).toBe('SIGKILL')
        const all = files(out)
        let newest = 0
        for (const f of all.filter((x) => x.endsWith('.csv.gz'))) newest = Math.max(newest, newestRow(f, true)) // closed: must be whole
        for (const f of all.filter((x) => x.endsWith('.csv.gz.partial'))) newest = Math.max(newest, newestRow(f, false))
        const lagMs = killMs - newest / 1000
        report.push(`round ${round}: killed after ${killAfter} ms, newest row ${Math.round(lagMs)} ms before the kill`)
        expect(lagMs).toBeLessThanOrEqual(FLUSH_MS + 1000)
      } finally {
        run.child.kill('SIGKILL')
        await venue.stop()
      }
    }
    process.stderr.write(report.join('\n') + '\n')
  }, 240_000)
})
