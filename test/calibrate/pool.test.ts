/**
 * The worker pool of `mm calibrate` with fake workers driven by hand (no threads, no
 * timing): each worker is handed its next job before it answers the one it runs
 * (JOBS_HELD = 2, so it never waits for the main thread between jobs), never more than
 * that, and one at a time near the end of the queue; every job is handed out once and reaches onResult once; a worker ends (terminated
 * once) when nothing is left for it; a failed job stops the pool with the job named.
 */
import {describe, expect, it} from 'vitest'
import type {PointJob, PointResult} from '../../src/lib/calibrate/point.js'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {calibrate, inputsOf, JOBS_HELD, jobsOf, jobTimes, type PoolWorker, runPool} from '../../src/lib/calibrate/run.js'
import {parseSpec} from '../../src/lib/calibrate/spec.js'
import {MmError} from '../../src/lib/domain/errors.js'
import type {WorkerReply, WorkerRequest} from '../../src/lib/calibrate/worker.js'
import {AUG} from '../support/aug-jobs.js'

const spec = parseSpec(
  {
    symbol: 'ethusdt',
    windows: [
      {name: 'jul', replay: '/d/jul.gz'},
      {name: 'aug', replay: '/d/aug.gz'},
    ],
    params: {'strategy.baseSpread': [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((x) => x / 10_000)},
  },
  '/x/spec.json',
)
const {jobs} = jobsOf(spec)
const label = (j: PointJob) => `${j.id}/${j.window.name}`

class FakeWorker implements PoolWorker {
  /** every request posted to this worker, in order */
  readonly posted: WorkerRequest[] = []
  /** requests answered so far (a prefix of `posted`: a worker runs its jobs in order) */
  answered = 0
  terminated = 0
  private reply?: (m: WorkerReply) => void
  protected replyTo(m: WorkerReply): void {
    this.reply?.(m)
  }
  private error?: (e: Error) => void
  post(req: WorkerRequest): void {
    this.posted.push(req)
  }
  onReply(f: (m: WorkerReply) => void): void {
    this.reply = f
  }
  onError(f: (e: Error) => void): void {
    this.error = f
  }
  terminate(): Promise<unknown> {
    this.terminated++
    return Promise.resolve(0)
  }
  get held(): number {
    return this.posted.length - this.answered
  }
  /** the worker finishes the oldest job it holds, in `ms` (of which `decodeMs` reading its window, when given) */
  finish(ms = 200, fail?: string, decodeMs?: number): void {
    const req = this.posted[this.answered++]
    if (fail) this.reply?.({seq: req.seq, ms, decodeMs, ok: false, error: {message: fail, code: 'E_REPLAY', exitCode: 2}})
    else this.reply?.({seq: req.seq, ms, decodeMs, ok: true, result: {id: req.job.id, key: req.job.key, window: req.job.window.name} as unknown as PointResult})
  }
  crash(message: string): void {
    this.error?.(new Error(message))
  }
}

/** a pool of `n` fake workers over `list`; `results` collects what reaches onResult */
function pool(n: number, list: PointJob[] = jobs) {
  const workers: FakeWorker[] = []
  const results: string[] = []
  const done = runPool(list, {
    workers: n,
    workDir: '/w',
    keepRun: false,
    onResult: (r) => results.push(`${r.id}/${r.window}`),
    start: (i, count) => {
      expect([i, count]).toEqual([workers.length, Math.min(n, list.length)])
      const w = new FakeWorker()
      workers.push(w)
      return w
    },
  })
  return {workers, results, done}
}

describe('calibrate worker pool', () => {
  it('holds 2 jobs per worker: the next one is there before the running one answers', async () => {
    expect(JOBS_HELD).toBe(2)
    const {workers, results, done} = pool(2)
    expect(workers).toHaveLength(2)
    // both windows have 10 jobs: worker 0 starts on jul, worker 1 on aug, two each at once
    expect(workers.map((w) => w.posted.map((r) => label(r.job)))).toEqual([
      ['p0001/jul', 'p0002/jul'],
      ['p0001/aug', 'p0002/aug'],
    ])
    // each answer brings exactly one more job
    workers[0].finish()
    expect(workers[0].posted.map((r) => label(r.job))).toEqual(['p0001/jul', 'p0002/jul', 'p0003/jul'])
    expect(workers[0].held).toBe(2)
    expect(results).toEqual(['p0001/jul'])
    // run everything, worker 1 twice as often as worker 0, checking the bound at every step
    for (let step = 0; step < 100 && workers.some((w) => w.held > 0); step++) {
      const w = workers.find((x, i) => x.held > 0 && (step % 3 !== 0 || i === 0)) ?? workers.find((x) => x.held > 0)
      w?.finish()
      for (const x of workers) expect(x.held).toBeLessThanOrEqual(JOBS_HELD)
    }
    await done
    // every job posted once, answered once, in results once
    const posted = workers.flatMap((w) => w.posted.map((r) => label(r.job)))
    expect(posted).toHaveLength(jobs.length)
    expect(new Set(posted)).toEqual(new Set(jobs.map(label)))
    expect([...results].sort()).toEqual(jobs.map(label).sort())
    expect(workers.map((w) => w.terminated)).toEqual([1, 1])
    // sequence numbers are unique across the pool
    expect(new Set(workers.flatMap((w) => w.posted.map((r) => r.seq))).size).toBe(jobs.length)
  })

  it('one worker: a window at a time, in order, every job once, then it ends', async () => {
    const {workers, results, done} = pool(1)
    for (let i = 0; i < 100 && workers[0].held > 0; i++) workers[0].finish()
    await done
    expect(workers[0].posted.map((r) => label(r.job))).toEqual([...jobs.filter((j) => j.window.name === 'jul'), ...jobs.filter((j) => j.window.name === 'aug')].map(label))
    expect(results).toEqual(workers[0].posted.map((r) => label(r.job)))
    expect(workers[0].terminated).toBe(1)
  })

  it('near the end of the queue (fewer than 2 jobs per worker left) a worker is given one job at a time', async () => {
    const one = parseSpec({symbol: 'ethusdt', windows: [{name: 'aug', replay: '/d/aug.gz'}], params: {'strategy.baseSpread': [1, 2, 3, 4, 5, 6].map((x) => x / 10_000)}}, '/x/spec.json')
    const six = jobsOf(one).jobs
    const {workers, results, done} = pool(2, six)
    const ids = (w: FakeWorker) => w.posted.map((r) => r.job.id)
    // 6 jobs: worker 0 takes 2 (4 left, 2 per worker), worker 1 one (3 left: under 2 per worker)
    expect(workers.map(ids)).toEqual([['p0001', 'p0002'], ['p0003']])
    // worker 0 answers p0001: it still holds p0002, so nothing more for now
    workers[0].finish()
    expect(workers.map(ids)).toEqual([['p0001', 'p0002'], ['p0003']])
    // worker 1 answers p0003: p0004 goes to it, the free one
    workers[1].finish()
    expect(workers.map(ids)).toEqual([['p0001', 'p0002'], ['p0003', 'p0004']])
    workers[0].finish()
    workers[1].finish()
    expect(workers.map(ids)).toEqual([['p0001', 'p0002', 'p0005'], ['p0003', 'p0004', 'p0006']])
    workers[1].finish()
    workers[0].finish()
    await done
    expect([...results].sort()).toEqual(six.map((j) => `${j.id}/aug`).sort())
    expect(workers.map((w) => w.terminated)).toEqual([1, 1])
  })

  it('more workers than jobs: 3 workers for 3 jobs on 2 windows; the third has nothing worth taking and ends at once', async () => {
    const three = jobs.slice(0, 3)
    expect(three.map(label)).toEqual(['p0001/jul', 'p0001/aug', 'p0002/jul'])
    const {workers, results, done} = pool(8, three)
    expect(workers).toHaveLength(3)
    // one job each near the end of the queue; joining jul for its 1 job left does not pay
    expect(workers.map((w) => w.posted.map((r) => label(r.job)))).toEqual([['p0001/jul'], ['p0001/aug'], []])
    expect(workers.map((w) => w.terminated)).toEqual([0, 0, 1])
    for (const w of workers) for (let i = 0; i < 5 && w.held > 0; i++) w.finish()
    await done
    expect(workers[0].posted.map((r) => label(r.job))).toEqual(['p0001/jul', 'p0002/jul'])
    expect([...results].sort()).toEqual(three.map(label).sort())
    expect(workers.map((w) => w.terminated)).toEqual([1, 1, 1])
  })

  describe('the queue is timed by the worker’s own job time (ms in its answer)', () => {
    // worker 0's first jul job takes `first` ms (with the decode), its second 1,000 ms;
    // worker 1 runs aug's jobs in 100 ms each and asks for a job after aug's 9th, when
    // aug's queue is empty (it holds p0010/aug) and 6 jul jobs are left
    const run = (first: number) => {
      const p = pool(2)
      p.workers[0].finish(first)
      p.workers[0].finish(1000)
      for (let i = 0; i < 9; i++) p.workers[1].finish(100)
      return p
    }
    const drain = async ({workers, done}: ReturnType<typeof pool>) => {
      for (let step = 0; step < 100 && workers.some((w) => w.held > 0); step++) (workers[step % 2].held > 0 ? workers[step % 2] : workers[1 - (step % 2)]).finish(1000)
      await done
      expect(workers.flatMap((w) => w.posted).length).toBe(jobs.length)
    }

    it('joins when that pays: 6 left × 1,000 ms > a decode (3,000 − 1,000) + 1,000 ms', async () => {
      const p = run(3000)
      expect(p.workers[1].posted.slice(10).map((r) => label(r.job))).toEqual(['p0005/jul'])
      await drain(p)
    })

    it('does not when it does not: 6 × 1,000 ms < (9,000 − 1,000) + 1,000 ms; the worker ends with its last aug job', async () => {
      const p = run(9000)
      expect(p.workers[1].posted.slice(10)).toEqual([])
      p.workers[1].finish(100)
      expect(p.workers[1].terminated).toBe(1)
      expect(p.workers[1].posted).toHaveLength(10)
      await drain(p)
      expect(p.workers[0].posted).toHaveLength(10)
    })
  })

  it('a failed job stops the pool: no job is handed out after it, every worker ends, the job is named', async () => {
    const {workers, results, done} = pool(2)
    const failed = expect(done).rejects.toThrow('job p0002 on jul: no market events')
    workers[0].finish()
    workers[0].finish(200, 'no market events')
    const postedAfter = workers.map((w) => w.posted.length)
    workers[1].finish()
    expect(workers.map((w) => w.posted.length)).toEqual(postedAfter)
    await failed
    expect(results).toEqual(['p0001/jul', 'p0001/aug'])
    expect(workers.map((w) => w.terminated)).toEqual([1, 1])
  })

  it('a result that cannot be recorded (onResult throws: results.jsonl on a full disk) fails the pool with that error, not the process; every worker ends', async () => {
    const workers: FakeWorker[] = []
    const results: string[] = []
    const full = new MmError('E_OUT', 'cannot write /o/results.jsonl: ENOSPC: no space left on device, write')
    const done = runPool(jobs, {
      workers: 2,
      workDir: '/w',
      keepRun: false,
      onResult: (r) => {
        if (results.length === 1) throw full
        results.push(`${r.id}/${r.window}`)
      },
      start: () => {
        const w = new FakeWorker()
        workers.push(w)
        return w
      },
    })
    const failed = expect(done).rejects.toBe(full)
    workers[0].finish()
    // the answer whose result cannot be written: thrown to the worker's message handler
    // before, an uncaught exception that ended the process with a stack trace
    expect(() => workers[1].finish()).not.toThrow()
    const postedAfter = workers.map((w) => w.posted.length)
    workers[0].finish()
    expect(workers.map((w) => w.posted.length)).toEqual(postedAfter)
    await failed
    expect(results).toEqual(['p0001/jul'])
    expect(workers.map((w) => w.terminated)).toEqual([1, 1])
  })

  it('a crashed worker fails the run once the others end', async () => {
    const {workers, done} = pool(2)
    const failed = expect(done).rejects.toThrow('calibration worker failed: out of memory')
    workers[0].crash('out of memory')
    workers[1].finish()
    await failed
    expect(workers[1].terminated).toBe(1)
  })

  it("reports each job's time in its worker, marked first when the worker had not replayed that window before", async () => {
    const times: Array<[number, boolean]> = []
    const workers: FakeWorker[] = []
    const done = runPool(jobs, {
      workers: 1,
      workDir: '/w',
      keepRun: false,
      onResult: () => {},
      onJobTime: (ms, first) => times.push([ms, first]),
      start: () => {
        const w = new FakeWorker()
        workers.push(w)
        return w
      },
    })
    // one worker: jul's 10 jobs, then aug's; job k answers in 100 + k ms
    for (let k = 0; k < 100 && workers[0].held > 0; k++) workers[0].finish(100 + k)
    await done
    expect(times).toEqual(Array.from({length: 20}, (_, k) => [100 + k, k === 0 || k === 10]))
  })

  it("a worker's measured decode reaches the queue: the idle worker joins a window when the decode it measured pays, not when only the first job's time is known", async () => {
    // worker 0 on jul (first job 1,000 ms, then 200 ms each), worker 1 on aug (10 ms each);
    // when worker 1 runs out, 4 jul jobs are left to worker 0 alone: 4 × 200 = 800 ms
    const run = async (decodeMs?: number) => {
      const {workers, done} = pool(2)
      workers[0].finish(1000, undefined, decodeMs)
      for (let i = 0; i < 3; i++) workers[0].finish(200)
      for (let k = 0; k < 20 && workers[1].posted.every((r) => r.job.window.name === 'aug') && workers[1].held > 0; k++) workers[1].finish(10)
      const joined = workers[1].posted.filter((r) => r.job.window.name === 'jul').map((r) => r.job.id)
      for (let k = 0; k < 40 && workers.some((w) => w.held > 0); k++) for (const w of workers) if (w.held > 0) w.finish(200)
      await done
      return joined
    }
    // measured: 800 > 300 + 200, worker 1 joins; not measured: 1,000 − 200 + 200 = 1,000, it does not
    expect(await run(300)).toEqual(['p0007'])
    expect(await run(undefined)).toEqual([])
  })

  it('jobTimes: the count and median (ms, one decimal) of first and warm jobs; null without any', () => {
    expect(jobTimes([1300, 700], [40, 44, 41])).toEqual({first: {count: 2, medianMs: 1000}, warm: {count: 3, medianMs: 41}})
    expect(jobTimes([1234.56], [40.04, 40.11, 45, 39])).toEqual({first: {count: 1, medianMs: 1234.6}, warm: {count: 4, medianMs: 40.1}})
    expect(jobTimes([], [])).toEqual({first: {count: 0, medianMs: null}, warm: {count: 0, medianMs: null}})
  })

  it('inputsOf groups the jobs by window', () => {
    expect(new Set(jobs.map(inputsOf)).size).toBe(2)
  })
})

/** A fake worker that answers each job on the next turn of the event loop with a result of no fills. */
class AnsweringWorker extends FakeWorker {
  override post(req: WorkerRequest): void {
    super.post(req)
    setImmediate(() => this.finishWith(req))
  }
  private finishWith(req: WorkerRequest): void {
    this.answered++
    const metrics = {netPnl: 0, fees: 0, fills: 0, maxAbsPosition: 0, pnlPerMaxInventory: null, sharpe: null, markout1s: null, markout10s: null}
    this.replyTo({seq: req.seq, ms: 5, ok: true, result: {id: req.job.id, key: req.job.key, point: req.job.point, window: req.job.window.name, metrics, summary: {}} as unknown as PointResult})
  }
}

describe('calibrate(): the workers start before the windows are checked', () => {
  it('a window that fails its check stops every worker started, none given a job, nothing written', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mm-cal-start-'))
    const started: FakeWorker[] = []
    const run = calibrate({
      spec,
      outDir: out,
      workers: 3,
      start: (i, n) => {
        expect([i, n]).toEqual([started.length, 3])
        const w = new FakeWorker()
        started.push(w)
        return w
      },
    })
    await expect(run).rejects.toThrow('window jul: --replay /d/jul.gz: no such file or folder')
    expect(started.map((w) => [w.posted.length, w.terminated])).toEqual([
      [0, 1],
      [0, 1],
      [0, 1],
    ])
    expect(() => readFileSync(join(out, 'results.jsonl'))).toThrow('ENOENT')
  })
})

