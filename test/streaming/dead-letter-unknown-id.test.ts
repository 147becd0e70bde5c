/**
 * Regression: `dead-letters retry|discard --id N` with an id that is not a dead letter of the
 * dataset (a typo, another dataset's id) printed "0 retried and applied" / "0 dead letters
 * discarded" and exited 0, so a runbook step that fixed nothing passed; `show` of the same id
 * was already exit 2. Both now exit 2 naming the ids, changing nothing (the other ids included).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { runCli } from '../support/cli.ts';
import { ordersStreamDatabase, writeConfig } from './support.ts';

let db: TestDatabase;
let cfg: { file: string; dir: string };

beforeAll(async () => {
  db = await ordersStreamDatabase('dead_letter_unknown_id');
  await db.pool.query(`INSERT INTO dualrun.dead_letters (id, dataset, source, partition, position, stage, reason) VALUES
    (41, 'orders', 'shop.orders', 0, 1, 'validate', 'bad'), (42, 'other', 'shop.other', 0, 1, 'validate', 'bad')`);
  cfg = writeConfig({
    database: { url: db.url },
    datasets: { orders: { key: ['order_id'], batch: { output: 'analytics.orders_batch' }, stream: { output: 'analytics.orders_stream', source: { topic: 'shop.orders', format: 'debezium' } } } },
  });
});
afterAll(async () => { await db?.drop(); });

const cli = (args: string[]) => runCli(['--config', cfg.file, 'dead-letters', ...args], { cwd: cfg.dir });
const status = async () => (await db.pool.query<{ status: string }>(`SELECT status FROM dualrun.dead_letters WHERE id = 41`)).rows[0].status;

describe('dead-letters retry/discard --id of no dead letter of the dataset', () => {
  it('discard --id 41,999: exit 2 naming 999, and 41 is not discarded', async () => {
    const r = await cli(['discard', 'orders', '--id', '41,999', '--actor', 'ana', '--reason', 'typo']);
    expect(r.code, r.stdout).toBe(2);
    expect(r.stderr).toContain('--id: dataset orders has no dead letter with id 999; nothing was changed');
    expect(await status()).toBe('open');
  });

  it("retry --id 42 (another dataset's): exit 2, JSON on stdout with --format json", async () => {
    const r = await cli(['retry', 'orders', '--id', '42', '--format', 'json']);
    expect(r.code, r.stdout).toBe(2);
    expect((JSON.parse(r.stdout) as { error: { code: string; ids: string[] } }).error).toMatchObject({ code: 'DUALRUN_USAGE', ids: ['42'] });
  });

  it('discard --id 41 (its own): still discarded, exit 0', async () => {
    const r = await cli(['discard', 'orders', '--id', '41', '--actor', 'ana', '--reason', 'test data']);
    expect(r.code, r.stderr).toBe(0);
    expect(await status()).toBe('discarded');
  });
});
