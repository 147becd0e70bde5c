/**
 * kafkajs's own log entries carried the stack of each connection error ("stack":
 * "Error: connect ECONNREFUSED ...\n    at TCPConnectWrap.afterConnect ..."), so a worker
 * retrying an unreachable broker printed stack traces at the default level, every few
 * hundred milliseconds; dualrun shows stacks only at --log-level debug.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { runCli } from '../support/cli.ts';
import { ORDERS_DDL, ordersStreamDatabase, setStage, writeConfig } from './support.ts';

let db: TestDatabase;
// A port that accepts every connection and resets it soon after: kafkajs connects, fails and
// retries, logging each connection error. (A closed port no longer reaches kafkajs: dualrun's
// own TCP check refuses it first, test/streaming/kafka-unreachable-fast.test.ts.)
const resetting = net.createServer((s) => { setTimeout(() => s.resetAndDestroy(), 50); });
beforeAll(async () => {
  db = await ordersStreamDatabase('kafka_log_stacks');
  await db.pool.query(ORDERS_DDL('public.orders_src'));
  await setStage(db.pool, 'orders', 'shadow');
  await new Promise<void>((r) => resetting.listen(0, '127.0.0.1', () => r()));
});
afterAll(async () => { resetting.close(); await db?.drop(); });

async function streamAgainstClosedPort(level: string): Promise<{ code: number | null; records: Record<string, unknown>[] }> {
  const { file, dir } = writeConfig({
    database: { url: db.url }, kafka: { brokers: [`127.0.0.1:${(resetting.address() as net.AddressInfo).port}`], connectTimeout: '2s' },
    datasets: { orders: { key: ['order_id'], batch: { output: 'analytics.orders_batch' }, stream: { output: 'analytics.orders_stream', source: { topic: 'nowhere', format: 'debezium' } } } },
  });
  const r = await runCli(['--config', file, '--log-level', level, 'stream', '--until-idle'], { cwd: dir });
  const records = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code: r.code, records };
}

const kafkajsRecords = (records: Record<string, unknown>[]) => records.filter((r) => String(r.msg).startsWith('kafkajs: Connection error'));

describe('kafkajs log entries', () => {
  it('carry no stack trace at the default level', { timeout: 60_000 }, async () => {
    const { code, records } = await streamAgainstClosedPort('info');
    expect(code).toBe(3);
    const kafkajs = kafkajsRecords(records);
    expect(kafkajs.length).toBeGreaterThan(0);
    for (const r of kafkajs) expect(JSON.stringify(r)).not.toMatch(/"stack"|\\n\s+at /);
  });

  it('keep it at --log-level debug', { timeout: 60_000 }, async () => {
    const { records } = await streamAgainstClosedPort('debug');
    expect(kafkajsRecords(records).some((r) => /\\n\s+at /.test(JSON.stringify(r)))).toBe(true);
  });
});
