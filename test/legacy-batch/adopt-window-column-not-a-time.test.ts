/**
 * Regression: `dualrun batch adopt` on a dataset whose window.column is text counted the window's
 * rows by comparing the text with the window's bounds as strings, saw 0 rows and recorded the
 * window `succeeded` (settled, so reconciled and possibly evidence), although `batch run` refuses
 * the same column. Adopt now applies the same rule: exit 2 naming datasets.<ds>.window.column and
 * the type, and records nothing.
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
  db = await createTestDatabase('adwin');
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-adwin-'));
  await db.pool.query(`CREATE SCHEMA "Sales";
    CREATE TABLE "Sales".orders_nightly (region text NOT NULL, order_id bigint NOT NULL, placed_on text, placed_at timestamptz,
      PRIMARY KEY (region, order_id));
    INSERT INTO "Sales".orders_nightly VALUES ('EU', 1, '2026-11-20 10:00:00+00', '2026-11-20 10:00Z'), ('US', 2, '2026-11-20 11:00:00+00', '2026-11-20 11:00Z')`);
  expect((await runCli(['migrate'], { cwd, env: { DATABASE_URL: db.url, DUALRUN_CONFIG: undefined } })).code).toBe(0);
});
afterAll(async () => {
  await db?.drop();
  fs.rmSync(cwd, { recursive: true, force: true });
});

function config(column: string): void {
  fs.writeFileSync(path.join(cwd, 'dualrun.yaml'), `database: { url: "${db.url}" }
datasets:
  orders:
    key: [region, order_id]
    window: { column: ${column} }
    batch: { output: Sales.orders_nightly }
    stream: { output: Sales.orders_stream, watermark: { column: placed_at } }
`);
}

const runs = async () => Number((await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM dualrun.batch_runs`)).rows[0].n);

describe('batch adopt: a window column that cannot hold window bounds', () => {
  it('a text window column is exit 2 naming the config path and type; no run is recorded', async () => {
    config('placed_on');
    const r = await runCli(['batch', 'adopt', 'orders', '--window', '2026-11-20'], { cwd });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain('datasets.orders.window.column: window.column placed_on of batch.output Sales.orders_nightly is of type text');
    expect(r.stderr).toContain('nothing was recorded');
    expect(await runs()).toBe(0);
  });

  it('a timestamptz window column is adopted with the rows of the window', async () => {
    config('placed_at');
    const r = await runCli(['batch', 'adopt', 'orders', '--window', '2026-11-20', '--format', 'json'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'succeeded', rows: 2 });
    expect(await runs()).toBe(1);
  });
});
