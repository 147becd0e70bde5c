/**
 * Waiting for a partition lock (streaming/positions.ts lockPartition, frozen-holder-fence.ts)
 * on real Postgres: the wait is fair (Postgres's lock queue) and bounded, so a frozen stream
 * holder is fenced out while any other holder is waited for.
 */
import { afterAll, beforeAll, expect, it, describe } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { lockPartition, type PartitionRef } from '../../streaming/positions.ts';

let db: TestDatabase;
const ref: PartitionRef = { dataset: 'orders', source: 'topic-a', partition: 3 };
const KEY = `dualrun.stream/${ref.dataset}/${ref.source}/${ref.partition}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => { db = await createTestDatabase('plock'); });
afterAll(async () => { await db?.drop(); });

async function holder(applicationName: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: db.url, application_name: applicationName });
  c.on('error', () => undefined); // a fenced holder's connection ends under it
  await c.connect();
  await c.query('BEGIN');
  await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [KEY]);
  return c;
}

/** Runs lockPartition in a fresh transaction; resolves with the ms it took (the transaction stays open). */
async function waitForLock(frozenAfterMs?: number, beforeLock?: () => Promise<unknown>) {
  const c = await db.pool.connect();
  await c.query(`SET lock_timeout = '7s'`);
  await c.query('BEGIN');
  // What the transaction saw of the server's activity before (Postgres keeps it for the transaction).
  await c.query('SELECT count(*) FROM pg_stat_activity');
  await beforeLock?.();
  const t0 = Date.now();
  const locked = lockPartition(c, ref, { frozenAfterMs }).then(() => Date.now() - t0);
  return { c, locked, end: async () => { await c.query('ROLLBACK').catch(() => undefined); await c.query('RESET lock_timeout'); c.release(); } };
}

async function alive(c: pg.Client): Promise<boolean> {
  return c.query('SELECT 1').then(() => true, () => false);
}

describe('partition lock wait', () => {
  it('a waiter no longer starves behind a holder that takes the lock back right after each commit (polling lost every race)', async () => {
    const busy = await holder('dualrun replay orders');
    let stop = false;
    // Hold 20 ms, commit and take the lock again in the same round trip, over and over.
    const loop = (async () => {
      while (!stop) await busy.query(`SELECT pg_sleep(0.02); COMMIT; BEGIN; SELECT pg_advisory_xact_lock(hashtextextended('${KEY}', 0))`);
      await busy.query('COMMIT');
    })();
    await sleep(100);
    const w = await waitForLock();
    const ms = await Promise.race([w.locked, sleep(3_000).then(() => -1)]);
    const held = await w.c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
          AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)`, [KEY]).catch(() => ({ rows: [{ n: -1 }] }));
    await w.end();
    stop = true;
    await loop;
    await busy.end();
    expect(ms, 'the waiter did not get the lock within 3 s').toBeGreaterThanOrEqual(0);
    expect(ms).toBeLessThan(1_000);
    expect(held.rows[0].n).toBe(1);
  });

  it('a frozen stream worker holding the lock (idle in its transaction) is terminated after the threshold and the waiter gets the lock', async () => {
    const frozen = await holder(`dualrun stream ${ref.dataset}`);
    const w = await waitForLock(800);
    const ms = await Promise.race([w.locked, sleep(5_000).then(() => -1)]);
    const lockTimeout = ms >= 0 ? (await w.c.query<{ v: string }>(`SELECT current_setting('lock_timeout') AS v`)).rows[0].v : null;
    await w.end();
    const frozenAlive = await alive(frozen);
    await frozen.end().catch(() => undefined);
    expect(ms, 'the waiter did not get the lock within 5 s').toBeGreaterThanOrEqual(800);
    expect(ms).toBeLessThan(3_000);
    expect(frozenAlive).toBe(false);
    expect(lockTimeout, 'the session lock_timeout is as it was').toBe('7s');
  });

  it('the fence no longer terminates every active backend of the server (the waiter itself, a bystander\'s query)', async () => {
    const frozen = await holder(`dualrun stream ${ref.dataset}`);
    const bystander = new pg.Client({ connectionString: db.url, application_name: 'someone else' });
    await bystander.connect();
    const query = bystander.query('SELECT pg_sleep(1.5)').then(() => 'done', (e: Error) => e.message);
    const w = await waitForLock(500);
    const outcome = await Promise.race([w.locked.then(() => 'locked', (e: Error) => e.message), sleep(4_000).then(() => 'timed out')]);
    await w.end();
    await frozen.end().catch(() => undefined);
    expect(await query).toBe('done');
    await bystander.end();
    expect(outcome).toBe('locked');
  });

  it.each([
    ['a replay of the dataset, idle in its transaction', 'dualrun replay orders', 'idle'],
    ['another dataset\'s stream worker', 'dualrun stream orders_eu', 'idle'],
    ['a stream worker of the dataset busy in a statement (not waiting on its client)', 'dualrun stream orders', 'busy'],
    // Idle before each short statement only briefly, but long idle when the waiter's transaction
    // first looked at the activity: Postgres keeps that look for the transaction, and a stale one made it look frozen.
    ['a live stream worker of the dataset running short statements, idle when the waiter first looked', 'dualrun stream orders', 'chatty'],
  ] as const)('a holder that is not frozen is waited for, never terminated: %s', async (_what, applicationName, mode) => {
    const h = await holder(applicationName);
    const work: { done?: Promise<unknown> } = {};
    let stop = false;
    if (mode === 'chatty') await sleep(600); // idle in its transaction past the threshold before the waiter looks
    const w = await waitForLock(500, async () => {
      if (mode === 'busy') work.done = h.query('SELECT pg_sleep(1.8)');
      if (mode === 'chatty') work.done = (async () => { while (!stop) { await h.query('SELECT 1'); await sleep(100); } })();
      await sleep(50);
    });
    await sleep(1_100); // two bounded waits, each followed by the fence
    stop = true;
    await work.done?.catch(() => undefined);
    const stillAlive = await alive(h);
    await h.query('COMMIT').catch(() => undefined);
    const ms = await Promise.race([w.locked, sleep(3_000).then(() => -1)]);
    await w.end();
    await h.end().catch(() => undefined);
    expect(stillAlive, 'the holder was terminated').toBe(true);
    expect(ms, 'the waiter did not get the lock once the holder committed').toBeGreaterThanOrEqual(1_100);
  });
});
