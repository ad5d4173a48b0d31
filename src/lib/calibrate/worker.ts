/**
 * Worker-thread entry of `mm calibrate`: receives jobs, runs each (a deterministic replay
 * on the paper venue), posts the result back. One job at a time per thread, in order.
 */
import {parentPort} from 'node:worker_threads'
import {memoizeLevels} from '../book/sync.js'
import {MmError} from '../domain/errors.js'
import {cacheReplayInputs, replayDecodeMs} from '../record/replay-source.js'
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

/**
 * `ms`: the job's own wall time in the worker (from its start, not from when it was posted;
 * monotonic, fractional); `decodeMs`: the part of it spent reading the window's files into
 * the worker's cache (0 when they were there already)
 */
export type WorkerReply = {seq: number; ms: number; decodeMs?: number; ok: true; result: Awaited<ReturnType<typeof runPoint>>} | {seq: number; ms: number; decodeMs?: number; ok: false; error: {message: string; code: string; exitCode: number}}

/** One job, as the worker runs it (exported for tests: the reply's times) */
export async function runRequest(req: WorkerRequest): Promise<WorkerReply> {
  const t0 = performance.now()
  const d0 = replayDecodeMs()
  try {
    const result = await runPoint(req.job, req.workDir, {keepRun: req.keepRun})
    return {seq: req.seq, ms: performance.now() - t0, decodeMs: replayDecodeMs() - d0, ok: true, result}
  } catch (error) {
    const e = error as Error
    const body = error instanceof MmError ? {message: e.message, code: error.code, exitCode: error.exitCode as number} : {message: String(e?.message ?? error), code: 'E_INTERNAL', exitCode: 1}
    return {seq: req.seq, ms: performance.now() - t0, decodeMs: replayDecodeMs() - d0, ok: false, error: body}
  }
}

// The pool posts a job before the one running ends (JOBS_HELD in run.ts): the jobs run one
// after another, in the order they came, never two at once.
let chain: Promise<void> = Promise.resolve()
parentPort?.on('message', (req: WorkerRequest) => {
  chain = chain.then(async () => {
    parentPort?.postMessage(await runRequest(req))
  })
})
