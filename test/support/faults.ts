/**
 * The fault suite (docs/RELIABILITY.md): each scenario is one hostile venue behaviour, one
 * command run through bin/run.js against it, and the invariant that must hold. Used by
 * test/e2e/faults.test.ts (one round each) and by `npm run reliability` (several rounds,
 * regenerating docs/RELIABILITY.md).
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {spawnCli} from './cli.js'
import {type HostileOptions, HostileVenue} from './hostile-venue.js'

export interface RunOutcome {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** ms from spawn to exit */
  elapsedMs: number
  /** ms from the venue's first request (the command is up) to the exit */
  workMs: number
  /** ms from the SIGTERM to the exit (when one was sent) */
  afterSignalMs?: number
  json?: {ok: boolean; data?: Record<string, unknown>; error?: Record<string, unknown>}
  venue: HostileVenue['stats']
}

export interface Scenario {
  id: string
  fault: string
  command: 'record' | 'quote'
  invariant: string
  venue: HostileOptions
  args: (out: string) => string[]
  /** send SIGTERM this long after the venue saw the first request (ms) */
  sigtermAfterMs?: number
  /** hard limit for one run (ms); a run over it is killed and fails */
  limitMs: number
  /** undefined when the invariant held, else why not */
  check: (r: RunOutcome) => string | undefined
}

const oneLine = (r: RunOutcome) => (r.stderr.includes('    at ') ? 'a stack trace on stderr' : undefined)

function expectJson(r: RunOutcome): Record<string, unknown> | string {
  if (!r.json) return `no JSON on stdout: ${r.stdout.slice(0, 200)} / ${r.stderr.slice(0, 300)}`
  return (r.json.data ?? r.json.error ?? {}) as Record<string, unknown>
}

/** mm quote --dry-run on the venue's live data, with a config whose sync budget is `budgetMs` */
const quote = (extra: string[], budgetMs = 60_000) => (out: string) => {
  const cfg = join(out, 'mm.config.json')
  writeFileSync(cfg, JSON.stringify({feed: {syncBudgetMs: budgetMs}}))
  return ['quote', '--symbol', 'ETHUSDC', '--dry-run', '--json', '--config', cfg, ...extra]
}

/**
 * A stop after SIGTERM: the product's own figure (`stopMs` in --json: signal → every file
 * closed) within the 2 s bound, and the process gone within a generous bound measured from
 * outside (a loaded machine stretches process teardown; the figure table shows the real
 * time).
 */
function stoppedInTime(r: RunOutcome, d: Record<string, unknown>): string | undefined {
  if (typeof d.stopMs !== 'number') return `no stopMs in the summary: ${JSON.stringify(d)}`
  if (d.stopMs > 2000) return `stopMs ${d.stopMs} (over 2 s)`
  if ((r.afterSignalMs ?? 1e9) > 10_000) return `the process took ${r.afterSignalMs} ms after SIGTERM to exit`
  return undefined
}

const rec = (extra: string[]) => (out: string) => ['record', '--symbol', 'ETHUSDC', '--out', out, '--json', ...extra]

