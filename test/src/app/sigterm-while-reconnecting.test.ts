/**
 * SIGTERM while Postgres was away and the reconnect policy was backing off ended
 * `dualrun capture` (Kafka relay) and `dualrun schedule` with exit 3, the lost
 * connection's error, though the operator asked them to stop (`dualrun stream`
 * already exited 0 then). The policy now ends an outage cut short by a stop as a
 * stop (DUALRUN_INTERRUPTED, the loss as its cause), which the workers take as their
 * clean stop: exit 0. Postgres is taken away through a TCP proxy (test/support/tcp-proxy.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../../support/kafka.ts';
import { eventually, startCli, type RunningCli } from '../../support/long-running-cli.ts';
import { tcpProxy, type TcpProxy } from '../../support/tcp-proxy.ts';
import { ORDERS_DDL, setupToolkit, writeConfig } from '../../streaming/support.ts';
import { createTopic, deleteTopic, uniqueTopic } from '../../streaming/kafka-support.ts';

let db: TestDatabase;
let proxy: TcpProxy | undefined;
let cli: RunningCli | undefined;
beforeAll(async () => {
  db = await createTestDatabase('sigterm_reconnecting');
  await setupToolkit(db.pool);
  await db.pool.query(`${ORDERS_DDL('public.src')}; INSERT INTO public.src SELECT g, 1, 1.00, 'new', '2026-11-20' FROM generate_series(1, 5) g;
    CREATE TABLE public.b (id int PRIMARY KEY, day date NOT NULL)`);
});
afterEach(async () => { await cli?.stop(); await proxy?.close(); });
afterAll(async () => { await db?.drop(); });

/** db.url through a fresh proxy, with a long reconnect limit so the outage is still being retried at the stop. */
async function proxiedUrl(): Promise<string> {
  const u = new URL(db.url);
  proxy = await tcpProxy(u.hostname, Number(u.port));
  u.port = String(proxy.port);
  return u.toString();
}

async function stopDuringOutage(c: RunningCli, ready: RegExp): Promise<number | null> {
  await eventually(async () => (ready.test(c.stderr()) ? true : undefined), 30_000, String(ready));
  await proxy!.cut();
  await eventually(async () => (/Postgres lost .*reconnecting in/.test(c.stderr()) ? true : undefined), 20_000, 'the policy reconnecting');
  return c.stop();
}

describeKafka('capture (Kafka relay) stopped while reconnecting to Postgres', () => {
  let topic: string;
  beforeAll(async () => { topic = uniqueTopic('reconn'); await createTopic(topic, 1); });
  afterAll(async () => { await deleteTopic(topic); });

  it('exit 0, not 3', { timeout: 90_000 }, async () => {
    const { file } = writeConfig({
      database: { url: await proxiedUrl(), reconnect: { maxWait: '5m' } }, kafka: { brokers: kafkaBrokers() },
      datasets: { orders: { key: ['order_id'], batch: { output: 'public.b' }, stream: { output: 'public.out', source: { table: 'public.src', topic } } } },
    });
    cli = startCli(['--config', file, 'capture']);
    const code = await stopDuringOutage(cli, /"msg":"changelog of public.src: pruned/);
    expect({ code, error: cli.stderr().match(/dualrun: \S+.*/)?.[0] ?? null }).toEqual({ code: 0, error: null });
  });
});

describe('schedule stopped while reconnecting to Postgres', () => {
  it('exit 0, not 3', { timeout: 90_000 }, async () => {
    const { dir, file } = writeConfig({ database: { url: db.url }, datasets: {} });
    fs.writeFileSync(path.join(dir, 'load.sql'), 'SELECT order_id AS id, order_date AS day FROM public.src WHERE order_date >= :window_start AND order_date < :window_end');
    fs.writeFileSync(file, JSON.stringify({ database: { url: await proxiedUrl(), reconnect: { maxWait: '5m' } }, datasets: { orders: {
      key: ['id'], window: { column: 'day' }, batch: { output: 'public.b', query: 'load.sql', schedule: '0 3 * * *' },
      stream: { output: 'public.b_stream', source: { table: 'public.src' } },
    } } }));
    cli = startCli(['--config', file, 'schedule']);
    const code = await stopDuringOutage(cli, /"msg":"scheduler running/);
    expect({ code, error: cli.stderr().match(/dualrun: \S+.*/)?.[0] ?? null }).toEqual({ code: 0, error: null });
  });
});
