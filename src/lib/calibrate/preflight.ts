/**
 * The spec's windows checked before any job runs: each recording exists (no file given
 * twice, none empty, a folder holding a recording file, a `.gz` that is gzip) and is a recording of the spec's symbol. A
 * window that fails these used to stop the run at its first job, after every job of the
 * windows before it. Reads only meta.json files and the head of raw captures.
 */
import {readdir, stat} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {Decimal} from 'decimal.js'
import {Instrument} from '../domain/instrument.js'
import {readMeta} from '../record/meta.js'
import {MmError, UsageError} from '../domain/errors.js'
import {symbolFromFileName} from '../record/raw-reader.js'
import {checkReplayPaths} from '../record/replay-guard.js'
import {detectReplaySymbol} from '../record/replay-source.js'
import {kindOfName, listTardisFiles, partialFilesIn, partialRecovery} from '../record/tardis-reader.js'
import type {PointJob} from './point.js'
import {type CalibrationSpec, checkPointConfigs} from './spec.js'

/** A decimal equal in value (0.010 = 0.01); an unreadable one is left to the instrument's own check. */
function sameDecimal(a: string, b: string): boolean {
  try {
    return new Decimal(a).eq(new Decimal(b))
  } catch {
    return true
  }
}

export async function checkWindows(spec: CalibrationSpec, onNotice?: (msg: string) => void): Promise<void> {
  for (const w of spec.windows) {
    // a window's .partial files are skipped by its replays: said once here (a killed recorder's last period)
    const torn = onNotice ? await partialFilesIn(w.replay).catch(() => []) : []
    if (torn.length > 0) onNotice?.(`window ${w.name}: skipped ${torn.length} .partial file${torn.length === 1 ? '' : 's'} (still being written, or torn by a killed recorder: recoverable with ${partialRecovery()}): ${torn.join(', ')}`)
    const where = `calibration spec ${spec.file}: window ${w.name}`
    try {
      await checkReplayPaths(w.replay)
      for (const p of w.replay) {
        const st = await stat(p)
        // a folder without a recording file (empty, or a killed recorder's .partial files
        // only) used to pass here and stop the run at its first job
        // a .partial named directly is refused by listTardisFiles, with how to recover it
        const raw = st.isFile() && kindOfName(basename(p)) === undefined
        if (!raw && (await listTardisFiles(p)).length === 0) throw new UsageError('E_RECORDING', `no recording files in ${p} (.partial files are ignored)`)
        const got = await detectReplaySymbol(p, spec.symbol)
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

/** The first `*.meta.json` of a Tardis recording (a folder, or a data file beside its sidecar). */
async function firstMeta(path: string, symbol: string, depth = 0): Promise<string | undefined> {
  const st = await stat(path).catch(() => undefined)
  if (!st) return undefined
  if (st.isFile()) {
    const m = /^(.*?)\.(book|trades|ticker)\.csv(\.gz)?$/.exec(basename(path))
    const p = m ? join(dirname(path), `${m[1]}.meta.json`) : undefined
    return p && (await stat(p).catch(() => undefined)) ? p : undefined
  }
  if (depth > 4) return undefined
  const entries = (await readdir(path, {withFileTypes: true})).sort((a, b) => a.name.localeCompare(b.name))
  for (const e of entries) if (e.isFile() && e.name.endsWith('.meta.json')) return join(path, e.name)
  // the root of `mm record --out`: the spec's symbol's folder first
  const own = entries.find((e) => e.isDirectory() && e.name.toUpperCase() === symbol)
  for (const e of own ? [own, ...entries.filter((x) => x !== own)] : entries) {
    if (!e.isDirectory()) continue
    const m = await firstMeta(join(path, e.name), symbol, depth + 1)
    if (m) return m
  }
  return undefined
}

/**
 * Without the spec's `tickSize`/`stepSize`, a recording's instrument comes from its
 * meta.json: every point's sizes are checked against each window's lot step before any job
 * runs, as `checkPointConfigs` does with the spec's (a size off the grid of a 1000PEPEUSDT
 * recording used to stop the run at that point's job).
 */
export async function checkWindowInstruments(spec: CalibrationSpec, jobs: readonly PointJob[]): Promise<void> {
  // the spec's grid is for raw captures: one that a window's meta.json contradicts stopped
  // the run at that window's first job (after the windows before it), naming --tick-size
  for (const w of spec.windows) {
    const m = await firstMeta(w.replay[0], spec.symbol)
    const i = m ? (await readMeta(m).catch(() => undefined))?.instrument : undefined
    if (!i) continue
    for (const [key, given, known] of [['tickSize', spec.tickSize, i.tickSize], ['stepSize', spec.stepSize, i.stepSize], ['minNotional', spec.minNotional, i.minNotional]] as const) {
      if (given === undefined || sameDecimal(given, known)) continue
      throw new UsageError('E_REPLAY_INSTRUMENT', `calibration spec ${spec.file}: window ${w.name}: ${key} ${given} conflicts with ${key} ${known} in ${m} (a recording with meta.json replays with its own instrument)`, {
        suggestion: "drop tickSize, stepSize and minNotional from the spec: they are for raw captures (without meta.json), and a spec's windows share them",
      })
    }
  }
  if (spec.tickSize !== undefined && spec.stepSize !== undefined) return // checked with the spec's grid already
  const first = spec.windows[0]
  const points = jobs.filter((j) => j.window === first)
  for (const w of spec.windows) {
    const m = await firstMeta(w.replay[0], spec.symbol)
    const i = m ? (await readMeta(m).catch(() => undefined))?.instrument : undefined
    if (!i) continue
    const inst = new Instrument({symbol: spec.symbol, tickSize: spec.tickSize ?? i.tickSize, stepSize: spec.stepSize ?? i.stepSize, minQty: i.minQty, minNotional: spec.minNotional ?? i.minNotional})
    checkPointConfigs(spec, points.map((j) => j.point), points.map((j) => j.id), inst)
  }
}
