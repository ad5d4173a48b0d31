/**
 * The sim's signature verifier against Binance's published vectors (FACTS.md §1.5): it
 * accepts them, in the query, in the body and split between the two, and refuses any
 * other signature with -1022.
 */
import {describe, expect, it} from 'vitest'
import {ApiError, checkTimestamp, requestParams, signatureMatches, verifyRest, wsApiPayload} from '../../src/lib/venue/sim/signing.js'

const SECRET = '2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9'
const PAYLOAD = 'symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943'
const SIG = '3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9'

function code(fn: () => unknown): number | undefined {
  try {
    fn()
  } catch (e) {
    return e instanceof ApiError ? e.code : undefined
  }
  return undefined
}

describe('sim signature verifier', () => {
  it('accepts the futures vector in the query string (Example 1)', () => {
    expect(verifyRest(SECRET, {query: `${PAYLOAD}&signature=${SIG}`, body: ''})).toBe(SIG)
  })

  it('accepts the futures vector in the body (Example 2) and in upper case', () => {
    expect(verifyRest(SECRET, {query: '', body: `${PAYLOAD}&signature=${SIG.toUpperCase()}`})).toBe(SIG.toUpperCase())
  })

  it('accepts the mixed query + body vector exactly as published (Example 3, no & between the parts, the stray space kept)', () => {
    const query = 'symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC'
    const body = 'quantity=1&price=9000&recvWindow=5000&timestamp= 1591702613943&signature=f9d0ae5e813ef6ccf15c2b5a434047a0181cb5a342b903b367ca6d27a66e36f2'
    expect(verifyRest(SECRET, {query, body})).toBe('f9d0ae5e813ef6ccf15c2b5a434047a0181cb5a342b903b367ca6d27a66e36f2')
  })

  it('accepts the spot vectors (same algorithm), including the percent-encoded non-ASCII symbol', () => {
    const s = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j'
    expect(signatureMatches(s, 'symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559', 'c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71')).toBe(true)
    const enc = 'symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559'
    expect(verifyRest(s, {query: `${enc}&signature=e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3`, body: ''})).toBe('e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3')
  })

  it('refuses any other signature with -1022', () => {
    const flipped = SIG.slice(0, -1) + (SIG.endsWith('9') ? '8' : '9')
    expect(code(() => verifyRest(SECRET, {query: `${PAYLOAD}&signature=${flipped}`, body: ''}))).toBe(-1022)
    // a changed parameter, the right signature
    expect(code(() => verifyRest(SECRET, {query: `${PAYLOAD.replace('price=9000', 'price=9001')}&signature=${SIG}`, body: ''}))).toBe(-1022)
    // the wrong secret
    expect(code(() => verifyRest(SECRET.replace('2b', '3b'), {query: `${PAYLOAD}&signature=${SIG}`, body: ''}))).toBe(-1022)
    // not hex / wrong length
    expect(code(() => verifyRest(SECRET, {query: `${PAYLOAD}&signature=xyz`, body: ''}))).toBe(-1022)
    // Example 3 without the space does not match the published hash
    expect(code(() => verifyRest(SECRET, {query: 'symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC', body: 'quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943&signature=f9d0ae5e813ef6ccf15c2b5a434047a0181cb5a342b903b367ca6d27a66e36f2'}))).toBe(-1022)
    // signature not last
    expect(code(() => verifyRest(SECRET, {query: `signature=${SIG}&${PAYLOAD}`, body: ''}))).toBe(-1022)
  })

  it('a request without a signature is -1102', () => {
    expect(code(() => verifyRest(SECRET, {query: PAYLOAD, body: ''}))).toBe(-1102)
  })

  it('the query value wins over the body value', () => {
    expect(requestParams({query: 'a=1&b=2', body: 'b=3&c=4'})).toEqual(new Map([['b', '2'], ['c', '4'], ['a', '1']]))
  })

  it('timestamp: processed iff ts < server + 1000 and server - ts <= recvWindow (default 5000), else -1021', () => {
    const p = (ts: number, rw?: number) => new Map([['timestamp', String(ts)], ...(rw === undefined ? [] : [['recvWindow', String(rw)] as [string, string]])])
    const now = 1_700_000_000_000
    expect(code(() => checkTimestamp(p(now - 5000), now))).toBeUndefined()
    expect(code(() => checkTimestamp(p(now - 5001), now))).toBe(-1021)
    expect(code(() => checkTimestamp(p(now + 999), now))).toBeUndefined()
    expect(code(() => checkTimestamp(p(now + 1000), now))).toBe(-1021)
    expect(code(() => checkTimestamp(p(now - 9000, 10_000), now))).toBeUndefined()
    expect(code(() => checkTimestamp(new Map(), now))).toBe(-1102)
  })

  it('WebSocket API payload: params but signature, sorted by name', () => {
    expect(wsApiPayload({timestamp: 1, apiKey: 'k', symbol: 'X', signature: 's', price: '1.0'})).toBe('apiKey=k&price=1.0&symbol=X&timestamp=1')
  })
})
