/**
 * The collecting sink (issue 13): a Kafka backlog is applied in one transaction per
 * partition that collects many batches. Checked against real Postgres (and, for the
 * rewind, a real broker): generated batch sequences with bad records end exactly as
 * the same records without the bad ones (each bad one an `apply` dead letter, once);
 * nothing of an open transaction is visible or committed; a second worker on the
 * same partition waits for it and skips what it committed; an idle transaction
 * commits by itself.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { describeKafka, kafkaBrokers } from '../support/kafka.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { createPool, type Pool } from '../../src/core/db/connect.ts';
import { CollectingSink, COLLECTING_DEFAULTS, type CommittedWork } from '../../streaming/collecting-sink.ts';
import type { SinkDeps } from '../../streaming/exactly-once-sink.ts';
import { mergeStatements } from '../../streaming/output-merge.ts';
import { prepareOutputTable } from '../../streaming/output-table.ts';
import { decodeDebezium } from '../../streaming/debezium-decoder.ts';
import { runStreamWorker } from '../../streaming/stream-supervisor.ts';
import type { BatchContext, SourceBatch, SourceRecord } from '../../streaming/transport.ts';
import { createTopic, deleteTopic, produce, uniqueTopic } from './kafka-support.ts';
import { ordersStreamDatabase, setStage, setupToolkit, testRuntime, writeConfig } from './support.ts';

let db: TestDatabase;
let sinkPool: Pool;
let deps: SinkDeps;

beforeAll(async () => {
  db = await createTestDatabase('stream_collect');
  await setupToolkit(db.pool);
  await db.pool.query(`CREATE TABLE public.c (k integer PRIMARY KEY, n numeric(12,2) NOT NULL, s varchar(5))`);
  const out = await prepareOutputTable(db.pool, parseTableRef('public.c')!, ['k']);
  deps = {
    db: db.pool, dataset: 'collect', key: ['k'], source: 'collect-topic', merge: mergeStatements(out), committed: new Map(),
    decode: decodeDebezium, validate: () => null, transform: { transform: (r) => r, stateKey: null, handlesDeletes: false },
  };
  sinkPool = createPool(db.url, { max: COLLECTING_DEFAULTS.maxOpen });
});
afterAll(async () => { await sinkPool?.end(); await db?.drop(); });

interface Row { k: number; n: unknown; s: unknown }
function rec(at: number, op: 'c' | 'u' | 'd', version: number, row: Row): SourceRecord {
  const env = { op, before: op === 'd' ? row : null, after: op === 'd' ? null : row, source: { lsn: version, ts_ms: 1_790_000_000_000 + version } };
  return { position: { major: BigInt(at), minor: 0n }, key: null, value: Buffer.from(JSON.stringify(env)), timestamp: new Date(), fallbackVersion: BigInt(at) };
}
const batchOf = (records: SourceRecord[], last: boolean): SourceBatch => ({ partition: 0, records, headSeenAt: last ? new Date() : null, lagRecords: last ? 0 : 1 });
const sink = (committed: CommittedWork[], o: { idleMs?: number; maxRows?: number } = {}) =>
  new CollectingSink(deps, { ...COLLECTING_DEFAULTS, ...o, pool: sinkPool, onCommitted: (w) => committed.push(w) });
const stored = async () => {
  const r = await db.pool.query<{ p: string }>(`SELECT position::text AS p FROM dualrun.stream_positions WHERE dataset = 'collect' AND partition = 0`);
  return r.rows[0] ? Number(r.rows[0].p) : -1;
};
async function reset(): Promise<void> {
  await db.pool.query(`DELETE FROM public.c; DELETE FROM dualrun.stream_tombstones WHERE dataset = 'collect';
    DELETE FROM dualrun.stream_positions WHERE dataset = 'collect'; DELETE FROM dualrun.dead_letters WHERE dataset = 'collect'`);
  deps.committed.clear();
}

/**
 * Delivers the log as a transport would: batch after batch, and after a rewind again
 * from the stored position + 1 (cut at the same boundaries), until the last batch is done.
 */
