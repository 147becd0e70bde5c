/**
 * Regression: a topic compressed with Snappy, LZ4 or ZSTD (a producer's or the topic's
 * `compression.type`; with the topic's, the broker recompresses what it is sent)
 * crashed kafkajs's consumer ("LZ4 compression not implemented"); the worker retried
 * as if the brokers were away and exited 3 after 40 s, applying nothing. Each topic
 * here has its own `compression.type`, so the real broker writes the batches with
 * that codec (its Java codecs, xerial-framed Snappy included), and the worker must
 * read every event of each, exactly.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { runCli } from '../support/cli.ts';
import { generateOrderEvents, type EventStream } from './debezium-events.ts';
import { produce, testKafka, uniqueTopic } from './kafka-support.ts';
import { ORDER_COLUMNS, ordersStreamDatabase, setStage, symmetricDifference, writeConfig, writeExpectedOrders } from './support.ts';

const CODECS = ['snappy', 'lz4', 'zstd', 'gzip'] as const;
let db: TestDatabase;
let stream: EventStream;
const topics = new Map<string, string>();

describeKafka('topics compressed by the broker', () => {
  beforeAll(async () => {
    db = await ordersStreamDatabase('stream_codecs');
    stream = generateOrderEvents(3000, { keys: 500, seed: 11 });
    await writeExpectedOrders(db.pool, [...stream.expected.values()]);
    const admin = testKafka().admin();
    await admin.connect();
    for (const codec of CODECS) topics.set(codec, uniqueTopic(`codec-${codec}`));
    await admin.createTopics({
      topics: CODECS.map((codec) => ({ topic: topics.get(codec)!, numPartitions: 2, configEntries: [{ name: 'compression.type', value: codec }] })),
      waitForLeaders: true,
    });
    await admin.disconnect();
    await Promise.all(CODECS.map((codec) => produce(topics.get(codec)!, stream.messages, 500)));
  });
  afterAll(async () => {
    const admin = testKafka().admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [...topics.values()] }).catch(() => undefined);
    await admin.disconnect();
    await db?.drop();
  });

  it.each(CODECS)('regression: a %s-compressed topic is read exactly (was a crash, then exit 3 "without Kafka brokers")', { timeout: 120_000 }, async (codec) => {
    const output = `analytics.orders_${codec}`;
    await db.pool.query(`CREATE TABLE ${output} (LIKE analytics.orders_stream INCLUDING ALL)`);
    const { file, dir } = writeConfig({
      database: { url: db.url },
      kafka: { brokers: kafkaBrokers(), groupPrefix: `g${topics.get(codec)!.slice(-8)}` },
      datasets: { orders: { key: ['order_id'], batch: { output: 'analytics.orders_batch' }, stream: { output, source: { topic: topics.get(codec)!, format: 'debezium' } } } },
    });
    await setStage(db.pool, 'orders', 'shadow');
    const r = await runCli(['--config', file, 'stream', '--dataset', 'orders', '--until-idle', '--format', 'json'], { cwd: dir, timeoutMs: 100_000 });
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stderr).not.toContain('not implemented');
    expect(await symmetricDifference(db.pool, 'analytics.expected', output, ORDER_COLUMNS)).toBe(0);
  });
});
