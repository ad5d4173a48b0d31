/**
 * Dead-man's switch: `POST /fapi/v1/countdownCancelAll` (FACTS.md §2.2). Armed before the
 * first order, refreshed every `refreshMs` while quoting, disarmed (countdown 0) on a
 * clean stop after every order is cancelled, and left armed on a crash, so the venue
 * cancels every order of the symbol `countdownMs` after the last refresh.
 *
 * A failed refresh is reported (`problem`); once `countdownMs` has passed since the last
 * successful one the venue has cancelled our orders: `expired` tells the adapter to stop
 * trusting its working orders (the audit settles them).
 */
import {EventEmitter} from 'node:events'
import {wallClock} from '../../clock/clock.js'
import {idempotentRetry} from './errors.js'
import {redact} from './signer.js'

export interface CountdownApi {
  countdownCancelAll(symbol: string, countdownMs: number): Promise<void>
}

export interface DeadMansSwitchEvents {
  armed: [info: {countdownMs: number}]
  refreshed: [info: {at: number}]
  problem: [message: string]
  expired: [info: {lastOkAt: number}]
  disarmed: []
}

export class DeadMansSwitch extends EventEmitter<DeadMansSwitchEvents> {
  refreshes = 0
  failures = 0
  lastOkAt = 0
  private timer?: NodeJS.Timeout
  private armed = false
  private expiredSignalled = false

  constructor(
    private readonly o: {
      api: CountdownApi
      symbol: string
      countdownMs: number
      refreshMs: number
      now?: () => number
      /** a reason to leave this refresh unsent (a 418 ban: it cannot succeed, and every call lengthens the ban) */
      hold?: () => string | undefined
    },
  ) {
    super()
    if (o.refreshMs >= o.countdownMs) throw new Error(`dead-man's switch: refresh ${o.refreshMs} ms must be below the countdown ${o.countdownMs} ms`)
  }

  private now(): number {
    return this.o.now ? this.o.now() : wallClock.now()
  }

  get isArmed(): boolean {
    return this.armed
  }

  /** Arm it (throws when the venue refuses: no order may go out unprotected). */
  async arm(): Promise<void> {
    await idempotentRetry(() => this.o.api.countdownCancelAll(this.o.symbol, this.o.countdownMs))
    this.armed = true
    this.lastOkAt = this.now()
    this.emit('armed', {countdownMs: this.o.countdownMs})
    this.timer = setInterval(() => void this.refresh(), this.o.refreshMs)
    this.timer.unref?.()
  }

  /** When the venue's countdown ends unless refreshed (ms). */
  get expiresAt(): number {
    return this.lastOkAt + this.o.countdownMs
  }

  /** Has the countdown run out since the last successful refresh (the venue cancelled our orders and the switch is no longer set)? */
  lapsed(now = this.now()): boolean {
    return now >= this.expiresAt
  }

  /** Refresh now (also the timer's call); true when the venue took it. */
  async refresh(): Promise<boolean> {
    if (!this.armed) return false
    const held = this.o.hold?.()
    if (held !== undefined) {
      // not sent: the countdown runs on at the venue, and cancels our orders when it ends
      this.failures++
      this.emit('problem', `dead-man's switch refresh not sent: ${held}`)
      this.checkExpired()
      return false
    }
    try {
      await this.o.api.countdownCancelAll(this.o.symbol, this.o.countdownMs)
      this.refreshes++
      this.lastOkAt = this.now()
      this.expiredSignalled = false
      this.emit('refreshed', {at: this.lastOkAt})
      return true
    } catch (err) {
      this.failures++
      this.emit('problem', `dead-man's switch refresh failed: ${redact((err as Error).message)}`)
      this.checkExpired()
      return false
    }
  }

  private checkExpired(): void {
    if (!this.expiredSignalled && this.now() >= this.lastOkAt + this.o.countdownMs) {
      this.expiredSignalled = true
      this.emit('expired', {lastOkAt: this.lastOkAt})
    }
  }

  /** Clean stop, after every order is cancelled: countdown 0. */
  async disarm(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    if (!this.armed) return
    this.armed = false
    await idempotentRetry(() => this.o.api.countdownCancelAll(this.o.symbol, 0))
    this.emit('disarmed')
  }

  /** Stop refreshing but leave the countdown running at the venue (the crash path, for tests and a failed stop). */
  abandon(): void {
    clearInterval(this.timer)
    this.timer = undefined
    this.armed = false
  }
}
