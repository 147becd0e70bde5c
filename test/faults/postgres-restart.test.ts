/**
 * Postgres goes away under a busy worker (Kafka transport, the test's own embedded
 * Postgres, never the shared test server): a fast restart (`pg_ctl stop -m fast`, then start) while batches
 * apply, then an immediate stop with a pause before the start. The worker must ride
 * both out by itself (no raw stack, a log line saying what it does) and end exact.
 * Then Postgres stays away: the worker must exit 3 within 60 s naming the database,
 * without its password.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate } from '../../src/core/db/migrate.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { generateOrderEvents, type EventStream } from '../streaming/debezium-events.ts';
import { createTopic, deleteTopic, produce, uniqueTopic } from '../streaming/kafka-support.ts';
import { FIXTURES, ORDERS_DDL, setStage, writeConfig } from '../streaming/support.ts';
import { committedCount, expectDeadLettersComplete, expectExact, expectNoRawStack, loadExpected, ownPostgres, size, sleep, startCli, until, type OwnPostgres } from './fault-support.ts';

const TOTAL = size('PG_EVENTS', 60_000);
const PAUSE_MS = size('PG_PAUSE_MS', 20_000);
/** The reconnect limit (the product default unless CI asks for a shorter one); must exceed the pause. */
const MAX_WAIT = process.env.FAULTS_MAXWAIT ?? '40s';
let pg: OwnPostgres;
let topic: string;
let stream: EventStream;

describeKafka('faults: Postgres restarts during apply', () => {
  beforeAll(async () => {
    pg = await ownPostgres();
    await migrate(pg.pool);
    await pg.pool.query('CREATE SCHEMA analytics');
    await pg.pool.query(ORDERS_DDL('analytics.orders_stream'));
    await setStage(pg.pool, 'orders', 'shadow');
    topic = uniqueTopic('faults-pg');
    await createTopic(topic, 3);
    stream = generateOrderEvents(TOTAL, { keys: Math.ceil(TOTAL / 5), poisonRate: 0.005, seed: 23 });
    await loadExpected(pg.pool, 'analytics.expected', stream.expected.values());
  });
  afterAll(async () => { await deleteTopic(topic).catch(() => undefined); await pg?.release(); });

  it('rides out a fast restart (stop -m fast, start) and an immediate stop + start, ends exact; exits 3 naming the database when it stays away', { timeout: 600_000 }, async () => {
    const { file, dir } = writeConfig({
      database: { url: pg.url, reconnect: { maxWait: MAX_WAIT } },
      kafka: { brokers: kafkaBrokers(), groupPrefix: `p${topic.slice(-8)}`, sessionTimeout: '6s' },
      datasets: { orders: { key: ['order_id'], batch: { output: 'analytics.orders_batch' },
        stream: { output: 'analytics.orders_stream', source: { topic, format: 'debezium' }, schema: `${FIXTURES}/orders.schema.json`, transform: `${FIXTURES}/orders-transform.ts` } } },
    });
    const quarter = Math.ceil(stream.messages.length / 4);
    const part = (i: number) => stream.messages.slice(i * quarter, (i + 1) * quarter);
    const w = startCli(['--config', file, 'stream'], dir, { DUALRUN_STREAM_PARTITIONS_AT_ONCE: '3' });
    await produce(topic, part(0));
    await until('first batches applied', async () => (await committedCount(pg.pool, 'orders')) > 0, 60_000, 50, w);

    await pg.restartFast(); // while it applies the first quarter
    await produce(topic, part(1));
    await until('progress after the fast restart', async () => (await committedCount(pg.pool, 'orders')) > quarter, 90_000, 200, w);
    expect(w.child.exitCode, w.stderr()).toBe(null);

    await produce(topic, part(2));
    await until('applying the third quarter', async () => (await committedCount(pg.pool, 'orders')) > quarter + 1, 30_000, 50, w);
    await pg.stopImmediate();
    await sleep(PAUSE_MS);
    await pg.start();
    await produce(topic, part(3));
    await until('every event applied or dead-lettered', async () => (await committedCount(pg.pool, 'orders')) === stream.messages.length, 120_000, 500, w);
    expect(w.child.exitCode, w.stderr()).toBe(null);
    expectNoRawStack(w.stderr());
    expect(w.stderr()).toMatch(/Postgres lost .*reconnecting/);
    expect(w.stderr()).toMatch(/Postgres is back: resumed/);

    await expectExact(pg.pool, 'analytics.expected', 'analytics.orders_stream');
    const dead = await expectDeadLettersComplete(pg.pool, 'orders');
    expect(dead).toEqual({ decode: stream.poison['bad-json'], validate: stream.poison.schema, transform: stream.poison.transform });

    // Postgres stays away: exit 3 within 60 s, naming the database and not its password.
    const password = decodeURIComponent(new URL(pg.url).password);
    const stoppedAt = Date.now();
    await pg.stopImmediate();
    const end = await Promise.race([w.exited(), sleep(70_000).then(() => null)]);
    const tookMs = Date.now() - stoppedAt;
    await pg.start();
    expect(end, w.stderr().slice(-2000)).not.toBe(null);
    expect(end!.code).toBe(3);
    expect(tookMs).toBeLessThan(60_000);
    expect(w.stderr()).toMatch(/dualrun: DUALRUN_DB_UNREACHABLE: .*gave up after \d+ s without Postgres at 127\.0\.0\.1:\d+ \(database postgres/);
    expect(w.stderr()).not.toContain(password);
    expectNoRawStack(w.stderr());
  });
});
