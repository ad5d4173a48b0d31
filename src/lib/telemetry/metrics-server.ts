/**
 * GET /metrics (Prometheus text format) on node:http for one registry. Binds 127.0.0.1
 * unless told otherwise: the metrics are for a local scraper, not the network.
 */
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import type {Registry} from 'prom-client'
import {UsageError} from '../domain/errors.js'

export const DEFAULT_METRICS_HOST = '127.0.0.1'

export interface MetricsServer {
  /** http://host:port/metrics */
  url: string
  host: string
  port: number
  close(): Promise<void>
}

export async function startMetricsServer(registry: Registry, opts: {host?: string; port?: number} = {}): Promise<MetricsServer> {
  const host = opts.host ?? DEFAULT_METRICS_HOST
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== '/metrics') {
      res.writeHead(404, {'content-type': 'text/plain; charset=utf-8'}).end('not found: try /metrics\n')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, {allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8'}).end('method not allowed\n')
      return
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, {'content-type': registry.contentType})
        res.end(req.method === 'HEAD' ? undefined : text)
      },
      (err: Error) => {
        res.writeHead(500, {'content-type': 'text/plain; charset=utf-8'}).end(`metrics failed: ${err.message}\n`)
      },
    )
  })
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(new UsageError('E_METRICS_LISTEN', `--metrics-port ${opts.port ?? 0}: cannot serve metrics on ${host}:${opts.port ?? 0}: ${err.code ?? err.message}`, {suggestion: 'pick another --metrics-port (0 = any free port) or --metrics-host'}))
    }
    server.once('error', onError)
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  const addr = server.address() as AddressInfo
  const shown = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address
  let closed: Promise<void> | null = null
  return {
    url: `http://${shown}:${addr.port}/metrics`,
    host: addr.address,
    port: addr.port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closed
    },
  }
}
