#!/usr/bin/env node
import {existsSync} from 'node:fs'
import {setFlagsFromString} from 'node:v8'

// WebAssembly stays on V8's baseline compiler (Liftoff). The only WebAssembly mm runs is
// undici's HTTP parser (llhttp); left to tier up, V8 compiles its huge parse function with
// TurboFan on a background thread, and Node waits for that job before the process can
// exit: on a loaded machine 160-250 ms of CPU that made a stop after SIGTERM take 2-4 s
// (docs/RELIABILITY.md). REST answers are few and small: baseline code is plenty. Set
// before anything is compiled.
setFlagsFromString('--liftoff-only')

// a clone installed without its dev dependencies has no build: say so in one line
if (!existsSync(new URL('../dist/commands', import.meta.url))) {
  process.stderr.write('mm: not built (no dist/): run `npm ci` in the clone (it builds), or install a packed release (npm pack, then npm install -g ./mm-<version>.tgz)\n')
  process.exit(1)
}

// oclif checks the Node version against package.json's engines with semver on every start
// (about 80 ms of a CLI call's start-up: docs/calibrate.md): the same check, done here
// without semver. Keep the numbers in step with package.json's engines.node.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 20 || (major === 20 && minor < 18)) process.emitWarning(`Node version must be >=20.18 to use this CLI. Current node version: ${process.versions.node}`)
process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'

const {execute, settings} = await import('@oclif/core')
// the built CLI runs dist/ whatever NODE_ENV says (oclif would map to src/*.ts under test/development)
settings.enableAutoTranspile = false
await execute({dir: import.meta.url})
