/**
 * The spec's windows checked before any job runs: each recording exists (no file given
 * twice, none empty, a `.gz` that is gzip) and is a recording of the spec's symbol. A
 * window that fails these used to stop the run at its first job, after every job of the
 * windows before it. Reads only meta.json files and the head of raw captures.
 */
import {stat} from 'node:fs/promises'
import {basename} from 'node:path'
import {MmError, UsageError} from '../domain/errors.js'
import {symbolFromFileName} from '../record/raw-reader.js'
import {checkReplayPaths} from '../record/replay-guard.js'
import {detectReplaySymbol} from '../record/replay-source.js'
import {kindOfName} from '../record/tardis-reader.js'
import type {CalibrationSpec} from './spec.js'

export async function checkWindows(spec: CalibrationSpec): Promise<void> {
  for (const w of spec.windows) {
    const where = `calibration spec ${spec.file}: window ${w.name}`
    try {
      await checkReplayPaths(w.replay)
      for (const p of w.replay) {
        const st = await stat(p)
        const raw = st.isFile() && kindOfName(basename(p)) === undefined
        const got = await detectReplaySymbol(p)
        // a raw capture may hold several symbols (the first one found is not the only
        // one): refused only when its file name names the same other symbol
        if (got && got !== spec.symbol && (!raw || symbolFromFileName(p) === got)) {
          throw new UsageError('E_SYMBOL_MISMATCH', `${p} is a recording of ${got}, not of the spec's symbol ${spec.symbol}`, {
            suggestion: `a spec calibrates one symbol: give ${spec.symbol}'s recordings in every window, or write a spec per symbol`,
          })
        }
      }
    } catch (error) {
      if (error instanceof MmError && error.exitCode === 2) {
        throw new UsageError(error.code, `${where}: ${error.message}`, {suggestion: error.suggestion, cause: error})
      }
      throw error
    }
  }
}
