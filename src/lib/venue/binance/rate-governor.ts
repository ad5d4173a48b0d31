/**
 * Rate governor (FACTS.md §5): reads the venue's own counters on every answer and slows
 * quoting *before* a limit is reached, never after.
 *
 * Inputs, per answer: `X-MBX-USED-WEIGHT-1M` (IP weight in the current minute) and
 * `X-MBX-ORDER-COUNT-10S` / `-1M` (the account's orders in the current 10 s / minute), the
 * HTTP status, `Retry-After`, and Binance's error code. The limits come from exchangeInfo
 * (`rateLimits`) or `GET /fapi/v1/rateLimit/order` and default to 2400 / 300 / 1200.
 *
 * Output (`verdict(now)`):
 *  - `normal`: quote as configured;
 *  - `slow`: usage ≥ `slowAt` of a limit: `intervalFactor` (1 → `maxSlowFactor`, linear in
 *    the usage between `slowAt` and `pauseAt`) stretches the refresh interval and the
 *    re-price tolerance, so fewer orders go out;
 *  - `paused`: usage ≥ `pauseAt`, or a 429 / -1003 / -1015: no new orders until `until`
 *    (the end of the counter's window, or Retry-After, or a doubling back-off); a cancel
 *    goes out once per order in a 429 / -1003 back-off, its retries wait for its end
 *    (venue.ts `cancelsHeldNow`);
 *  - `stopped`: HTTP 418 (IP banned): quoting stops and says so; `until` is the ban's end:
 *    Retry-After, else the time a -1003 message names ("banned until …"), else a back-off
 *    of 2 minutes (Binance's shortest ban) doubling per ban up to 32 minutes, after which a
 *    request finds out;
 *  - after a ban, `paused` (reason `after the ban: …`) until `banCleared()`: the caller
 *    re-arms the dead-man's switch (it may have lapsed during the ban) and audits open
 *    orders and position before the first new order.
 *
 * It also watches for storms (SPEC.md §4.6 live part): rejects (other than the routine
 * -5022 post-only and -2011 cancel races), unknown outcomes (5xx, timeouts, -1006/-1007)
 * and -1008 throttling within `stormWindowMs`: `stormSlowAt` of them slow quoting,
 * `stormHaltAt` halt it (`stopped`, reason `storm`).
 *
 * A reading of a counter is trusted until its window ends (windows aligned to the epoch,
 * as the venue's are); after that the counter is taken as zero. Pure: time comes in as
 * arguments; no I/O.
 */
import type {AnswerInfo} from './gateway.js'

export interface GovernorLimits {
  weight1m: number
  orders10s: number
  orders1m: number
}

export interface GovernorConfig {
  /** fraction of a limit at which quoting starts to slow down */
  slowAt: number
  /** fraction of a limit at which new orders pause until the window ends */
  pauseAt: number
  /** refresh-interval multiplier reached at `pauseAt` */
  maxSlowFactor: number
  /** back-off after a 429 without Retry-After (doubles per repeat, capped at 60 s) */
  baseBackoffMs: number
  stormWindowMs: number
  stormSlowAt: number
  stormHaltAt: number
}

export const DEFAULT_LIMITS: GovernorLimits = {weight1m: 2400, orders10s: 300, orders1m: 1200}
export const DEFAULT_GOVERNOR: GovernorConfig = {slowAt: 0.5, pauseAt: 0.85, maxSlowFactor: 4, baseBackoffMs: 1000, stormWindowMs: 60_000, stormSlowAt: 5, stormHaltAt: 20}

export type GovernorMode = 'normal' | 'slow' | 'paused' | 'stopped'

export interface Verdict {
  mode: GovernorMode
  /** ≥ 1: multiply the refresh interval (and re-price tolerance) by this */
  intervalFactor: number
  /** may new orders be sent now? (cancels always may) */
  allowNewOrders: boolean
  /** ms: when a pause or stop ends (undefined: not paused, or stopped until resumed) */
  until?: number
  /** which limit or event decided it */
  reason: string
  /** highest usage fraction over the three counters */
  usage: number
}

/** Codes that are part of normal maker life, not signs of trouble. */
const ROUTINE_CODES = new Set([-5022, -2011, -2013])

