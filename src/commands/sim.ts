import {Flags} from '@oclif/core'
import {Decimal} from 'decimal.js'
import {BaseCommand} from '../lib/cli/base.js'
import {surviveClosedOutput} from '../lib/cli/output-closed.js'
import {parseDuration} from '../lib/cli/duration.js'
import {setLongTimeout} from '../lib/clock/long-timer.js'
import {UsageError} from '../lib/domain/errors.js'
import {detectReplaySymbol, type MarketSource, openReplay} from '../lib/record/replay-source.js'
import type {ReplayGuardStats} from '../lib/record/replay-guard.js'
import {checkNoOverlap} from '../lib/record/overlap.js'
import {pace, syntheticSource} from '../lib/venue/sim/feed.js'
import {parseFaults, type SimInstrument, SimVenue, type SimStats} from '../lib/venue/sim/server.js'
import {parseProbability, parseRateLimit, parseSignedDuration} from '../lib/venue/sim/faults.js'
import {SIM_TEST_API_KEY} from '../lib/venue/sim/signing.js'
import {SYNTHETIC_DEFAULT_INSTRUMENT_SPEC, SYNTHETIC_DEFAULT_START_PRICE} from '../lib/venue/sim/synthetic.js'
import {SimTrading} from '../lib/venue/sim/trading.js'
import {loadConfig, paperVenueOptions} from '../lib/config/index.js'

/** a synthetic instrument flag: a decimal number, > 0 (--min-notional: ≥ 0); exit 2 naming the flag */
function checkDecimalFlag(k: 'tick-size' | 'step-size' | 'min-notional' | 'start-price' | 'max-qty', v: string | undefined): void {
  if (v === undefined) return
  if (!/^-?\d+(\.\d+)?$/.test(v)) throw new UsageError('E_USAGE', `--${k} ${v}: expected a decimal number`)
  const d = new Decimal(v)
  if (k === 'min-notional') {
    if (d.lt(0)) throw new UsageError('E_USAGE', `--${k} ${v}: must be >= 0`)
  } else if (d.lte(0)) throw new UsageError('E_USAGE', `--${k} ${v}: must be > 0`)
}

interface SimResult {
  restUrl: string
  wsUrl: string
  symbol: string
  instrument: SimInstrument
  instrumentFrom: MarketSource['instrumentFrom']
  published: number
  stoppedBy: 'duration' | 'signal' | 'end'
  stats: SimStats
  /** replay: events of other symbols than --symbol in the input, skipped (the replay input rule) */
  skippedOtherSymbols?: number
}

export default class Sim extends BaseCommand<typeof Sim> {
  static override description = "A local Binance USDⓈ-M compatible venue on loopback: market data from a recording or a seeded synthetic market, signed trading endpoints around the paper matching engine, user data stream, WebSocket API, fault injection"
  static override examples = [
    '<%= config.bin %> sim --replay recordings/ETHUSDC/2026-01-05 --speed 10',
    '<%= config.bin %> sim --synthetic --seed 7 --port 8080 --faults drop=0.01,disconnect=60s',
    'MM_REST_URL=http://127.0.0.1:8080 MM_WS_URL=ws://127.0.0.1:8080 <%= config.bin %> record --symbol ETHUSDC',
  ]

