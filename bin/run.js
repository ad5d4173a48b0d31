#!/usr/bin/env node
import {existsSync} from 'node:fs'

// a clone installed without its dev dependencies has no build: say so in one line
if (!existsSync(new URL('../dist/commands', import.meta.url))) {
  process.stderr.write('mm: not built (no dist/): run `npm ci` in the clone (it builds), or install a packed release (npm pack, then npm install -g ./mm-<version>.tgz)\n')
  process.exit(1)
}

const {execute, settings} = await import('@oclif/core')
// the built CLI runs dist/ whatever NODE_ENV says (oclif would map to src/*.ts under test/development)
settings.enableAutoTranspile = false
await execute({dir: import.meta.url})
