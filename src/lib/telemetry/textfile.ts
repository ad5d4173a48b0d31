/**
 * node_exporter's textfile collector format, written atomically: commands run from cron
 * (`record`, `flatten`, `halt`) leave their final figures in a `*.prom` file under the
 * collector's directory (`--collector.textfile.directory`). The text goes to a hidden
 * temporary file in the same directory (node_exporter reads only `*.prom`, and a rename
 * within one file system is atomic), then is renamed over the target, so a scrape never
 * sees half a file.
 */
import {accessSync, constants, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'
import type {Registry} from 'prom-client'
import {MmError, UsageError} from '../domain/errors.js'

/** Refuse at start (before an hour of recording) a path the collector would not read or we could not write. */
export function checkTextfilePath(path: string, flag = '--metrics-textfile'): string {
  const abs = resolve(path)
  if (!abs.endsWith('.prom')) {
    throw new UsageError('E_USAGE', `${flag} ${path}: the name must end in .prom (node_exporter's textfile collector reads only *.prom files)`, {suggestion: `e.g. ${flag} /var/lib/node_exporter/textfile_collector/mm_record.prom`})
  }
  const dir = dirname(abs)
  let isDir = false
  try {
    isDir = statSync(dir).isDirectory()
    accessSync(dir, constants.W_OK)
  } catch {
    throw new UsageError('E_USAGE', `${flag} ${path}: ${isDir ? 'the folder is not writable' : 'no such folder'} (${dir})`, {suggestion: "point it into node_exporter's --collector.textfile.directory"})
  }
  return abs
}

/** Write the registry's exposition to `path` atomically (temp file + rename in the same folder). */
export async function writeTextfile(path: string, registry: Registry): Promise<void> {
  const abs = resolve(path)
  const text = await registry.metrics()
  const tmp = join(dirname(abs), `.${basename(abs)}.${process.pid}.tmp`)
  try {
    writeFileSync(tmp, text)
    renameSync(tmp, abs)
  } catch (error) {
    rmSync(tmp, {force: true})
    throw new MmError('E_METRICS_TEXTFILE', `cannot write the metrics textfile ${abs}: ${(error as Error).message}`)
  }
}
