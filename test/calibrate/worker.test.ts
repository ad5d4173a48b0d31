/**
 * A calibrate worker's reply to a job: the job's own time and the part of it spent reading
 * the window's files into the worker's cache (what the pool's queue weighs a second decode
 * by): all of a first job's reading, none for a window already held.
 */
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
// importing the worker module turns its caches on in this test file's thread, as in a worker
import {runRequest} from '../../src/lib/calibrate/worker.js'
import {augJobs} from '../support/aug-jobs.js'

describe('calibrate worker reply', () => {
  // a window that ends inside the file: the part the first job read is kept, and the next stops there too
  const jobs = augJobs([0.0001, 0.0002])

  it("a first job on a window reports its decode within its time; the next reads nothing; a failed job reports its times too", async () => {
    const work = join(tmpdir(), 'mm-worker-never-written')
    const first = await runRequest({seq: 0, job: jobs[0], workDir: work, keepRun: false})
    const second = await runRequest({seq: 1, job: jobs[1], workDir: work, keepRun: false})
    expect([first.ok, second.ok]).toEqual([true, true])
    expect(first.decodeMs).toBeGreaterThan(0)
    expect(first.decodeMs).toBeLessThan(first.ms)
    expect(second.decodeMs).toBe(0)
    const bad = await runRequest({seq: 2, job: {...jobs[0], window: {...jobs[0].window, replay: [join(tmpdir(), 'mm-no-such-capture.gz')]}}, workDir: work, keepRun: false})
    expect(bad.ok).toBe(false)
    expect(bad.decodeMs).toBe(0)
    expect([first.seq, second.seq, bad.seq]).toEqual([0, 1, 2])
  }, 120_000)
})
