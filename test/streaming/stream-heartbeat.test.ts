/**
 * The stream worker's heartbeat: logged on a timer whether or not records flow,
 * saying why the worker is idle; and the stall check (lag, no progress) alerting
 * `stream_stalled` once per stall.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { eventually, startCli } from '../support/long-running-cli.ts';
import { compileConfig } from '../../src/core/config/compile-config.ts';
import { createRuntime } from '../../src/core/runtime.ts';
import { startHeartbeat } from '../../streaming/stream-heartbeat.ts';
import { runStreamWorker } from '../../streaming/stream-supervisor.ts';
import { installCapture } from '../../streaming/capture/capture-triggers.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { ORDERS_DDL, setStage, setupToolkit, writeConfig } from './support.ts';

let db: TestDatabase;
let receiver: WebhookReceiver;
beforeAll(async () => {
  db = await createTestDatabase('heartbeat');
  await setupToolkit(db.pool);
  await db.pool.query(`${ORDERS_DDL('public.src')}; ${ORDERS_DDL('public.out')}`);
  receiver = await startReceiver();
});
afterAll(async () => { await receiver?.close(); await db?.drop(); });

const dataset = { key: ['order_id'], batch: { output: 'public.b' }, stream: { output: 'public.out', source: { table: 'public.src' } } };

it('a real `dualrun stream` with nothing in shadow keeps beating: idle, "no dataset in shadow or later"', { timeout: 30_000 }, async () => {
  const { file } = writeConfig({ database: { url: db.url }, datasets: { orders: dataset } });
  const worker = startCli(['--config', file, 'stream'], { env: { DUALRUN_HEARTBEAT_MS: '300' } });
  try {
    const beats = await eventually(async () => {
      const lines = worker.stderr().split('\n').filter((l) => l.includes('"msg":"heartbeat'));
      return lines.length >= 3 ? lines : undefined;
    }, 20_000, 'three heartbeats');
    const b = JSON.parse(beats[2]) as Record<string, unknown>;
    expect(b).toMatchObject({ msg: 'heartbeat: idle (no dataset in shadow or later)', idle: true, why: 'no dataset in shadow or later', rowsPerSec: 0,
      datasets: [{ dataset: 'orders', stage: 'batch', idle: true, why: 'stage batch: not streamed', stalled: false }] });
  } finally {
    expect(await worker.stop()).toBe(0);
  }
});

it('changelog lag without progress is a stall: counted, warned and alerted once; a worker catching up clears it', { timeout: 30_000 }, async () => {
  await setStage(db.pool, 'orders', 'shadow');
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l)); cb(); } });
  const config = compileConfig({
    database: { url: db.url }, datasets: { orders: dataset },
    alerts: { webhooks: [{ url: `${receiver.url}/stalls`, events: ['stream_stalled'] }] },
  }, { path: null, env: {} });
  const rt = createRuntime({ config, log: pino({ level: 'info' }, sink) });
  // 500 captured changes nobody applies: the heartbeat counts them on the changelog.
  await installCapture(db.pool, parseTableRef('public.src')!);
  await db.pool.query(`INSERT INTO public.src SELECT g, 1, 1.00, 'new', '2026-11-01' FROM generate_series(1, 500) g`);
  const beat = startHeartbeat(rt, ['orders'], { everyMs: 100, stallAfterMs: 400 });
  try {
    await eventually(async () => (lines.some((l) => l.msg === 'stream stalled: lag but no progress') ? true : undefined), 10_000, 'stall warning');
    await new Promise((r) => setTimeout(r, 500)); // more beats while still stalled: no second alert
    // A real worker catches up: progress clears the stall.
    await runStreamWorker(rt, { datasets: ['orders'], untilIdle: true });
    await eventually(async () => (lines.some((l) => l.msg === 'stream progressing again') ? true : undefined), 5_000, 'recovery');
    await eventually(async () => (lines.some((l) => l.msg === 'heartbeat: idle (caught up)') ? true : undefined), 5_000, 'caught-up heartbeat');
  } finally {
    beat.stop();
    await rt.close();
  }
  expect(lines.filter((l) => l.msg === 'stream stalled: lag but no progress')).toHaveLength(1);
  const stalledBeat = lines.find((l) => (l.datasets as { stalled: boolean }[] | undefined)?.[0]?.stalled === true);
  expect(stalledBeat).toMatchObject({ msg: 'heartbeat: idle (no progress with 500 records behind)', idle: true, lagRecords: 500, datasets: [{ dataset: 'orders', stage: 'shadow' }] });
  const alerts = receiver.requests.filter((q) => q.path === '/stalls');
  expect(alerts).toHaveLength(1);
  expect(alerts[0].body).toMatchObject({ event: 'stream_stalled', dataset: 'orders', window: null, details: { lagRecords: 500, applied: 0 } });
});
