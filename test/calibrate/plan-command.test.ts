/**
 * `mm calibrate plan`'s default command (this node and this bin/run.js) in jobs.txt, for
 * a checkout whose path holds a space: it was written unquoted, so every line ran the
 * path's first word.
 */
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {defaultMmCommand} from '../../src/lib/calibrate/plan.js'

describe('mm calibrate plan: the default command', () => {
  it('is quoted for the shell: a node and a bin/run.js under paths with a space and a quote run as one word each', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'mm-plan-cmd-'))
    const root = join(tmp, "my mm's checkout")
    mkdirSync(join(root, 'bin'), {recursive: true})
    // a stand-in bin/run.js: prints its arguments as JSON
    writeFileSync(join(root, 'bin', 'run.js'), 'console.log(JSON.stringify(process.argv.slice(2)))\n')
    const cmd = defaultMmCommand(process.execPath, join(root, 'bin', 'run.js'))
    expect(cmd).toBe(`${process.execPath} '${tmp}/my mm'\\''s checkout/bin/run.js'`)
    const out = execFileSync('sh', ['-c', `${cmd} calibrate point job.json --json`], {encoding: 'utf8'})
    expect(JSON.parse(out)).toEqual(['calibrate', 'point', 'job.json', '--json'])
  })
})
