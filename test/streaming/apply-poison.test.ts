/**
 * Poison at the apply stage (issue 16.1): the outcome of a batch with bad records
 * is the outcome of the same batch without them. Every other record — earlier and
 * later changes of the same key included — applies in source order; each bad record
 * is an `apply` dead letter with the database's reason and its raw payload; the
 * counts are honest. Checked on a minimal batch and on 1,000 generated batches
 * against an oracle computed independently in JS (real Postgres, one database).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { applyBatch, type SinkDeps } from '../../streaming/exactly-once-sink.ts';
import { mergeStatements } from '../../streaming/output-merge.ts';
import { prepareOutputTable } from '../../streaming/output-table.ts';
import { decodeDebezium } from '../../streaming/debezium-decoder.ts';
import { decodePlainJson } from '../../streaming/json-decoder.ts';
import { loadTransform } from '../../streaming/transform-module.ts';
import type { SourceRecord } from '../../streaming/transport.ts';
import { FIXTURES, setupToolkit } from './support.ts';

let db: TestDatabase;
let deps: SinkDeps;
let offset = 0;

beforeAll(async () => {
  db = await createTestDatabase('stream_poison');
  await setupToolkit(db.pool);
  await db.pool.query(`CREATE TABLE public.p (k integer PRIMARY KEY, n numeric(12,2) NOT NULL, s varchar(5), d date)`);
  const out = await prepareOutputTable(db.pool, parseTableRef('public.p')!, ['k']);
  deps = {
    db: db.pool, dataset: 'poison', key: ['k'], source: 'poison-topic', merge: mergeStatements(out), committed: new Map(),
    decode: decodeDebezium, validate: () => null, transform: { transform: (r) => r, stateKey: null, handlesDeletes: false },
  };
});
afterAll(async () => { await db?.drop(); });

interface Row { k: number; n: unknown; s: unknown; d: unknown }
interface Ev { k: number; op: 'c' | 'u' | 'd'; v: number; cents: number; s: string | null; d: string | null; bad: string | null }
function rec(op: 'c' | 'u' | 'd', version: number, row: Row): SourceRecord {
  const at = offset++;
  const env = { op, before: op === 'd' ? row : null, after: op === 'd' ? null : row, source: { lsn: version, ts_ms: 1_790_000_000_000 + version } };
  return { position: { major: BigInt(at), minor: 0n }, key: null, value: Buffer.from(JSON.stringify(env)), timestamp: new Date(), fallbackVersion: BigInt(at) };
}
const apply = (records: SourceRecord[]) => applyBatch(deps, { partition: 0, records, headSeenAt: null, lagRecords: null });
const table = async () => (await db.pool.query(`SELECT k, n::text AS n, s, d::text AS d, _dr_version::int AS v FROM public.p ORDER BY k`)).rows;
/** The table and the dead letters since a position, in one round trip (the generated test runs 1,000 times). */
const tableAndDead = async (from: number) => (await db.pool.query(
  `SELECT (SELECT coalesce(json_agg(json_build_object('k', k, 'n', n::text, 's', s, 'd', d::text, 'v', _dr_version::int) ORDER BY k), '[]') FROM public.p) AS rows,
          (SELECT coalesce(json_agg(json_build_object('position', position::int, 'stage', stage, 'reason', reason, 'payload', convert_from(payload, 'UTF8')) ORDER BY position), '[]')
             FROM dualrun.dead_letters WHERE dataset = 'poison' AND position >= $1) AS dead`, [from])).rows[0] as { rows: unknown[]; dead: { position: number; stage: string; reason: string; payload: string }[] };
const deadSince = async (from: number) => (await db.pool.query(
  `SELECT position::int AS position, stage, reason, error->>'code' AS code, convert_from(payload, 'UTF8') AS payload
     FROM dualrun.dead_letters WHERE dataset = 'poison' AND position >= $1 ORDER BY position`, [from])).rows;
