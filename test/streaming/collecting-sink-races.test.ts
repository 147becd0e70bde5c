/**
 * The collecting sink under adverse timing (real Postgres, no Kafka): revocation,
 * the idle timer and eviction at the sink's await points, commits held up by a
 * user's lock, sessions the server ends, data errors in a later queued transaction.
 * The oracle: once everything the sink asked for again was delivered, each partition's
 * output holds the newest good change per key, each bad record is one dead letter,
 * applied + dead counts every record once and the stored position is the last record.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { createPool, type Pool } from '../../src/core/db/connect.ts';
import { CollectingSink, COLLECTING_DEFAULTS, type CollectingOptions, type CommittedWork } from '../../streaming/collecting-sink.ts';
import type { SinkDeps } from '../../streaming/exactly-once-sink.ts';
import { mergeStatements } from '../../streaming/output-merge.ts';
import { prepareOutputTable } from '../../streaming/output-table.ts';
import { decodeDebezium } from '../../streaming/debezium-decoder.ts';
import type { BatchAck, BatchContext, SourceRecord } from '../../streaming/transport.ts';
import type { TransformModule } from '../../streaming/transform-module.ts';
import { setupToolkit } from './support.ts';

let db: TestDatabase;
let sinkPool: Pool;
let base: SinkDeps;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  db = await createTestDatabase('stream_races');
  await setupToolkit(db.pool);
  await db.pool.query(`CREATE TABLE public.r (k integer PRIMARY KEY, n numeric(12,2) NOT NULL, s varchar(5))`);
  const out = await prepareOutputTable(db.pool, parseTableRef('public.r')!, ['k']);
  base = {
    db: db.pool, dataset: 'race', key: ['k'], source: 'race-topic', merge: mergeStatements(out), committed: new Map(),
    decode: decodeDebezium, validate: () => null, transform: { transform: (r) => r, stateKey: null, handlesDeletes: false },
  };
  sinkPool = createPool(db.url, { max: COLLECTING_DEFAULTS.maxOpen });
});
afterAll(async () => { await sinkPool?.end(); await db?.drop(); });

interface Made { at: number; k: number; version: number; op: 'c' | 'u' | 'd'; row: Record<string, unknown>; bad: boolean }
function rec(m: Made): SourceRecord {
  const env = { op: m.op, before: m.op === 'd' ? m.row : null, after: m.op === 'd' ? null : m.row, source: { lsn: m.version, ts_ms: 1_790_000_000_000 + m.version } };
  return { position: { major: BigInt(m.at), minor: 0n }, key: null, value: Buffer.from(JSON.stringify(env)), timestamp: new Date(), fallbackVersion: BigInt(m.at) };
}
/** A partition's log: keys p*100 + 1..7 (several versions each), `bad` positions carry a value Postgres refuses. */
function logOf(p: number, n: number, bad: ReadonlySet<number> = new Set(), omitS: (i: number) => boolean = () => false): Made[] {
  return Array.from({ length: n }, (_, i) => {
    const k = p * 100 + (i % 7) + 1;
    const row: Record<string, unknown> = { k, n: bad.has(i) ? (i % 2 ? 'abc' : '1.005') : `${i}.00` };
    if (!omitS(i)) row.s = bad.has(i) && i % 3 === 0 ? 'toolong' : 'a';
    return { at: i, k, version: i + 1, op: i % 11 === 10 && !bad.has(i) ? 'd' : i % 3 ? 'u' : 'c', row, bad: bad.has(i) };
  });
}

const stored = async (p: number) => {
  const r = await db.pool.query<{ p: string }>(`SELECT position::text AS p FROM dualrun.stream_positions WHERE dataset = 'race' AND partition = $1`, [p]);
  return r.rows[0] ? Number(r.rows[0].p) : -1;
};
async function reset(): Promise<void> {
  await db.pool.query(`DELETE FROM public.r; DELETE FROM dualrun.stream_tombstones WHERE dataset = 'race';
    DELETE FROM dualrun.stream_positions WHERE dataset = 'race'; DELETE FROM dualrun.dead_letters WHERE dataset = 'race'`);
  base.committed.clear();
}
function sinkOf(o: Partial<CollectingOptions> = {}, transform?: TransformModule): { s: CollectingSink; committed: CommittedWork[] } {
  const committed: CommittedWork[] = [];
  const deps = transform ? { ...base, transform } : base;
  return { s: new CollectingSink(deps, { ...COLLECTING_DEFAULTS, ...o, pool: sinkPool, onCommitted: (w) => committed.push(w) }), committed };
}

