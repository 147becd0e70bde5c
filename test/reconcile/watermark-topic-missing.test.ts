/**
 * Regression: an adopted stream output settled by a Kafka consumer group, with
 * `stream.watermark.topic` misspelt, failed every window with kafkajs's own words
 * (`DUALRUN_RECONCILE_FAILED: This server does not host this topic-partition`, exit 3), naming
 * neither the topic nor the config field. It is a config mistake: DUALRUN_CONFIG_INVALID naming
 * `datasets.<ds>.stream.watermark.topic`, the topic and the brokers.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Runtime } from '../../src/core/runtime.ts';
import type { TestDatabase } from '../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { freshDatabase, runtimeFor, settle } from './support.ts';

describeKafka('stream.watermark.topic that the brokers do not have', () => {
  let db: TestDatabase;
  let rt: Runtime;
  const topic = `dualrun.no.such.topic.${Date.now()}`;

  beforeAll(async () => {
    db = await freshDatabase('wm_topic');
    await db.pool.query(`CREATE SCHEMA wt; CREATE TABLE wt.b (id int PRIMARY KEY, day date NOT NULL); CREATE TABLE wt.s (LIKE wt.b)`);
    rt = runtimeFor(db, {
      w: { key: ['id'], window: { column: 'day' }, batch: { output: 'wt.b' }, stream: { output: 'wt.s', watermark: { kafkaGroup: 'sink', topic } } },
    }, { kafka: { brokers: kafkaBrokers() } });
    await settle(rt, 'w', '2026-11-20T00:00:00Z');
  });
  afterAll(async () => { await rt?.close(); await db?.drop(); });

  it('is a config error naming the field and the topic, not a failed run', async () => {
    const [r] = await reconcileDataset(rt, 'w', { windows: ['2026-11-20'], samples: 10, store: false });
    expect(r.verdict).toBe('error');
    expect(r.error?.code).toBe('DUALRUN_CONFIG_INVALID');
    expect(r.error?.message).toContain(`datasets.w.stream.watermark.topic: Kafka topic ${topic} does not exist on ${kafkaBrokers().join(', ')}`);
  });
});
