/**
 * Recordings in one folder that overlap in time: two `mm record` runs writing the same
 * symbol into one folder at once (each claims its own stems, see tardis-writer.ts). A
 * replay of the folder reads their files one after the other: it failed on the first
 * event that went back in time, with a message about order, or, when each went back less
 * than the order tolerance (short periods), replayed every message twice. This names the
 * two runs' files instead. Reads only the sidecars (`*.meta.json`) of whole files (a period whose
 * data files are still `.partial` is skipped by the replay too).
 */
import {existsSync} from 'node:fs'
import {readdir} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {UsageError} from '../domain/errors.js'
import {statOf} from '../fs/stat.js'
import {readMeta} from './meta.js'

async function metasUnder(dir: string, out: string[]): Promise<void> {
  for (const e of await readdir(dir, {withFileTypes: true})) {
    const p = join(dir, e.name)
    if (e.isDirectory()) await metasUnder(p, out)
    else if (e.isFile() && e.name.endsWith('.meta.json')) out.push(p)
  }
}

/**
 * Throws E_REPLAY_OVERLAP when two periods of a folder given overlap at all. One run's
 * periods never do (rows go to the period of their receive time; a period opens on its
 * first row, after every row of the one before), nor do runs one after the other. Two
 * runs at once do, and when their periods are short the replay's order tolerance would
 * let them through: every market message replayed twice.
 */
export async function checkNoOverlap(paths: string[]): Promise<void> {
  for (const p of paths) {
    // not there: the replay's own checks say so
    if (!statOf(p)?.isDirectory()) continue
    const metas: string[] = []
    await metasUnder(p, metas)
    const spans: {file: string; symbol: string; first: number; last: number}[] = []
    for (const m of metas) {
      const meta = await readMeta(m).catch(() => undefined)
      if (!meta || meta.firstLocalTimestamp === undefined || meta.lastLocalTimestamp === undefined) continue
      const files = Object.values(meta.files ?? {}).map((f) => f?.file).filter((f): f is string => typeof f === 'string')
      if (files.length === 0 || !files.every((f) => existsSync(join(dirname(m), f)))) continue
      spans.push({file: m, symbol: meta.symbol, first: meta.firstLocalTimestamp, last: meta.lastLocalTimestamp})
    }
    spans.sort((a, b) => a.first - b.first || a.last - b.last)
    for (let i = 1; i < spans.length; i++) {
      for (let j = i - 1; j >= 0; j--) {
        const a = spans[j]
        const b = spans[i]
        if (a.symbol !== b.symbol || b.first >= a.last) continue
        const iso = (us: number) => new Date(Math.floor(us / 1000)).toISOString()
        throw new UsageError('E_REPLAY_OVERLAP', `--replay ${p}: ${a.file} (${iso(a.first)} – ${iso(a.last)}) and ${b.file} (from ${iso(b.first)}) overlap in time: two recorders wrote ${a.symbol} into this folder at once`, {
          suggestion: "replay one run at a time: move one run's files (each period's .meta.json and data files) into a folder of their own",
        })
      }
    }
  }
}
