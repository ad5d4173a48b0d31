/**
 * A small loopback HTTP stub of Binance's signed REST API for gateway tests: it records
 * every request exactly as received (method, path, raw query, raw body, headers), checks
 * the signature against the secret it was given, counts TCP connections, and answers from
 * a handler the test installs.
 */
import {createHmac} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import WebSocket, {WebSocketServer} from 'ws'

export interface StubRequest {
  method: string
  path: string
  /** raw query string, without `?` */
  query: string
  /** raw body */
  body: string
  headers: IncomingMessage['headers']
  params: URLSearchParams
  /** signature present and equal to HMAC(secret, query + body without the signature) */
  signatureOk: boolean | undefined
  signature?: string
}

export interface StubAnswer {
  status?: number
  body?: unknown
  headers?: Record<string, string>
  /** never answer (the client must time out) */
  hang?: boolean
  /** destroy the socket without an answer */
  reset?: boolean
}

export type StubHandler = (req: StubRequest) => StubAnswer | undefined

export class BinanceStub {
  readonly requests: StubRequest[] = []
  connections = 0
  handler: StubHandler = () => undefined
  serverTime: () => number = () => Date.now()
  private server?: Server
  private readonly hung: ServerResponse[] = []
  url = ''
  /** user-stream sockets by listenKey (connected via /private/ws/<key> or /ws/<key>) */
  readonly streams = new Map<string, WebSocket>()
  /** every user-stream connection, in order: its key */
  readonly streamLog: string[] = []
  /** answer client pings with pongs (turn off to simulate a dead stream) */
  answerPings = true
  pings = 0
  /** forward requests the handler leaves unanswered (GET) to this REST base, and other WebSocket paths to this WS base */
  proxyRest?: string
  proxyWs?: string
  private wss?: WebSocketServer

  constructor(readonly secret: string) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (c: string) => (body += c))
      req.on('end', () => {
        try {
          this.answer(req, res, body)
        } catch (err) {
          res.writeHead(500, {'content-type': 'application/json'})
          res.end(JSON.stringify({code: -1, msg: `stub handler failed: ${(err as Error).message}`}))
        }
      })
    })
    this.server.on('connection', () => this.connections++)
    this.wss = new WebSocketServer({noServer: true, autoPong: false})
    this.server.on('upgrade', (req, socket, head) => {
      const m = /^(?:\/private)?\/ws\/([^/?]+)$/.exec(req.url ?? '')
      if (!m && this.proxyWs) {
        this.wss!.handleUpgrade(req, socket, head, (client) => {
          const up = new WebSocket(this.proxyWs + (req.url ?? ''))
          const held: string[] = []
          up.on('message', (d) => client.readyState === WebSocket.OPEN && client.send(d.toString()))
          up.on('open', () => held.splice(0).forEach((x) => up.send(x)))
          up.on('close', () => client.terminate())
          up.on('error', () => client.terminate())
          client.on('message', (d) => (up.readyState === WebSocket.OPEN ? up.send(d.toString()) : held.push(d.toString())))
          client.on('ping', (d) => client.pong(d))
          client.on('close', () => up.terminate())
        })
        return
      }
      if (!m) {
        socket.destroy()
        return
      }
      this.wss!.handleUpgrade(req, socket, head, (ws) => {
        const key = decodeURIComponent(m[1])
        this.streams.set(key, ws)
        this.streamLog.push(key)
        ws.on('ping', (data) => {
          this.pings++
          if (this.answerPings) ws.pong(data)
        })
      })
    })
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()))
    this.url = `http://127.0.0.1:${(this.server.address() as {port: number}).port}`
    return this.url
  }

  private answer(req: IncomingMessage, res: ServerResponse, body: string): void {
    const raw = req.url ?? '/'
    const q = raw.indexOf('?')
    const path = q < 0 ? raw : raw.slice(0, q)
    const query = q < 0 ? '' : raw.slice(q + 1)
    const params = new URLSearchParams(query && body ? `${query}&${body}` : query + body)
    let signatureOk: boolean | undefined
    const m = /(^|&)signature=([0-9a-f]+)$/.exec(body.length > 0 ? body : query)
    if (m) {
      const payload = body.length > 0 ? query + body.slice(0, body.length - m[0].length) : query.slice(0, query.length - m[0].length)
      signatureOk = createHmac('sha256', this.secret).update(payload).digest('hex') === m[2]
    }
    const r: StubRequest = {method: req.method ?? '', path, query, body, headers: req.headers, params, signatureOk, signature: m?.[2]}
    this.requests.push(r)
    const h = this.handler(r)
    if (!h && this.proxyRest && r.method === 'GET') {
      void fetch(this.proxyRest + raw).then(
        async (up) => {
          res.writeHead(up.status, {'content-type': 'application/json'})
          res.end(await up.text())
        },
        () => res.destroy(),
      )
      return
    }
    const a = h ?? this.defaults(r)
    if (a.hang) {
      this.hung.push(res)
      return
    }
    if (a.reset) {
      req.socket.destroy()
      return
    }
    const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body ?? {})
    res.writeHead(a.status ?? 200, {'content-type': 'application/json', ...a.headers})
    res.end(text)
  }

  private defaults(r: StubRequest): StubAnswer {
    if (r.path === '/fapi/v1/time') return {body: {serverTime: this.serverTime()}}
    return {status: 404, body: {code: -1, msg: 'stub: no handler'}}
  }

  reset(): void {
    for (const ws of this.streams.values()) ws.terminate()
    this.streams.clear()
    this.streamLog.length = 0
    this.pings = 0
    this.answerPings = true
    this.requests.length = 0
    this.handler = () => undefined
  }

  /** send a user-stream event to the socket of `key` (the latest when omitted) */
  push(event: unknown, key?: string): void {
    const k = key ?? this.streamLog.at(-1)
    const ws = k === undefined ? undefined : this.streams.get(k)
    if (!ws) throw new Error(`no user stream for ${k}`)
    ws.send(typeof event === 'string' ? event : JSON.stringify(event))
  }

  async stop(): Promise<void> {
    for (const ws of this.streams.values()) ws.terminate()
    this.wss?.close()
    for (const res of this.hung) res.destroy()
    this.server?.closeAllConnections()
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r())
  }
}
