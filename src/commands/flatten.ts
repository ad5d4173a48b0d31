import {Flags} from '@oclif/core'
import {surviveClosedOutput} from '../lib/cli/output-closed.js'
import {BaseCommand, stateDirFlag, venueFlags} from '../lib/cli/base.js'
import {parseDuration} from '../lib/cli/duration.js'
import {resolveEndpoints} from '../lib/cli/endpoints.js'
import {loadConfigFile} from '../lib/config/index.js'
import {PlainDecimal} from '../lib/domain/decimal.js'
import {MmError, UsageError} from '../lib/domain/errors.js'
import type {FlattenResult} from '../lib/state/actions.js'
import {resolveStateDir} from '../lib/state/dir.js'
import {type FlattenPlanView, flattenPlan, flattenSymbol} from '../lib/state/flatten-run.js'
import {target} from '../lib/state/ops.js'
import {checkTextfilePath, writeTextfile} from '../lib/telemetry/textfile.js'
import type {FlattenFigures} from '../lib/telemetry/ops-metrics.js'

export default class Flatten extends BaseCommand<typeof Flatten> {
  static override description = 'Emergency close: halt quoting, cancel ours, close the position with reduce-only IOC orders priced from the book, never beyond --max-slip from the mid. Exit 0 flat, 3 residual left, 1 venue error'
  static override examples = ['<%= config.bin %> flatten --symbol ETHUSDC', '<%= config.bin %> flatten --symbol ETHUSDC --max-slip 0.002 --dry-run', '<%= config.bin %> flatten --symbol ETHUSDC --json', '<%= config.bin %> flatten --symbol ETHUSDC --metrics-textfile /var/lib/node_exporter/textfile_collector/mm_flatten_ETHUSDC.prom']

  static override flags = {
    symbol: Flags.string({char: 's', description: 'symbol to flatten, e.g. ETHUSDC', required: true}),
    'max-slip': Flags.string({description: 'hard cap: no order priced further than this fraction from the mid (default risk.reduceOnlyMaxSlippagePct)'}),
    'dry-run': Flags.boolean({description: 'print the plan (first round on the current book) only; send nothing', default: false}),
    rounds: Flags.integer({description: 'at most this many IOC rounds', default: 5, min: 1, max: 50}),
    wait: Flags.string({description: 'how long to follow a running quote closing the position', default: '30s'}),
    config: Flags.string({char: 'c', description: 'JSON config file (default: mm.config.json if present)'}),
    'key-file': Flags.string({description: 'API key file (else env MM_API_KEY / MM_API_SECRET): closes on the venue itself when no quote runs', helpGroup: 'VENUE'}),
    'metrics-textfile': Flags.string({description: "at the end, write the run's figures (residual, filled, orders, rounds, exit code, time) to this *.prom file for node_exporter's textfile collector, atomically; not with --dry-run (default: none)", helpGroup: 'METRICS'}),
    ...stateDirFlag,
    ...venueFlags,
  }

