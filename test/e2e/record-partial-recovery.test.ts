/**
 * The recovery of a killed recorder's `.partial` file, run as mm gives it (the hint of the
 * refusal of a `.partial` named directly), on a file whose last row the kill cut short, in
 * a folder whose path holds a space and a quote: the recovered file replays. The recipe was
 * `gzip -dc FILE.partial | gzip > FILE`, which kept the torn row: the replay of the
 * recovered (whole) file stopped at it, `expected 8 columns, got 7`, exit 2 (and a row cut
 * inside its price or amount would have replayed as another number); the paths were not
 * quoted for the shell.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {beforeAll, describe, expect, it, vi} from 'vitest'
import {ensureBuilt, runCli} from '../support/cli.js'

vi.setConfig({testTimeout: 60_000})

const HEADER = 'exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount'

/** a book file's text: a 5-level snapshot, then `diffs` messages of two rows each (a bid and an ask) */
function bookRows(diffs: number): string[] {
  const t0 = 1_764_633_600_000_000
  const row = (t: number, snap: boolean, side: string, price: string, amount: string) => `binance-futures,ETHUSDC,${t},${t + 1000},${snap},${side},${price},${amount}`
  const rows = [HEADER]
  for (let i = 0; i < 5; i++) rows.push(row(t0, true, 'bid', (3000 - i * 0.01).toFixed(2), '1.000'))
  for (let i = 0; i < 5; i++) rows.push(row(t0, true, 'ask', (3000.01 + i * 0.01).toFixed(2), '1.000'))
  for (let k = 1; k <= diffs; k++) {
    const t = t0 + k * 100_000
    rows.push(row(t, false, 'bid', '2999.99', `${k}.000`), row(t, false, 'ask', '3000.02', `${k}.500`))
  }
  return rows
}

beforeAll(() => {
  ensureBuilt('quote')
})

describe("a killed recorder's .partial file, recovered as mm says (CLI)", () => {
  it('leaves the torn last row out: the recovered file replays, every whole message in it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mm-partial-recovery-'))
    const day = join(root, "bob's recordings", 'ETHUSDC', '2026-12-02')
    mkdirSync(day, {recursive: true})
    const partial = join(day, '00.book.csv.gz.partial')
    // 20 whole messages, then the kill: the 21st message's first row whole, its second cut in its price
    const rows = bookRows(21)
    const torn = rows.at(-1)!.slice(0, rows.at(-1)!.lastIndexOf(',') - 3)
    expect(torn.split(',').length).toBe(7)
    // a gzip stream without its end (no trailer), as a SIGKILL leaves it
    const gz = gzipSync([...rows.slice(0, -1), torn].join('\n'))
    writeFileSync(partial, gz.subarray(0, gz.length - 8))

    const state = join(root, 'state')
    const refused = await runCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--replay', partial, '--state-dir', state])
    expect(refused.code).toBe(2)
    const hint = refused.stderr.split('\n')[1]
    const m = /^ {2}hint: wait for the recorder to close it; if it was killed, its rows up to the last flush can be recovered: (.*) \(gzip warns of the torn end\), then remove the \.partial$/.exec(hint)
    expect(m, hint).not.toBeNull()
    const recipe = m![1]
    expect(recipe).toBe(`{ gzip -dc '${day.replace("'", "'\\''")}/00.book.csv.gz.partial'; echo; } | awk 'NR > 1 { print prev } { prev = $0 }' | gzip > '${day.replace("'", "'\\''")}/00.book.csv.gz'`)
    execFileSync('sh', ['-c', `{ ${recipe}; } 2>/dev/null`], {cwd: root})
    rmSync(partial)
    expect(existsSync(join(day, '00.book.csv.gz'))).toBe(true)
    // the recovered file: every row but the torn one
    expect(execFileSync('sh', ['-c', `gzip -dc '00.book.csv.gz'`], {cwd: day, encoding: 'utf8'})).toBe(rows.slice(0, -1).join('\n') + '\n')

    const r = await runCli(['quote', '--symbol', 'ETHUSDC', '--dry-run', '--replay', day, '--state-dir', state, '--tick-size', '0.01', '--step-size', '0.001', '--json'])
    expect(r.code, r.stderr).toBe(0)
    // the snapshot, 20 whole diffs and the first row of the 21st
    expect(JSON.parse(r.stdout).data.summary.marketEvents).toBe(22)
  })
})
