import {Flags} from '@oclif/core'
import {BaseCommand, stateDirFlag} from '../lib/cli/base.js'
import {parseDuration} from '../lib/cli/duration.js'
import {loadConfigFile} from '../lib/config/index.js'
import {type ResumeResult, resumeSymbol} from '../lib/state/actions.js'
import {resolveStateDir} from '../lib/state/dir.js'
import {target} from '../lib/state/ops.js'

export default class Resume extends BaseCommand<typeof Resume> {
  static override description = "Clear a halt (the confirmation a stop-loss halt waits for). Refuses while an automatic halt's condition still holds, saying which; --force overrides"
  static override examples = ['<%= config.bin %> resume --symbol ETHUSDC', '<%= config.bin %> resume --symbol ETHUSDC --force --json']

  static override flags = {
    symbol: Flags.string({char: 's', description: 'symbol to resume, e.g. ETHUSDC', required: true}),
    force: Flags.boolean({description: "resume even while an automatic halt's condition holds (a stop-loss whose loss remains trips again)", default: false}),
    config: Flags.string({char: 'c', description: 'JSON config file (risk.stopLoss, risk.maxDailyLoss, when no quote runs; default: mm.config.json if present)'}),
    wait: Flags.string({description: 'how long to wait for a running quote to acknowledge', default: '10s'}),
    ...stateDirFlag,
  }

  async run(): Promise<ResumeResult> {
    const f = this.flags
    const t = target(resolveStateDir(f['state-dir']).dir, f.symbol)
    const cfg = loadConfigFile(f.config).config
    const r = await resumeSymbol({t, force: f.force, stopLoss: cfg.strategy.kind === 'naive' ? 0 : cfg.risk.stopLoss, maxDailyLoss: cfg.strategy.kind === 'naive' ? 0 : cfg.risk.maxDailyLoss, waitMs: parseDuration(f.wait, '--wait')})
    for (const n of r.notes) this.logToStderr(`note: ${n}`)
    if (r.via === 'quote') this.log(`${t.symbol}: ${r.ack?.message ?? 'resumed'} (mm quote pid ${(r.quote as {pid: number}).pid})`)
    else this.log(r.resumed ? `${t.symbol}: resumed (was ${r.halt?.kind} halt: ${r.halt?.reason}); no quote runs — start mm quote to trade` : `${t.symbol}: not halted`)
    return r
  }
}
