/** The reconnect policy's decisions (pure logic: attempts are plain functions here). */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { DualrunError } from '../../../src/core/errors.ts';
import { createReconnectPolicy, lostService } from '../../../src/core/reconnect-policy.ts';
import { WorkerHealth } from '../../../src/core/worker-health.ts';

const lost = () => Object.assign(new Error('Connection terminated unexpectedly'), {});
const policy = (health = new WorkerHealth(), limitMs = 400) => createReconnectPolicy({
  what: 'stream orders', log: pino({ level: 'silent' }), health, initialBackoffMs: 10, maxBackoffMs: 20,
  limits: { postgresMaxWaitMs: limitMs, kafkaMaxWaitMs: limitMs }, targets: { postgres: 'db:5432 (database dw, user etl)', kafka: 'k1:9092' },
});
const signal = new AbortController().signal;

describe('reconnect policy', () => {
  it('classifies lost connections by service, and leaves real failures alone', () => {
    expect(lostService(lost())).toBe('postgres');
    expect(lostService(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe('postgres');
    expect(lostService(new DualrunError('DUALRUN_STREAM_FAILED', 'x', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }))).toBe('postgres');
    expect(lostService(Object.assign(new Error('The coordinator is not aware of this member'), { name: 'KafkaJSNonRetriableError' }))).toBe('kafka');
    expect(lostService(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(null);
    expect(lostService(new DualrunError('DUALRUN_CONFIG_INVALID', 'bad', { cause: Object.assign(new Error('x'), { name: 'KafkaJSError' }) }))).toBe(null);
  });

  it('retries a lost service after it had connected, and resumes', async () => {
    const health = new WorkerHealth();
    const states: string[] = [];
    health.on('change', (s) => states.push(s.state));
    let n = 0;
    const out = await policy(health).run(async (s) => {
      s.connected('postgres');
      if (++n < 3) throw lost();
      s.progressed();
      return 'done';
    }, signal);
    expect([out, n]).toEqual(['done', 3]);
    expect(states).toEqual(['reconnecting', 'healthy']);
  });

  it('does not retry a service that never answered: a start-up failure is reported at once', async () => {
    let n = 0;
    await expect(policy().run(async () => { n++; throw lost(); }, signal)).rejects.toMatchObject({ code: 'DUALRUN_DB_UNREACHABLE' });
    expect(n).toBe(1);
  });

  it('gives up after the limit with exit 3, naming the service and the limit key', async () => {
    const t0 = Date.now();
    const err = await policy(undefined, 200).run(async (s) => { s.connected('kafka'); throw Object.assign(new Error('Connection error: ECONNREFUSED'), { name: 'KafkaJSConnectionError' }); }, signal).catch((e) => e);
    expect(err).toBeInstanceOf(DualrunError);
    expect(err.code).toBe('DUALRUN_KAFKA_UNREACHABLE');
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/gave up after \d+ s without Kafka brokers k1:9092 \(limit kafka\.reconnect\.maxWait\)/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('a stop during an outage is DUALRUN_INTERRUPTED with the loss as cause (capture and schedule exited 3 with the loss); a real failure after a stop stays itself', async () => {
    const ac = new AbortController();
    const err = await policy(undefined, 60_000).run(async (s) => { s.connected('postgres'); setTimeout(() => ac.abort(new Error('SIGTERM')), 5); throw lost(); }, ac.signal).catch((e) => e);
    expect(err).toMatchObject({ code: 'DUALRUN_INTERRUPTED', details: { signal: 'SIGTERM' } });
    expect(err.message).toMatch(/stream orders: reconnecting to Postgres: stopped by SIGTERM/);
    expect(err.cause.message).toBe('Connection terminated unexpectedly');
    const bug = new Error('a bug');
    await expect(policy().run(async () => { throw bug; }, ac.signal)).rejects.toBe(bug);
  });

  it('progress resets the outage clock: separate short outages never add up to the limit', async () => {
    let n = 0;
    const out = await policy(undefined, 150).run(async (s) => {
      s.connected('postgres');
      n++;
      if (n < 12) { await new Promise((r) => setTimeout(r, 30)); if (n % 2 === 0) s.progressed(); throw lost(); }
      return n;
    }, signal);
    expect(out).toBe(12);
  });

  it('rethrows a failure that is not connection loss', async () => {
    await expect(policy().run(async (s) => { s.connected('postgres'); throw new TypeError('bug'); }, signal)).rejects.toThrow(TypeError);
  });
});
