#!/usr/bin/env node
// npm's `prepare` (after `npm ci` / `npm install` in a clone): build dist/ and the oclif
// manifest when the dev dependencies (TypeScript, oclif's CLI) are there. Without them
// (`npm ci --omit=dev`) there is nothing to build with: say what to do instead of failing
// on `tsc: not found`. `npm pack` builds in `prepack`, so this step leaves it alone.
import {execSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {createRequire} from 'node:module'

if (process.env.npm_command === 'pack' || process.env.npm_command === 'publish') process.exit(0)

const require = createRequire(import.meta.url)
let haveTools = true
try {
  require.resolve('typescript/package.json')
  require.resolve('oclif/package.json')
} catch {
  haveTools = false
}

if (!haveTools) {
  const built = existsSync(new URL('../dist/commands/quote.js', import.meta.url))
  process.stderr.write(
    [
      `mm: the dev dependencies are not installed (npm ci --omit=dev), so the TypeScript build cannot run here${built ? '; the dist/ already present is used' : ''}.`,
      '  to run mm from this clone: npm ci (with dev dependencies), which builds dist/',
      '  to install mm with production dependencies only: npm pack here (after npm ci), then npm install -g ./mm-<version>.tgz --omit=dev',
      '',
    ].join('\n'),
  )
  process.exit(0)
}

execSync('npm run build && npm run manifest', {stdio: 'inherit'})
