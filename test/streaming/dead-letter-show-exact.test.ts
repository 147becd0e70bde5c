/**
 * `dead-letters show` read the dead letter's `error` and its actions' `detail` (jsonb)
 * through pg's JSON.parse: a 64-bit value in them, 12345678901234567890, came out as
 * 12345678901234567000 in --format json, and the text form (JSON.stringify of the exact
 * value) crashed with DUALRUN_INTERNAL "Do not know how to serialize a BigInt". Both now
 * print every digit. Real Postgres, the real CLI.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { runCli } from '../support/cli.ts';
import { ordersStreamDatabase, writeConfig } from './support.ts';

let db: TestDatabase;
let cfg: { file: string; dir: string };
const BIG = '12345678901234567890';
beforeAll(async () => {
  db = await ordersStreamDatabase('dead_letter_show_exact');
  await db.pool.query(`INSERT INTO dualrun.dead_letters (id, dataset, source, partition, position, record_key, payload, stage, reason, error)
    VALUES (9007199254740993, 'orders', 'shop.orders', 0, 9223372036854775807, '{"order_id":9007199254740993}', convert_to('{"v":${BIG}}', 'UTF8'), 'apply', 'refused', '{"column": "v", "value": ${BIG}, "ratio": 0.1000000000000000000001}')`);
  await db.pool.query(`INSERT INTO dualrun.dead_letter_actions (dead_letter_id, dataset, action, actor, reason, detail)
    VALUES (9007199254740993, 'orders', 'failed_again', 'tester', 'after the fix', '{"position": ${BIG}}')`);
  cfg = writeConfig({
    database: { url: db.url },
    datasets: { orders: { key: ['order_id'], batch: { output: 'analytics.orders_batch' }, stream: { output: 'analytics.orders_stream', source: { topic: 'shop.orders', format: 'debezium' } } } },
  });
});
afterAll(async () => { await db?.drop(); });

it('--format json keeps 64-bit values of error and action details exact', async () => {
  const r = await runCli(['--config', cfg.file, 'dead-letters', 'show', 'orders', '9007199254740993', '--format', 'json'], { cwd: cfg.dir });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`"value": ${BIG}\\b`));
  expect(r.stdout).toMatch(/"ratio": 0\.1000000000000000000001\b/);
  expect(r.stdout).toMatch(new RegExp(`"position": ${BIG}\\b`));
  expect(() => JSON.parse(r.stdout)).not.toThrow();
});

it('the text form prints them instead of failing', async () => {
  const r = await runCli(['--config', cfg.file, 'dead-letters', 'show', 'orders', '9007199254740993'], { cwd: cfg.dir });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).not.toContain('DUALRUN_INTERNAL');
  const line = r.stdout.split('\n').find((l) => l.startsWith('  error: ')) ?? '';
  expect(line).toContain(`"value":${BIG}`);
  expect(line).toContain('"ratio":0.1000000000000000000001');
});
