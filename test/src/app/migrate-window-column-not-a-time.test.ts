/**
 * Regression: `dualrun migrate` accepted a window.column of type text on an existing (adopted)
 * legacy output and exited 0, so the mistake surfaced only at night, as every reconcile
 * failing with exit 3. Migrate now checks the window column's type on each existing output
 * (the rule the reconciler and the batch load apply) and exits 2 naming the config path,
 * column and type, without altering the user's table.
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
  db = await createTestDatabase('mwin');
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-mwin-'));
  await db.pool.query(`CREATE SCHEMA "Sales";
    CREATE TABLE "Sales".orders_nightly (region text NOT NULL, order_id bigint NOT NULL, customer text,
      placed_day date, placed_at timestamptz, PRIMARY KEY (region, order_id))`);
});
afterAll(async () => {
  await db?.drop();
  fs.rmSync(cwd, { recursive: true, force: true });
});

function config(column: string, grain: 'day' | 'hour'): void {
  fs.writeFileSync(path.join(cwd, 'dualrun.yaml'), `database: { url: "${db.url}" }
datasets:
  orders:
    key: [region, order_id]
    window: { column: ${column}, grain: ${grain} }
    batch: { output: Sales.orders_nightly }
    stream: { output: Sales.orders_stream, watermark: { column: placed_at } }
`);
}

async function columns(): Promise<string[]> {
  const r = await db.pool.query<{ c: string }>(`SELECT attname || ' ' || format_type(atttypid, atttypmod) AS c FROM pg_attribute
    WHERE attrelid = '"Sales".orders_nightly'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`);
  return r.rows.map((x) => x.c);
}

describe('migrate: a window column that cannot hold window bounds', () => {
  it('a text window column on an existing output is exit 2 naming the path, column and type; the table is untouched', async () => {
    const before = await columns();
    config('customer', 'day');
    const r = await runCli(['migrate', '--format', 'json'], { cwd });
    expect(r.code, r.stderr).toBe(2);
    const mismatches = JSON.parse(r.stdout).mismatches as { at: string; differences: string[] }[];
    expect(mismatches.find((m) => m.at === 'datasets.orders.batch.output')?.differences.join(' ')).toContain('window.column customer is of type text');
    expect(await columns()).toEqual(before);
  });

  it('a date window column in hour windows is exit 2 saying why', async () => {
    config('placed_day', 'hour');
    const r = await runCli(['migrate'], { cwd });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('datasets.orders.batch.output');
    expect(r.stderr).toContain('window.column placed_day is a date: it cannot be cut into hour windows');
  });

  it('a timestamptz window column passes', async () => {
    config('placed_at', 'day');
    const r = await runCli(['migrate'], { cwd });
    expect(r.code, r.stderr).toBe(0);
  });
});
