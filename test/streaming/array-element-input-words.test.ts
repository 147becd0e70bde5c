/**
 * Source values are data, never Postgres input words, but only scalar columns were
 * checked: an array column's elements went to Postgres as they came, so `["now"]` into
 * timestamptz[] was stored as the time of the merge, `["infinity"]` into date[] as
 * infinity, `["yes"]` into boolean[] as true, `["NaN"]` into numeric[] as NaN, and an
 * interval[] element 3600000000 as a million hours; array literal text (`"{now}"`) too.
 * Each element now gets its element type's check (nested arrays too), and array literal
 * text is refused where the elements have one; the dead letter names the column and the element.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { createPool, type Pool } from '../../src/core/db/connect.ts';
import { COLLECTING_DEFAULTS } from '../../streaming/collecting-sink.ts';
import { setupToolkit } from './support.ts';
import { recordsOf, throughOnePath } from './both-sink-paths.ts';

let db: TestDatabase;
let sinkPool: Pool;
beforeAll(async () => {
  db = await createTestDatabase('array_words');
  await setupToolkit(db.pool);
  await db.pool.query(`ALTER DATABASE "${db.name}" SET timezone = 'UTC'`);
  await db.pool.query(`CREATE DOMAIN stamp AS timestamptz`);
  sinkPool = createPool(db.url, { max: COLLECTING_DEFAULTS.maxOpen });
});
afterAll(async () => { await sinkPool?.end(); await db?.drop(); });

const DDL = 'k integer PRIMARY KEY, tz timestamptz[], d date[], b boolean[], n numeric[], iv interval[], ds stamp[], t text[], i integer[]';

/** [column, value refused, element named in the reason] */
const REFUSED: [string, unknown, string][] = [
  ['tz', ['now'], 'element [0] "now"'], ['tz', ['2026-01-01T00:00:00Z', 'infinity'], 'element [1] "infinity"'],
  ['d', [['2026-01-01'], ['epoch']], 'element [1][0] "epoch"'], ['b', ['yes'], 'element [0] "yes"'], ['n', ['1', 'NaN'], 'element [1] "NaN"'],
  ['iv', [3600000000], 'element [0] 3600000000'], ['iv', ['PT1H', 'BIG'], 'element [1] "9007199254740993"'], ['ds', ['today'], 'element [0] "today"'], ['tz', '{now}', 'array literal text'],
];
/** [column, value stored, its text] */
const STORED: [string, unknown, string][] = [
  ['tz', ['2026-01-01T00:00:00Z', null], '{"2026-01-01 00:00:00+00",NULL}'], ['b', [true, 'f'], '{t,f}'], ['n', ['1.50'], '{1.50}'],
  ['iv', ['PT1H'], '{01:00:00}'], ['t', '{now}', '{now}'], ['i', [[1], [2]], '{{1},{2}}'], ['d', [['2026-01-01']], '{{2026-01-01}}'],
];

describe('array elements', () => {
  it('Postgres input words in an array column are refused, naming the column and the element; data is stored as sent', async () => {
    // A 64-bit element keeps its digits (lossless parse), as a Debezium MicroDuration beyond 2^53 arrives.
    const values = [...REFUSED, ...STORED].map(([col, v], i) => JSON.stringify({ k: i, [col]: v }).replace('"BIG"', '9007199254740993'));
    const r = await throughOnePath(db.pool, sinkPool, DDL, ['k'], recordsOf(values), 'batch');
    expect(r.dead.map((d) => d.p)).toEqual(REFUSED.map((_, i) => i));
    r.dead.forEach((d, i) => {
      expect(d.stage).toBe('apply');
      expect(d.reason).toMatch(new RegExp(`^column ${REFUSED[i][0]} \\(`));
      expect(d.reason).toContain(REFUSED[i][2]);
    });
    const rows = r.rows.map((x) => JSON.parse(x));
    expect(rows.map((x) => x.k)).toEqual(STORED.map((_, i) => REFUSED.length + i));
    const texts = await db.pool.query<{ t: string }>(`SELECT coalesce(tz::text, b::text, n::text, iv::text, t::text, i::text, d::text) AS t FROM public.${(await lastTable())} ORDER BY k`);
    expect(texts.rows.map((x) => x.t)).toEqual(STORED.map(([, , text]) => text));
  });
});

async function lastTable(): Promise<string> {
  const r = await db.pool.query<{ t: string }>(`SELECT relname::text AS t FROM pg_class WHERE relname LIKE 'both_%_batch' ORDER BY oid DESC LIMIT 1`);
  return r.rows[0].t;
}
