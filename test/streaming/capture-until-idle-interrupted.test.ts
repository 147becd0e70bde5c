/**
 * `dualrun capture --until-idle` stopped by SIGTERM before the changelog was relayed
 * exited 0 and printed its partial count as if done, so a script running it before
 * `stream --until-idle` took the topic for complete. Like `stream --until-idle`, an
 * interrupted run now exits 143 (SIGTERM) / 130 (SIGINT) and says it was interrupted;
 * a run that finished exits 0, and a run started again relays the rest.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { runCli } from '../support/cli.ts';
import { startCli } from '../support/long-running-cli.ts';
import { ORDERS_DDL, setupToolkit, writeConfig } from './support.ts';
import { createTopic, deleteTopic, testKafka, uniqueTopic } from './kafka-support.ts';

let db: TestDatabase;
let topic: string;
beforeAll(async () => {
  db = await createTestDatabase('capture_idle_interrupted');
  await setupToolkit(db.pool);
  await db.pool.query(`${ORDERS_DDL('public.src')}; INSERT INTO public.src SELECT g, g % 9, 1.00, 'new', '2026-11-20' FROM generate_series(1, 100000) g`);
});
afterAll(async () => { await db?.drop(); });

describeKafka('capture --until-idle interrupted', () => {
  beforeAll(async () => { topic = uniqueTopic('capidle'); await createTopic(topic, 1); });
  afterAll(async () => { await deleteTopic(topic); });

  it('SIGTERM before the changelog is relayed: exit 143 and "interrupted"; the next run relays the rest and exits 0', { timeout: 180_000 }, async () => {
    const { file, dir } = writeConfig({
      database: { url: db.url }, kafka: { brokers: kafkaBrokers() },
      datasets: { orders: { key: ['order_id'], batch: { output: 'public.b' }, stream: { output: 'public.out', source: { table: 'public.src', topic } } } },
    });
    const c = startCli(['--config', file, 'capture', '--until-idle', '--format', 'json'], { cwd: dir });
    // SIGTERM once the first page is relayed and its position stored: 95,000 rows are still to go.
    const exited = new Promise<number | null>((r) => c.child.on('close', (x) => r(x)));
    let done = false;
    void exited.then(() => { done = true; });
    while (!done && !(await db.pool.query(`SELECT 1 FROM dualrun.stream_positions WHERE dataset = 'orders'`)).rowCount) await new Promise((r) => setTimeout(r, 20));
    c.child.kill('SIGTERM');
    const code = await exited;
    const out = JSON.parse(c.stdout());
    // Stopped at a page boundary it says so; cut short at the stop deadline (a loaded machine) it is an error document. Never a success.
    expect({ code, interrupted: out.interrupted ?? out.error?.code }, c.stderr()).toMatchObject({ code: 143, interrupted: expect.toBeOneOf([true, 'DUALRUN_INTERRUPTED']) });
    if (out.relayed) expect(out.relayed.orders).toBeLessThan(100_000);
    const rest = await runCli(['--config', file, 'capture', '--until-idle', '--format', 'json'], { cwd: dir, timeoutMs: 150_000 });
    expect(rest.code, rest.stderr).toBe(0);
    expect(JSON.parse(rest.stdout).interrupted).toBeUndefined();
    // At least once: every row is in the topic (a page may be there twice), whatever the first run got to.
    const admin = testKafka().admin();
    await admin.connect();
    const [{ high }] = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    expect(Number(high)).toBeGreaterThanOrEqual(100_000);
  });
});
