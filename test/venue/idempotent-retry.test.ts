/**
 * Start-up and stop calls (reads, cancel-all, the countdown, a listenKey) are asked again
 * after a transient venue failure (found by the live 5xx proof: one HTTP 500 on a start-up
 * read stopped the start); a definitive refusal is thrown at once.
 */
import {describe, expect, it} from 'vitest'
import {BinanceApiError, idempotentRetry} from '../../src/lib/venue/binance/errors.js'

const err = (outcome: 'unknown' | 'rejected', kind: 'server' | 'venue' | 'throttled', code: number) =>
  new BinanceApiError({outcome, kind, endpoint: 'GET /fapi/v1/positionSide/dual', message: `HTTP 500 (code ${code})`, venueCode: code, httpStatus: 500})

describe('idempotentRetry', () => {
  it('a 5xx then an answer: the answer, after one more call', async () => {
    let calls = 0
    const v = await idempotentRetry(async () => {
      calls++
      if (calls === 1) throw err('unknown', 'server', -1000)
      return 'ok'
    })
    expect([v, calls]).toEqual(['ok', 2])
  })

  it('gives up after 4 calls with the last error; a definitive refusal at once; any other error at once', async () => {
    let calls = 0
    await expect(idempotentRetry(async () => {
      calls++
      throw err('unknown', 'server', -1001)
    })).rejects.toThrow('code -1001')
    expect(calls).toBe(4)
    calls = 0
    await expect(idempotentRetry(async () => {
      calls++
      throw err('rejected', 'venue', -1102)
    })).rejects.toThrow('code -1102')
    expect(calls).toBe(1)
    calls = 0
    await expect(idempotentRetry(async () => {
      calls++
      throw new Error('bad parameters')
    })).rejects.toThrow('bad parameters')
    expect(calls).toBe(1)
  })
})
