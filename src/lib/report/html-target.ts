/**
 * `--html FILE` (mm report, mm calibrate, mm calibrate collect) overwrites FILE. A FILE that
 * exists and is not a page is refused: `--html RUN/events.jsonl` replaced a run's event log,
 * and `--html OUT/results.jsonl` a calibration's results, with the page.
 */
import {closeSync, openSync, readSync, statSync} from 'node:fs'
import {resolve} from 'node:path'
import {UsageError} from '../domain/errors.js'

export function checkHtmlTarget(file: string, own?: {dir: string; files: readonly string[]}): void {
  // one of the files the command itself writes (mm calibrate --html OUT/report.json): refused
  // before the run, not found to exist only after it, hours of jobs later
  const mine = own?.files.find((f) => resolve(own.dir, f) === resolve(file))
  if (own && mine !== undefined) throw new UsageError('E_OUT', `--html ${file} is the ${mine} this command writes in ${resolve(own.dir)}: refusing to overwrite it`, {suggestion: 'give --html a new file, e.g. report.html'})
  const st = statSync(file, {throwIfNoEntry: false})
  // missing, a folder (the write says EISDIR), a device or a pipe: as before
  if (st === undefined || !st.isFile() || st.size === 0) return
  let head = ''
  try {
    const fd = openSync(file, 'r')
    try {
      const buf = Buffer.alloc(64)
      head = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8')
    } finally {
      closeSync(fd)
    }
  } catch {
    return // unreadable: the write reports it
  }
  if (/^\s*<!doctype html/i.test(head)) return
  throw new UsageError('E_OUT', `--html ${file} exists and is not an HTML page: refusing to overwrite it`, {suggestion: 'give --html a new file, e.g. report.html'})
}
