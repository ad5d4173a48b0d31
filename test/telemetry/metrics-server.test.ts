/**
 * The /metrics endpoint on loopback: default bind address, content, other paths and
 * methods, a taken port, and close.
 */
import {createServer} from 'node:net'
import {describe, expect, it} from 'vitest'
import {createMetrics} from '../../src/lib/telemetry/metrics.js'
import {startMetricsServer} from '../../src/lib/telemetry/metrics-server.js'

describe('metrics server', () => {
  it('binds 127.0.0.1 by default on a free port and serves the registry', async () => {
    const m = createMetrics()
    m.observe({type: 'order', t: 1, action: 'cancel', clientOrderId: 'x', reason: 'stop'})
    const s = await startMetricsServer(m.registry, {port: 0})
    try {
      expect(s.host).toBe('127.0.0.1')
      expect(s.port).toBeGreaterThan(0)
      expect(s.url).toBe(`http://127.0.0.1:${s.port}/metrics`)
      const r = await fetch(s.url)
      expect(r.status).toBe(200)
      expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
      const text = await r.text()
      expect(text).toContain('# TYPE mm_cancels_total counter\nmm_cancels_total 1\n')
      expect((await fetch(`http://127.0.0.1:${s.port}/`)).status).toBe(404)
      expect((await fetch(s.url, {method: 'POST'})).status).toBe(405)
    } finally {
      await s.close()
    }
    await expect(fetch(s.url)).rejects.toThrow()
  })

  it('a taken port is a usage error naming it', async () => {
    const blocker = createServer()
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', () => res()))
    const port = (blocker.address() as {port: number}).port
    try {
      await expect(startMetricsServer(createMetrics().registry, {port})).rejects.toMatchObject({code: 'E_METRICS_LISTEN', exitCode: 2, message: expect.stringContaining(`127.0.0.1:${port}: EADDRINUSE`)})
    } finally {
      await new Promise((res) => blocker.close(res))
    }
  })
})
