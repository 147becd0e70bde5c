/**
 * The sink's two apply paths (issue 13): COPY into a staging table (batches of at
 * least COPY_MIN_ROWS upserts) and unnest arrays (smaller ones). Both must write
 * exactly the same rows for values that need care in COPY's text format (NULL vs
 * the text 'NULL' or '\N', backslashes, tabs, newlines, unicode, jsonb, bytea,
 * 64-bit integers, long decimals), end a generated mix of inserts, updates,
 * deletes, duplicates and out-of-order versions as the model says, and turn a value
 * Postgres rejects into a dead letter with the database's reason while the rest of
 * the batch lands. Real Postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { applyBatch, COPY_MIN_ROWS, type SinkDeps } from '../../streaming/exactly-once-sink.ts';
import { mergeStatements } from '../../streaming/output-merge.ts';
import { prepareOutputTable } from '../../streaming/output-table.ts';
import { decodePlainJson } from '../../streaming/json-decoder.ts';
import type { SourceRecord } from '../../streaming/transport.ts';
import { prng } from './debezium-events.ts';
import { setupToolkit } from './support.ts';

const DDL = 'id bigint PRIMARY KEY, t text, j jsonb, b bytea, n numeric, big bigint, ts timestamptz, ok boolean, v varchar(10)';
const PATHS = { copy: 1, unnest: Number.POSITIVE_INFINITY } as const;
type PathName = keyof typeof PATHS;

let db: TestDatabase;
const deps = {} as Record<PathName, SinkDeps>;
let offset = 0;

beforeAll(async () => {
  db = await createTestDatabase('stream_copy');
  await setupToolkit(db.pool);
  for (const p of Object.keys(PATHS) as PathName[]) {
    await db.pool.query(`CREATE TABLE public.awk_${p} (${DDL})`);
    const out = await prepareOutputTable(db.pool, parseTableRef(`public.awk_${p}`)!, ['id']);
    deps[p] = {
      db: db.pool, dataset: `awk_${p}`, key: ['id'], source: 'awk-topic', merge: mergeStatements(out), committed: new Map(), copyMinRows: PATHS[p],
      decode: decodePlainJson, validate: () => null, transform: { transform: (r) => r, stateKey: null, handlesDeletes: false },
    };
  }
});
afterAll(async () => { await db?.drop(); });

const TEXTS = [null, 'NULL', '\\N', 'back\\slash\\', 'tab\there', 'new\nline', 'cr\r\nlf', 'zoë 🚀 中文', '', ' spaced ', '"quoted"', '{braces}', ',comma', 'a\\tb'];
const JSONS = [{ a: 'x\\y', b: [1, 't\tt', null], c: { d: '\n' } }, [1, 2, { x: '\\' }], null, { e: 'NULL', u: 'ünï' }];
const BYTEAS = ['\\x00ff10', null, '\\x5c09'];
const NUMERICS = ['12345678901234567890.123456789', 0.1, '-0.000001', null];
// Written into the JSON text as bare number literals (the decoder keeps their digits).
const BIGS = ['9223372036854775807', '-9223372036854775808', '1234567890123456789', '7'];

interface Row { id: number; t: string | null; j: unknown; b: string | null; n: unknown; big: string; ts: string; ok: boolean; v: string }

function rowFor(id: number, version: number): Row {
  const i = id + version;
  return {
    id, t: TEXTS[i % TEXTS.length], j: JSONS[i % JSONS.length], b: BYTEAS[i % BYTEAS.length], n: NUMERICS[i % NUMERICS.length],
    big: BIGS[i % BIGS.length], ts: `2026-11-${String(1 + (i % 28)).padStart(2, '0')}T10:11:12.123456Z`, ok: i % 2 === 0, v: `v${i % 1000}`,
  };
}

/** A plain-JSON record: the row at `version` (`__lsn`), or a delete of its key. */
function record(row: Row, version: number, del = false): SourceRecord {
  const at = offset++;
  const text = del
    ? JSON.stringify({ id: row.id, __deleted: 'true', __lsn: version })
    : JSON.stringify({ ...row, big: '@BIG@', __lsn: version }).replace('"@BIG@"', row.big);
  return { position: { major: BigInt(at), minor: 0n }, key: null, value: Buffer.from(text), timestamp: new Date(1_790_000_000_000 + version), fallbackVersion: BigInt(at) };
}

async function applyBoth(records: SourceRecord[]): Promise<void> {
  for (const p of Object.keys(PATHS) as PathName[]) {
    const o = await applyBatch(deps[p], { partition: 0, records, headSeenAt: null, lagRecords: null });
    expect(o, p).toMatchObject({ fresh: records.length, dead: 0, applied: records.length });
  }
}

