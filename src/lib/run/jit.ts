/**
 * V8's tier-up for a live session (`mm quote` without --dry-run).
 *
 * V8 optimises a function with TurboFan once it has run a budget of bytecode (its
 * "interrupt budget", 66 KB on Node 20) since its last check. The tick-to-order path is made
 * of small functions that run once per decision that sends orders (the venue's hand-over to
 * the gateway, the governor's verdict, the lifecycle's record, …): about ten such decisions
 * a minute on ETHUSDT with the bench's config, so at the default budget they stay in V8's
 * baseline tiers for the first hour of a run (the start-up warm-up, engine/warmup.ts, runs
 * the decision itself, not the venue's side). Half the budget has them optimised after
 * about half the calls (test/run/jit.test.ts: 1,788 → 872 for a small function); the cost
 * is compile work earlier, in a process that runs for hours. Eleven-pass runs of the
 * tick-to-order bench, four interleaved pairs (2026-12-01): p50 of the passes right after
 * the warm-up pass 17.8–27.7 → 14.2–21.3 µs; 16 KB was no better than 32 KB
 * (docs/live.md "Benchmark").
 *
 * Process-wide and set once: the flag is V8's, read each time a function's budget is
 * renewed, so it takes effect from the first check after it is set.
 */
import {setFlagsFromString} from 'node:v8'

/** bytes of bytecode between two tier-up checks of a function, live (V8's default on Node 20: 67,584) */
export const LIVE_INTERRUPT_BUDGET = 32_768

let tuned = false

/** Set the live session's tier-up budget (once per process). */
export function tuneJitForLive(): void {
  if (tuned) return
  tuned = true
  setFlagsFromString(`--interrupt-budget=${LIVE_INTERRUPT_BUDGET}`)
}
