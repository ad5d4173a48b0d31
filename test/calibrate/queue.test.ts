/**
 * The worker pool's job queue: each window's recordings are decoded by about one worker
 * (a worker keeps to its window, a new worker starts on a window nobody is on), a worker
 * joins a window another is on only when that pays for its decode, and every job is
 * handed out exactly once.
 */
import {describe, expect, it} from 'vitest'
import {inputsOf, JobQueue, jobsOf} from '../../src/lib/calibrate/run.js'
import {parseSpec} from '../../src/lib/calibrate/spec.js'

const spec = parseSpec(
  {
    symbol: 'ethusdt',
    windows: [
      {name: 'jul', replay: ['/d/jul-18.gz', '/d/jul-19.gz']},
      {name: 'aug', replay: '/d/aug.gz'},
      // the same recording as aug, a shorter window: the same decoded inputs
      {name: 'aug2m', replay: '/d/aug.gz', duration: '2m'},
    ],
    params: {'strategy.baseSpread': [0.0001, 0.0002, 0.0003]},
  },
  '/x/spec.json',
)
const {jobs} = jobsOf(spec)
const label = (j: {id: string; window: {name: string}} | undefined) => (j ? `${j.id}/${j.window.name}` : 'none')

describe('calibrate job queue', () => {
  it('two workers: each keeps to one recording (aug and aug2m share one), the first idle one takes what is left', () => {
    const q = new JobQueue(jobs)
    expect(q.size).toBe(9)
    const inputs = inputsOf
    const last: Array<string | undefined> = [undefined, undefined]
    const taken: string[][] = [[], []]
    const take = (w: number) => {
      const j = q.next(last[w])
      if (j) last[w] = inputs(j)
      taken[w].push(label(j))
    }
    // worker 0 starts on the recording with most jobs (aug: 6), worker 1 on the one nobody is on (jul)
    take(0)
    take(1)
    for (let i = 0; i < 5; i++) take(0)
    expect(taken[0]).toEqual(['p0001/aug', 'p0001/aug2m', 'p0002/aug', 'p0002/aug2m', 'p0003/aug', 'p0003/aug2m'])
    // worker 0 is out of aug jobs; jul (worker 1 is on it) has 2 left and no job of it is
    // timed yet: joining needs 2 per worker (4), so worker 0 is done and worker 1 runs them
    take(0)
    take(1)
    take(1)
    take(1)
    expect(taken[0].slice(6)).toEqual(['none'])
    expect(taken[1]).toEqual(['p0001/jul', 'p0002/jul', 'p0003/jul', 'none'])
    expect(q.size).toBe(0)
  })

  it('one worker: every job once, a recording’s jobs together', () => {
    const q = new JobQueue(jobs)
    const got: string[] = []
    let last: string | undefined
    for (let i = 0; i < 20; i++) {
      const j = q.next(last)
      if (!j) break
      last = inputsOf(j)
      got.push(label(j))
    }
    expect(got).toEqual(['p0001/aug', 'p0001/aug2m', 'p0002/aug', 'p0002/aug2m', 'p0003/aug', 'p0003/aug2m', 'p0001/jul', 'p0002/jul', 'p0003/jul'])
    expect(new Set(got).size).toBe(jobs.length)
  })

  describe('joining a window another worker is on', () => {
    const big = parseSpec(
      {symbol: 'ethusdt', windows: [{name: 'jul', replay: '/d/jul.gz'}, {name: 'aug', replay: '/d/aug.gz'}], params: {'strategy.baseSpread': [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((x) => x / 10_000)}},
      '/x/spec.json',
    )
    const bigJobs = jobsOf(big).jobs
    const jul = inputsOf(bigJobs[0])
    const aug = inputsOf(bigJobs[1])
    // worker 0 on jul, worker 1 on aug; worker 1 runs all 10 aug jobs while worker 0 runs `julDone` jul jobs
    const setup = (julDone: number, julMs: {first: number; job: number; decode?: number; jobDecode?: number}) => {
      const q = new JobQueue(bigJobs)
      const a = q.next(undefined)
      const b = q.next(undefined)
      expect([a?.window.name, b?.window.name]).toEqual(['jul', 'aug'])
      q.record(jul, julMs.first, true, julMs.decode)
      for (let i = 1; i < julDone; i++) expect(q.next(jul)?.window.name).toBe('jul')
      for (let i = 1; i < julDone; i++) q.record(jul, julMs.job, false, julMs.jobDecode)
      for (let i = 1; i < 10; i++) expect(q.next(aug)?.window.name).toBe('aug')
      return q
    }

    it('joins when the jobs left outlast a decode and a job: 7 left × 200 ms > (1,000 − 200) + 200 ms', () => {
      const q = setup(3, {first: 1000, job: 200})
      expect(q.next(aug)?.id).toBe('p0004')
      // both are on jul now: worker 0 takes the next one
      expect(q.next(jul)?.id).toBe('p0005')
      expect(q.size).toBe(5)
    })

    it('does not join when they do not: 4 left × 200 ms < 800 + 200 ms; the worker on it runs them all', () => {
      const q = setup(6, {first: 1000, job: 200})
      expect(q.next(aug)).toBeUndefined()
      const rest: string[] = []
      for (let i = 0; i < 10; i++) {
        const j = q.next(jul)
        if (!j) break
        rest.push(j.id)
      }
      expect(rest).toEqual(['p0007', 'p0008', 'p0009', 'p0010'])
      expect(q.size).toBe(0)
    })

    it('the boundary: 5 left × 200 ms is not more than 800 + 200 ms, 6 left is', () => {
      expect(setup(5, {first: 1000, job: 200}).next(aug)).toBeUndefined()
      expect(setup(4, {first: 1000, job: 200}).next(aug)?.id).toBe('p0005')
    })

    it('a decode its worker measured stands for the first job less a job (which also counts code run before it was compiled): 4 left × 200 ms > 300 + 200 ms', () => {
      expect(setup(6, {first: 1000, job: 200}).next(aug)).toBeUndefined()
      expect(setup(6, {first: 1000, job: 200, decode: 300}).next(aug)?.id).toBe('p0007')
      // measured at 600: 4 × 200 = 800 is not more than 600 + 200
      expect(setup(6, {first: 1000, job: 200, decode: 600}).next(aug)).toBeUndefined()
      // a first job that read nothing (0: the files were cached) keeps the estimate from its time
      expect(setup(6, {first: 1000, job: 200, decode: 0}).next(aug)).toBeUndefined()
    })

    it('a window the cache cannot hold is read by every job: a joining worker pays no more than the jobs do (600 − 550 + 200 < 4 × 200)', () => {
      expect(setup(6, {first: 1000, job: 200, decode: 600, jobDecode: 0}).next(aug)).toBeUndefined()
      expect(setup(6, {first: 1000, job: 200, decode: 600, jobDecode: 550}).next(aug)?.id).toBe('p0007')
    })

    it('before a job of the window is timed (only its first, with the decode): joins while 2 per worker are left', () => {
      expect(setup(1, {first: 1000, job: 200}).next(aug)?.id).toBe('p0002')
      const q = setup(7, {first: 1000, job: 200})
      // 3 left and timed: 3 × 200 < 1,000
      expect(q.next(aug)).toBeUndefined()
    })
  })
})
