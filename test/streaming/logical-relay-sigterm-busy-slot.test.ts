/**
 * `dualrun capture` relaying a `capture: logical` slot to Kafka, sent SIGTERM while it
 * waited for a slot another backend held (a killed worker's backend finishing its last
 * call), exited 3 with Postgres's "replication slot ... is active for PID": the wait
 * (onSlot) gave up on the abort by rethrowing the last 55006. Its stop is now a clean
 * stop (exit 0), and the slot was not advanced.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { runCli } from '../support/cli.ts';
import { startCli } from '../support/long-running-cli.ts';
import { logicalNames } from '../../streaming/capture/logical-slot.ts';
import { createTopic, deleteTopic, uniqueTopic } from './kafka-support.ts';
import { ordersStreamDatabase, writeConfig } from './support.ts';

let db: TestDatabase;
let holder: pg.Client | undefined;
beforeAll(async () => { db = await ordersStreamDatabase('logical_relay_sigterm'); });
afterAll(async () => {
  await holder?.end().catch(() => undefined);
  // A database with a logical slot cannot be dropped: remove what the test made first.
  await db?.pool.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database() AND NOT active`).catch(() => undefined);
  await db?.drop();
});

describeKafka('SIGTERM while the logical relay waits for a busy slot', () => {
  let topic: string;
  beforeAll(async () => { topic = uniqueTopic('lbusy'); await createTopic(topic, 1); });
  afterAll(async () => { await deleteTopic(topic); });

  it('exit 0, not 3 ("replication slot is active"), and the slot is not advanced', { timeout: 90_000 }, async () => {
    await db.pool.query(`CREATE TABLE public.lb_src (id int PRIMARY KEY, v text); INSERT INTO public.lb_src VALUES (1, 'a')`);
    const { file, dir } = writeConfig({
      database: { url: db.url }, kafka: { brokers: kafkaBrokers() },
      datasets: { lbusy: { key: ['id'], batch: { output: 'public.lb_batch' }, stream: { output: 'public.lb_out', source: { table: 'public.lb_src', capture: 'logical', topic } } } },
    });
    const first = await runCli(['--config', file, 'capture', '--until-idle'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    await db.pool.query(`INSERT INTO public.lb_src VALUES (2, 'b')`);
    const names = logicalNames('lbusy');
    const slotAt = async () => (await db.pool.query<{ lsn: string; pid: number | null }>('SELECT confirmed_flush_lsn::text AS lsn, active_pid AS pid FROM pg_replication_slots WHERE slot_name = $1', [names.slot])).rows[0];
    const before = (await slotAt()).lsn;
    // Another backend holds the slot and never confirms anything.
    holder = new pg.Client({ connectionString: db.url, replication: 'database' } as pg.ClientConfig);
    await holder.connect();
    holder.on('error', () => undefined);
    holder.query(`START_REPLICATION SLOT ${names.slot} LOGICAL 0/0 (proto_version '1', publication_names '${names.publication}')`).catch(() => undefined);
    for (let i = 0; i < 100 && !(await slotAt()).pid; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await slotAt()).pid).toBeTruthy();

    const c = startCli(['--config', file, 'capture'], { cwd: dir });
    // Waiting for the slot (it retries 55006 for up to 30 s): stop it then.
    await new Promise((r) => setTimeout(r, 3000));
    const code = await c.stop();
    expect({ code, error: c.stderr().match(/dualrun: \S+.*/)?.[0] ?? null }).toEqual({ code: 0, error: null });
    expect(c.stderr()).toContain('"msg":"logical relay stopped"');
    expect((await slotAt()).lsn).toBe(before);
  });
});
