/**
 * Byte scanner for Binance depth messages: walks the JSON text once and turns price and
 * quantity strings straight into integer ticks and steps in a LevelBatch, without
 * building objects or strings. It understands:
 *   - a combined-stream envelope `{"stream":..,"data":{..}}` or a bare payload,
 *   - `depthUpdate` (E, T, U, u, pu, b, a) and the REST snapshot (lastUpdateId, E, T,
 *     bids, asks), in any key order, with any other keys skipped,
 *   - `trade` / `aggTrade` (E, T, p, q, m; `e` first, as Binance sends it): TRADE, the
 *     price in ticks and the quantity in steps, the aggressor side from `m`,
 *   - the symbol `s` (compare with `symbolIs`, no string made),
 *   - any other message (`"e"` not one of these, e.g. bookTicker): reported as OTHER
 *     right after the `e` field.
 * Anything it does not expect (string escapes, odd syntax) is reported as FALLBACK so
 * the caller can use JSON.parse and the general path; a malformed or off-grid level is
 * BAD (`error` says why). The result is the same book as the JSON.parse path; the tests
 * hold it to that on real captures.
 */
import type {Instrument} from '../domain/instrument.js'
import {LevelBatch} from './levels.js'
import {type DepthResult, type DepthSync, NO_ID} from './sync.js'

export const SCAN_OTHER = 0
export const SCAN_DEPTH = 1
export const SCAN_SNAPSHOT = 2
export const SCAN_TRADE = 3
export const SCAN_FALLBACK = -1
export const SCAN_BAD = -2
export type ScanCode = typeof SCAN_OTHER | typeof SCAN_DEPTH | typeof SCAN_SNAPSHOT | typeof SCAN_TRADE | typeof SCAN_FALLBACK | typeof SCAN_BAD

const QUOTE = 34
const COMMA = 44
const COLON = 58
const LBRACK = 91
const RBRACK = 93
const LBRACE = 123
const RBRACE = 125
const BSLASH = 92
const DOT = 46
const D0 = 48
const D9 = 57

/** thrown internally to unwind; never escapes scan() */
class Bail {
  constructor(readonly code: ScanCode, readonly why: string) {}
}
const FALLBACK = (why: string) => new Bail(SCAN_FALLBACK, why)

export class DepthScanner {
  readonly batch = new LevelBatch(256)
  // header of the last scanned message (NO_ID when absent)
  E = NO_ID
  T = NO_ID
  U = NO_ID
  u = NO_ID
  pu = NO_ID
  lastUpdateId = NO_ID
  /** trade of the last TRADE scan: price (ticks), quantity (steps), aggressor side */
  price = 0
  qty = 0
  side: 'buy' | 'sell' = 'buy'
  /** why the last scan was BAD or FALLBACK */
  error = ''
  /** the last scan was of a depthUpdate / a trade (also when it ended BAD) */
  isDepth = false
  isTrade = false

  private s = ''
  private i = 0
  private symStart = -1
  private symLen = -1
  private seen = 0
  /** the message's event type is one the scanner does not read: stop (no throw: most lines are such) */
  private other = false
  private readonly pDec: number
  private readonly pUnit: number
  private readonly qDec: number
  private readonly qUnit: number

  constructor(readonly instrument: Instrument) {
    this.pDec = instrument.priceDecimals
    this.pUnit = instrument.tickUnits
    this.qDec = instrument.qtyDecimals
    this.qUnit = instrument.stepUnits
  }

  /** true when the last message named no symbol (a REST snapshot) or named `symbol` */
  symbolIs(symbol: string): boolean {
    return this.symLen < 0 || (this.symLen === symbol.length && this.s.startsWith(symbol, this.symStart))
  }

  /** the last message named a symbol (`s`); a REST snapshot names none */
  get named(): boolean {
    return this.symLen >= 0
  }

  /** venue time in µs: T where present, else E (NO_ID when neither) */
  get ts(): number {
    return this.T !== NO_ID ? this.T * 1000 : this.E !== NO_ID ? this.E * 1000 : NO_ID
  }

  /** Scan one JSON message starting at `start` (e.g. after a capture's timestamp column). */
  scan(s: string, start = 0): ScanCode {
    this.s = s
    this.i = start
    this.E = this.T = this.U = this.u = this.pu = this.lastUpdateId = NO_ID
    this.isDepth = false
    this.isTrade = false
    this.other = false
    this.symStart = this.symLen = -1
    this.seen = 0
    this.error = ''
    this.batch.reset()
    try {
      this.object(0)
      if (this.other) return SCAN_OTHER
    } catch (e) {
      if (e instanceof Bail) {
        this.error = e.why
        return e.code
      }
      throw e
    }
    if (this.isDepth) {
      if (this.u === NO_ID || this.U === NO_ID) return this.bad('depthUpdate without U/u')
      return SCAN_DEPTH
    }
    if (this.isTrade) {
      if (this.seen !== 7) {
        this.error = 'trade without p, q or m'
        return SCAN_FALLBACK
      }
      return SCAN_TRADE
    }
    if (this.lastUpdateId !== NO_ID) return SCAN_SNAPSHOT
    return SCAN_OTHER
  }

