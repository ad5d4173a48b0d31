/**
 * Typed errors. Every error the CLI can surface is an MmError with a stable `code`,
 * an exit code (SPEC.md §1: 1 error, 2 bad usage/config, 3 partial) and a suggestion.
 */
export type ExitCode = 1 | 2 | 3

export class MmError extends Error {
  readonly code: string
  readonly exitCode: ExitCode
  readonly suggestion?: string
  readonly details?: Record<string, unknown>

  constructor(code: string, message: string, opts: {exitCode?: ExitCode; suggestion?: string; details?: Record<string, unknown>; cause?: unknown} = {}) {
    super(message, opts.cause === undefined ? undefined : {cause: opts.cause})
    this.name = new.target.name
    this.code = code
    this.exitCode = opts.exitCode ?? 1
    this.suggestion = opts.suggestion
    this.details = opts.details
  }
}

/** Bad flags, bad files, bad config: exit 2, nothing touched. */
export class UsageError extends MmError {
  constructor(code: string, message: string, opts: {suggestion?: string; details?: Record<string, unknown>; cause?: unknown} = {}) {
    super(code, message, {...opts, exitCode: 2})
  }
}

export class ConfigError extends UsageError {}

/** The venue could not be reached or answered with an error. */
export class VenueError extends MmError {
  readonly venueCode?: number
  readonly httpStatus?: number
  constructor(code: string, message: string, opts: {suggestion?: string; details?: Record<string, unknown>; cause?: unknown; venueCode?: number; httpStatus?: number} = {}) {
    super(code, message, {...opts, exitCode: 1})
    this.venueCode = opts.venueCode
    this.httpStatus = opts.httpStatus
  }
}

/** The command ran but could not fully do its job (exit 3). */
export class PartialError extends MmError {
  constructor(code: string, message: string, opts: {suggestion?: string; details?: Record<string, unknown>} = {}) {
    super(code, message, {...opts, exitCode: 3})
  }
}

/** A price/quantity that is not on the instrument's grid or not a decimal at all. */
export class GridError extends MmError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('E_GRID', message, {exitCode: 2, details})
  }
}
