/**
 * Poison of every kind at every stage, through the real worker on Kafka: bad JSON
 * (decode), schema violations (validate), transform throws (transform), and values
 * Postgres refuses (apply: a numeric overflow, as a new key and as a change between
 * good changes of a live key). The result must be exactly what the stream would
 * produce without the bad records: count, checksum and key by key against the
 * model, applied + dead = produced, every dead letter with its stage, reason and
 * raw payload. The apply part relies on the sink keeping the good changes of a key
 * around a refused one (issue #16.1, the sink's row-by-row fallback).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { runCli } from '../support/cli.ts';
import { generateOrderEvents, type KafkaMessage, type OrderRow } from '../streaming/debezium-events.ts';
import { createTopic, deleteTopic, produce, uniqueTopic } from '../streaming/kafka-support.ts';
import { FIXTURES, ordersStreamDatabase, setStage, writeConfig } from '../streaming/support.ts';
import { committedCount, expectDeadLettersComplete, expectExact, expectNoRawStack, loadExpected, size } from './fault-support.ts';

const TOTAL = size('POISON_EVENTS', 20_000);
let db: TestDatabase;
let topic: string;

describeKafka('faults: poison at every stage', () => {
  beforeAll(async () => {
    db = await ordersStreamDatabase('faults_poison');
    topic = uniqueTopic('faults-poison');
    await createTopic(topic, 3);
    await setStage(db.pool, 'orders', 'shadow');
  });
  afterAll(async () => { await deleteTopic(topic); await db?.drop(); });

  it('decode, validate, transform and apply poison become dead letters; everything else is applied exactly', { timeout: 300_000 }, async () => {
    const stream = generateOrderEvents(TOTAL, { keys: Math.ceil(TOTAL / 5), poisonRate: 0.02, seed: 5 });
    const { messages, expected, applyPoison } = withApplyPoison(stream.messages, stream.expected, 60);
    await loadExpected(db.pool, 'analytics.expected', expected.values());
    const { file, dir } = writeConfig({
      database: { url: db.url },
      kafka: { brokers: kafkaBrokers(), groupPrefix: `x${topic.slice(-8)}` },
      datasets: { orders: { key: ['order_id'], batch: { output: 'analytics.orders_batch' },
        stream: { output: 'analytics.orders_stream', source: { topic, format: 'debezium' }, schema: `${FIXTURES}/orders.schema.json`, transform: `${FIXTURES}/orders-transform.ts` } } },
    });
    await produce(topic, messages);
    const r = await runCli(['--config', file, 'stream', '--until-idle'], { cwd: dir, timeoutMs: 240_000 });
    expectNoRawStack(r.stderr);
    expect(r.code, r.stderr).toBe(0);

    const dead = await expectDeadLettersComplete(db.pool, 'orders');
    const { apply, ...early } = dead;
    expect(early).toEqual({ decode: stream.poison['bad-json'], validate: stream.poison.schema, transform: stream.poison.transform });
    // A refused value that a newer change of the same key supersedes within one batch is
    // never written (the sink applies the newest version per key), so it is not a dead
    // letter; every refused value that would have been the key's state is one.
    expect(apply).toBeGreaterThanOrEqual(applyPoison.mustDie);
    expect(apply).toBeLessThanOrEqual(applyPoison.all);
    expect(await committedCount(db.pool, 'orders')).toBe(messages.length);
    const deadApply = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM dualrun.dead_letters WHERE dataset = 'orders' AND stage = 'apply' AND (convert_from(payload, 'UTF8') LIKE '%99999999999.99%' OR convert_from(payload, 'UTF8') LIKE '%123456789012.5%')`);
    expect(deadApply.rows[0].n).toBe(apply); // only the planted values were refused
    const reasons = await db.pool.query<{ stage: string; reason: string }>(`SELECT DISTINCT ON (stage) stage, reason FROM dualrun.dead_letters WHERE dataset = 'orders' ORDER BY stage, id`);
    const why = Object.fromEntries(reasons.rows.map((x) => [x.stage, x.reason]));
    expect(why.decode).toMatch(/not valid JSON/);
    expect(why.validate).toMatch(/status/);
    expect(why.transform).toMatch(/refused customer -1/);
    expect(why.apply).toMatch(/numeric field overflow|out of range|precision/i);
    await expectExact(db.pool, 'analytics.expected', 'analytics.orders_stream');
  });
});

/**
 * Adds apply-stage poison at the end of the stream: per chosen live key a good update,
 * an update Postgres refuses (amount beyond numeric(12,2)), and another good update,
 * so the model's final row is the last good one; plus refused inserts of new keys.
 */
function withApplyPoison(base: KafkaMessage[], model: Map<number, OrderRow>, keys: number): { messages: KafkaMessage[]; expected: Map<number, OrderRow>; applyPoison: { all: number; mustDie: number } } {
  const messages = [...base];
  const expected = new Map(model);
  let lsn = 10_000_000;
  const ts = Date.UTC(2026, 10, 21);
  const ev = (op: string, before: OrderRow | null, after: unknown) => JSON.stringify({ op, before, after, source: { lsn: ++lsn, ts_ms: ts + lsn, table: 'orders' }, ts_ms: ts + lsn });
  let all = 0;
  let mustDie = 0; // refused values no later change of the key supersedes
  const live = [...expected.values()].slice(0, keys);
  for (const [i, row] of live.entries()) {
    const key = JSON.stringify({ order_id: row.order_id });
    const good1: OrderRow = { ...row, status: 'paid', amount: '11.11' };
    const good2: OrderRow = { ...row, status: 'shipped', amount: '22.22' };
    messages.push({ key, value: ev('u', row, good1) });
    messages.push({ key, value: ev('u', good1, { ...good1, amount: '99999999999.99' }) }); all++;
    if (i % 2 === 0) { messages.push({ key, value: ev('u', good1, good2) }); expected.set(row.order_id, good2); } else { expected.set(row.order_id, good1); mustDie++; }
  }
  for (let i = 0; i < keys / 3; i++) {
    const id = 5_000_000 + i;
    messages.push({ key: JSON.stringify({ order_id: id }), value: ev('c', null, { order_id: id, customer_id: 1, amount: '123456789012.5', status: 'new', order_date: '2026-11-02' }) });
    all++; mustDie++;
  }
  return { messages, expected, applyPoison: { all, mustDie } };
}
