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
 * the warm-up pass 17.8–27.7 → 14.2–21.3 µs; 16 KB was no better than 32 KB in three
 * triples (docs/live.md "Benchmark").
 *
 * Process-wide and set once: the flag is V8's, read each time a function's budget is
 * renewed, so it takes effect from the first check after it is set. Node 20 only (V8 11):
 * later V8s (Node 22: 12.4) have no such flag (they count calls instead, and setting an
 * unknown flag prints "Error: unrecognized flag" on stderr), so there nothing is set; that
 * tier-up has not been measured here.
 */
import {setFlagsFromString} from 'node:v8'

/** bytes of bytecode between two tier-up checks of a function, live (V8's default on Node 20: 67,584) */
export const LIVE_INTERRUPT_BUDGET = 32_768

/** V8 has the bytecode-budget tier-up this tunes (V8 11, Node 20) */
export const HAS_INTERRUPT_BUDGET = Number(process.versions.v8.split('.')[0]) <= 11

let tuned = false

/** Set the live session's tier-up budget (once per process; nothing where V8 has no such flag). Returns whether it is set. */
export function tuneJitForLive(): boolean {
  if (!HAS_INTERRUPT_BUDGET) return false
  if (tuned) return true
  tuned = true
  setFlagsFromString(`--interrupt-budget=${LIVE_INTERRUPT_BUDGET}`)
  return true
}
