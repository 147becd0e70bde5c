/**
 * Duplicate keys that the bucket fingerprints cannot reveal: identical
 * duplicates on both sides leave every bucket equal. Only needed when no unique
 * index guarantees one row per key; then one extra grouped scan of one side,
 * outside the mismatched buckets (those are already drilled into). A matching
 * bucket holds the same rows on both sides, so one side's count is both counts.
 */
import type { SideSession } from './side-session.ts';
import type { KeyPair } from './classify-difference.ts';
import { bucketListSql, bucketSql, canonicalKeySql, keyJsonSql, windowPredicateSql } from './canonical-row-sql.ts';
import type { DrilldownSpec } from './drilldown-spec.ts';
import type { SideSpec } from './window-fingerprint.ts';

export function duplicateKeysSql(side: SideSpec, spec: DrilldownSpec): string {
  const outside = spec.mismatched.length > 0 ? `AND NOT (${bucketSql(side.key, spec.buckets)} = ANY(${bucketListSql(spec.mismatched)}))` : '';
  return `SELECT ${canonicalKeySql(side.key)} AS k, min(${keyJsonSql(side.key)}::text) AS key, count(*) AS n
  FROM ${side.shape.table.sql}
 WHERE ${windowPredicateSql(side.windowColumn, 1, 2)} ${outside}
 GROUP BY 1 HAVING count(*) > 1`;
}

/** Runs on the side without a unique key (batch first); nothing when both are unique. */
export async function* duplicatesOutsideBuckets(batch: SideSession, stream: SideSession, spec: DrilldownSpec): AsyncGenerator<KeyPair> {
  const useBatch = !spec.batch.shape.keyUnique;
  if (!useBatch && spec.stream.shape.keyUnique) return;
  const [session, side, bounds] = useBatch ? [batch, spec.batch, spec.batchBounds] : [stream, spec.stream, spec.streamBounds];
  const params = side.windowColumn && bounds ? bounds : [];
  for await (const r of session.cursor<{ k: string; key: string; n: string }>(duplicateKeysSql(side, spec), params)) {
    const n = Number(r.n);
    yield { k: r.k, key: r.key, batch: { n, values: [] }, stream: { n, values: [] } };
  }
}