/** A transport for one partition: delivers from `next`, seeks to the stored position when the sink asks. */
class Feed {
  next = 0;
  again = false;
  ctx: BatchContext = this.context();
  private context(): BatchContext { return { acknowledge: () => undefined, redeliver: () => { this.again = true; }, fail: () => undefined }; }
  /** As kafkajs's transport: a partition assigned again gets a new context. */
  newAssignment(): void { this.ctx = this.context(); }
  constructor(readonly p: number, readonly log: Made[]) {}
  async handle(s: CollectingSink, len: number, head: boolean): Promise<BatchAck | null> {
    if (this.again) { this.again = false; this.next = (await stored(this.p)) + 1; }
    const records = this.log.slice(this.next, this.next + len).map(rec);
    if (records.length === 0) return null;
    const last = this.next + records.length >= this.log.length;
    const ack = await s.handle({ partition: this.p, records, headSeenAt: head || last ? new Date() : null, lagRecords: head || last ? 0 : 1 }, this.ctx);
    if (ack.rewind) this.next = (await stored(this.p)) + 1; else this.next += records.length;
    return ack;
  }
  /** Reassigned (after a revocation): the transport starts again from the stored position. */
  async reassigned(): Promise<void> { this.newAssignment(); this.again = false; this.next = (await stored(this.p)) + 1; }
  /** Delivers the rest (and whatever the sink asks for again) until the last record is done. */
  async finish(s: CollectingSink, len = 5): Promise<void> {
    for (let guard = 0; guard < 200; guard++) {
      await s.settled();
      if (!this.again && this.next >= this.log.length) return;
      await this.handle(s, len, false);
    }
    throw new Error(`partition ${this.p} did not finish`);
  }
}

/** The oracle for one partition (see the header). */
async function expectExact(p: number, log: Made[]): Promise<void> {
  const newest = new Map<number, Made>();
  for (const m of log.filter((x) => !x.bad)) newest.set(m.k, m);
  const expected = [...newest.values()].filter((m) => m.op !== 'd').sort((a, b) => a.k - b.k).map((m) => ({ k: m.k, n: m.row.n, v: m.version }));
  const rows = (await db.pool.query(`SELECT k, n::text AS n, _dr_version::int AS v FROM public.r WHERE k BETWEEN $1 AND $2 ORDER BY k`, [p * 100, p * 100 + 99])).rows;
  expect(rows, `partition ${p} rows`).toEqual(expected);
  const dead = (await db.pool.query<{ p: number }>(`SELECT position::int AS p FROM dualrun.dead_letters WHERE dataset = 'race' AND partition = $1 ORDER BY position`, [p])).rows;
  expect(dead.map((d) => d.p), `partition ${p} dead letters`).toEqual(log.filter((m) => m.bad).map((m) => m.at));
  const pos = (await db.pool.query(`SELECT position::int AS p, records_applied::int + records_dead::int AS n FROM dualrun.stream_positions WHERE dataset = 'race' AND partition = $1`, [p])).rows;
  expect(pos, `partition ${p} position`).toEqual([{ p: log.length - 1, n: log.length }]);
}

/** A new worker gets partition 0 (a new assignment, from the stored position), takes the whole log and must end exact. */
async function finishInNewSink(log: Made[]): Promise<void> {
  const b = sinkOf().s;
  const fb = new Feed(0, log);
  await fb.reassigned();
  await fb.finish(b);
  await b.close(true);
  await expectExact(0, log);
}

