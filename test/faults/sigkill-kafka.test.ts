/**
 * SIGKILL the real `dualrun stream` worker (Kafka transport, 3 partitions, shared
 * broker) at random moments, FAULTS_KILLS times (default 20), while fresh events
 * arrive before each start; then run to idle. The output must equal the model
 * computed from the produced events (count, checksum, key by key), applied + dead
 * must equal produced, and every poison record must be a dead letter with its
 * reason and raw payload.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { runCli } from '../support/cli.ts';
import { generateOrderEvents } from '../streaming/debezium-events.ts';
import { createTopic, deleteTopic, produce, uniqueTopic } from '../streaming/kafka-support.ts';
import { prng } from '../streaming/debezium-events.ts';
import { FIXTURES, ordersStreamDatabase, setStage, writeConfig } from '../streaming/support.ts';
import { committedCount, expectDeadLettersComplete, expectExact, expectNoRawStack, loadExpected, size, sleep, startCli } from './fault-support.ts';

const KILLS = size('KILLS', 20);
const TOTAL = size('KAFKA_EVENTS', 40_000);
let db: TestDatabase;
let topic: string;

describeKafka('faults: SIGKILL on the Kafka transport', () => {
  beforeAll(async () => {
    db = await ordersStreamDatabase('faults_kill_kafka');
    topic = uniqueTopic('faults-kill');
    await createTopic(topic, 3);
    await setStage(db.pool, 'orders', 'shadow');
  });
  afterAll(async () => { await deleteTopic(topic); await db?.drop(); });

  it(`survives ${KILLS} SIGKILLs while events arrive; ends exact`, { timeout: 900_000 }, async () => {
    const stream = generateOrderEvents(TOTAL, { keys: Math.ceil(TOTAL / 5), poisonRate: 0.01, seed: 11 });
    await loadExpected(db.pool, 'analytics.expected', stream.expected.values());
    const { file, dir } = writeConfig({
      database: { url: db.url },
      kafka: { brokers: kafkaBrokers(), groupPrefix: `k${topic.slice(-8)}`, sessionTimeout: '6s' },
      datasets: { orders: { key: ['order_id'], batch: { output: 'analytics.orders_batch' },
        stream: { output: 'analytics.orders_stream', source: { topic, format: 'debezium' }, schema: `${FIXTURES}/orders.schema.json`, transform: `${FIXTURES}/orders-transform.ts` } } },
    });
    const rnd = prng(Number(process.env.FAULTS_SEED ?? Date.now() % 100000));
    const chunk = Math.ceil(stream.messages.length / KILLS);
    let killsWhileApplying = 0;
    for (let k = 0; k < KILLS; k++) {
      await produce(topic, stream.messages.slice(k * chunk, (k + 1) * chunk));
      const before = await committedCount(db.pool, 'orders');
      const w = startCli(['--config', file, 'stream'], dir);
      let moved = false;
      for (let i = 0; i < 400 && !moved && w.child.exitCode === null; i++) {
        await sleep(100);
        moved = (await committedCount(db.pool, 'orders')) > before;
      }
      await sleep(rnd() * 200); // within a batch's apply, or just after
      expect(w.child.exitCode, w.stderr()).toBe(null); // still running when killed
      w.child.kill('SIGKILL');
      await w.exited();
      expectNoRawStack(w.stderr());
      if (moved) killsWhileApplying++;
    }
    // Each kill came after the worker had started committing the fresh events.
    expect(killsWhileApplying).toBeGreaterThanOrEqual(Math.ceil(KILLS / 2));

    const last = await runCli(['--config', file, 'stream', '--until-idle'], { cwd: dir, timeoutMs: 300_000 });
    expectNoRawStack(last.stderr);
    expect(last.code, last.stderr).toBe(0);
    await expectExact(db.pool, 'analytics.expected', 'analytics.orders_stream');
    expect(await committedCount(db.pool, 'orders')).toBe(stream.messages.length);
    const dead = await expectDeadLettersComplete(db.pool, 'orders');
    expect(dead).toEqual({ decode: stream.poison['bad-json'], validate: stream.poison.schema, transform: stream.poison.transform });
  });
});
