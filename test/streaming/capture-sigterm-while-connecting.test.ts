/**
 * `dualrun capture` (relaying to Kafka) sent SIGTERM while its relay was connecting
 * exited 3 with `DUALRUN_KAFKA_UNREACHABLE: ... no answer within 30 s`, though the
 * broker was up: the connect loop (withConnectDeadline) ended on the abort and
 * reported that as unreachable. Under load the metrics test's SIGTERM hit that
 * window in 2 of 5 runs. A stop while connecting is now a clean stop (exit 0), at
 * once even when the broker never answers (it used to hang to the CLI's 4 s stop
 * deadline: exit 143).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { startCli } from '../support/long-running-cli.ts';
import { blackholes } from '../support/blackhole.ts';
import { ORDERS_DDL, setupToolkit, writeConfig } from './support.ts';
import { createTopic, deleteTopic, uniqueTopic } from './kafka-support.ts';
import { withConnectDeadline } from '../../streaming/kafka-client.ts';
import { DualrunError } from '../../src/core/errors.ts';

let db: TestDatabase;
const holes = blackholes();
beforeAll(async () => {
  db = await createTestDatabase('capture_sigterm_connecting');
  await setupToolkit(db.pool);
  await db.pool.query(`${ORDERS_DDL('public.csrc')}; INSERT INTO public.csrc SELECT g, 1, 1.00, 'new', '2026-11-20' FROM generate_series(1, 5) g`);
});
afterAll(async () => { holes.close(); await db?.drop(); });

function captureConfig(brokers: string[], topic: string) {
  return writeConfig({
    database: { url: db.url }, kafka: { brokers, connectTimeout: '30s' },
    datasets: { orders: { key: ['order_id'], batch: { output: 'public.b' }, stream: { output: 'public.out', source: { table: 'public.csrc', topic } } } },
  });
}

/** Starts `dualrun capture` and sends SIGTERM `delayMs` after it logs that capture is installed (the relay then connects). */
async function sigtermAfterInstall(file: string, delayMs: number): Promise<{ code: number | null; stderr: string; stopMs: number }> {
  const c = startCli(['--config', file, 'capture']);
  let seen = '';
  let sentAt = 0;
  c.child.stderr!.on('data', (d) => {
    seen += d;
    if (!sentAt && /"msg":"capture (already )?installed"/.test(seen)) { sentAt = Date.now(); setTimeout(() => c.child.kill('SIGTERM'), delayMs); }
  });
  const code = await new Promise<number | null>((r) => {
    const guard = setTimeout(() => c.child.kill('SIGKILL'), 30_000);
    c.child.on('close', (x) => { clearTimeout(guard); r(x); });
  });
  return { code, stderr: c.stderr(), stopMs: Date.now() - sentAt - delayMs };
}

describeKafka('SIGTERM while the capture relay connects to Kafka', () => {
  let topic: string;
  beforeAll(async () => { topic = uniqueTopic('capsig'); await createTopic(topic, 1); });
  afterAll(async () => { await deleteTopic(topic); });

  it('a reachable broker: exit 0 and "relay stopped", whatever millisecond of the connect the signal hits', { timeout: 120_000 }, async () => {
    const { file } = captureConfig(kafkaBrokers(), topic);
    for (const delay of [0, 0, 2, 5, 10, 20]) {
      const r = await sigtermAfterInstall(file, delay);
      expect({ delay, code: r.code, error: r.stderr.match(/dualrun: \S+.*/)?.[0] ?? null }).toEqual({ delay, code: 0, error: null });
      expect(r.stderr).toContain('"msg":"relay stopped"');
    }
  });

  it('a stop is DUALRUN_INTERRUPTED, never DUALRUN_KAFKA_UNREACHABLE, for a live broker', async () => {
    const ac = new AbortController();
    ac.abort(new Error('SIGTERM'));
    const e = await withConnectDeadline(kafkaBrokers(), 'probe', 30_000, async () => 'connected', ac.signal).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DualrunError);
    expect((e as DualrunError).code).toBe('DUALRUN_INTERRUPTED');
    expect((e as DualrunError).message).toMatch(/stopped by SIGTERM/);
  });
});

describe('SIGTERM while the capture relay waits on a broker that never answers', () => {
  it('exit 0 at once, not after the 4 s stop deadline (143)', { timeout: 60_000 }, async () => {
    const { file } = captureConfig([`127.0.0.1:${await holes.silent()}`], 'nowhere');
    const r = await sigtermAfterInstall(file, 300);
    expect({ code: r.code, error: r.stderr.match(/dualrun: \S+.*/)?.[0] ?? null }).toEqual({ code: 0, error: null });
    expect(r.stopMs).toBeLessThan(3000);
  });

  it('the connect step is abandoned when the stop comes mid-step', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('SIGINT')), 200);
    const t0 = Date.now();
    const e = await withConnectDeadline([`127.0.0.1:${await holes.silent()}`], 'probe', 30_000, () => new Promise<never>(() => undefined), ac.signal).catch((x: unknown) => x);
    expect((e as DualrunError).code).toBe('DUALRUN_INTERRUPTED');
    expect((e as DualrunError).details.signal).toBe('SIGINT');
    expect(Date.now() - t0).toBeLessThan(1500);
  });
});