async function deliver(s: CollectingSink, log: SourceRecord[], cuts: number[], settleEach = false): Promise<number> {
  let rewinds = 0;
  let from = 0;
  let again = false;
  const ctx: BatchContext = { acknowledge: () => undefined, redeliver: () => { again = true; }, fail: (e) => { throw e; } };
  for (let guard = 0; guard < 100; guard++) {
    let rewound = false;
    let i = 0;
    for (; i < cuts.length - 1 && !again; i++) {
      const records = log.slice(cuts[i], cuts[i + 1]).filter((r) => Number(r.position.major) >= from);
      if (records.length === 0) continue;
      const ack = await s.handle(batchOf(records, i === cuts.length - 2), ctx);
      if (ack.rewind) { rewound = true; i++; break; }
      // Let a refusal in a background COPY or commit surface before the next batch.
      if (settleEach) await s.settled();
    }
    // As kafkajs may: the batch after the refused one was fetched already and comes before
    // the seek. It must be refused too, or the records before it would be skipped.
    if ((rewound || again) && i < cuts.length - 1 && cuts[i] >= from) {
      expect(await s.handle(batchOf(log.slice(cuts[i], cuts[i + 1]), i === cuts.length - 2), ctx)).toEqual({ pending: false, rewind: true });
    }
    // A commit that failed after its batch was handled asks for the partition again.
    await s.settled();
    if (!rewound && !again) return rewinds;
    rewinds++;
    again = false;
    from = (await stored()) + 1;
  }
  throw new Error('did not finish after 100 rewinds');
}

