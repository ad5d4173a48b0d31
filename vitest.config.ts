import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    disableConsoleIntercept: true,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // In CI a failing test is run up to twice more before it counts as failed. Several e2e tests
    // race a moving synthetic market or a loaded machine (the closing notes list the ones seen);
    // a retry that passes is still printed by the default reporter. Locally: no retry.
    retry: process.env.CI ? 2 : 0,
  },
})
