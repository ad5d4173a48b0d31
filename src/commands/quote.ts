import {Flags} from '@oclif/core'
import {surviveClosedOutput} from '../lib/cli/output-closed.js'
import {BaseCommand, progressFlag, stateDirFlag, venueFlags} from '../lib/cli/base.js'
import {parseDuration} from '../lib/cli/duration.js'
import {resolveEndpoints} from '../lib/cli/endpoints.js'
import {logFlags} from '../lib/cli/log-flags.js'
import {createLogger, parseLogLevel} from '../lib/telemetry/log.js'
import {parseSpeed, quote, type QuoteResult} from '../lib/run/quote.js'
import {renderSummaryTable} from '../lib/report/table.js'
import {UsageError} from '../lib/domain/errors.js'
import {resolveStateDir} from '../lib/state/dir.js'

/** --ws-api-url: a ws:// or wss:// URL, else a one-line usage error */
function checkWsApiUrl(u: string): string {
  let p: URL
  try {
    p = new URL(u)
  } catch {
    throw new UsageError('E_URL', `--ws-api-url: ${JSON.stringify(u)} is not a URL`)
  }
  if (p.protocol !== 'ws:' && p.protocol !== 'wss:') throw new UsageError('E_URL', `--ws-api-url: ${u} must use ws: or wss:`)
  return u
}

/** Ask once on the TTY before trading real money; true only for an explicit yes. */
async function askYes(lines: string[]): Promise<boolean> {
  const {createInterface} = await import('node:readline/promises')
  const rl = createInterface({input: process.stdin, output: process.stderr})
  try {
    const a = await rl.question(`${lines.join('\n')}\nTrade real money on Binance with these settings? [y/N] `)
    return /^y(es)?$/i.test(a.trim())
  } finally {
    rl.close()
  }
}

export default class Quote extends BaseCommand<typeof Quote> {
  static override description = 'Run the maker loop. Without --dry-run: live orders on Binance (keys from MM_API_KEY/MM_API_SECRET or --key-file; docs/live.md). --dry-run: real market data (live, or --replay PATH), paper orders, no signed request is ever sent'
  static override examples = [
    '<%= config.bin %> quote --symbol ETHUSDC --dry-run --replay recordings/ETHUSDC',
    '<%= config.bin %> quote --symbol ETHUSDC --dry-run --duration 10m',
    '<%= config.bin %> quote --symbol ETHUSDC --dry-run --replay recordings/ETHUSDC --speed 20 --metrics-port 9464',
    '<%= config.bin %> quote --symbol ETHUSDT --dry-run --replay ethusdt_20240718.gz --replay ethusdt_20240719.gz --strategy naive',
  ]

  static override flags = {
    symbol: Flags.string({char: 's', description: 'symbol to quote, e.g. ETHUSDC', required: true}),
    'dry-run': Flags.boolean({description: 'paper orders on real market data; no signed request is sent (default: off; required in this version)', default: false}),
    replay: Flags.string({description: 'replay a recording (Tardis CSV file or folder, or raw captures; repeat for a day pair) instead of the live market (default: none: the live market)', multiple: true}),
    speed: Flags.string({description: "replay pace: 'max' (default) or a multiple of real time, e.g. 10"}),
    duration: Flags.string({char: 'd', description: 'stop after this long (market time in replay): 30s, 5m, 1h (default: end of data, or until SIGINT/SIGTERM live)'}),
    config: Flags.string({char: 'c', description: 'JSON config file (default: mm.config.json if present, else the defaults)'}),
    strategy: Flags.string({description: "override strategy.kind: 'v2' or the 'naive' baseline (default: the config's, v2)", options: ['v2', 'naive']}),
    'tick-size': Flags.string({description: "replay: the instrument's tick size when the recording has no meta.json (default: inferred from the data)"}),
    'step-size': Flags.string({description: "replay: the instrument's lot step when the recording has no meta.json (default: inferred from the data)"}),
    'min-notional': Flags.string({description: "replay: the instrument's min notional when the recording has no meta.json (default 5)"}),
    'key-file': Flags.string({description: 'live: API key and secret file (JSON {"apiKey","apiSecret"} or MM_API_KEY=/MM_API_SECRET= lines; mode 600); default: MM_API_KEY and MM_API_SECRET from the environment', helpGroup: 'LIVE'}),
    yes: Flags.boolean({description: "live: don't ask before trading on Binance's production venue (the question is only asked on a TTY)", default: false, helpGroup: 'LIVE'}),
    'allow-foreign-orders': Flags.boolean({description: "live: start although orders not placed by mm rest on the symbol (never touched; turns the dead-man's switch off)", default: false, helpGroup: 'LIVE'}),
    'order-transport': Flags.string({description: "live: where orders go: 'rest', or 'ws' (Binance's WebSocket API, falling back to REST while it cannot be reached) (default: the config's live.orderTransport, rest)", options: ['ws', 'rest'], helpGroup: 'LIVE'}),
    'ws-api-url': Flags.string({description: 'live: WebSocket API URL for --order-transport ws (default: Binance\'s, or <--ws-url>/ws-fapi/v1 with --ws-url)', helpGroup: 'LIVE'}),
    instance: Flags.string({description: 'live: instance name in client order ids (1-4 characters [A-Za-z0-9]; default derived from host and symbol)', helpGroup: 'LIVE'}),
    'metrics-port': Flags.integer({description: 'serve Prometheus metrics on http://<metrics-host>:PORT/metrics during the run (0 = any free port; default: none, metrics off)', min: 0, max: 65_535, helpGroup: 'METRICS'}),
    'metrics-host': Flags.string({description: 'address the metrics endpoint binds (default 127.0.0.1; needs --metrics-port)', helpGroup: 'METRICS'}),
    ...progressFlag,
    ...logFlags,
    ...stateDirFlag,
    ...venueFlags,
  }