  static override flags = {
    replay: Flags.string({description: 'recording to serve: Tardis CSV folder/file (mm record) or raw hftbacktest captures (repeat for a day pair), checked as mm quote --replay checks them (default: none; give it or --synthetic)', exclusive: ['synthetic'], multiple: true}),
    synthetic: Flags.boolean({description: 'serve the seeded synthetic market (default: off)', default: false, exclusive: ['replay']}),
    seed: Flags.integer({description: 'seed of the synthetic market and of the fault injection', default: 1}),
    symbol: Flags.string({description: 'symbol (replay: must match the recording; synthetic: default ETHUSDC)'}),
    port: Flags.integer({description: 'TCP port on 127.0.0.1 (0 = any free port)', default: 0, min: 0, max: 65535}),
    host: Flags.string({description: 'address to bind', default: '127.0.0.1'}),
    speed: Flags.string({description: "playback speed: 1 = real time, 10 = ten times faster, 'max' = no waiting", default: '1'}),
    duration: Flags.string({description: 'stop serving after this long (default: until SIGINT/SIGTERM)'}),
    'exit-at-end': Flags.boolean({description: 'stop when the replay source is exhausted (default: off: keep serving)', default: false}),
    faults: Flags.string({description: 'fault injection, e.g. drop=0.01,dup=0.01,reorder=0.01,delay=20ms,disconnect=30s,rest-error=0.05,rest-status=503,rest-delay=50ms (default: none)'}),
    'tick-size': Flags.string({description: 'instrument tick size (PRICE_FILTER): of the synthetic market (default 0.01), or of a recording without meta.json (default: inferred from the data)'}),
    'step-size': Flags.string({description: 'instrument step size (LOT_SIZE, also its minQty): of the synthetic market (default 0.001), or of a recording without meta.json (default: inferred from the data)'}),
    'min-notional': Flags.string({description: 'synthetic market: MIN_NOTIONAL of the instrument (default 20)', exclusive: ['replay']}),
    'max-qty': Flags.string({description: 'synthetic market: maxQty of LOT_SIZE and MARKET_LOT_SIZE, on the step grid; larger orders are refused -4005 (default 1000000)', exclusive: ['replay']}),
    'start-price': Flags.string({description: 'synthetic market: best bid at the start, on the tick grid or rounded down to it (default 3400.00)', exclusive: ['replay']}),
    'percent-price': Flags.string({description: 'PERCENT_PRICE multipliers UP,DOWN against the mark price: a BUY above mark × UP is refused -4016, a SELL below mark × DOWN -4024 (default 1.05,0.95)'}),
    'ping-interval': Flags.string({description: 'server WebSocket ping interval', default: '3m'}),
    'api-key': Flags.string({description: "API key the sim accepts (default: Binance's documented example key, see docs/sim.md)", env: 'MM_API_KEY'}),
    'api-secret': Flags.string({description: 'API secret the sim verifies signatures with (default: the documented test secret)', env: 'MM_API_SECRET'}),
    config: Flags.string({char: 'c', description: 'JSON config file whose fees.* and paper.* the matching uses, as in the dry-run (default: mm.config.json if present, else the defaults)'}),
    'request-log': Flags.string({description: 'also append every request received (as listed by GET /__mm/state, signatures included, never the secret) to this NDJSON file'}),
    balance: Flags.string({description: 'starting wallet balance of the margin asset', default: '10000'}),
    // faults (all off by default)
    'drop-ws-every': Flags.string({description: 'fault: close every WebSocket (market, user stream, WebSocket API) this often, e.g. 30s'}),
    'depth-gap-rate': Flags.string({description: 'fault: probability a depth diff is not sent (the pu chain breaks)'}),
    'http-error-rate': Flags.string({description: 'fault: probability a REST request gets HTTP 500 before anything is done'}),
    'rate-limit': Flags.string({description: 'fault: tighter limits, e.g. weight=60,orders10s=5,orders1m=100,ban-after=3,ban=2m'}),
    latency: Flags.string({description: 'fault: network delay added to every REST answer, user-stream event and WebSocket API answer, e.g. 200ms'}),
    'listen-key-ttl': Flags.string({description: 'fault: listen key validity (Binance: 60m)'}),
    'clock-skew': Flags.string({description: 'fault: server clock offset, e.g. 3s or -3s (serverTime and the recvWindow check)'}),
    'lose-responses': Flags.string({description: 'fault: probability an order request is carried out but its HTTP answer never arrives'}),
    'unknown-status-rate': Flags.string({description: 'fault: probability an order request is carried out, then answered 503 "Unknown error…" (execution status unknown)'}),
    'unavailable-rate': Flags.string({description: 'fault: probability a request is answered 503 "Service Unavailable." before anything is done'}),
    'user-stream-silent-after': Flags.string({description: 'fault: user-stream sockets go silent (open, sending nothing) this long after connecting'}),
    // account states
    'hedge-mode': Flags.boolean({description: 'account state: hedge mode on (positionSide/dual true; orders need LONG/SHORT)', default: false}),
    'fee-burn': Flags.boolean({description: 'account state: BNB fee discount on (GET /fapi/v1/feeBurn answers true; the sim still charges fees in the margin asset)', default: false}),
    'symbol-status': Flags.string({description: 'account state: exchangeInfo status of the symbol (anything but TRADING refuses orders)', default: 'TRADING'}),
    'funding-interval': Flags.string({description: 'account state: book funding fees on open positions this often (ACCOUNT_UPDATE FUNDING_FEE)'}),
    'funding-rate': Flags.string({description: 'funding rate per interval', default: '0.0001'}),
    'max-num-orders': Flags.integer({description: 'account state: MAX_NUM_ORDERS filter (open orders per symbol)', default: 200, min: 1}),
  }

