/**
 * With Kafka, the capture relays are a table's changelog consumers: pruning keeps
 * what a relay that has not run (or lags) still has to send, and each topic ends up
 * with every change exactly as captured (real broker, real Postgres).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { installCapture } from '../../streaming/capture/capture-triggers.ts';
import { pruneChangelog } from '../../streaming/capture/changelog-prune.ts';
import { runCapture } from '../../streaming/capture/run-capture.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { deleteTopic, testKafka, uniqueTopic } from './kafka-support.ts';
import { ORDERS_DDL, setupToolkit, testRuntime, writeConfig } from './support.ts';

let db: TestDatabase;
const topics = { ka: uniqueTopic('prune-a'), kb: uniqueTopic('prune-b') };
const T = 'public.relay_src';

describeKafka('pruning behind the capture relays', () => {
  beforeAll(async () => {
    db = await createTestDatabase('stream_prune_relay');
    await setupToolkit(db.pool);
    await db.pool.query(ORDERS_DDL(T));
    await db.pool.query(`INSERT INTO ${T} SELECT g, 1, 1.00, 'new', date '2026-11-01' FROM generate_series(1, 120) g`);
    await installCapture(db.pool, parseTableRef(T)!);
  });
  afterAll(async () => { await Promise.all(Object.values(topics).map(deleteTopic)); await db?.drop(); });

  it("a relay's position holds pruning back; every topic gets every change", { timeout: 90_000 }, async () => {
    const cfg = writeConfig({
      database: { url: db.url },
      kafka: { brokers: kafkaBrokers() },
      datasets: Object.fromEntries(Object.entries(topics).map(([name, topic]) => [name,
        { key: ['order_id'], batch: { output: `public.${name}_b` }, stream: { output: `public.${name}_s`, source: { table: T, topic } } }])),
    }).config;
    const relay = async (datasets: string[]) => {
      const rt = testRuntime(cfg);
      try { return await runCapture(rt, { datasets, untilIdle: true, explicit: true }); } finally { await rt.close(); }
    };
    const rows = async () => Number((await db.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM dualrun.changelog WHERE source_table = $1', [T])).rows[0].n);

    expect((await relay(['ka'])).relayed).toEqual({ ka: 120 });
    expect(await rows()).toBe(120); // kb's relay has not sent anything yet
    const rt = testRuntime(cfg);
    try { expect((await pruneChangelog(rt, T)).keptBecause).toBe('capture relay kb has not read it yet (it needs everything)'); } finally { await rt.close(); }

    expect((await relay(['kb'])).relayed).toEqual({ kb: 120 });
    expect(await rows()).toBe(0);
    await db.pool.query(`UPDATE ${T} SET status = 'paid' WHERE order_id <= 50`);
    expect((await relay(['ka'])).relayed).toEqual({ ka: 50 });
    expect(await rows()).toBe(50); // kb still has them to send
    expect((await relay(['kb'])).relayed).toEqual({ kb: 50 });
    expect(await rows()).toBe(0);

    const admin = testKafka().admin();
    await admin.connect();
    try {
      for (const topic of Object.values(topics)) {
        const offsets = await admin.fetchTopicOffsets(topic);
        expect(offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0)).toBe(170);
      }
    } finally { await admin.disconnect(); }
  });
});
