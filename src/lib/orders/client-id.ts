/**
 * Client order ids (Binance `newClientOrderId`, FACTS §2.2: `^[\.A-Z\:/a-z0-9_-]{1,36}$`,
 * unique among open orders, -4116 when duplicated).
 *
 * Shape: `mm-<run>-<slot>-<seq>`
 *  - `mm-`   fixed prefix, so our orders (and strays left by a crashed run) can be found
 *            among the account's open orders;
 *  - `<run>` the run id, `[A-Za-z0-9]{1,8}` (the engine picks it: random per live run,
 *            fixed for a replay so a replay is byte-identical);
 *  - `<slot>` the intent's slot with every character outside `[A-Za-z0-9:._/]` mapped to
 *            `_` (so `-` only ever separates fields), at most 14 characters; a longer or
 *            lossy slot is replaced by `h` + an FNV-1a hash of the slot;
 *  - `<seq>` a per-slot-code sequence number in base 36.
 *
 * An id is minted once, when reconcile decides to place an order; the place action
 * carries it, and a retried request re-sends that same action, so a retry can never
 * create a second order (the venue answers -4116 or returns the first one).
 * Uniqueness within a run: the sequence is counted per slot code, so even two slots that
 * map to the same code never share an id.
 */
export const CLIENT_ID_PREFIX = 'mm-'
export const CLIENT_ID_RE = /^[.A-Z:/a-z0-9_-]{1,36}$/
const RUN_RE = /^[A-Za-z0-9]{1,8}$/
const SLOT_MAX = 14
const SEQ_MAX = 36 - CLIENT_ID_PREFIX.length - 8 - 1 - SLOT_MAX - 1 // 9 base-36 digits

export interface ClientIdState {
  runId: string
  /** next sequence number per slot code */
  seq: Record<string, number>
}

export function initClientIds(runId: string): ClientIdState {
  if (!RUN_RE.test(runId)) throw new Error(`run id must be 1-8 characters [A-Za-z0-9], got ${JSON.stringify(runId)}`)
  return {runId, seq: {}}
}

/** FNV-1a 32-bit over UTF-16 code units, base 36. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h.toString(36)
}

/** The slot's field in the id (deterministic, ≤ 14 chars, no `-`). */
export function slotCode(slot: string): string {
  const mapped = slot.replace(/[^A-Za-z0-9:._/]/g, '_')
  if (mapped.length > 0 && mapped.length <= SLOT_MAX && mapped === slot) return mapped
  return 'h' + fnv1a(slot)
}

// own-property access only: slot codes such as `constructor` or `__proto__` are plain keys here
const getSeq = (seq: Record<string, number>, code: string): number => (Object.hasOwn(seq, code) ? seq[code] : 0)
function copySeq(seq: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const k of Object.keys(seq)) setSeq(out, k, seq[k])
  return out
}
function setSeq(seq: Record<string, number>, code: string, n: number): void {
  // a plain assignment makes (or sets) an own property for every key but `__proto__` (an accessor)
  if (code === '__proto__') Object.defineProperty(seq, code, {value: n, enumerable: true, writable: true, configurable: true})
  else seq[code] = n
}

export function formatClientId(runId: string, code: string, seq: number): string {
  const s = seq.toString(36)
  if (s.length > SEQ_MAX) throw new Error(`client id sequence overflow for ${code}`)
  // one flat string, not the rope (ConsString) a template literal of 13 or more characters
  // makes in V8: every later comparison of a rope with an equal string read from JSON (the
  // venue's answers, the user stream, the batch cancels signed ahead) goes through V8's
  // runtime, about 5× slower (docs/engine.md); `join` builds the characters in one string
  return [CLIENT_ID_PREFIX, runId, '-', code, '-', s].join('')
}

/**
 * Mint the next id for `slot`. Pure: returns the id and the advanced state.
 */
export function nextClientId(state: ClientIdState, slot: string): {id: string; state: ClientIdState} {
  const code = slotCode(slot)
  const n = getSeq(state.seq, code)
  const seq = copySeq(state.seq)
  setSeq(seq, code, n + 1)
  return {id: formatClientId(state.runId, code, n), state: {runId: state.runId, seq}}
}

/**
 * A mutable allocator over a copy of the state, for one decision step: call `next(slot)`
 * as often as needed, then `state()` to get the advanced state.
 */
export function clientIdAllocator(start: ClientIdState): {next(slot: string): string; state(): ClientIdState} {
  // copied on the first id minted (most steps mint none); a state handed out is never changed after
  let seq: Record<string, number> | null = null
  let out: ClientIdState | null = null
  return {
    next(slot: string): string {
      if (seq === null || out !== null) {
        seq = copySeq(seq ?? start.seq)
        out = null
      }
      const code = slotCode(slot)
      const n = getSeq(seq, code)
      const id = formatClientId(start.runId, code, n)
      setSeq(seq, code, n + 1)
      return id
    },
    state: () => {
      if (seq === null) return start
      out ??= {runId: start.runId, seq}
      return out
    },
  }
}

export interface ParsedClientId {
  runId: string
  slotCode: string
  seq: number
}

/** Parse one of our ids; null for anything else (a manual order, a liquidation `autoclose-…`). */
export function parseClientId(id: string): ParsedClientId | null {
  if (!id.startsWith(CLIENT_ID_PREFIX) || !CLIENT_ID_RE.test(id)) return null
  const parts = id.slice(CLIENT_ID_PREFIX.length).split('-')
  if (parts.length !== 3) return null
  const [runId, code, seq] = parts
  if (!RUN_RE.test(runId) || code.length === 0 || !/^[0-9a-z]+$/.test(seq)) return null
  return {runId, slotCode: code, seq: parseInt(seq, 36)}
}

/** Is this an order placed by mm (any run)? With `runId`, by that run only. */
export function isOwnClientId(id: string, runId?: string): boolean {
  const p = parseClientId(id)
  return p !== null && (runId === undefined || p.runId === runId)
}
