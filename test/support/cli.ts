/**
 * Run the real CLI (`node bin/run.js …`, the built dist) as a child process.
 * The build comes from `npm run prepare`; a missing build fails loudly.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {resolve} from 'node:path'
import {repoRoot} from './shared-data.js'

export const BIN = resolve(repoRoot, 'bin/run.js')

export function ensureBuilt(command: string): void {
  const p = resolve(repoRoot, `dist/commands/${command}.js`)
  if (!existsSync(p)) throw new Error(`${p} is missing: run \`npm run prepare\` before the end-to-end tests`)
}

export interface CliRun {
  child: ChildProcess
  stdout(): string
  stderr(): string
  /** resolves when the process exits */
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>
  /** resolves when stdout (or stderr) has matched `re` */
  waitFor(re: RegExp, stream?: 'stdout' | 'stderr', timeoutMs?: number): Promise<RegExpMatchArray>
}

export function spawnCli(args: string[], opts: {env?: Record<string, string | undefined>; cwd?: string} = {}): CliRun {
  const env = {...process.env, MM_REST_URL: undefined, MM_WS_URL: undefined, ...opts.env} as NodeJS.ProcessEnv
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
  const child = spawn(process.execPath, [BIN, ...args], {cwd: opts.cwd ?? repoRoot, env, stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  let err = ''
  const waiters: {re: RegExp; stream: 'stdout' | 'stderr'; resolve: (m: RegExpMatchArray) => void}[] = []
  const check = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]
      const m = (w.stream === 'stdout' ? out : err).match(w.re)
      if (m) {
        waiters.splice(i, 1)
        w.resolve(m)
      }
    }
  }
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d
    check()
  })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d
    check()
  })
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((res) => child.on('close', (code, signal) => res({code, signal})))
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    // 60 s: a child's start (node + oclif + the command's imports) takes 1–2 s here and several times that on a
    // loaded 2-core CI machine; the bound only matters when the line never comes
    waitFor(re, stream = 'stdout', timeoutMs = 60_000) {
      return new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error(`timed out waiting for ${re} on ${stream}; stdout=${out} stderr=${err}`)), timeoutMs)
        waiters.push({re, stream, resolve: (m) => {
          clearTimeout(t)
          res(m)
        }})
        check()
      })
    },
  }
}

export async function runCli(args: string[], opts: {env?: Record<string, string | undefined>; cwd?: string} = {}): Promise<{code: number | null; stdout: string; stderr: string}> {
  const r = spawnCli(args, opts)
  const {code} = await r.exited
  return {code, stdout: r.stdout(), stderr: r.stderr()}
}
