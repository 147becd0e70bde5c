/**
 * Scale-out (issue 13): workers in one consumer group share a topic's partitions and
 * every record is applied exactly once whatever the rebalances. Worker A starts
 * alone on 6 partitions; B joins while records flow (rebalance: partitions move to
 * B, possibly mid-batch); A then stops while records still flow (rebalance: B takes
 * everything). The output must equal the model, and the exactly-once counters
 * must count every record once: a batch applied twice would count twice (or,
 * applied by a stale owner after the move, break the table).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { runStreamWorker, type StreamWorkerResult } from '../../streaming/stream-supervisor.ts';
import { generateOrderEvents, type EventStream } from './debezium-events.ts';
import { createTopic, deleteTopic, produce, uniqueTopic } from './kafka-support.ts';
import { ORDERS_DDL, ORDER_COLUMNS, ordersStreamDatabase, writeExpectedOrders, setStage, symmetricDifference, testRuntime, writeConfig } from './support.ts';

const TOTAL = 60_000;
let db: TestDatabase;
let topic: string;
let stream: EventStream;
let config: ReturnType<typeof writeConfig>['config'];

describeKafka('scale-out: two workers in one consumer group', () => {
  beforeAll(async () => {
    db = await ordersStreamDatabase('stream_scale');
    topic = uniqueTopic('scale');
    await createTopic(topic, 6);
    stream = generateOrderEvents(TOTAL, { keys: 8_000, seed: 21, baseTsMs: Date.now() - 3_600_000 });
    await writeExpectedOrders(db.pool, [...stream.expected.values()]);
    config = writeConfig({
      database: { url: db.url },
      kafka: { brokers: kafkaBrokers(), groupPrefix: `g${topic.slice(-8)}` },
      datasets: { orders: { key: ['order_id'], batch: { output: 'analytics.orders_batch' }, stream: { output: 'analytics.orders_stream', source: { topic, format: 'debezium' } } } },
    }).config;
    await setStage(db.pool, 'orders', 'shadow');
  });
  afterAll(async () => {
    await deleteTopic(topic);
    await db?.drop();
  });

  const counted = async () => {
    const r = await db.pool.query<{ n: string | null }>(`SELECT sum(records_applied + records_dead)::text AS n FROM dualrun.stream_positions WHERE dataset = 'orders'`);
    return Number(r.rows[0].n ?? 0);
  };
  const until = async (what: string, ok: () => Promise<boolean>) => {
    for (let i = 0; i < 600; i++) { if (await ok()) return; await new Promise((r) => setTimeout(r, 100)); }
    throw new Error(`timed out waiting for ${what}`);
  };
  const worker = () => {
    const stop = new AbortController();
    const rt = testRuntime(config, stop.signal);
    const done: Promise<StreamWorkerResult> = runStreamWorker(rt, { datasets: ['orders'], untilIdle: false, tuning: { sessionTimeout: 6000 } });
    return { stop: async () => { stop.abort(); const r = await done; await rt.close(); return r; } };
  };

  it('every record is applied exactly once while one worker joins and another leaves mid-stream', { timeout: 120_000 }, async () => {
    const third = Math.floor(stream.messages.length / 3);
    await produce(topic, stream.messages.slice(0, third));
    const a = worker();
    await until('worker A to apply records', async () => (await counted()) > 5_000);
    const b = worker();
    await produce(topic, stream.messages.slice(third, 2 * third)); // flows while the group rebalances onto A and B
    await until('both halves of the second third', async () => (await counted()) > third + 5_000);
    const producing = produce(topic, stream.messages.slice(2 * third));
    const ra = await a.stop(); // A leaves while records flow: its partitions move to B
    await producing;
    await until('B to apply everything', async () => (await counted()) >= stream.messages.length);
    const rb = await b.stop();
    const applied = (r: StreamWorkerResult) => r.ran.reduce((s, x) => s + Number(x.applied), 0);
    // Both took part, and what each reports applying adds up to the topic, once.
    expect(applied(ra)).toBeGreaterThan(0);
    expect(applied(rb)).toBeGreaterThan(0);
    expect(applied(ra) + applied(rb)).toBe(stream.messages.length);

    expect(await counted()).toBe(stream.messages.length); // nothing applied twice, nothing skipped
    expect(await symmetricDifference(db.pool, 'analytics.expected', 'analytics.orders_stream', ORDER_COLUMNS)).toBe(0);
    const n = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM analytics.orders_stream');
    expect(n.rows[0].n).toBe(stream.expected.size);
    const dead = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM dualrun.dead_letters WHERE dataset = 'orders'`);
    expect(dead.rows[0].n).toBe(0);
  });

  it('regression: a worker joining a fresh group no longer seeks back and refetches the batches it just applied', { timeout: 60_000 }, async () => {
    // A second dataset on the topic the test above filled: a fresh group and no stored positions.
    const cfg = writeConfig({
      database: { url: db.url },
      kafka: { brokers: kafkaBrokers(), groupPrefix: `h${topic.slice(-8)}` },
      datasets: { again: { key: ['order_id'], batch: { output: 'analytics.again_batch' }, stream: { output: 'analytics.again_stream', source: { topic, format: 'debezium' } } } },
    }).config;
    await db.pool.query(ORDERS_DDL('analytics.again_stream'));
    await setStage(db.pool, 'again', 'shadow');
    const rt = testRuntime(cfg);
    const r = await runStreamWorker(rt, { datasets: ['again'], untilIdle: true });
    await rt.close();
    // Comparing Kafka's offsets with positions read at the same moment saw batches
    // committed in between as "Kafka ahead" and sought back to them.
    expect(r.ran.map((x) => [Number(x.applied), Number(x.redeliveredSkipped)])).toEqual([[stream.messages.length, 0]]);
  });
});