  /**
   * Scan a message and hand it to the sync: depth → onDepthLevels, snapshot →
   * onSnapshotLevels, bad level → counted resync. Returns 'ignored' for other messages
   * and 'fallback' when the caller must use JSON.parse + `sync.feed` instead.
   */
  feed(sync: DepthSync, s: string, start = 0, recvUs?: number): DepthResult | 'ignored' | 'fallback' {
    const code = this.scan(s, start)
    switch (code) {
      case SCAN_DEPTH: {
        const ts = this.ts
        return sync.onDepthLevels(this.U, this.u, this.pu, ts, this.batch, recvUs ?? ts)
      }
      case SCAN_SNAPSHOT: {
        const ts = this.ts
        return sync.onSnapshotLevels(this.lastUpdateId, ts, this.batch, recvUs ?? ts)
      }
      case SCAN_BAD:
        return this.isTrade ? 'ignored' : sync.onBadMessage(this.error)
      case SCAN_FALLBACK:
        return 'fallback'
      default:
        return 'ignored'
    }
  }

  // ---- JSON walking ------------------------------------------------------------

  private bad(why: string): ScanCode {
    this.error = why
    return SCAN_BAD
  }

  private ws(): number {
    const s = this.s
    let i = this.i
    let c = s.charCodeAt(i)
    while (c === 32 || c === 10 || c === 13 || c === 9) c = s.charCodeAt(++i)
    this.i = i
    return c
  }

  private expect(ch: number): void {
    if (this.ws() !== ch) throw FALLBACK(`expected '${String.fromCharCode(ch)}' at ${this.i}`)
    this.i++
  }

  /** an object; nesting 0 = top level, 1 = the envelope's data */
  private object(nesting: number): void {
    this.expect(LBRACE)
    const s = this.s
    if (this.ws() === RBRACE) {
      this.i++
      return
    }
    for (;;) {
      this.expect(QUOTE)
      const ks = this.i
      let i = ks
      let c = s.charCodeAt(i)
      while (c !== QUOTE) {
        if (c === BSLASH || Number.isNaN(c)) throw FALLBACK('escape in key')
        c = s.charCodeAt(++i)
      }
      const kl = i - ks
      this.i = i + 1
      this.expect(COLON)
      this.value(ks, kl, nesting)
      if (this.other) return
      const d = this.ws()
      this.i++
      if (d === COMMA) continue
      if (d === RBRACE) return
      throw FALLBACK(`expected ',' or '}' at ${this.i - 1}`)
    }
  }

  private value(ks: number, kl: number, nesting: number): void {
    const s = this.s
    const k0 = s.charCodeAt(ks)
    if (kl === 1) {
      switch (k0) {
        case 69: this.E = this.int(); return // E
        case 84: this.T = this.int(); return // T
        case 85: this.U = this.int(); return // U
        case 117: this.u = this.int(); return // u
        case 101: this.eventType(); return // e
        case 115: this.symbol(); return // s
        case 112: if (this.isTrade) { this.expect(QUOTE); this.price = this.decimal(this.pDec, this.pUnit, 'price'); this.seen |= 1; return } break // p
        case 113: if (this.isTrade) { this.expect(QUOTE); this.qty = this.decimal(this.qDec, this.qUnit, 'quantity'); this.seen |= 2; return } break // q
        case 109: if (this.isTrade) { this.side = this.bool() ? 'sell' : 'buy'; this.seen |= 4; return } break // m: buyer is maker → the seller took
        case 98: if (this.ws() === LBRACK) { this.levels(true); return } break // b
        case 97: if (this.ws() === LBRACK) { this.levels(false); return } break // a
      }
    } else if (kl === 2) {
      if (k0 === 112 && s.charCodeAt(ks + 1) === 117) { this.pu = this.int(); return } // pu
    } else if (kl === 4) {
      if (k0 === 100 && s.startsWith('data', ks) && nesting === 0 && this.ws() === LBRACE) { this.object(1); return }
      if (k0 === 98 && s.startsWith('bids', ks)) { this.levels(true); return }
      if (k0 === 97 && s.startsWith('asks', ks)) { this.levels(false); return }
    } else if (kl === 12) {
      if (k0 === 108 && s.startsWith('lastUpdateId', ks)) { this.lastUpdateId = this.int(); return }
    }
    this.skip()
  }

  /** "e": only depthUpdate continues; anything else ends the scan as OTHER */
  private eventType(): void {
    this.expect(QUOTE)
    const s = this.s
    const i = this.i
    if (s.startsWith('depthUpdate"', i)) {
      this.isDepth = true
      this.i = i + 12
      return
    }
    if (s.startsWith('trade"', i)) {
      this.isTrade = true
      this.i = i + 6
      return
    }
    if (s.startsWith('aggTrade"', i)) {
      this.isTrade = true
      this.i = i + 9
      return
    }
    this.other = true
  }

  /** "s": the span of the symbol string (no escapes expected) */
  private symbol(): void {
    this.expect(QUOTE)
    const s = this.s
    const start = this.i
    const end = s.indexOf('"', start)
    if (end < 0 || s.charCodeAt(end - 1) === BSLASH) throw FALLBACK('odd symbol string')
    this.symStart = start
    this.symLen = end - start
    this.i = end + 1
  }

