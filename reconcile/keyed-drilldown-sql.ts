/**
 * Drill-down when most of the window is in mismatched buckets (e.g. 1% of rows
 * differ: nearly every bucket holds one), both sides in one database, and the key
 * allows it: unique and NOT NULL on both sides, of one type that compares by
 * value (integers, numeric, uuid, dates, instants...), leading an index on both.
 *
 * The bucket drill-down would then group and join every row by its canonical key
 * text. Here the two sides are merge-joined on the key in index order, so memory
 * stays flat and nothing is hashed, sorted or spilled; each pair of rows is
 * compared column by column under the equality rules (natively where that is
 * exact, else by canonical text), and only differing keys get their canonical
 * key and values. Streamed through a cursor: Node holds two fetches (side-session.ts).
 */
import type { SideSession } from './side-session.ts';
import type { KeyPair } from './classify-difference.ts';
import { canonicalKeySql, canonicalValueSql, columnRef, keyJsonSql, valuesArraySql, windowPredicateSql } from './canonical-row-sql.ts';
import { logicalName, type ColumnInfo } from './table-columns.ts';
import { sourceTsSql, windowParams, type DrilldownSpec } from './drilldown-spec.ts';
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

/** A column as read through the keyed query's subquery, under its position's alias (`c0`, `f0`...). */
function aliased(col: ColumnInfo, name: string): ColumnInfo {
  return { ...col, name, expression: undefined, logical: logicalName(col) };
}

function sideSql(side: SideSpec, startParam: number, withTs: boolean): string {
  const cols = [...side.key.map((c, i) => `${columnRef(c)} AS c${i}`), ...side.compared.map((c, i) => `${columnRef(c)} AS f${i}`)];
  if (withTs) cols.push(`${sourceTsSql(side)} AS ts`);
  return `SELECT ${cols.join(', ')} FROM ${side.shape.table.sql} WHERE ${windowPredicateSql(side.windowColumn, startParam, startParam + 1)}`;
}

/**
 * "These two values differ" under the equality rules: natively where the type
 * pair is hashed natively (row-hash-sql.ts: there Postgres's `=` is exactly the
 * rule, strings under the C collation), else by the two canonical texts (also
 * under the C collation).
 */
function differsSql(b: ColumnInfo, s: ColumnInfo, i: number): string {
  const [bc, sc] = [aliased(b, `f${i}`), aliased(s, `f${i}`)];
  // Cast to the base type first: a domain's value would find an `=` of the user's on the domain
  // before pg_catalog's on its base type (an exact match wins whatever the search path says).
  if (b.hash?.native === 'value') return `(b.f${i})::${b.hash.type} IS DISTINCT FROM (s.f${i})::${b.hash.type}`;
  if (b.hash?.native === 'bytes') return `(b.f${i})::${b.type} IS DISTINCT FROM (s.f${i})::${s.type}`;
  if (b.hash?.native === 'string') return `(b.f${i})::${b.hash.type} COLLATE "C" IS DISTINCT FROM (s.f${i})::${b.hash.type} COLLATE "C"`;
  // Canonical texts compare byte for byte: a column's non-deterministic collation (case-blind ICU)
  // would otherwise carry over to its text and make 'ABC' equal 'abc'.
  return `(${canonicalValueSql(bc, 'b')}) COLLATE "C" IS DISTINCT FROM (${canonicalValueSql(sc, 's')}) COLLATE "C"`;
}

export function keyedDrilldownSql(spec: DrilldownSpec): { sql: string; params: string[] } {
  const { params, bStart, sStart } = windowParams(spec);
  const { batch, stream } = spec;
  const on = batch.key.map((_, i) => `b.c${i} = s.c${i}`).join(' AND ');
  const differs = ['b.c0 IS NULL', 's.c0 IS NULL', ...batch.compared.map((c, i) => differsSql(c, stream.compared[i], i))].join('\n      OR ');
  const bKey = batch.key.map((c, i) => aliased(c, `c${i}`));
  const sKey = stream.key.map((c, i) => aliased(c, `c${i}`));
  const values = (side: SideSpec, alias: string) => valuesArraySql(side.compared.map((c, i) => aliased(c, `f${i}`)), alias);
  const sql = `SELECT CASE WHEN b.c0 IS NOT NULL THEN ${canonicalKeySql(bKey, 'b')} ELSE ${canonicalKeySql(sKey, 's')} END AS k,
       CASE WHEN b.c0 IS NOT NULL THEN ${keyJsonSql(bKey, 'b')} ELSE ${keyJsonSql(sKey, 's')} END::text AS key,
       b.c0 IS NOT NULL AS hb, s.c0 IS NOT NULL AS hs,
       CASE WHEN b.c0 IS NOT NULL THEN ${values(batch, 'b')} END AS bv,
       CASE WHEN s.c0 IS NOT NULL THEN ${values(stream, 's')} END AS sv, s.ts AS ts
  FROM (${sideSql(batch, bStart, false)}) b
  FULL JOIN (${sideSql(stream, sStart, true)}) s ON ${on}
 WHERE ${differs}`;
  return { sql, params };
}

interface Row { k: string; key: string; hb: boolean; hs: boolean; bv: (string | null)[] | null; sv: (string | null)[] | null; ts: Date | null }

/** Merge join in key order (both keys lead an index): no hash table of the whole window, no spill. */
const KEYED_PLAN: Record<string, string> = { enable_hashjoin: 'off', enable_sort: 'off' };

export async function* drilldownByKey(session: SideSession, spec: DrilldownSpec): AsyncGenerator<KeyPair> {
  const { sql, params } = keyedDrilldownSql(spec);
  // The plan is made when the cursor is declared: the settings only need to hold until then.
  const rows = session.cursor<Row>(sql, params, 250);
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
