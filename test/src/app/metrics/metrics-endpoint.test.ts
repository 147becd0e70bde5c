/**
 * Scrapes /metrics and /healthz of real long-running commands: `dualrun stream`
 * on the Postgres changelog and on Kafka, and `dualrun schedule`, after a known
 * number of records and runs. Every series docs/operations.md promises is
 * checked with its labels and values.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../../../support/kafka.ts';
import { runCli } from '../../../support/cli.ts';
import { eventually, freePort, scrape, startCli, value, type RunningCli } from '../../../support/long-running-cli.ts';
import { installCapture } from '../../../../streaming/capture/capture-triggers.ts';
import { parseTableRef } from '../../../../src/core/identifiers.ts';
import { FIXTURES, ORDERS_DDL, setStage, setupToolkit, writeConfig } from '../../../streaming/support.ts';
import { startReceiver } from '../../../support/webhook-receiver.ts';
import { createTopic, deleteTopic, produce, uniqueTopic } from '../../../streaming/kafka-support.ts';

const STAGES = ['batch', 'shadow', 'streaming', 'streaming-only'];

async function healthz(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('dualrun stream on the changelog serves /metrics and /healthz', () => {
  let db: TestDatabase;
  let worker: RunningCli | undefined;
  let dropped = false;
  beforeAll(async () => {
    db = await createTestDatabase('metrics_cl');
    await setupToolkit(db.pool);
    await db.pool.query(`${ORDERS_DDL('public.src')}; ${ORDERS_DDL('public.out')}; ${ORDERS_DDL('public.b')}`);
    await installCapture(db.pool, parseTableRef('public.src')!);
    await setStage(db.pool, 'orders', 'shadow');
  });
  afterAll(async () => { await worker?.stop(); if (!dropped) await db?.drop(); else await db.pool.end().catch(() => undefined); });

  it('45 applied, 3 validate and 2 transform dead letters, lag, watermark, stage, verdict, streak; 503 once Postgres is gone', { timeout: 90_000 }, async () => {
    // 45 good rows, 3 that fail the record schema (status), 2 the transform refuses (customer -1, cancelled).
    await db.pool.query(`INSERT INTO public.src SELECT g, g % 7, g * 1.5, 'paid', '2026-11-20' FROM generate_series(1, 45) g`);
    await db.pool.query(`INSERT INTO public.src SELECT g, 1, 1, 'weird', '2026-11-20' FROM generate_series(46, 48) g`);
    await db.pool.query(`INSERT INTO public.src SELECT g, -1, 1, 'cancelled', '2026-11-20' FROM generate_series(49, 50) g`);
    const { file } = writeConfig({
      database: { url: db.url },
      datasets: { orders: {
        key: ['order_id'], batch: { output: 'public.b' },
        stream: { output: 'public.out', source: { table: 'public.src' }, schema: path.join(FIXTURES, 'orders.schema.json'), transform: path.join(FIXTURES, 'orders-transform.ts') },
        cutover: { promoteAfter: 3 },
      } },
    });
    const port = await freePort();
    worker = startCli(['--config', file, 'stream', '--metrics-port', String(port)]);
    const applied = await eventually(async () => {
      const v = value((await scrape(port)).samples, 'dualrun_records_applied_total', { dataset: 'orders' });
      return v === 45 ? v : undefined;
    }, 40_000, 'applied_total 45');
    expect(applied).toBe(45);
    const { samples, types } = await eventually(async () => {
      const m = await scrape(port);
      return value(m.samples, 'dualrun_stream_lag_records', { dataset: 'orders', partition: '0' }) === 0 ? m : undefined;
    }, 10_000, 'lag 0');
    expect(value(samples, 'dualrun_records_dead_lettered_total', { dataset: 'orders', stage: 'validate' })).toBe(3);
    expect(value(samples, 'dualrun_records_dead_lettered_total', { dataset: 'orders', stage: 'transform' })).toBe(2);
    expect(types.get('dualrun_records_applied_total')).toBe('counter');
    expect(types.get('dualrun_stream_apply_duration_seconds')).toBe('histogram');
    expect(value(samples, 'dualrun_stream_apply_duration_seconds_count', { dataset: 'orders' })).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'dualrun_stream_apply_duration_seconds_bucket', { dataset: 'orders', le: '+Inf' }))
      .toBe(value(samples, 'dualrun_stream_apply_duration_seconds_count', { dataset: 'orders' }));
    const lagSeconds = value(samples, 'dualrun_stream_lag_seconds', { dataset: 'orders', partition: '0' });
    expect(lagSeconds).toBeGreaterThanOrEqual(0);
    expect(lagSeconds).toBeLessThan(30);
    const wm = value(samples, 'dualrun_stream_watermark_age_seconds', { dataset: 'orders' });
    expect(wm).toBeGreaterThanOrEqual(0);
    expect(wm).toBeLessThan(30);
    for (const s of STAGES) expect(value(samples, 'dualrun_dataset_stage', { dataset: 'orders', stage: s })).toBe(s === 'shadow' ? 1 : 0);
    expect(value(samples, 'dualrun_cutover_clean_streak', { dataset: 'orders' })).toBe(0);
    expect(value(samples, 'dualrun_cutover_clean_required', { dataset: 'orders' })).toBe(3);
    expect(value(samples, 'dualrun_reconcile_last_verdict', { dataset: 'orders', verdict: 'match' })).toBeUndefined();

    // A real reconciliation by another process: the worker's scrape reads it from Postgres.
    await db.pool.query('INSERT INTO public.b SELECT order_id, customer_id, amount, status, order_date FROM public.out');
    const rec = await runCli(['--config', file, 'reconcile', 'orders', '--assume-settled']);
    expect(rec.code, rec.stderr).toBe(0);
    const after = (await scrape(port)).samples;
    expect(value(after, 'dualrun_reconcile_last_verdict', { dataset: 'orders', verdict: 'match' })).toBe(1);
    expect(value(after, 'dualrun_reconcile_last_verdict', { dataset: 'orders', verdict: 'mismatch' })).toBe(0);
    expect(value(after, 'dualrun_cutover_clean_streak', { dataset: 'orders' })).toBe(1);
    expect(value(after, 'dualrun_reconcile_last_timestamp_seconds', { dataset: 'orders' })).toBeGreaterThan(Date.now() / 1000 - 120);

    const ok = await healthz(port);
    expect(ok).toEqual({ status: 200, body: { status: 'ok', checks: { postgres: 'ok', worker: 'ok' } } });

    // The heartbeat, at its default 5 s, says why the worker is idle.
    const beat = await eventually(async () => worker!.stderr().split('\n').find((l) => l.includes('"msg":"heartbeat: idle (caught up)"')), 15_000, 'an idle heartbeat');
    const parsed = JSON.parse(beat) as { idle: boolean; why: string; datasets: { dataset: string; lagRecords: number; applied: number }[] };
    expect(parsed).toMatchObject({ idle: true, why: 'caught up', datasets: [{ dataset: 'orders', lagRecords: 0, applied: 45 }] });

    // Postgres gone (the database dropped under the worker): unhealthy, with the reason.
    await db.drop();
    dropped = true;
    const bad = await eventually(async () => { const h = await healthz(port); return h.status === 503 ? h : undefined; }, 15_000, '503');
    expect(bad.body.status).toBe('unhealthy');
    expect(String(bad.body.reason)).toMatch(/^postgres: /);
  });
});

describe('dualrun schedule serves job and batch run metrics', () => {
  let db: TestDatabase;
  let sched: RunningCli | undefined;
  beforeAll(async () => {
    db = await createTestDatabase('metrics_sched');
    await setupToolkit(db.pool);
    await db.pool.query(`CREATE TABLE public.src (id int PRIMARY KEY, day date NOT NULL, v int);
      CREATE TABLE public.b (id int PRIMARY KEY, day date NOT NULL, v int);
      INSERT INTO public.src SELECT g, current_date - 1, g FROM generate_series(1, 30) g`);
  });
  afterAll(async () => { await sched?.stop(); await db?.drop(); });

  it('one succeeded run of yesterday, later fires skipped, a broken job counted as failed and alerted', { timeout: 60_000 }, async () => {
    const { dir, file } = writeConfig({ database: { url: db.url }, datasets: {} });
    fs.writeFileSync(path.join(dir, 'ok.sql'), 'SELECT id, day, v FROM public.src WHERE day >= :window_start AND day < :window_end');
    fs.writeFileSync(path.join(dir, 'broken.sql'), 'SELECT id, day, v FROM public.no_such_table WHERE day >= :window_start AND day < :window_end');
    const ds = (query: string, out: string) => ({
      key: ['id'], window: { column: 'day' }, batch: { output: out, query, schedule: '* * * * * *' },
      stream: { output: `${out}_stream`, source: { table: 'public.src' } },
    });
    const receiver = await startReceiver();
    fs.writeFileSync(file, JSON.stringify({
      database: { url: db.url }, alerts: { webhooks: [{ url: `${receiver.url}/hook`, events: ['batch_failed'] }] },
      datasets: { orders: ds('ok.sql', 'public.b'), broken: ds('broken.sql', 'public.b2') },
    }));
    await db.pool.query('CREATE TABLE public.b2 (id int PRIMARY KEY, day date NOT NULL, v int)');
    const port = await freePort();
    sched = startCli(['--config', file, 'schedule', '--metrics-port', String(port)]);
    const samples = await eventually(async () => {
      const s = (await scrape(port)).samples;
      const skipped = value(s, 'dualrun_scheduler_jobs_total', { job: 'batch:orders', kind: 'batch', outcome: 'skipped' }) ?? 0;
      const failed = value(s, 'dualrun_scheduler_jobs_total', { job: 'batch:broken', kind: 'batch', outcome: 'failed' }) ?? 0;
      return skipped >= 2 && failed >= 2 ? s : undefined;
    }, 30_000, 'fires');
    expect(value(samples, 'dualrun_scheduler_jobs_total', { job: 'batch:orders', kind: 'batch', outcome: 'succeeded' })).toBe(1);
    expect(value(samples, 'dualrun_batch_runs_total', { dataset: 'orders', status: 'succeeded' })).toBe(1);
    expect(value(samples, 'dualrun_batch_run_duration_seconds_count', { dataset: 'orders', status: 'succeeded' })).toBe(1);
    const failedRuns = value(samples, 'dualrun_batch_runs_total', { dataset: 'broken', status: 'failed' })!;
    const failedFires = value(samples, 'dualrun_scheduler_jobs_total', { job: 'batch:broken', kind: 'batch', outcome: 'failed' })!;
    expect(failedRuns).toBeGreaterThanOrEqual(2);
    // Each failed fire is one failed run (a metric counted twice or missed would differ).
    expect(Math.abs(failedRuns - failedFires)).toBeLessThanOrEqual(1);
    const ledger = (await db.pool.query(`SELECT count(*)::int AS n FROM dualrun.batch_runs WHERE dataset = 'orders' AND status = 'succeeded'`)).rows[0].n;
    expect(ledger).toBe(1);
    expect(value(samples, 'dualrun_scheduler_job_duration_seconds_count', { job: 'batch:orders', kind: 'batch' })).toBeGreaterThanOrEqual(3);
    for (const s of STAGES) expect(value(samples, 'dualrun_dataset_stage', { dataset: 'orders', stage: s })).toBe(s === 'batch' ? 1 : 0);
    expect(await healthz(port)).toEqual({ status: 200, body: { status: 'ok', checks: { postgres: 'ok', worker: 'ok' } } });
    expect(await sched.stop()).toBe(0);
    // Every failed run alerted batch_failed with the database's message; the good dataset never did.
    const failedAlerts = receiver.requests.filter((q) => q.body.event === 'batch_failed');
    await receiver.close();
    expect(failedAlerts.length).toBeGreaterThanOrEqual(2);
    expect(failedAlerts.every((q) => q.body.dataset === 'broken')).toBe(true);
    expect(failedAlerts[0].body).toMatchObject({ window: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), details: { code: 'DUALRUN_BATCH_FAILED', sqlstate: '42P01' } });
    expect(String(failedAlerts[0].body.text)).toContain('no_such_table');
  });
});

describeKafka('dualrun stream on Kafka serves /metrics and /healthz', () => {
  let db: TestDatabase;
  let topic: string;
  let worker: RunningCli | undefined;
  beforeAll(async () => {
    db = await createTestDatabase('metrics_kafka');
    await setupToolkit(db.pool);
    await db.pool.query(ORDERS_DDL('public.out'));
    await setStage(db.pool, 'orders', 'shadow');
    topic = uniqueTopic('metrics');
    await createTopic(topic, 2);
  });
  afterAll(async () => { await worker?.stop(); await deleteTopic(topic); await db?.drop(); });

  it('per-dataset counters and per-partition lag after 60 events on 2 partitions (2 bad JSON)', { timeout: 90_000 }, async () => {
    const messages = Array.from({ length: 60 }, (_, i) => {
      const id = i + 1;
      const after = { order_id: id, customer_id: id % 5, amount: '2.50', status: 'new', order_date: '2026-11-20' };
      return { key: String(id), partition: id % 2, value: id === 7 || id === 8 ? '{not json' : JSON.stringify({ op: 'c', after, source: { lsn: 1000 + id }, ts_ms: Date.now() }) };
    });
    await produce(topic, messages);
    const { file } = writeConfig({
      database: { url: db.url }, kafka: { brokers: kafkaBrokers(), groupPrefix: `metrics-${topic}` },
      datasets: { orders: { key: ['order_id'], batch: { output: 'public.b' }, stream: { output: 'public.out', source: { topic, format: 'debezium' } } } },
    });
    const port = await freePort();
    worker = startCli(['--config', file, 'stream', '--metrics-port', String(port)]);
    const samples = await eventually(async () => {
      const s = (await scrape(port)).samples;
      const lag0 = value(s, 'dualrun_stream_lag_records', { dataset: 'orders', partition: '0' });
      const lag1 = value(s, 'dualrun_stream_lag_records', { dataset: 'orders', partition: '1' });
      return value(s, 'dualrun_records_applied_total', { dataset: 'orders' }) === 58 && lag0 === 0 && lag1 === 0 ? s : undefined;
    }, 60_000, '58 applied, lag 0 on both partitions');
    expect(value(samples, 'dualrun_records_dead_lettered_total', { dataset: 'orders', stage: 'decode' })).toBe(2);
    for (const p of ['0', '1']) {
      expect(value(samples, 'dualrun_stream_lag_seconds', { dataset: 'orders', partition: p })).toBeLessThan(30);
    }
    expect(value(samples, 'dualrun_stream_watermark_age_seconds', { dataset: 'orders' })).toBeLessThan(30);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM public.out')).rows[0].n).toBe(58);
    expect(await healthz(port)).toEqual({ status: 200, body: { status: 'ok', checks: { postgres: 'ok', kafka: 'ok', worker: 'ok' } } });
  });
});

describeKafka('dualrun capture (relaying to Kafka) serves /metrics and /healthz', () => {
  let db: TestDatabase;
  let topic: string;
  beforeAll(async () => {
    db = await createTestDatabase('metrics_capture');
    await setupToolkit(db.pool);
    await db.pool.query(`${ORDERS_DDL('public.csrc')}; INSERT INTO public.csrc SELECT g, 1, 1.00, 'new', '2026-11-20' FROM generate_series(1, 5) g`);
    topic = uniqueTopic('capture');
    await createTopic(topic, 1);
  });
  afterAll(async () => { await deleteTopic(topic); await db?.drop(); });

  it('healthy with Postgres and Kafka checked; dataset state served; SIGTERM exits 0', { timeout: 60_000 }, async () => {
    const { file } = writeConfig({
      database: { url: db.url }, kafka: { brokers: kafkaBrokers() },
      datasets: { orders: { key: ['order_id'], batch: { output: 'public.b' }, stream: { output: 'public.out', source: { table: 'public.csrc', topic } } } },
    });
    const port = await freePort();
    const capture = startCli(['--config', file, 'capture', '--metrics-port', String(port)]);
    try {
      const h = await eventually(async () => { const r = await healthz(port); return r.status === 200 ? r : undefined; }, 30_000, 'healthy capture');
      expect(h.body).toEqual({ status: 'ok', checks: { postgres: 'ok', kafka: 'ok', worker: 'ok' } });
      const { samples } = await scrape(port);
      expect(value(samples, 'dualrun_dataset_stage', { dataset: 'orders', stage: 'batch' })).toBe(1);
      expect(value(samples, 'dualrun_dataset_state_scrape_ok')).toBe(1);
    } finally {
      const code = await capture.stop();
      expect(code, capture.stderr()).toBe(0);
    }
  });
});
