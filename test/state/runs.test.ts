import {existsSync, mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {byRunId, discardRunDir, readRunLog, resolveRunLog} from '../../src/lib/state/runs.js'

const start = JSON.stringify({type: 'run_start', t: 1})
const ev = JSON.stringify({type: 'quote', t: 2})

describe('run logs', () => {
  it('reads a log whose last line is torn, and says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-runs-'))
    const p = join(dir, 'events.jsonl')
    writeFileSync(p, `${start}\n${ev}\n{"type":"fi`)
    expect(readRunLog(p)).toEqual({events: [{type: 'run_start', t: 1}, {type: 'quote', t: 2}], tornLastLine: true})
    // a bad line that is not the last is still an error naming it
    writeFileSync(p, `${start}\n{"type":"fi\n${ev}\n`)
    expect(() => readRunLog(p)).toThrow('events.jsonl line 2 is not JSON')
  })

  it('discards a run directory with nothing in it; `last` skips empty logs', () => {
    const state = mkdtempSync(join(tmpdir(), 'mm-runs-'))
    const good = join(state, 'runs', '20260101T000000Z-ETHUSDT-replay')
    const empty = join(state, 'runs', '20260102T000000Z-ETHUSDT-replay')
    mkdirSync(good, {recursive: true})
    mkdirSync(empty, {recursive: true})
    writeFileSync(join(good, 'events.jsonl'), `${start}\n${ev}\n`)
    writeFileSync(join(empty, 'events.jsonl'), '')
    expect(resolveRunLog('last', state)).toBe(join(good, 'events.jsonl'))
    expect(discardRunDir(good)).toBe(false)
    expect(existsSync(good)).toBe(true)
    expect(discardRunDir(empty)).toBe(true)
    expect(existsSync(empty)).toBe(false)
  })

  it("runs started in the same second: the last is the highest number (by name, '-10' came before '-2')", () => {
    const state = mkdtempSync(join(tmpdir(), 'mm-runs-'))
    const ids = ['20261202T003800Z-ETHUSDC-live', '20261202T003800Z-ETHUSDC-live-2', '20261202T003800Z-ETHUSDC-live-10', '20261202T003759Z-ETHUSDC-live-11']
    for (const id of ids) {
      mkdirSync(join(state, 'runs', id), {recursive: true})
      writeFileSync(join(state, 'runs', id, 'events.jsonl'), `${start}\n`)
    }
    expect(resolveRunLog('last', state)).toBe(join(state, 'runs', '20261202T003800Z-ETHUSDC-live-10', 'events.jsonl'))
    expect([...ids].sort(byRunId)).toEqual(['20261202T003759Z-ETHUSDC-live-11', '20261202T003800Z-ETHUSDC-live', '20261202T003800Z-ETHUSDC-live-2', '20261202T003800Z-ETHUSDC-live-10'])
  })
})
