/**
 * The reconciler compares an array element by element under the scalar rules (a float as its
 * shortest round-trip decimal, a wall clock in the dataset's window zone), dimensions and lower
 * bounds included. The serving view cast arrays with a plain `::`, which converts each element as
 * Postgres's own cast does: after a clean promotion readers were served `{0.3}` for the batch's
 * `{0.30000000000000004}` (float8[] under numeric[]) and, in UTC, `{"2026-11-19 23:30:00"}` for the
 * batch's Berlin `{"2026-11-20 00:30:00"}` (timestamptz[] under timestamp[]). Arrays of those pairs
 * are now converted element by element with the scalar casts, their shape put back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import fc from 'fast-check';
import { promote } from '../../../../src/core/cutover/stage-change.ts';
import { compileConfig } from '../../../../src/core/config/compile-config.ts';
import { createRuntime, type Runtime } from '../../../../src/core/runtime.ts';
import { reconcileDataset } from '../../../../reconcile/reconcile-dataset.ts';
import { createTestDatabase, type TestDatabase } from '../../../support/pg.ts';
import { recordDefinitionsLongAgo } from './cutover-fixture.ts';

const COLS = ['x', 'y', 't1', 't2', 't3', 't4', 't5'];

let db: TestDatabase;
let rt: Runtime;
beforeAll(async () => {
  db = await createTestDatabase('servearray');
  // x: float8[] under numeric[]; y: float4[] under numeric(20,7)[]; t1: timestamptz[] under timestamp[];
  // t2: the other way round; t3: under date[]; t4: under a domain over timestamp[]; t5: under an array of a domain over timestamp.
  await db.pool.query(`CREATE SCHEMA a;
    CREATE DOMAIN a.walls AS timestamp[];
    CREATE DOMAIN a.wall AS timestamp;
    CREATE TABLE a.b (id int PRIMARY KEY, d date NOT NULL, x numeric[], y numeric(20,7)[], t1 timestamp[], t2 timestamptz[], t3 date[], t4 a.walls, t5 a.wall[]);
    CREATE TABLE a.s (id int PRIMARY KEY, d date NOT NULL, x float8[], y float4[], t1 timestamptz[], t2 timestamp[], t3 timestamptz[], t4 timestamptz[], t5 timestamptz[],
                      _dr_version bigint, _dr_source_ts timestamptz);
    INSERT INTO a.b VALUES
      (1, '2026-11-20', '[0:1]={0.30000000000000004,NULL}', '{16777216,0.5}', '[2:3]={"2026-11-20 00:30",NULL}', '{"2026-11-19 23:30Z"}', '{2026-11-20,2026-11-21}', '{"2026-11-20 00:30"}', '{"2026-11-20 00:30"}'),
      (2, '2026-11-20', '{{0.1,1234567890.1234567},{NULL,2.5}}', '{{16777216},{NULL}}', '{{"2026-11-20 00:30"},{"2026-11-20 12:00"}}', '[0:0][5:5]={{"2026-11-20 11:00Z"}}', '{{2026-11-20}}', '[-1:0]={"2026-11-20 00:30",NULL}', '{{"2026-11-20 12:00"}}'),
      (3, '2026-11-20', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (4, '2026-11-20', '{}', '{}', '{}', '{}', '{}', '{}', '{}');
    INSERT INTO a.s VALUES
      (1, '2026-11-20', '[0:1]={0.30000000000000004,NULL}', '{16777216,0.5}', '[2:3]={"2026-11-19 23:30Z",NULL}', '{"2026-11-20 00:30"}', '{"2026-11-19 23:00Z","2026-11-20 23:00Z"}', '{"2026-11-19 23:30Z"}', '{"2026-11-19 23:30Z"}', 1, now() - interval '1 year'),
      (2, '2026-11-20', '{{0.1,1234567890.1234567},{NULL,2.5}}', '{{16777216},{NULL}}', '{{"2026-11-19 23:30Z"},{"2026-11-20 11:00Z"}}', '[0:0][5:5]={{"2026-11-20 12:00"}}', '{{"2026-11-19 23:00Z"}}', '[-1:0]={"2026-11-19 23:30Z",NULL}', '{{"2026-11-20 11:00Z"}}', 1, now() - interval '1 year'),
      (3, '2026-11-20', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1, now() - interval '1 year'),
      (4, '2026-11-20', '{}', '{}', '{}', '{}', '{}', '{}', '{}', 1, now() - interval '1 year');`);
  rt = createRuntime({
    config: compileConfig({
      database: { url: db.url },
      datasets: {
        arrays: {
          key: ['id'], window: { column: 'd', grain: 'day', timezone: 'Europe/Berlin' },
          batch: { output: 'a.b' }, stream: { output: 'a.s', source: { topic: 'shop.arrays' } },
          cutover: { promoteAfter: 1, serve: 'a.v' },
        },
      },
    }, { path: null }),
    log: pino({ level: 'silent' }),
  });
  await rt.db();
  await recordDefinitionsLongAgo(rt);
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

describe('the serving view converts arrays element by element, as the reconciler compared them', () => {
  it('after a clean promotion readers get the batch output\'s arrays (dimensions, lower bounds, NULLs) whatever their TimeZone and extra_float_digits', async () => {
    await promote(rt, 'arrays', { reason: 'shadow' });
    const [r] = await reconcileDataset(rt, 'arrays', { windows: ['2026-11-20'], assumeSettled: true });
    expect(r).toMatchObject({ verdict: 'match', batch: { rows: 4 }, stream: { rows: 4 } });
    const c = await promote(rt, 'arrays', { reason: '1 clean window' });
    expect(c).toMatchObject({ to: 'streaming', forced: false, serving: 'a.s' });
    for (const [zone, digits] of [['UTC', '1'], ['America/New_York', '0'], ['Asia/Kolkata', '-10'], ['Europe/Berlin', '3']]) {
      const client = await db.pool.connect();
      try {
        await client.query(`SET TimeZone = '${zone}'; SET extra_float_digits = ${digits}`);
        const q = (t: string) => client.query(`SELECT id, ${COLS.map((k) => `${k}::text, pg_typeof(${k})::text AS ${k}_type`).join(', ')} FROM ${t} ORDER BY id`);
        expect({ zone, digits, rows: (await q('a.v')).rows }).toEqual({ zone, digits, rows: (await q('a.b')).rows });
      } finally { client.release(); }
    }
  });
});

/**
 * An array literal of any shape Postgres allows (1 to 6 dimensions, any lower bounds), NULL elements
 * included.
 */
