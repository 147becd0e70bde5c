/**
 * A broker outage longer than the session timeout, on a second broker the test
 * starts itself (scripts/kafka.sh on other ports; the shared broker on 9092 is never
 * touched): stopped for 3× the session timeout while the worker runs, then started.
 * The worker must resume by itself (no zombie that stays alive consuming nothing)
 * and end exact. Then the broker stays away: exit 3 within 60 s naming the brokers.
 */
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { describeKafka } from '../support/kafka.ts';
import { generateOrderEvents } from '../streaming/debezium-events.ts';
import { FIXTURES, ordersStreamDatabase, setStage, writeConfig } from '../streaming/support.ts';
import { committedCount, expectDeadLettersComplete, expectExact, expectNoRawStack, loadExpected, ownBroker, size, sleep, startCli, until, type OwnBroker } from './fault-support.ts';

const { Kafka, logLevel } = kafkajs;
const TOTAL = size('OUTAGE_EVENTS', 30_000);
const SESSION_MS = 6000;
const PORT = size('BROKER_PORT', 19092);
/**
 * The resuming worker's limit: generous, because stopping and starting a JVM broker on a
 * loaded machine can take far longer than the planned 3× session-timeout pause. The
 * stays-away check uses a second worker with the product default (40 s).
 */
const RESUME_MAX_WAIT = process.env.FAULTS_OUTAGE_MAXWAIT ?? '180s';
let broker: OwnBroker;
let db: TestDatabase;
const topic = 'faults.outage.orders';

async function produceTo(brokers: string[], messages: { key: string; value: string | null }[]): Promise<void> {
  const producer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  for (let i = 0; i < messages.length; i += 2000) await producer.send({ topic, messages: messages.slice(i, i + 2000) });
  await producer.disconnect();
}

describeKafka('faults: broker outage longer than the session timeout', () => {
  beforeAll(async () => {
    broker = await ownBroker(PORT, PORT + 1);
    const admin = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    db = await ordersStreamDatabase('faults_outage');
    await setStage(db.pool, 'orders', 'shadow');
  });
  afterAll(async () => { await broker?.remove(); await db?.drop(); });

  it('resumes after a 3× session-timeout outage and ends exact; exits 3 naming the brokers when they stay away', { timeout: 600_000 }, async () => {
    const stream = generateOrderEvents(TOTAL, { keys: Math.ceil(TOTAL / 5), poisonRate: 0.005, seed: 31 });
    await loadExpected(db.pool, 'analytics.expected', stream.expected.values());
    const config = (kafka: Record<string, unknown>) => writeConfig({
      database: { url: db.url },
      kafka: { brokers: broker.brokers, groupPrefix: 'outage', sessionTimeout: `${SESSION_MS}ms`, stallTimeout: '30s', ...kafka },
      datasets: { orders: { key: ['order_id'], batch: { output: 'analytics.orders_batch' },
        stream: { output: 'analytics.orders_stream', source: { topic, format: 'debezium' }, schema: `${FIXTURES}/orders.schema.json`, transform: `${FIXTURES}/orders-transform.ts` } } },
    });
    const { file, dir } = config({ reconnect: { maxWait: RESUME_MAX_WAIT } });
    const half = Math.ceil(stream.messages.length / 2);
    await produceTo(broker.brokers, stream.messages.slice(0, half));
    const w = startCli(['--config', file, 'stream'], dir);
    await until('first half applied', async () => (await committedCount(db.pool, 'orders')) === half, 120_000, 300, w);

    const outageAt = Date.now();
    await broker.stop();
    await sleep(3 * SESSION_MS);
    await broker.start();
    const outageMs = Date.now() - outageAt;
    console.log(`broker outage: ${outageMs} ms (planned ${3 * SESSION_MS} ms)`);
    await produceTo(broker.brokers, stream.messages.slice(half));
    await until('second half applied after the outage', async () => (await committedCount(db.pool, 'orders')) === stream.messages.length, 120_000, 500, w);
    expect(w.child.exitCode, w.stderr().slice(-2000)).toBe(null);
    expectNoRawStack(w.stderr());
    expect(w.stderr()).toMatch(/Kafka lost .*reconnecting/);
    await expectExact(db.pool, 'analytics.expected', 'analytics.orders_stream');
    const dead = await expectDeadLettersComplete(db.pool, 'orders');
    expect(dead).toEqual({ decode: stream.poison['bad-json'], validate: stream.poison.schema, transform: stream.poison.transform });

    // The brokers stay away: a worker with the default limit exits 3 within 60 s, naming them.
    w.child.kill('SIGTERM');
    expect((await w.exited()).code, w.stderr().slice(-2000)).toBe(0);
    const d = config({});
    const w2 = startCli(['--config', d.file, 'stream'], d.dir, { DUALRUN_LOG_LEVEL: 'info' });
    await until('the second worker joined and caught up', async () => /"msg":"stream started"/.test(w2.stderr()), 60_000, 200, w2);
    await sleep(8000); // joined the group and saw the heads
    const stoppedAt = Date.now();
    await broker.stop();
    const end = await Promise.race([w2.exited(), sleep(75_000).then(() => null)]);
    const tookMs = Date.now() - stoppedAt;
    expect(end, w2.stderr().slice(-2000)).not.toBe(null);
    expect(end!.code).toBe(3);
    expect(tookMs).toBeLessThan(60_000);
    expect(w2.stderr()).toMatch(new RegExp(`dualrun: DUALRUN_KAFKA_UNREACHABLE: .*gave up after \\d+ s without Kafka brokers 127\\.0\\.0\\.1:${PORT}`));
    expectNoRawStack(w2.stderr());
  });
});
