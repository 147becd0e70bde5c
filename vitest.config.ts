import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fault suite runs on its own: npm run test:faults (vitest.faults.config.ts).
    exclude: ['test/faults/**', '**/node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    // Every spawned `dualrun` runs the current sources through tsx, never a stale dist/
    // (test/src/app/cli-startup.test.ts checks the compiled entry point itself).
    env: { DUALRUN_FROM_SOURCE: '1' },
    hookTimeout: 120_000,
    // Two cores: more workers only contend for the same Postgres.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
