/**
 * `mm record`'s process holds little live data (about 15 MB: the books, the open gzip
 * streams, the sockets) but allocates fast at high message rates (tens of MB/s of
 * short-lived frames, parsed messages and rows). With V8's default heap growing factor,
 * the garbage that survives into the old generation piles up to several times the live
 * size before a major GC, so RSS climbs for minutes in a wide saw-tooth (docs/record.md
 * "Memory"). A factor of 1.2 per major GC keeps it flat, for more frequent (incremental)
 * major GCs: 13 in 60 s at about 8,000 messages/s, 30–80 ms each, most of it in steps.
 *
 * Process-wide: the command calls it, never the library (tests run `record()` in-process).
 * Node keeps V8 flags writable after start-up; this flag is read at each major GC.
 */
import {setFlagsFromString} from 'node:v8'

/** the old generation may grow by this much past the live data before the next major GC */
export const RECORD_HEAP_GROWING_PERCENT = 20

export function boundHeapGrowth(percent = RECORD_HEAP_GROWING_PERCENT): void {
  setFlagsFromString(`--heap-growing-percent=${percent}`)
}