  async run(): Promise<FlattenResult | (FlattenPlanView & {plan: true}) | {stateDir: string; symbol: string; position: string; plan: true; orders: []}> {
    surviveClosedOutput()
    const f = this.flags
    const t = target(resolveStateDir(f['state-dir']).dir, f.symbol)
    const textfile = f['metrics-textfile'] === undefined ? undefined : checkTextfilePath(f['metrics-textfile'])
    if (textfile && f['dry-run']) throw new UsageError('E_USAGE', '--metrics-textfile records a flatten that ran; --dry-run sends nothing', {suggestion: 'leave out one of them'})
    const write = async (x: Omit<FlattenFigures, 'symbol' | 'endedMs'>) => {
      if (!textfile) return
      const {flattenRegistry} = await import('../lib/telemetry/ops-metrics.js')
      await writeTextfile(textfile, flattenRegistry({symbol: t.symbol, endedMs: Date.now(), ...x}, this.config.version))
    }
    let maxSlip: number
    if (f['max-slip'] === undefined) {
      maxSlip = loadConfigFile(f.config).config.risk.reduceOnlyMaxSlippagePct
    } else {
      maxSlip = Number(f['max-slip'])
      if (!/^\d+(\.\d+)?$/.test(f['max-slip']) || !(maxSlip > 0) || maxSlip > 0.5) throw new UsageError('E_USAGE', `--max-slip ${JSON.stringify(f['max-slip'])} is not a fraction in (0, 0.5] (0.002 = 0.2%)`)
    }
    if (f['dry-run']) {
      const p = await flattenPlan(t, maxSlip, resolveEndpoints({restUrl: f['rest-url'], wsUrl: f['ws-url'], testnet: f.testnet}), () => this.openVenue())
      if (!p) {
        const keys = f['key-file'] !== undefined || (Boolean(process.env.MM_API_KEY) && Boolean(process.env.MM_API_SECRET))
        this.log(`${t.symbol}: no position; nothing to do${keys ? '' : ' (from state.json: the venue was not asked, no API keys)'}`)
        return {stateDir: t.stateDir, symbol: t.symbol, position: '0', plan: true, orders: []}
      }
      if (p.stateUnreadable) this.logToStderr(`note: ${p.stateUnreadable}: not used; the position is the venue's`)
      this.log(`${t.symbol}: position ${p.position} (${p.positionFrom === 'venue' ? "the venue's" : 'state.json; the venue was not asked: no API keys'}); mid ${p.mid}, cap ${p.cap} (${p.bandLimited ? `the PERCENT_PRICE band of the mark: nearer than max slippage ${p.maxSlippagePct}` : `max slippage ${p.maxSlippagePct}`}); ${p.available} available within the cap`)
      for (const o of p.orders) this.log(`would send: ${o.side} ${o.qty} @ ${o.price} IOC reduce-only`)
      this.log(p.orders.length === 0 ? `nothing can be closed within the cap now (${p.why}); residual ${p.residual}` : `expected VWAP ${p.expectedPrice} (slippage ${p.expectedSlippage}); residual ${p.residual}`)
      return {...p, plan: true}
    }
    let r: FlattenResult
    try {
      r = await this.flatten(t, maxSlip)
    } catch (error) {
      // cron's monitoring sees a failed run too (the residual is not known then: the state's position)
      const {readStateFile} = await import('../lib/state/file.js')
      let net = '0'
      try {
        net = readStateFile(t.path)?.position.net ?? '0'
      } catch {}
      await write({exitCode: error instanceof MmError ? error.exitCode : 1, positionBefore: net, residual: net, orders: 0, rounds: 0, filled: '0'})
      throw error
    }
    for (const n of r.notes) this.logToStderr(`note: ${n}`)
    this.log(r.final)
    const filled = r.rounds.reduce((a, x) => a.add(new PlainDecimal(x.filled)), new PlainDecimal(0))
    await write({exitCode: r.exitCode, positionBefore: r.positionBefore, residual: r.residual, orders: r.rounds.length, rounds: new Set(r.rounds.map((x) => x.round)).size, filled: filled.toString()})
    return this.finish(r, r.exitCode)
  }

  /** the venue with the API keys (none: `{why}`) */
  private async openVenue() {
    const f = this.flags
    const {openFlattenVenue} = await import('../lib/state/flatten-venue.js')
    return openFlattenVenue({restUrl: resolveEndpoints({restUrl: f['rest-url'], testnet: f.testnet}).rest, keyFile: f['key-file'], env: process.env})
  }

  private async flatten(t: ReturnType<typeof target>, maxSlip: number): Promise<FlattenResult> {
    const f = this.flags
    // Ctrl-C / SIGTERM while this process sends closing orders itself: no new order after
    // the one in flight, then the position is read and the fills so far are booked in
    // state.json (exit 3 with a residual). Before that phase (or via a running quote, which
    // books its own fills), or on a second signal, it ends at once as a signal does.
    // SIGHUP (the terminal or ssh session gone) is no request to stop an emergency close: it
    // carries on, its output to the gone terminal dropped.
    let own = false
    let stop: string | null = null
    const onSignal = (sig: NodeJS.Signals) => {
      if (!own || stop !== null) process.exit(128 + (sig === 'SIGINT' ? 2 : 15))
      stop = sig
      this.logToStderr(`mm flatten: ${sig}: no new order after the one in flight; the fills so far are read back and booked (${sig === 'SIGINT' ? 'Ctrl-C' : sig} again ends at once)`)
    }
    const onHup = () => {}
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']
    for (const sig of signals) process.on(sig, onSignal)
    process.on('SIGHUP', onHup)
    try {
      return await this.flattenOnce(t, maxSlip, () => stop, () => (own = true))
    } finally {
      for (const sig of signals) process.off(sig, onSignal)
      process.off('SIGHUP', onHup)
    }
  }

  private flattenOnce(t: ReturnType<typeof target>, maxSlip: number, stopped: () => string | null, onOwnOrders: () => void): Promise<FlattenResult> {
    const f = this.flags
    return flattenSymbol({
      stopped,
      onOwnOrders,
      t,
      maxSlip,
      maxRounds: f.rounds,
      waitMs: parseDuration(f.wait, '--wait'),
      venue: () => this.openVenue(),
      cancel: async () => {
        const {openVenueOps} = await import('../lib/state/venue-ops.js')
        return openVenueOps({restUrl: resolveEndpoints({restUrl: f['rest-url'], testnet: f.testnet}).rest, keyFile: f['key-file'], env: process.env})
      },
      onRound: (x) => this.log(`round ${x.round}: ${x.side} ${x.qty} @ ${x.price} (mid ${x.mid ?? '—'}) → ${x.status === 'unknown' ? 'no answer: outcome unknown, it may have filled' : `filled ${x.filled}`}${x.slippage === null ? '' : `, slippage ${x.slippage}`} (${x.status}${x.code === undefined ? '' : ` ${x.code}: ${x.reason}`})`),
    })
  }
}
