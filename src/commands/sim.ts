import {Flags} from '@oclif/core'
import {BaseCommand} from '../lib/cli/base.js'
import {parseDuration} from '../lib/cli/duration.js'
import {setLongTimeout} from '../lib/clock/long-timer.js'
import {UsageError} from '../lib/domain/errors.js'
import {type MarketSource, openReplaySource} from '../lib/record/replay-source.js'
import {pace, syntheticSource} from '../lib/venue/sim/feed.js'
import {parseFaults, SimVenue, type SimStats} from '../lib/venue/sim/server.js'

interface SimResult {
  restUrl: string
  wsUrl: string
  symbol: string
  instrument: MarketSource['instrument']
  instrumentFrom: MarketSource['instrumentFrom']
  published: number
  stoppedBy: 'duration' | 'signal' | 'end'
  stats: SimStats
}

export default class Sim extends BaseCommand<typeof Sim> {
  static override description = "A local Binance USDⓈ-M compatible venue on loopback (REST + WebSocket market streams), driven by a recording or a seeded synthetic market, with fault injection"
  static override examples = [
    '<%= config.bin %> sim --replay recordings/ETHUSDC/2026-01-05 --speed 10',
    '<%= config.bin %> sim --synthetic --seed 7 --port 8080 --faults drop=0.01,disconnect=60s',
    'MM_REST_URL=http://127.0.0.1:8080 MM_WS_URL=ws://127.0.0.1:8080 <%= config.bin %> record --symbol ETHUSDC',
  ]

  static override flags = {
    replay: Flags.string({description: 'recording to serve: Tardis CSV folder/file (mm record) or a raw hftbacktest capture', exclusive: ['synthetic']}),
    synthetic: Flags.boolean({description: 'serve the seeded synthetic market', default: false, exclusive: ['replay']}),
    seed: Flags.integer({description: 'seed of the synthetic market and of the fault injection', default: 1}),
    symbol: Flags.string({description: 'symbol (replay: must match the recording; synthetic: default ETHUSDC)'}),
    port: Flags.integer({description: 'TCP port on 127.0.0.1 (0 = any free port)', default: 0, min: 0, max: 65535}),
    host: Flags.string({description: 'address to bind', default: '127.0.0.1'}),
    speed: Flags.string({description: "playback speed: 1 = real time, 10 = ten times faster, 'max' = no waiting", default: '1'}),
    duration: Flags.string({description: 'stop serving after this long (default: until SIGINT/SIGTERM)'}),
    'exit-at-end': Flags.boolean({description: 'stop when the replay source is exhausted', default: false}),
    faults: Flags.string({description: 'fault injection, e.g. drop=0.01,dup=0.01,reorder=0.01,delay=20ms,disconnect=30s,rest-error=0.05,rest-status=503,rest-delay=50ms'}),
    'tick-size': Flags.string({description: 'instrument tick size for a recording without meta.json'}),
    'step-size': Flags.string({description: 'instrument step size for a recording without meta.json'}),
    'ping-interval': Flags.string({description: 'server WebSocket ping interval', default: '3m'}),
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
    const source = f.replay
      ? await openReplaySource(f.replay, {symbol: f.symbol, tickSize: f['tick-size'], stepSize: f['step-size']})
      : syntheticSource({seed: f.seed, symbol: f.symbol, durationMs: durationMs ?? 24 * 3600_000})
    const venue = new SimVenue({instruments: [source.instrument], host: f.host, port: f.port, faults, seed: f.seed, pingIntervalMs: parseDuration(f['ping-interval'], '--ping-interval')})
    let urls: {restUrl: string; wsUrl: string}
    try {
      urls = await venue.start()
    } catch (error) {
      // a port that cannot be bound is bad input (exit 2), as for quote --metrics-port
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message
      await venue.stop().catch(() => {})
      throw new UsageError('E_LISTEN', `--port ${f.port}: cannot listen on ${f.host}:${f.port}: ${code}`, {suggestion: 'pick another --port (0 = any free port) or --host'})
    }
    const {restUrl, wsUrl} = urls
    if (this.jsonEnabled()) {
      process.stdout.write(JSON.stringify({ok: true, command: 'sim', data: {status: 'listening', restUrl, wsUrl, symbol: source.symbol}}) + '\n')
    } else {
      this.log(`mm sim: serving ${source.symbol} (${f.replay ? `replay of ${f.replay}` : `synthetic, seed ${f.seed}`}, speed ${f.speed})`)
      if (source.instrumentFrom === 'inferred') this.log(`instrument inferred from the data: tick ${source.instrument.tickSize}, step ${source.instrument.stepSize} (pass --tick-size/--step-size to override)`)
      this.log(`rest ${restUrl}`)
      this.log(`ws   ${wsUrl}`)
      this.log(`use: MM_REST_URL=${restUrl} MM_WS_URL=${wsUrl}`)
    }
    const ac = new AbortController()
    const onSignal = () => ac.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
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
      await venue.stop()
    }
    const stats = venue.stats
    if (!this.jsonEnabled()) this.log(`mm sim: stopped (${stoppedBy}); published ${stats.published} events, sent ${stats.wsMessages} WebSocket messages, ${stats.connections} connections, ${stats.restRequests} REST requests`)
    return {restUrl, wsUrl, symbol: source.symbol, instrument: source.instrument, instrumentFrom: source.instrumentFrom, published: stats.published, stoppedBy, stats}
  }
}
