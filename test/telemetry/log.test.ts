/**
 * The operator log: JSON lines with level, time, command, symbol and run; SPEC §5 fields of
 * strategy_adjust / risk_event; levels; the TTY text form; no secret ever; the file
 * destination appends and reopens for logrotate.
 */
import {mkdtempSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {createLogger, logRunEvent, parseLogLevel, prettyLine, scrubText} from '../../src/lib/telemetry/log.js'
import type {RunEvent} from '../../src/lib/telemetry/run-events.js'

function capture(level?: 'trace' | 'debug' | 'info' | 'warn', pretty = false) {
  const lines: string[] = []
  const l = createLogger({level, pretty, base: {command: 'quote', symbol: 'ETHUSDC'}, stream: {write: (s: string) => lines.push(s)}, now: () => 1_795_585_345_323})
  return {l, lines, json: () => lines.map((x) => JSON.parse(x) as Record<string, unknown>)}
}

const ADJUST: RunEvent = {type: 'strategy_adjust', t: 1000, reason: 'quote', riskMode: 'normal', spread: 0.0004, volatilityFactor: 1.25, inventoryFactor: 0, quoteInterval: 1000, bid: '1999.60', ask: '2000.40', join: false, backoffTicks: {buy: 0, sell: 1}, depthFillPrice: '2000.1', depthFillAvailable: true, depthSlippage: 0.0001}
const SHOCK: RunEvent = {type: 'risk_event', t: 2000, kind: 'shock', from: 'normal', to: 'halted', values: {move: 0.012}, thresholds: {shockPct: 0.01}}

describe('operator log', () => {
  it('one JSON line per strategy_adjust and risk_event, with level, time, command, symbol, run and the §5 fields', () => {
    const {l, json} = capture('info')
    const run = l.child({run: '20261125T101500Z-ETHUSDC-replay'})
    logRunEvent(run, ADJUST)
    logRunEvent(run, SHOCK)
    logRunEvent(run, {type: 'order', t: 1000, action: 'place', clientOrderId: 'a', side: 'BUY', price: '1', qty: '1'})
    logRunEvent(run, {type: 'sample', t: 1000, mid: '1', bid: '1', ask: '1', ownBid: null, ownAsk: null, position: '0', realised: '0', unrealised: '0', fees: '0', risk: 'normal'})
    expect(json()).toEqual([
      {level: 30, time: 1_795_585_345_323, command: 'quote', symbol: 'ETHUSDC', run: '20261125T101500Z-ETHUSDC-replay', event: 'strategy_adjust', t: 1000, reason: 'quote', riskMode: 'normal', spread: 0.0004, volatilityFactor: 1.25, inventoryFactor: 0, quoteInterval: 1000, bid: '1999.60', ask: '2000.40', join: false, backoffTicks: {buy: 0, sell: 1}, depthFillPrice: '2000.1', depthFillAvailable: true, depthSlippage: 0.0001, msg: 'strategy_adjust'},
      {level: 50, time: 1_795_585_345_323, command: 'quote', symbol: 'ETHUSDC', run: '20261125T101500Z-ETHUSDC-replay', event: 'risk_event', t: 2000, kind: 'shock', from: 'normal', to: 'halted', values: {move: 0.012}, thresholds: {shockPct: 0.01}, msg: 'risk_event'},
    ])
  })

  it('levels: warn by default on stderr drops info; debug shows orders; post-only rejects are debug, others warn', () => {
    const a = capture()
    logRunEvent(a.l, ADJUST)
    logRunEvent(a.l, {...SHOCK, to: 'reduce_only', kind: 'reduce_only_enter'})
    logRunEvent(a.l, {type: 'reject', t: 1, clientOrderId: 'x', code: -5022, msg: 'post only'})
    logRunEvent(a.l, {type: 'reject', t: 1, clientOrderId: 'y', code: -2019, msg: 'margin'})
    expect(a.json().map((j) => [j.level, j.event, j.kind ?? j.code])).toEqual([[40, 'risk_event', 'reduce_only_enter'], [40, 'reject', -2019]])
    const b = capture('debug')
    logRunEvent(b.l, {type: 'order', t: 1000, action: 'cancel', clientOrderId: 'a', reason: 'stop'})
    expect(b.json()[0]).toMatchObject({level: 20, event: 'order', action: 'cancel'})
    expect(createLogger({stream: {write: () => {}}, file: undefined}).level).toBe('warn')
    expect(parseLogLevel('debug')).toBe('debug')
    expect(() => parseLogLevel('loud')).toThrow('--log-level "loud" is not one of trace, debug, info, warn, error, fatal, silent')
  })

  it('a readable line on a terminal (UTC time, level, event, symbol, then the fields; command and run left out)', () => {
    const {l, lines} = capture('info', true)
    logRunEvent(l.child({run: 'r1'}), SHOCK)
    l.log('warn', 'feed_reconnect', {reason: 'socket closed', attempt: 2}, 'market data reconnected')
    expect(lines).toEqual([
      '05:42:25.323 ERROR risk_event ETHUSDC t=2000 kind=shock from=normal to=halted values={"move":0.012} thresholds={"shockPct":0.01}\n',
      '05:42:25.323 WARN  feed_reconnect ETHUSDC "market data reconnected" reason="socket closed" attempt=2\n',
    ])
    expect(prettyLine('not json')).toBe('not json')
  })

  it('never a secret: secret keys at any depth, signatures inside strings and errors', () => {
    const {l, lines} = capture('info')
    l.log('error', 'venue_error', {apiSecret: 's3cr3t', request: {url: '/fapi/v1/order?symbol=ETHUSDC&timestamp=1&signature=abcdef0123', headers: {'X-MBX-APIKEY': 'k3y'}}, err: new Error('400 for /fapi/v1/order?signature=abcdef0123&x=1')}, 'failed: secret=s3cr3t')
    const out = lines.join('')
    for (const s of ['s3cr3t', 'abcdef0123', 'k3y']) expect(out).not.toContain(s)
    expect(JSON.parse(out)).toMatchObject({apiSecret: '[redacted]', request: {url: '/fapi/v1/order?symbol=ETHUSDC&timestamp=1&signature=[redacted]', headers: {'X-MBX-APIKEY': '[redacted]'}}, err: {type: 'Error', message: '400 for /fapi/v1/order?signature=[redacted]&x=1'}, msg: 'failed: secret=[redacted]'})
    expect(scrubText('MM_API_SECRET=abc rest')).toBe('MM_API_SECRET=[redacted] rest')
  })

  it('--log-file: appends JSON (info by default), reopens after logrotate moved it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-log-'))
    const f = join(dir, 'sub', 'mm.log')
    const l = createLogger({file: f, base: {command: 'record'}, now: () => 0})
    expect(l.level).toBe('info')
    l.log('info', 'record_start', {symbols: ['ETHUSDC']})
    renameSync(f, `${f}.1`)
    l.log('info', 'still_old')
    l.reopen()
    l.log('info', 'record_end')
    expect(readFileSync(`${f}.1`, 'utf8').split('\n').filter(Boolean).map((x) => JSON.parse(x).event)).toEqual(['record_start', 'still_old'])
    expect(readFileSync(f, 'utf8').split('\n').filter(Boolean).map((x) => JSON.parse(x).event)).toEqual(['record_end'])
    writeFileSync(join(dir, 'plain'), '')
    expect(() => createLogger({file: join(dir, 'plain', 'x.log')})).toThrow(`--log-file ${join(dir, 'plain', 'x.log')}: E`)
  })
})
