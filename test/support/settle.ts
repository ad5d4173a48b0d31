/**
 * Wait for a promise settled by moving a controlled market clock: step 10 ms of market time
 * at a time (at most 200 ms), letting microtasks run between steps.
 */
export async function settle<T>(promise: Promise<T>, step: (ms: number) => void): Promise<T> {
  let done = false
  let out: T | undefined
  let err: unknown
  promise.then(
    (v) => {
      done = true
      out = v
    },
    (e) => {
      done = true
      err = e
    },
  )
  for (let i = 0; i < 20 && !done; i++) {
    step(10)
    await Promise.resolve()
    await Promise.resolve()
  }
  if (!done) throw new Error('not settled in 200 ms of market time')
  if (err) throw err
  return out as T
}
