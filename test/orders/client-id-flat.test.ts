/**
 * Client ids are flat strings (orders/client-id.ts): a template literal of 13 or more
 * characters is a rope (ConsString) in V8, and comparing a rope with the equal string a JSON
 * answer carries goes through V8's runtime (about 5× slower: the batch cancels signed ahead
 * are matched by id on the tick's path, the lifecycle looks every report up by id). Checked
 * in a child node with V8's %HaveSameMap: a string's map is its representation.
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {describe, expect, it} from 'vitest'

const CLIENT_ID = pathToFileURL(join(import.meta.dirname, '../../src/lib/orders/client-id.ts')).href

describe('client ids are flat strings', () => {
  it('formatClientId and the allocator: the map of a flat string, not of a rope; the same text', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-flat-'))
    const file = join(dir, 'flat.mjs')
    writeFileSync(
      file,
      `const {formatClientId, clientIdAllocator, initClientIds} = await import(${JSON.stringify(CLIENT_ID)})
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)')
const a = clientIdAllocator(initClientIds('ethq3k9z'))
const ids = [formatClientId('ethq3k9z', 'b0', 12345), a.next('dyn:BUY'), a.next('dyn:BUY'), a.next('static:SELL')]
// references: a flat string (join) and a rope (a template literal), both 20 characters
const n = Number(process.argv[2])
const flat = ['abcdefghij', String(n)].join('')
const rope = \`abcdefghij\${n}\`
console.log(JSON.stringify({ids, flat: ids.map((s) => sameMap(s, flat)), rope: ids.map((s) => sameMap(s, rope)), refsDiffer: !sameMap(flat, rope)}))
`,
    )
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', file, '1234567890'], {encoding: 'utf8', timeout: 60_000})
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string)
    expect(out).toEqual({
      ids: ['mm-ethq3k9z-b0-9ix', 'mm-ethq3k9z-dyn:BUY-0', 'mm-ethq3k9z-dyn:BUY-1', 'mm-ethq3k9z-static:SELL-0'],
      flat: [true, true, true, true],
      rope: [false, false, false, false],
      refsDiffer: true,
    })
  })
})