export const SCENARIOS: Scenario[] = [
  {
    id: 'record-healthy',
    fault: 'none (healthy venue)',
    command: 'record',
    invariant: 'exit 0, no holes, ends on --duration',
    venue: {},
    args: rec(['--duration', '3s']),
    limitMs: 20_000,
    check(r) {
      const d = expectJson(r)
      if (typeof d === 'string') return d
      if (r.code !== 0) return `exit ${r.code}: ${r.stderr}`
      if (d.holes !== false || d.gaps !== 0 || d.stoppedBy !== 'duration') return `summary ${JSON.stringify(d)}`
      return oneLine(r)
    },
  },
  {
    id: 'record-duration-25d-sigterm',
    fault: '--duration 25d (past the 24.8-day timer limit), then SIGTERM',
    command: 'record',
    invariant: 'still running after 1.5 s (no 1 ms timer); SIGTERM → exit 0, stopped by signal, files closed within 2 s (stopMs)',
    venue: {},
    args: rec(['--duration', '25d']),
    sigtermAfterMs: 1500,
    limitMs: 20_000,
    check(r) {
      const d = expectJson(r)
      if (typeof d === 'string') return d
      if (r.code !== 0 || d.stoppedBy !== 'signal') return `exit ${r.code}, ${JSON.stringify(d)}`
      return stoppedInTime(r, d) ?? oneLine(r)
    },
  },
  {
    id: 'record-ws-404',
    fault: 'WebSocket upgrade answered 404',
    command: 'record',
    invariant: 'exit 1 with a one-line reason, within the sync budget (--sync-timeout 4s) + 2 s',
    venue: {ws: '404'},
    args: rec(['--duration', '60s', '--sync-timeout', '4s']),
    limitMs: 30_000,
    check(r) {
      if (r.code !== 1) return `exit ${r.code}: ${r.stderr}`
      if (r.workMs > 4000 + 2000) return `took ${r.workMs} ms`
      return oneLine(r)
    },
  },
  {
    id: 'record-ws-hang-sigterm',
    fault: 'WebSocket handshake never completes; SIGTERM',
    command: 'record',
    invariant: 'SIGTERM → exit 3 (never synced), files closed within 2 s (stopMs)',
    venue: {ws: 'hang'},
    args: rec(['--duration', '60s']),
    sigtermAfterMs: 1000,
    limitMs: 30_000,
    check(r) {
      if (r.code === null) return `killed by ${r.signal}`
      const d = expectJson(r)
      if (typeof d === 'string') return d
      if (r.code !== 3 || d.stoppedBy !== 'signal') return `exit ${r.code}, ${JSON.stringify(d)}`
      return stoppedInTime(r, d) ?? oneLine(r)
    },
  },
  {
    id: 'record-ws-hang-budget',
    fault: 'WebSocket handshake never completes',
    command: 'record',
    invariant: 'exit 1 naming the reason once the sync budget (--sync-timeout 3s) is spent, within 3 s + 2 s',
    venue: {ws: 'hang'},
    args: rec(['--duration', '60s', '--sync-timeout', '3s']),
    limitMs: 30_000,
    check(r) {
      if (r.code !== 1) return `exit ${r.code}: ${r.stderr}`
      if (r.workMs > 3000 + 2000) return `took ${r.workMs} ms`
      return oneLine(r)
    },
  },
  {
    id: 'record-ws-close-storm',
    fault: 'every WebSocket accepted then closed at once',
    command: 'record',
    invariant: 'reconnects paced by the backoff: at most 12 connections in 6 s; exit 3 (holes) or 1',
    venue: {ws: 'close'},
    args: rec(['--duration', '6s']),
    limitMs: 30_000,
    check(r) {
      if (r.venue.connections > 12) return `${r.venue.connections} connections in 6 s`
      if (r.code !== 3 && r.code !== 1) return `exit ${r.code}`
      return oneLine(r)
    },
  },
  {
    id: 'record-depth-hang',
    fault: 'depth REST call never answers',
    command: 'record',
    invariant: '--duration 3s honoured before the first sync: exit 3 (never synced) within 3 s + 2 s',
    venue: {depth: 'hang'},
    args: rec(['--duration', '3s']),
    limitMs: 30_000,
    check(r) {
      const d = expectJson(r)
      if (typeof d === 'string') return d
      if (r.code !== 3) return `exit ${r.code}: ${r.stderr}`
      if (r.workMs > 3000 + 2000) return `took ${r.workMs} ms`
      if (!Array.isArray(d.neverSynced) || d.neverSynced[0] !== 'ETHUSDC' || d.holes !== true) return `summary ${JSON.stringify(d)}`
      return oneLine(r)
    },
  },
  {
    id: 'record-depth-hang-sigterm',
    fault: 'depth REST call never answers; SIGTERM',
    command: 'record',
    invariant: 'SIGTERM → exit 3 (never synced), files closed within 2 s (stopMs)',
    venue: {depth: 'hang'},
    args: rec(['--duration', '60s']),
    sigtermAfterMs: 1500,
    limitMs: 30_000,
    check(r) {
      if (r.code === null) return `killed by ${r.signal}`
      const d = expectJson(r)
      if (typeof d === 'string') return d
      if (r.code !== 3 || d.stoppedBy !== 'signal') return `exit ${r.code}, ${JSON.stringify(d)}`
      return stoppedInTime(r, d) ?? oneLine(r)
    },
  },
  {
    id: 'record-depth-negative',
    fault: 'depth snapshot with a negative quantity',
    command: 'record',
    invariant: 'no snapshot storm (at most 8 depth calls in 5 s); exit 3, never synced',
    venue: {depth: 'negative'},
    args: rec(['--duration', '5s']),
    limitMs: 30_000,
    check(r) {
      if (r.venue.depth > 8) return `${r.venue.depth} depth calls in 5 s`
      if (r.code !== 3) return `exit ${r.code}: ${r.stderr}`
      return oneLine(r)
    },
  },
  {
    id: 'record-depth-ahead',
    fault: 'depth snapshot ahead of the stream (never bridges)',
    command: 'record',
    invariant: 'dropped after the 5 s bridge timeout and fetched again (at most 8 depth calls in 9 s); exit 3',
    venue: {depth: 'ahead'},
    args: rec(['--duration', '9s']),
    limitMs: 30_000,
    check(r) {
      if (r.venue.depth > 8) return `${r.venue.depth} depth calls`
      if (r.venue.depth < 2) return 'the snapshot ahead was never dropped'
      if (r.code !== 3) return `exit ${r.code}: ${r.stderr}`
      return oneLine(r)
    },
  },
  {
    id: 'record-frames-gaps',
    fault: 'every diff frame breaks the pu chain',
    command: 'record',
    invariant: 'resyncs paced by the backoff (at most 10 depth calls in 6 s); gaps counted; exit 3',
    venue: {frames: 'gaps'},
    args: rec(['--duration', '6s']),
    limitMs: 30_000,
    check(r) {
      const d = expectJson(r)
      if (typeof d === 'string') return d
      if (r.venue.depth > 10) return `${r.venue.depth} depth calls in 6 s`
      if (r.code !== 3) return `exit ${r.code}: ${r.stderr}`
      return oneLine(r)
    },
  },
  {
    id: 'record-frames-number-price',
    fault: 'diff frames with the price as a JSON number',
    command: 'record',
    invariant: 'bad frames counted in --json and meta.json; exit 3',
    venue: {frames: 'number-price'},
    args: rec(['--duration', '3s']),
    limitMs: 30_000,
    check(r) {
      const d = expectJson(r)
      if (typeof d === 'string') return d
      if (r.code !== 3) return `exit ${r.code}: ${r.stderr}`
      if (!(typeof d.badFrames === 'number' && d.badFrames > 0)) return `badFrames ${d.badFrames}`
      return oneLine(r)
    },
  },
  {
    id: 'record-frames-truncated',
    fault: 'truncated JSON frames',
    command: 'record',
    invariant: 'bad frames counted in --json and meta.json; exit 3',
    venue: {frames: 'truncated'},
    args: rec(['--duration', '3s']),
    limitMs: 30_000,
    check(r) {
      const d = expectJson(r)
      if (typeof d === 'string') return d
      if (r.code !== 3) return `exit ${r.code}: ${r.stderr}`
      if (!(typeof d.badFrames === 'number' && d.badFrames > 0)) return `badFrames ${d.badFrames}`
      return oneLine(r)
    },
  },
  {
    id: 'quote-healthy-sigterm',
    fault: 'none (healthy venue); SIGTERM while quoting',
    command: 'quote',
    invariant: 'SIGTERM → exit 0 within 2 s (orders cancelled, summary written)',
    venue: {},
    args: quote(['--duration', '60s']),
    sigtermAfterMs: 2500,
    limitMs: 40_000,
    check(r) {
      if (r.code !== 0) return `exit ${r.code}: ${r.stderr}`
      if ((r.afterSignalMs ?? 1e9) > 2000) return `took ${r.afterSignalMs} ms after SIGTERM`
      return oneLine(r)
    },
  },
  {
    id: 'quote-depth-hang-duration',
    fault: 'depth REST call never answers',
    command: 'quote',
    invariant: '--duration 3s honoured before the first sync: exit 0 within 3 s + 2 s',
    venue: {depth: 'hang'},
    args: quote(['--duration', '3s']),
    limitMs: 40_000,
    check(r) {
      if (r.code !== 0) return `exit ${r.code}: ${r.stderr}`
      if (r.workMs > 3000 + 2000) return `took ${r.workMs} ms`
      return oneLine(r)
    },
  },
  {
    id: 'quote-ws-hang-sigterm',
    fault: 'WebSocket handshake never completes; SIGTERM',
    command: 'quote',
    invariant: 'SIGTERM → exit within 2 s',
    venue: {ws: 'hang'},
    args: quote(['--duration', '60s']),
    sigtermAfterMs: 1500,
    limitMs: 40_000,
    check(r) {
      if (r.code === null) return `killed by ${r.signal}`
      if ((r.afterSignalMs ?? 1e9) > 2000) return `took ${r.afterSignalMs} ms after SIGTERM`
      return oneLine(r)
    },
  },
  {
    id: 'quote-ws-404-budget',
    fault: 'WebSocket upgrade answered 404',
    command: 'quote',
    invariant: 'exit 1 naming the reason once the sync budget (feed.syncBudgetMs 3000) is spent, within 3 s + 2 s',
    venue: {ws: '404'},
    args: quote(['--duration', '60s'], 3000),
    limitMs: 40_000,
    check(r) {
      if (r.code !== 1) return `exit ${r.code}: ${r.stderr}`
      if (r.workMs > 3000 + 2000) return `took ${r.workMs} ms`
      if (!/could not sync/.test(r.stdout + r.stderr)) return `no reason given: ${r.stderr}`
      return oneLine(r)
    },
  },
  {
    id: 'quote-depth-negative-budget',
    fault: 'depth snapshot with a negative quantity',
    command: 'quote',
    invariant: 'exit 1 with the reason after the sync budget (3 s); at most 8 depth calls',
    venue: {depth: 'negative'},
    args: quote(['--duration', '60s'], 3000),
    limitMs: 40_000,
    check(r) {
      if (r.code !== 1) return `exit ${r.code}: ${r.stderr}`
      if (r.venue.depth > 8) return `${r.venue.depth} depth calls`
      if (r.workMs > 3000 + 2000) return `took ${r.workMs} ms`
      return oneLine(r)
    },
  },
  {
    id: 'quote-ws-close-storm',
    fault: 'every WebSocket accepted then closed at once',
    command: 'quote',
    invariant: 'at most 12 connections in 6 s; ends on --duration',
    venue: {ws: 'close'},
    args: quote(['--duration', '6s']),
    limitMs: 40_000,
    check(r) {
      if (r.venue.connections > 12) return `${r.venue.connections} connections in 6 s`
      if (r.code !== 0) return `exit ${r.code}: ${r.stderr}`
      // ends on --duration, not on the 40 s limit: start-up before the feed plus the stop took up to 1.7 s here
      // (7.7 s in all) under a load of 9 on 2 cores, so 5 s of slack, not 2
      if (r.workMs > 6000 + 5000) return `took ${r.workMs} ms`
      return oneLine(r)
    },
  },
  {
    id: 'quote-frames-gaps',
    fault: 'every diff frame breaks the pu chain',
    command: 'quote',
    invariant: 'resyncs paced by the backoff: at most 10 depth calls in 6 s; ends on --duration',
    venue: {frames: 'gaps'},
    args: quote(['--duration', '6s']),
    limitMs: 40_000,
    check(r) {
      if (r.venue.depth > 10) return `${r.venue.depth} depth calls in 6 s`
      if (r.code !== 0) return `exit ${r.code}: ${r.stderr}`
      return oneLine(r)
    },
  },

]

