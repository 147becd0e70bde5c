/**
 * Elements of an array column with a type modifier were rounded or cut without a word:
 * jsonb_populate_record applies the column's modifier to each element, so 1.005 into
 * numeric(12,2)[] was stored as 1.01 and 10:00:00.5 into timestamp(0)[] as 10:00:01
 * (docs listed it as a limit). The array is now read as its base type and compared with
 * itself cast to the column's type, as scalar columns are; one that would change is an
 * `apply` dead letter naming the column, what was sent and what would be stored.
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
  db = await createTestDatabase('array_typmod');
  await setupToolkit(db.pool);
  sinkPool = createPool(db.url, { max: COLLECTING_DEFAULTS.maxOpen });
});
afterAll(async () => { await sinkPool?.end(); await db?.drop(); });

const DDL = 'k integer PRIMARY KEY, n numeric(12,2)[], ts timestamp(0)[], vc varchar(3)[], nn numeric(5,1)[][]';

/** [column, value refused, what the reason says would be stored] */
const REFUSED: [string, unknown, string][] = [
  ['n', ['1.005'], 'would be stored as {1.01}'], ['n', [2.345, null], 'would be stored as {2.35,NULL}'],
  ['ts', ['2026-11-20T10:00:00.5'], 'would be stored as {"2026-11-20 10:00:01"}'], ['nn', [['1.25'], ['2']], 'would be stored as {{1.3},{2.0}}'],
  ['vc', ['abc ', 'de'], 'would be stored as {abc,de}'],
];
/** [column, value stored, its text] */
const STORED: [string, unknown, string][] = [
  ['n', ['1.5', 2, null], '{1.50,2.00,NULL}'], ['ts', ['2026-11-20T10:00:01'], '{"2026-11-20 10:00:01"}'], ['vc', ['abc'], '{abc}'], ['nn', [['1.2']], '{{1.2}}'],
];

describe('array columns with a type modifier', () => {
  it('an element the modifier would round or cut is refused with the column and both texts; the rest are stored as sent', async () => {
    const values = [...REFUSED, ...STORED].map(([col, v], i) => JSON.stringify({ k: i, [col]: v }));
    const r = await throughOnePath(db.pool, sinkPool, DDL, ['k'], recordsOf(values), 'batch');
    expect(r.dead.map((d) => d.p)).toEqual(REFUSED.map((_, i) => i));
    r.dead.forEach((d, i) => {
      expect(d.stage).toBe('apply');
      expect(d.reason).toMatch(new RegExp(`for column ${REFUSED[i][0]} `));
      expect(d.reason).toContain(REFUSED[i][2]);
    });
    const t = (await db.pool.query<{ t: string }>(`SELECT relname::text AS t FROM pg_class WHERE relname LIKE 'both_%_batch' ORDER BY oid DESC LIMIT 1`)).rows[0].t;
    const texts = await db.pool.query<{ t: string }>(`SELECT coalesce(n::text, ts::text, vc::text, nn::text) AS t FROM public.${t} ORDER BY k`);
    expect(texts.rows.map((x) => x.t)).toEqual(STORED.map(([, , text]) => text));
  });
});
