/**
 * A path's metadata, or undefined when it cannot be read (missing, no permission, …).
 * Synchronous: for the few local calls a replay makes as it opens, where a thread-pool
 * round trip each cost more than the call (`mm calibrate` opens a replay per job).
 */
import {type Stats, statSync} from 'node:fs'

export function statOf(path: string): Stats | undefined {
  try {
    return statSync(path)
  } catch {
    return undefined
  }
}
