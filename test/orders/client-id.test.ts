import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {CLIENT_ID_RE, clientIdAllocator, initClientIds, isOwnClientId, nextClientId, parseClientId, slotCode} from '../../src/lib/orders/client-id.js'

describe('client order ids', () => {
  it('has the mm- prefix, run id, slot and a base-36 per-slot sequence', () => {
    let s = initClientIds('r1')
    const a = nextClientId(s, 'dyn:BUY:0')
    expect(a.id).toBe('mm-r1-dyn:BUY:0-0')
    s = a.state
    const b = nextClientId(s, 'dyn:BUY:0')
    expect(b.id).toBe('mm-r1-dyn:BUY:0-1')
    const c = nextClientId(b.state, 'dyn:SELL:0')
    expect(c.id).toBe('mm-r1-dyn:SELL:0-0')
    expect(c.state.seq).toEqual({'dyn:BUY:0': 2, 'dyn:SELL:0': 1})
    // the input state is not mutated
    expect(s.seq).toEqual({'dyn:BUY:0': 1})
  })

  it('is deterministic: the same run and slot sequence give the same ids', () => {
    const run = () => {
      const a = clientIdAllocator(initClientIds('replay'))
      return ['dyn:BUY:0', 'dyn:SELL:0', 'dyn:BUY:0', 'static:SELL:0'].map((s) => a.next(s))
    }
    expect(run()).toEqual(run())
    expect(run()).toEqual(['mm-replay-dyn:BUY:0-0', 'mm-replay-dyn:SELL:0-0', 'mm-replay-dyn:BUY:0-1', 'mm-replay-static:SELL:0-0'])
  })

  it('hashes long or lossy slots, never emitting a - inside a field', () => {
    expect(slotCode('flatten:SELL:12')).toMatch(/^h[0-9a-z]+$/)
    expect(slotCode('a-b')).toMatch(/^h[0-9a-z]+$/)
    expect(slotCode('a-b')).not.toBe(slotCode('a_b'))
    expect(slotCode('')).toMatch(/^h/)
    const id = clientIdAllocator(initClientIds('x')).next('a very long slot name with spaces')
    expect(parseClientId(id)).toEqual({runId: 'x', slotCode: slotCode('a very long slot name with spaces'), seq: 0})
  })

  it('refuses a run id that would not fit or not parse', () => {
    expect(() => initClientIds('toolong123')).toThrow(/run id/)
    expect(() => initClientIds('a-b')).toThrow(/run id/)
    expect(() => initClientIds('')).toThrow(/run id/)
  })

  it('recognises our ids and not others', () => {
    expect(isOwnClientId('mm-r1-dyn:BUY:0-z')).toBe(true)
    expect(isOwnClientId('mm-r1-dyn:BUY:0-z', 'r1')).toBe(true)
    expect(isOwnClientId('mm-r1-dyn:BUY:0-z', 'r2')).toBe(false)
    expect(isOwnClientId('autoclose-123')).toBe(false)
    expect(isOwnClientId('web_abc')).toBe(false)
    expect(isOwnClientId('mm-r1-dyn')).toBe(false)
    expect(parseClientId('mm-r1-dyn:BUY:0-10')).toEqual({runId: 'r1', slotCode: 'dyn:BUY:0', seq: 36})
  })

  it('property: every id is valid for Binance, parses back, and ids never repeat within a run', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9]{1,8}$/),
        fc.array(fc.oneof(fc.string({maxLength: 40}), fc.constantFrom('dyn:BUY:0', 'dyn:SELL:0', 'static:BUY:0', 'reduce:SELL', 'a-b', 'a_b', '__proto__', 'constructor', 'toString')), {minLength: 1, maxLength: 60}),
        (run, slots) => {
          const a = clientIdAllocator(initClientIds(run))
          const seen = new Set<string>()
          for (const s of slots) {
            const id = a.next(s)
            expect(id).toMatch(CLIENT_ID_RE)
            expect(id.length).toBeLessThanOrEqual(36)
            expect(id.startsWith('mm-')).toBe(true)
            expect(parseClientId(id)?.runId).toBe(run)
            expect(seen.has(id)).toBe(false)
            seen.add(id)
          }
        },
      ),
      {numRuns: 2000},
    )
  })

  it('property: the largest sequence still fits in 36 characters', () => {
    const s = {runId: 'ABCDEFGH', seq: {'abcdefghijklmn': 36 ** 9 - 1}}
    const {id} = nextClientId(s, 'abcdefghijklmn')
    expect(id).toHaveLength(36)
    expect(id).toMatch(CLIENT_ID_RE)
    expect(() => nextClientId({runId: 'A', seq: {x: 36 ** 9}}, 'x')).toThrow(/overflow/)
  })
})
