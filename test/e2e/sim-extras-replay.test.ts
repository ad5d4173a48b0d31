/**
 * The market-data routes around trading answer from the trades a replayed recording
 * carries: `mm sim --replay recordings/ETHUSDC --speed max` (the real CLI), then the
 * recording's own trade ids, prices, quantities and sides are read back through
 * /fapi/v1/trades, /aggTrades, /ticker/24hr, /ticker/price and /klines.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ensureBuilt, spawnCli} from '../support/cli.js'
import {repoRoot} from '../support/shared-data.js'
import {getJson, type SimProc, until} from '../support/sim-cli.js'

const DAY = join(repoRoot, 'recordings/ETHUSDC/2026-11-25')
const rows = gunzipSync(readFileSync(join(DAY, '00.trades.csv.gz')))
  .toString()
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => {
    const [, , , , id, side, price, amount] = l.split(',')
    return {id: Number(id), side, price, qty: amount}
  })
const cents = (p: string) => Number(p.replace('.', ''))

let sim: SimProc
beforeAll(async () => {
  ensureBuilt('sim')
  const run = spawnCli(['sim', '--replay', join(repoRoot, 'recordings/ETHUSDC'), '--speed', 'max', '--port', '0', '--json'])
  const [line] = await run.waitFor(/^\{.*"restUrl".*\}$/m)
  const j = JSON.parse(line) as {restUrl: string; wsUrl: string}
  sim = {
    run,
    restUrl: j.restUrl,
    wsUrl: j.wsUrl,
    async stop() {
      if (run.child.exitCode === null) run.child.kill('SIGTERM')
      return (await run.exited).code
    },
  }
})
afterAll(async () => {
  expect(await sim.stop()).toBe(0)
})

describe('mm sim --replay: trades, aggTrades, 24 h ticker, ticker price and klines from the recording', () => {
  it('reads back the recording’s trades exactly', async () => {
    expect(rows.length).toBe(2335)
    // the whole recording is published (at --speed max it takes a moment): wait, bounded, for its last trade
    const day = await until(async () => {
      const b = (await getJson(sim.restUrl, '/fapi/v1/ticker/24hr?symbol=ETHUSDC')).body
      return b.count === rows.length ? b : undefined
    }, 'the last recorded trade', 60_000)
    const last = rows[rows.length - 1]
    const prices = rows.map((r) => cents(r.price))
    const vol = rows.reduce((s, r) => s + Number(r.qty.replace('.', '')), 0)
    expect(day).toMatchObject({
      symbol: 'ETHUSDC',
      firstId: rows[0].id,
      lastId: last.id,
      count: rows.length,
      openPrice: rows[0].price,
      lastPrice: last.price,
      lastQty: last.qty,
      highPrice: rows.find((r) => cents(r.price) === Math.max(...prices))!.price,
      lowPrice: rows.find((r) => cents(r.price) === Math.min(...prices))!.price,
      volume: `${Math.floor(vol / 1000)}.${String(vol % 1000).padStart(3, '0')}`,
    })

    const trades = (await getJson(sim.restUrl, '/fapi/v1/trades?symbol=ETHUSDC&limit=1000')).body as any[]
    expect(trades.map((t) => [t.id, t.price, t.qty, t.isBuyerMaker])).toEqual(rows.slice(-1000).map((r) => [r.id, r.price, r.qty, r.side === 'sell']))

    const agg = (await getJson(sim.restUrl, `/fapi/v1/aggTrades?symbol=ETHUSDC&fromId=${rows[10].id}&limit=3`)).body as any[]
    expect(agg.map((a) => [a.a, a.f, a.l, a.p, a.q, a.m])).toEqual(rows.slice(10, 13).map((r) => [r.id, r.id, r.id, r.price, r.qty, r.side === 'sell']))

    const price = (await getJson(sim.restUrl, '/fapi/v1/ticker/price?symbol=ETHUSDC')).body
    expect(price).toMatchObject({symbol: 'ETHUSDC', price: last.price, time: trades[trades.length - 1].time})

    const klines = (await getJson(sim.restUrl, '/fapi/v1/klines?symbol=ETHUSDC&interval=1m&limit=1500')).body as any[][]
    expect(klines.reduce((s, k) => s + k[8], 0)).toBe(rows.length)
    expect(klines[0][1]).toBe(rows[0].price)
    const withTrades = klines.filter((k) => k[8] > 0)
    expect(withTrades[withTrades.length - 1][4]).toBe(last.price)
  })
})
