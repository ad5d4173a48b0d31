import {mkdtempSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {makeDirs} from '../../src/lib/fs/mkdirs.js'

describe('makeDirs (bounded mkdir -p)', () => {
  it('makes every missing folder, and again is a no-op', () => {
    const base = mkdtempSync(join(tmpdir(), 'mm-mkdirs-'))
    const d = join(base, 'a', 'b', 'c')
    makeDirs(d)
    expect(statSync(d).isDirectory()).toBe(true)
    makeDirs(d)
    expect(statSync(d).isDirectory()).toBe(true)
  })

  it('under /proc: throws ENOENT naming the first folder it could not make (recursive mkdirSync spins there)', () => {
    expect(() => makeDirs('/proc/mm-mkdirs-nope/a/b')).toThrow(/^ENOENT: no such file or directory, mkdir '\/proc\/mm-mkdirs-nope'$/)
  })

  it('under a file: ENOTDIR', () => {
    const base = mkdtempSync(join(tmpdir(), 'mm-mkdirs-'))
    writeFileSync(join(base, 'f'), '')
    expect(() => makeDirs(join(base, 'f', 'x'))).toThrow(/ENOTDIR/)
  })

  it('a file where the folder should be: ENOTDIR naming it (recursive mkdirSync said EEXIST)', () => {
    const base = mkdtempSync(join(tmpdir(), 'mm-mkdirs-'))
    writeFileSync(join(base, 'f'), '')
    expect(() => makeDirs(join(base, 'f'))).toThrow(`ENOTDIR: not a directory, mkdir '${join(base, 'f')}'`)
  })
})