/** a 418 with no end given: Binance's shortest ban ("from 2 minutes to 3 days"), doubled per ban up to 16× */
const BAN_GUESS_MS = 120_000
const AFTER_BAN = "after the ban: re-arming the dead-man's switch and auditing before quoting again"

const WINDOW_10S = 10_000
const WINDOW_1M = 60_000
const windowEnd = (at: number, len: number) => Math.floor(at / len) * len + len

interface Reading {
  value: number
  /** ms: the reading holds until here */
  until: number
}

export class RateGovernor {
  readonly limits: GovernorLimits
  readonly cfg: GovernorConfig
  private weight?: Reading
  private o10?: Reading
  private o1m?: Reading
  private pausedUntil = 0
  private pauseReason = ''
  /** a 429 / -1003 (request weight, not an order count): the periodic reads wait until here */
  private readsPausedUntil = 0
  private backoffs = 0
  private stopped?: {until?: number; reason: string}
  /** a 418 ban was seen and not cleared yet (`banCleared`): no new order until then */
  private afterBan = false
  private bans = 0
  private storm: number[] = []
  private last: GovernorMode = 'normal'
  /**
   * From this time (ms) no read is held (`readsHeld`'s quick answer, read by every cancel on
   * the tick's path): the latest end of a 418 ban, a 429 back-off or our weight at the pause
   * mark; set again by every change of what `readsHeld` reads (`noteHold`)
   */
  private holdEnd = 0

  constructor(limits: Partial<GovernorLimits> = {}, cfg: Partial<GovernorConfig> = {}) {
    this.limits = {...DEFAULT_LIMITS, ...limits}
    this.cfg = {...DEFAULT_GOVERNOR, ...cfg}
  }

  /** Update the limits from exchangeInfo `rateLimits` / the account's order limiters. */
  setLimits(rules: Array<{rateLimitType: string; interval: string; intervalNum: number; limit: number}>): void {
    for (const r of rules) {
      if (r.rateLimitType === 'REQUEST_WEIGHT' && r.interval === 'MINUTE' && r.intervalNum === 1) this.limits.weight1m = r.limit
      if (r.rateLimitType === 'ORDERS' && r.interval === 'SECOND' && r.intervalNum === 10) this.limits.orders10s = r.limit
      if (r.rateLimitType === 'ORDERS' && r.interval === 'MINUTE' && r.intervalNum === 1) this.limits.orders1m = r.limit
    }
    this.noteHold()
  }

  /** Feed every answer the gateway receives (status 0 = no HTTP answer). */
  observe(a: AnswerInfo): void {
    this.take(a)
    this.noteHold()
  }

  /** when reads may be held until, from the ban, the back-off and our weight (see `holdEnd`) */
  private noteHold(): void {
    let end = this.readsPausedUntil
    const s = this.stopped
    if (s && s.reason.startsWith('HTTP 418')) end = Math.max(end, s.until ?? Number.POSITIVE_INFINITY)
    const w = this.weight
    if (w && this.limits.weight1m > 0 && w.value / this.limits.weight1m >= this.cfg.pauseAt) end = Math.max(end, w.until)
    this.holdEnd = end
  }

