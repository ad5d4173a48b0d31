/**
 * Run the real CLI under a pseudo-terminal, as a user at a terminal would: util-linux
 * `script -qfec CMD /dev/null` gives the child a pty for stdin, stdout and stderr and copies
 * what it writes to our stdout (one stream: stdout and stderr interleaved, as on screen).
 * A signal for the command goes to it directly (`signal`): `script` itself would close the
 * terminal at once on SIGTERM. `-e` returns the child's exit code.
 */
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {BIN} from './cli.js'
import {repoRoot} from './shared-data.js'

/** Fails loudly (never skips) when util-linux `script` is missing. */
export function ensureScript(): void {
  try {
    execFileSync('script', ['--version'], {stdio: 'pipe'})
  } catch {
    throw new Error("the pty tests need util-linux's `script` (Debian: bsdutils), which is missing")
  }
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

export interface PtyRun {
  /** the `script` process */
  child: ChildProcess
  /** signal the command itself (`script`'s child): it stops as on a terminal, and `script` then ends with its exit code */
  signal(sig: NodeJS.Signals): void
  out(): string
  exited: Promise<number | null>
  /** resolves when the terminal output has matched `re` (rejects after timeoutMs) */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
}

export function spawnInPty(args: string[], opts: {env?: Record<string, string | undefined>} = {}): PtyRun {
  const env = {...process.env, MM_REST_URL: undefined, MM_WS_URL: undefined, MM_PROGRESS: undefined, CI: undefined, ...opts.env} as NodeJS.ProcessEnv
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
  const cmd = `exec ${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(' ')}`
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], {cwd: repoRoot, env: {...env, SHELL: '/bin/sh'}, stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  const waiters: {re: RegExp; resolve: (m: RegExpMatchArray) => void}[] = []
  const check = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const m = out.match(waiters[i].re)
      if (m) waiters.splice(i, 1)[0].resolve(m)
    }
  }
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d
    check()
  })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    out += d
    check()
  })
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)))
  return {
    child,
    signal(sig) {
      // the command runs as `script`'s only child (exec'd by the shell)
      const pids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)
      if (pids.length !== 1) throw new Error(`expected one child of script (pid ${child.pid}), found ${JSON.stringify(pids)}`)
      process.kill(Number(pids[0]), sig)
    },
    out: () => out,
    exited,
    waitFor(re, timeoutMs = 60_000) {
      return new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error(`timed out waiting for ${re} on the terminal; got ${JSON.stringify(out)}`)), timeoutMs)
        waiters.push({re, resolve: (m) => {
          clearTimeout(t)
          res(m)
        }})
        check()
      })
    },
  }
}

export async function runInPty(args: string[], opts: {env?: Record<string, string | undefined>} = {}): Promise<{code: number | null; out: string}> {
  const r = spawnInPty(args, opts)
  const code = await r.exited
  return {code, out: r.out()}
}

/**
 * The status lines drawn on the terminal: each is written after `\r` + erase-line and
 * rewritten in place; the pieces of output between those are split apart here.
 */
export function statusLines(out: string, head: RegExp): string[] {
  return out.split('\r\u001b[2K').map((s) => s.split(/\r?\n/)[0]).filter((s) => head.test(s))
}
