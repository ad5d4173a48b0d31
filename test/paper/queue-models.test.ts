import {describe, expect, it} from 'vitest'
import {ConservativeQueue, logProb, makeQueueModel, powerProb, ProbQueue} from '../../src/lib/venue/paper/index.js'
import {depth, place, setup, trade} from './helpers.js'

describe('level decreases (cancels): conservative vs probabilistic', () => {
  it('conservative only caps front at the new level quantity', () => {
    const m = new ConservativeQueue()
    const q = m.join(10)
    m.depth(q, 10, 20) // 10 join behind us
    expect(q.front).toBe(10)
    m.depth(q, 20, 14) // 6 cancel: assumed behind us
    expect(q.front).toBe(10)
    m.depth(q, 14, 6) // the level is now smaller than what was ahead
    expect(q.front).toBe(6)
    m.trade(q, 2)
    expect(q.front).toBe(4)
  })

  it('probabilistic x²: with as much ahead as behind, half the cancels are ahead (exact)', () => {
    const m = new ProbQueue(powerProb(2))
    const q = m.join(10)
    m.depth(q, 10, 20)
    expect(q.front).toBe(10) // growth does not move front
    m.depth(q, 20, 14) // chg 6, front 10, back 10, p = 0.5 → 10 − 3 + min(10 − 3, 0)
    expect(q.front).toBe(7)
  })

  it('probabilistic log(1+x): same symmetric case gives the same exact 7', () => {
    const m = new ProbQueue(logProb(0.001))
    const q = m.join(10)
    m.depth(q, 10, 20)
    m.depth(q, 20, 14)
    expect(q.front).toBe(7)
  })

  it('probabilistic does not count a trade twice when the depth update reflects it', () => {
    const prob = new ProbQueue(powerProb(2))
    const cons = new ConservativeQueue()
    const p = prob.join(10)
    const c = cons.join(10)
    for (const [m, q] of [[prob, p], [cons, c]] as const) {
      m.depth(q, 10, 16) // 6 behind
      m.trade(q, 4) // front 6
      m.depth(q, 16, 12) // the trade shows up in depth: chg = 4 − 4 = 0
    }
    expect([p.front, c.front]).toEqual([6, 6])
    prob.depth(p, 12, 8) // front 6, back 6, chg 4 → 6 − 2 + min(6 − 2, 0) = 4
    cons.depth(c, 12, 8)
    expect([p.front, c.front]).toEqual([4, 6])
  })

  it('probabilistic x², asymmetric: front 2, back 6, chg 4 follows the documented formula', () => {
    const m = new ProbQueue(powerProb(2))
    const q = m.join(2)
    m.depth(q, 2, 8)
    m.depth(q, 8, 4)
    const p = 36 / (36 + 4)
    expect(q.front).toBe(Math.min(4, 2 - (1 - p) * 4 + Math.min(6 - p * 4, 0)))
    expect(q.front).toBeGreaterThan(1.5)
    expect(q.front).toBeLessThan(1.7)
  })

  it('probabilistic log(1+x) applies f to base-asset quantity (steps × stepSize)', () => {
    const m = makeQueueModel('prob-log', {logUnit: 0.001})
    const q = m.join(2)
    m.depth(q, 2, 8)
    m.depth(q, 8, 4)
    const f = (x: number) => Math.log1p(x * 0.001)
    const p = f(6) / (f(6) + f(2))
    expect(q.front).toBe(Math.min(4, 2 - (1 - p) * 4 + Math.min(6 - p * 4, 0)))
  })

  it('when the level empties by cancels the order is at the front, never filled', () => {
    const m = new ProbQueue(powerProb(2))
    const q = m.join(4)
    m.depth(q, 4, 5)
    m.depth(q, 5, 0)
    expect(q.front).toBe(0)
  })
})

describe('queue models through the venue', () => {
  const run = (queueModel: 'conservative' | 'prob-power' | 'prob-log') => {
    const {venue, sendAt, all} = setup({config: {queueModel}})
    sendAt(100, place('b1', 'BUY', '1999.99', '0.005')) // front 10
    venue.advanceTo(110)
    venue.onMarket(depth(120, [['1999.99', '0.020']], []))
    venue.onMarket(depth(130, [['1999.99', '0.014']], []))
    const front = venue.order('b1')?.front
    all()
    return {venue, front, all}
  }

  it('conservative keeps front 10, prob-power and prob-log move it to 7', () => {
    expect(run('conservative').front).toBe(10)
    expect(run('prob-power').front).toBe(7)
    expect(run('prob-log').front).toBe(7)
  })

  it('a fractional front fills only whole steps (rounded down)', () => {
    const {venue, sendAt, all} = setup({config: {queueModel: 'prob-power'}})
    venue.onMarket(depth(50, [['1999.99', '0.004']], []))
    sendAt(100, place('b1', 'BUY', '1999.99', '0.005')) // front 4
    venue.advanceTo(110)
    all()
    venue.onMarket(depth(120, [['1999.99', '0.008']], []))
    venue.onMarket(depth(130, [['1999.99', '0.005']], [])) // chg 3, p 0.5 → 4 − 1.5 + 0 = 2.5
    expect(venue.order('b1')?.front).toBe(2.5)
    venue.onMarket(trade(140, 'sell', '1999.99', '0.003')) // front −0.5: nothing whole to fill
    expect(all()).toEqual([])
    expect(venue.order('b1')?.front).toBe(-0.5)
    venue.onMarket(trade(150, 'sell', '1999.99', '0.001')) // front −1.5 → fill 1, −0.5 left
    expect(all()).toMatchObject([{type: 'fill', fill: {qty: 1, maker: true}, leaves: 4}])
    expect(venue.order('b1')?.front).toBe(-0.5)
  })
})