async function reset(): Promise<void> {
  await db.pool.query(`DELETE FROM public.p; DELETE FROM dualrun.stream_tombstones WHERE dataset = 'poison'`);
}

describe('apply-stage poison', () => {
  it('regression: a bad record no longer drops the valid earlier update, insert and delete of its key in the same batch', async () => {
    await reset();
    await apply([rec('c', 1, { k: 1, n: '1.00', s: 'a', d: null }), rec('c', 2, { k: 3, n: '3.00', s: 'c', d: null })]);
    const from = offset;
    const o = await apply([
      rec('u', 10, { k: 1, n: '10.00', s: 'a', d: null }), // valid update to version 10 ...
      rec('u', 11, { k: 1, n: 'not-a-number', s: 'a', d: null }), // ... then a bad one for the same key
      rec('c', 12, { k: 2, n: '2.00', s: 'b', d: null }), // valid insert ...
      rec('u', 13, { k: 2, n: null, s: 'b', d: null }), // ... then a NOT NULL violation
      rec('d', 14, { k: 3, n: '3.00', s: 'c', d: null }), // valid delete ...
      rec('c', 15, { k: 3, n: '3.00', s: 'toolong', d: null }), // ... then an over-long value
    ]);
    expect(o).toMatchObject({ fresh: 6, applied: 3, dead: 3 });
    expect(await table()).toEqual([
      { k: 1, n: '10.00', s: 'a', d: null, v: 10 },
      { k: 2, n: '2.00', s: 'b', d: null, v: 12 },
    ]);
    const dead = await deadSince(from);
    expect(dead.map((d) => [d.position - from, d.stage, d.code])).toEqual([[1, 'apply', '22P02'], [3, 'apply', '23502'], [5, 'apply', '22001']]);
    for (const d of dead) expect(d.reason).toMatch(/SQLSTATE/);
    expect(dead[2].payload).toContain('toolong');
  });

  it('regression: a stateful transform keeps no state from a record dead-lettered at the apply stage', async () => {
    await db.pool.query('CREATE TABLE public.counts (customer_id integer PRIMARY KEY, events integer NOT NULL, total_cents bigint NOT NULL)');
    const out = await prepareOutputTable(db.pool, parseTableRef('public.counts')!, ['customer_id']);
    const transform = await loadTransform(`${FIXTURES}/customer-counts.ts`);
    const own: SinkDeps = { ...deps, dataset: 'poison_counts', key: ['customer_id'], source: 'poison-counts', merge: mergeStatements(out, { guardVersions: false }), committed: new Map(), decode: decodePlainJson, transform };
    const order = (id: number, amount: string) => ({ position: { major: BigInt(offset), minor: 0n }, key: null, value: Buffer.from(JSON.stringify({ order_id: id, customer_id: 1, amount })), timestamp: new Date(), fallbackVersion: BigInt(offset++) });
    // 'abc' makes the transform emit total_cents NaN, a value that is not data: the record is refused at apply.
    const o = await applyBatch(own, { partition: 0, headSeenAt: null, lagRecords: null, records: [order(1, '1.00'), order(2, 'abc'), order(3, '2.00')] });
    expect(o).toMatchObject({ applied: 2, dead: 1 });
    expect((await db.pool.query('SELECT customer_id, events, total_cents::int FROM public.counts')).rows).toEqual([{ customer_id: 1, events: 2, total_cents: 300 }]);
    expect((await db.pool.query(`SELECT value FROM dualrun.keyed_state WHERE dataset = 'poison_counts'`)).rows).toEqual([{ value: { events: 2, total: 300 } }]);
  });

  it('two keys claiming one value of another unique column in one batch: the earlier applies, the later is a dead letter', async () => {
    await db.pool.query('CREATE TABLE public.u (k integer PRIMARY KEY, email text UNIQUE)');
    const out = await prepareOutputTable(db.pool, parseTableRef('public.u')!, ['k']);
    const own: SinkDeps = { ...deps, dataset: 'poison_unique', source: 'poison-unique', merge: mergeStatements(out), committed: new Map(), decode: decodePlainJson };
    const r = (row: object) => ({ position: { major: BigInt(offset), minor: 0n }, key: null, value: Buffer.from(JSON.stringify(row)), timestamp: new Date(), fallbackVersion: BigInt(offset++) });
    const o = await applyBatch(own, { partition: 0, headSeenAt: null, lagRecords: null, records: [r({ k: 1, email: 'a@x' }), r({ k: 2, email: 'a@x' }), r({ k: 3, email: 'c@x' })] });
    expect(o).toMatchObject({ applied: 2, dead: 1 });
    expect((await db.pool.query('SELECT k, email FROM public.u ORDER BY k')).rows).toEqual([{ k: 1, email: 'a@x' }, { k: 3, email: 'c@x' }]);
    const dl = await db.pool.query(`SELECT (convert_from(payload, 'UTF8')::jsonb->>'k')::int AS k, error->>'code' AS code FROM dualrun.dead_letters WHERE dataset = 'poison_unique'`);
    expect(dl.rows).toEqual([{ k: 2, code: '23505' }]);
  });

  it('1,000 generated batches end exactly as the same batches without their bad records, through COPY and through unnest', { timeout: 120_000 }, async () => {
    const BAD: Record<string, (r: Row) => Row> = {
      numericText: (r) => ({ ...r, n: 'abc' }),
      tooLong: (r) => ({ ...r, s: 'toolong' }),
      trailingSpace: (r) => ({ ...r, s: 'abcde ' }),
      scale: (r) => ({ ...r, n: '1.005' }),
      dateWord: (r) => ({ ...r, d: 'yesterday' }),
      nanWord: (r) => ({ ...r, n: 'NaN' }),
    };
    const event: fc.Arbitrary<Ev> = fc.record({
      k: fc.integer({ min: 1, max: 3 }),
      op: fc.constantFrom<'c' | 'u' | 'd'>('c', 'u', 'u', 'd'),
      v: fc.integer({ min: 1, max: 40 }),
      cents: fc.integer({ min: 0, max: 99_999 }),
      s: fc.constantFrom<string | null>('a', 'bb', 'ccccc', null),
      d: fc.constantFrom<string | null>('2026-11-20', null),
      bad: fc.option(fc.constantFrom(...Object.keys(BAD)), { freq: 3 }),
    });
    // `copy`: the same batches through the COPY staging path (every size), else through unnest arrays.
    const batches = fc.record({ before: fc.array(event.map((e): Ev => ({ ...e, bad: null })), { maxLength: 5 }), batch: fc.array(event, { minLength: 1, maxLength: 10 }), copy: fc.boolean() });
    await fc.assert(fc.asyncProperty(batches, async ({ before, batch, copy }) => {
      await reset();
      deps = { ...deps, copyMinRows: copy ? 1 : Number.POSITIVE_INFINITY };
      // Distinct versions in random order: the version orders a key's changes, not arrival.
      let seq = 0;
      const made = (e: Ev) => {
        const version = e.v * 100 + seq++;
        const row: Row = { k: e.k, n: `${Math.floor(e.cents / 100)}.${String(e.cents % 100).padStart(2, '0')}`, s: e.s, d: e.d };
        const bad = e.bad !== null;
        const op = bad && e.op === 'd' ? 'u' : e.op;
        return { version, op, row, bad, record: rec(op, version, bad ? BAD[e.bad!](row) : row) };
      };
      const first = before.map(made);
      const second = batch.map(made);
      if (first.length) await apply(first.map((x) => x.record));
      const from = offset - second.length;
      const outcome = await apply(second.map((x) => x.record));

      // Oracle: per key the good change with the highest version wins; a delete leaves no row.
      const newest = new Map<number, (typeof first)[number]>();
      for (const x of [...first, ...second].filter((y) => !y.bad)) {
        const cur = newest.get(x.row.k);
        if (!cur || cur.version < x.version) newest.set(x.row.k, x);
      }
      const expected = [...newest.values()].filter((x) => x.op !== 'd').sort((a, b) => a.row.k - b.row.k)
        .map((x) => ({ k: x.row.k, n: x.row.n, s: x.row.s, d: x.row.d, v: x.version }));
      const badPositions = second.map((x, i) => (x.bad ? i : -1)).filter((i) => i >= 0);
      const { rows, dead } = await tableAndDead(from);
      expect(rows).toEqual(expected);
      expect(outcome).toMatchObject({ fresh: second.length, applied: second.length - badPositions.length, dead: badPositions.length });
      expect(dead.map((d) => d.position - from)).toEqual(badPositions);
      for (const d of dead) {
        expect(d.stage).toBe('apply');
        expect(d.reason.length).toBeGreaterThan(10);
        expect(d.payload).toContain('"op"');
      }
    }), { numRuns: 1000, seed: Number(process.env.FC_SEED ?? Date.now() % 1_000_000) });
    deps = { ...deps, copyMinRows: undefined };
  });

  it('generated batches through a stateful transform: state and rows count exactly the good records', { timeout: 120_000 }, async () => {
    await db.pool.query('CREATE TABLE public.sc (customer_id integer PRIMARY KEY, events integer NOT NULL, total_cents bigint NOT NULL)');
    const out = await prepareOutputTable(db.pool, parseTableRef('public.sc')!, ['customer_id']);
    const own: SinkDeps = { ...deps, dataset: 'poison_sc', key: ['customer_id'], source: 'poison-sc', merge: mergeStatements(out, { guardVersions: false }), committed: new Map(), decode: decodePlainJson, transform: await loadTransform(`${FIXTURES}/customer-counts.ts`) };
    const rec2 = (customer: number, amount: string) => ({ position: { major: BigInt(offset), minor: 0n }, key: null, value: Buffer.from(JSON.stringify({ order_id: offset, customer_id: customer, amount })), timestamp: new Date(), fallbackVersion: BigInt(offset++) });
    const event = fc.record({ customer: fc.integer({ min: 1, max: 3 }), cents: fc.integer({ min: 0, max: 9_999 }), bad: fc.constantFrom(false, false, false, true) });
    await fc.assert(fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 8 }), async (events) => {
      await db.pool.query(`DELETE FROM public.sc; DELETE FROM dualrun.keyed_state WHERE dataset = 'poison_sc'`);
      const o = await applyBatch(own, { partition: 0, headSeenAt: null, lagRecords: null, records: events.map((e) => rec2(e.customer, e.bad ? 'abc' : (e.cents / 100).toFixed(2))) });
      const expected = new Map<number, { events: number; total: number }>();
      for (const e of events.filter((x) => !x.bad)) {
        const cur = expected.get(e.customer) ?? { events: 0, total: 0 };
        expected.set(e.customer, { events: cur.events + 1, total: cur.total + e.cents });
      }
      const bad = events.filter((e) => e.bad).length;
      expect(o).toMatchObject({ applied: events.length - bad, dead: bad });
      const got = await db.pool.query(`SELECT customer_id, events, total_cents::int AS total, (SELECT value FROM dualrun.keyed_state k WHERE k.dataset = 'poison_sc' AND k.state_key = sc.customer_id::text) AS state FROM public.sc ORDER BY 1`);
      expect(got.rows).toEqual([...expected].sort(([a], [b]) => a - b).map(([c, v]) => ({ customer_id: c, events: v.events, total: v.total, state: v })));
    }), { numRuns: 200, seed: Number(process.env.FC_SEED ?? Date.now() % 1_000_000) });
  });
});
