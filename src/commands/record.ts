import {Flags} from '@oclif/core'
import {BaseCommand, progressFlag, venueFlags} from '../lib/cli/base.js'
import {parseDuration} from '../lib/cli/duration.js'
import {resolveEndpoints} from '../lib/cli/endpoints.js'
import {logFlags, loggerFromFlags} from '../lib/cli/log-flags.js'
import {surviveClosedOutput} from '../lib/cli/output-closed.js'
import type {MarketEvent} from '../lib/market/events.js'
import {boundHeapGrowth} from '../lib/record/heap.js'
import {holesText, parseSymbols, progressLine, record, type RecordSummary, summaryLine} from '../lib/record/recorder.js'
import {recordRegistry} from '../lib/telemetry/record-metrics.js'
import {checkTextfilePath, writeTextfile} from '../lib/telemetry/textfile.js'

export default class Record extends BaseCommand<typeof Record> {
  static override description = 'Record depth (snapshots + diff updates), trades and optionally book tickers into Tardis CSV files (gzip), rotated by UTC hour; cron-friendly'
  static override examples = [
    '<%= config.bin %> record --symbol ETHUSDC --duration 1h',
    '<%= config.bin %> record --symbol ETHUSDC,BTCUSDT --out /data/recordings --rotate 15m --ticker',
    '<%= config.bin %> record --symbol ETHUSDC --duration 1h --metrics-textfile /var/lib/node_exporter/textfile_collector/mm_record.prom --log-file /var/log/mm/record.log   # from cron',
    '<%= config.bin %> record --symbol ETHUSDC --rest-url http://127.0.0.1:8080 --ws-url ws://127.0.0.1:8080   # against mm sim',
  ]

  static override flags = {
    symbol: Flags.string({char: 's', description: 'symbol(s) to record; repeat the flag or give a comma list', required: true, multiple: true}),
    out: Flags.string({char: 'o', description: 'root folder of the recordings', default: 'recordings'}),
    duration: Flags.string({char: 'd', description: 'stop after this long (30s, 5m, 1h, 1d; a bare number is seconds); default: until SIGINT/SIGTERM'}),
    rotate: Flags.string({description: 'start new files every period, aligned to UTC (at least 1s)', default: '1h'}),
    flush: Flags.string({description: 'push the gzip streams to disk (and rewrite meta.json) this often: a crash loses at most this much', default: '2s'}),
    'sync-timeout': Flags.string({description: "a symbol's book that cannot sync for this long ends the run with exit 1", default: '60s'}),
    trades: Flags.boolean({description: 'record trades (default: on; --no-trades: depth only)', default: true, allowNo: true}),
    'trade-stream': Flags.string({description: "which trade stream: 'trade' (every trade, what mm quote uses) or 'aggTrade' (trades aggregated by taker order)", options: ['trade', 'aggTrade'], default: 'trade'}),
    ticker: Flags.boolean({description: 'record bookTicker (default: off)', default: false, allowNo: true}),
    'metrics-textfile': Flags.string({description: "at the end, write the run's figures to this *.prom file for node_exporter's textfile collector, atomically (default: none)", helpGroup: 'METRICS'}),
    ...progressFlag,
    ...logFlags,
    ...venueFlags,
  }

