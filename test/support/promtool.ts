/**
 * promtool (Debian's `prometheus` package; .ci/run installs it). A missing promtool fails
 * the test that needs it, loudly: CI always has it.
 */
import {spawnSync} from 'node:child_process'

export function promtool(args: string[], stdin?: string): {code: number | null; out: string} {
  const r = spawnSync('promtool', args, {input: stdin, encoding: 'utf8'})
  if (r.error) throw new Error(`promtool not runnable (${r.error.message}): apt-get install prometheus`)
  return {code: r.status, out: `${r.stdout}${r.stderr}`}
}
