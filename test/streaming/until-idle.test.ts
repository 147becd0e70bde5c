/**
 * Regression: `--until-idle` on the changelog returned while committed changes were
 * still unreadable because an older writing transaction (anywhere in the cluster)
 * held xmin back — a worker "caught up" with rows missing.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, serverUrl, type TestDatabase } from '../support/pg.ts';
import { installCapture } from '../../streaming/capture/capture-triggers.ts';
import { runStreamWorker } from '../../streaming/stream-supervisor.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { ORDERS_DDL, setStage, setupToolkit, testRuntime, writeConfig } from './support.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('stream_idle');
  await setupToolkit(db.pool);
  await db.pool.query(`${ORDERS_DDL('public.src')}; ${ORDERS_DDL('public.out')}`);
  await installCapture(db.pool, parseTableRef('public.src')!);
  await setStage(db.pool, 'orders', 'shadow');
});
afterAll(async () => { await db?.drop(); });

it('regression: --until-idle waits for changes held back by an older open writer instead of stopping short', async () => {
  const { config } = writeConfig({
    database: { url: db.url },
    datasets: { orders: { key: ['order_id'], batch: { output: 'public.b' }, stream: { output: 'public.out', source: { table: 'public.src' } } } },
  });
  // An older writing transaction in another database of the same server.
  const holder = new pg.Client({ connectionString: serverUrl() });
  await holder.connect();
  await holder.query('BEGIN; CREATE TEMP TABLE hold (x int); INSERT INTO hold VALUES (1)');
  await db.pool.query(`INSERT INTO public.src SELECT g, 1, 1.00, 'new', '2026-11-01' FROM generate_series(1, 20) g`);
  const rt = testRuntime(config);
  let finished = false;
  const worker = runStreamWorker(rt, { datasets: ['orders'], untilIdle: true }).finally(() => { finished = true; });
  await new Promise((r) => setTimeout(r, 1500));
  expect(finished).toBe(false);
  await holder.query('COMMIT');
  await holder.end();
  await worker;
  await rt.close();
  expect((await db.pool.query('SELECT count(*)::int AS n FROM public.out')).rows[0].n).toBe(20);
}, 60_000);
