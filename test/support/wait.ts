/** Wait for a condition with a bounded polling loop (no fixed sleeps as synchronisation). */
// the default bound is 3× and more what a step takes on a loaded 2-core machine; it only matters on failure
export async function until(cond: () => boolean, what: string, timeoutMs = 15_000, stepMs = 5): Promise<void> {
  const rounds = Math.ceil(timeoutMs / stepMs)
  for (let i = 0; i < rounds; i++) {
    if (cond()) return
    await new Promise((r) => setTimeout(r, stepMs))
  }
  if (!cond()) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}
