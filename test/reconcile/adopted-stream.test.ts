/**
 * An adopted streaming path: the stream output is written by a separate
 * process (standing in for Kafka Connect / Flink), never by a dualrun worker.
 * The dataset goes pending → settled (the newest `updated_at` in the output
 * passes the window end) → match → promoted to streaming, through the CLI.
 * Settlement by a Kafka consumer group's committed offsets is checked against
 * the real broker.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { compileConfig } from '../../src/core/config/compile-config.ts';
import { createLogger } from '../../src/core/logger.ts';
import { adoptedBehind } from '../../reconcile/adopted-watermark.ts';
import { createRuntime } from '../../src/core/runtime.ts';
import { ensureDatasetOutputs } from '../../src/app/db/dataset-outputs.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let db: TestDatabase;
const dirs: string[] = [];
beforeAll(async () => { db = await createTestDatabase('adopt'); });
afterAll(async () => {
  await db?.drop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** The external pipeline: its own Node process with its own connection, running SQL on the output. */
function externalWriter(sql: string): Promise<void> {
  const script = `import pg from 'pg'; const c = new pg.Client({ connectionString: process.env.URL }); await c.connect(); await c.query(process.env.SQL); await c.end();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, URL: db.url, SQL: sql }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`external writer exited ${code}: ${err}`))));
  });
}

const CONFIG = `database:
  url: \${DATABASE_URL}
datasets:
  orders:
    key: [order_id]
    window: { column: placed_at, grain: day }
    batch:
      output: dw.orders_batch
      query: sql/orders.sql
    stream:
      output: dw.orders_stream          # written by the external pipeline
      watermark: { column: updated_at } # settled once its newest updated_at passes the window end
    cutover:
      serve: dw.orders
      promoteAfter: 1
`;

describe('adopted stream output', () => {
  it('an output written by a separate process goes pending → settled by its watermark column → match → promoted', async () => {
    await db.pool.query(`CREATE SCHEMA src; CREATE TABLE src.orders (order_id bigint PRIMARY KEY, amount numeric(12,2), placed_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
      INSERT INTO src.orders SELECT g, g * 1.25, '2026-11-20 00:00+00'::timestamptz + g * interval '1 hour', '2026-11-20 00:00+00'::timestamptz + g * interval '1 hour' FROM generate_series(1, 20) g;`);
    // The pipeline owns its table; it has caught up only to 20:00 of the window so far.
    await externalWriter(`CREATE SCHEMA dw; CREATE TABLE dw.orders_stream (order_id bigint PRIMARY KEY, amount numeric(12,2), placed_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
      INSERT INTO dw.orders_stream SELECT * FROM src.orders WHERE order_id <= 20;`);
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-adopt-'));
    dirs.push(cwd);
    fs.mkdirSync(path.join(cwd, 'sql'));
    fs.writeFileSync(path.join(cwd, 'sql', 'orders.sql'), 'SELECT order_id, amount, placed_at, updated_at FROM src.orders WHERE placed_at >= :window_start AND placed_at < :window_end\n');
    fs.writeFileSync(path.join(cwd, 'dualrun.yaml'), CONFIG);
    const env = { DATABASE_URL: db.url, DUALRUN_CONFIG: undefined };
    const run = async (args: string[], expected: number) => {
      const r = await runCli(args, { cwd, env });
      expect(r.code, `dualrun ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(expected);
      return r;
    };

    // migrate creates the missing batch output in its query's shape, and leaves the adopted one alone.
    const migrate = JSON.parse((await run(['migrate', '--format', 'json'], 0)).stdout);
    expect(migrate.outputs).toEqual([
      expect.objectContaining({ table: 'dw.orders_batch', action: 'created', from: 'batch.query orders.sql', columns: ['order_id bigint', 'amount numeric(12,2)', 'placed_at timestamp with time zone', 'updated_at timestamp with time zone'] }),
      expect.objectContaining({ table: 'dw.orders_stream', action: 'exists' }),
    ]);
    const [stream, capture] = await Promise.all([run(['stream', '--until-idle'], 0), run(['capture'], 0)]);
    expect(stream.stdout).toContain('orders: skipped (stream output is adopted (written by an external pipeline): nothing to run)');
    expect(capture.stdout).toContain('orders: skipped (stream output is adopted');
    await run(['cutover', 'promote', 'orders', '--reason', 'shadow the external pipeline'], 0);
    await run(['batch', 'run', 'orders', '--window', '2026-11-20'], 0);

    const pending = JSON.parse((await run(['reconcile', 'orders', '--window', '2026-11-20', '--format', 'json'], 4)).stdout);
    expect(pending.verdict).toBe('pending');
    expect(pending.pendingReason).toContain('the newest updated_at in dw.orders_stream, 2026-11-20T20:00:00.000Z, has not passed 2026-11-21T00:00:00.000Z');

    // The pipeline moves on: the next day's first order passes the window end.
    await externalWriter(`INSERT INTO dw.orders_stream VALUES (21, 1.00, '2026-11-21 00:30+00', '2026-11-21 00:30+00')`);
    const match = JSON.parse((await run(['reconcile', 'orders', '--window', '2026-11-20', '--format', 'json'], 0)).stdout);
    expect(match.verdict).toBe('match');
    expect(match.batch.rows).toBe(20);
    expect(match.stream.rows).toBe(20);

    await run(['cutover', 'promote', 'orders', '--reason', 'clean night on the adopted pipeline'], 0);
    const view = await db.pool.query(`SELECT definition FROM pg_views WHERE schemaname = 'dw' AND viewname = 'orders'`);
    expect(view.rows[0].definition).toContain('orders_stream');
    expect((await db.pool.query('SELECT count(*)::int AS n FROM dw.orders')).rows[0].n).toBe(21);
  });

  it('migrate takes a missing batch output from the adopted stream output: renamed back by reconcile.map, without bookkeeping columns', async () => {
    await db.pool.query(`CREATE SCHEMA dw4; CREATE TABLE dw4.s (account bigint PRIMARY KEY, full_name text, total numeric(10,3), _dr_extra int)`);
    const config = compileConfig({ database: { url: db.url }, datasets: { acc: { key: ['id'], batch: { output: 'dw4.b' }, stream: { output: 'dw4.s' }, reconcile: { map: { id: 'account', name: 'full_name' } } } } }, { path: null });
    const rt = createRuntime({ config, log: createLogger('silent') });
    try {
      const r = await ensureDatasetOutputs(rt);
      expect(r.mismatches).toEqual([]);
      expect(r.outputs).toEqual([
        { dataset: 'acc', side: 'batch', table: 'dw4.b', action: 'created', from: 'dw4.s', columns: ['id bigint', 'name text', 'total numeric(10,3)'] },
        { dataset: 'acc', side: 'stream', table: 'dw4.s', action: 'exists' },
      ]);
      const pk = await db.pool.query(`SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conrelid = 'dw4.b'::regclass AND contype = 'p'`);
      expect(pk.rows[0].d).toBe('PRIMARY KEY (id)');
    } finally {
      await rt.close();
    }
  });

  it('an adopted output without stream.watermark stays pending until --assume-settled, and a watermark column that is not a time is named', async () => {
    const behind = adoptedBehind;
    await db.pool.query(`CREATE SCHEMA IF NOT EXISTS dw3; CREATE TABLE dw3.t (id int PRIMARY KEY, label text)`);
    const cfg = (stream: Record<string, unknown>) => compileConfig({ database: { url: db.url }, datasets: { t: { key: ['id'], batch: { output: 'dw3.b' }, stream: { output: 'dw3.t', ...stream } } } }, { path: null });
    const log = createLogger('silent');
    const none = await behind({ ds: cfg({ adopted: true }).datasets.t, streamPool: db.pool, kafka: null, log }, new Date('2026-11-21T00:00:00Z'));
    expect(none).toContain('has no stream.watermark');
    const text = await behind({ ds: cfg({ watermark: { column: 'label' } }).datasets.t, streamPool: db.pool, kafka: null, log }, new Date('2026-11-21T00:00:00Z'));
    expect(text).toContain('label is text; expected a timestamp');
    // A timestamp without time zone is a wall clock in the window's zone: 00:30 in Berlin is 23:30 UTC the day before.
    await db.pool.query(`CREATE TABLE dw3.w (id int PRIMARY KEY, ts timestamp); INSERT INTO dw3.w VALUES (1, '2026-11-21 00:30')`);
    const zoned = (timezone: string) => compileConfig({ database: { url: db.url }, datasets: { w: { key: ['id'], window: { column: 'ts', timezone }, batch: { output: 'dw3.b' }, stream: { output: 'dw3.w', watermark: { column: 'ts' } } } } }, { path: null }).datasets.w;
    expect(await behind({ ds: zoned('UTC'), streamPool: db.pool, kafka: null, log }, new Date('2026-11-21T00:00:00Z'))).toBeNull();
    expect(await behind({ ds: zoned('Europe/Berlin'), streamPool: db.pool, kafka: null, log }, new Date('2026-11-21T00:00:00Z'))).toContain('2026-11-20T23:30:00.000Z, has not passed');
    const future = await behind({ ds: cfg({ watermark: { column: 'label' } }).datasets.t, streamPool: db.pool, kafka: null, log }, new Date(Date.now() + 3_600_000));
    expect(future).toContain('still in the future');
  });
});

