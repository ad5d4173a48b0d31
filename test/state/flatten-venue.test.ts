/**
 * `mm flatten`'s own rounds (no quote running), against a scripted venue: what is left is the
 * venue's word, asked after a failed order call too — a call that timed out may have filled —
 * and only when the venue cannot be asked is it mm's own count, said so.
 */
import {describe, expect, it} from 'vitest'
import {Instrument} from '../../src/lib/domain/instrument.js'
import {type FlattenVenue, flattenOnVenue} from '../../src/lib/state/flatten-venue.js'
import {BinanceApiError} from '../../src/lib/venue/binance/errors.js'

const inst = new Instrument({symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5'})

/** A venue holding `position`; each IOC goes through `ioc` (which may move the position and/or throw). */
function venue(o: {position: string[]; ioc: (n: number) => {status: string; executedQty: string; avgPrice: string}; positionFails?: boolean}): FlattenVenue & {calls: string[]} {
  const calls: string[] = []
  let reads = 0
  let iocs = 0
  return {
    calls,
    async instrument() {
      return inst
    },
    async depth() {
      return {bids: [['2999.99', '5.000']], asks: [['3000.01', '5.000']]}
    },
    async openOrderIds() {
      return []
    },
    async position() {
      calls.push('position')
      if (o.positionFails && reads > 0) throw new Error('-1001 Internal error; unable to process your request. Please try again.')
      return o.position[Math.min(reads++, o.position.length - 1)]
    },
    async placeIoc(p) {
      calls.push(`ioc ${p.side} ${p.qty}@${p.price}`)
      return o.ioc(++iocs)
    },
    async bookFills() {
      throw new Error('not used')
    },
  }
}

const timeout = () => {
  throw new Error('POST /fapi/v1/order: no answer within 5000 ms (the order is in doubt)')
}

describe('flattenOnVenue: the position left is the venue’s', () => {
  it('an IOC whose call timed out but filled on the venue: the venue says flat → exit 0, the failure said', async () => {
    const v = venue({position: ['0.020', '0'], ioc: timeout})
    const r = await flattenOnVenue({venue: v, inst, maxSlip: 0.002, maxRounds: 3, runTag: 'ftest'})
    // the position read after the unanswered call (it says flat: no next round), then the final one
    expect(v.calls).toEqual(['position', 'ioc SELL 0.020@2999.99', 'position', 'position'])
    expect(r).toMatchObject({positionBefore: '0.020', positionAfter: '0.000', positionAfterFrom: 'venue', exitCode: 0})
    expect(r.final).toBe("flat after 1 order(s) in 1 round(s) (an order call failed: POST /fapi/v1/order: no answer within 5000 ms (the order is in doubt); the venue's position is flat)")
    // in doubt, not refused: it filled (test/e2e/flatten-lost-answer.test.ts)
    expect(r.rounds.map((x) => [x.status, x.filled])).toEqual([['unknown', '0']])
  })

  it('every IOC call unanswered and none filled: each round re-reads the venue and tries again, up to --rounds → exit 1, residual from the venue', async () => {
    const v = venue({position: ['-0.020', '-0.020'], ioc: timeout})
    const r = await flattenOnVenue({venue: v, inst, maxSlip: 0.002, maxRounds: 3, runTag: 'ftest'})
    expect(v.calls).toEqual(['position', 'ioc BUY 0.020@3000.01', 'position', 'ioc BUY 0.020@3000.01', 'position', 'ioc BUY 0.020@3000.01', 'position', 'position'])
    expect(r).toMatchObject({positionAfter: '-0.020', positionAfterFrom: 'venue', exitCode: 1})
    expect(r.final).toBe('venue error: POST /fapi/v1/order: no answer within 5000 ms (the order is in doubt) (3 order calls unanswered); residual 0.020')
    expect(r.rounds.map((x) => [x.round, x.status])).toEqual([[1, 'unknown'], [2, 'unknown'], [3, 'unknown']])
  })

  it('one IOC call unanswered that filled half on the venue: the next round closes what the venue says is left → flat, exit 0 (before: stopped at the lost answer, exit 1)', async () => {
    const v = venue({position: ['0.020', '0.010', '0'], ioc: (n) => (n === 1 ? timeout() : {status: 'FILLED', executedQty: '0.010', avgPrice: '2999.99'})})
    const r = await flattenOnVenue({venue: v, inst, maxSlip: 0.002, maxRounds: 3, runTag: 'ftest'})
    // the second round's size is the venue's 0.010, not the 0.020 the first round sent
    expect(v.calls).toEqual(['position', 'ioc SELL 0.020@2999.99', 'position', 'ioc SELL 0.010@2999.99', 'position'])
    expect(r).toMatchObject({positionAfter: '0.000', positionAfterFrom: 'venue', exitCode: 0})
    expect(r.final).toBe("flat after 2 order(s) in 2 round(s) (an order call failed: POST /fapi/v1/order: no answer within 5000 ms (the order is in doubt); the venue's position is flat)")
    expect(r.rounds.map((x) => [x.round, x.status, x.filled])).toEqual([[1, 'unknown', '0'], [2, 'filled', '0.010']])
  })

  it('an IOC call unanswered and the venue cannot be read after it: stops there → exit 1', async () => {
    const v = venue({position: ['0.020'], positionFails: true, ioc: timeout})
    const r = await flattenOnVenue({venue: v, inst, maxSlip: 0.002, maxRounds: 3, runTag: 'ftest'})
    expect(v.calls).toEqual(['position', 'ioc SELL 0.020@2999.99', 'position', 'position'])
    expect(r).toMatchObject({exitCode: 1, positionAfterFrom: 'own count'})
  })

  it('the venue cannot be asked after the rounds: the residual is mm’s own count, and said to be', async () => {
    const v = venue({position: ['0.020'], positionFails: true, ioc: () => ({status: 'FILLED', executedQty: '0.020', avgPrice: '2999.99'})})
    const r = await flattenOnVenue({venue: v, inst, maxSlip: 0.002, maxRounds: 3, runTag: 'ftest'})
    expect(r).toMatchObject({positionAfter: '0.000', positionAfterFrom: 'own count', exitCode: 0})
    // no order call failed: the final line says only that the venue could not be read
    expect(r.final).toBe("flat after 1 order(s) in 1 round(s) (by mm's own count: the venue's position could not be read: -1001 Internal error; unable to process your request. Please try again.)")
    const v2 = venue({position: ['0.020'], positionFails: true, ioc: timeout})
    const r2 = await flattenOnVenue({venue: v2, inst, maxSlip: 0.002, maxRounds: 3, runTag: 'ftest'})
    expect(r2).toMatchObject({positionAfter: '0.020', positionAfterFrom: 'own count', exitCode: 1})
    expect(r2.final).toBe("venue error: POST /fapi/v1/order: no answer within 5000 ms (the order is in doubt); residual 0.020 (by mm's own count: the venue's position could not be read: -1001 Internal error; unable to process your request. Please try again.)")
  })

  it('filled as asked: the venue is asked once more and agrees', async () => {
    const v = venue({position: ['0.020', '0'], ioc: () => ({status: 'FILLED', executedQty: '0.020', avgPrice: '2999.99'})})
    const r = await flattenOnVenue({venue: v, inst, maxSlip: 0.002, maxRounds: 3, runTag: 'ftest'})
    expect(r).toMatchObject({positionAfter: '0.000', positionAfterFrom: 'venue', exitCode: 0, final: 'flat after 1 order(s) in 1 round(s)', venueError: null})
    expect(r.rounds.map((x) => [x.status, x.filled, x.slippage])).toEqual([['filled', '0.020', '0.00000333333']])
  })
})

describe('flattenOnVenue: a position off the step grid (a step size the venue raised since it was opened)', () => {
  // ETHUSDT's step raised from 0.001 to 0.01: a position of 0.015 is no longer on the grid
  const coarse = new Instrument({symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.01', minQty: '0.01', minNotional: '5'})

  it('closes the part on the grid and leaves the rest as the residual, exit 3: never "flat" while the venue holds 0.005', async () => {
    const v = venue({position: ['0.015', '0.005'], ioc: () => ({status: 'FILLED', executedQty: '0.010', avgPrice: '2999.99'})})
    const r = await flattenOnVenue({venue: v, inst: coarse, maxSlip: 0.002, maxRounds: 3, runTag: 'ftest'})
    // the order is rounded toward zero: never more than the position
    expect(v.calls).toEqual(['position', 'ioc SELL 0.01@2999.99', 'position'])
    expect(r).toMatchObject({positionBefore: '0.015', positionAfter: '0.005', positionAfterFrom: 'venue', exitCode: 3, venueError: null})
    expect(r.final).toBe('residual 0.005 after 1 round(s): less than one step 0.01 of ETHUSDT (LOT_SIZE), which no order can carry; close it on the venue')
  })

  it('a position under one step: no order, exit 3, not "no position"', async () => {
    const v = venue({position: ['-0.004', '-0.004'], ioc: () => ({status: 'FILLED', executedQty: '0', avgPrice: '0'})})
    const r = await flattenOnVenue({venue: v, inst: coarse, maxSlip: 0.002, maxRounds: 3, runTag: 'ftest'})
    expect(v.calls).toEqual(['position', 'position'])
    expect(r).toMatchObject({positionBefore: '-0.004', positionAfter: '-0.004', exitCode: 3, rounds: []})
    expect(r.final).toBe('residual 0.004 after 0 round(s): less than one step 0.01 of ETHUSDT (LOT_SIZE), which no order can carry; close it on the venue')
  })

  it('the venue cannot be asked after the rounds: mm’s own count keeps the part off the grid', async () => {
    const v = venue({position: ['-0.015'], positionFails: true, ioc: () => ({status: 'FILLED', executedQty: '0.010', avgPrice: '3000.01'})})
    const r = await flattenOnVenue({venue: v, inst: coarse, maxSlip: 0.002, maxRounds: 3, runTag: 'ftest'})
    expect(r).toMatchObject({positionBefore: '-0.015', positionAfter: '-0.005', positionAfterFrom: 'own count', exitCode: 1})
    expect(r.final).toBe("residual 0.005 (by mm's own count: the venue's position could not be read: -1001 Internal error; unable to process your request. Please try again.)")
  })

  it('on the grid, the amounts keep the step’s decimals as before', async () => {
    const v = venue({position: ['0.02', '0'], ioc: () => ({status: 'FILLED', executedQty: '0.02', avgPrice: '2999.99'})})
    const r = await flattenOnVenue({venue: v, inst: coarse, maxSlip: 0.002, maxRounds: 3, runTag: 'ftest'})
    expect(r).toMatchObject({positionBefore: '0.02', positionAfter: '0.00', exitCode: 0, final: 'flat after 1 order(s) in 1 round(s)'})
  })
})

describe('flattenOnVenue: within PERCENT_PRICE of the mark', () => {
  const deep = (v: FlattenVenue & {calls: string[]}): FlattenVenue => ({
    ...v,
    async depth() {
      return {bids: [['2999.99', '0.010'], ['2990.00', '5.000']], asks: [['3000.01', '0.010'], ['3010.00', '5.000']]}
    },
  })
  const band = {markPrice: '3000.005', multiplierUp: '1.001', multiplierDown: '0.999'}

  it('a SELL the book would take below mark × down takes only what is inside the floor (rounded up), never below it', async () => {
    const v = venue({position: ['0.020', '0.010'], ioc: () => ({status: 'EXPIRED', executedQty: '0.010', avgPrice: '2999.99'})})
    const calls: string[] = []
    const r = await flattenOnVenue({venue: {...deep(v), async percentPrice(s) { calls.push(s); return band }}, inst, maxSlip: 0.01, maxRounds: 1, runTag: 'ftest'})
    // the worst level needed is 2990.00; the floor 3000.005 × 0.999 = 2997.004995 → 2997.01: the round is
    // planned to the floor, so it sends what the book holds inside it (0.010 @ 2999.99), not the whole
    // 0.020 priced at the floor, half of which could only expire
    expect(v.calls).toEqual(['position', 'ioc SELL 0.010@2999.99', 'position'])
    expect(calls).toEqual(['ETHUSDT'])
    expect(r).toMatchObject({positionAfter: '0.010', exitCode: 3})
    expect(r.final).toBe('residual 0.010 after 1 round(s) within max slippage 0.01 and the PERCENT_PRICE band of the mark')
  })

  it('a BUY above mark × up takes only what is under the cap (rounded down)', async () => {
    const v = venue({position: ['-0.020', '-0.010'], ioc: () => ({status: 'FILLED', executedQty: '0.010', avgPrice: '3000.01'})})
    await flattenOnVenue({venue: {...deep(v), async percentPrice() { return band }}, inst, maxSlip: 0.01, maxRounds: 1, runTag: 'ftest'})
    // 3000.005 × 1.001 = 3003.005005 → 3003.00: only the 0.010 @ 3000.01 is under it
    expect(v.calls).toEqual(['position', 'ioc BUY 0.010@3000.01', 'position'])
  })

  it('a band whose edge is beyond the best price: nothing sent, the final line names the band', async () => {
    const v = venue({position: ['0.020', '0.020'], ioc: () => ({status: 'FILLED', executedQty: '0', avgPrice: '0'})})
    // mark 3010 × 0.999 = 3006.99 > the best bid 2999.99
    const r = await flattenOnVenue({venue: {...deep(v), async percentPrice() { return {...band, markPrice: '3010'} }}, inst, maxSlip: 0.01, maxRounds: 3, runTag: 'ftest'})
    expect(v.calls).toEqual(['position', 'position'])
    expect(r).toMatchObject({positionAfter: '0.020', exitCode: 3, rounds: []})
    expect(r.final).toBe('residual 0.020 after 0 round(s) within max slippage 0.01 and the PERCENT_PRICE band of the mark (nothing in the book within the band: SELL ≥ 3006.99)')
  })

  it('without the band (none listed, or its read failed) the orders go as planned', async () => {
    for (const percentPrice of [async () => null, async () => { throw new Error('-1001') }]) {
      const v = venue({position: ['0.020', '0'], ioc: () => ({status: 'FILLED', executedQty: '0.020', avgPrice: '2995.00'})})
      await flattenOnVenue({venue: {...deep(v), percentPrice}, inst, maxSlip: 0.01, maxRounds: 1, runTag: 'ftest'})
      expect(v.calls).toEqual(['position', 'ioc SELL 0.020@2990.00', 'position'])
    }
  })
})

describe('flattenOnVenue: an IOC refused by PERCENT_PRICE (the mark moved after the band was read)', () => {
  const band = {markPrice: '3000.005', multiplierUp: '1.001', multiplierDown: '0.999'}
  /** as the gateway throws a 400 with Binance's code */
  const refused = (code: -4024 | -4016) => () => {
    const msg = code === -4024 ? 'Price is lower than mark price multiplier floor.' : 'Price is higher than mark price multiplier cap.'
    throw new BinanceApiError({outcome: 'rejected', kind: 'venue', endpoint: 'POST /fapi/v1/order', httpStatus: 400, venueCode: code, venueMsg: msg, message: `POST /fapi/v1/order: HTTP 400: ${msg} (code ${code})`})
  }
  const fill = (qty: string, px: string) => () => ({status: 'FILLED', executedQty: qty, avgPrice: px})

  it('a SELL refused -4024 is recorded rejected with the code, and the next round (depth and band read again) closes: exit 0', async () => {
    const script = [refused(-4024), fill('0.020', '2999.99')]
    const v = venue({position: ['0.020', '0'], ioc: (n) => script[n - 1]()})
    const marks: string[] = []
    const r = await flattenOnVenue({venue: {...v, async percentPrice(s) { marks.push(s); return band }}, inst, maxSlip: 0.002, maxRounds: 3, runTag: 'ftest'})
    expect(v.calls).toEqual(['position', 'ioc SELL 0.020@2999.99', 'ioc SELL 0.020@2999.99', 'position'])
    expect(marks).toEqual(['ETHUSDT', 'ETHUSDT'])
    expect(r.rounds.map((x) => [x.round, x.side, x.qty, x.filled, x.status, x.code, x.reason])).toEqual([
      [1, 'SELL', '0.020', '0', 'rejected', -4024, 'Price is lower than mark price multiplier floor.'],
      [2, 'SELL', '0.020', '0.020', 'filled', undefined, undefined],
    ])
    expect(r).toMatchObject({positionAfter: '0.000', positionAfterFrom: 'venue', exitCode: 0, venueError: null})
    expect(r.final).toBe('flat after 2 order(s) in 2 round(s) (1 order(s) refused by the PERCENT_PRICE band: the mark moved)')
  })

  it('every round refused -4016 up to --rounds: bounded, exit 3 with the residual and the refusals said', async () => {
    const v = venue({position: ['-0.020', '-0.020'], ioc: refused(-4016)})
    const r = await flattenOnVenue({venue: {...v, async percentPrice() { return band }}, inst, maxSlip: 0.002, maxRounds: 2, runTag: 'ftest'})
    expect(v.calls).toEqual(['position', 'ioc BUY 0.020@3000.01', 'ioc BUY 0.020@3000.01', 'position'])
    expect(r.rounds.map((x) => [x.round, x.status, x.code])).toEqual([[1, 'rejected', -4016], [2, 'rejected', -4016]])
    expect(r).toMatchObject({positionAfter: '-0.020', exitCode: 3, venueError: null})
    expect(r.final).toBe('residual 0.020 after 2 round(s) within max slippage 0.002 and the PERCENT_PRICE band of the mark (2 order(s) refused by the band: the mark moved)')
  })

  it('refused while the band could not be read (premiumIndex failed): said as such, not as a moved mark (review7)', async () => {
    const v = venue({position: ['0.020', '0.020'], ioc: refused(-4024)})
    const r = await flattenOnVenue({venue: {...v, async percentPrice() { throw new Error('GET /fapi/v1/premiumIndex: HTTP 503') }}, inst, maxSlip: 0.002, maxRounds: 2, runTag: 'ftest'})
    expect(v.calls).toEqual(['position', 'ioc SELL 0.020@2999.99', 'ioc SELL 0.020@2999.99', 'position'])
    expect(r.rounds.map((x) => [x.round, x.status, x.code])).toEqual([[1, 'rejected', -4024], [2, 'rejected', -4024]])
    expect(r).toMatchObject({positionAfter: '0.020', exitCode: 3, venueError: null})
    expect(r.final).toBe('residual 0.020 after 2 round(s) within max slippage 0.002 (2 order(s) refused by PERCENT_PRICE: the mark could not be read (GET /fapi/v1/premiumIndex: HTTP 503))')
  })

  it('refused with no band known for the symbol (no PERCENT_PRICE filter listed): said as such', async () => {
    const v = venue({position: ['0.020', '0.020'], ioc: refused(-4024)})
    const r = await flattenOnVenue({venue: {...v, async percentPrice() { return null }}, inst, maxSlip: 0.002, maxRounds: 1, runTag: 'ftest'})
    expect(r.rounds.map((x) => [x.round, x.status, x.code])).toEqual([[1, 'rejected', -4024]])
    expect(r.final).toBe('residual 0.020 after 1 round(s) within max slippage 0.002 (1 order(s) refused by PERCENT_PRICE: no band was known (the symbol lists no PERCENT_PRICE filter))')
  })

  it('any other refusal still stops at once: exit 1, venue error', async () => {
    const other = () => {
      throw new BinanceApiError({outcome: 'rejected', kind: 'venue', endpoint: 'POST /fapi/v1/order', httpStatus: 400, venueCode: -2022, venueMsg: 'ReduceOnly Order is rejected.', message: 'POST /fapi/v1/order: HTTP 400: ReduceOnly Order is rejected. (code -2022)'})
    }
    const v = venue({position: ['0.020', '0.020'], ioc: other})
    const r = await flattenOnVenue({venue: {...v, async percentPrice() { return band }}, inst, maxSlip: 0.002, maxRounds: 3, runTag: 'ftest'})
    expect(v.calls).toEqual(['position', 'ioc SELL 0.020@2999.99', 'position'])
    expect(r).toMatchObject({exitCode: 1})
    expect(r.final).toBe('venue error: POST /fapi/v1/order: HTTP 400: ReduceOnly Order is rejected. (code -2022); residual 0.020')
  })
})
