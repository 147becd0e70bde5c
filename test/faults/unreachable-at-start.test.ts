/**
 * Services that are not there when a long-running command starts: with the
 * defaults, unreachable brokers fail within 30 s (kafka.connectTimeout) with exit 3
 * naming them, and an unreachable Postgres fails at once naming host and database.
 */
import net from 'node:net';
import { expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { writeConfig } from '../streaming/support.ts';
import { expectNoRawStack } from './fault-support.ts';

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

it('unreachable brokers: exit 3 within 30 s by default, naming the brokers', { timeout: 90_000 }, async () => {
  const [pgPort, kPort] = [await closedPort(), await closedPort()];
  // The toolkit database must answer for the worker to reach Kafka: use the test server.
  const { inject } = await import('vitest');
  const { file, dir } = writeConfig({
    database: { url: inject('pgUrl') }, kafka: { brokers: [`127.0.0.1:${kPort}`] },
    datasets: { orders: { key: ['order_id'], batch: { output: 'public.o_batch' }, stream: { output: 'public.o_stream', source: { topic: 'nowhere', format: 'debezium' } } } },
  });
  const { createPool } = await import('../../src/core/db/connect.ts');
  const pool = createPool(inject('pgUrl'));
  const { migrate } = await import('../../src/core/db/migrate.ts');
  await migrate(pool);
  await pool.query('CREATE TABLE IF NOT EXISTS public.o_stream (order_id integer PRIMARY KEY, customer_id integer, amount numeric(12,2), status text, order_date date)');
  await pool.query(`INSERT INTO dualrun.stages (dataset, stage) VALUES ('orders', 'shadow') ON CONFLICT (dataset) DO UPDATE SET stage = 'shadow'`);
  await pool.end();
  const t0 = Date.now();
  const r = await runCli(['--config', file, 'stream'], { cwd: dir, timeoutMs: 80_000 });
  const took = Date.now() - t0;
  expect(r.code, r.stderr).toBe(3);
  expect(took).toBeLessThan(35_000); // 30 s to the brokers, plus process start
  expect(r.stderr).toMatch(new RegExp(`dualrun: DUALRUN_KAFKA_UNREACHABLE: stream orders: cannot reach Kafka brokers 127\\.0\\.0\\.1:${kPort}`));
  expectNoRawStack(r.stderr);

  const bad = writeConfig({
    database: { url: `postgres://dualrun:pw-not-shown-7@127.0.0.1:${pgPort}/warehouse` },
    datasets: { orders: { key: ['order_id'], batch: { output: 'public.o_batch' }, stream: { output: 'public.o_stream', source: { table: 'public.o_src' } } } },
  });
  const t1 = Date.now();
  const p = await runCli(['--config', bad.file, 'stream'], { cwd: bad.dir });
  expect(p.code, p.stderr).toBe(3);
  expect(Date.now() - t1).toBeLessThan(15_000);
  expect(p.stderr).toMatch(new RegExp(`DUALRUN_DB_UNREACHABLE: .*127\\.0\\.0\\.1:${pgPort} \\(database warehouse, user dualrun\\)`));
  expect(p.stderr).not.toContain('pw-not-shown-7');
  expectNoRawStack(p.stderr);
});
