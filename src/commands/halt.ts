import {Flags} from '@oclif/core'
import {BaseCommand, stateDirFlag, venueFlags} from '../lib/cli/base.js'
import {surviveClosedOutput} from '../lib/cli/output-closed.js'
import {resolveEndpoints} from '../lib/cli/endpoints.js'
import {parseDuration} from '../lib/cli/duration.js'
import {type HaltResult, haltSymbol} from '../lib/state/actions.js'
import {resolveStateDir} from '../lib/state/dir.js'
import {target} from '../lib/state/ops.js'
import {MmError} from '../lib/domain/errors.js'
import {checkTextfilePath, writeTextfile} from '../lib/telemetry/textfile.js'
import type {HaltFigures} from '../lib/telemetry/ops-metrics.js'

export default class Halt extends BaseCommand<typeof Halt> {
  static override description = 'Stop quoting now: a running mm quote cancels its orders and stops quoting within one cycle (it keeps watching); without one, the halt is recorded in state.json. Exit 0 halted and no order left, 3 orders not confirmed cancelled'
  static override examples = [
    '<%= config.bin %> halt --symbol ETHUSDC --reason "exchange maintenance"',
    '<%= config.bin %> halt --symbol ETHUSDC --for 30m --reason deploy',
    '<%= config.bin %> halt --symbol ETHUSDC --json',
    '<%= config.bin %> halt --symbol ETHUSDC --metrics-textfile /var/lib/node_exporter/textfile_collector/mm_halt_ETHUSDC.prom   # from cron',
  ]

  static override flags = {
    symbol: Flags.string({char: 's', description: 'symbol to halt, e.g. ETHUSDC', required: true}),
    reason: Flags.string({char: 'r', description: 'why (recorded in state.json and the run log)', default: 'manual'}),
    for: Flags.string({description: 'end the halt by itself after this long (30s, 5m, 1h); default: until mm resume'}),
    'no-cancel': Flags.boolean({description: 'do not cancel orders on the venue from this command (a running quote still stops quoting)', default: false}),
    all: Flags.boolean({description: "cancel every order of the symbol on the venue, not only this instance's", default: false}),
    wait: Flags.string({description: 'how long to wait for a running quote to acknowledge and cancel', default: '10s'}),
    'key-file': Flags.string({description: 'API key file (else env MM_API_KEY / MM_API_SECRET): cancels on the venue when no quote answers', helpGroup: 'VENUE'}),
    'metrics-textfile': Flags.string({description: "at the end, write the run's figures (orders cancelled / left, exit code, time) to this *.prom file for node_exporter's textfile collector, atomically (default: none)", helpGroup: 'METRICS'}),
    ...stateDirFlag,
    ...venueFlags,
  }

  async run(): Promise<HaltResult> {
    const f = this.flags
    const stateDir = resolveStateDir(f['state-dir']).dir
    const t = target(stateDir, f.symbol)
    const textfile = f['metrics-textfile'] === undefined ? undefined : checkTextfilePath(f['metrics-textfile'])
    const write = async (x: Omit<HaltFigures, 'symbol' | 'endedMs'>) => {
      if (!textfile) return
      const {haltRegistry} = await import('../lib/telemetry/ops-metrics.js')
      await writeTextfile(textfile, haltRegistry({symbol: t.symbol, endedMs: Date.now(), ...x}, this.config.version))
    }
    // SIGHUP (the terminal or ssh session gone) is no request to stop an emergency halt: it
    // carries on (cancels, then records the halt), its output to the gone terminal dropped
    surviveClosedOutput()
    const onHup = () => {}
    process.on('SIGHUP', onHup)
    let r: HaltResult
    try {
      r = await this.halt(t)
    } catch (error) {
      // cron's monitoring sees a failed run too
      await write({exitCode: error instanceof MmError ? error.exitCode : 1, cancelled: 0, left: 0, halted: false})
      throw error
    } finally {
      process.off('SIGHUP', onHup)
    }
    for (const n of r.notes) this.logToStderr(`note: ${n}`)
    const h = r.halt
    const what = h ? `${h.kind} halt (${h.reason}) by ${h.by} since ${h.at}${h.until ? ` until ${h.until}` : ' until mm resume'}` : 'no halt recorded'
    this.log(`${t.symbol}: ${what}; via ${r.via === 'quote' ? `mm quote pid ${(r.quote as {pid: number}).pid}` : r.via === 'self' ? 'state.json (no quote running)' : 'a request left for the quote'}`)
    this.log(
      r.ordersLeft.length > 0
        ? `${r.ordersLeft.length} order(s) not confirmed cancelled: ${r.ordersLeft.join(', ')}`
        : r.venueAsked === false
          ? 'no quote of this state dir is known, and the venue was not asked (no API keys): mm orders working under another state dir, if any, are not known'
          : r.exitCode === 0 || r.venueChecked === true
            ? 'no order of ours remains'
            : 'the venue did not confirm that no order of ours remains',
    )
    await write({exitCode: r.exitCode, cancelled: r.cancelled, left: r.ordersLeft.length, halted: r.halt !== null})
    return this.finish(r, r.exitCode)
  }

  private halt(t: ReturnType<typeof target>): Promise<HaltResult> {
    const f = this.flags
    return haltSymbol({
      t,
      reason: f.reason,
      forMs: f.for === undefined ? undefined : parseDuration(f.for, '--for'),
      noCancel: f['no-cancel'],
      all: f.all,
      waitMs: parseDuration(f.wait, '--wait'),
      venue: async () => {
        const {openVenueOps} = await import('../lib/state/venue-ops.js')
        return openVenueOps({restUrl: resolveEndpoints({restUrl: f['rest-url'], testnet: f.testnet}).rest, keyFile: f['key-file'], env: process.env})
      },
    })
  }
}