describe('collecting sink', () => {
  it('generated batch sequences with bad records end exactly as the same records without them, each bad one a dead letter once', { timeout: 120_000 }, async () => {
    const BAD: Record<string, (r: Row) => Row> = {
      numericText: (r) => ({ ...r, n: 'abc' }), // refused by COPY itself
      tooLong: (r) => ({ ...r, s: 'toolong' }), // refused by the merge (22001)
      scale: (r) => ({ ...r, n: '1.005' }), // refused by the modifier check
      nanWord: (r) => ({ ...r, n: 'NaN' }), // refused in node before Postgres
    };
    const event = fc.record({
      k: fc.integer({ min: 1, max: 4 }), op: fc.constantFrom<'c' | 'u' | 'd'>('c', 'u', 'u', 'd'), v: fc.integer({ min: 1, max: 5 }),
      cents: fc.integer({ min: 0, max: 99_999 }), s: fc.constantFrom<string | null>('a', 'ccccc', null),
      bad: fc.option(fc.constantFrom(...Object.keys(BAD)), { freq: 4 }), tie: fc.boolean(),
    });
    // Half the runs have no bad record at all, so whole transactions commit (and ties are decided by the merge).
    // A small maxRows hands transactions to their commit mid-stream: the next batches go to the next transaction at once.
    const input = fc.record({
      events: fc.array(event, { minLength: 1, maxLength: 30 }), cuts: fc.array(fc.integer({ min: 1, max: 29 }), { maxLength: 5 }), poison: fc.boolean(),
      maxRows: fc.option(fc.integer({ min: 1, max: 12 }), { freq: 2 }), settleEach: fc.boolean(),
    });
    await fc.assert(fc.asyncProperty(input, async ({ events, cuts, poison, maxRows, settleEach }) => {
      await reset();
      let seq = 0;
      const log: SourceRecord[] = [];
      const made: { version: number; op: string; row: Row; bad: boolean }[] = [];
      for (const e of events) {
        // `tie`: a version another change of the key may carry too; then the first change stays (a version is applied once).
        const version = e.tie ? e.v * 100 : e.v * 100 + ++seq;
        const row: Row = { k: e.k, n: `${Math.floor(e.cents / 100)}.${String(e.cents % 100).padStart(2, '0')}`, s: e.s };
        const bad = poison && e.bad !== null;
        const op = bad && e.op === 'd' ? 'u' : e.op;
        log.push(rec(log.length, op, version, bad ? BAD[e.bad!](row) : row));
        made.push({ version, op, row, bad });
      }
      const bounds = [...new Set([0, ...cuts.filter((c) => c < log.length), log.length])].sort((a, b) => a - b);
      const committed: CommittedWork[] = [];
      const s = sink(committed, maxRows === null ? {} : { maxRows });
      await deliver(s, log, bounds, settleEach);
      await s.close(true);

      const newest = new Map<number, (typeof made)[number]>();
      // On a tie the first stays, except that an upsert wins over a delete (docs/streaming.md, "Equal versions").
      for (const x of made.filter((y) => !y.bad)) {
        const cur = newest.get(x.row.k);
        if (!cur || cur.version < x.version || (cur.version === x.version && cur.op === 'd' && x.op !== 'd')) newest.set(x.row.k, x);
      }
      const expected = [...newest.values()].filter((x) => x.op !== 'd').sort((a, b) => a.row.k - b.row.k).map((x) => ({ k: x.row.k, n: x.row.n, s: x.row.s, v: x.version }));
      const rows = (await db.pool.query(`SELECT k, n::text AS n, s, _dr_version::int AS v FROM public.c ORDER BY k`)).rows;
      expect(rows).toEqual(expected);
      const dead = (await db.pool.query<{ p: number; stage: string }>(`SELECT position::int AS p, stage FROM dualrun.dead_letters WHERE dataset = 'collect' ORDER BY position`)).rows;
      const badAt = made.map((x, i) => (x.bad ? i : -1)).filter((i) => i >= 0);
      expect(dead.map((d) => d.p)).toEqual(badAt);
      expect(new Set(dead.map((d) => d.stage))).toEqual(new Set(badAt.length ? ['apply'] : []));
      expect(await stored()).toBe(log.length - 1);
      // What the committed work reports counts every record once.
      expect(committed.reduce((a, w) => a + w.outcome.applied, 0)).toBe(log.length - badAt.length);
      expect(committed.reduce((a, w) => a + w.outcome.dead, 0)).toBe(badAt.length);
    }), { numRuns: 150, seed: Number(process.env.FC_SEED ?? Date.now() % 1_000_000) });
  });

  it('an open transaction shows nothing; a second worker on the partition waits for its commit and skips what it applied', async () => {
    await reset();
    const log = Array.from({ length: 30 }, (_, i) => rec(i, 'c', i + 1, { k: (i % 10) + 1, n: `${i}.00`, s: 'a' }));
    const first: CommittedWork[] = [];
    const a = sink(first);
    expect(await a.handle(batchOf(log.slice(0, 10), false))).toEqual({ pending: true });
    expect(await a.handle(batchOf(log.slice(10, 20), false))).toEqual({ pending: true });
    expect((await db.pool.query('SELECT count(*)::int AS n FROM public.c')).rows[0].n).toBe(0);
    expect(await stored()).toBe(-1);
    // A stale owner (a rebalance) gets the first batch again: it must wait for the lock.
    const second: CommittedWork[] = [];
    const b = sink(second);
    let bDone = false;
    const bAck = b.handle(batchOf(log.slice(0, 10), false)).then((x) => { bDone = true; return x; });
    await new Promise((r) => setTimeout(r, 300));
    expect(bDone).toBe(false);
    // The head batch commits right after it is handled (in the background): then the stale owner goes on.
    expect(await a.handle(batchOf(log.slice(20), true))).toEqual({ pending: true });
    await a.settled();
    expect(await stored()).toBe(29);
    expect(await bAck).toEqual({ pending: true });
    await b.close(true);
    await a.close(true);
    expect(await stored()).toBe(29);
    expect(first.reduce((n, w) => n + w.outcome.applied, 0)).toBe(30);
    expect(second.reduce((n, w) => n + w.outcome.applied, 0)).toBe(0);
    const rows = (await db.pool.query('SELECT k, n::text AS n FROM public.c ORDER BY k')).rows;
    expect(rows).toEqual(Array.from({ length: 10 }, (_, i) => ({ k: i + 1, n: `${20 + i}.00` })));
  });

  it('a change a newer one of its key supersedes in the transaction is still checked: its bad value is a dead letter', async () => {
    await reset();
    // 1.005 passes the COPY (numeric) and only the modifier check refuses it; nothing writes it.
    const log = [rec(0, 'c', 1, { k: 1, n: '1.005', s: 'a' }), rec(1, 'u', 2, { k: 1, n: '2.00', s: 'a' }), rec(2, 'c', 3, { k: 2, n: '3.00', s: null })];
    const s = sink([]);
    await deliver(s, log, [0, 2, 3]);
    await s.close(true);
    expect((await db.pool.query(`SELECT k, n::text AS n FROM public.c ORDER BY k`)).rows).toEqual([{ k: 1, n: '2.00' }, { k: 2, n: '3.00' }]);
    expect((await db.pool.query(`SELECT position::int AS p, stage FROM dualrun.dead_letters WHERE dataset = 'collect'`)).rows).toEqual([{ p: 0, stage: 'apply' }]);
    expect(await stored()).toBe(2);
  });

  it('a first batch that waited for the partition lock longer than idleMs is applied (the idle commit took its transaction while it began: the batch was dropped and the next one skipped past it)', async () => {
    await reset();
    const committed: CommittedWork[] = [];
    const s = sink(committed, { idleMs: 100 });
    const log = Array.from({ length: 20 }, (_, i) => rec(i, 'c', i + 1, { k: i + 1, n: '1.00', s: null }));
    const holder = await db.pool.connect(); // a replay, a previous owner: holds the lock for several idle periods
    await holder.query(`BEGIN; SELECT pg_advisory_xact_lock(hashtextextended('dualrun.stream/collect/collect-topic/0', 0))`);
    const first = s.handle(batchOf(log.slice(0, 10), false));
    await new Promise((r) => setTimeout(r, 600));
    await holder.query('COMMIT');
    holder.release();
    expect(await first).toEqual({ pending: true });
    expect(await s.handle(batchOf(log.slice(10), true))).toEqual({ pending: true });
    await s.close(true);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM public.c')).rows[0].n).toBe(20);
    expect(await stored()).toBe(19);
    expect(committed.reduce((n, w) => n + w.outcome.applied, 0)).toBe(20);
  });

  it('a first batch whose partition is revoked while it waits for the lock is refused (delivered again), not dropped as committed', async () => {
    await reset();
    const s = sink([]);
    const log = Array.from({ length: 10 }, (_, i) => rec(i, 'c', i + 1, { k: i + 1, n: '1.00', s: null }));
    const holder = await db.pool.connect();
    await holder.query(`BEGIN; SELECT pg_advisory_xact_lock(hashtextextended('dualrun.stream/collect/collect-topic/0', 0))`);
    const first = s.handle(batchOf(log, false));
    await new Promise((r) => setTimeout(r, 200));
    s.release([0]);
    await holder.query('COMMIT');
    holder.release();
    expect(await first).toEqual({ pending: false, rewind: true });
    await s.close(true);
    expect(await stored()).toBe(-1);
  });

  it('a batch that waited behind more than 1 MiB of queued COPY text for longer than idleMs is applied (the idle commit took the transaction it waited for, and the batch was dropped behind the commit)', { timeout: 60_000 }, async () => {
    await reset();
    const committed: CommittedWork[] = [];
    const s = sink(committed, { idleMs: 100 });
    const n = 60_000; // ~1.2 MiB of COPY text a batch
    const log = Array.from({ length: 4 * n }, (_, i) => rec(i, 'c', i + 1, { k: i + 1, n: '1.00', s: 'abc' }));
    const blocker = await db.pool.connect(); // a user's transaction holding the output: the commits wait
    await blocker.query('BEGIN; LOCK TABLE public.c IN EXCLUSIVE MODE');
    // At the head each batch commits in the background: the second queues its COPY behind the
    // first's blocked commit, the third waits for that queue in a fresh transaction.
    for (let b = 0; b < 2; b++) expect(await s.handle(batchOf(log.slice(b * n, (b + 1) * n), true))).toEqual({ pending: true });
    const third = s.handle(batchOf(log.slice(2 * n, 3 * n), true));
    await new Promise((r) => setTimeout(r, 500));
    await blocker.query('COMMIT');
    blocker.release();
    await third;
    await s.handle(batchOf(log.slice(3 * n), true));
    await s.close(true);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM public.c')).rows[0].n).toBe(4 * n);
    expect(await stored()).toBe(4 * n - 1);
  });

  it('a transaction that gets no batch for idleMs commits by itself (a revoked or stalled partition holds no lock)', async () => {
    await reset();
    const committed: CommittedWork[] = [];
    const s = sink(committed, { idleMs: 200 });
    const log = Array.from({ length: 5 }, (_, i) => rec(i, 'c', i + 1, { k: i + 1, n: '1.00', s: null }));
    expect(await s.handle(batchOf(log, false))).toEqual({ pending: true });
    for (let i = 0; i < 50 && committed.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(committed.map((w) => w.outcome.applied)).toEqual([5]);
    expect(await stored()).toBe(4);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM public.c')).rows[0].n).toBe(5);
    await s.close(true);
  });
});

describeKafka('collecting sink through Kafka', () => {
  const made: { db: TestDatabase; topic: string }[] = [];
  afterAll(async () => { for (const m of made) { await deleteTopic(m.topic); await m.db.drop(); } });

  // 'abc' fails the COPY while its batch is handled; '1.005' passes the COPY and fails the
  // merge when the transaction commits at the head, after its batch was handled: then
  // nothing else would come for the partition, and the sink must ask for it again.
  it.each([
    { amount: 'abc', at: 15_000, where: 'in the COPY of a later batch' },
    { amount: '1.005', at: 19_990, where: 'in the merge of the commit at the head' },
  ])('a bad record ($where) rolls its transaction back; the partition is delivered again and only that record is a dead letter', { timeout: 60_000 }, async ({ amount: badAmount, at: BAD_AT }) => {
    const kdb = await ordersStreamDatabase('stream_collect_kafka');
    const topic = uniqueTopic('collect');
    made.push({ db: kdb, topic });
    await createTopic(topic, 1);
    // ~2 MB: several fetches, so the bad record sits in a later batch of the transaction.
    const N = 20_000;
    const messages = Array.from({ length: N }, (_, i) => {
      const id = (i % 5000) + 1;
      const amount = i === BAD_AT ? badAmount : `${i}.00`;
      return { key: JSON.stringify({ order_id: id }), value: JSON.stringify({ order_id: id, customer_id: i, amount, status: `s${i % 3}`, order_date: '2026-11-20', __lsn: i + 1, pad: 'x'.repeat(60) }) };
    });
    await produce(topic, messages);
    const { config } = writeConfig({
      database: { url: kdb.url }, kafka: { brokers: kafkaBrokers(), groupPrefix: `g${topic.slice(-8)}` },
      datasets: { orders: { key: ['order_id'], batch: { output: 'analytics.orders_batch' }, stream: { output: 'analytics.orders_stream', source: { topic, format: 'json' } } } },
    });
    await setStage(kdb.pool, 'orders', 'shadow');
    const rt = testRuntime(config);
    const result = await runStreamWorker(rt, { datasets: ['orders'], untilIdle: true });
    await rt.close();
    expect(result.ran).toHaveLength(1);
    const dead = (await kdb.pool.query<{ p: string; stage: string }>(`SELECT position::text AS p, stage FROM dualrun.dead_letters WHERE dataset = 'orders'`)).rows;
    expect(dead).toEqual([{ p: String(BAD_AT), stage: 'apply' }]);
    const pos = (await kdb.pool.query(`SELECT position::int AS p, records_applied::int AS a, records_dead::int AS d FROM dualrun.stream_positions WHERE dataset = 'orders'`)).rows;
    expect(pos).toEqual([{ p: N - 1, a: N - 1, d: 1 }]);
    // Every key holds its newest good version (the bad record's key keeps its newest other one).
    const wrong = await kdb.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM analytics.orders_stream o
      FULL JOIN (SELECT DISTINCT ON (id) id, i FROM (SELECT (g % 5000) + 1 AS id, g AS i FROM generate_series(0, ${N - 1}) g WHERE g <> ${BAD_AT}) x ORDER BY id, i DESC) e
        ON e.id = o.order_id WHERE o.order_id IS NULL OR e.id IS NULL OR o.customer_id <> e.i OR o.amount <> e.i`);
    expect(wrong.rows[0].n).toBe(0);
  });
});
