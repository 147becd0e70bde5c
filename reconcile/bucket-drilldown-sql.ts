/**
 * Drill-down when both sides live in one database: a FULL JOIN by canonical key
 * over the mismatched buckets' rows only, in SQL, so equal rows never leave
 * Postgres. Rows are grouped per key first, so a duplicated key yields one pair
 * with its row counts. Streamed through a cursor: Node holds two fetches (side-session.ts).
 */
import type { SideSession } from './side-session.ts';
import type { KeyPair } from './classify-difference.ts';
import { canonicalKeySql, keyJsonSql, rowHashSql, valuesArraySql, windowPredicateSql } from './canonical-row-sql.ts';
import { inBucketsSql } from './bucket-predicate-sql.ts';
import { sourceTsSql, windowParams, type DrilldownSpec } from './drilldown-spec.ts';
import type { SideSpec } from './window-fingerprint.ts';

function sideRowsSql(side: SideSpec, spec: DrilldownSpec, startParam: number, withTs: boolean): string {
  return `SELECT k, min(key) AS key, count(*) AS n, min(h) AS h, min(v) AS v${withTs ? ', max(ts) AS ts' : ''}
    FROM (SELECT ${canonicalKeySql(side.key)} AS k, ${keyJsonSql(side.key)}::text AS key, ${rowHashSql(side.key, side.compared, undefined, spec.buckets)} AS h,
                 ${valuesArraySql(side.compared)} AS v${withTs ? `, ${sourceTsSql(side)} AS ts` : ''}
            FROM ${side.shape.table.sql}
           WHERE ${windowPredicateSql(side.windowColumn, startParam, startParam + 1)}
             AND ${inBucketsSql(side, spec.buckets, spec.mismatched)}) x
   GROUP BY k`;
}

export function drilldownSql(spec: DrilldownSpec): { sql: string; params: string[] } {
  const { params, bStart, sStart } = windowParams(spec);
  const sql = `WITH b AS (${sideRowsSql(spec.batch, spec, bStart, false)}),
     s AS (${sideRowsSql(spec.stream, spec, sStart, true)})
SELECT coalesce(b.k, s.k) AS k, coalesce(b.key, s.key) AS key, b.n AS bn, b.v AS bv, s.n AS sn, s.v AS sv, s.ts AS ts
  FROM b FULL JOIN s ON b.k = s.k
 WHERE b.h IS DISTINCT FROM s.h OR b.n > 1 OR s.n > 1`;
  return { sql, params };
}

interface Row { k: string; key: string; bn: string | null; bv: (string | null)[] | null; sn: string | null; sv: (string | null)[] | null; ts: Date | null }

/**
 * The join returns only differing keys, usually few even when the buckets hold
 * many rows: try one round trip (parallel plans allowed) capped at the probe
 * limit, and stream through a cursor only when there are more.
 */
async function* differingRows(session: SideSession, sql: string, params: string[], spec: DrilldownSpec): AsyncGenerator<Row> {
  const { inMemoryRows, probeRows } = spec.limits;
  if (spec.candidateRows > inMemoryRows && probeRows > 0) {
    const first = await session.client.query<Row>(`${sql}\n LIMIT ${probeRows + 1}`, params);
    if (first.rows.length <= probeRows) { yield* first.rows; return; }
  }
  yield* session.rows<Row>(sql, params, spec.candidateRows <= inMemoryRows);
}

export async function* drilldownSameDatabase(session: SideSession, spec: DrilldownSpec): AsyncGenerator<KeyPair> {
  if (spec.mismatched.length === 0) return;
  const { sql, params } = drilldownSql(spec);
  for await (const r of differingRows(session, sql, params, spec)) {
    yield {
      k: r.k,
      key: r.key,
      batch: r.bn === null ? null : { n: Number(r.bn), values: r.bv ?? [] },
      stream: r.sn === null ? null : { n: Number(r.sn), values: r.sv ?? [], sourceTs: r.ts },
    };
  }
}
