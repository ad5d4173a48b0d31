/**
 * A stale lock on a read-only state dir: the takeover's rename fails (EROFS). It read as
 * "mm quote (pid N) holds …/lock" for a pid that is gone, and `mm halt` (which goes on to
 * the venue for any error but a held lock) then cancelled nothing.
 */
import * as fs from 'node:fs'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'
import {spawnSync} from 'node:child_process'
import {describe, expect, it, vi} from 'vitest'

let readOnly = false
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof fs>()
  return {
    ...real,
    renameSync: (from: fs.PathLike, to: fs.PathLike) => {
      if (readOnly) throw Object.assign(new Error(`EROFS: read-only file system, rename '${String(from)}' -> '${String(to)}'`), {code: 'EROFS'})
      return real.renameSync(from, to)
    },
  }
})

const {acquireLock, LockedError} = await import('../../src/lib/state/lock.js')

describe('a stale lock on a read-only state dir', () => {
  it('is an error saying it cannot be taken over (not "held" by the dead pid)', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'mm-lock-ro-')), 'ETHUSDC')
    mkdirSync(dir)
    const pid = spawnSync(process.execPath, ['-e', '0']).pid as number
    writeFileSync(join(dir, 'lock'), JSON.stringify({pid, host: hostname(), command: 'quote', at: 'then'}))
    readOnly = true
    let err: unknown
    try {
      acquireLock(dir, 'halt', 'now')
    } catch (error) {
      err = error
    } finally {
      readOnly = false
    }
    expect(err).not.toBeInstanceOf(LockedError)
    expect(err).toMatchObject({
      code: 'E_LOCK_WRITE',
      exitCode: 1,
      message: `cannot take over the stale lock ${join(dir, 'lock')} of pid ${pid} (no longer running): EROFS: read-only file system, rename '${join(dir, 'lock')}' -> '${join(dir, 'lock')}.stale-${process.pid}'`,
    })
    // writable again: taken over
    const l = acquireLock(dir, 'halt', 'now')
    expect(l.tookOver).toMatchObject({pid})
    l.release()
  })
})