  /** --json output is NDJSON: the `listening` line at start, the result line at the end. */
  protected override logJson(json: unknown): void {
    process.stdout.write(JSON.stringify(json) + '\n')
  }

  async run(): Promise<SimResult> {
    const f = this.flags
    if (!f.replay && !f.synthetic) throw new UsageError('E_USAGE', 'give --replay PATH or --synthetic')
    const speed = f.speed === 'max' ? 'max' : Number(f.speed)
    if (speed !== 'max' && (!Number.isFinite(speed) || speed <= 0)) throw new UsageError('E_USAGE', `--speed ${f.speed}: expected a positive number or 'max'`)
    const durationMs = f.duration === undefined ? undefined : parseDuration(f.duration, '--duration')
    const faults = f.faults ? parseFaults(f.faults, parseDuration) : {}
    const config = loadConfig(f.config)
    // an empty or blank symbol would be served and then refused by every endpoint: say so at once
    if (f.symbol !== undefined && !/^[^\s/@?#&=]+$/.test(f.symbol)) throw new UsageError('E_USAGE', `--symbol ${JSON.stringify(f.symbol)}: expected a symbol such as ETHUSDC`)
    // the grid of a synthetic market or of a recording without meta.json
    checkDecimalFlag('tick-size', f['tick-size'])
    checkDecimalFlag('step-size', f['step-size'])
    const pct = f['percent-price'] === undefined ? undefined : /^(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)$/.exec(f['percent-price'])
    if (pct === null || (pct && !(new Decimal(pct[1]).gte(1) && new Decimal(pct[2]).gt(0) && new Decimal(pct[2]).lte(1)))) {
      throw new UsageError('E_USAGE', `--percent-price ${JSON.stringify(f['percent-price'])}: expected UP,DOWN with UP ≥ 1 and 0 < DOWN ≤ 1, e.g. 1.05,0.95`)
    }
    // a recording passes the replay input checks of mm quote --replay (docs/RELIABILITY.md):
    // bad inputs refused (exit 2), other symbols' events skipped and counted
    let guard: ReplayGuardStats | undefined
    let source: MarketSource & {instrument: SimInstrument}
    if (f.replay) {
      const symbol = f.symbol?.toUpperCase() ?? (await detectReplaySymbol(f.replay[0]))
      if (!symbol) throw new UsageError('E_REPLAY', `--replay ${f.replay[0]}: cannot tell the symbol`, {suggestion: 'pass --symbol'})
      await checkNoOverlap(f.replay) // two recorders' overlapping files in one folder: named, not replayed twice
      const src = await openReplay(f.replay, {symbol, tickSize: f['tick-size'], stepSize: f['step-size'], tickers: true, guard: {toleranceMs: config.replay.timeToleranceMs, maxGapMs: config.replay.maxGapMs}})
      guard = src.guard
      source = src
    } else {
      for (const k of ['min-notional', 'start-price', 'max-qty'] as const) checkDecimalFlag(k, f[k])
      if (f['max-qty'] !== undefined) {
        const step = f['step-size'] ?? SYNTHETIC_DEFAULT_INSTRUMENT_SPEC.stepSize
        if (!new Decimal(f['max-qty']).mod(step).isZero()) throw new UsageError('E_USAGE', `--max-qty ${f['max-qty']}: not on the step grid (a multiple of the step size ${step})`, {suggestion: 'give a multiple of --step-size'})
      }
      try {
        source = syntheticSource({seed: f.seed, symbol: f.symbol, durationMs: durationMs ?? 24 * 3600_000, tickSize: f['tick-size'], stepSize: f['step-size'], minNotional: f['min-notional'], startPrice: f['start-price'], maxQty: f['max-qty']})
      } catch (error) {
        // the model's start-price check names its parameter: say which flag
        if (error instanceof UsageError && error.message.startsWith('startPrice')) throw new UsageError(error.code, `--start-price ${f['start-price'] ?? SYNTHETIC_DEFAULT_START_PRICE}: ${error.message.replace(/^startPrice /, '')}`, {suggestion: 'give a higher --start-price or a smaller --tick-size'})
        throw error
      }
    }
    if (f['drop-ws-every']) faults.disconnectEveryMs = parseDuration(f['drop-ws-every'], '--drop-ws-every')
    if (f['depth-gap-rate']) faults.depthGapRate = parseProbability(f['depth-gap-rate'], '--depth-gap-rate')
    if (!/^\d+(\.\d+)?$/.test(f.balance)) throw new UsageError('E_USAGE', `--balance ${f.balance}: expected a decimal amount`)
    if (!/^-?\d+(\.\d+)?$/.test(f['funding-rate'])) throw new UsageError('E_USAGE', `--funding-rate ${f['funding-rate']}: expected a decimal rate`)
    const pingIntervalMs = parseDuration(f['ping-interval'], '--ping-interval')
    const clockSkewMs = f['clock-skew'] ? parseSignedDuration(f['clock-skew'], '--clock-skew') : undefined
    const venue = new SimVenue({instruments: [source.instrument], host: f.host, port: f.port, faults, seed: f.seed, pingIntervalMs, clockSkewMs})
    const trading = new SimTrading(venue, {
      apiKey: f['api-key'],
      apiSecret: f['api-secret'],
      instruments: [source.instrument],
      seed: f.seed,
      speed: speed === 'max' ? 1 : speed,
      pingIntervalMs,
      balance: f.balance,
      hedgeMode: f['hedge-mode'],
      feeBurn: f['fee-burn'],
      symbolStatus: {[source.symbol]: f['symbol-status']},
      fundingIntervalMs: f['funding-interval'] ? parseDuration(f['funding-interval'], '--funding-interval') : undefined,
      fundingRate: f['funding-rate'],
      maxNumOrders: f['max-num-orders'],
      ...(pct ? {percentUp: pct[1], percentDown: pct[2]} : {}),
      paper: paperVenueOptions(config),
      requestLog: f['request-log'],
      faults: {
        loseResponses: f['lose-responses'] ? parseProbability(f['lose-responses'], '--lose-responses') : undefined,
        unknownStatusRate: f['unknown-status-rate'] ? parseProbability(f['unknown-status-rate'], '--unknown-status-rate') : undefined,
        unavailableRate: f['unavailable-rate'] ? parseProbability(f['unavailable-rate'], '--unavailable-rate') : undefined,
        httpErrorRate: f['http-error-rate'] ? parseProbability(f['http-error-rate'], '--http-error-rate') : undefined,
        latencyMs: f.latency ? parseDuration(f.latency, '--latency') : undefined,
        clockSkewMs,
        listenKeyTtlMs: f['listen-key-ttl'] ? parseDuration(f['listen-key-ttl'], '--listen-key-ttl') : undefined,
        userStreamSilentAfterMs: f['user-stream-silent-after'] ? parseDuration(f['user-stream-silent-after'], '--user-stream-silent-after') : undefined,
        rateLimit: f['rate-limit'] ? parseRateLimit(f['rate-limit']) : undefined,
      },
    })
    let urls: {restUrl: string; wsUrl: string}
    try {
      urls = await venue.start()
    } catch (error) {
      // a port that cannot be bound is bad input (exit 2), as for quote --metrics-port
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message
      trading.stop()
      await venue.stop().catch(() => {})
      throw new UsageError('E_LISTEN', `--port ${f.port}: cannot listen on ${f.host}:${f.port}: ${code}`, {suggestion: 'pick another --port (0 = any free port) or --host'})
    }
    const {restUrl, wsUrl} = urls
    if (this.jsonEnabled()) {
      process.stdout.write(JSON.stringify({restUrl, wsUrl, ok: true, command: 'sim', data: {status: 'listening', restUrl, wsUrl, symbol: source.symbol}}) + '\n')
    } else {
      this.log(`mm sim: serving ${source.symbol} (${f.replay ? `replay of ${f.replay.join(', ')}` : `synthetic, seed ${f.seed}`}, speed ${f.speed})`)
      if (source.instrumentFrom === 'inferred') this.log(`instrument inferred from the data: tick ${source.instrument.tickSize}, step ${source.instrument.stepSize} (pass --tick-size/--step-size to override)`)
      this.log(`rest ${restUrl}`)
      this.log(`ws   ${wsUrl}`)
      this.log(`use: MM_REST_URL=${restUrl} MM_WS_URL=${wsUrl}`)
      this.log(`api key ${f['api-key'] ? '(from --api-key / MM_API_KEY)' : `${SIM_TEST_API_KEY} (the documented test pair, docs/sim.md)`}; introspection ${restUrl}/__mm/state`)
    }
    const ac = new AbortController()
    const onSignal = () => ac.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    // SIGHUP (the operator's terminal or ssh session gone) is no request to stop: the rehearsal
    // venue keeps serving the quote and flatten pointed at it, its output to the gone terminal
    // dropped; SIGINT / SIGTERM / --duration stop it
    const onHup = () => {}
    process.on('SIGHUP', onHup)
    surviveClosedOutput()
    let stoppedBy: SimResult['stoppedBy'] = 'signal'
    const timer = durationMs === undefined ? undefined : setLongTimeout(() => {
      stoppedBy = 'duration'
      ac.abort()
    }, durationMs)
    try {
      const played = await pace(source.events(), (ev) => venue.publish(ev), {speed, signal: ac.signal})
      if (!played.aborted && f['exit-at-end']) stoppedBy = 'end'
      else if (!ac.signal.aborted) await new Promise<void>((resolve) => ac.signal.addEventListener('abort', () => resolve(), {once: true}))
    } finally {
      timer?.clear()
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      process.off('SIGHUP', onHup)
      trading.stop()
      await venue.stop()
    }
    const stats = venue.stats
    const skipped = guard?.otherSymbols ?? 0
    if (!this.jsonEnabled()) {
      // the documented rule (docs/RELIABILITY.md): other symbols' lines are skipped, counted and said
      if (skipped > 0) this.log(`mm sim: skipped ${skipped} events of other symbols than ${source.symbol} in the replay input`)
      this.log(`mm sim: stopped (${stoppedBy}); published ${stats.published} events, sent ${stats.wsMessages} WebSocket messages, ${stats.connections} connections, ${stats.restRequests} REST requests`)
    }
    return {restUrl, wsUrl, symbol: source.symbol, instrument: source.instrument, instrumentFrom: source.instrumentFrom, published: stats.published, stoppedBy, stats, ...(guard ? {skippedOtherSymbols: skipped} : {})}
  }
}
