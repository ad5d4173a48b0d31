/**
 * `mm report --html` on a 7-day synthetic run (604,800 samples, 20,160 fills, ~145 MB of
 * event log) through the real CLI with a 128 MB heap cap: the log is streamed, the page
 * is bounded; then the page is opened in a real headless Chromium (Debian's `chromium`,
 * driven by playwright-core): it renders with no console error, and a screenshot is
 * written to test-artifacts/ (gitignored; CI keeps it). Two runs in one page as well.
 */
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {chromium} from 'playwright-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BIN, ensureBuilt} from '../support/cli.js'
import {repoRoot} from '../support/shared-data.js'
import {writeSyntheticRun} from '../support/synthetic-run.js'

const CHROMIUM = process.env.MM_CHROMIUM ?? '/usr/bin/chromium'
const ARTIFACTS = resolve(repoRoot, 'test-artifacts')
const tmp = mkdtempSync(join(tmpdir(), 'mm-report-html-'))
const week = join(tmp, 'week.jsonl')
const day = join(tmp, 'day.jsonl')
let weekInfo: {events: number; fills: number; bytes: number}

/** node with a capped heap running bin/run.js: a report that read the whole log into memory would die */
function runCapped(args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((res) => {
    const child = spawn(process.execPath, ['--max-old-space-size=128', BIN, ...args], {cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('close', (code) => res({code, stdout, stderr}))
  })
}

async function openInChromium(file: string, shot: string): Promise<{errors: string[]; svgs: {h: number; lines: number; marks: number}[]}> {
  const profile = mkdtempSync(join(tmpdir(), 'mm-chromium-'))
  // a fresh profile each time (playwright passes it as --user-data-dir)
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: {width: 1200, height: 900},
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  try {
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`)
    })
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
    // no request may leave the page: it is self-contained
    page.on('request', (r) => {
      if (!r.url().startsWith('file://')) errors.push(`request: ${r.url()}`)
    })
    await page.goto(`file://${file}`, {waitUntil: 'load'})
    const svgs = await page.$$eval('svg', (els) => els.map((e) => ({h: e.getBoundingClientRect().height, lines: e.querySelectorAll('polyline').length, marks: e.querySelectorAll('path.fill').length})))
    mkdirSync(ARTIFACTS, {recursive: true})
    await page.screenshot({path: shot, fullPage: true})
    return {errors, svgs}
  } finally {
    await browser.close()
    rmSync(profile, {recursive: true, force: true})
  }
}

beforeAll(async () => {
  ensureBuilt('report')
  weekInfo = await writeSyntheticRun(week, {days: 7, fillEveryS: 30, seed: 7})
  await writeSyntheticRun(day, {days: 1, fillEveryS: 20, seed: 11})
}, 180_000)

afterAll(() => rmSync(tmp, {recursive: true, force: true}))

describe('mm report --html', () => {
  it('a 7-day run: streamed under a 128 MB heap, a bounded page, clean in headless Chromium, screenshot kept', async () => {
    expect(weekInfo.fills).toBe(20_160)
    expect(weekInfo.bytes).toBeGreaterThan(128 * 1024 * 1024)
    const html = join(tmp, 'week.html')
    const r = await runCapped(['report', week, '--html', html, '--json'])
    expect(r.code, r.stderr).toBe(0)
    const s = JSON.parse(r.stdout).data.runs[0].summary as {fills: number; makerFills: number; durationMs: number; timeInRiskMs: Record<string, number>}
    expect(s.fills).toBe(20_160)
    expect(s.makerFills).toBe(15_120)
    expect(s.durationMs).toBe(7 * 86_400_000)
    expect(s.timeInRiskMs.halted).toBe(300_000)
    const page = readFileSync(html, 'utf8')
    expect(statSync(html).size).toBeLessThan(3 * 1024 * 1024)
    expect(page).not.toContain('<script')
    expect(page).not.toMatch(/(src|href)="https?:/)
    expect((page.match(/<svg /g) ?? []).length).toBe(3)
    // fills thinned to at most 2000 markers, and the page says so
    const marks = (page.match(/<path class="fill"/g) ?? []).length
    expect(marks).toBeGreaterThan(1000)
    expect(marks).toBeLessThanOrEqual(2000)
    expect(page).toContain('Fill markers: 1 in 16 of 20160 fills shown.')
    // time axis in UTC with dates over a week; gridlines; a zero line; the PnL breakdown; risk bands
    expect(page).toMatch(/<text class="xlab"[^>]*>11-0[2-8] 00:00<\/text>/)
    expect(page).toContain('class="grid"')
    expect(page).toContain('class="zero"')
    for (const name of ['realised', 'unrealised', 'fees (− paid, + rebate)', 'net']) expect(page).toContain(`■ ${name}`)
    expect(page).toContain('<title>halted</title>')
    expect(page).toContain('<title>reduce_only</title>')
    const b = await openInChromium(html, join(ARTIFACTS, 'report-7d.png'))
    expect(b.errors).toEqual([])
    expect(b.svgs).toHaveLength(3)
    for (const svg of b.svgs) {
      expect(svg.h).toBeGreaterThan(100)
      expect(svg.lines).toBeGreaterThan(0)
    }
    expect(b.svgs[0].marks).toBe(marks)
    expect(statSync(join(ARTIFACTS, 'report-7d.png')).size).toBeGreaterThan(10_000)
  }, 300_000)

  it('several runs in one page: a comparison table and chart, then each run; clean in Chromium', async () => {
    const html = join(tmp, 'two.html')
    const r = await runCapped(['report', day, week, '--html', html])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`wrote ${html}`)
    const page = readFileSync(html, 'utf8')
    expect((page.match(/<svg /g) ?? []).length).toBe(1 + 2 * 3)
    expect(page).toContain('Net PnL (quote) of each run, from its start')
    expect(page).toContain(`<h2>1. ${day}: mm run ETHUSDC replay (v2)</h2>`)
    expect(page).toContain(`<h2>2. ${week}: mm run ETHUSDC replay (v2)</h2>`)
    expect(page).toMatch(/<text class="xlab"[^>]*>\+1d<\/text>/)
    const b = await openInChromium(html, join(ARTIFACTS, 'report-two-runs.png'))
    expect(b.errors).toEqual([])
    expect(b.svgs).toHaveLength(7)
  }, 300_000)

  it('an unwritable output path is exit 2 naming it, after the report is built', async () => {
    const r = await runCapped(['report', day, '--html', join(tmp, 'nope', 'x.html')])
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n')[0]).toBe(`mm report: cannot write ${join(tmp, 'nope', 'x.html')}: ENOENT`)
  }, 120_000)
})
