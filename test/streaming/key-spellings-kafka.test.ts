/**
 * Through a real topic: one key spelled two ways (a uuid in lower and upper case, as two
 * producers wrote it) after a record Postgres refuses. The refusal sends the partition
 * through the per-batch path (one transaction per batch, collecting-sink.ts), whose merge
 * got the key twice: Postgres's 21000 stopped the worker, on every restart, so nothing
 * after the bad record was applied. Now the bad record is a dead letter and the newest
 * change of the key is stored.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { runStreamWorker } from '../../streaming/stream-supervisor.ts';
import { createTopic, deleteTopic, produce, uniqueTopic } from './kafka-support.ts';
import { ordersStreamDatabase, setStage, testRuntime, writeConfig } from './support.ts';

describeKafka('one key spelled two ways, through Kafka', () => {
  const made: { db: TestDatabase; topic: string }[] = [];
  afterAll(async () => { for (const m of made) { await deleteTopic(m.topic); await m.db.drop(); } });

  it('after a refused record, a uuid key in two cases is applied (the worker stopped on 21000)', { timeout: 60_000 }, async () => {
    const db = await ordersStreamDatabase('key_spellings_kafka');
    const topic = uniqueTopic('spell');
    made.push({ db, topic });
    await db.pool.query('CREATE TABLE analytics.spelled (k uuid PRIMARY KEY, n numeric(12,2))');
    await createTopic(topic, 1);
    const u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
    const rows = [{ k: u, n: 'abc' }, { k: u, n: '1.00' }, { k: u.toUpperCase(), n: '2.00' }, { k: `{${u}}`, n: '3.00' }];
    await produce(topic, rows.map((r) => ({ key: JSON.stringify({ k: r.k }), value: JSON.stringify(r) })));
    const { config } = writeConfig({
      database: { url: db.url }, kafka: { brokers: kafkaBrokers(), groupPrefix: `g${topic.slice(-8)}` },
      datasets: { spelled: { key: ['k'], batch: { output: 'analytics.spelled_batch' }, stream: { output: 'analytics.spelled', source: { topic, format: 'json' } } } },
    });
    await setStage(db.pool, 'spelled', 'shadow');
    const rt = testRuntime(config);
    try {
      const result = await runStreamWorker(rt, { datasets: ['spelled'], untilIdle: true });
      expect(result.ran).toHaveLength(1);
    } finally {
      await rt.close();
    }
    expect((await db.pool.query(`SELECT k::text, n::text, _dr_version::int AS v FROM analytics.spelled`)).rows).toEqual([{ k: u, n: '3.00', v: 3 }]);
    expect((await db.pool.query(`SELECT position::int AS p, stage FROM dualrun.dead_letters WHERE dataset = 'spelled'`)).rows).toEqual([{ p: 0, stage: 'apply' }]);
    expect((await db.pool.query(`SELECT records_applied::int AS a, records_dead::int AS d FROM dualrun.stream_positions WHERE dataset = 'spelled'`)).rows).toEqual([{ a: 3, d: 1 }]);
  });
});
