/**
 * The final figures of one `mm record` run as Prometheus metrics, for node_exporter's
 * textfile collector (`--metrics-textfile`). No process metrics (the process is gone when
 * the file is read); every series carries `command="record"`, so the files of several
 * cron commands in one collector folder never clash. An alert on
 * `time() - mm_record_last_run_timestamp_seconds` or `mm_record_success == 0` catches a
 * cron job that stopped running or failing.
 */
import {Counter, Gauge, type Registry} from 'prom-client'
import {createRegistry} from './registry.js'

export interface RecordFigures {
  symbols: string[]
  /** wall ms at the end of the run */
  endedMs: number
  elapsedMs: number
  ok: boolean
  messages: number
  rows: number
  bytes: number
  files: number
  resyncs: number
  gaps: number
  reconnects: number
  /** rows written per stream (depth, snapshot, trades, ticker), when known */
  rowsByStream?: Record<string, number>
}

export function recordRegistry(f: RecordFigures, version?: string): Registry {
  const r = createRegistry({labels: {command: 'record'}, version})
  const reg = [r]
  const symbols = f.symbols.join(',')
  const gauge = (name: string, help: string, v: number) => new Gauge({name, help, labelNames: ['symbols'], registers: reg}).set({symbols}, v)
  const counter = (name: string, help: string, v: number) => new Counter({name, help, labelNames: ['symbols'], registers: reg}).inc({symbols}, v)
  gauge('mm_record_success', '1 if the last mm record run ended cleanly (duration or signal), 0 if it failed', f.ok ? 1 : 0)
  gauge('mm_record_last_run_timestamp_seconds', 'Unix time the last mm record run ended', f.endedMs / 1000)
  gauge('mm_record_duration_seconds', 'wall time the last mm record run lasted', f.elapsedMs / 1000)
  counter('mm_record_messages_total', 'WebSocket messages received in the last run', f.messages)
  counter('mm_record_rows_total', 'CSV rows written in the last run', f.rows)
  counter('mm_record_written_bytes_total', 'bytes of the files written in the last run (compressed)', f.bytes)
  counter('mm_record_files_total', 'files written in the last run', f.files)
  counter('mm_record_resyncs_total', 'order book resyncs in the last run', f.resyncs)
  counter('mm_record_gaps_total', 'sequence gaps in the depth stream in the last run', f.gaps)
  counter('mm_record_reconnects_total', 'WebSocket reconnects in the last run', f.reconnects)
  if (f.rowsByStream) {
    const c = new Counter({name: 'mm_record_stream_rows_total', help: 'CSV rows written in the last run, by stream', labelNames: ['symbols', 'stream'], registers: reg})
    for (const [stream, n] of Object.entries(f.rowsByStream)) c.inc({symbols, stream}, n)
  }
  return r
}
