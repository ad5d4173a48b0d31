import {availableParallelism} from 'node:os'
import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    disableConsoleIntercept: true,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at once even on two cores (vitest's default is one fewer than the
    // cores: one on two): most of the time of the e2e files is spent waiting on mm sim, a
    // quote's timers or a child process, not on the CPU. On a two-core machine the suite took
    // 1,600 s one file at a time (2026-12-02), too close to CI's 30 minutes.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // In CI a failing test is run up to twice more before it counts as failed. Several e2e tests
    // race a moving synthetic market or a loaded machine (the closing notes list the ones seen);
    // a retry that passes is still printed by the default reporter. Locally: no retry.
    retry: process.env.CI ? 2 : 0,
  },
})
