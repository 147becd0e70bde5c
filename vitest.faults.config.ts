import { defineConfig } from 'vitest/config';

// The fault suite (`npm run test:faults`): SIGKILLs, Postgres restarts, broker outages,
// poison at every stage. Sizes from FAULTS_* env (see test/faults/fault-support.ts).
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 600_000,
    hookTimeout: 180_000,
    // Every spawned `dualrun` runs the current sources, never a stale dist/.
    env: { DUALRUN_FROM_SOURCE: '1' },
    // One scenario at a time: they stop and start services and measure time.
    fileParallelism: false,
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
  },
});
