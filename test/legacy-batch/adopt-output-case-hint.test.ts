/**
 * Regression: `dualrun batch adopt` with batch.output `sales.orders_nightly` for a legacy
 * "Sales".orders_nightly failed with only `relation "sales.orders_nightly" does not exist`; the
 * error now names the table that differs only in case. Nothing is recorded.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

let db: TestDatabase;
let cwd: string;
beforeAll(async () => {
  db = await createTestDatabase('adcase');
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-adcase-'));
  await db.pool.query(`CREATE SCHEMA "Sales";
    CREATE TABLE "Sales".orders_nightly (region text NOT NULL, order_id bigint NOT NULL, placed_at timestamptz, PRIMARY KEY (region, order_id))`);
  expect((await runCli(['migrate'], { cwd, env: { DATABASE_URL: db.url, DUALRUN_CONFIG: undefined } })).code).toBe(0);
  fs.writeFileSync(path.join(cwd, 'dualrun.yaml'), `database: { url: "${db.url}" }
datasets:
  orders:
    key: [region, order_id]
    window: { column: placed_at }
    batch: { output: sales.orders_nightly }
    stream: { output: Sales.orders_stream, watermark: { column: placed_at } }
`);
});
afterAll(async () => {
  await db?.drop();
  fs.rmSync(cwd, { recursive: true, force: true });
});

describe('batch adopt: an output named in another case', () => {
  it('names the existing table and records nothing', async () => {
    const r = await runCli(['batch', 'adopt', 'orders', '--window', '2026-11-20'], { cwd });
    // A config mistake: exit 2 naming the field (test/legacy-batch/batch-output-missing-exit-code.test.ts).
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('datasets.orders.batch.output: table sales.orders_nightly does not exist');
    expect(r.stderr).toContain('the database has Sales.orders_nightly');
    expect((await db.pool.query('SELECT 1 FROM dualrun.batch_runs')).rowCount).toBe(0);
  });
});
