/**
 * Rule 4.1, stream side (`stream-definition`, docs/cutover.md): a window counts only
 * when its stream rows come from the stream code on disk now. Gate on a real Postgres
 * with the real reconciler; the CLI records what `dualrun stream` starts with.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { promote } from '../../../../src/core/cutover/stage-change.ts';
import { cutoverStatus } from '../../../../src/core/cutover/cutover-status.ts';
import { recordStreamStart, streamCode } from '../../../../src/core/cutover/stream-code.ts';
import { compileConfig } from '../../../../src/core/config/compile-config.ts';
import { createRuntime, type Runtime } from '../../../../src/core/runtime.ts';
import { reconcileDataset } from '../../../../reconcile/reconcile-dataset.ts';
import { runCli } from '../../../support/cli.ts';
import type { TestDatabase } from '../../../support/pg.ts';
import { capturedOrdersDatabase, writeConfig } from '../../../streaming/support.ts';
import { createFixture, rawConfig, recordDefinitionsLongAgo, tempDir, type Fixture } from './cutover-fixture.ts';

let fx: Fixture | undefined;
const extra: Runtime[] = [];
afterEach(async () => {
  await Promise.all(extra.splice(0).map((r) => r.close()));
  await fx?.cleanup();
  fx = undefined;
});

const why = { reason: 'test', actor: 'tester' };
const DAY = 86_400_000;
const utcDay = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);

/** Three past days with the same 3 rows in both outputs (ids from `base`): windows that match. */
async function threeEqualDays(pool: TestDatabase['pool'], base: number): Promise<string[]> {
  const days = [utcDay(-4), utcDay(-3), utcDay(-2)];
  for (const [i, d] of days.entries()) {
    await pool.query(`INSERT INTO analytics.orders_batch SELECT ${base} + ${i * 10} + g, '${d}', g, 'x' FROM generate_series(1, 3) g;
      INSERT INTO analytics.orders_stream SELECT ${base} + ${i * 10} + g, '${d}', g, 'x', 1, now() FROM generate_series(1, 3) g`);
  }
  return days;
}
const judge = async (r: Runtime, days: string[]) => (await reconcileDataset(r, 'orders', { windows: days, assumeSettled: true })).map((x) => x.verdict);
const gate = async (r: Runtime) => (await cutoverStatus(r)).find((s) => s.dataset === 'orders')!.next!;
/** The days judge `match` again, but none counts: rule stream-definition, for `reason`. */
async function matchesThatDoNotCount(r: Runtime, days: string[], reason: RegExp) {
  expect(await judge(r, days)).toEqual(['match', 'match', 'match']);
  const status = await gate(r);
  expect(status).toMatchObject({ ready: false, clean: 0 });
  expect(status.notCounted.map((n) => n.rule)).toEqual(['stream-definition', 'stream-definition', 'stream-definition']);
  expect(status.notCounted[0].reason).toMatch(reason);
  return status;
}

describe('windows written by an earlier stream transform', () => {
  it('re-reconciled windows do not count while the worker still runs the old transform, nor after a restart for windows it wrote before; a replay from the beginning makes them count (promotion on evidence the new transform never produced)', async () => {
    fx = await createFixture();
    const { pool } = fx.db;
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'orders.ts'), 'export default (r: any) => r;\n');
    const raw = rawConfig(fx.db.url) as { datasets: { orders: { stream: Record<string, unknown> } } };
    raw.datasets.orders.stream.transform = 'orders.ts';
    const config = () => compileConfig(raw, { path: path.join(dir, 'dualrun.yaml') });
    const rt = createRuntime({ config: config(), log: pino({ level: 'silent' }) });
    extra.push(rt);
    await pool.query('DELETE FROM dualrun.dataset_definitions');
    await recordDefinitionsLongAgo(rt);
    await promote(rt, 'orders', why);
    await recordStreamStart(pool, rt.dataset('orders'), { replay: false }); // the first start recorded covers the whole output
    const days = await threeEqualDays(pool, 400);
    expect(await judge(rt, days)).toEqual(['match', 'match', 'match']);
    expect(await gate(rt)).toMatchObject({ ready: true, clean: 3 });

    // The transform changes on disk; the running worker keeps the one it started with.
    fs.writeFileSync(path.join(dir, 'orders.ts'), 'export default (r: any) => ({ ...r, side: r.side.trim() });\n');
    const rt2 = createRuntime({ config: config(), log: pino({ level: 'silent' }) });
    extra.push(rt2);
    let status = await matchesThatDoNotCount(rt2, days, /^the stream worker last started \(.*\) with an earlier stream transform, record schema or stream config .* and keeps running it/);

    // Restarted with the new transform: the windows were still written by the old one.
    await recordStreamStart(pool, rt2.dataset('orders'), { replay: false });
    status = await gate(rt2);
    expect(status).toMatchObject({ ready: false, clean: 0 });
    expect(status.notCounted[0].reason).toContain('its stream rows were written before the stream worker ran the current stream transform/record schema');
    await expect(promote(rt2, 'orders', why)).rejects.toMatchObject({ code: 'DUALRUN_GATE_REFUSED' });

    // A replay from the beginning rebuilt every window with it.
    await recordStreamStart(pool, rt2.dataset('orders'), { replay: true, coversFrom: null });
    expect(await gate(rt2)).toMatchObject({ ready: true, clean: 3 });
  });
});

