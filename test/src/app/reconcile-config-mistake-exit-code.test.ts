/**
 * Regression: config mistakes that surface only when the reconciler reads the database (a batch
 * output that is not there, a column no output has, a window column of a type without instants)
 * exited 3, the code for an unreachable service, so a cron wrapper retried a config that can never
 * work; an adopted output's misspelt stream.watermark.column kept every window pending (exit 4)
 * for ever. They exit 2 now, naming the config file and the field; an unreachable database stays
 * 3 and a real mismatch stays 1 (the exit code is derived from the error's registry entry).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/pg.ts';
import { runCli } from '../../support/cli.ts';

let db: TestDatabase;
let dir: string;
let config: string;

const write = (datasets: Record<string, unknown>, url = db.url) => fs.writeFileSync(config, JSON.stringify({ database: { url }, datasets }));
const cli = (args: string[]) => runCli(['--config', config, ...args], { cwd: dir });
const orders = (over: Record<string, unknown> = {}) => ({
  key: ['id'], window: { column: 'day' }, batch: { output: 'rx.b' }, stream: { output: 'rx.s', source: { topic: 't', format: 'json' } }, ...over,
});

beforeAll(async () => {
  db = await createTestDatabase('rc_exit');
  await db.pool.query(`CREATE SCHEMA rx;
    CREATE TABLE rx.b (id int PRIMARY KEY, v int, label text, day date NOT NULL, updated_at timestamptz);
    CREATE TABLE rx.s (LIKE rx.b);
    INSERT INTO rx.b VALUES (1, 1, 'a', '2026-11-20', '2026-11-22Z'); INSERT INTO rx.s VALUES (1, 2, 'a', '2026-11-20', '2026-11-22Z');`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-rc-exit-'));
  config = path.join(dir, 'dualrun.yaml');
});
afterAll(async () => { await db?.drop(); if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

describe('reconcile: config mistakes found in the database exit 2, naming the config file and field', () => {
  it.each([
    ['a batch output that does not exist', orders({ batch: { output: 'rx.bb' } }), 'datasets.orders.batch.output: table rx.bb does not exist'],
    ['a key column no output has', orders({ key: ['idd'] }), 'datasets.orders.key: idd is a column of neither batch.output rx.b nor stream.output rx.s (did you mean id?)'],
    ['a reconcile.ignore entry no output has', orders({ reconcile: { ignore: ['vv'] } }), 'datasets.orders.reconcile.ignore: vv is a column of neither'],
    ['a text window column', orders({ window: { column: 'label' } }), 'datasets.orders.window.column: window.column label of batch.output rx.b is of type text'],
  ])('%s: exit 2, text and JSON', async (_what, ds, message) => {
    write({ orders: ds });
    const text = await cli(['reconcile', 'orders', '--window', '2026-11-20', '--assume-settled']);
    expect(text.code, text.stderr).toBe(2);
    expect(text.stderr).toContain(`dualrun: DUALRUN_CONFIG_INVALID: invalid config ${config}: ${message}`);
    const json = await cli(['reconcile', 'orders', '--window', '2026-11-20', '--assume-settled', '--format', 'json']);
    expect(json.code).toBe(2);
    const r = JSON.parse(json.stdout) as { verdict: string; error: { code: string; message: string } };
    expect(r.verdict).toBe('error');
    expect(r.error.code).toBe('DUALRUN_CONFIG_INVALID');
    expect(r.error.message).toContain(message);
  });

  it('an adopted output whose stream.watermark.column is misspelt: exit 2, not pending (exit 4) every night', async () => {
    write({ orders: { ...orders(), stream: { output: 'rx.s', watermark: { column: 'updatedat' } } } });
    const r = await cli(['reconcile', 'orders', '--window', '2026-11-20']);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain(`invalid config ${config}: datasets.orders.stream.watermark.column: updatedat is not a column of stream.output rx.s (did you mean updated_at?)`);
  });

  it('what is not a config mistake keeps its code: a real mismatch 1, an unreachable database 3', async () => {
    write({ orders: orders() });
    const mismatch = await cli(['reconcile', 'orders', '--window', '2026-11-20', '--assume-settled']);
    expect(mismatch.code, mismatch.stderr).toBe(1);
    write({ orders: orders() }, 'postgres://u:pw@127.0.0.1:1/db');
    const away = await cli(['reconcile', 'orders', '--window', '2026-11-20', '--assume-settled']);
    expect(away.code, away.stderr).toBe(3);
    expect(away.stdout).toContain('DUALRUN_DB_UNREACHABLE');
  });
});
