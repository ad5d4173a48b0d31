/**
 * Raw venue lines as a recording reader hands them to the replay driver: the driver's byte
 * scanner reads each message once; the reader contributes its receive-time column and
 * its JSON.parse path for what the scanner does not handle.
 */
import type {MarketEvent} from './events.js'

/** How a reader of raw lines helps the driver: the receive-time column, and the slow path. */
export interface LineDecoder {
  /** read a line's head: false to skip it (blank, header); else sets localTs and start */
  head(line: string): boolean
  /** receive time of the line just read, µs */
  localTs: number
  /** where the line's JSON message starts */
  start: number
  /** the JSON.parse path for a message the scanner does not handle: an event, or null (skipped) */
  parse(line: string): MarketEvent | null
}

/** A chunk of raw lines and the decoder of the file they come from. */
export interface LineBatch {
  lines: string[]
  decoder: LineDecoder
}

/**
 * Bytes a reader took from its files so far (compressed bytes for a .gz), for a replay's
 * progress: the reader adds each chunk it reads; a timer reads `read`.
 */
export interface ByteCount {
  read: number
}

/**
 * Input checks the replay driver runs on each market message of a line input (the replay
 * guard, record/replay-guard.ts): the message's receive time and whether it is of the
 * replayed symbol, as the decoder and the byte scanner read them.
 */
export interface LineCheck {
  /** receive time `localTs` (µs); `mine`: of the replayed symbol. false: skip it (another symbol, counted); throws to refuse the input */
  see(localTs: number, mine: boolean): boolean
}
