/**
 * `{ table }` + Kafka: `dualrun capture` (the real CLI) installs the trigger,
 * snapshots existing rows and relays the changelog to the dataset's topic in
 * Debezium shape; `dualrun stream` consumes the topic. The output equals the source.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { runCli } from '../support/cli.ts';
import { generateChanges } from './change-generator.ts';
import { deleteTopic, testKafka, uniqueTopic } from './kafka-support.ts';
import { ORDERS_DDL, ORDER_COLUMNS, setStage, setupToolkit, symmetricDifference, writeConfig } from './support.ts';

let db: TestDatabase;
const topic = uniqueTopic('relay');

describeKafka('capture relayed to Kafka', () => {
  beforeAll(async () => {
    db = await createTestDatabase('stream_relay');
    await setupToolkit(db.pool);
    await db.pool.query(ORDERS_DDL('public.src'));
    await db.pool.query(ORDERS_DDL('public.out'));
    await db.pool.query(`INSERT INTO public.src SELECT g, 1, 2.50, 'new', '2026-11-01' FROM generate_series(-499, 0) g`);
    await setStage(db.pool, 'orders', 'shadow');
  });
  afterAll(async () => { await deleteTopic(topic); await db?.drop(); });

  it('capture installs, snapshots and relays in Debezium shape; stream applies it exactly', { timeout: 120_000 }, async () => {
    const { file, dir } = writeConfig({
      database: { url: db.url },
      kafka: { brokers: kafkaBrokers(), groupPrefix: `g${topic.slice(-8)}` },
      datasets: { orders: { key: ['order_id'], batch: { output: 'public.b' }, stream: { output: 'public.out', source: { table: 'public.src', topic } } } },
    });
    const first = await runCli(['--config', file, 'capture', '--until-idle', '--format', 'json'], { cwd: dir });
    expect(first.stderr).toBe('');
    expect(JSON.parse(first.stdout)).toMatchObject({ installed: [{ table: 'public.src', installed: true, snapshotRows: 500 }], relayed: { orders: 500 } });
    const events = await generateChanges(db.pool, 'public.src', { keys: 3000, rounds: 2, writers: 2 });
    const second = await runCli(['--config', file, 'capture', '--until-idle', '--format', 'json'], { cwd: dir });
    expect(JSON.parse(second.stdout)).toMatchObject({ installed: [{ installed: false }], relayed: { orders: events } });

    const consumer = testKafka().consumer({ groupId: `peek.${topic}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const firstMessage = await new Promise<{ key: string; value: Record<string, unknown> }>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve({ key: message.key!.toString(), value: JSON.parse(message.value!.toString()) }) });
    });
    await consumer.disconnect();
    expect(firstMessage.key).toMatch(/^\{"order_id":-?\d+\}$/);
    expect(firstMessage.value).toMatchObject({ op: 'r', before: null, after: { status: 'new' }, source: { connector: 'dualrun', table: 'public.src' } });

    const run = await runCli(['--config', file, 'stream', '--until-idle', '--format', 'json'], { cwd: dir });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout).datasets[0].applied).toBe(500 + events);
    expect(await symmetricDifference(db.pool, 'public.src', 'public.out', ORDER_COLUMNS)).toBe(0);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM public.out')).rows[0].n).toBe((await db.pool.query('SELECT count(*)::int AS n FROM public.src')).rows[0].n);
  });
});
