/**
 * Regression: `dualrun add orders --from-table sales.orders` on a legacy schema created as
 * "Sales" said only `table sales.orders not found in ...`, although the names differ only in
 * case (the usual miss: names are case-sensitive, as if quoted). It now names the table that is
 * there, as the reconciler already did, and still writes nothing.
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
  db = await createTestDatabase('addcase');
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-addcase-'));
  await db.pool.query(`CREATE SCHEMA "Sales"; CREATE TABLE "Sales".orders (region text, order_id bigint, placed_at timestamptz, PRIMARY KEY (region, order_id))`);
});
afterAll(async () => {
  await db?.drop();
  fs.rmSync(cwd, { recursive: true, force: true });
});

describe('dualrun add: a table named in the wrong case', () => {
  it('exit 2 naming the table of the same name in another case; nothing written', async () => {
    const r = await runCli(['add', 'orders', '--from-table', 'sales.orders'], { cwd, env: { DATABASE_URL: db.url, DUALRUN_CONFIG: undefined } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('table sales.orders not found');
    expect(r.stderr).toContain('the database has Sales.orders');
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  it('the exact case is scaffolded', async () => {
    const r = await runCli(['add', 'orders', '--from-table', 'Sales.orders'], { cwd, env: { DATABASE_URL: db.url, DUALRUN_CONFIG: undefined } });
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(cwd, 'dualrun.yaml'), 'utf8')).toContain('output: Sales.orders_batch');
  });
});
