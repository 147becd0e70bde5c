/**
 * Regression: `dualrun capture --dataset orders` whose stream.source.table does not exist said
 * only `stream.source.table shop.ordrs does not exist in the toolkit database`, naming neither the
 * config file nor the dataset's field. It now says `invalid config F:
 * datasets.orders.stream.source.table: table shop.ordrs does not exist ...` (exit 2; with a case
 * hint when a table differs only in case). Without --dataset such a dataset is still skipped.
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
  db = await createTestDatabase('cap_missing');
  await db.pool.query(`CREATE SCHEMA "Shop"; CREATE TABLE "Shop".orders (id int PRIMARY KEY)`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-cap-missing-'));
  config = path.join(dir, 'dualrun.yaml');
  fs.writeFileSync(config, JSON.stringify({
    database: { url: db.url },
    datasets: { orders: { key: ['id'], batch: { output: 'shop.b' }, stream: { output: 'shop.s', source: { table: 'shop.orders' } } } },
  }));
});
afterAll(async () => { await db?.drop(); if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

describe('capture: a stream.source.table that does not exist', () => {
  it('named with --dataset: exit 2 naming the file, the field and the table that differs only in case', async () => {
    const r = await runCli(['--config', config, 'capture', '--dataset', 'orders'], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`DUALRUN_CONFIG_INVALID: invalid config ${config}: datasets.orders.stream.source.table: table shop.orders does not exist in the toolkit database`);
    expect(r.stderr).toContain('the database has Shop.orders');
  });
});
