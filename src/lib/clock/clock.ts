/** Time source. The core never reads the wall clock; it is handed a Clock or a timestamp. */
export interface Clock {
  /** milliseconds since the epoch */
  now(): number
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now()
  }
}

/** A clock moved by hand (tests) or by the replayed data (replay). Never goes backwards. */
export class VirtualClock implements Clock {
  private t: number
  constructor(start = 0) {
    this.t = start
  }

  now(): number {
    return this.t
  }

  set(t: number): void {
    if (t > this.t) this.t = t
  }

  advance(ms: number): void {
    if (ms > 0) this.t += ms
  }
}

/** The process-wide system clock, for adapters (I/O edges) that need wall time. */
export const wallClock: Clock = new SystemClock()
