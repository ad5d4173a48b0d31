/**
 * A closed output must not kill a command half-way. When the reader of stdout or stderr goes
 * away (`mm quote … | head`, an ssh session dropped without a terminal, a log pipe whose
 * reader died), the next write fails with EPIPE; unhandled, that error ended the process at
 * once (exit 1): a live `mm quote` left its orders working on the venue until the dead-man's
 * switch fired, and a `flatten` stopped between rounds. With this guard the writes are
 * dropped and the command goes on (a quote keeps its run log and state.json; SIGINT/SIGTERM
 * still stop it cleanly). Any other stream error is raised as before.
 *
 * Only the commands that act on the venue or write files over time install it (quote,
 * flatten, halt, record: a recorder killed by EIO left its files unfinished; sim, the venue a
 * rehearsal runs against, when its terminal is gone): a `calibrate`
 * worker whose parent is gone should still end on its broken pipe.
 */
const DROPPED = new Set(['EPIPE', 'EIO', 'ERR_STREAM_DESTROYED', 'ECONNRESET'])
let installed = false

export function surviveClosedOutput(): void {
  if (installed) return
  installed = true
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (DROPPED.has(err.code ?? '')) return
      throw err
    })
  }
}