/** Run one scenario once: a fresh hostile venue, the CLI against it, the outcome. */
export async function runScenario(s: Scenario, seed = 1): Promise<RunOutcome> {
  const venue = new HostileVenue({...s.venue, seed})
  const {restUrl, wsUrl} = await venue.start()
  const out = mkdtempSync(join(tmpdir(), `mm-fault-${s.id}-`))
  const started = performance.now()
  const run = spawnCli(s.args(out), {env: {MM_REST_URL: restUrl, MM_WS_URL: wsUrl, MM_STATE_DIR: join(out, 'state')}})
  let signalAt: number | undefined
  const kill = setTimeout(() => run.child.kill('SIGKILL'), s.limitMs)
  let sigTimer: NodeJS.Timeout | undefined
  if (s.sigtermAfterMs !== undefined) {
    // count from the venue's first request, so a slow start does not eat the wait
    const poll = setInterval(() => {
      if (venue.stats.exchangeInfo > 0) {
        clearInterval(poll)
        sigTimer = setTimeout(() => {
          signalAt = performance.now()
          run.child.kill('SIGTERM')
        }, s.sigtermAfterMs)
      }
    }, 20)
    run.exited.finally(() => clearInterval(poll))
  }
  const {code, signal} = await run.exited
  const ended = performance.now()
  clearTimeout(kill)
  clearTimeout(sigTimer)
  await venue.stop()
  let json: RunOutcome['json']
  const text = run.stdout().trim()
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    try {
      json = JSON.parse(text.split('\n').at(-1) ?? '')
    } catch {
      json = undefined
    }
  }
  return {code, signal, stdout: run.stdout(), stderr: run.stderr(), elapsedMs: Math.round(ended - started), workMs: Math.round(ended - (venue.firstRequestAt ?? started)), afterSignalMs: signalAt === undefined ? undefined : Math.round(ended - signalAt), json, venue: {...venue.stats}}
}
