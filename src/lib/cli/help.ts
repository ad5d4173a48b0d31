/**
 * mm's help (oclif's, plus): every flag says its default. oclif prints `[default: X]` for
 * option flags with a truthy default only; here a plain boolean (which can only be turned
 * on) says "(default: off)", an option defaulting to 0 or '' shows it, and an option with
 * no default that does not say what happens without it says "(default: none)".
 */
import {type Command, Help} from '@oclif/core'

type Flag = Command.Loadable['flags'][string]

export function withDefault(name: string, f: Flag): Flag {
  const desc = f.description ?? ''
  if (name === 'json' || f.required || /\bdefault\b/i.test(desc)) return f
  if (f.type === 'boolean') return f.allowNo ? f : {...f, description: `${desc} (default: off)`.trim()}
  if (f.default !== undefined && f.default !== null && f.default !== '' && f.default !== 0) return f
  if (f.default === 0 || f.default === '') return {...f, description: `${desc} (default: ${JSON.stringify(f.default)})`.trim()}
  return {...f, description: `${desc} (default: none)`.trim()}
}

export default class MmHelp extends Help {
  protected override formatCommand(command: Command.Loadable): string {
    const flags = Object.fromEntries(Object.entries(command.flags).map(([n, f]) => [n, withDefault(n, f)]))
    return super.formatCommand({...command, flags})
  }
}
