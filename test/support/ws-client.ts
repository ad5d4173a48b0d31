/** A small WebSocket test client: collects messages, waits (bounded) for one that matches. */
import WebSocket from 'ws'

export interface TestWs {
  ws: WebSocket
  messages: any[]
  closed: Promise<number>
  next(pred: (m: any) => boolean, what: string, timeoutMs?: number): Promise<any>
  /** a ping/pong round trip: every message the server sent before it has arrived */
  roundTrip(): Promise<void>
  close(): void
}

export async function openWs(url: string): Promise<TestWs> {
  const ws = new WebSocket(url)
  const messages: any[] = []
  const waiters: Array<{pred: (m: any) => boolean; resolve: (m: any) => void}> = []
  ws.on('message', (raw) => {
    const m = JSON.parse(raw.toString())
    messages.push(m)
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].pred(m)) waiters.splice(i, 1)[0].resolve(m)
    }
  })
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)))
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  return {
    ws,
    messages,
    closed,
    next(pred, what, timeoutMs = 30_000) { // 3× and more a loaded machine's delay; only matters on failure
      const hit = messages.find(pred)
      if (hit) return Promise.resolve(hit)
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages).slice(0, 500)}`)), timeoutMs)
        waiters.push({pred, resolve: (m) => {
          clearTimeout(t)
          resolve(m)
        }})
      })
    },
    roundTrip() {
      return new Promise((resolve) => {
        ws.once('pong', () => resolve())
        ws.ping()
      })
    },
    close() {
      ws.terminate()
    },
  }
}
