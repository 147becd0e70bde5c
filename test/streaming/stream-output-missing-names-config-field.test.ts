/**
 * Regression: `dualrun stream` on a stream.output that does not exist, or lacks a key column,
 * said `stream.output analytics.orders_strem does not exist` / `has no key column orderid`,
 * naming neither the config file nor the dataset's field. It now says
 * `invalid config F: datasets.orders.stream.output: ...` (or `datasets.orders.key`, with the
 * nearest column), exit 2 as before. And a stream output holding several rows with one key
 * failed with `DUALRUN_DB_QUERY_FAILED: could not create unique index` (exit 3): the config's key
 * does not identify its rows, a config mistake naming `datasets.<ds>.key` and the duplicated key.
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

const write = (over: Record<string, unknown>) => fs.writeFileSync(config, JSON.stringify({
  database: { url: db.url },
  datasets: { orders: { key: ['id'], batch: { output: 'so.b' }, stream: { output: 'so.s', source: { table: 'so.src' } }, ...over } },
}));
const cli = (args: string[]) => runCli(['--config', config, ...args], { cwd: dir });

beforeAll(async () => {
  db = await createTestDatabase('so_missing');
  await db.pool.query(`CREATE SCHEMA so; CREATE TABLE so.src (id int PRIMARY KEY, v int); CREATE TABLE so.b (LIKE so.src); CREATE TABLE so.s (LIKE so.src)`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-so-missing-'));
  config = path.join(dir, 'dualrun.yaml');
  write({});
  const promoted = await cli(['cutover', 'promote', 'orders', '--reason', 'test', '--actor', 'test', '--force']);
  expect(promoted.code, promoted.stderr).toBe(0);
});
afterAll(async () => { await db?.drop(); if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

describe('stream: an output or key column the database lacks names the config file and field', () => {
  it('a stream.output that does not exist', async () => {
    write({ stream: { output: 'so.ss', source: { table: 'so.src' } } });
    const r = await cli(['stream', '--dataset', 'orders', '--until-idle']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`DUALRUN_CONFIG_INVALID: invalid config ${config}: datasets.orders.stream.output: so.ss does not exist`);
  });

  it('a key column the stream output lacks, with the nearest one', async () => {
    write({ key: ['idd'], batch: { output: 'so.b' } });
    const r = await cli(['stream', '--dataset', 'orders', '--until-idle']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`invalid config ${config}: datasets.orders.key: stream.output so.s has no key column idd (did you mean id?)`);
  });

  it('a key that does not identify the stream output\'s rows (two rows with one key): exit 2 naming the key, Postgres\'s fields kept', async () => {
    await db.pool.query(`CREATE TABLE so.dup (id int, v int); INSERT INTO so.dup VALUES (1, 1), (1, 2)`);
    write({ stream: { output: 'so.dup', source: { table: 'so.src' } } });
    const r = await cli(['stream', '--dataset', 'orders', '--until-idle', '--format', 'json']);
    expect(r.code, r.stderr).toBe(2);
    const err = (JSON.parse(r.stdout) as { error: { code: string; message: string; db?: { code?: string } } }).error;
    expect(err.code).toBe('DUALRUN_CONFIG_INVALID');
    expect(err.message).toContain('datasets.orders.key: stream.output so.dup holds several rows with one key (Key (id)=(1) is duplicated)');
    expect(err.db?.code).toBe('23505');
  });
});