  async run(): Promise<RecordSummary> {
    const f = this.flags
    const symbols = parseSymbols(f.symbol)
    const durationMs = f.duration === undefined ? undefined : parseDuration(f.duration, '--duration')
    const rotateMs = parseDuration(f.rotate, '--rotate', {minMs: 1000})
    const flushMs = parseDuration(f.flush, '--flush', {minMs: 10})
    const syncTimeoutMs = parseDuration(f['sync-timeout'], '--sync-timeout')
    const endpoints = resolveEndpoints({restUrl: f['rest-url'], wsUrl: f['ws-url'], testnet: f.testnet})
    // flat memory at high message rates (src/lib/record/heap.ts)
    boundHeapGrowth()
    const textfile = f['metrics-textfile'] === undefined ? undefined : checkTextfilePath(f['metrics-textfile'])
    const ac = new AbortController()
    const onSignal = () => ac.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    // a terminal that goes away (an ssh session dropped) must not kill the recorder with its
    // files unfinished (.partial, the last seconds unflushed): its writes to the terminal are
    // dropped (EIO/EPIPE) and, without --log-file (whose SIGHUP is logrotate's: reopen and go
    // on), the hangup stops it cleanly as SIGTERM does
    surviveClosedOutput()
    const onHup = f['log-file'] === undefined ? onSignal : undefined
    // `on`: a second SIGHUP (a shell re-sends it to its jobs) must not kill it mid-finish
    if (onHup) process.on('SIGHUP', onHup)
    const tty = process.stderr.isTTY === true && !this.jsonEnabled() && f.progress
    const startedMs = Date.now()
    let summary: RecordSummary | undefined
    const {log, close: closeLog} = loggerFromFlags(f, {command: 'record', symbol: symbols.join(',')})
    // what each stream delivered, for the warning about a requested stream that stayed silent
    const seen = {depth: 0, trade: 0, ticker: 0}
    const onEvent = (ev: MarketEvent) => {
      if (ev.kind === 'trade') seen.trade++
      else if (ev.kind === 'ticker') seen.ticker++
      else seen.depth++
    }
    log.log('info', 'record_start', {symbols, out: f.out, durationMs: durationMs ?? null, rotateMs, trades: f.trades ? f['trade-stream'] : false, ticker: f.ticker, rest: endpoints.rest, ws: endpoints.ws})
    try {
      summary = await record({
        symbols,
        out: f.out,
        durationMs,
        rotateMs,
        flushMs,
        syncTimeoutMs,
        trades: f.trades,
        tradeStream: f['trade-stream'] as 'trade' | 'aggTrade',
        ticker: f.ticker,
        endpoints,
        mmVersion: this.config.version,
        signal: ac.signal,
        onProgress: tty ? (p) => process.stderr.write(`\r\u001b[2K${progressLine(p)}`) : undefined,
        onWarn: (m) => log.log('warn', 'record_warning', {}, m),
        onEvent,
      })
      if (tty) process.stderr.write('\r\u001b[2K')
      const s = summary
      const silent = [...(f.trades ? [['trade', `@${f['trade-stream']}`] as const] : []), ...(f.ticker ? [['ticker', '@bookTicker'] as const] : []), ['depth', '@depth'] as const].filter(([k]) => seen[k] === 0 && (s.messages > 0 || s.elapsedMs >= 10_000))
      for (const [k, name] of silent) {
        log.log('warn', 'record_empty_stream', {stream: name, elapsedMs: s.elapsedMs}, `the ${name} stream delivered nothing in ${Math.round(s.elapsedMs / 1000)}s: no ${k} rows were written`)
      }
      log.log('info', 'record_end', {...s, files: s.files.length})
      if (!this.jsonEnabled()) this.log(summaryLine(s))
      if (s.holes) {
        // partly done (SPEC.md §1): the files are valid but the recording is not whole
        if (!this.jsonEnabled()) process.stderr.write(`mm record: the recording has holes (${holesText(s)}); exit 3\n`)
        process.exitCode = 3
      }
      return s
    } catch (error) {
      if (tty) process.stderr.write('\r\u001b[2K')
      // on stderr the command's one-line error says it already
      if (log.file) log.log('error', 'record_failed', {err: error})
      throw error
    } finally {
      closeLog()
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      if (onHup) process.off('SIGHUP', onHup)
      // success or failure, cron's monitoring sees the run
      if (textfile) {
        const s = summary
        const figures = s
          ? {symbols: s.symbols, endedMs: Date.now(), elapsedMs: s.elapsedMs, ok: !s.holes, messages: s.messages, rows: s.rows, bytes: s.bytes, files: s.files.length, resyncs: s.resyncs, gaps: s.gaps, reconnects: s.reconnects}
          : {symbols, endedMs: Date.now(), elapsedMs: Date.now() - startedMs, ok: false, messages: 0, rows: 0, bytes: 0, files: 0, resyncs: 0, gaps: 0, reconnects: 0}
        await writeTextfile(textfile, recordRegistry(figures, this.config.version))
      }
    }
  }
}
