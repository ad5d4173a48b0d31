/**
 * The base of every command: one --json envelope, typed errors → exit codes and a
 * one-line message with a suggestion, and the flags every command shares.
 */
import {Command, Errors, Flags, Interfaces, ux} from '@oclif/core'
import {MmError} from '../domain/errors.js'

export type JsonEnvelope<T> = {ok: true; command: string; data: T} | {ok: false; command: string; error: ErrorBody}

export interface ErrorBody {
  code: string
  message: string
  exitCode: number
  suggestion?: string
  details?: Record<string, unknown>
}

/** Turn anything thrown into the error body: MmError as is, oclif parse errors as usage (2). */
export function errorBody(err: unknown): ErrorBody {
  if (err instanceof MmError) {
    return {code: err.code, message: err.message, exitCode: err.exitCode, suggestion: err.suggestion, details: err.details}
  }
  const e = err as {message?: string; oclif?: {exit?: number}; constructor?: {name?: string}}
  const name = e?.constructor?.name ?? ''
  // oclif's flag/arg parse errors: exit 2 (SPEC.md §1)
  if (/Parse|Flag|Arg|Required|Option|Unexpected|NonExistent/.test(name) || (e?.oclif?.exit === 2) || /^Flag --\S+ expects a value/.test(e?.message ?? '')) {
    return {code: 'E_USAGE', message: usageMessage(e.message ?? String(err)), exitCode: 2, suggestion: 'see --help for the flags this command takes'}
  }
  return {code: 'E_INTERNAL', message: firstLine(e?.message ?? String(err)), exitCode: 1}
}

/**
 * oclif's parse messages as one line that names the flag or argument and the value:
 * "The following error occurred:\n  Missing required flag symbol\nSee more help with --help"
 * → "missing required flag --symbol"; "Parsing --p \n\tExpected an integer less than or
 * equal to 65535 but received: 70000" → "--p 70000: expected an integer less than or equal to 65535".
 */
export function usageMessage(raw: string): string {
  const lines = raw
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/^See more help with/i.test(l) && !/^The following errors? occurred:?$/i.test(l))
  const out: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]
    const parsing = /^Parsing (--[\w-]+)$/.exec(l)
    if (parsing) {
      const next = lines[i + 1] ?? ''
      const got = /^(.*?)\s*but received:\s*(.*)$/.exec(next)
      if (got) {
        out.push(`${parsing[1]} ${got[2]}: ${lowerFirst(got[1])}`)
        i++
        continue
      }
      if (next) {
        out.push(`${parsing[1]}: ${lowerFirst(next)}`)
        i++
        continue
      }
    }
    const missing = /^Missing required flag:?\s*-*([\w-]+)$/i.exec(l)
    if (missing) {
      out.push(`missing required flag --${missing[1]}`)
      continue
    }
    const missingArg = /^Missing (\d+ )?required args?:?$/i.exec(l)
    if (missingArg && lines[i + 1]) {
      out.push(`missing required argument ${lines[i + 1].split(/\s+/)[0]}`)
      i++
      continue
    }
    out.push(l)
  }
  return out.length > 0 ? out.join('; ') : firstLine(raw)
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0].toLowerCase() + s.slice(1) : s
}

function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim().length > 0)?.trim() ?? s
}

export const venueFlags = {
  'rest-url': Flags.string({description: 'REST base URL of the venue, e.g. mm sim (default: Binance USDⓈ-M production, or the testnet with --testnet)', env: 'MM_REST_URL', helpGroup: 'VENUE'}),
  'ws-url': Flags.string({description: 'WebSocket base URL of the venue (default: Binance USDⓈ-M production, or the testnet with --testnet)', env: 'MM_WS_URL', helpGroup: 'VENUE'}),
  testnet: Flags.boolean({description: "use Binance's futures testnet (default: off)", default: false, helpGroup: 'VENUE'}),
}

/** No default here: resolved at run time (resolveStateDir), so the manifest freezes nothing. */
export const stateDirFlag = {
  'state-dir': Flags.string({description: 'state dir: per-symbol state.json and run logs (default: env MM_STATE_DIR, else $XDG_STATE_HOME/mm, else ~/.local/state/mm)'}),
}

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  protected flags!: Interfaces.InferredFlags<T['flags'] & T['baseFlags']>
  protected args!: Interfaces.InferredArgs<T['args']>
  /** every positional argument (for commands with strict = false) */
  protected positionals: string[] = []

  public override async init(): Promise<void> {
    await super.init()
    const {args, flags, argv} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as typeof this.flags
    this.args = args as typeof this.args
    this.positionals = argv.map(String)
  }

  /** Return `result`, or — for a non-zero exit (3: partly done) — print it (--json) and exit with `exitCode`. */
  protected finish<R>(result: R, exitCode: number): R {
    if (exitCode === 0) return result
    if (this.jsonEnabled()) this.logJson(this.toSuccessJson(result))
    this.exit(exitCode)
  }

  /**
   * --json output. oclif colours it token by token whatever stdout is, which for a large
   * answer costs the main thread more than the answer itself (`mm calibrate --json` over
   * 1,280 results: about 0.25 s of tokenizing plus its garbage, with the same text out when
   * no colour theme is set). The text is JSON.stringify's with two spaces, as oclif's; the
   * colours only where a person reads them: a terminal, with a JSON theme configured.
   */
  protected override logJson(json: unknown): void {
    if (process.stdout.isTTY && this.config.theme?.json) super.logJson(json)
    else ux.stdout(JSON.stringify(json, null, 2))
  }

  protected override toSuccessJson(result: unknown): JsonEnvelope<unknown> {
    return {ok: true, command: this.id ?? '', data: result}
  }

  protected override toErrorJson(err: unknown): JsonEnvelope<unknown> {
    return {ok: false, command: this.id ?? '', error: errorBody(err)}
  }

  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    if (err instanceof Errors.ExitError) throw err
    const body = errorBody(err)
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(err))
    } else {
      // as the user typed it: `mm calibrate plan`, not oclif's id `calibrate:plan`
      process.stderr.write(`mm ${(this.id ?? '').replaceAll(':', ' ')}: ${body.message}\n`)
      if (body.suggestion) process.stderr.write(`  hint: ${body.suggestion}\n`)
      if (body.code === 'E_INTERNAL' && process.env.MM_DEBUG) process.stderr.write(`${err.stack}\n`)
    }
    throw new Errors.ExitError(body.exitCode)
  }
}

/** The status line on a terminal (quote, record); env MM_PROGRESS=0 turns it off too. */
export const progressFlag = {
  progress: Flags.boolean({description: 'a status line on stderr, rewritten once a second, when stderr is a terminal (default: on; --no-progress or MM_PROGRESS=0: none; never off a terminal)', default: true, allowNo: true, env: 'MM_PROGRESS'}),
}
