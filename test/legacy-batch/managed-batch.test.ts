import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { runCli } from '../support/cli.ts';
import { EVENTS_SQL, seedEvents, writeProject } from './support.ts';

const QUERY = `-- one window of events
SELECT id, day, amount, at, note, now() AS loaded_at
FROM public.events
WHERE day >= :window_start AND day < :window_end;`;

let db: TestDatabase;
let dir: string;
const cfg = () => ['--config', path.join(dir, 'dualrun.yaml')];

beforeAll(async () => {
  db = await createTestDatabase('batch');
  await db.pool.query(EVENTS_SQL + seedEvents(['2026-11-18', '2026-11-19', '2026-11-20'], 500) + 'CREATE TABLE public.events_batch_b (LIKE public.events_batch);');
  dir = writeProject(db.url, {
    events: { batch: { output: 'public.events_batch', query: 'sql/events.sql' } },
    broken: { batch: { output: 'public.events_batch_b', query: 'sql/broken.sql' } },
    missing: { batch: { output: 'public.no_such_output', query: 'sql/events.sql' } },
  }, {
    'sql/events.sql': QUERY,
    'sql/broken.sql': 'SELEC id FROM public.events WHERE day >= :window_start',
  });
});
afterAll(async () => { await db?.drop(); });

const windowRows = async (day: string) => (await db.pool.query(
  'SELECT id, day::text, amount::text, at, note FROM public.events_batch WHERE day = $1 ORDER BY id', [day])).rows;

describe('managed batch run', () => {
  it('runs the same window twice with identical rows and count', async () => {
    const first = await runCli([...cfg(), 'batch', 'run', 'events', '--window', '2026-11-19', '--format', 'json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ dataset: 'events', window: '2026-11-19', status: 'succeeded', rows: 500 });
    const once = await windowRows('2026-11-19');
    const second = await runCli([...cfg(), 'batch', 'run', 'events', '--window', '2026-11-19', '--format', 'json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).rows).toBe(500);
    expect(await windowRows('2026-11-19')).toEqual(once);
    expect(once).toHaveLength(500);
    // microseconds and numeric scale survive
    expect(once[0].amount).toBe('1.37');
    const ledger = await db.pool.query(`SELECT status, rows, mode, snapshot_at IS NOT NULL AS snap FROM dualrun.batch_runs WHERE dataset = 'events' ORDER BY id`);
    expect(ledger.rows).toEqual([
      { status: 'succeeded', rows: '500', mode: 'managed', snap: true },
      { status: 'succeeded', rows: '500', mode: 'managed', snap: true },
    ]);
  });

  it('exits 3 naming dataset, window and the database message for bad SQL and a missing table', async () => {
    const bad = await runCli([...cfg(), 'batch', 'run', 'broken', '--window', '2026-11-19']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/DUALRUN_BATCH_FAILED: batch run of dataset broken, window 2026-11-19 failed: syntax error at or near "SELEC" \[SQLSTATE 42601\]/);
    const missing = await runCli([...cfg(), 'batch', 'run', 'missing', '--window', '2026-11-19']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/dataset missing, window 2026-11-19 failed: relation "public.no_such_output" does not exist \[SQLSTATE 42P01\]/);
    const ledger = await db.pool.query(`SELECT dataset, status, error_code, error->>'message' AS m FROM dualrun.batch_runs WHERE dataset IN ('broken', 'missing') ORDER BY id`);
    expect(ledger.rows).toEqual([
      { dataset: 'broken', status: 'failed', error_code: '42601', m: 'syntax error at or near "SELEC"' },
      { dataset: 'missing', status: 'failed', error_code: '42P01', m: 'relation "public.no_such_output" does not exist' },
    ]);
  });
});
