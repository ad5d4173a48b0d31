/**
 * A synthetic run event log of any length, written as a stream (never whole in memory):
 * a sample every second with a seeded random-walk mid and own quotes, a fill every
 * `fillEveryS` seconds (alternating sides, 3 in 4 maker), a strategy_adjust every 10 s,
 * an hour of reduce-only every day and a 5-minute halt on day 3. Used by the report
 * tests (a 7-day run) and the bench.
 */
import {once} from 'node:events'
import {createWriteStream} from 'node:fs'

export interface SyntheticRun {
  days: number
  fillEveryS?: number
  seed?: number
  t0?: number
}

export async function writeSyntheticRun(path: string, o: SyntheticRun): Promise<{events: number; fills: number; bytes: number}> {
  const out = createWriteStream(path)
  let seed = o.seed ?? 7
  const rnd = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
    return seed / 2_147_483_648
  }
  const t0 = o.t0 ?? Date.UTC(2026, 10, 1)
  const secs = Math.round(o.days * 86_400)
  const fillEvery = o.fillEveryS ?? 30
  let midTicks = 340_000 // 3400.00
  let pos = 0 // steps of 0.001
  let realisedCents = 0
  let feesMicros = 0
  let events = 0
  let fills = 0
  let bytes = 0
  let buf = ''
  const push = async (line: string) => {
    buf += line + '\n'
    events++
    if (buf.length > 1 << 16) {
      bytes += buf.length
      if (!out.write(buf)) await once(out, 'drain')
      buf = ''
    }
  }
  const price = (ticks: number) => `${Math.floor(ticks / 100)}.${String(ticks % 100).padStart(2, '0')}`
  const qty = (steps: number) => `${steps < 0 ? '-' : ''}${Math.floor(Math.abs(steps) / 1000)}.${String(Math.abs(steps) % 1000).padStart(3, '0')}`
  const money = (n: number, scale: number, digits: number) => `${n < 0 ? '-' : ''}${Math.floor(Math.abs(n) / scale)}.${String(Math.abs(n) % scale).padStart(digits, '0')}`
  await push(JSON.stringify({type: 'run_start', t: t0, symbol: 'ETHUSDC', mode: 'replay', strategy: 'v2', instrument: {tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '20'}, source: 'synthetic'}))
  for (let s = 1; s <= secs; s++) {
    const t = t0 + s * 1000
    midTicks += Math.round((rnd() - 0.5) * 40)
    const day = Math.floor(s / 86_400)
    const sod = s % 86_400
    const risk = day === 3 && sod >= 43_200 && sod < 43_500 ? 'halted' : sod >= 7200 && sod < 10_800 ? 'reduce_only' : 'normal'
    if (s % 10 === 0) await push(JSON.stringify({type: 'strategy_adjust', t, reason: 'quote', riskMode: risk, spread: 0.0004, volatilityFactor: 1 + rnd(), inventoryFactor: pos / 10_000, quoteInterval: 1000}))
    if (s % fillEvery === 0) {
      const side = (s / fillEvery) % 2 === 0 ? 'BUY' : 'SELL'
      const maker = (s / fillEvery) % 4 !== 3
      pos += side === 'BUY' ? 10 : -10
      realisedCents += Math.round((rnd() - 0.45) * 10)
      feesMicros += maker ? -680 : 1700
      fills++
      await push(JSON.stringify({type: 'fill', t, clientOrderId: `mm-s-${s}`, side, price: price(midTicks + (side === 'BUY' ? -5 : 5)), qty: '0.010', maker, fee: maker ? '-0.00068' : '0.0017', position: qty(pos), realised: money(realisedCents, 100, 2)}))
    }
    const unrealCents = Math.round(pos * (rnd() - 0.5))
    await push(JSON.stringify({type: 'sample', t, mid: price(midTicks), bid: price(midTicks - 1), ask: price(midTicks + 1), ownBid: risk === 'normal' || pos < 0 ? price(midTicks - 8) : null, ownAsk: risk === 'normal' || pos > 0 ? price(midTicks + 8) : null, position: qty(pos), realised: money(realisedCents, 100, 2), unrealised: money(unrealCents, 100, 2), fees: money(feesMicros, 1_000_000, 6), risk}))
  }
  await push(JSON.stringify({type: 'run_end', t: t0 + secs * 1000, reason: 'end of data', marketEvents: secs * 40, resyncs: 0}))
  bytes += buf.length
  out.end(buf)
  await once(out, 'close')
  return {events, fills, bytes}
}
