/**
 * Regression: a config naming the legacy output `sales.orders_nightly` for a table created as
 * "Sales".orders_nightly made `dualrun migrate` create schema `sales` and an empty look-alike
 * table (exit 0), which `batch adopt` then counted as 0 rows, settled. An output missing only by
 * case is now not created: exit 2 naming the config path and the existing table.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../../support/pg.ts';

let db: TestDatabase;
let cwd: string;
beforeAll(async () => {
  db = await createTestDatabase('mcase');
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-mcase-'));
  await db.pool.query(`CREATE SCHEMA "Sales";
    CREATE TABLE "Sales".orders_nightly (region text NOT NULL, order_id bigint NOT NULL, placed_at timestamptz, PRIMARY KEY (region, order_id))`);
});
afterAll(async () => {
  await db?.drop();
  fs.rmSync(cwd, { recursive: true, force: true });
});

function config(batchOutput: string): void {
  fs.writeFileSync(path.join(cwd, 'dualrun.yaml'), `database: { url: "${db.url}" }
datasets:
  orders:
    key: [region, order_id]
    window: { column: placed_at }
    batch: { output: ${batchOutput} }
    stream: { output: Sales.orders_stream, source: { topic: t.orders } }
`);
}

const exists = async (name: string) => (await db.pool.query<{ r: string | null }>(`SELECT to_regclass($1)::text AS r`, [name])).rows[0].r !== null;

describe('migrate: an output named in another case than the existing table', () => {
  it('is not created; exit 2 naming datasets.orders.batch.output and Sales.orders_nightly', async () => {
    config('sales.orders_nightly');
    const r = await runCli(['migrate', '--format', 'json'], { cwd });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('datasets.orders.batch.output: sales.orders_nightly does not exist');
    expect(r.stderr).toContain('the database has Sales.orders_nightly');
    const outputs = JSON.parse(r.stdout).outputs as { side: string; action: string }[];
    expect(outputs.find((o) => o.side === 'batch')?.action).toBe('skipped');
    expect(await exists('sales.orders_nightly')).toBe(false);
    expect((await db.pool.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'sales'`)).rowCount).toBe(0);
  });

  it('the exact name migrates (the stream output is created in its shape)', async () => {
    config('Sales.orders_nightly');
    const r = await runCli(['migrate'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('created stream output Sales.orders_stream');
  });
});
