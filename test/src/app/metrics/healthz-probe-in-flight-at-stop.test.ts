/**
 * A /healthz probe still connecting to a broker that does not answer held a stopping
 * `dualrun capture` (or `stream`) past the CLI's 4 s stop deadline: closing the
 * endpoint awaited the probe's Kafka connect, so SIGTERM exited 143 instead of 0.
 * Closing the Kafka check now waits at most 1 s.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../support/pg.ts';
import { freePort, startCli } from '../../../support/long-running-cli.ts';
import { blackholes } from '../../../support/blackhole.ts';
import { ORDERS_DDL, setupToolkit, writeConfig } from '../../../streaming/support.ts';

let db: TestDatabase;
const holes = blackholes();
beforeAll(async () => {
  db = await createTestDatabase('healthz_in_flight');
  await setupToolkit(db.pool);
  await db.pool.query(ORDERS_DDL('public.csrc'));
});
afterAll(async () => { holes.close(); await db?.drop(); });

it('SIGTERM while a /healthz probe waits on a silent broker: exit 0, not 143 at the 4 s stop deadline', { timeout: 60_000 }, async () => {
  const { file } = writeConfig({
    database: { url: db.url }, kafka: { brokers: [`127.0.0.1:${await holes.silent()}`] },
    datasets: { orders: { key: ['order_id'], batch: { output: 'public.b' }, stream: { output: 'public.out', source: { table: 'public.csrc', topic: 'nowhere' } } } },
  });
  const port = await freePort();
  const c = startCli(['--config', file, 'capture', '--metrics-port', String(port)]);
  let seen = '';
  let sentAt = 0;
  c.child.stderr!.on('data', (d) => {
    seen += d;
    if (sentAt || !/"msg":"capture (already )?installed"/.test(seen)) return;
    // The endpoint is up before the work starts: a probe now connects its Kafka admin to the silent broker.
    void fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
    sentAt = Date.now();
    setTimeout(() => c.child.kill('SIGTERM'), 300);
  });
  const code = await new Promise<number | null>((r) => {
    const guard = setTimeout(() => c.child.kill('SIGKILL'), 30_000);
    c.child.on('close', (x) => { clearTimeout(guard); r(x); });
  });
  expect({ code, cutShort: /did not reach a safe point/.test(c.stderr()) }, c.stderr()).toEqual({ code: 0, cutShort: false });
});