describeKafka('adopted stream output settled by a Kafka consumer group', () => {
  it('pending while the group has not committed up to the topic end as of the window end; settled once it has', async () => {
    const kafka = new Kafka({ clientId: 'h6-adopted-test', brokers: kafkaBrokers(), logLevel: 0 });
    const topic = `h6.adopted.${Date.now()}`;
    const group = `external-sink-${Date.now()}`;
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
      await producer.connect();
      // Record times near the clock, not fixed dates: a broker deletes records older than its
      // retention (7 days by default) at its next retention check, which made this test fail
      // once the calendar moved on. The window is the day three days ago (UTC).
      const day = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) - 3 * 86_400_000;
      const at = (hours: number) => String(day + hours * 3_600_000);
      // Two records inside the window on partition 0, one on partition 1, one after the window end on partition 1.
      await producer.send({ topic, messages: [
        { partition: 0, value: 'a', timestamp: at(10) },
        { partition: 0, value: 'b', timestamp: at(23) },
        { partition: 1, value: 'c', timestamp: at(12) },
        { partition: 1, value: 'd', timestamp: at(26) },
      ] });
      // Setup: both partitions' ends visible to the admin client before judging anything.
      for (let i = 0; i < 100; i++) {
        const ends = await admin.fetchTopicOffsets(topic);
        if (ends.length === 2 && ends.every((e) => e.high === '2')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const config = compileConfig({
        kafka: { brokers: kafkaBrokers() },
        datasets: { t: { key: ['id'], batch: { output: 'x.b' }, stream: { output: 'x.s', watermark: { kafkaGroup: group, topic } } } },
      }, { path: null });
      const ctx = { ds: config.datasets.t, streamPool: db.pool, kafka: config.kafka, log: createLogger('silent') };
      const horizon = new Date(day + 24 * 3_600_000);
      expect(await adoptedBehind(ctx, horizon)).toMatch(/consumer group .* has not reached .*partition 0 at no commit of 2.*partition 1 at no commit of 1/);
      await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '2' }, { partition: 1, offset: '0' }] });
      expect(await adoptedBehind(ctx, horizon)).toMatch(/partition 1 at 0 of 1/);
      // Committed past the window's records on every partition (not necessarily the topic's end now).
      await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '2' }, { partition: 1, offset: '1' }] });
      expect(await adoptedBehind(ctx, horizon)).toBeNull();
    } finally {
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