  private take(a: AnswerInfo): void {
    const at = a.at
    if (a.usedWeight1m !== undefined) this.weight = {value: a.usedWeight1m, until: windowEnd(at, WINDOW_1M)}
    if (a.orderCount10s !== undefined) this.o10 = {value: a.orderCount10s, until: windowEnd(at, WINDOW_10S)}
    if (a.orderCount1m !== undefined) this.o1m = {value: a.orderCount1m, until: windowEnd(at, WINDOW_1M)}

    if (a.status === 418) {
      // the ban's end: Retry-After, else the time the message names, else a doubling guess from Binance's shortest ban
      const given = a.retryAfterMs !== undefined ? at + a.retryAfterMs : a.bannedUntil !== undefined && a.bannedUntil > at ? a.bannedUntil : undefined
      const s = this.stopped
      const inBan = s !== undefined && s.reason.startsWith('HTTP 418') && s.until !== undefined && at < s.until
      if (inBan) {
        // a 418 answered within the ban (a request already on its way): only an end the venue names moves it
        if (given !== undefined && given > (s.until as number)) s.until = given
      } else {
        this.stopped = {until: given ?? at + BAN_GUESS_MS * 2 ** Math.min(this.bans, 4), reason: 'HTTP 418: the venue banned this IP'}
        this.bans++
      }
      this.afterBan = true
      return
    }
    if (a.status === 429 || a.venueCode === -1003 || a.venueCode === -1015) {
      let until: number
      if (a.retryAfterMs !== undefined) until = at + a.retryAfterMs
      else if (a.venueCode === -1015) until = windowEnd(at, WINDOW_10S)
      else until = at + Math.min(60_000, this.cfg.baseBackoffMs * 2 ** Math.min(this.backoffs, 6))
      this.backoffs++
      const reason = a.status === 429 ? 'HTTP 429: request rate limit' : `code ${a.venueCode}: too many requests`
      this.pause(until, reason)
      if (a.venueCode !== -1015 && until > this.readsPausedUntil) this.readsPausedUntil = until
      return
    }
    if (a.status >= 200 && a.status < 300) this.backoffs = 0
    const bad = a.status === 0 || a.status === 408 || a.status >= 500 || a.venueCode === -1008 || (a.venueCode !== undefined && a.venueCode < 0 && !ROUTINE_CODES.has(a.venueCode))
    if (bad) {
      this.storm.push(at)
      this.trimStorm(at)
      if (this.storm.length >= this.cfg.stormHaltAt && !this.stopped) {
        this.stopped = {reason: `storm: ${this.storm.length} rejects/errors/unknown outcomes within ${this.cfg.stormWindowMs} ms`}
      }
    }
  }

  /**
   * Should the periodic requests that can wait (the REST audit; during a ban the dead-man's
   * switch refresh too) be left unsent now? Yes during a 418 ban (Binance lengthens bans for
   * IPs that keep calling: "from 2 minutes to 3 days") and until the end of a 429 / -1003
   * back-off (calling on after a 429 is what earns the ban), and while our request weight is
   * at `pauseAt` of the limit, to its window's end. `ban`: a 418 ban, when even the
   * switch refresh cannot succeed. Pure: the verdict's mode is left as it is.
   */
  readsHeld(now: number): {until?: number; reason: string; ban: boolean} | undefined {
    if (now >= this.holdEnd) return undefined
    const s = this.stopped
    if (s && s.reason.startsWith('HTTP 418') && (s.until === undefined || now < s.until)) return {until: s.until, reason: s.reason, ban: true}
    if (now < this.readsPausedUntil) return {until: this.readsPausedUntil, reason: this.pauseReason, ban: false}
    // our own request weight at the pause mark: the reads that can wait keep the rest of the
    // minute's budget for cancels (and the switch, when it would lapse before the window ends)
    const w = this.weight
    if (w && now < w.until && this.limits.weight1m > 0 && w.value / this.limits.weight1m >= this.cfg.pauseAt) return {until: w.until, reason: `request weight ${w.value}/${this.limits.weight1m} per minute`, ban: false}
    return undefined
  }

  private pause(until: number, reason: string): void {
    if (until > this.pausedUntil) {
      this.pausedUntil = until
      this.pauseReason = reason
    }
  }

  private trimStorm(now: number): void {
    const from = now - this.cfg.stormWindowMs
    let i = 0
    while (i < this.storm.length && this.storm[i] <= from) i++
    if (i > 0) this.storm.splice(0, i)
  }

  /**
   * The highest counter's share of its limit now, and which it is (the first of equal
   * ones; 'within limits' when none counts). Read at every live decision: only the
   * winner's text is made, and again only when its value or limit changed.
   */
  private usage(now: number): {u: number; which: string} {
    const w = share(this.weight, this.limits.weight1m, now)
    const a = share(this.o10, this.limits.orders10s, now)
    const b = share(this.o1m, this.limits.orders1m, now)
    let u = 0
    let k = -1
    if (w > u) {
      u = w
      k = 0
    }
    if (a > u) {
      u = a
      k = 1
    }
    if (b > u) {
      u = b
      k = 2
    }
    return {u, which: this.usageText(k)}
  }

  private readonly text = {k: -1, value: 0, limit: 0, s: 'within limits'}

