/**
 * A broker list none of which accepts a TCP connection took kafka.connectTimeout (30 s by
 * default) to exit 3, and the message said only "no answer within 30 s": kafkajs retried the
 * refused ports all along. Now every command that needs Kafka fails within a few seconds,
 * naming each host:port and the OS's reason (ECONNREFUSED, ENOTFOUND, no TCP answer), while a
 * broker that accepts TCP but answers slowly still gets the whole configured timeout, and a
 * list with one real broker among dead ones works. A silent broker also kept the command 30 s
 * past its connect timeout (kafkajs's disconnect waited on its request timeout). Elapsed
 * times are measured.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { runCli } from '../support/cli.ts';
import { freePort } from '../support/long-running-cli.ts';
import { blackholes } from '../support/blackhole.ts';
import { createTopic, deleteTopic, uniqueTopic } from './kafka-support.ts';
import { ORDERS_DDL, ordersStreamDatabase, setStage, writeConfig } from './support.ts';

let db: TestDatabase;
const holes = blackholes();
beforeAll(async () => {
  db = await ordersStreamDatabase('kafka_unreachable_fast');
  await db.pool.query(ORDERS_DDL('analytics.orders_batch'));
  await setStage(db.pool, 'orders', 'shadow');
});
afterAll(async () => {
  holes.close();
  await db?.drop();
});

function streamConfig(brokers: string[], topic = 'nowhere', connectTimeout?: string) {
  return writeConfig({
    database: { url: db.url }, kafka: { brokers, ...(connectTimeout ? { connectTimeout } : {}) },
    datasets: { orders: { key: ['order_id'], batch: { output: 'analytics.orders_batch' }, stream: { output: 'analytics.orders_stream', source: { topic, format: 'debezium' } } } },
  });
}

async function timed(args: string[], cwd: string) {
  const t0 = Date.now();
  const r = await runCli(args, { cwd });
  return { ...r, ms: Date.now() - t0 };
}

describe('brokers that refuse or do not exist fail at once', () => {
  it('stream exits 3 in seconds under the default 30 s connectTimeout, naming each broker and its OS error', { timeout: 60_000 }, async () => {
    const [a, b] = [await freePort(), await freePort()];
    const { file, dir } = streamConfig([`127.0.0.1:${a}`, `127.0.0.1:${b}`, 'no-such-broker.invalid:9092']);
    const r = await timed(['--config', file, 'stream', '--until-idle'], dir);
    expect(r.code, r.stderr).toBe(3);
    expect(r.ms).toBeLessThan(8_000);
    expect(r.stderr).toContain(`DUALRUN_KAFKA_UNREACHABLE: stream orders: cannot reach Kafka brokers 127.0.0.1:${a} (ECONNREFUSED), 127.0.0.1:${b} (ECONNREFUSED), no-such-broker.invalid:9092 (ENOTFOUND)`);
  });

  it('replay --from-time and --from-beginning fail as fast', { timeout: 60_000 }, async () => {
    const a = await freePort();
    const { file, dir } = streamConfig([`127.0.0.1:${a}`]);
    for (const from of [['--from-time', '2026-11-01T00:00:00Z'], ['--from-beginning']]) {
      const r = await timed(['--config', file, 'stream', '--dataset', 'orders', ...from, '--until-idle'], dir);
      expect(r.code, r.stderr).toBe(3);
      expect(r.ms).toBeLessThan(8_000);
      expect(r.stderr).toContain(`127.0.0.1:${a} (ECONNREFUSED)`);
    }
  });

  it('a blackholed broker (SYNs dropped) fails after the short TCP check, not the connect timeout', { timeout: 60_000 }, async () => {
    const port = await holes.blackhole();
    const { file, dir } = streamConfig([`127.0.0.1:${port}`]);
    const r = await timed(['--config', file, 'stream', '--until-idle'], dir);
    expect(r.code, r.stderr).toBe(3);
    expect(r.ms).toBeLessThan(12_000);
    expect(r.stderr).toContain(`127.0.0.1:${port} (no TCP answer within 5 s)`);
  });

  it('an adopted output judged by a kafkaGroup watermark: reconcile fails as fast, naming the brokers', { timeout: 60_000 }, async () => {
    const a = await freePort();
    const { file, dir } = writeConfig({
      database: { url: db.url }, kafka: { brokers: [`127.0.0.1:${a}`] },
      datasets: { orders: { key: ['order_id'], window: { column: 'order_date', grain: 'day' }, batch: { output: 'analytics.orders_batch' }, stream: { output: 'analytics.orders_stream', watermark: { kafkaGroup: 'g', topic: 't' } } } },
    });
    expect((await runCli(['--config', file, 'batch', 'adopt', 'orders', '--window', '2026-11-01'], { cwd: dir })).code).toBe(0);
    const r = await timed(['--config', file, 'reconcile', 'orders', '--window', '2026-11-01'], dir);
    expect(r.code, r.stderr + r.stdout).toBe(3);
    expect(r.ms).toBeLessThan(8_000);
    expect(r.stdout).toContain(`DUALRUN_KAFKA_UNREACHABLE: orders: stream.watermark.kafkaGroup: cannot reach Kafka brokers 127.0.0.1:${a} (ECONNREFUSED)`);
  });
});

describe('a broker that accepts TCP but is slow keeps its configured timeout', () => {
  // It also ran 30 s past the timeout: kafkajs's disconnect waited for the unanswered ApiVersions request.
  it('waits the whole kafka.connectTimeout before exit 3, and not its 30 s request timeout more', { timeout: 60_000 }, async () => {
    const port = await holes.silent();
    const { file, dir } = streamConfig([`127.0.0.1:${port}`], 'nowhere', '7s');
    const r = await timed(['--config', file, 'stream', '--until-idle'], dir);
    expect(r.code, r.stderr).toBe(3);
    expect(r.ms).toBeGreaterThanOrEqual(7_000);
    expect(r.ms).toBeLessThan(14_000);
    expect(r.stderr).toMatch(/DUALRUN_KAFKA_UNREACHABLE: stream orders: cannot reach Kafka brokers/);
  });
});

describeKafka('a real broker among dead ones', () => {
  it('streams: the TCP check lets the list through when one broker answers', { timeout: 90_000 }, async () => {
    const topic = uniqueTopic('reachable');
    await createTopic(topic, 1);
    try {
      const { file, dir } = streamConfig([`127.0.0.1:${await freePort()}`, ...kafkaBrokers()], topic);
      const r = await timed(['--config', file, 'stream', '--until-idle'], dir);
      expect(r.code, r.stderr).toBe(0);
    } finally {
      await deleteTopic(topic);
    }
  });
});