  async run(): Promise<QuoteResult> {
    surviveClosedOutput()
    const f = this.flags
    if (f['metrics-host'] !== undefined && f['metrics-port'] === undefined) {
      throw new UsageError('E_USAGE', '--metrics-host needs --metrics-port (metrics are off without it)', {suggestion: 'add --metrics-port N (0 = any free port)'})
    }
    const replay = f.replay !== undefined && f.replay.length > 0
    let stopping = false
    let stopWith: (why: string) => void = () => {}
    const stop = new Promise<string>((res) => (stopWith = res))
    // the status line: only on a terminal (off one, nothing until the summary), and not with --no-progress / --json
    const tty = process.stderr.isTTY === true && !this.jsonEnabled() && f.progress
    const clearLine = tty ? '\r\u001b[2K' : ''
    const note = (m: string) => {
      if (!this.jsonEnabled()) process.stderr.write(`${clearLine}note: ${m}\n`)
    }
    // SIGINT / SIGTERM (and SIGHUP without --log-file: a closed terminal or ssh session) stop cleanly:
    // every order cancelled, the switch disarmed, the summary. A further signal during that stop is
    // said and ignored: Node's default action would kill the process mid-cancel, leaving orders working
    // on the venue until the dead-man's switch fires (SIGKILL still forces an exit).
    const onSignal = (sig: string) => {
      if (stopping) {
        note(`${sig} again: already stopping (cancelling every order, then the summary); SIGKILL forces an exit, leaving any order to the venue's dead-man's switch`)
        return
      }
      stopping = true
      note(`${sig}: stopping (no new order; every order cancelled, then the summary)`)
      stopWith(`signal ${sig}`)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    // without --log-file or --log-level nothing is logged on stderr (the run's event log has everything; stderr keeps the notes and errors)
    const level = parseLogLevel(f['log-level']) ?? (f['log-file'] ? undefined : 'silent')
    const logger = createLogger({file: f['log-file'], level, base: {command: 'quote', symbol: f.symbol.toUpperCase()}})
    // with --log-file, SIGHUP is logrotate's: reopen the file and go on; without, a hangup stops as SIGTERM does
    const onHup = logger.file ? () => logger.reopen() : () => onSignal('SIGHUP')
    process.on('SIGHUP', onHup)
    try {
      const res = await quote({
        symbol: f.symbol,
        dryRun: f['dry-run'],
        replay: f.replay,
        speed: parseSpeed(f.speed, replay),
        durationMs: f.duration === undefined ? undefined : parseDuration(f.duration, '--duration'),
        configPath: f.config,
        strategy: f.strategy as 'v2' | 'naive' | undefined,
        stateDir: resolveStateDir(f['state-dir']).dir,
        tickSize: f['tick-size'],
        stepSize: f['step-size'],
        minNotional: f['min-notional'],
        endpoints: resolveEndpoints({restUrl: f['rest-url'], wsUrl: f['ws-url'], testnet: f.testnet}),
        wallMs: Date.now(),
        stop,
        isStopping: () => stopping,
        onNotice: this.jsonEnabled() ? undefined : note,
        onProgress: tty ? (line) => process.stderr.write(`\r\u001b[2K${line}`) : undefined,
        metrics: f['metrics-port'] === undefined ? undefined : {port: f['metrics-port'], host: f['metrics-host']},
        onMetrics: this.jsonEnabled() ? undefined : (url) => process.stderr.write(`${clearLine}metrics: ${url}\n`),
        live: f['dry-run']
          ? undefined
          : {
              keyFile: f['key-file'],
              env: process.env,
              instance: f.instance,
              allowForeignOrders: f['allow-foreign-orders'],
              orderTransport: f['order-transport'] as 'ws' | 'rest' | undefined,
              wsApiUrl: f['ws-api-url'] === undefined ? undefined : checkWsApiUrl(f['ws-api-url']),
              confirm: !f.yes && process.stdin.isTTY === true && process.stderr.isTTY === true ? (lines) => askYes(lines) : undefined,
            },
        logger,
      })
      if (tty) process.stderr.write('\r\u001b[2K')
      this.log(renderSummaryTable(res.summary))
      this.log(`events: ${res.eventLog}`)
      return res
    } catch (error) {
      // the one-line error starts on a line of its own
      if (tty) process.stderr.write('\r\u001b[2K')
      throw error
    } finally {
      process.off('SIGHUP', onHup)
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}
