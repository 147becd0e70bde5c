/**
 * `dualrun stream --from-time T` looks up each partition's offset at T before it
 * rebuilds. Against brokers that do not answer, that lookup ran outside the connect
 * deadline: it failed after kafkajs's own retries as DUALRUN_INTERNAL ("an internal
 * error ... report it"), ignoring kafka.connectTimeout. It is now DUALRUN_KAFKA_UNREACHABLE
 * naming the brokers, within the timeout, like the worker's own start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { runCli } from '../support/cli.ts';
import { ORDERS_DDL, ordersStreamDatabase, setStage, writeConfig } from './support.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await ordersStreamDatabase('replay_kafka_unreachable');
  await db.pool.query(ORDERS_DDL('public.orders_src'));
  await setStage(db.pool, 'orders', 'shadow');
});
afterAll(async () => { await db?.drop(); });

describe('replay --from-time with unreachable brokers', () => {
  it('exits 3 with DUALRUN_KAFKA_UNREACHABLE within kafka.connectTimeout, naming the brokers', { timeout: 60_000 }, async () => {
    const { file, dir } = writeConfig({
      database: { url: db.url }, kafka: { brokers: ['127.0.0.1:1'], connectTimeout: '2s' },
      datasets: { orders: { key: ['order_id'], batch: { output: 'analytics.orders_batch' }, stream: { output: 'analytics.orders_stream', source: { topic: 'nowhere', format: 'debezium' } } } },
    });
    const t0 = Date.now();
    const r = await runCli(['--config', file, 'stream', '--dataset', 'orders', '--from-time', '2026-11-01T00:00:00Z', '--until-idle'], { cwd: dir });
    expect(r.stderr).toMatch(/dualrun: DUALRUN_KAFKA_UNREACHABLE: replay orders --from-time: cannot reach Kafka brokers 127\.0\.0\.1:1/);
    expect(r.stderr).not.toContain('DUALRUN_INTERNAL');
    expect(r.code).toBe(3);
    expect(Date.now() - t0).toBeLessThan(9_000);
  });
});