const read = async (p: PathName) => (await db.pool.query<{ r: string }>(
  `SELECT row_to_json(x)::text AS r FROM (SELECT id::text, t, j, encode(b, 'hex') AS b, n::text, big::text, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts, ok, v, _dr_version::text
     FROM public.awk_${p} a ORDER BY a.id) x`)).rows.map((r) => r.r);

describe('COPY staging and unnest arrays', () => {
  it('write the same exact rows for awkward values, across batches with updates, deletes, duplicates and out-of-order versions', { timeout: 60_000 }, async () => {
    const rnd = prng(13);
    const KEYS = 900;
    const model = new Map<number, { version: number; row: Row | null }>();
    let version = 0;
    const used = new Set<string>();
    for (let batch = 0; batch < 3; batch++) {
      const records: SourceRecord[] = [];
      for (let i = 0; i < 1500; i++) {
        const id = 1 + Math.floor(rnd() * KEYS);
        // Mostly newer versions; some older (late) ones, some duplicates of the last event.
        // A key never gets two different events with one version (ties are not ordered).
        const late = Math.max(1, version - Math.floor(rnd() * 500));
        const v = rnd() < 0.15 && !used.has(`${id}/${late}`) ? late : ++version;
        used.add(`${id}/${v}`);
        const del = rnd() < 0.1;
        records.push(record(rowFor(id, v), v, del));
        if (rnd() < 0.1) records.push(record(rowFor(id, v), v, del));
        const cur = model.get(id);
        if (!cur || cur.version < v) model.set(id, { version: v, row: del ? null : rowFor(id, v) });
      }
      expect(records.length).toBeGreaterThanOrEqual(COPY_MIN_ROWS); // the default threshold would pick COPY too
      await applyBoth(records);
    }
    const [copy, unnest] = [await read('copy'), await read('unnest')];
    expect(copy).toEqual(unnest);
    const expected = [...model.entries()].filter(([, m]) => m.row !== null).sort(([a], [b]) => a - b).map(([, m]) => {
      const r = m.row!;
      return JSON.parse(JSON.stringify({
        id: String(r.id), t: r.t, j: r.j, b: r.b === null ? null : r.b.slice(2), n: r.n === null ? null : String(r.n), big: r.big, ts: r.ts, ok: r.ok, v: r.v, _dr_version: String(m.version),
      }));
    });
    expect(copy.map((r) => JSON.parse(r))).toEqual(expected);
    expect(expected.length).toBeGreaterThan(500);
    expect(copy.some((r) => r.includes('"t":null')) && copy.some((r) => r.includes('"t":"NULL"')) && copy.some((r) => r.includes('"t":"\\\\N"'))).toBe(true);
  });

  it('a value Postgres rejects in a COPY batch becomes an apply dead letter with its reason; every other record lands', { timeout: 60_000 }, async () => {
    for (const p of Object.keys(PATHS) as PathName[]) {
      await db.pool.query(`DELETE FROM public.awk_${p}`);
      const records: SourceRecord[] = [];
      for (let i = 0; i < 1200; i++) records.push(record(rowFor(5000 + i, 1), 1_000_000 + i));
      const bad = (id: number, change: Partial<Record<keyof Row, unknown>>): SourceRecord => {
        const at = offset++;
        return { position: { major: BigInt(at), minor: 0n }, key: null, value: Buffer.from(JSON.stringify({ ...rowFor(id, 1), ...change, __lsn: 2_000_000 + id })), timestamp: new Date(), fallbackVersion: BigInt(at) };
      };
      records.splice(300, 0, bad(9001, { n: 'abc' }));
      records.splice(900, 0, bad(9002, { t: 'nul\u0000byte' }));
      records.splice(1100, 0, bad(9003, { v: 'eleven chars' }));
      const o = await applyBatch(deps[p], { partition: 1, records, headSeenAt: null, lagRecords: null });
      expect(o, p).toMatchObject({ fresh: 1203, applied: 1200, dead: 3 });
      const n = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM public.awk_${p} WHERE id >= 5000`);
      expect(n.rows[0].n, p).toBe(1200);
      const dl = await db.pool.query<{ k: string; stage: string; code: string; reason: string }>(
        `SELECT record_key AS k, stage, error->>'code' AS code, reason FROM dualrun.dead_letters WHERE dataset = $1 AND partition = 1 ORDER BY record_key`, [`awk_${p}`]);
      expect(dl.rows.map((r) => [r.k, r.stage, r.code]), p).toEqual([['9001', 'apply', '22P02'], ['9002', 'apply', '22021'], ['9003', 'apply', '22001']]);
      for (const r of dl.rows) expect(r.reason).toMatch(/SQLSTATE/);
    }
  });
});