describe('collecting sink under adverse timing', () => {
  it('a batch whose partition is revoked while an async transform runs is refused, not dropped behind the commit (the next batch skipped past it)', async () => {
    await reset();
    let gate: () => void = () => undefined;
    let held = false;
    const wait = new Promise<void>((r) => { gate = r; });
    const slow: TransformModule = { transform: async (row) => { if (held) await wait; return row; }, stateKey: null, handlesDeletes: false };
    const { s } = sinkOf({}, slow);
    const log = logOf(0, 30);
    const f = new Feed(0, log);
    expect(await f.handle(s, 10, false)).toEqual({ pending: true });
    held = true;
    const second = f.handle(s, 10, false);
    await sleep(50);
    s.release([0]); // a rebalance while the batch is in the transform
    held = false;
    gate();
    expect(await second).toEqual({ pending: false, rewind: true });
    // kafkajs may still hand over what it fetched before the revocation lands.
    await f.handle(s, 10, true);
    await s.settled();
    await f.reassigned();
    await f.finish(s);
    await s.close(true);
    await expectExact(0, log);
  });

  it('a partition revoked while the sink waited for it to be delivered again (after a bad value), then moved on by another worker and assigned back, is applied again (it was refused for good)', async () => {
    await reset();
    const log = logOf(0, 40, new Set([13]));
    const a = sinkOf().s;
    const fa = new Feed(0, log);
    expect(await fa.handle(a, 10, false)).toEqual({ pending: true });
    await fa.handle(a, 10, true); // its commit (at the head) finds record 13 refused: the partition must come again
    await a.settled();
    expect(fa.again).toBe(true);
    a.release([0]); // a rebalance before the redelivery
    // The new owner applies through record 29.
    const b = sinkOf().s;
    const fb = new Feed(0, log.slice(0, 30));
    await fb.finish(b);
    await b.close(true);
    expect(await stored(0)).toBe(29);
    // Assigned back: the transport starts at the stored position, with a new context.
    await fa.reassigned();
    expect((await fa.handle(a, 10, true))?.rewind).toBeFalsy();
    await a.close(true);
    await expectExact(0, log);
  });

  it.each([
    { where: 'mid-COPY', blockMerge: false },
    { where: 'mid-merge (its commit waiting for a user\'s lock)', blockMerge: true },
  ])('a session the server ends $where stops the sink with the error and nothing half-applied; a new sink goes on exactly from the stored position', { timeout: 30_000 }, async ({ blockMerge }) => {
    await reset();
    const log = logOf(0, 40);
    const a = sinkOf().s;
    const fa = new Feed(0, log);
    expect(await fa.handle(a, 10, false)).toEqual({ pending: true });
    const blocker = await db.pool.connect();
    if (blockMerge) {
      await blocker.query('BEGIN; LOCK TABLE public.r IN EXCLUSIVE MODE');
      expect(await fa.handle(a, 10, true)).toEqual({ pending: true }); // its commit waits for the lock
      await sleep(200);
    }
    const victims = await db.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle' AND query NOT ILIKE '%LOCK TABLE%'`);
    expect(victims.rowCount).toBeGreaterThan(0);
    if (blockMerge) { await blocker.query('COMMIT'); }
    blocker.release();
    await sleep(100);
    await expect((async () => { await fa.handle(a, 10, false); await a.close(true); })()).rejects.toThrow();
    await finishInNewSink(log);
  });

  it.each([true, false])('close(%s) while a commit waits for a user\'s lock on the output and a later transaction holds queued batches waits for both, and a new sink goes on exactly', { timeout: 30_000 }, async (commit) => {
    await reset();
    const log = logOf(0, 40, new Set([25]));
    const a = sinkOf({ idleMs: 60 }).s;
    const fa = new Feed(0, log);
    const blocker = await db.pool.connect();
    await blocker.query('BEGIN; LOCK TABLE public.r IN EXCLUSIVE MODE');
    expect(await fa.handle(a, 10, true)).toEqual({ pending: true }); // its commit waits for the lock
    expect(await fa.handle(a, 10, false)).toEqual({ pending: true }); // queued behind it, in the next transaction
    await fa.handle(a, 10, false); // record 25 is bad
    let closed = false;
    const closing = a.close(commit).then(() => { closed = true; });
    await sleep(300);
    expect(closed).toBe(false);
    await blocker.query('COMMIT');
    blocker.release();
    await closing.catch(() => undefined);
    await finishInNewSink(log);
  });

  it('batches taken before a begin that finds the stored position moved on by another owner are delivered again and the partition goes on (it was refused for good)', { timeout: 30_000 }, async () => {
    await reset();
    const log = logOf(0, 40);
    const a = sinkOf().s;
    const fa = new Feed(0, log);
    const blocker = await db.pool.connect();
    await blocker.query('BEGIN; LOCK TABLE public.r IN EXCLUSIVE MODE');
    expect(await fa.handle(a, 10, true)).toEqual({ pending: true }); // its commit waits for the lock, holding the partition's
    expect(await fa.handle(a, 10, false)).toEqual({ pending: true }); // the next transaction: begins after that commit
    // Another owner (a rebalance still settling) queues for the partition lock first and applies through 29.
    const b = sinkOf().s;
    const fb = new Feed(0, log.slice(0, 30));
    const other = fb.finish(b);
    await sleep(200);
    await blocker.query('COMMIT');
    blocker.release();
    await other;
    await b.close(true);
    await a.settled();
    expect(await stored(0)).toBe(29);
    expect(fa.again).toBe(true); // a's next transaction found 29 where it expected 9
    await fa.finish(a);
    await a.close(true);
    await expectExact(0, log);
  });

  it.each(['statement_timeout', 'idle_in_transaction_session_timeout'])('a role\'s %s shorter than the sink\'s idleMs and maxAgeMs no longer ends every collecting transaction (the sink stopped again at each restart)', { timeout: 30_000 }, async (setting) => {
    await reset();
    const name = new URL(db.url).pathname.slice(1);
    await db.pool.query(`ALTER DATABASE "${name}" SET ${setting} = '400ms'`);
    const pool = createPool(db.url, { max: 2 }); // new sessions: they get the setting
    try {
      const committed: CommittedWork[] = [];
      const s = new CollectingSink(base, { ...COLLECTING_DEFAULTS, pool, onCommitted: (w) => committed.push(w) });
      const log = logOf(0, 40);
      Object.assign(log[3], { row: { ...log[3].row, n: 'NaN' }, bad: true }); // refused in node: its dead letter ends the COPY, then the session idles in the transaction
      const f = new Feed(0, log);
      for (let b = 0; b < 8; b++) { expect((await f.handle(s, 3, false))?.rewind).toBeFalsy(); await sleep(120); }
      await sleep(700);
      await f.finish(s);
      await s.close(true);
      await expectExact(0, log);
      expect(committed.length).toBeGreaterThan(1);
    } finally {
      await db.pool.query(`ALTER DATABASE "${name}" RESET ${setting}`);
      await pool.end();
    }
  });

  it('generated interleavings of partitions (more than maxOpen), revocations, idle commits, a user\'s lock on the output, bad values and column-set changes apply every record exactly once', { timeout: 90_000 }, async () => {
    const op = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('batch' as const), p: fc.integer({ min: 0, max: 3 }), len: fc.integer({ min: 1, max: 8 }), head: fc.boolean() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), p: fc.integer({ min: 0, max: 3 }), late: fc.integer({ min: 0, max: 8 }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('sleep' as const), ms: fc.integer({ min: 0, max: 120 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('lock' as const), ms: fc.integer({ min: 20, max: 250 }) }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'settle' as const }) },
    );
    const partition = fc.record({ n: fc.integer({ min: 1, max: 25 }), bad: fc.uniqueArray(fc.integer({ min: 0, max: 24 }), { maxLength: 2 }), omitS: fc.integer({ min: 0, max: 4 }) });
    const input = fc.record({
      ops: fc.array(op, { minLength: 1, maxLength: 24 }), parts: fc.array(partition, { minLength: 4, maxLength: 4 }),
      maxOpen: fc.integer({ min: 1, max: 3 }), idleMs: fc.integer({ min: 30, max: 150 }), maxRows: fc.option(fc.integer({ min: 2, max: 10 }), { freq: 2 }),
    });
    // Async work for some records widens the windows between the sink's await points.
    const slow: TransformModule = { transform: async (row) => { if (Number(row.k) % 3 === 0) await sleep(3); return row; }, stateKey: null, handlesDeletes: false };
    await fc.assert(fc.asyncProperty(input, async ({ ops, parts, maxOpen, idleMs, maxRows }) => {
      await reset();
      const { s } = sinkOf({ maxOpen, idleMs, ...(maxRows === null ? {} : { maxRows }) }, slow);
      const logs = parts.map((x, p) => logOf(p, x.n, new Set(x.bad.filter((b) => b < x.n)), (i) => x.omitS > 0 && i % (x.omitS + 1) === x.omitS));
      const feeds = logs.map((log, p) => new Feed(p, log));
      let chains: Promise<unknown>[] = feeds.map(() => Promise.resolve());
      const locks: Promise<void>[] = [];
      for (const o of ops) {
        if (o.kind === 'batch') chains[o.p] = chains[o.p].then(() => feeds[o.p].handle(s, o.len, o.head));
        else if (o.kind === 'release') {
          // A batch kafkajs fetched before the revocation may still come (late > 0), then the partition comes back.
          s.release([o.p]);
          chains[o.p] = chains[o.p].then(() => (o.late > 0 ? feeds[o.p].handle(s, o.late, false) : null)).then(() => feeds[o.p].reassigned());
        }
        else if (o.kind === 'sleep') await sleep(o.ms);
        else if (o.kind === 'settle') await s.settled();
        else {
          const c = await db.pool.connect();
          await c.query('BEGIN; LOCK TABLE public.r IN EXCLUSIVE MODE');
          locks.push(sleep(o.ms).then(() => c.query('COMMIT')).then(() => c.release()));
        }
        await new Promise((r) => setImmediate(r));
      }
      await Promise.all([...chains, ...locks]);
      chains = [];
      for (const f of feeds) await f.finish(s);
      await s.close(true);
      for (const [p, log] of logs.entries()) await expectExact(p, log);
    }), { numRuns: Number(process.env.FC_RUNS ?? 25), seed: Number(process.env.FC_SEED ?? Date.now() % 1_000_000) });
  });
});

