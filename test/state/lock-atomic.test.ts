/**
 * The lock appears whole. Created empty (O_EXCL) and written after, it could be read empty
 * in between, which reads as a dead holder's (pid 0): a second start at that moment took
 * it over and both held it. Now its text is written to a file of the process first and
 * linked as the lock; where the file system has no hard links, the exclusive create remains.
 */
import * as fs from 'node:fs'
import {mkdtempSync, readdirSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it, vi} from 'vitest'

/** what the lock held the moment it appeared (read right after link(2)) */
const seen: string[] = []
let noLinks = false
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof fs>()
  return {
    ...real,
    linkSync: (from: fs.PathLike, to: fs.PathLike) => {
      if (noLinks) throw Object.assign(new Error(`EPERM: operation not permitted, link '${String(from)}' -> '${String(to)}'`), {code: 'EPERM'})
      real.linkSync(from, to)
      seen.push(real.readFileSync(to, 'utf8'))
    },
  }
})

const {acquireLock, LockedError} = await import('../../src/lib/state/lock.js')

describe('the lock is never seen empty', () => {
  it('it appears with its holder in it (linked from a file written first), and that file is gone after', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'mm-lock-atomic-')), 'ETHUSDC')
    seen.length = 0
    const l = acquireLock(dir, 'quote', '2026-12-02T00:00:00.000Z')
    expect(seen).toHaveLength(1)
    expect(JSON.parse(seen[0])).toMatchObject({pid: process.pid, command: 'quote', at: '2026-12-02T00:00:00.000Z'})
    expect(readFileSync(join(dir, 'lock'), 'utf8')).toBe(seen[0])
    expect(readdirSync(dir)).toEqual(['lock'])
    // a second taker finds it held, and leaves no file of its own
    expect(() => acquireLock(dir, 'halt', 'now')).toThrow(LockedError)
    expect(readdirSync(dir)).toEqual(['lock'])
    l.release()
    expect(readdirSync(dir)).toEqual([])
  })

  it('a file system without hard links: the exclusive create, written, released', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'mm-lock-atomic-')), 'ETHUSDC')
    noLinks = true
    try {
      const l = acquireLock(dir, 'quote', 'now')
      expect(JSON.parse(readFileSync(join(dir, 'lock'), 'utf8'))).toMatchObject({pid: process.pid, command: 'quote'})
      expect(readdirSync(dir)).toEqual(['lock'])
      expect(() => acquireLock(dir, 'halt', 'now')).toThrow(LockedError)
      l.release()
      expect(readdirSync(dir)).toEqual([])
    } finally {
      noLinks = false
    }
  })
})
