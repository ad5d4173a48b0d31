/**
 * --log-file / --log-level, shared by the commands that log (quote, record), and the
 * logger they build from them (src/lib/telemetry/log.ts).
 */
import {Flags} from '@oclif/core'
import {createLogger, LOG_LEVELS, type MmLogger, parseLogLevel} from '../telemetry/log.js'

export const logFlags = {
  'log-file': Flags.string({description: 'append JSON log lines to this file instead of stderr; SIGHUP reopens it, for logrotate (default: stderr)', env: 'MM_LOG_FILE', helpGroup: 'LOGGING'}),
  'log-level': Flags.string({description: 'least level logged (default: info into --log-file, else warn on stderr; a replay on stderr: error)', options: [...LOG_LEVELS], env: 'MM_LOG_LEVEL', helpGroup: 'LOGGING'}),
}

/** The command's logger; SIGHUP reopens a --log-file until `close` is called. */
export function loggerFromFlags(f: {'log-file'?: string; 'log-level'?: string}, base: Record<string, string>): {log: MmLogger; close(): void} {
  const log = createLogger({file: f['log-file'], level: parseLogLevel(f['log-level']), base})
  const onHup = () => log.reopen()
  if (log.file) process.on('SIGHUP', onHup)
  return {log, close: () => process.off('SIGHUP', onHup)}
}
