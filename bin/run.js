#!/usr/bin/env node
import {existsSync} from 'node:fs'

// a clone installed without its dev dependencies has no build: say so in one line
if (!existsSync(new URL('../dist/commands', import.meta.url))) {
  process.stderr.write('mm: not built (no dist/): run `npm ci` in the clone (it builds), or install a packed release (npm pack, then npm install -g ./mm-<version>.tgz)\n')
  process.exit(1)
}

const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