const product = (xs: number[]) => xs.reduce((a, b) => a * b, 1);
const anyArray = fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(
  fc.array(fc.integer({ min: -3, max: 3 }), { minLength: n, maxLength: n }),
  fc.array(fc.integer({ min: 1, max: n > 3 ? 2 : 3 }), { minLength: n, maxLength: n }),
).chain(([lbs, lens]) => fc.array(fc.option(fc.double(), { nil: null }), { minLength: product(lens), maxLength: product(lens) })
  .map((xs) => {
    const nest = (d: number, at: number): string => {
      if (d === n) return xs[at] === null ? 'NULL' : String(xs[at]);
      const size = product(lens.slice(d + 1));
      return `{${Array.from({ length: lens[d] }, (_, i) => nest(d + 1, at + i * size)).join(',')}}`;
    };
    return `${lbs.map((l, i) => `[${l}:${l + lens[i] - 1}]`).join('')}=${nest(0, 0)}`;
  })));

describe('dualrun.array_shaped puts back what the element-by-element conversion flattens', () => {
  it('any shape: a float8[] served under numeric[] is its shortest-digits text read as numeric[] (dimensions, lower bounds, NULLs, digits)', async () => {
    const client = await db.pool.connect();
    await client.query('SET extra_float_digits = 1');
    await fc.assert(fc.asyncProperty(anyArray, async (lit) => {
      const r = await client.query<{ served: string; batch: string }>(
        `SELECT dualrun.array_shaped(ARRAY(SELECT dualrun.float_decimal(u.e) FROM unnest($1::float8[]) WITH ORDINALITY AS u(e, o) ORDER BY u.o),
                                     array_dims($1::float8[]))::text AS served, $1::float8[]::text::numeric[]::text AS batch`, [lit]);
      expect({ lit, served: r.rows[0].served }).toEqual({ lit, served: r.rows[0].batch });
    }), { numRuns: 150 }).finally(() => client.release());
  });
});
