/**
 * Kafka that cannot be reached at start is a quick, clear exit 3 naming the brokers:
 * a closed port within kafka.connectTimeout, and a SASL config against a PLAINTEXT
 * listener (the capture relay used to report that as DUALRUN_INTERNAL with a stack).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { runCli } from '../support/cli.ts';
import { installCapture } from '../../streaming/capture/capture-triggers.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { ORDERS_DDL, ordersStreamDatabase, setStage, writeConfig } from './support.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await ordersStreamDatabase('kafka_unreachable');
  await db.pool.query(ORDERS_DDL('public.orders_src'));
  await installCapture(db.pool, parseTableRef('public.orders_src')!);
  await setStage(db.pool, 'orders', 'shadow');
});
afterAll(async () => { await db?.drop(); });

const noStack = /^\s+at .+:\d+:\d+\)?$/m;

describe('unreachable Kafka at start', () => {
  it('a closed broker port exits 3 within kafka.connectTimeout, naming the brokers', { timeout: 60_000 }, async () => {
    const { file, dir } = writeConfig({
      database: { url: db.url }, kafka: { brokers: ['127.0.0.1:1'], connectTimeout: '3s' },
      datasets: { orders: { key: ['order_id'], batch: { output: 'analytics.orders_batch' }, stream: { output: 'analytics.orders_stream', source: { topic: 'nowhere', format: 'debezium' } } } },
    });
    const t0 = Date.now();
    const r = await runCli(['--config', file, 'stream', '--until-idle'], { cwd: dir });
    expect(r.code, r.stderr).toBe(3);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r.stderr).toMatch(/dualrun: DUALRUN_KAFKA_UNREACHABLE: stream orders: cannot reach Kafka brokers 127\.0\.0\.1:1/);
    expect(r.stderr).not.toMatch(noStack);
  });
});

describeKafka('SASL against a PLAINTEXT listener', () => {
  it('capture reports DUALRUN_KAFKA_UNREACHABLE with a clear message, fast, no stack, no password', { timeout: 60_000 }, async () => {
    const { file, dir } = writeConfig({
      database: { url: db.url },
      kafka: { brokers: kafkaBrokers(), sasl: { mechanism: 'plain', username: 'dualrun', password: 'sasl-secret-42' } },
      datasets: { orders: { key: ['order_id'], batch: { output: 'analytics.orders_batch' }, stream: { output: 'analytics.orders_stream', source: { table: 'public.orders_src', topic: 'faults.sasl.orders' } } } },
    });
    const t0 = Date.now();
    const r = await runCli(['--config', file, 'capture', '--until-idle'], { cwd: dir });
    expect(r.code, r.stderr).toBe(3);
    expect(Date.now() - t0).toBeLessThan(35_000);
    expect(r.stderr).toMatch(/dualrun: DUALRUN_KAFKA_UNREACHABLE: capture relay orders: cannot reach Kafka brokers 127\.0\.0\.1:\d+/);
    expect(r.stderr).not.toMatch(/DUALRUN_INTERNAL/);
    expect(r.stderr).not.toMatch(noStack);
    expect(r.stderr).not.toContain('sasl-secret-42');
  });
});