describe('windows written under an earlier stream config', () => {
  it('after stream.source.topic changes, re-reconciled windows do not count while the worker still reads the old topic, nor after a restart for windows it wrote before (promotion on windows the new source never wrote)', async () => {
    fx = await createFixture();
    const { pool } = fx.db;
    const raw = rawConfig(fx.db.url) as { datasets: { orders: { stream: { source: { topic: string } } } } };
    const config = () => compileConfig(raw, { path: null });
    const rt = createRuntime({ config: config(), log: pino({ level: 'silent' }) });
    extra.push(rt);
    await promote(rt, 'orders', why);
    // A start recorded before dualrun kept the stream config (its transform and schema only) still covers the output.
    const { streamTransform, streamSchema } = streamCode(rt.dataset('orders'));
    await pool.query(`INSERT INTO dualrun.stream_starts (dataset, parts, covers_from, replay) VALUES ('orders', $1, NULL, false)`, [JSON.stringify({ streamTransform, streamSchema })]);
    const days = await threeEqualDays(pool, 500);
    expect(await judge(rt, days)).toEqual(['match', 'match', 'match']);
    expect(await gate(rt)).toMatchObject({ ready: true, clean: 3 });
    await recordStreamStart(pool, rt.dataset('orders'), { replay: false }); // a restart on the same config keeps the coverage
    expect(await gate(rt)).toMatchObject({ ready: true, clean: 3 });

    // The source moves to a new topic; the running worker keeps reading the old one.
    raw.datasets.orders.stream.source.topic = 'shop.orders.v2';
    const rt2 = createRuntime({ config: config(), log: pino({ level: 'silent' }) });
    extra.push(rt2);
    let status = await matchesThatDoNotCount(rt2, days, /stream config \(key, stream.source, stream.output\) and keeps running it/);

    // Restarted on the new topic: the windows were still written from the old one.
    await recordStreamStart(pool, rt2.dataset('orders'), { replay: false });
    status = await gate(rt2);
    expect(status).toMatchObject({ ready: false, clean: 0 });
    expect(status.notCounted[0].reason).toContain('written before the stream worker ran the current stream transform/record schema/stream config');
    await expect(promote(rt2, 'orders', why)).rejects.toMatchObject({ code: 'DUALRUN_GATE_REFUSED' });
  });
});

describe('starts recorded before dualrun kept the stream config', () => {
  it('a start without a stream config covers the output only while the dataset config has not changed since it (the first topic change after upgrading counted the old topic\'s windows)', async () => {
    fx = await createFixture();
    const { pool } = fx.db;
    const raw = rawConfig(fx.db.url) as { datasets: { orders: { stream: { source: { topic: string } } } } };
    const rt = createRuntime({ config: compileConfig(raw, { path: null }), log: pino({ level: 'silent' }) });
    extra.push(rt);
    await promote(rt, 'orders', why);
    const { streamTransform, streamSchema } = streamCode(rt.dataset('orders'));
    await pool.query(`INSERT INTO dualrun.stream_starts (dataset, parts, covers_from, replay, started_at) VALUES ('orders', $1, NULL, false, now() - interval '10 days')`,
      [JSON.stringify({ streamTransform, streamSchema })]);
    const days = await threeEqualDays(pool, 600);
    expect(await judge(rt, days)).toEqual(['match', 'match', 'match']);
    expect(await gate(rt)).toMatchObject({ ready: true, clean: 3 }); // the config is as it was before that start

    // After the upgrade, the topic changes and the worker restarts on it: the windows came from the old topic.
    raw.datasets.orders.stream.source.topic = 'shop.orders.v2';
    const rt2 = createRuntime({ config: compileConfig(raw, { path: null }), log: pino({ level: 'silent' }) });
    extra.push(rt2);
    expect(await judge(rt2, days)).toEqual(['match', 'match', 'match']);
    await recordStreamStart(pool, rt2.dataset('orders'), { replay: false });
    const status = await gate(rt2);
    expect(status).toMatchObject({ ready: false, clean: 0 });
    expect(status.notCounted.map((n) => n.rule)).toEqual(['stream-definition', 'stream-definition', 'stream-definition']);
  });
});

describe('dualrun stream records what it starts with', () => {
  let db: TestDatabase | undefined;
  afterAll(async () => { await db?.drop(); });

  it('a worker start and a replay are recorded with the stream code and what they cover', { timeout: 120_000 }, async () => {
    db = await capturedOrdersDatabase('stream_code', 50, 'shadow');
    const { dir } = writeConfig({
      database: { url: db.url },
      datasets: { orders: { key: ['order_id'], batch: { output: 'analytics.orders_batch' }, stream: { output: 'analytics.orders_stream', source: { table: 'public.orders_src', changelogRetention: 'forever' } } } },
    });
    const starts = async () => (await db!.pool.query(`SELECT replay, covers_from, parts FROM dualrun.stream_starts WHERE dataset = 'orders' ORDER BY id`)).rows;
    const run = (...args: string[]) => runCli(['stream', '--dataset', 'orders', ...args, '--until-idle'], { cwd: dir, env: { DUALRUN_CONFIG: undefined } });
    let r = await run();
    expect(r.code, r.stderr).toBe(0);
    expect(await starts()).toMatchObject([{ replay: false, covers_from: null, parts: { streamTransform: 'none', streamSchema: 'none' } }]);
    r = await run(); // the same code again: nothing new to say
    expect(r.code, r.stderr).toBe(0);
    expect(await starts()).toHaveLength(1);
    r = await run('--from-beginning', '--reset-output');
    expect(r.code, r.stderr).toBe(0);
    expect(await starts()).toMatchObject([{ replay: false }, { replay: true, covers_from: null }]);
  });
});