  private usageText(k: number): string {
    if (k < 0) return 'within limits'
    const r = (k === 0 ? this.weight : k === 1 ? this.o10 : this.o1m) as Reading
    const limit = k === 0 ? this.limits.weight1m : k === 1 ? this.limits.orders10s : this.limits.orders1m
    const t = this.text
    if (t.k !== k || t.value !== r.value || t.limit !== limit) {
      t.k = k
      t.value = r.value
      t.limit = limit
      t.s = k === 0 ? `request weight ${r.value}/${limit} per minute` : k === 1 ? `orders ${r.value}/${limit} per 10 s` : `orders ${r.value}/${limit} per minute`
    }
    return t.s
  }

  /** The end of the window of the counter that is highest now. */
  private windowOf(now: number): number {
    const w = share(this.weight, this.limits.weight1m, now)
    const a = share(this.o10, this.limits.orders10s, now)
    const b = share(this.o1m, this.limits.orders1m, now)
    if (a >= w && a >= b) return this.o10!.until
    if (b >= w) return this.o1m!.until
    return this.weight!.until
  }

  verdict(now: number): Verdict {
    const {u, which} = this.usage(now)
    if (this.stopped) {
      if (this.stopped.until !== undefined && now >= this.stopped.until) this.stopped = undefined
      else return this.out({mode: 'stopped', intervalFactor: this.cfg.maxSlowFactor, allowNewOrders: false, until: this.stopped.until, reason: this.stopped.reason, usage: u})
    }
    if (this.afterBan) return this.out({mode: 'paused', intervalFactor: this.cfg.maxSlowFactor, allowNewOrders: false, reason: AFTER_BAN, usage: u})
    if (now < this.pausedUntil) return this.out({mode: 'paused', intervalFactor: this.cfg.maxSlowFactor, allowNewOrders: false, until: this.pausedUntil, reason: this.pauseReason, usage: u})
    if (u >= this.cfg.pauseAt) return this.out({mode: 'paused', intervalFactor: this.cfg.maxSlowFactor, allowNewOrders: false, until: this.windowOf(now), reason: which, usage: u})
    this.trimStorm(now)
    const stormSlow = this.storm.length >= this.cfg.stormSlowAt
    let factor = 1
    if (u >= this.cfg.slowAt) factor = 1 + ((this.cfg.maxSlowFactor - 1) * (u - this.cfg.slowAt)) / (this.cfg.pauseAt - this.cfg.slowAt)
    if (stormSlow) {
      const span = Math.max(1, this.cfg.stormHaltAt - this.cfg.stormSlowAt)
      factor = Math.max(factor, 1 + ((this.cfg.maxSlowFactor - 1) * (this.storm.length - this.cfg.stormSlowAt + 1)) / span)
    }
    if (factor > 1 || u >= this.cfg.slowAt) {
      const reason = stormSlow && !(u >= this.cfg.slowAt) ? `storm: ${this.storm.length} rejects/errors/unknown outcomes within ${this.cfg.stormWindowMs} ms` : which
      return this.out({mode: 'slow', intervalFactor: Math.min(this.cfg.maxSlowFactor, factor), allowNewOrders: true, reason, usage: u})
    }
    return this.out({mode: 'normal', intervalFactor: 1, allowNewOrders: true, reason: which, usage: u})
  }

  private out(v: Verdict): Verdict {
    this.last = v.mode
    return v
  }

  /** the mode of the latest verdict (for telemetry: a change is worth a risk_event) */
  get lastMode(): GovernorMode {
    return this.last
  }

  /** Is a ban over but not cleared (`banCleared`) yet: the switch to re-arm and the audit to run before quoting? */
  banEnded(now: number): boolean {
    return this.afterBan && !(this.stopped && (this.stopped.until === undefined || now < this.stopped.until))
  }

  /** The dead-man's switch is armed again and an audit has run since the ban ended: new orders may go out. */
  banCleared(): void {
    this.afterBan = false
  }

  /** Lift a storm stop (operator `mm resume`); a 418 ban cannot be lifted early. */
  resume(): void {
    if (this.stopped && this.stopped.reason.startsWith('storm')) this.stopped = undefined
    this.storm = []
  }
}

/** a counter's share of its limit while its window lasts (0: not read, over, or no limit) */
function share(r: Reading | undefined, limit: number, now: number): number {
  return r !== undefined && now < r.until && limit > 0 ? r.value / limit : 0
}
