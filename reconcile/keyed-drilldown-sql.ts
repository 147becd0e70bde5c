/**
 * Drill-down when most of the window is in mismatched buckets (e.g. 1% of rows
 * differ: nearly every bucket holds one), both sides in one database, and the key
 * allows it: unique and NOT NULL on both sides, of one type that compares by
 * value (integers, numeric, uuid, dates, instants...), leading an index on both.
 *
 * The bucket drill-down would then group and join every row by its canonical key
 * text. Here the two sides are merge-joined on the key in index order, carrying
 * only the key and the row hash, so memory stays flat and nothing is sorted or
 * spilled; only the keys whose hashes differ get their canonical key and values,
 * looked up through the index. Streamed through a cursor: Node holds one fetch.
 */
import type { SideSession } from './side-session.ts';
import type { KeyPair } from './classify-difference.ts';
import { canonicalKeySql, columnRef, keyJsonSql, rowHashSql, valuesArraySql, windowPredicateSql } from './canonical-row-sql.ts';
import { sourceTsSql, type DrilldownSpec } from './drilldown-spec.ts';
import type { SideSpec } from './window-fingerprint.ts';
import { withLocalSettings } from './side-session.ts';

/** Above this share of the window's rows in mismatched buckets, the keyed drill-down reads less. */
const SHARE = 0.2;

export function keyedDrilldownApplies(spec: DrilldownSpec, sameDatabase: boolean, windowRows: number): boolean {
  if (!sameDatabase || spec.mismatched.length === 0 || spec.candidateRows < SHARE * windowRows) return false;
  const keyed = (side: SideSpec) => side.shape.keyUnique && side.key.every((c) => c.expression === undefined && side.shape.notNull.has(c.name))
    && side.shape.indexLeading.has(side.key[0].name);
  return keyed(spec.batch) && keyed(spec.stream)
    && spec.batch.key.every((c, i) => (c.hash?.native === 'value' || c.hash?.native === 'bytes') && c.type === spec.stream.key[i].type);
}

function keysOnly(side: SideSpec, startParam: number, hashing: DrilldownSpec['buckets']): string {
  const keys = side.key.map((c, i) => `${columnRef(c)} AS c${i}`).join(', ');
  return `SELECT ${keys}, ${rowHashSql(side.key, side.compared, undefined, hashing)} AS h FROM ${side.shape.table.sql} WHERE ${windowPredicateSql(side.windowColumn, startParam, startParam + 1)}`;
}

/** The canonical key and values of one differing key (unqualified names resolve to `t`, the innermost scope). */
function lookup(side: SideSpec, startParam: number, withTs: boolean): string {
  const match = side.key.map((c, i) => `${columnRef(c, 't')} = d.c${i}`).join(' AND ');
  return `SELECT ${canonicalKeySql(side.key, 't')} AS k, ${keyJsonSql(side.key, 't')}::text AS key, ${valuesArraySql(side.compared, 't')} AS v${withTs ? `, ${sourceTsSql(side, 't')} AS ts` : ''}
      FROM ${side.shape.table.sql} t WHERE ${match} AND ${windowPredicateSql(side.windowColumn, startParam, startParam + 1)}`;
}

export function keyedDrilldownSql(spec: DrilldownSpec): { sql: string; params: string[] } {
  const params: string[] = [];
  const bStart = params.length + 1;
  if (spec.batch.windowColumn && spec.batchBounds) params.push(...spec.batchBounds);
  const sStart = params.length + 1;
  if (spec.stream.windowColumn && spec.streamBounds) params.push(...spec.streamBounds);
  const n = spec.batch.key.length;
  const cols = Array.from({ length: n }, (_, i) => `coalesce(b.c${i}, s.c${i}) AS c${i}`).join(', ');
  const on = Array.from({ length: n }, (_, i) => `b.c${i} = s.c${i}`).join(' AND ');
  const sql = `WITH d AS (
  SELECT ${cols}, b.h IS NOT NULL AS hb, s.h IS NOT NULL AS hs
    FROM (${keysOnly(spec.batch, bStart, spec.buckets)}) b
    FULL JOIN (${keysOnly(spec.stream, sStart, spec.buckets)}) s ON ${on}
   WHERE b.h IS DISTINCT FROM s.h
)
SELECT coalesce(bt.k, st.k) AS k, coalesce(bt.key, st.key) AS key, d.hb, d.hs, bt.v AS bv, st.v AS sv, st.ts AS ts
  FROM d
  LEFT JOIN LATERAL (${lookup(spec.batch, bStart, false)}) bt ON d.hb
  LEFT JOIN LATERAL (${lookup(spec.stream, sStart, true)}) st ON d.hs`;
  return { sql, params };
}

interface Row { k: string; key: string; hb: boolean; hs: boolean; bv: (string | null)[] | null; sv: (string | null)[] | null; ts: Date | null }

/** Merge join in key order (both keys lead an index): no hash table of the whole window, no spill. */
const KEYED_PLAN: Record<string, string> = { enable_hashjoin: 'off', enable_sort: 'off' };

export async function* drilldownByKey(session: SideSession, spec: DrilldownSpec): AsyncGenerator<KeyPair> {
  const { sql, params } = keyedDrilldownSql(spec);
  // The plan is made when the cursor is declared: the settings only need to hold until then.
  const rows = session.cursor<Row>(sql, params, 1000);
  const first = await withLocalSettings(session, KEYED_PLAN, () => rows.next());
  for (let r = first; !r.done; r = await rows.next()) {
    const row = r.value;
    yield {
      k: row.k,
      key: row.key,
      batch: row.hb ? { n: 1, values: row.bv ?? [] } : null,
      stream: row.hs ? { n: 1, values: row.sv ?? [], sourceTs: row.ts } : null,
    };
  }
}
