/**
 * Regression: `batch run` and `batch adopt` on a batch.output that does not exist, or a
 * window.column it lacks, failed with Postgres's `relation ... does not exist` as
 * DUALRUN_BATCH_FAILED, exit 3 (the code for a service that cannot be reached), naming no config
 * field. It is a config mistake: DUALRUN_CONFIG_INVALID, exit 2, naming the file, the field and the
 * nearest name. A managed run is still recorded failed (alerts and the gate see it); adopt records nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

let db: TestDatabase;
let dir: string;
let config: string;

beforeAll(async () => {
  db = await createTestDatabase('bo_missing');
  await db.pool.query(`CREATE SCHEMA bo; CREATE TABLE bo.src (id int PRIMARY KEY, day date NOT NULL); INSERT INTO bo.src VALUES (1, '2026-11-20');
    CREATE TABLE bo.b (id int PRIMARY KEY, day date NOT NULL); CREATE TABLE bo.s (id int PRIMARY KEY, day date NOT NULL);`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-bo-missing-'));
  fs.writeFileSync(path.join(dir, 'q.sql'), 'SELECT id, day FROM bo.src WHERE day >= :window_start AND day < :window_end');
  config = path.join(dir, 'dualrun.yaml');
});
afterAll(async () => { await db?.drop(); if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

const run = (batch: Record<string, unknown>, window: Record<string, unknown>, args: string[]) => {
  fs.writeFileSync(config, JSON.stringify({ database: { url: db.url }, datasets: { orders: { key: ['id'], window, batch, stream: { output: 'bo.s', source: { topic: 't', format: 'json' } } } } }));
  return runCli(['--config', config, ...args], { cwd: dir });
};
const runs = async () => (await db.pool.query<{ status: string }>(`SELECT status FROM dualrun.batch_runs ORDER BY id`)).rows.map((r) => r.status);

describe('batch run / adopt: a batch output or window column the database lacks is a config mistake', () => {
  it('batch run, missing output: exit 2 naming batch.output; the run is recorded failed', async () => {
    const r = await run({ output: 'bo.bb', query: 'q.sql' }, { column: 'day' }, ['batch', 'run', 'orders', '--window', '2026-11-20']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`DUALRUN_CONFIG_INVALID: invalid config ${config}: datasets.orders.batch.output: table bo.bb does not exist`);
    expect(await runs()).toEqual(['failed']);
  });

  it('batch run, missing window column: exit 2 naming window.column and the nearest column', async () => {
    const r = await run({ output: 'bo.b', query: 'q.sql' }, { column: 'dya' }, ['batch', 'run', 'orders', '--window', '2026-11-20', '--format', 'json']);
    expect(r.code, r.stderr).toBe(2);
    const out = JSON.parse(r.stdout) as { error?: { code: string; message: string } } | { windows: unknown };
    expect(JSON.stringify(out)).toContain('datasets.orders.window.column: dya is not a column of batch.output bo.b (did you mean day?)');
  });

  it('batch adopt, missing output: exit 2, nothing recorded', async () => {
    await db.pool.query('DELETE FROM dualrun.batch_runs');
    const r = await run({ output: 'bo.bb' }, { column: 'day' }, ['batch', 'adopt', 'orders', '--window', '2026-11-20']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`invalid config ${config}: datasets.orders.batch.output: table bo.bb does not exist`);
    expect(await runs()).toEqual([]);
  });
});
