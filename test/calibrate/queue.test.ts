/**
 * The worker pool's job queue: each window's recordings are decoded by about one worker
 * (a worker keeps to its window, a new worker starts on a window nobody is on), and every
 * job is handed out exactly once.
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
    // worker 0 is out of aug jobs: it joins jul (worker 1 is on it), then none is left
    take(0)
    take(1)
    take(0)
    take(1)
    expect(taken[0].slice(6)).toEqual(['p0002/jul', 'none'])
    expect(taken[1]).toEqual(['p0001/jul', 'p0003/jul', 'none'])
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
})
