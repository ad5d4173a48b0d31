/**
 * `mkdir -p` with a bound. Node's `mkdirSync(dir, {recursive: true})` (and the async
 * `mkdir`) never returns for a path under /proc or /sys: procfs answers ENOENT to a mkdir of
 * a child it cannot hold, the recursive walk takes that as "the parent is missing", makes
 * the parent (EEXIST: fine) and tries the child again, for ever, at 100 % CPU, and a
 * synchronous loop leaves no turn for a SIGTERM/SIGINT handler. Here the missing
 * components are found by one stat per component (at most the path's depth) and made one
 * by one without `recursive`: the first that cannot be made throws its own error (ENOENT,
 * EACCES, ENOTDIR, EROFS…) with its path, which the caller turns into its one-line exit 2.
 */
import {mkdirSync, statSync} from 'node:fs'
import {dirname, resolve} from 'node:path'

export function makeDirs(dir: string): void {
  const missing: string[] = []
  let p = resolve(dir)
  // one step up per path component: bounded by the path's depth
  for (let depth = 0; depth < 4096; depth++) {
    if (statSync(p, {throwIfNoEntry: false}) !== undefined) break
    missing.push(p)
    const up = dirname(p)
    if (up === p) break
    p = up
  }
  // the path (or its nearest existing parent) must be a folder: a file there is ENOTDIR, as mkdir -p says
  const st = statSync(p, {throwIfNoEntry: false})
  if (st !== undefined && !st.isDirectory()) {
    const e = new Error(`ENOTDIR: not a directory, mkdir '${p}'`) as NodeJS.ErrnoException
    e.code = 'ENOTDIR'
    e.path = p
    throw e
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      mkdirSync(missing[i])
    } catch (error) {
      // made by someone else meanwhile: fine when it is a folder
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(missing[i]).isDirectory()) throw error
    }
  }
}
