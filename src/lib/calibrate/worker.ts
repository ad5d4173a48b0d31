/**
 * Worker-thread entry of `mm calibrate`: receives jobs, runs each (a deterministic replay
 * on the paper venue), posts the result back. One job at a time per thread.
 */
import {parentPort} from 'node:worker_threads'
import {memoizeLevels} from '../book/sync.js'
import {MmError} from '../domain/errors.js'
import {cacheReplayInputs} from '../record/replay-source.js'
import {type PointJob, runPoint} from './point.js'

// every point of a window replays the same recordings: each worker decodes them once and
// keeps the events for the next points (record/replay-source.ts; bounded)
cacheReplayInputs(true)
// …and the same event objects: each depth level is converted to ticks/steps once per
// worker, not once per point (book/sync.ts; identical results, bounded)
memoizeLevels(true)

export interface WorkerRequest {
  seq: number
  job: PointJob
  workDir: string
  keepRun: boolean
}

export type WorkerReply = {seq: number; ok: true; result: Awaited<ReturnType<typeof runPoint>>} | {seq: number; ok: false; error: {message: string; code: string; exitCode: number}}

parentPort?.on('message', (req: WorkerRequest) => {
  runPoint(req.job, req.workDir, {keepRun: req.keepRun}).then(
    (result) => parentPort?.postMessage({seq: req.seq, ok: true, result} satisfies WorkerReply),
    (error: unknown) => {
      const e = error as Error
      const body = error instanceof MmError ? {message: e.message, code: error.code, exitCode: error.exitCode as number} : {message: String(e?.message ?? error), code: 'E_INTERNAL', exitCode: 1}
      parentPort?.postMessage({seq: req.seq, ok: false, error: body} satisfies WorkerReply)
    },
  )
})
