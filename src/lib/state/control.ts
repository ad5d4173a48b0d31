/**
 * Control requests from `halt` / `resume` / `flatten` to a running `mm quote`: one JSON
 * file per request in <state-dir>/<SYMBOL>/control/, written whole (temp + rename), named
 * so that the name order is the arrival order. The quote watches the folder (fs.watch,
 * with a poll as fallback), applies each request, removes its file and acknowledges it
 * in state.json (control.acks, by id).
 */
import {closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import {join} from 'node:path'
import {makeDirs} from '../fs/mkdirs.js'

export interface ControlFileRequest {
  id: string
  kind: 'halt' | 'resume' | 'flatten'
  /** user@host of the command */
  by: string
  /** ISO time written */
  at: string
  reason?: string
  /** halt --for: ISO end time */
  until?: string | null
  /** flatten --max-slip */
  maxSlippagePct?: number
  /** resume --force */
  force?: boolean
}

export function controlDir(symbolDir: string): string {
  return join(symbolDir, 'control')
}

let seq = 0

/** Leave a request for the quote; returns its id. */
export function writeControlRequest(symbolDir: string, req: Omit<ControlFileRequest, 'id'>, nowMs: number): ControlFileRequest {
  const dir = controlDir(symbolDir)
  makeDirs(dir)
  const id = `${String(nowMs).padStart(15, '0')}-${process.pid}-${++seq}`
  const full: ControlFileRequest = {id, ...req}
  const tmp = join(dir, `.${id}.tmp`)
  const fd = openSync(tmp, 'w', 0o600)
  try {
    writeSync(fd, JSON.stringify(full) + '\n')
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, join(dir, `${id}.json`))
  return full
}

/** Pending requests in arrival order; a file that does not parse is returned as `bad`. */
export function readControlRequests(symbolDir: string): Array<{file: string; req: ControlFileRequest | null}> {
  const dir = controlDir(symbolDir)
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  const out: Array<{file: string; req: ControlFileRequest | null}> = []
  for (const n of names.filter((f) => f.endsWith('.json') && !f.startsWith('.')).sort()) {
    const file = join(dir, n)
    try {
      const j = JSON.parse(readFileSync(file, 'utf8')) as ControlFileRequest
      out.push({file, req: typeof j?.id === 'string' && ['halt', 'resume', 'flatten'].includes(j.kind) ? j : null})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue
      out.push({file, req: null})
    }
  }
  return out
}

export function removeControlRequest(file: string): void {
  try {
    unlinkSync(file)
  } catch {
    // already gone
  }
}