describe('calibrate(): workers beyond the jobs left', () => {
  it('a resumed run with 1 of 3 jobs left: 3 workers start (one per job), the pool takes the first, the other two are stopped without a job', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mm-cal-start-'))
    const three = parseSpec({symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.001', minNotional: '20', windows: [{name: 'aug', replay: AUG, duration: '2m'}], params: {'strategy.baseSpread': [0.0002, 0.0003, 0.0004]}}, join(out, 'spec.json'))
    const run = async (workers: number) => {
      const started: AnsweringWorker[] = []
      const r = await calibrate({
        spec: three,
        outDir: out,
        workers,
        start: (i, n) => {
          expect([i, n]).toEqual([started.length, 3])
          const w = new AnsweringWorker()
          started.push(w)
          return w
        },
      })
      return {r, started}
    }
    // one window: the first worker runs all three (the others have no window of their own
    // and 3 jobs are too few to share: JobQueue); each is stopped once
    const first = await run(8)
    expect(first.started.map((w) => [w.posted.length, w.terminated])).toEqual([
      [3, 1],
      [0, 1],
      [0, 1],
    ])
    const file = join(out, 'results.jsonl')
    const lines = readFileSync(file, 'utf8').split('\n')
    expect(lines.length).toBe(4)
    expect(lines[3]).toBe('')
    writeFileSync(file, lines.filter((l) => !l.includes('"p0002"')).join('\n'))
    const again = await run(3)
    expect(again.started.map((w) => [w.posted.map((p) => p.job.id), w.terminated])).toEqual([
      [['p0002'], 1],
      [[], 1],
      [[], 1],
    ])
    expect([again.r.ran, again.r.resumed]).toEqual([1, 2])
    expect(readFileSync(file, 'utf8').split('\n').map((l) => (l ? JSON.parse(l).id : ''))).toEqual(['p0001', 'p0003', 'p0002', ''])
  })
})
