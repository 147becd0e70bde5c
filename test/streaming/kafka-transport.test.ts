/**
 * Kafka end to end on the real broker: 100k Debezium events (inserts, updates,
 * deletes with tombstones, re-inserts, duplicates incl. stale ones, 1% poison)
 * over 3 partitions; the worker stops half way, Kafka's committed offsets are
 * rewound (every record is redelivered), two workers share the group for the
 * rest. The output must equal the model exactly, every poison record must be a
 * dead letter with its reason, applied + dead = produced, and a replay from the
 * beginning (through the CLI) must reproduce the same checksum.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { runCli } from '../support/cli.ts';
import { runStreamWorker } from '../../streaming/stream-supervisor.ts';
import { generateOrderEvents, type EventStream } from './debezium-events.ts';
import { createTopic, deleteTopic, produce, rewindGroup, uniqueTopic } from './kafka-support.ts';
import { FIXTURES, ORDER_COLUMNS, setStage, ordersStreamDatabase, writeExpectedOrders, symmetricDifference, tableChecksum, testRuntime, writeConfig } from './support.ts';

const TOTAL = 100_000;
let db: TestDatabase;
let topic: string;
let stream: EventStream;
let cfgFile: string;
let cfgDir: string;
let config: ReturnType<typeof writeConfig>['config'];

describeKafka('Kafka transport (real broker)', () => {
  beforeAll(async () => {
    db = await ordersStreamDatabase('stream_kafka');
    topic = uniqueTopic('orders');
    await createTopic(topic, 3);
    stream = generateOrderEvents(TOTAL, { keys: 20_000, poisonRate: 0.01, seed: 7 });
    await writeExpectedOrders(db.pool, [...stream.expected.values()]);
    const w = writeConfig({
      database: { url: db.url },
      kafka: { brokers: kafkaBrokers(), groupPrefix: `g${topic.slice(-8)}` },
      datasets: {
        orders: {
          key: ['order_id'],
          batch: { output: 'analytics.orders_batch' },
          stream: { output: 'analytics.orders_stream', source: { topic, format: 'debezium' }, schema: `${FIXTURES}/orders.schema.json`, transform: `${FIXTURES}/orders-transform.ts` },
        },
      },
    });
    [cfgFile, cfgDir, config] = [w.file, w.dir, w.config];
    await setStage(db.pool, 'orders', 'shadow');
  });
  afterAll(async () => {
    await deleteTopic(topic);
    await db?.drop();
  });

  it('100k events with duplicates, redeliveries and 1% poison end in exactly the expected table', { timeout: 180_000 }, async () => {
    const half = Math.floor(stream.messages.length / 2);
    await produce(topic, stream.messages.slice(0, half));
    let rt = testRuntime(config);
    await runStreamWorker(rt, { datasets: ['orders'], untilIdle: true });
    await rt.close();
    await rewindGroup(`g${topic.slice(-8)}.orders`, topic); // Kafka will redeliver the first half
    await produce(topic, stream.messages.slice(half));
    const [a, b] = [testRuntime(config), testRuntime(config)];
    const results = await Promise.all([a, b].map((r) => runStreamWorker(r, { datasets: ['orders'], untilIdle: true })));
    await Promise.all([a.close(), b.close()]);
    const redelivered = results.flatMap((r) => r.ran).reduce((s, x) => s + Number(x.redeliveredSkipped), 0);
    expect(redelivered).toBeGreaterThanOrEqual(half); // the rewound half came again and had no effect

    expect(await symmetricDifference(db.pool, 'analytics.expected', 'analytics.orders_stream', ORDER_COLUMNS)).toBe(0);
    const want = await tableChecksum(db.pool, 'analytics.expected', ORDER_COLUMNS);
    expect(await tableChecksum(db.pool, 'analytics.orders_stream', ORDER_COLUMNS)).toEqual(want);
    expect(want.rows).toBe(stream.expected.size);

    const dead = await db.pool.query<{ stage: string; reason: string; n: number }>(
      `SELECT stage, min(reason) AS reason, count(*)::int AS n FROM dualrun.dead_letters WHERE dataset = 'orders' GROUP BY stage ORDER BY stage`);
    expect(dead.rows.map((r) => [r.stage, r.n])).toEqual([['decode', stream.poison['bad-json']], ['transform', stream.poison.transform], ['validate', stream.poison.schema]]);
    expect(dead.rows.find((r) => r.stage === 'decode')!.reason).toMatch(/not valid JSON/);
    expect(dead.rows.find((r) => r.stage === 'validate')!.reason).toMatch(/status/);
    expect(dead.rows.find((r) => r.stage === 'transform')!.reason).toMatch(/refused customer -1/);
    const payload = await db.pool.query<{ p: string }>(`SELECT convert_from(payload, 'UTF8') AS p FROM dualrun.dead_letters WHERE stage = 'decode' LIMIT 1`);
    expect(payload.rows[0].p).toMatch(/^\{"op":"c","after":\{"order_id":\d+,$/);
    const counters = await db.pool.query<{ applied: string; dead: string }>(
      `SELECT sum(records_applied)::text AS applied, sum(records_dead)::text AS dead FROM dualrun.stream_positions WHERE dataset = 'orders'`);
    const poisoned = stream.poison['bad-json'] + stream.poison.schema + stream.poison.transform;
    expect(poisoned).toBeGreaterThan(TOTAL * 0.008);
    expect(Number(counters.rows[0].dead)).toBe(poisoned);
    expect(Number(counters.rows[0].applied) + Number(counters.rows[0].dead)).toBe(stream.messages.length);

    // Kafka's own committed offsets follow Postgres (lag tools see the truth).
    const { testKafka } = await import('./kafka-support.ts');
    const admin = testKafka().admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId: `g${topic.slice(-8)}.orders`, topics: [topic] });
    await admin.disconnect();
    expect(committed[0].partitions.reduce((s, p) => s + Number(p.offset), 0)).toBe(stream.messages.length);
  });

  it('replay from the beginning refuses without --reset-output, then reproduces the same checksum', { timeout: 120_000 }, async () => {
    const before = await tableChecksum(db.pool, 'analytics.orders_stream', ORDER_COLUMNS);
    const refused = await runCli(['--config', cfgFile, 'stream', '--dataset', 'orders', '--from-beginning', '--until-idle'], { cwd: cfgDir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--reset-output/);
    expect(await tableChecksum(db.pool, 'analytics.orders_stream', ORDER_COLUMNS)).toEqual(before);
    const replay = await runCli(['--config', cfgFile, 'stream', '--dataset', 'orders', '--from-beginning', '--reset-output', '--until-idle', '--format', 'json'], { cwd: cfgDir, timeoutMs: 110_000 });
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(0);
    const summary = JSON.parse(replay.stdout);
    // Rebuilt on the side and swapped in: identical rows are left as they are.
    expect(summary.replays[0]).toMatchObject({ swapped: true, rebuiltRows: before.rows, rowsDeleted: 0, rowsInserted: 0 });
    expect(summary.replays[0].rebuild.applied + summary.replays[0].rebuild.deadLettered).toBe(stream.messages.length);
    expect(await tableChecksum(db.pool, 'analytics.orders_stream', ORDER_COLUMNS)).toEqual(before);
    const dead = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM dualrun.dead_letters WHERE dataset = 'orders'`);
    expect(dead.rows[0].n).toBe(stream.poison['bad-json'] + stream.poison.schema + stream.poison.transform);
  });

  it('a topic that does not exist is a config error (exit 2), not an endless retry', { timeout: 60_000 }, async () => {
    const w = writeConfig({
      database: { url: db.url }, kafka: { brokers: kafkaBrokers() },
      datasets: { ghost: { key: ['order_id'], batch: { output: 'analytics.ghost_batch' }, stream: { output: 'analytics.orders_stream', source: { topic: `${topic}.missing` } } } },
    });
    await setStage(db.pool, 'ghost', 'shadow');
    const r = await runCli(['--config', w.file, 'stream', '--until-idle'], { cwd: w.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/topic .*\.missing does not exist/);
  });
});
