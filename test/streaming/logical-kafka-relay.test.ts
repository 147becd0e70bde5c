/**
 * `capture: logical` + Kafka: `dualrun capture` (the real CLI) creates the slot,
 * snapshots existing rows and relays the snapshot, then the slot's changes, to the
 * dataset's topic; `dualrun stream` consumes the topic. The output equals the
 * source, and the slot was advanced past what was relayed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { runCli } from '../support/cli.ts';
import { generateChanges } from './change-generator.ts';
import { deleteTopic, uniqueTopic } from './kafka-support.ts';
import { ORDERS_DDL, ORDER_COLUMNS, setStage, setupToolkit, symmetricDifference, writeConfig } from './support.ts';

let db: TestDatabase;
const topic = uniqueTopic('logical');

describeKafka('logical capture relayed to Kafka', () => {
  beforeAll(async () => {
    db = await createTestDatabase('logical_relay');
    await setupToolkit(db.pool);
    await db.pool.query(ORDERS_DDL('public.src'));
    await db.pool.query(ORDERS_DDL('public.out'));
    await db.pool.query(`INSERT INTO public.src SELECT g, 1, 2.50, 'new', '2026-11-01' FROM generate_series(-299, 0) g`);
    await setStage(db.pool, 'orders', 'shadow');
  });
  afterAll(async () => {
    await deleteTopic(topic);
    await db?.pool.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database() AND NOT active`).catch(() => undefined);
    await db?.drop();
  });

  it('relays the snapshot and the slot in Debezium shape; stream applies it exactly', { timeout: 120_000 }, async () => {
    const { file, dir } = writeConfig({
      database: { url: db.url },
      kafka: { brokers: kafkaBrokers(), groupPrefix: `g${topic.slice(-8)}` },
      datasets: { orders: { key: ['order_id'], batch: { output: 'public.b' }, stream: { output: 'public.out', source: { table: 'public.src', topic, capture: 'logical' } } } },
    });
    const first = await runCli(['--config', file, 'capture', '--until-idle', '--format', 'json'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ installed: [{ table: 'public.src', installed: true, snapshotRows: 300 }], relayed: { orders: 300 } });
    const events = await generateChanges(db.pool, 'public.src', { keys: 2000, rounds: 2, writers: 2 });
    const second = await runCli(['--config', file, 'capture', '--until-idle', '--format', 'json'], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ installed: [{ installed: false }], relayed: { orders: events } });
    const run = await runCli(['--config', file, 'stream', '--until-idle', '--format', 'json'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(await symmetricDifference(db.pool, 'public.src', 'public.out', ORDER_COLUMNS)).toBe(0);
    const pending = await db.pool.query(`SELECT count(*)::int AS n FROM pg_logical_slot_peek_binary_changes('dualrun_orders', NULL, NULL, 'proto_version', '1', 'publication_names', 'dualrun_orders')`);
    expect(pending.rows[0].n).toBe(0);
  });
});
