/**
 * One real embedded Postgres for the whole test run (in a temp folder, on a free
 * port); each test file creates its own database in it (test/support/pg.ts).
 * Kafka tests use the broker from scripts/kafka.sh via KAFKA_BROKERS; under CI=true
 * a missing broker fails the run instead of skipping.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { acquireEmbeddedPostgres, type EmbeddedHandle } from '../../src/core/db/embedded-postgres.ts';

let handle: EmbeddedHandle | undefined;
let dir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  if (process.env.CI === 'true' && !process.env.KAFKA_BROKERS) {
    throw new Error('CI=true but KAFKA_BROKERS is not set: start the broker (npm run kafka:start) so Kafka tests run');
  }
  let url = process.env.DUALRUN_TEST_DATABASE_URL;
  if (!url) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-test-pg-'));
    fs.chmodSync(dir, 0o755); // the server runs as the unprivileged postgres user
    handle = await acquireEmbeddedPostgres({
      dir,
      // Test-only speed settings: durability against OS crashes is not under test.
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
    });
    url = handle.url;
  }
  project.provide('pgUrl', url);
  project.provide('kafkaBrokers', process.env.KAFKA_BROKERS ?? '');
}

export async function teardown(): Promise<void> {
  await handle?.release();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    kafkaBrokers: string;
  }
}