  /** a JSON true/false */
  private bool(): boolean {
    const c = this.ws()
    const s = this.s
    if (c === 116 && s.startsWith('true', this.i)) {
      this.i += 4
      return true
    }
    if (c === 102 && s.startsWith('false', this.i)) {
      this.i += 5
      return false
    }
    throw FALLBACK(`expected true or false at ${this.i}`)
  }

  /** a non-negative JSON integer */
  private int(): number {
    const s = this.s
    let c = this.ws()
    let i = this.i
    if (c < D0 || c > D9) throw FALLBACK(`expected an integer at ${i}`)
    let v = 0
    while (c >= D0 && c <= D9) {
      v = v * 10 + (c - D0)
      c = s.charCodeAt(++i)
    }
    if (c === DOT || c === 101 || c === 69 || v > Number.MAX_SAFE_INTEGER) throw FALLBACK(`not a safe integer at ${i}`)
    this.i = i
    return v
  }

  /** skip any JSON value */
  private skip(): void {
    const s = this.s
    const c = this.ws()
    let i = this.i
    if (c === QUOTE) {
      i++
      for (;;) {
        const d = s.charCodeAt(i++)
        if (d === QUOTE) break
        if (d === BSLASH) i++
        else if (Number.isNaN(d)) throw FALLBACK('unterminated string')
      }
      this.i = i
    } else if (c === LBRACE || c === LBRACK) {
      // nested container: track depth, honour strings
      let depth = 0
      for (;;) {
        const d = s.charCodeAt(i++)
        if (d === QUOTE) {
          for (;;) {
            const e = s.charCodeAt(i++)
            if (e === QUOTE) break
            if (e === BSLASH) i++
            else if (Number.isNaN(e)) throw FALLBACK('unterminated string')
          }
        } else if (d === LBRACE || d === LBRACK) depth++
        else if (d === RBRACE || d === RBRACK) {
          if (--depth === 0) break
        } else if (Number.isNaN(d)) throw FALLBACK('unterminated container')
      }
      this.i = i
    } else {
      // number, true, false, null
      let d = c
      while (d !== COMMA && d !== RBRACE && d !== RBRACK && !Number.isNaN(d) && d !== 32 && d !== 10 && d !== 13 && d !== 9) d = s.charCodeAt(++i)
      if (i === this.i) throw FALLBACK(`expected a value at ${i}`)
      this.i = i
    }
  }

  /** [["price","qty"],...] straight into the batch */
  private levels(bid: boolean): void {
    this.expect(LBRACK)
    const batch = this.batch
    if (this.ws() === RBRACK) {
      this.i++
      return
    }
    for (;;) {
      this.expect(LBRACK)
      this.expect(QUOTE)
      const px = this.decimal(this.pDec, this.pUnit, 'price')
      this.expect(COMMA)
      this.expect(QUOTE)
      const qty = this.decimal(this.qDec, this.qUnit, 'quantity')
      this.expect(RBRACK)
      if (bid) batch.pushBid(px, qty)
      else batch.pushAsk(px, qty)
      const d = this.ws()
      this.i++
      if (d === COMMA) continue
      if (d === RBRACK) return
      throw FALLBACK(`expected ',' or ']' at ${this.i - 1}`)
    }
  }

  /**
   * A quoted decimal (opening quote consumed) → integer multiple of the grid unit,
   * exactly as Instrument.priceToTicks/qtyToSteps(s, 'exact') would give it.
   */
  private decimal(decimals: number, unit: number, what: string): number {
    const s = this.s
    let i = this.i
    const start = i
    let v = 0
    let c = s.charCodeAt(i)
    let digits = 0
    while (c >= D0 && c <= D9) {
      v = v * 10 + (c - D0)
      c = s.charCodeAt(++i)
      digits++
    }
    let frac = 0
    if (c === DOT) {
      c = s.charCodeAt(++i)
      while (c >= D0 && c <= D9) {
        if (frac < decimals) {
          v = v * 10 + (c - D0)
          frac++
        } else if (c !== D0) {
          throw new Bail(SCAN_BAD, `${what} ${s.slice(start, s.indexOf('"', start))} has more than ${decimals} decimals`)
        }
        c = s.charCodeAt(++i)
        digits++
      }
    }
    if (c !== QUOTE || digits === 0) {
      if (c === BSLASH || Number.isNaN(c)) throw FALLBACK('odd decimal string')
      throw new Bail(SCAN_BAD, `not a non-negative decimal: ${s.slice(start, s.indexOf('"', start))}`)
    }
    this.i = i + 1
    for (; frac < decimals; frac++) v *= 10
    if (v > Number.MAX_SAFE_INTEGER) throw new Bail(SCAN_BAD, `${what} too large: ${s.slice(start, i)}`)
    if (unit === 1) return v
    const q = Math.floor(v / unit)
    if (q * unit !== v) throw new Bail(SCAN_BAD, `${what} ${s.slice(start, i)} is off the grid`)
    return q
  }
}
