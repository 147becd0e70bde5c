/**
 * The reconciler compares a composite field by field under the scalar rules (a float as its
 * shortest round-trip decimal, a wall clock in the dataset's window zone), pairing fields by name
 * when only their order differs. The serving view cast composites with a plain `::`: after a clean
 * promotion readers were served float8::numeric's 15 digits and wall clocks converted in their own
 * TimeZone (or nothing at all, a composite of another type having no cast). Composites are now built
 * as the batch type from each field cast by the scalar rules; an array of such composites, which the
 * view cannot convert, is refused naming the column.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { promote } from '../../../../src/core/cutover/stage-change.ts';
import { compileConfig } from '../../../../src/core/config/compile-config.ts';
import { createRuntime, type Runtime } from '../../../../src/core/runtime.ts';
import { reconcileDataset } from '../../../../reconcile/reconcile-dataset.ts';
import { createTestDatabase, type TestDatabase } from '../../../support/pg.ts';
import { recordDefinitionsLongAgo } from './cutover-fixture.ts';

const COLS = ['c1', 'c2', 'c3'];

let db: TestDatabase;
let rt: Runtime;
beforeAll(async () => {
  db = await createTestDatabase('servecomposite');
  // c1: every scalar pair in one composite; c2: the same names in another order (paired by name);
  // c3: a composite nested in a domain over a composite, beside a float8[] field under numeric[].
  await db.pool.query(`CREATE SCHEMA a;
    CREATE TYPE a.bc AS (x numeric, t timestamp, d date, z timestamptz);
    CREATE TYPE a.sc AS (x float8, t timestamptz, d timestamptz, z timestamp);
    CREATE TYPE a.br AS (p numeric, q timestamp);
    CREATE TYPE a.sr AS (q timestamptz, p float4);
    CREATE TYPE a.bn AS (inner_c a.bc, y numeric[]);
    CREATE DOMAIN a.bnd AS a.bn;
    CREATE TYPE a.sn AS (inner_c a.sc, y float8[]);
    CREATE TABLE a.b (id int PRIMARY KEY, d date NOT NULL, c1 a.bc, c2 a.br, c3 a.bnd);
    CREATE TABLE a.s (id int PRIMARY KEY, d date NOT NULL, c1 a.sc, c2 a.sr, c3 a.sn, _dr_version bigint, _dr_source_ts timestamptz);
    INSERT INTO a.b VALUES
      (1, '2026-11-20', '(0.30000000000000004,"2026-11-20 00:30","2026-11-20","2026-11-19 23:30Z")', '(16777216,"2026-11-20 12:00")',
          ROW(ROW(1234567890.1234567, '2026-11-20 00:30', '2026-11-20', '2026-11-20 11:00Z')::a.bc, '{0.30000000000000004,NULL}')::a.bn),
      (2, '2026-11-20', NULL, '(,)', ROW(NULL, NULL)::a.bn),
      (3, '2026-11-20', '(,,,)', NULL, NULL);
    INSERT INTO a.s VALUES
      (1, '2026-11-20', '(0.30000000000000004,"2026-11-19 23:30Z","2026-11-19 23:00Z","2026-11-20 00:30")', '("2026-11-20 11:00Z",16777216)',
          ROW(ROW(1234567890.1234567, '2026-11-19 23:30Z', '2026-11-19 23:00Z', '2026-11-20 12:00')::a.sc, '{0.30000000000000004,NULL}'), 1, now() - interval '1 year'),
      (2, '2026-11-20', NULL, '(,)', ROW(NULL, NULL), 1, now() - interval '1 year'),
      (3, '2026-11-20', '(,,,)', NULL, NULL, 1, now() - interval '1 year');
    CREATE TABLE a.b2 (id int PRIMARY KEY, d date NOT NULL, e a.bc[]);
    CREATE TABLE a.s2 (id int PRIMARY KEY, d date NOT NULL, e a.sc[], _dr_version bigint, _dr_source_ts timestamptz);
    INSERT INTO a.b2 VALUES
      (1, '2026-11-20', '[0:2]={"(0.30000000000000004,\\"2026-11-20 00:30\\",2026-11-20,\\"2026-11-19 23:30Z\\")",NULL,"(,,,)"}'),
      (2, '2026-11-20', '{{"(0.1,,,)"},{"(2.5,\\"2026-11-20 12:00\\",,)"}}'), (3, '2026-11-20', NULL), (4, '2026-11-20', '{}');
    INSERT INTO a.s2 VALUES
      (1, '2026-11-20', '[0:2]={"(0.30000000000000004,\\"2026-11-19 23:30Z\\",\\"2026-11-19 23:00Z\\",\\"2026-11-20 00:30\\")",NULL,"(,,,)"}', 1, now() - interval '1 year'),
      (2, '2026-11-20', '{{"(0.1,,,)"},{"(2.5,\\"2026-11-20 11:00Z\\",,)"}}', 1, now() - interval '1 year'),
      (3, '2026-11-20', NULL, 1, now() - interval '1 year'), (4, '2026-11-20', '{}', 1, now() - interval '1 year');
    CREATE TYPE a.b3t AS (x numeric, y numeric);
    CREATE TYPE a.s3t AS (x float8);
    CREATE TABLE a.b3 (id int PRIMARY KEY, d date NOT NULL, f a.b3t);
    CREATE TABLE a.s3 (id int PRIMARY KEY, d date NOT NULL, f a.s3t, _dr_version bigint, _dr_source_ts timestamptz);`);
  const dataset = (batch: string, stream: string, serve: string) => ({
    key: ['id'], window: { column: 'd', grain: 'day', timezone: 'Europe/Berlin' },
    batch: { output: batch }, stream: { output: stream, source: { topic: `shop.${serve}` } },
    cutover: { promoteAfter: 1, serve },
  });
  rt = createRuntime({
    config: compileConfig({
      database: { url: db.url },
      datasets: { composites: dataset('a.b', 'a.s', 'a.v'), arrays: dataset('a.b2', 'a.s2', 'a.v2'), drift: dataset('a.b3', 'a.s3', 'a.v3') },
    }, { path: null }),
    log: pino({ level: 'silent' }),
  });
  await rt.db();
  await recordDefinitionsLongAgo(rt);
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

describe('the serving view converts composites field by field, as the reconciler compared them', () => {
  it('after a clean promotion readers get the batch output\'s composites (nested, reordered, NULL, all-NULL) whatever their TimeZone and extra_float_digits', async () => {
    await promote(rt, 'composites', { reason: 'shadow' });
    const [r] = await reconcileDataset(rt, 'composites', { windows: ['2026-11-20'], assumeSettled: true });
    expect(r).toMatchObject({ verdict: 'match', batch: { rows: 3 }, stream: { rows: 3 } });
    const c = await promote(rt, 'composites', { reason: '1 clean window' });
    expect(c).toMatchObject({ to: 'streaming', forced: false, serving: 'a.s' });
    for (const [zone, digits] of [['UTC', '1'], ['America/New_York', '0'], ['Asia/Kolkata', '-10'], ['Europe/Berlin', '3']]) {
      const client = await db.pool.connect();
      try {
        await client.query(`SET TimeZone = '${zone}'; SET extra_float_digits = ${digits}`);
        const q = (t: string) => client.query(`SELECT id, ${COLS.map((k) => `${k}::text, ${k} IS NULL AS ${k}_null, pg_typeof(${k})::text AS ${k}_type`).join(', ')} FROM ${t} ORDER BY id`);
        expect({ zone, digits, rows: (await q('a.v')).rows }).toEqual({ zone, digits, rows: (await q('a.b')).rows });
      } finally { client.release(); }
    }
  });

  it('an array of composites is converted element by element and field by field (dimensions, lower bounds, NULL elements kept)', async () => {
    await promote(rt, 'arrays', { reason: 'shadow' });
    const [r] = await reconcileDataset(rt, 'arrays', { windows: ['2026-11-20'], assumeSettled: true });
    expect(r).toMatchObject({ verdict: 'match', batch: { rows: 4 } });
    expect(await promote(rt, 'arrays', { reason: '1 clean window' })).toMatchObject({ to: 'streaming', serving: 'a.s2' });
    for (const zone of ['UTC', 'Asia/Kolkata']) {
      const client = await db.pool.connect();
      try {
        await client.query(`SET TimeZone = '${zone}'; SET extra_float_digits = 0`);
        const q = (t: string) => client.query(`SELECT id, e::text, pg_typeof(e)::text AS type, e IS NULL AS n FROM ${t} ORDER BY id`);
        expect({ zone, rows: (await q('a.v2')).rows }).toEqual({ zone, rows: (await q('a.b2')).rows });
      } finally { client.release(); }
    }
  });

  it('a composite with other fields than the batch\'s (schema drift) is refused naming the column, even forced, never served', async () => {
    await promote(rt, 'drift', { reason: 'shadow' });
    await expect(promote(rt, 'drift', { reason: 'forced past drift', force: true })).rejects.toMatchObject({
      code: 'DUALRUN_SERVE_REFUSED', message: expect.stringMatching(/column f: .*a\.s3t.*a\.b3t.*2 and 1 fields/),
    });
    const v = await db.pool.query(`SELECT pg_get_viewdef('a.v3'::regclass) AS def`);
    expect(v.rows[0].def).toMatch(/FROM a\.b3/);
  });
});
